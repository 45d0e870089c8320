"""Diagnosing an infeasible case: which rules collide, and what to relax.

Budgets and need caps alone are always satisfiable (spend nothing), so infeasibility comes
from the rows that demand something: ``min_share`` and ``min_amount`` rules, the equity
floor, and locked provision. The **elastic** formulation gives every such row a slack
``s >= 0``::

    a·x + s >= lower        (each demanding row, in model units)

and minimises ``Σ s / max(1, |lower|)`` (each violation relative to its own size) under
all the other constraints. The rows left with slack are the ones that cannot be met; the
budgets, need caps and match rows that are tight with a non-zero dual in the elastic
answer are what they collide with. This works with either solver (CBC has no irreducible
infeasible subset; the elastic problem needs none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.errors import Collision
from commissioning.case.model import Case

from optimiser.families.registry import demanding as demanding_families, family
from optimiser.lp import MONEY_SCALE, LinearProgram
from optimiser.solve import solve


def diagnose_infeasible(case: Case, lp: LinearProgram, solver: str = "highs") -> list[Collision]:
    """The demanding rows that cannot all hold, what they collide with, and what to relax
    (empty when nothing demands money: the solver's "infeasible" was numerical trouble)."""
    A, lo, up, registry = lp.matrix()
    demanding = registry["family"].isin(demanding_families()).to_numpy() & np.isfinite(lo)
    rows = np.flatnonzero(demanding)
    if not len(rows):
        return []  # nothing demands money, so nothing can collide: numerical trouble
    n, k = lp.n, len(rows)
    # Elastic LP: original variables (objective 0) plus one slack per demanding row.
    variables = pd.concat([lp.variables, pd.DataFrame({"kind": ["slack"] * k})], ignore_index=True)
    weight = 1.0 / np.maximum(1.0, np.abs(lo[rows]))
    elastic = LinearProgram(
        variables=variables,
        objective=np.concatenate([np.zeros(n), -weight]),  # maximise minus the violation
        tiebreak=np.zeros(n + k),
        upper=np.concatenate([lp.upper, np.full(k, np.inf)]),
        objective_name="violation",
    )
    if lp.is_mip:  # the switches stay whole: a minimum award's all-or-nothing is part of the collision
        elastic.integer = np.concatenate([lp.integer, np.zeros(k, dtype=bool)])
    for b in lp.blocks:
        elastic.blocks.append(b)
    from optimiser.lp import meaning_frame

    elastic.add("elastic", meaning_frame(k, description="slack"), np.arange(k), n + np.arange(k), np.ones(k),
                -np.inf, np.inf)
    # Put each slack into its demanding row: rebuild those rows' blocks with the slack column.
    A2, lo2, up2, reg2 = elastic.matrix()
    A2 = A2.tolil()
    for j, r in enumerate(rows):
        A2[r, n + j] = 1.0
    A2 = A2.tocsr()
    coo = A2.tocoo()
    elastic.blocks = []
    elastic.add("all", reg2, coo.row, coo.col, coo.data, lo2, up2)
    try:
        sol = solve(elastic, solver=solver, lexicographic=False)
    except Exception:  # fall back to the default solver if HiGHS is missing
        sol = solve(elastic, solver="cbc", lexicographic=False)
    if sol.status != "optimal":
        from commissioning.errors import SolverError

        raise SolverError(f"the infeasibility diagnosis could not be solved ({sol.status})")
    slack = sol.x[n:]
    out: list[Collision] = []
    for j, r in enumerate(rows):
        if slack[j] > 1e-7 * max(1.0, abs(lo[r])):
            meaning = registry.iloc[r]
            fam = family(str(meaning["family"]))
            money = fam.row_unit == "£"  # rows in £k; others (people) in their own unit
            short = slack[j] * (MONEY_SCALE if money else 1.0)
            unit = "£" if money else ""
            people = "" if money else " people"
            if lo[r] < 0:  # a ceiling written as a floor (money moved): it needs more room
                said = f"{meaning['description']}: needs {unit}{short:,.0f} more room"
            elif lo[r] == 0:  # a share of the pot's spending: the row has no amount of its own
                said = f"{meaning['description']}: falls short by {unit}{short:,.0f}"
            else:
                said = (f"{meaning['description']}: can be met only up to "
                        f"{unit}{max(0.0, lo[r] * (MONEY_SCALE if money else 1) - short):,.0f} of "
                        f"{unit}{lo[r] * (MONEY_SCALE if money else 1):,.0f}{people}")
            out.append(Collision(str(meaning["family"]), said, fam.relax_words(), row=str(meaning["description"]),
                                 kind="short"))
    # Demanding rows that were met but only at the expense of the ones that were not: tight
    # at their bound with a non-zero dual in the elastic answer. They are part of the
    # collision too (two floors that together exceed a budget: one is met, one is short).
    named = {c.row for c in out}
    A_act = A @ sol.x[:n]
    for r in rows:
        m = registry.iloc[r]
        if str(m["description"]) in named:
            continue
        d = sol.row_dual[r] if r < len(sol.row_dual) else 0.0
        if abs(A_act[r] - lo[r]) <= 1e-6 * max(1.0, abs(lo[r])) and abs(d) > 1e-9:
            out.append(Collision(str(m["family"]), f"{m['description']}: met, but only at the expense of the above",
                                 family(str(m["family"])).relax_words(), row=str(m["description"]), kind="spent"))
    # What they collide with: tight hard rows with a non-zero dual in the elastic answer.
    activity = A @ sol.x[:n]
    dual = sol.row_dual[: len(registry)]
    hard = ~(registry["family"].isin(demanding_families()).to_numpy() & np.isfinite(lo))  # max rules are hard
    tight = hard & np.isfinite(up) & (np.abs(activity - up) <= 1e-6 * np.maximum(1, np.abs(up))) & (np.abs(dual) > 1e-9)
    limits = registry[tight]
    for m in limits.head(8).itertuples(index=False):
        out.append(Collision(str(m.family), f"collides with: {family(str(m.family)).words_for(case, m)}", "",
                             row=str(m.description), kind="limit"))
    # Nothing short: every demanding row can be met, so the solver's "infeasible" was
    # numerical trouble, not colliding rules. The caller reports it as solver trouble.
    if all(c.kind == "limit" for c in out):
        return []
    return out
