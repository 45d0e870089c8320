"""``agreement.xlsx``: the Local Labour Market Agreement, as a workbook finance can audit.

Sheets, in order (the issue's ten and the Transition sheet, then the lists the checks read), one module
each:

1. **Cover** (:mod:`.cover`) — title, parties, lead body, term and years, scenario, status
   DRAFT, date, the inputs' fingerprint, and how to read and edit the workbook.
2. **Summary** (:mod:`.summary`) — the headline (pooled budget, allocated, participants,
   outcomes, value, live from the Allocations sheet), the three levels with the dividends as
   formulas, and a chart of outcomes by level.
3. **Pooled budget** (:mod:`.pooled_budget`) — pot × year budgets (the constants every budget
   check reads), each pot contributed to the pool or retained, with department, basis and its
   rules in words; beneath, the planned spend by pot and year as formulas on the Allocations sheet.
4. **Allocations** (:mod:`.allocations`) — the proposal (the ``pooled`` level), the single
   source of editable numbers: for each area × cohort × year a subtotal row, with the pot detail
   beneath (one row per pot and programme: ``amount`` is the input; ``proposed (£)`` the amount
   as issued; participants, outcomes and value are formulas on the row).
5. **Outcomes and targets** (:mod:`.outcomes`) — participants, outcomes and value by area and
   year (and outcomes by cohort and year), as formulas on the Allocations sheet; then, for a
   case with an ``outcomes`` table, **Value for money** (:mod:`.value`): from the allocations
   through gross outcomes, additionality, the price base and discounting to NPSV and BCR.
6. **Flexibilities requested** (:mod:`.flexibilities`) — the measured asks, ranked, as
   devolution asks.
7. **Duplication and gaps** (:mod:`.duplication`) — the flags register from the map and the
   optimiser.
8. **Governance** (:mod:`.governance`) — the joint board, reporting, review points and
   variation, from the editable template ``templates/governance.md``.
9. **Assumptions and evidence** (:mod:`.assumptions`) — cohorts and outcome values, unit costs
   and outcome rates, areas, footprints and the need evidence (the constants every need cap reads).
10. **Checks** (:mod:`.checks`) — one formula per pot budget (per year, or per window of years
    for money that carries forward), per need cell, per rule instance, per area-year of match
    funding (and equity floor and locks when the case has them), plus eligibility and
    reconciliation; each reads TRUE while the Allocations sheet respects it, and one overall
    cell (``all_checks_hold``).
11. **Transition** (:mod:`.transition`) — year by year, the contracted and free money, and what
    the proposal keeps and re-commissions of today's provision, with contracts ending; then the
    same by pot and by area, as formulas on the Provision today and Allocations sheets.
12. **Provision today** (:mod:`.transition`) — one row per cell funded today, with the
    proposal's money in it and what it keeps and re-commissions (formulas), which the Transition
    sheet and the check on money moved read.
13. **Eligibility** (:mod:`.eligibility`) — every pot, area, cohort, year and programme the
    pool may fund (a lookup: only its heading prints).
14. **Run record** (:mod:`commissioning.writers.record`) — what produced the workbook: the
    engine's and packages' versions, the solver, the inputs' SHA-256.

Every sheet is a function ``write_<sheet>(book, draft, *anchors) -> anchors``: it takes the
:class:`~commissioning.writers.style.Book`, the :class:`~.draft.Draft` (the inputs and what is
worked out from them once) and the anchors of the earlier sheets it points into, and returns
the anchors it publishes (:mod:`.layout`). :func:`write_agreement` calls them in the one order
that satisfies every dependency: Assumptions, Eligibility, Allocations, Pooled budget,
Outcomes, Provision today, Transition, Checks, Summary, Cover, Flexibilities, Duplication,
Governance.

Finance-ready: money as pounds, financial-year columns, frozen headers in words (``check``
reads them, or the keys of :mod:`commissioning.analysis.agreement_layout`), Excel tables with
filters, defined names for the key ranges. Print-ready: every sheet on A4, fitted to one
page's width in the orientation that keeps its text at 70% or more (never under about 8 pt),
the columns an edit needs but a reader does not left out of the print area, tables longer
than :data:`~commissioning.writers.style.PRINT_ROWS_MAX` rows left out of print (the
Allocations sheet excepted: it is the agreement), header rows repeated, wrapped text with row
heights set, and the document's name and "Page N of M" at each page's foot. Colour by
meaning: on the Summary a change that is better is green and one that is worse red, whatever
its sign; figures whose negative is not bad never print red; a zero prints as "–", never "-0". Every total is a live formula, written with its cached value so that viewers
that do not recalculate still show it. Formulas use only functions Excel and LibreOffice
share (SUM, SUMPRODUCT, EXACT, SUMIF, COUNTIF, COUNTIFS, SUBTOTAL, AND, ABS, ROUND, MAX)
over plain A1 ranges and defined names; codes are compared with EXACT (case-sensitive,
no wildcards) by reference to the cells that hold them, never pasted into a formula.
Text from inputs is written with ``write_string`` only: it can never become a formula.

A writer lays out: the figures come from :class:`~commissioning.analysis.agreement.AgreementInputs`
and the limits from :mod:`commissioning.analysis.limits` (whose measures also supply the cached
values of the checks). Sheet names, Cover labels and column headers, which ``commissioning
check`` reads back, are in :mod:`commissioning.analysis.agreement_layout`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from commissioning.analysis.agreement import AgreementInputs
from commissioning.analysis.agreement_layout import SHEETS, sheets_of
from commissioning.analysis.record import run_record
from commissioning.analysis import transition as transition_analysis
from commissioning.writers.agreement.allocations import write_allocations
from commissioning.writers.agreement.assumptions import write_assumptions
from commissioning.writers.agreement.checks import write_checks
from commissioning.writers.agreement.cover import write_cover
from commissioning.writers.agreement.draft import Draft, make_draft, proposal_rows
from commissioning.writers.agreement.duplication import write_duplication
from commissioning.writers.agreement.eligibility import write_eligibility
from commissioning.writers.agreement.framework import write_framework
from commissioning.writers.agreement.settlement import write_settlement
from commissioning.writers.agreement.flexibilities import write_flexibilities
from commissioning.writers.agreement.governance import write_governance
from commissioning.writers.agreement.layout import MAX_ELIGIBILITY_WORK, MAX_LITERAL_AREAS, document_name
from commissioning.writers.agreement.outcomes import write_outcomes
from commissioning.writers.agreement.pooled_budget import write_pooled_budget
from commissioning.writers.agreement.summary import write_summary
from commissioning.writers.agreement.transition import write_today, write_transition
from commissioning.writers.agreement.value import write_value
from commissioning.writers.record import write_run_record
from commissioning.writers.style import Book

__all__ = ["SHEETS", "Draft", "make_draft", "proposal_rows", "write_agreement"]


def write_agreement(inputs: AgreementInputs, path: Path, governance_template: Path | None = None, *,
                    max_literal_areas: int = MAX_LITERAL_AREAS,
                    max_eligibility_work: int = MAX_ELIGIBILITY_WORK) -> None:
    """Write ``agreement.xlsx`` for ``inputs`` at ``path`` (see the package docstring).

    ``governance_template`` replaces the packaged governance text; ``max_literal_areas`` and
    ``max_eligibility_work`` are the sizes above which a footprint is matched against the
    footprint table and eligibility is left to ``commissioning check``."""
    draft = make_draft(inputs, max_eligibility_work)
    book = Book(path)
    book.array_exact = True  # Gnumeric too computes the EXACT comparisons over ranges
    try:
        settled = inputs.level == "settlement"
        for name in sheets_of(draft.case.valuation.valued, settled):
            book.wb.add_worksheet(name)
        assumptions = write_assumptions(book, draft)
        write_eligibility(book, draft)
        alloc = write_allocations(book, draft)
        pooled = write_pooled_budget(book, draft)
        write_outcomes(book, draft)
        if settled:
            write_settlement(book, draft)
            write_framework(book, draft)
        if draft.case.valuation.valued:
            write_value(book, draft)
        figures = transition_analysis.transition(draft.case, draft.rows)
        write_today(book, draft, figures, alloc.last - alloc.first + 1, max_eligibility_work)
        write_transition(book, draft, figures, pooled)
        checks = write_checks(book, draft, assumptions, pooled, max_literal_areas, figures)
        write_summary(book, draft, pooled, checks)
        write_cover(book, draft, figures)
        write_flexibilities(book, draft)
        write_duplication(book, draft)
        write_governance(book, draft, governance_template)
        # Last: what produced the workbook (the agreement records the solver, not why it was chosen
        # nor its time limit).
        write_run_record(book.wb, run_record(draft.case, inputs.solver or None, None, None), book.title,
                         book.label, footer=document_name(draft))
        book.wb.set_properties({"title": f"{inputs.shape.title} (DRAFT)",
                                "subject": f"fingerprint {draft.fingerprint}", "author": "commissioning",
                                "created": datetime(2000, 1, 1)})
    finally:
        book.close()
