"""Building the linear programme of one level: a list of ``define_*`` calls.

``create_model(case, pool)`` gives the aligned LP when ``pool`` is empty and the pooled
LP otherwise: the allocation variables, each family's own variables, then each family's
rows, in the order of :data:`optimiser.families.registry.REGISTRY`. Every constraint
family lives in its own module, with its rule and maths in the docstring:

* :mod:`optimiser.families.budget` — pot budgets by year, carry-forward;
* :mod:`optimiser.families.need_cap` — participants never exceed need;
* :mod:`optimiser.families.match` — match funding per area and year;
* :mod:`optimiser.families.rules` — ``rules`` rows (min/max share and amount);
* :mod:`optimiser.families.equity` — the equity floor;
* :mod:`optimiser.families.lock` — provision a scenario keeps exactly as it is.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from commissioning.case.model import Case

from optimiser.families.base import BuildContext
from optimiser.families.registry import REGISTRY, building
from optimiser.lp import LinearProgram
from optimiser.objective import expiry_weights, primary
from optimiser.variables import allocation_variables


def create_model(case: Case, pool: frozenset[str] = frozenset(), objective: str | None = None,
                 equity_floor: float | None = None, progress=None) -> LinearProgram:
    """The linear programme of one level: aligned when ``pool`` is empty, pooled otherwise.

    ``objective`` and ``equity_floor`` default to the case's settings; ``progress`` (the
    CLI's) is told of each family as its rows are added.
    """
    objective = objective or case.settings.objective
    floor = case.settings.equity_floor if equity_floor is None else equity_floor
    ctx = BuildContext(pool=frozenset(pool), objective=objective, equity_floor=floor)
    variables = pd.concat(
        [allocation_variables(case, pool, objective)] + [f.variables(case, ctx) for f in REGISTRY if f.variables],
        ignore_index=True,
    )
    c, scale = primary(variables, objective, case)
    lp = LinearProgram(
        variables=variables,
        objective=c,
        tiebreak=expiry_weights(variables, case),
        upper=np.full(len(variables), np.inf),
        objective_name=objective,
        objective_scale=scale,
    )
    counted = getattr(progress, "counted", None)
    families = building()
    bar = counted(f"building {len(variables):,}-variable model", total=len(families), unit="constraint families") \
        if counted else contextlib.nullcontext(lambda steps=1, what=None: None)
    with bar as advance:
        for fam in families:
            rows_before = lp.size["rows"]
            fam.define(lp, case, ctx)
            advance(what=f"{fam.title}, {lp.size['rows'] - rows_before:,} rows")
    return lp
