"""What every sheet of the agreement is written from, worked out once: the :class:`Draft`.

The figures come from :class:`~commissioning.analysis.agreement.AgreementInputs`; the proposal's
rows are put in sheet order (:func:`proposal_rows`), the limits of
:mod:`commissioning.analysis.limits` measured on them (their measures are the checks' cached
values), and the eligible keys listed. Nothing here writes a cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from commissioning.analysis import limits as L
from commissioning.analysis.agreement import AgreementInputs
from commissioning.case.model import Case
from commissioning.writers.agreement.layout import MAX_ELIGIBILITY_WORK


@dataclass(frozen=True)
class Draft:
    """The read-only inputs of every sheet (one per workbook)."""

    inputs: AgreementInputs
    case: Case
    pool: frozenset[str]  # the pooled pots
    rows: pd.DataFrame  # the proposal, in sheet order (:func:`proposal_rows`)
    measured: list[L.Measured]  # every limit of the case, measured on the proposal
    keys: pd.DataFrame  # every pot, area, cohort, year and programme the pool may fund
    eligibility: bool  # whether the sheets check eligibility row by row (else `check` does)
    fingerprint: str  # the inputs' fingerprint (case and scenario)

    @property
    def years(self) -> list[str]:
        """The case's financial years, in order (the columns of every year grid)."""
        return list(self.case.years)


def make_draft(inputs: AgreementInputs, max_eligibility_work: int = MAX_ELIGIBILITY_WORK) -> Draft:
    """The :class:`Draft` of ``inputs``; eligibility is checked row by row in the workbook while
    allocation rows × eligible keys stays within ``max_eligibility_work``."""
    case = inputs.case
    pool = frozenset(inputs.pool)
    rows = proposal_rows(inputs)
    measured = L.measure_all(case, L.case_limits(case, pool), rows)
    keys = L.eligible_keys(case, pool)
    return Draft(inputs=inputs, case=case, pool=pool, rows=rows, measured=measured, keys=keys,
                 eligibility=len(keys) * max(len(rows), 1) <= max_eligibility_work, fingerprint=case.fingerprint())


def proposal_rows(inputs: AgreementInputs) -> pd.DataFrame:
    """The proposal in sheet order — area, cohort, year (as the case lists them), then pot and
    programme — with unit costs, rates and values from the case."""
    case = inputs.case
    rows = inputs.pooled.copy()
    rows["programme"] = rows["programme"].where(rows["programme"].notna(), rows["pot_code"])
    rows = rows[rows["amount"] > 0]
    order = {col: {k: i for i, k in enumerate(keys)} for col, keys in
             (("area_code", case.area), ("cohort_code", case.cohort), ("year", case.years), ("pot_code", case.pot),
              ("programme", case.pot))}
    keys = [rows[c].map(order[c]).fillna(len(order[c])).to_numpy() for c in
            ("area_code", "cohort_code", "year", "pot_code", "programme")]
    rows = rows.iloc[np.lexsort(keys[::-1])].reset_index(drop=True)
    rows = L.with_participants(case, rows[L.ROW_COLUMNS])
    rows["ref"] = [f"A{i + 1:04d}" for i in range(len(rows))]
    rows["theme"], rows["across"] = L.theme_columns(case, frozenset(inputs.pool), rows)
    return rows
