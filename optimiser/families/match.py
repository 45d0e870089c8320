"""Match funding, aggregated per area and year.

Rule: each £1 a pot with ``match_rate m > 0`` spends in an area and year needs £m spent
there that year from pots with ``can_match = yes``. Match is pooled across the pots that
need it (one pound of match is not counted twice) — family ``match``, one row per area
*a* and year *t* where a match-needing pot can spend::

    Σ_{p: m_p > 0} m_p · X[p,a,t]  -  Σ_{q: can_match, m_q = 0} X[q,a,t]  <= 0

with ``X[p,a,t] = Σ_{c,prog} x[p,a,c,t,prog]``. A pot that itself needs match does not
count as match, even if marked ``can_match`` (its spend cannot match itself; the validator
warns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case, lookup

from optimiser.lp import LinearProgram, group_rows, meaning_frame


def define_match(lp: LinearProgram, case: Case) -> None:
    v = lp.variables
    rate = lookup(v["pot_code"], {p.code: p.match_rate for p in case.pots}, default=0.0)
    can = lookup(v["pot_code"], {p.code: (p.can_match and p.match_rate == 0) for p in case.pots}, default=False,
                 dtype=bool)
    alloc = (v["kind"] == "alloc").to_numpy()
    needs = alloc & (rate > 0)
    if not needs.any():
        return
    gives = alloc & can
    keyed = pd.MultiIndex.from_frame(v.loc[needs, ["area_code", "year"]].drop_duplicates())
    in_scope = pd.MultiIndex.from_frame(v[["area_code", "year"]]).isin(keyed)
    idx = np.flatnonzero((needs | gives) & in_scope)
    coef = np.where(needs[idx], rate[idx], -1.0)
    codes, keys = group_rows(v.loc[idx, ["area_code", "year"]])
    lp.add("match", meaning_frame(len(keys), area_code=keys["area_code"], year=keys["year"],
                                  description=[f"match funding in {a} {t}" for a, t in
                                               zip(keys["area_code"], keys["year"])]),
           codes, idx, coef, -np.inf, 0.0)
