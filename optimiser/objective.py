"""Objectives: what an allocation is worth, and how ties are broken.

Primary (``case.settings.objective``), per £k allocated through programme *q* for cohort *c*:

* ``outcomes`` (default): ``1000 · r[q,c] / u[q,c]`` outcomes;
* ``value``: ``1000 · r[q,c] · V[c] / u[q,c]`` £ of public value (modelled in £k, so the
  coefficients stay near 1, and scaled back when reported); in a case with an ``outcomes``
  table, ``1000 · B[q,c,t] / u[q,c]`` with *B* the present value of net additional benefits
  per participant (:mod:`commissioning.case.value`), and ``fiscal``, ``economic``,
  ``social`` the same for one kind of benefit;
* ``coverage``: ``1000 / u[q,c]`` participants.

Secondary (lexicographic, never at the cost of the primary): among equally good answers,
spend the soonest-expiring money first. Each pound carries a weight
``1 + (Y - e) / (Y + 1)`` where *e* is the index of the last year its money may be spent
and *Y* the number of case years; the solver maximises that weighted spend over the
optimal face of the primary.

**One answer, whatever the solver.** Many allocations are often equally good on both
counts (two identical districts, two pots with the same programme), and which of them a
solver returns depends on its path: CBC and HiGHS, or the primal and the dual simplex,
then report different gaps for the same case. So every allocation column also carries a
small fixed preference ``δ · g_j``, with ``g_j`` in [0, 1) drawn from a hash of what the
column *is* (pot, area, cohort, year, programme — not its position) and
``δ = 0.01 / (Y + 1)``, a hundredth of one step of the expiry weight, so that it only
decides among allocations the expiry rule leaves equal. A generic preference has a
single optimum, so the plan, its gaps and its reasons are the same with every solver
and in every run. The preference is arbitrary (it favours no area by name or order),
and it is stated as such: a preference that *means* something — least disruption to
today's provision — is a later, separate choice.

**Not at national size.** A generic preference leaves the tie-break phase many more pivots
to make: measured on the national benchmark (468,486 variables), phase two took 125 s
(aligned) and 144 s (pooled) with it against 0.2 s without it, and every measured ask pays
the same again. So above :data:`FIXED_PREFERENCE_UP_TO` variables (the size above which
HiGHS already switches to interior point, and CBC is impractical) only the expiry
tie-break applies: the plan is HiGHS's, the same run after run, but no longer guaranteed
to be the one CBC or another simplex path would reach. Every output says which.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.case.tables import lookup

from optimiser.lp import MONEY_SCALE

VALUE_SCALE = 1000.0


# What one unit of each objective is called: in running text, and on the agreement's sheets.
UNIT = {"outcomes": "outcomes", "value": "£ of value", "fiscal": "£ of fiscal value",
        "economic": "£ of economic value", "social": "£ of social value", "coverage": "participants"}
UNIT_LONG = {"outcomes": "outcomes", "value": "£ of public value", "fiscal": "£ of fiscal benefit (present value)",
             "economic": "£ of economic benefit (present value)", "social": "£ of social benefit (present value)",
             "coverage": "participants"}
# the totals' column
MEASURE = {"outcomes": "outcomes", "value": "value", "fiscal": "fiscal", "economic": "economic", "social": "social",
           "coverage": "participants"}  # fiscal, economic, social: in a valued case's totals (optimiser.levels)


def primary(variables: pd.DataFrame, objective: str, case: Case | None = None) -> tuple[np.ndarray, float]:
    """Objective coefficients per variable and the factor back to natural units.

    In a valued case (an ``outcomes`` table, :mod:`commissioning.case.value`) ``value`` is the
    present value of net additional fiscal, economic and social benefits per £, weighted by
    each cohort's distributional weight, and ``fiscal``, ``economic`` and ``social`` each one
    of the three."""
    alloc = (variables["kind"] == "alloc").to_numpy()
    uc = variables["unit_cost"].to_numpy(dtype=float, na_value=np.nan)
    rate = variables["outcome_rate"].to_numpy(dtype=float, na_value=np.nan)
    c = np.zeros(len(variables))
    if objective == "outcomes":
        c[alloc] = MONEY_SCALE * rate[alloc] / uc[alloc]
        return c, 1.0
    if objective in ("value", "fiscal", "economic", "social") and case is not None and case.valuation.valued:
        rows = variables[alloc]
        per_head = case.valuation.per_head_column(rows, objective, weighted=True) if len(rows) else np.zeros(0)
        c[alloc] = MONEY_SCALE * per_head / uc[alloc] / VALUE_SCALE
        return c, VALUE_SCALE
    if objective == "value":
        vpo = variables["value_per_outcome"].to_numpy(dtype=float, na_value=0.0)
        c[alloc] = MONEY_SCALE * rate[alloc] * np.nan_to_num(vpo[alloc]) / uc[alloc] / VALUE_SCALE
        return c, VALUE_SCALE
    if objective == "coverage":
        c[alloc] = MONEY_SCALE / uc[alloc]
        return c, 1.0
    raise ValueError(f"unknown objective {objective!r}")


def expiry_weights(variables: pd.DataFrame, case: Case) -> np.ndarray:
    """Secondary weights: soonest-expiring money first, and (up to :data:`FIXED_PREFERENCE_UP_TO`
    variables) the fixed preference that makes the optimum unique (see the module docstring)."""
    years = list(case.years)
    pos = {y: i for i, y in enumerate(years)}
    n_years = len(years)
    last_life = {}
    for p in case.pots:
        life = [pos[y] for y in years if p.in_life(y)]
        last_life[p.code] = life[-1] if life else 0
    pot = variables["pot_code"]
    cf = lookup(pot, {p.code: p.carry_forward for p in case.pots}, default=0.0)
    kind = variables["kind"].to_numpy()
    spend_year = lookup(variables["year"], pos, default=0.0)
    budget_year = lookup(variables["budget_year"], pos, default=0.0)
    last = lookup(pot, last_life, default=0.0)
    # Money spent from a use-it-or-lose-it pot expires in the year it is spent; a flow of
    # carried money expires at the end of its window or of the pot's life, whichever is first.
    expiry = np.where(kind == "flow", np.minimum(budget_year + cf, last), spend_year)
    counts = ((kind == "alloc") & (cf == 0)) | (kind == "flow")
    weights = np.where(counts, 1 + (n_years - expiry) / (n_years + 1), 0.0)
    if not unique_plan(len(variables)):
        return weights
    return weights + np.where(kind == "alloc", TIE_SHARE / (n_years + 1) * fixed_preference(variables), 0.0)


TIE_SHARE = 0.01  # the fixed preference's weight, as a share of one expiry step
FIXED_PREFERENCE_UP_TO = 100_000  # variables; above this only the expiry tie-break (see the docstring)


def unique_plan(variables: int) -> bool:
    """Whether a model of this many columns carries the fixed preference (one plan whatever the solver)."""
    return variables <= FIXED_PREFERENCE_UP_TO
_KEY = ["pot_code", "area_code", "cohort_code", "year", "programme"]


def fixed_preference(variables: pd.DataFrame) -> np.ndarray:
    """``g_j`` in [0, 1): a hash of each column's pot, area, cohort, year and programme.

    pandas' object hash uses a fixed key, so the same column gets the same number on every
    machine and in every run, and the number does not depend on where the column sits.
    """
    keys = variables.reindex(columns=_KEY).astype(object)
    h = pd.util.hash_pandas_object(keys.where(keys.notna(), "").astype(str), index=False).to_numpy(dtype=np.uint64)
    return (h >> np.uint64(11)).astype(np.float64) / float(2 ** 53)
