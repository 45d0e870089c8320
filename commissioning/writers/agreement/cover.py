"""Sheet 1, *Cover*: what the agreement is, where it came from, and how to read and edit it.

Shows the title and the agreement's name; then one fact a row, label in column A and value in
column B (the labels of :mod:`commissioning.analysis.agreement_layout`, by which ``commissioning
check`` reads the fingerprint, the rows as issued and the proposed total back): status DRAFT,
date, parties, lead body, term and agreement years, the years the figures cover, scenario,
pooled pots, the inputs' fingerprint, the optimisation (with a warning when not proven
optimal), the rows and total as issued, the money contracted and free over the term, and all
checks hold (live); then how to read and edit the workbook, and its contents (the Run record last).

Reads no anchors (uses the names ``all_checks_hold``, ``contracted_total`` and ``free_total``).
Publishes none; defines the name ``proposed_total`` (the proposal's total as issued), read by *Summary*.
"""

from __future__ import annotations

from datetime import datetime

from commissioning.analysis import agreement_layout as AL
from commissioning.analysis.transition import TransitionFigures
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import define_name, print_setup, worksheet
from commissioning.writers.record import RECORD_SHEET
from commissioning.writers.style import PLAIN_MONEY_FORMAT, Book, cell

CONTENTS = {
    AL.SUMMARY: "the headline, the three levels and the dividends",
    AL.POOLED_BUDGET: "pot × year budgets, pooled or retained, and planned spend",
    AL.ALLOCATIONS: "area × cohort × year, with the pot detail beneath (the editable proposal)",
    AL.OUTCOMES: "participants, outcomes and value by area and year",
    AL.SETTLEMENT: "the settlement table as published (functional responsibility, fund, home department, "
                   "allocation mechanism, RDEL, CDEL) year by year, with the cross-theme limit",
    AL.VALUE: "the present value of benefits and costs of this allocation (live), with the discount rate and "
              "optimism bias as editable inputs",
    AL.FRAMEWORK: "for each theme: outcomes, indicators and yearly targets from this allocation, against today",
    AL.FLEXIBILITIES: "the asks, ranked by measured gain",
    AL.DUPLICATION: "the register from the map and the optimiser",
    AL.GOVERNANCE: "joint board, reporting, review points and variation",
    AL.ASSUMPTIONS: "unit costs, outcome rates, values and the need evidence",
    AL.CHECKS: "one TRUE/FALSE per budget, need cap and rule, and the overall cell",
    AL.TRANSITION: "year by year: contracted and free money, and what the proposal keeps and re-commissions of "
                   "today's provision, by pot and area",
    AL.TODAY: "each cell funded today, with what the proposal keeps of it (the Transition sheet and the check on "
              "money moved read it)",
    AL.ELIGIBILITY: "what each pot may fund under the agreement (a lookup for the Allocations sheet: not printed)",
    RECORD_SHEET: "what produced this workbook (engine, software, solver, the inputs' SHA-256)",
}
WIDTHS = (24, 76)


def write_cover(book: Book, draft: Draft, figures: TransitionFigures | None = None) -> None:
    """Write the *Cover* sheet (``figures``: the transition the *Transition* sheet shows)."""
    b, inputs, case = book, draft.inputs, draft.case
    ws = worksheet(book, AL.COVER)
    ws.write_string(0, 0, inputs.shape.title, b.title)
    b.text(ws, 1, 0, inputs.name, b.subtitle)
    r = 3
    value_width = WIDTHS[1]

    def line(label: str, value=None, fmt=None, number=False):
        nonlocal r
        ws.write_string(r, 0, label, b.label)
        if number:
            b.number(ws, r, 1, value, fmt)
        elif value is not None:
            b.text(ws, r, 1, value, fmt if fmt is not None else b.wrap)
            b.row_height(ws, r, [(value, value_width), (label, WIDTHS[0])])
        r += 1

    line(AL.COVER_STATUS, "DRAFT", b.bold)
    line(AL.COVER_FORM, f"{inputs.shape.key} — {inputs.shape.what}")
    ws.write_string(r, 0, AL.COVER_DATE, b.label)
    ws.write_datetime(r, 1, datetime.combine(inputs.drafted, datetime.min.time()), b.date)
    r += 1
    parties = inputs.parties or (f"(the case names no parties; for this form they are usually "
                                 f"{inputs.shape.parties_hint})",)
    for i, p in enumerate(parties):
        line(AL.COVER_PARTIES if i == 0 else "", p)
    line(AL.COVER_LEAD_BODY, inputs.lead_body)
    left = {"whole": b.wb.add_format({"num_format": "#,##0", "align": "left"}),
            "money": b.wb.add_format({"num_format": PLAIN_MONEY_FORMAT, "align": "left"}),
            "bold": b.wb.add_format({"bold": True, "align": "left"})}
    line(AL.COVER_TERM, inputs.term_years, left["whole"], number=True)
    line(AL.COVER_AGREEMENT_YEARS, f"{inputs.start_year} to {inputs.end_year}")
    if case.years:
        line(AL.COVER_FIGURES_COVER, f"{case.years[0]} to {case.years[-1]} (financial years, 1 April to 31 March)")
    line(AL.COVER_SCENARIO, inputs.scenario)
    line(AL.COVER_POOLED_POTS, "; ".join(inputs.pool_codes) or "none")
    if inputs.level != "pooled":
        line("Proposal", f"the {inputs.level} level: what the settlement's own rules allow, with no ask of government")
    line(AL.COVER_FINGERPRINT, draft.fingerprint)
    line(AL.COVER_OPTIMISATION, f"{inputs.status} ({inputs.solver}, objective {inputs.objective}); {inputs.source}")
    if inputs.status != "optimal":
        warning = ("NOT PROVEN OPTIMAL: the solver stopped before proving these figures the best; they respect "
                   "every check all the same.")
        b.wrapped(ws, r, 1, warning, value_width, b.warn_wrap)
        r += 1
    line(AL.COVER_ROWS_ISSUED, len(draft.rows), left["whole"], number=True)
    # The proposal's total as issued, the one cell of it (the Summary shows it from here; `check`
    # reads it back): stored to the penny, shown in whole pounds like every board-facing figure.
    line(AL.COVER_PROPOSED_TOTAL, float(draft.rows["amount"].sum()), left["money"], number=True)
    define_name(book, "proposed_total", AL.COVER, cell(r - 1, 1, True))
    if figures is not None:
        # Over the term, from the Transition sheet: what signed contracts keep where it is, and the rest.
        for label, name, value in ((AL.COVER_CONTRACTED, "contracted_total", figures.contracted_total),
                                   (AL.COVER_FREE, "free_total", figures.free_total)):
            line(label)
            b.formula(ws, r - 1, 1, f"={name}", left["money"], value)
    line(AL.COVER_ALL_CHECKS)
    b.formula(ws, r - 1, 1, "=all_checks_hold", left["bold"], all(m.holds for m in draft.measured))
    r += 1
    ws.write_string(r, 0, "How to read and edit this workbook", b.subtitle)
    r += 1
    for text in (
        "The fingerprint identifies the inputs (case and scenario) this agreement was drawn from.",
        f"Edit only the yellow '{AL.ALLOC_HEADERS['amount']}' cells of the Allocations sheet; totals, outcomes "
        "and checks follow.",
        "The Checks sheet reads TRUE for every pot budget, need cap and rule the allocation respects; "
        "the cell 'All checks hold' sums them up.",
        "Then run: commissioning check agreement.xlsx --case CASE — it recomputes every budget, need cap, "
        "eligibility and rule from the amounts and the case, and lists what changed from the proposal.",
        "Money is shown in whole pounds and people as whole people on the Cover, Summary and Outcomes sheets; "
        "the cells keep the exact figures (the Allocations and Checks sheets show pence and tenths).",
    ):
        ws.write_string(r, 0, "•", b.bold_right)
        b.wrapped(ws, r, 1, text, value_width)
        r += 1
    r += 1
    ws.write_string(r, 0, "Contents", b.subtitle)
    r += 1
    for name in [*AL.sheets_of(case.valuation.valued, inputs.level == "settlement"), RECORD_SHEET]:
        if name == AL.COVER:
            continue  # the page being read
        words = CONTENTS[name]  # every other sheet is listed
        ws.write_string(r, 0, name, b.label)
        b.wrapped(ws, r, 1, words, value_width)
        r += 1
    for j, w in enumerate(WIDTHS):
        ws.set_column(j, j, w)
    print_setup(book, draft, ws, WIDTHS, None)
