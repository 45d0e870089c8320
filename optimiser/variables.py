"""Allocation variables: one per *eligible* pot, area, cohort and year (and programme).

Ineligible combinations are never created (as linopy's masks do). A variable is money,
in £ thousands, that pot ``p`` spends on cohort ``c`` in area ``a`` in year ``t`` through
programme ``q`` — the pot whose unit cost and outcome rate apply:

* ``aligned`` (today's rules): one variable per eligible cell with need, ``q = p``.
* ``pooled``: every pool member ``p`` may fund any area and cohort that any member may
  fund, within its own years. For cohort ``c`` it buys the pool's best programme for
  ``c`` — the member that may fund ``c`` at the lowest cost per unit of **the case's
  objective**, after ``rates``: per outcome under ``outcomes``, per £ of value under
  ``value`` (``unit_cost / (rate × value_per_outcome)``), per participant under
  ``coverage`` — and, where ``p`` could already fund the cell under today's rules, also
  its own programme. Keeping the own programme is a decision beyond the contract: when
  need caps bind, the best cost per outcome can buy fewer outcomes per person than a
  dearer programme, and without it pooling could do worse than alignment. With it the
  aligned allocation stays feasible, so pooled ≥ aligned always holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case

VAR_COLUMNS = [
    "kind", "pot_code", "area_code", "cohort_code", "year", "programme", "budget_year",
    "unit_cost", "outcome_rate", "value_per_outcome", "need",
]


def best_programmes(case: Case, pool: frozenset[str], objective: str | None = None) -> pd.DataFrame:
    """For each cohort some pool member may fund: the member with the lowest cost per unit
    of the objective (``objective`` defaults to the case's).

    Columns: cohort_code, programme, unit_cost, outcome_rate. Ties go to the cheaper unit
    cost, then to the pot listed first in the case.
    """
    objective = objective or case.settings.objective
    rows = []
    order = {p: i for i, p in enumerate(case.pot)}
    for c in case.cohort:
        value = case.cohort[c].value_per_outcome or 0.0
        best = None
        for p in case.pot:
            if p not in pool or c not in case.pot_cohorts[p]:
                continue
            uc, rate = case.unit_cost(p, c), case.outcome_rate(p, c)
            per_head = {"outcomes": rate, "value": rate * value, "coverage": 1.0}[objective]
            cost = uc / per_head if per_head > 0 else np.inf
            key = (cost, uc, order[p])
            if best is None or key < best[0]:
                best = (key, p, uc, rate)
        if best is not None:
            rows.append((c, best[1], best[2], best[3]))
    return pd.DataFrame(rows, columns=["cohort_code", "programme", "unit_cost", "outcome_rate"])


def allocation_variables(case: Case, pool: frozenset[str] = frozenset(), objective: str | None = None) -> pd.DataFrame:
    """The allocation variables of a level (``pool`` empty: the aligned level)."""
    own = case.eligible_cells(with_need_only=True)
    own = own.assign(kind="alloc", programme=own["pot_code"], budget_year=None)
    if len(pool) < 2:
        return own.reindex(columns=VAR_COLUMNS).reset_index(drop=True)

    members = [p for p in case.pot if p in pool]
    areas = set().union(*(case.pot_areas[p] for p in members))
    best = best_programmes(case, frozenset(members), objective)
    need = case.need_frame[case.need_frame["people"] > 0]
    need = need[need["area_code"].isin(areas) & need["cohort_code"].isin(best["cohort_code"])]
    py = case.pot_year_frame
    py = py[py["pot_code"].isin(members) & (py["available"] > 0)][["pot_code", "year"]]
    pooled = py.merge(need, on="year").merge(best, on="cohort_code")
    pooled = pooled.rename(columns={"people": "need"})
    vpo = {c.code: (c.value_per_outcome or 0.0) for c in case.cohorts}
    pooled["value_per_outcome"] = pooled["cohort_code"].map(vpo).astype(float)
    pooled["kind"] = "alloc"
    pooled["budget_year"] = None
    # Own programmes of pool members stay available where today's rules allowed them.
    keep_own = own[~own["pot_code"].isin(members)]
    own_members = own[own["pot_code"].isin(members)]
    merged = pd.concat([keep_own, pooled, own_members], ignore_index=True)
    merged = merged.drop_duplicates(subset=["pot_code", "area_code", "cohort_code", "year", "programme"])
    order = _case_order(case, merged)
    merged = merged.iloc[np.lexsort(order[::-1])].reset_index(drop=True)
    return merged.reindex(columns=VAR_COLUMNS)


def _case_order(case: Case, cells: pd.DataFrame) -> list[np.ndarray]:
    def pos(col: str, keys) -> np.ndarray:
        return pd.Categorical(cells[col], categories=list(keys)).codes

    return [
        pos("pot_code", case.pot), pos("area_code", case.area), pos("cohort_code", case.cohort),
        pos("year", case.years), pos("programme", case.pot),
    ]
