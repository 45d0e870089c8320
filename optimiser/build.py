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
from optimiser.objective import expiry_weights, primary, unique_plan
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
    parts = [allocation_variables(case, pool, objective)]
    columns_by, start = [], len(parts[0])
    for f in REGISTRY:
        if f.variables:
            parts.append(f.variables(case, ctx))
            columns_by.append((f.name, start, start + len(parts[-1])))
            start += len(parts[-1])
    variables = pd.concat(parts, ignore_index=True)
    c, scale = primary(variables, objective, case)
    lp = LinearProgram(
        variables=variables,
        objective=c,
        tiebreak=expiry_weights(variables, case),
        upper=np.full(len(variables), np.inf),
        objective_name=objective,
        objective_scale=scale,
        context=ctx,
        columns_by=columns_by,
        fixed_preference=unique_plan(len(variables)),
    )
    counted = getattr(progress, "counted", None)
    families = building()
    bar = counted(f"building {len(variables):,}-variable model", total=len(families), unit="constraint families") \
        if counted else contextlib.nullcontext(lambda steps=1, what=None: None)
    built_by = []
    with bar as advance:
        for fam in families:
            rows_before, first = lp.size["rows"], len(lp.blocks)
            fam.define(lp, case, ctx)
            built_by.append((fam.name, first, len(lp.blocks)))
            advance(what=f"{fam.title}, {lp.size['rows'] - rows_before:,} rows")
    lp.built_by = built_by  # what optimiser.redraw rebuilds a need draw's model from
    return lp
