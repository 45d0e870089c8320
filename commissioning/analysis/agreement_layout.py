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
TRANSITION = "Transition"
FLEXIBILITIES = "Flexibilities requested"
DUPLICATION = "Duplication and gaps"
GOVERNANCE = "Governance"
ASSUMPTIONS = "Assumptions and evidence"
CHECKS = "Checks"
TODAY = "Provision today"
ELIGIBILITY = "Eligibility"
VALUE = "Value for money"  # only for a case with an outcomes table: after the Outcomes and targets sheet
SETTLEMENT = "Settlement"  # only in the integrated-settlement form: after the Pooled budget sheet
FRAMEWORK = "Outcomes framework"  # only in the integrated-settlement form: after the Outcomes and targets sheet
# The Value for money sheet's defined names that `check` reads back (commissioning.writers.agreement.value).
VALUE_NAMES = ("vfm_base", "vfm_rate", "vfm_ob", "vfm_pv_benefits", "vfm_pv_costs", "vfm_npsv", "vfm_bcr")

# The first ten are the order an earlier issue set; the Transition sheet (and the cells it reads) follows them.
SHEETS = [COVER, SUMMARY, POOLED_BUDGET, ALLOCATIONS, OUTCOMES, FLEXIBILITIES, DUPLICATION, GOVERNANCE,
          ASSUMPTIONS, CHECKS, TRANSITION, TODAY, ELIGIBILITY]


def sheets_of(valued: bool, settlement: bool = False) -> list[str]:
    """The agreement's sheets, in order: :data:`SHEETS`, with *Value for money* after *Outcomes and
    targets* for a case with an outcomes table; in the integrated-settlement form *Settlement*
    after *Pooled budget* and *Outcomes framework* after *Outcomes and targets*."""
    out = list(SHEETS)
    if settlement:
        out.insert(out.index(POOLED_BUDGET) + 1, SETTLEMENT)
        out.insert(out.index(OUTCOMES) + 1, FRAMEWORK)
    if valued:
        out.insert(out.index(OUTCOMES) + 1 + settlement, VALUE)
    return out

# ---- Cover sheet: the labels of column A (each fact's value is beside it, in column B) ---------------
COVER_STATUS = "Status"
COVER_FORM = "Form"  # read by `check`: which form (and so which level's rules) the workbook is
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
COVER_CONTRACTED = "Contracted money (£)"  # over the term: kept where it is by signed contracts
COVER_FREE = "Free money (£)"  # over the term: the budgets less contracted money
COVER_ALL_CHECKS = "All checks hold (live)"

# ---- column headers (zero-based position = index) ---------------------------------------------------
# Each table's columns have a key (the names below: stable, documented in docs/outputs.md, used by
# the code and the tests) and a header in words, which is what the workbook shows and prints
# (``*_HEADERS``). `check` finds its columns by header, not by position, and reads either: the
# header in words, or the key (so workbooks drawn before the headers were put in words still check).
#
# The Allocations sheet's table, the columns that print first (names, money, people), then the
# codes and rates an edit or a new row needs (left out of the printed page).
ALLOC_COLUMNS = ["ref", "area_name", "pot_name", "year", "pooled", "amount", "participants", "outcomes", "value",
                 "eligible", "proposed (£)", "change (£)", "cohort_name", "pot_code", "area_code", "cohort_code",
                 "programme", "unit_cost", "outcome_rate", "value_per_outcome", "issued as", "theme", "across"]
ALLOC_PRINTED = "eligible"  # the last column of the printed page
ALLOC_HEADERS = {
    "ref": "Ref", "pot_name": "Pot (on a subtotal row, the cohort)", "area_name": "Area", "cohort_name": "Cohort", "year": "Year",
    "pooled": "Pooled or retained", "amount": "Amount (£)", "proposed (£)": "Proposed (£)",
    "change (£)": "Change (£)", "participants": "Participants", "outcomes": "Outcomes", "value": "Public value (£)",
    "eligible": "Eligible", "pot_code": "Pot code", "area_code": "Area code", "cohort_code": "Cohort code",
    "programme": "Programme", "unit_cost": "Unit cost (£)", "outcome_rate": "Outcome rate",
    "value_per_outcome": "Value per outcome (£)", "issued as": "Issued as (codes)",
    "theme": "Settlement theme", "across": "Moves between themes",
}
# The Checks sheet's table; `check` points each breach at its row by (check, pot, area, cohort, year).
CHECK_COLUMNS = ["no", "family", "check", "pot", "area", "cohort", "year", "value", "limit", "holds", "headroom",
                 "allowance", "unit", "factor"]
CHECK_PRINTED = "headroom"  # the last column of the printed page
# Its keys are already plain words, and are its headers: other readers (tests/writers/test_gnumeric.py)
# find the 'holds' column by that word.
CHECK_HEADERS = {key: key for key in CHECK_COLUMNS}
# The Today's provision sheet's table: one row per cell funded today, with the proposal's money in it
# (formulas: proposed, kept and moved), which the check on money moved and the Transition sheet read.
TODAY_COLUMNS = ["pot_code", "area_code", "cohort_code", "year", "today", "contracted", "ending", "plan", "kept",
                 "moved"]
TODAY_HEADERS = {
    "pot_code": "Pot code", "area_code": "Area code", "cohort_code": "Cohort code", "year": "Year",
    "today": "Today (£)", "contracted": "Contracted (£)", "ending": "Contract ends this year (£)",
    "plan": "Proposed (£)", "kept": "Kept (£)", "moved": "Re-commissioned (£)",
}


def column_keys(names: dict[str, int], headers: dict[str, str]) -> dict[str, int]:
    """A header row's columns by key: ``names`` (each header cell's text -> its column) with, for
    each key of ``headers`` whose words are in the row, the key too (a key in the row wins)."""
    out = dict(names)
    for key, words in headers.items():
        if words in names and key not in names:
            out[key] = names[words]
    return out
