"""The names and labels of ``agreement.xlsx`` that its writer and its reader both rely on.

:mod:`commissioning.writers.agreement` writes the workbook with these; ``commissioning check``
(:mod:`commissioning.analysis.audit`) finds its way back through an edited copy by them — the
Allocations sheet by name, the Cover sheet's facts by their labels, the Checks sheet's rows
by their column headers. Rename one here and both sides follow; a workbook drawn before the
rename is then no longer read, so treat these as part of the file format.

This module is at the analysis layer so that the reader never imports a writer (writers may
import analysis, never the other way round). It holds names only: no layout positions, no
formats, nothing Excel-specific.
"""

from __future__ import annotations

# ---- sheet names, in workbook order --------------------------------------------------------------
COVER = "Cover"
SUMMARY = "Summary"
POOLED_BUDGET = "Pooled budget"
ALLOCATIONS = "Allocations"
OUTCOMES = "Outcomes and targets"
FLEXIBILITIES = "Flexibilities requested"
DUPLICATION = "Duplication and gaps"
GOVERNANCE = "Governance"
ASSUMPTIONS = "Assumptions and evidence"
CHECKS = "Checks"
ELIGIBILITY = "Eligibility"

SHEETS = [COVER, SUMMARY, POOLED_BUDGET, ALLOCATIONS, OUTCOMES, FLEXIBILITIES, DUPLICATION, GOVERNANCE,
          ASSUMPTIONS, CHECKS, ELIGIBILITY]

# ---- Cover sheet: the labels of column A (each fact's value is beside it, in column B) ---------------
COVER_STATUS = "Status"
COVER_DATE = "Date"
COVER_PARTIES = "Parties"
COVER_LEAD_BODY = "Lead body"
COVER_TERM = "Term (years)"
COVER_AGREEMENT_YEARS = "Agreement years"
COVER_FIGURES_COVER = "Figures cover"
COVER_SCENARIO = "Scenario"
COVER_POOLED_POTS = "Pooled pots"
COVER_FINGERPRINT = "Fingerprint"  # read by `check`: the inputs the workbook was drawn from
COVER_OPTIMISATION = "Optimisation"
COVER_ROWS_ISSUED = "Allocation rows as issued"  # read by `check`: refs A0001… that should be present
COVER_PROPOSED_TOTAL = "Proposed total (£)"  # read by `check`: the money of removed rows
COVER_ALL_CHECKS = "All checks hold (live)"

# ---- column headers (zero-based position = index) ---------------------------------------------------
# The Allocations sheet's table; `check` finds its columns by these headers, not by position.
ALLOC_COLUMNS = ["ref", "pot_code", "pot_name", "area_code", "area_name", "cohort_code", "cohort_name", "year",
                 "programme", "pooled", "amount", "proposed (£)", "change (£)", "unit_cost", "outcome_rate",
                 "value_per_outcome", "participants", "outcomes", "value", "eligible", "issued as"]
# The Checks sheet's table; `check` points each breach at its row by (check, pot, area, cohort, year).
CHECK_COLUMNS = ["no", "family", "check", "pot", "area", "cohort", "year", "value", "limit", "allowance", "holds",
                 "headroom", "unit", "factor"]
