"""Small table helpers the case layer shares."""

from __future__ import annotations

import numpy as np
import pandas as pd


def lookup(values, mapping: dict, default: float = np.nan, dtype=float) -> np.ndarray:
    """``mapping[v]`` for each of ``values`` (``default`` where absent), as a numpy array.

    A hash lookup of the keys (``Index.get_indexer``) and one take: ``Series.map`` with a
    dict is pointwise Python on pandas' string columns, 3-4x slower on a national model.
    """
    keys = list(mapping)
    table = np.append(np.array([mapping[k] for k in keys], dtype=dtype), np.array([default], dtype=dtype))
    codes = pd.Index(keys, dtype=object).get_indexer(np.asarray(values, dtype=object))
    return table[codes]  # -1 (absent) picks the appended default


def _zero_nan(x):
    if isinstance(x, (pd.Series, pd.DataFrame)):
        return x.fillna(0.0)
    if x is None or (isinstance(x, float) and x != x):
        return 0.0
    return x


def bought(amount, unit_cost, outcome_rate, value_per_outcome):
    """Participants, outcomes and £ of value that ``amount`` (£) buys at ``unit_cost`` (£ a
    head) and ``outcome_rate`` (outcomes a head), ``value_per_outcome`` £ each.

    Works on numbers or on aligned pandas columns. An unknown rate or value (missing, NaN)
    counts as 0; so do the participants of an amount whose unit cost is unknown.
    """
    participants = _zero_nan(amount / unit_cost)
    outcomes = participants * _zero_nan(outcome_rate)
    return participants, outcomes, outcomes * _zero_nan(value_per_outcome)
