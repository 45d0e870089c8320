"""Building the linear programme of one level: a list of ``define_*`` calls.

``create_model(case, pool)`` gives the aligned LP when ``pool`` is empty and the pooled
LP otherwise. Every constraint family lives in its own module, with its rule and maths
in the docstring:

* :mod:`optimiser.budget` — pot budgets by year, carry-forward;
* :mod:`optimiser.need_cap` — participants never exceed need;
* :mod:`optimiser.match` — match funding per area and year;
* :mod:`optimiser.rules` — ``rules`` rows (min/max share and amount);
* :mod:`optimiser.equity` — the equity floor;
* :mod:`optimiser.lock` — provision a scenario keeps exactly as it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.model import Case

from .budget import carry_forward_flows, define_pot_budget
from .equity import define_equity, equity_variables
from .lock import define_lock
from .lp import LinearProgram
from .match import define_match
from .need_cap import define_need_cap
from .objective import expiry_weights, primary
from .rules import define_rules
from .variables import allocation_variables


def create_model(case: Case, pool: frozenset[str] = frozenset(), objective: str | None = None,
                 equity_floor: float | None = None) -> LinearProgram:
    objective = objective or case.settings.objective
    floor = case.settings.equity_floor if equity_floor is None else equity_floor
    variables = pd.concat(
        [allocation_variables(case, pool), carry_forward_flows(case), equity_variables(case, floor)],
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
    define_pot_budget(lp, case)
    define_need_cap(lp, case)
    define_match(lp, case)
    define_rules(lp, case)
    define_equity(lp, case, floor)
    define_lock(lp, case)
    return lp
