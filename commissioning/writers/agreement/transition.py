"""The *Transition* sheet and the *Provision today* sheet: from today's provision to the proposal.

*Provision today* lists one row per cell funded today (pot, area, cohort, year: the cells the
check on money moved measures), with today's money, the money under a signed contract that
year and the part of it whose contract ends that year (constants, from
:mod:`commissioning.analysis.transition`), then three formulas on the Allocations sheet: the
proposal's money in the cell (every programme the pot buys), the money kept (the smaller of
today's and the proposal's) and the money re-commissioned (today's less kept). Printed when
its table has at most :data:`PRINT_ROWS_MAX` rows (else only its heading prints, which says so).

*Transition* shows, year by year, the budgets, the contracted and free money, today's money,
what the proposal keeps and re-commissions of it, the contracts ending, the proposed spend and
what is newly commissioned; then money kept, re-commissioned and contracts ending by pot and
year and by area and year. Every figure but the budgets' (the Pooled budget sheet's grid) is a
formula on the Provision today or Allocations sheet, with row and column totals; the grids'
totals reconcile with today's money on the Checks sheet.

A proposal's cell is matched with EXACT (case-sensitive codes) while today's cells × allocation
rows stay within the workbook's work limit (``max_work``, the eligibility sheet's); above it
with SUMIFS, which is faster but compares codes case-blind.

*Provision today* reads no anchors (uses the names ``alloc_*``) and defines ``today_pot``,
``today_area``, ``today_cohort``, ``today_year``, ``today_amount``, ``today_contracted``,
``today_ending``, ``today_plan``, ``today_kept`` and ``today_moved`` (read by *Transition* and
by the check on money moved, :mod:`optimiser.families.transition`). *Transition* reads
:class:`PooledBudgetAnchors` (the budget rows and year columns) and defines ``contracted_total``
and ``free_total`` (read by *Cover*) and ``transition_today_total``, ``transition_kept_by_pot``,
``transition_moved_by_pot``, ``transition_kept_by_area`` and ``transition_moved_by_area`` (read
by the reconciliation checks).
"""

from __future__ import annotations

from commissioning.analysis.agreement_layout import POOLED_BUDGET, TODAY, TODAY_COLUMNS, TODAY_HEADERS, TRANSITION
from commissioning.analysis.transition import TransitionFigures
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (PRINT_ROWS_MAX, PooledBudgetAnchors, define_name, header_cells,
                                                     note_row, out_of_print_note, print_setup, worksheet)
from commissioning.writers.style import Book, cell, col_range, sheet_ref

TODAY_WIDTHS = {"pot_code": 14, "area_code": 11, "cohort_code": 18, "year": 8, "today": 13, "contracted": 13,
                "ending": 13, "plan": 13, "kept": 13, "moved": 13}
NAMES = {c: f"today_{c}" for c in ("contracted", "ending", "plan", "kept", "moved")} | {
    "pot_code": "today_pot", "area_code": "today_area", "cohort_code": "today_cohort", "year": "today_year",
    "today": "today_amount"}


def today_words(draft: Draft) -> str:
    """What "today" is for this case, in words."""
    if draft.case.provision is not None:
        return ("Today is the case's provision table as the baseline pays it (an over-spent pot, a duplicated cell "
                "or provision a pot may not fund scaled as the baseline scales it).")
    return ("The case has no provision table: today is the baseline's computed spread (each pot over its own "
            "eligible need in proportion to that need), and nothing is under contract.")


def write_today(book: Book, draft: Draft, figures: TransitionFigures, alloc_rows: int, max_work: int) -> None:
    """Write the *Provision today* sheet (``alloc_rows``: the rows every allocation range spans)."""
    b = book
    ws = worksheet(book, TODAY)
    cells = figures.cells
    width = [TODAY_WIDTHS[c] for c in TODAY_COLUMNS]
    ws.write_string(0, 0, "Provision today: each cell funded today, and what the proposal keeps of it", b.title)
    H = TODAY_HEADERS
    note_row(book, ws, 1, f"{today_words(draft)} One row per pot, area, cohort and year with money today. "
             f"'{H['contracted']}': money under a signed contract in that year (kept where it is, on the pot's own "
             f"programme); '{H['ending']}': the part of it in the last year of its contract. '{H['plan']}', "
             f"'{H['kept']}' and '{H['moved']}' are formulas on the Allocations sheet: the proposal's money in the "
             "cell (every programme the pot buys), the smaller of today's and the proposal's, and today's less "
             "kept. The Transition sheet and the check on money moved read these columns.", width)
    exact = len(cells) * max(alloc_rows, 1) <= max_work
    if not exact:
        note_row(book, ws, 2, f"{len(cells):,} cells against {alloc_rows:,} allocation rows: the proposal's money "
                 "is matched with SUMIFS, which compares codes without regard to case.", width, b.warn_wrap)
    head = 4
    first = head + 1
    header_cells(book, ws, head, [H[c] for c in TODAY_COLUMNS], width)
    col = {c: j for j, c in enumerate(TODAY_COLUMNS)}
    money = b.plain_pence
    for i, x in enumerate(cells.itertuples(index=False)):
        r = first + i
        for c in ("pot_code", "area_code", "cohort_code", "year"):
            b.text(ws, r, col[c], getattr(x, c))
        for c in ("today", "contracted", "ending"):
            b.number(ws, r, col[c], getattr(x, c), money)
        keys = [cell(r, col[c]) for c in ("pot_code", "area_code", "cohort_code", "year")]
        if exact:
            plan = ("=SUMPRODUCT(" + "*".join(f"EXACT({n},{k})" for n, k in
                                             zip(("alloc_pot", "alloc_area", "alloc_cohort", "alloc_year"), keys))
                    + ",alloc_amount)")
        else:
            plan = ("=SUMIFS(alloc_amount," + ",".join(f"{n},{k}" for n, k in
                                                       zip(("alloc_pot", "alloc_area", "alloc_cohort", "alloc_year"),
                                                           keys)) + ")")
        b.formula(ws, r, col["plan"], plan, money, float(x.plan))
        b.formula(ws, r, col["kept"], f"=MIN({cell(r, col['today'])},{cell(r, col['plan'])})", money, float(x.kept))
        b.formula(ws, r, col["moved"], f"={cell(r, col['today'])}-{cell(r, col['kept'])}", money, float(x.moved))
    last = first + max(len(cells), 1) - 1
    for c, name in NAMES.items():
        define_name(book, name, TODAY, col_range(col[c], first, last))
    ws.add_table(head, 0, last, len(TODAY_COLUMNS) - 1, {
        "name": "TodaysProvision", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": H[c], "header_format": b.header} for c in TODAY_COLUMNS]})
    b.no_signed_zero(ws, first, col["today"], last, col["moved"], half=0.005)
    for c, w in TODAY_WIDTHS.items():
        ws.set_column(col[c], col[c], w)
    ws.freeze_panes(first, 0)
    if len(cells) > PRINT_ROWS_MAX:
        note_row(book, ws, 3, out_of_print_note(len(cells), "the table of today's cells"), width, b.warn_wrap)
        print_setup(book, draft, ws, width, None, print_area=(0, 0, 3, len(width) - 1))
    else:
        print_setup(book, draft, ws, width, head, print_area=(0, 0, last, len(width) - 1))


# The year-by-year block: (key, words, source) — source "budget", a today_* column, "proposed", or
# a formula of the rows above.
YEAR_ROWS = [
    ("budget", "Budgets (money newly available)", "budget"),
    ("contracted", "Contracted: kept where it is by signed contracts", "today_contracted"),
    ("free", "Free to commission (budgets − contracted)", "budget-contracted"),
    ("today", "Today's money", "today_amount"),
    ("kept", "Kept in its cell", "today_kept"),
    ("moved", "Re-commissioned (moved from today's cells)", "today_moved"),
    ("ending", "Contracts ending (free from the next year)", "today_ending"),
    ("proposed", "Proposed spend", "alloc_amount"),
    ("new", "Newly commissioned (proposed − kept)", "proposed-kept"),
]
GRIDS = [("kept", "Money kept in its cell", "today_kept"),
         ("moved", "Money re-commissioned (moved from today's cells)", "today_moved"),
         ("ending", "Contracts ending (contracted money in the last year of its contract)", "today_ending")]


def write_transition(book: Book, draft: Draft, figures: TransitionFigures, pooled: PooledBudgetAnchors) -> None:
    """Write the *Transition* sheet."""
    b, case = book, draft.case
    ws = worksheet(book, TRANSITION)
    years = draft.years
    n = len(years)
    widths = [16, 40, *([13] * n), 15]
    T = 2 + n  # the total column
    ws.write_string(0, 0, "Transition: from today's provision to the proposal, year by year", b.title)
    note_row(book, ws, 1, f"{today_words(draft)} Money kept is today's money that stays in its cell (the same pot, "
             "area, cohort and year): the smaller of today's and the proposal's. Money re-commissioned is today's "
             "money taken from its cell, today's less kept, as the check on money moved measures it. Provision in a "
             "year that starts on or before its contract end is contracted: it stays where it is, on the pot's own "
             "programme; a contract ending in a year frees its money from the next. Free money is the year's "
             "budgets less contracted money. Every figure but the budgets is a formula on the Provision today "
             "and Allocations sheets.", widths)
    r = 3
    ws.write_string(r, 0, "Year by year (£)", b.subtitle)
    head = r + 1
    header_cells(book, ws, head, ["", "", *years, "Total"], widths)
    ws.merge_range(head, 0, head, 1, "", b.header)
    by_year = figures.by_year
    budget_rows = sorted(pooled.budget_row.values())
    at: dict[str, int] = {}
    bold = {"free", "moved", "new"}
    for i, (key, words, source) in enumerate(YEAR_ROWS):
        rr = head + 1 + i
        at[key] = rr
        ws.merge_range(rr, 0, rr, 1, "", b.bold if key in bold else None)
        ws.write_string(rr, 0, words, b.bold if key in bold else None)
        fmt = b.plain_money_bold if key in bold else b.plain_money
        for j, y in enumerate(years):
            c = 2 + j
            if source == "budget":
                f = (f"=SUM({sheet_ref(POOLED_BUDGET, cell(budget_rows[0], pooled.year_col[y]))}:"
                     f"{cell(budget_rows[-1], pooled.year_col[y])})") if budget_rows else "=0"
            elif source == "budget-contracted":
                f = f"={cell(at['budget'], c)}-{cell(at['contracted'], c)}"
            elif source == "proposed-kept":
                f = f"={cell(at['proposed'], c)}-{cell(at['kept'], c)}"
            else:
                years_of = "alloc_year" if source == "alloc_amount" else "today_year"
                f = f"=SUMPRODUCT(--EXACT({years_of},{cell(head, c, True)}),{source})"
            b.formula(ws, rr, c, f, fmt, float(by_year.loc[y, key]))
        b.formula(ws, rr, T, f"=SUM({cell(rr, 2)}:{cell(rr, T - 1)})", b.plain_money_bold,
                  float(by_year[key].sum()))
    share_row = head + 1 + len(YEAR_ROWS)
    ws.merge_range(share_row, 0, share_row, 1, "", None)
    ws.write_string(share_row, 0, "Re-commissioned, as a share of today's money")
    for c in range(2, T + 1):
        today, moved = cell(at["today"], c), cell(at["moved"], c)
        b.formula(ws, share_row, c, f"=IF({today}>0,{moved}/{today},0)", b.share,
                  figures.moved_share(years[c - 2] if c < T else None))
    b.no_signed_zero(ws, head + 1, 2, share_row - 1, T)
    for name, key in (("contracted_total", "contracted"), ("free_total", "free"), ("transition_today_total", "today")):
        define_name(book, name, TRANSITION, cell(at[key], T, True))
    r = share_row + 3
    top = b.top_formats()
    for by, what, items in (("pot", "pot", [(p.code, p.name) for p in case.pots]),
                            ("area", "area", [(a.code, a.name) for a in case.areas])):
        for key, title, source in GRIDS:
            ws.write_string(r, 0, f"{title}, by {what} and year (£)", b.subtitle)
            head = r + 1
            header_cells(book, ws, head, [f"{what.capitalize()} code", what.capitalize(), *years, "Total"], widths)
            grid = figures.grid(by, key)
            first = head + 1
            codes = f"today_{by}"
            for i, (code, name) in enumerate(items):
                rr = first + i
                b.text(ws, rr, 0, code, b.top)
                b.text(ws, rr, 1, name, b.wrap)
                b.row_height(ws, rr, [(name, widths[1]), (code, widths[0])])
                for j, y in enumerate(years):
                    f = (f"=SUMPRODUCT(EXACT({codes},{cell(rr, 0, True)})*EXACT(today_year,{cell(head, 2 + j, True)}),"
                         f"{source})")
                    b.formula(ws, rr, 2 + j, f, top(b.plain_money), grid.get((code, y), 0.0))
                b.formula(ws, rr, T, f"=SUM({cell(rr, 2)}:{cell(rr, T - 1)})", top(b.plain_money_bold),
                          float(sum(grid.get((code, y), 0.0) for y in years)))
            last = first + len(items) - 1
            tr = last + 1
            ws.write_string(tr, 0, "Total", b.total_label)
            ws.write_string(tr, 1, "", b.total_label)
            for j in range(n + 1):
                yr = years[j] if j < n else None
                cached = float(sum(v for (code, y), v in grid.items() if yr is None or y == yr))
                b.formula(ws, tr, 2 + j, f"=SUM({cell(first, 2 + j)}:{cell(last, 2 + j)})", b.plain_money_total,
                          cached)
            b.no_signed_zero(ws, first, 2, tr, T)
            if key in ("kept", "moved"):
                define_name(book, f"transition_{key}_by_{by}", TRANSITION, cell(tr, T, True))
            r = tr + 3
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 2)
    print_setup(book, draft, ws, widths, None)
