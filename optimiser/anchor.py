"""Anchoring a changed model to a reference plan: among its optimal plans, the one that takes
the fewest people from the reference's.

An ask (a changed rule) is measured by solving the case again. Its primary optimum is the
gain; but many plans may reach it, and the levels' own later objectives (least disruption
from *today's* provision, then the soonest-expiring tie-break) pick one with no regard for
the plan the ask is compared with. "Who receives less" read off that plan would blame the
ask for moves the solver made between equally good cells. So an ask's model is anchored to
the plan it is measured against (the aligned level, or the package so far):

for every (area, cohort, year) the reference serves, ``R`` people, one column ``k ≥ 0``
(``kind = "kept"``) and one row (family ``anchor``)::

    Σ_j (1000 / uc_j) · x_j + k >= R        over the allocation columns j of the cell

so ``k ≥ R − served``; the second objective, in the slot least disruption takes in a level's
model, is ``max −Σ k``: among the optimal plans (exactly: the copy's ``near_optimal`` is 0,
whatever the case's, so an ask's gain is never given up to stay close), the one with the
fewest people fewer than the reference, over every cell. The
soonest-expiring tie-break then chooses among what is left. The primary optimum, and so the
gain, is unchanged; the people an ask takes from others are then the fewest it must take.

This replaces the model's least-disruption objective (towards today's provision) for that
solve only: the question asked of an ask's plan is what it costs the plan it would change.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame

CELL = ["area_code", "cohort_code", "year"]
# The anchor (people kept) is held to this share of its optimum before the tie-break, not to
# optimiser.solve's 1e-9: the two solvers' optima of it differ by more (on the example, CBC's lay
# 1.2e-4 people, 8e-9 relative, above HiGHS's on two asks), and held at one solver's figure the
# other's plan was cut off: those asks then moved £7m more money with CBC than with HiGHS. Held at
# 1e-7 (a hundredth of a person in 100,000), all twelve move the same money to £100 with either.
# Only here: the levels' own least disruption stays at 1e-9, where the wider hold let a plan
# give up pennies of spend (99,999.99 of a £100,000 budget) to the tie-break.
ANCHOR_SLACK = 1e-7


def anchored(lp: LinearProgram, reference: pd.DataFrame) -> LinearProgram:
    """A copy of ``lp`` (its blocks shared, not changed) whose second objective keeps the most of
    ``reference``'s participants per (area, cohort, year) (``ALLOCATION_COLUMNS`` rows)."""
    ref = reference.groupby(CELL, sort=False)["participants"].sum()
    ref = ref[ref > 1e-9]
    v = lp.variables
    alloc = np.flatnonzero((v["kind"] == "alloc").to_numpy())
    if not len(ref) or not len(alloc):
        return lp
    keys = ref.index.to_frame(index=False)
    kept = keys.assign(kind="kept").reindex(columns=v.columns)
    n0, k = lp.n, len(keys)
    variables = pd.concat([v, kept], ignore_index=True)
    pad = np.zeros(k)
    copy = replace(lp, variables=variables, near_optimal=0.0, later_slack=ANCHOR_SLACK, objective=np.concatenate([lp.objective, pad]),
                   tiebreak=np.concatenate([lp.tiebreak, pad]), upper=np.concatenate([lp.upper, np.full(k, np.inf)]),
                   blocks=list(lp.blocks),
                   integer=None if lp.integer is None else np.concatenate([lp.integer, np.zeros(k, dtype=bool)]))
    pos = pd.MultiIndex.from_frame(keys.astype(object))
    at = pos.get_indexer(pd.MultiIndex.from_frame(v.loc[alloc, CELL].astype(object)))
    inside = at >= 0
    per_k = MONEY_SCALE / v.loc[alloc, "unit_cost"].to_numpy(float)
    rows = np.concatenate([at[inside], np.arange(k)])
    cols = np.concatenate([alloc[inside], n0 + np.arange(k)])
    coefs = np.concatenate([per_k[inside], np.ones(k)])
    copy.add("anchor", meaning_frame(k, area_code=keys["area_code"], cohort_code=keys["cohort_code"],
                                     year=keys["year"],
                                     description=[f"people kept from the reference plan in {a} {c} {y}"
                                                  for a, c, y in keys.itertuples(index=False)]),
             rows, cols, coefs, ref.to_numpy(float), np.inf)
    second = np.zeros(copy.n)
    second[n0:] = -1.0
    copy.disruption = second
    return copy
