"""Sheet 1, *Cover*: what the agreement is, where it came from, and how to read and edit it.

Shows the title and the agreement's name; then one fact a row, label in column A and value in
column B (the labels of :mod:`commissioning.analysis.agreement_layout`, by which ``commissioning
check`` reads the fingerprint, the rows as issued and the proposed total back): status DRAFT,
date, parties, lead body, term and agreement years, the years the figures cover, scenario,
pooled pots, the inputs' fingerprint, the optimisation (with a warning when not proven
optimal), the rows and total as issued, and all checks hold (live); then how to read and edit
the workbook, and its contents.

Reads no anchors (uses the name ``all_checks_hold``). Publishes none.
"""

from __future__ import annotations

from datetime import datetime

from commissioning.analysis import agreement_layout as AL
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import print_setup, worksheet
from commissioning.writers.style import Book

CONTENTS = {
    AL.SUMMARY: "the headline, the three levels and the dividends",
    AL.POOLED_BUDGET: "pot × year budgets, pooled or retained, and planned spend",
    AL.ALLOCATIONS: "area × cohort × year, with the pot detail beneath (the editable proposal)",
    AL.OUTCOMES: "participants, outcomes and value by area and year",
    AL.FLEXIBILITIES: "the asks, ranked by measured gain",
    AL.DUPLICATION: "the register from the map and the optimiser",
    AL.GOVERNANCE: "joint board, reporting, review points and variation",
    AL.ASSUMPTIONS: "unit costs, outcome rates, values and the need evidence",
    AL.CHECKS: "one TRUE/FALSE per budget, need cap and rule, and the overall cell",
    AL.ELIGIBILITY: "what each pot may fund under the agreement",
}


def write_cover(book: Book, draft: Draft) -> None:
    """Write the *Cover* sheet."""
    b, inputs, case = book, draft.inputs, draft.case
    ws = worksheet(book, AL.COVER)
    ws.write_string(0, 0, "Local Labour Market Agreement", b.title)
    b.text(ws, 1, 0, inputs.name, b.subtitle)
    r = 3

    def line(label: str, value=None, fmt=None, number=False):
        nonlocal r
        ws.write_string(r, 0, label, b.label)
        if number:
            b.number(ws, r, 1, value, fmt)
        elif value is not None:
            b.text(ws, r, 1, value, fmt)
        r += 1

    line(AL.COVER_STATUS, "DRAFT", b.bold)
    ws.write_string(r, 0, AL.COVER_DATE, b.label)
    ws.write_datetime(r, 1, datetime.combine(inputs.drafted, datetime.min.time()), b.date)
    r += 1
    parties = inputs.parties or ("(the case names no parties)",)
    for i, p in enumerate(parties):
        line(AL.COVER_PARTIES if i == 0 else "", p)
    line(AL.COVER_LEAD_BODY, inputs.lead_body)
    line(AL.COVER_TERM, inputs.term_years, b.whole, number=True)
    line(AL.COVER_AGREEMENT_YEARS, f"{inputs.start_year} to {inputs.end_year}")
    if case.years:
        line(AL.COVER_FIGURES_COVER, f"{case.years[0]} to {case.years[-1]} (financial years, 1 April to 31 March)")
    line(AL.COVER_SCENARIO, inputs.scenario)
    line(AL.COVER_POOLED_POTS, "; ".join(inputs.pool_codes) or "none")
    line(AL.COVER_FINGERPRINT, draft.fingerprint)
    line(AL.COVER_OPTIMISATION, f"{inputs.status} ({inputs.solver}, objective {inputs.objective}); {inputs.source}")
    if inputs.status != "optimal":
        ws.write_string(r, 1, "NOT PROVEN OPTIMAL: the solver stopped before proving these figures the best; "
                        "they respect every check all the same.", b.warn)
        r += 1
    line(AL.COVER_ROWS_ISSUED, len(draft.rows), b.whole, number=True)
    line(AL.COVER_PROPOSED_TOTAL, float(draft.rows["amount"].sum()), b.pence, number=True)
    line(AL.COVER_ALL_CHECKS)
    b.formula(ws, r - 1, 1, "=all_checks_hold", b.ok, all(m.holds for m in draft.measured))
    r += 1
    ws.write_string(r, 0, "How to read and edit this workbook", b.subtitle)
    r += 1
    for text in (
        "The fingerprint identifies the inputs (case and scenario) this agreement was drawn from.",
        "Edit only the yellow 'amount' cells of the Allocations sheet; totals, outcomes and checks follow.",
        "The Checks sheet reads TRUE for every pot budget, need cap and rule the allocation respects; "
        "the cell 'All checks hold' sums them up.",
        "Then run: commissioning check agreement.xlsx --case CASE — it recomputes every budget, need cap, "
        "eligibility and rule from the amounts and the case, and lists what changed from the proposal.",
    ):
        ws.write_string(r, 0, "•", b.bold)
        ws.write_string(r, 1, text, b.wrap)
        r += 1
    r += 1
    ws.write_string(r, 0, "Contents", b.subtitle)
    r += 1
    for name, words in CONTENTS.items():
        ws.write_string(r, 0, name, b.bold)
        ws.write_string(r, 1, words)
        r += 1
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 110)
    print_setup(book, ws, None, AL.COVER, draft.fingerprint)
