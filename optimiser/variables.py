"""Allocation variables: one per *eligible* pot, area, cohort and year (and programme).

Which rows are eligible is the case's answer (:mod:`commissioning.case.eligibility`);
this module turns them into the optimiser's columns.

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

import pandas as pd

from commissioning.case.model import Case

VAR_COLUMNS = [
    "kind", "pot_code", "area_code", "cohort_code", "year", "programme", "budget_year",
    "unit_cost", "outcome_rate", "value_per_outcome", "need",
]


def best_programmes(case: Case, pool: frozenset[str], objective: str | None = None) -> pd.DataFrame:
    """For each cohort some pool member may fund, its best programme
    (:meth:`~commissioning.case.eligibility.Eligibility.best_programmes`)."""
    return case.eligibility.best_programmes(pool, objective)


def allocation_variables(case: Case, pool: frozenset[str] = frozenset(), objective: str | None = None) -> pd.DataFrame:
    """The allocation variables of a level (``pool`` empty: the aligned level): one per row
    the case's eligibility admits (:meth:`~commissioning.case.eligibility.Eligibility.rows`)."""
    rows = case.eligibility.rows(frozenset(pool), objective)
    return rows.assign(kind="alloc", budget_year=None).reindex(columns=VAR_COLUMNS)
