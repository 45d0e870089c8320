"""Building the linear programme of one level: a list of ``define_*`` calls.

``create_model(case, pool)`` gives the aligned LP when ``pool`` is empty and the pooled
LP otherwise. Every constraint family lives in its own module, with its rule and maths
in the docstring:

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

from optimiser.families.budget import carry_forward_flows, define_pot_budget
from optimiser.families.equity import define_equity, equity_variables
from optimiser.families.lock import define_lock
from optimiser.lp import LinearProgram
from optimiser.families.match import define_match
from optimiser.families.need_cap import define_need_cap
from optimiser.objective import expiry_weights, primary
from optimiser.families.rules import define_rules
from optimiser.variables import allocation_variables


FAMILIES = (
    ("pot budgets and carry-forward", define_pot_budget),
    ("need caps", define_need_cap),
    ("match funding", define_match),
    ("rules", define_rules),
    ("equity floor", None),
    ("locks", define_lock),
)


def create_model(case: Case, pool: frozenset[str] = frozenset(), objective: str | None = None,
                 equity_floor: float | None = None, progress=None) -> LinearProgram:
    objective = objective or case.settings.objective
    floor = case.settings.equity_floor if equity_floor is None else equity_floor
    variables = pd.concat(
        [allocation_variables(case, pool, objective), carry_forward_flows(case), equity_variables(case, floor)],
        ignore_index=True,
    )
    c, scale = primary(variables, objective)
    lp = LinearProgram(
        variables=variables,
        objective=c,
        tiebreak=expiry_weights(variables, case),
        upper=np.full(len(variables), np.inf),
        objective_name=objective,
        objective_scale=scale,
    )
    counted = getattr(progress, "counted", None)
    bar = counted(f"building {len(variables):,}-variable model", total=len(FAMILIES), unit="constraint families") \
        if counted else contextlib.nullcontext(lambda steps=1, what=None: None)
    with bar as advance:
        for name, define in FAMILIES:
            rows_before = lp.size["rows"]
            if define is None:
                define_equity(lp, case, floor)
            else:
                define(lp, case)
            advance(what=f"{name}, {lp.size['rows'] - rows_before:,} rows")
    return lp
