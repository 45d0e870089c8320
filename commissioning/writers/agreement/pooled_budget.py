"""Sheet 3, *Pooled budget*: each pot's money by financial year, contributed to the pool or retained.

Shows two pot × year grids. The first holds the budgets (the constants every budget check
reads), each pot's status (pooled or retained), carry-forward and match rate, with totals for the pool, the retained pots and all pots. The second holds the planned
spend by pot and year, as formulas on the Allocations sheet, with each pot's money left
unspent over the term and the same three totals. Beneath, each pot's department, basis and
rules in words, wrapped across the grids' width (so that the sheet prints on one page's width at a legible scale).

Reads no anchors (uses the names ``alloc_pot``, ``alloc_year``, ``alloc_amount``). Publishes
:class:`PooledBudgetAnchors` (the rows of both grids, the year columns, each pot's code and
match-rate cells, the total cells), read by *Checks* and *Summary*; defines the names
``budget_grid``, ``spend_grid``, ``pooled_budget_total``, ``retained_budget_total``,
``budget_total``, ``pooled_spend_total``, ``retained_spend_total`` and ``spend_total``.
"""

from __future__ import annotations

from xlsxwriter.utility import xl_col_to_name

from commissioning.analysis.agreement_layout import POOLED_BUDGET
from commissioning.case.model import ALL
from commissioning.case.labels import rules_words
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (PooledBudgetAnchors, define_name, header_cells, heading,
                                                     note_row, print_setup, worksheet)
from commissioning.writers.style import Book, cell, col_range, is_blank, sheet_ref


def write_pooled_budget(book: Book, draft: Draft) -> PooledBudgetAnchors:
    """Write the *Pooled budget* sheet; return where each pot's budget and spend, and the totals, are."""
    b, case, rows, pool = book, draft.case, draft.rows, draft.pool
    ws = worksheet(book, POOLED_BUDGET)
    years = draft.years
    budget_row: dict[str, int] = {}
    spend_row: dict[str, int] = {}
    year_col: dict[str, int] = {}
    pot_code_cell: dict[str, str] = {}
    match_rate_cell: dict[str, str] = {}
    n = len(years)
    Y0 = 3
    T = Y0 + n
    ws.write_string(0, 0, "Pooled budget: each pot's money by financial year, contributed to the pool or "
                    "retained outside it", b.title)
    head1 = 3
    heads = ["pot_code", "pot_name", "status", *years, "total (£)", "carry_forward", "match_rate", "can_match"]
    widths = [13, 26, 9, *([13] * n), 14, 8, 7, 7]
    top, centre = b.top_formats(), b.wb.add_format({"valign": "top", "align": "center"})
    note_row(book, ws, 1, "Budgets are the case's (the constants the budget checks read). Pooled pots may fund "
             "any area and cohort a pool member may fund, within their own years, carry-forward and "
             f"match; retained pots keep {rules_words(case.rules_changed)}.", widths)
    first1 = head1 + 1
    for i, p in enumerate(case.pots):
        r = first1 + i
        budget_row[p.code] = r
        pot_code_cell[p.code] = sheet_ref(POOLED_BUDGET, cell(r, 0, True))
        match_rate_cell[p.code] = sheet_ref(POOLED_BUDGET, cell(r, T + 2, True))
        _pot_cells(book, ws, r, p, pool, widths)
        for j, y in enumerate(years):
            if p.in_life(y) or (p.code, y) in case.budget:
                b.number(ws, r, Y0 + j, case.budget.get((p.code, y), 0.0), top(b.plain_money))
        total = sum(case.budget.get((p.code, y), 0.0) for y in years)
        b.formula(ws, r, T, f"=SUM({cell(r, Y0)}:{cell(r, T - 1)})", top(b.plain_money_bold), total)
        b.number(ws, r, T + 1, p.carry_forward, centre)
        b.number(ws, r, T + 2, p.match_rate, top(b.rate))
        ws.write_string(r, T + 3, "yes" if p.can_match else "no", centre)
    last1 = first1 + len(case.pots) - 1
    ws.add_table(head1, 0, last1, len(heads) - 1, {
        "name": "PooledBudget", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": heading(h), "header_format": b.header} for h in heads]})
    b.row_height(ws, head1, [(heading(h), w) for h, w in zip(heads, widths)], bold=True)
    for j, y in enumerate(years):
        year_col[y] = Y0 + j
    define_name(book, "budget_grid", POOLED_BUDGET,
                f"${xl_col_to_name(Y0)}${first1 + 1}:${xl_col_to_name(T - 1)}${last1 + 1}")
    status = col_range(2, first1, last1)

    def totals(r0: int, first: int, last: int, grid: dict[tuple[str, str], float], names: tuple[str, ...]):
        for k, (label, crit) in enumerate((("Contributed to the pool", "pooled"),
                                           ("Retained outside the pool", "retained"), ("All pots", None))):
            r = r0 + k
            ws.write_string(r, 1, label, b.total_label)
            for c in range(Y0, T + 1):
                yr = years[c - Y0] if c < T else None
                vals = [v for (p, y), v in grid.items()
                        if (crit is None or (p in pool) == (crit == "pooled")) and (yr is None or y == yr)]
                rc = col_range(c, first, last)
                f = f'=SUMIF({status},"{crit}",{rc})' if crit else f"=SUM({rc})"
                b.formula(ws, r, c, f, b.plain_money_total, float(sum(vals)))
            if names[k]:
                define_name(book, names[k], POOLED_BUDGET, cell(r, T, True))
        return r0 + 2

    budgets = {(p, y): v for (p, y), v in case.budget.items() if y in years}
    r_all = totals(last1 + 2, first1, last1, budgets, ("pooled_budget_total", "retained_budget_total",
                                                       "budget_total"))
    pool_total = sheet_ref(POOLED_BUDGET, cell(last1 + 2, T, True))
    budget_total = sheet_ref(POOLED_BUDGET, cell(r_all, T, True))

    # Planned spend, pot × year, from the Allocations sheet.
    top2 = r_all + 3
    ws.write_string(top2, 0, "Planned spend by pot and year (formulas on the Allocations sheet)", b.subtitle)
    head2 = top2 + 1
    # The pot's department where the grid above has its name: one line a pot (the name is above).
    heads2 = ["pot_code", "department", "status", *years, "planned (£)", "unspent over the term (£)"]
    first2 = head2 + 1
    spend = rows.groupby(["pot_code", "year"])["amount"].sum().to_dict()
    for i, p in enumerate(case.pots):
        r = first2 + i
        spend_row[p.code] = r
        _pot_cells(book, ws, r, p, pool, widths, name=False)
        for j, y in enumerate(years):
            f = (f"=SUMPRODUCT(EXACT(alloc_pot,{cell(r, 0, True)})*EXACT(alloc_year,"
                 f"{cell(head1, Y0 + j, True)}),alloc_amount)")
            b.formula(ws, r, Y0 + j, f, top(b.plain_money), float(spend.get((p.code, y), 0.0)))
        planned = float(sum(spend.get((p.code, y), 0.0) for y in years))
        b.formula(ws, r, T, f"=SUM({cell(r, Y0)}:{cell(r, T - 1)})", top(b.plain_money_bold), planned)
        # A negative is an overspend, which is bad: red.
        b.formula(ws, r, T + 1, f"={cell(budget_row[p.code], T)}-{cell(r, T)}", top(b.money),
                  sum(case.budget.get((p.code, y), 0.0) for y in years) - planned)
    last2 = first2 + len(case.pots) - 1
    b.no_signed_zero(ws, first2, T + 1, last2, T + 1)
    ws.add_table(head2, 0, last2, len(heads2) - 1, {
        "name": "PlannedSpend", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": heading(h), "header_format": b.header} for h in heads2]})
    b.row_height(ws, head2, [(heading(h), w) for h, w in zip(heads2, widths)], bold=True)
    define_name(book, "spend_grid", POOLED_BUDGET,
                f"${xl_col_to_name(Y0)}${first2 + 1}:${xl_col_to_name(T - 1)}${last2 + 1}")
    spend_keys = {k: v for k, v in spend.items() if k[0] in case.pot}
    r_all2 = totals(last2 + 2, first2, last2, spend_keys, ("pooled_spend_total", "retained_spend_total",
                                                           "spend_total"))
    spend_total = sheet_ref(POOLED_BUDGET, cell(r_all2, T, True))

    # Each pot's department, basis and rules in words, wrapped across the width of the grids above.
    top3 = r_all2 + 3
    ws.write_string(top3, 0, "Each pot's department, basis and rules in words", b.subtitle)
    head3 = top3 + 1
    header_cells(book, ws, head3, [heading("pot_code"), heading("pot_name"), "Department and basis"], widths[:3])
    ws.merge_range(head3, 2, head3, 3, "Department; basis", b.header)
    ws.merge_range(head3, 4, head3, len(heads) - 1, "Rules in words", b.header)
    rules_width = sum(widths[4:]) + 1.1 * (len(widths) - 5)
    for i, p in enumerate(case.pots):
        r = head3 + 1 + i
        b.text(ws, r, 0, p.code, b.top)
        b.text(ws, r, 1, p.name, b.wrap)
        dept = "; ".join(str(x) for x in (p.department, p.basis) if not is_blank(x) and str(x))
        ws.merge_range(r, 2, r, 3, "", b.wrap)
        b.text(ws, r, 2, dept, b.wrap)
        words = pot_rules_words(draft, p.code)
        ws.merge_range(r, 4, r, len(heads) - 1, "", b.wrap)
        b.text(ws, r, 4, words, b.wrap)
        b.row_height(ws, r, [(words, rules_width), (p.name, widths[1]), (dept, widths[2] + widths[3] + 1)])
    last3 = head3 + len(case.pots)

    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(head1 + 1, 2)
    print_setup(book, draft, ws, widths, None, print_area=(0, 0, last3, len(heads) - 1))
    return PooledBudgetAnchors(year_col=year_col, budget_row=budget_row, spend_row=spend_row,
                               pot_code_cell=pot_code_cell, match_rate_cell=match_rate_cell,
                               pool_total=pool_total, budget_total=budget_total, spend_total=spend_total)


def _pot_cells(book: Book, ws, r: int, p, pool, widths, name: bool = True) -> None:
    """A pot's code, name (wrapped, the row as tall as it needs; else its department) and status at
    the start of a grid row."""
    book.text(ws, r, 0, p.code, book.top)
    if name:
        book.text(ws, r, 1, p.name, book.wrap)
        book.row_height(ws, r, [(p.name, widths[1])])
    else:
        book.text(ws, r, 1, p.department, book.top)
    ws.write_string(r, 2, "pooled" if p.code in pool else "retained", book.top)


def pot_rules_words(draft: Draft, pot_code: str) -> str:
    """A pot's rules in words: geography, cohorts, spending window, carry-forward, match, the
    case's rules on it, and what pooling lets it fund."""
    case = draft.case
    p = case.pot[pot_code]
    parts = [f"Geography: {';'.join(p.geography)}. Cohorts: {';'.join(p.cohorts)}. "
             f"Money may be spent from {p.start:%d %b %Y} to {p.end:%d %b %Y}."]
    if p.carry_forward:
        parts.append(f"Unspent money may be carried forward {p.carry_forward} year(s).")
    else:
        parts.append("Use it or lose it: no carry-forward.")
    if p.match_rate > 0:
        parts.append(f"Each £1 needs £{p.match_rate:g} of match from pots that count as match in the same "
                     "area and year.")
    if p.can_match and p.match_rate == 0:
        parts.append("Its spend counts as match for other pots.")
    for rule in case.rules:
        if rule.pot_code in (pot_code, ALL):
            parts.append(f"Rule: {rule.describe()}.")
    if pot_code in draft.pool:
        parts.append("In the pool: may fund any area and cohort a pool member may fund, within its own years.")
    return " ".join(parts)
