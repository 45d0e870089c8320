"""``agreement.xlsx``, as its callers have always imported it: a thin front for
:mod:`commissioning.writers.agreement`, where each sheet has its own module.

Re-exports the entry point :func:`write_agreement`, :func:`proposal_rows`, the sheet names
(:data:`SHEETS`) and the layout constants. :data:`MAX_LITERAL_AREAS` is read here when
:func:`write_agreement` is called, so setting ``agreementbook.MAX_LITERAL_AREAS`` (as a test
does) still changes the next workbook written.
"""

from __future__ import annotations

from pathlib import Path

from commissioning.analysis.agreement import AgreementInputs
from commissioning.analysis.agreement_layout import ALLOC_COLUMNS, CHECK_COLUMNS, SHEETS
from commissioning.writers import agreement as _agreement
from commissioning.writers.agreement import proposal_rows
from commissioning.writers.agreement.layout import (AC, ALLOC_NAMES, CC, FOOTER, MAX_ELIGIBILITY_WORK,
                                                     MAX_LITERAL_AREAS, SLACK_ROWS)

__all__ = ["SHEETS", "SLACK_ROWS", "MAX_ELIGIBILITY_WORK", "MAX_LITERAL_AREAS", "ALLOC_COLUMNS", "AC", "ALLOC_NAMES",
           "CHECK_COLUMNS", "CC", "FOOTER", "proposal_rows", "write_agreement"]


def write_agreement(inputs: AgreementInputs, path: Path, governance_template: Path | None = None) -> None:
    """Write ``agreement.xlsx`` for ``inputs`` at ``path`` (:func:`commissioning.writers.agreement.write_agreement`),
    with this module's :data:`MAX_LITERAL_AREAS` and :data:`MAX_ELIGIBILITY_WORK` as they are now."""
    _agreement.write_agreement(inputs, path, governance_template, max_literal_areas=MAX_LITERAL_AREAS,
                               max_eligibility_work=MAX_ELIGIBILITY_WORK)
