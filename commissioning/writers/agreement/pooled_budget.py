"""Sheet 3, *Pooled budget*: each pot's money by financial year, contributed to the pool or retained.

Shows two pot × year grids. The first holds the budgets (the constants every budget check
reads), each pot's department, basis, status (pooled or retained), carry-forward, match
rate and its rules in words, with totals for the pool, the retained pots and all pots. The
second holds the planned spend by pot and year, as formulas on the Allocations sheet, with
each pot's money left unspent over the term and the same three totals.

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
from commissioning.writers.agreement.layout import PooledBudgetAnchors, define_name, print_setup, worksheet
from commissioning.writers.style import Book, cell, col_range, sheet_ref


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
    Y0 = 5
    T = Y0 + n
    ws.write_string(0, 0, "Pooled budget: each pot's money by financial year, contributed to the pool or "
                    "retained outside it", b.title)
    ws.write_string(1, 0, "Budgets are the case's (the constants the budget checks read). Pooled pots may fund "
                    "any area and cohort a pool member may fund, within their own years, carry-forward and "
                    f"match; retained pots keep {rules_words(case.rules_changed)}.", b.note)
    head1 = 3
    heads = ["pot_code", "pot_name", "department", "basis", "status", *years, "total (£)", "carry_forward",
             "match_rate", "can_match", "rules in words"]
    first1 = head1 + 1
    for i, p in enumerate(case.pots):
        r = first1 + i
        budget_row[p.code] = r
        pot_code_cell[p.code] = sheet_ref(POOLED_BUDGET, cell(r, 0, True))
        match_rate_cell[p.code] = sheet_ref(POOLED_BUDGET, cell(r, T + 2, True))
        b.text(ws, r, 0, p.code)
        b.text(ws, r, 1, p.name)
        b.text(ws, r, 2, p.department)
        b.text(ws, r, 3, p.basis)
        ws.write_string(r, 4, "pooled" if p.code in pool else "retained")
        for j, y in enumerate(years):
            if p.in_life(y) or (p.code, y) in case.budget:
                b.number(ws, r, Y0 + j, case.budget.get((p.code, y), 0.0), b.money)
        total = sum(case.budget.get((p.code, y), 0.0) for y in years)
        b.formula(ws, r, T, f"=SUM({cell(r, Y0)}:{cell(r, T - 1)})", b.money_total, total)
        b.number(ws, r, T + 1, p.carry_forward, b.whole)
        b.number(ws, r, T + 2, p.match_rate, b.rate)
        ws.write_string(r, T + 3, "yes" if p.can_match else "no")
        b.text(ws, r, T + 4, pot_rules_words(draft, p.code), b.wrap)
    last1 = first1 + len(case.pots) - 1
    ws.add_table(head1, 0, last1, len(heads) - 1, {
        "name": "PooledBudget", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h} for h in heads]})
    for j, y in enumerate(years):
        year_col[y] = Y0 + j
    define_name(book, "budget_grid", POOLED_BUDGET,
                f"${xl_col_to_name(Y0)}${first1 + 1}:${xl_col_to_name(T - 1)}${last1 + 1}")
    status = col_range(4, first1, last1)

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
                b.formula(ws, r, c, f, b.money_total, float(sum(vals)))
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
    heads2 = ["pot_code", "pot_name", "department", "basis", "status", *years, "planned (£)",
              "unspent over the term (£)"]
    first2 = head2 + 1
    spend = rows.groupby(["pot_code", "year"])["amount"].sum().to_dict()
    for i, p in enumerate(case.pots):
        r = first2 + i
        spend_row[p.code] = r
        b.text(ws, r, 0, p.code)
        b.text(ws, r, 1, p.name)
        b.text(ws, r, 2, p.department)
        b.text(ws, r, 3, p.basis)
        ws.write_string(r, 4, "pooled" if p.code in pool else "retained")
        for j, y in enumerate(years):
            f = (f"=SUMPRODUCT(EXACT(alloc_pot,{cell(r, 0, True)})*EXACT(alloc_year,"
                 f"{cell(head1, Y0 + j, True)}),alloc_amount)")
            b.formula(ws, r, Y0 + j, f, b.money, float(spend.get((p.code, y), 0.0)))
        planned = float(sum(spend.get((p.code, y), 0.0) for y in years))
        b.formula(ws, r, T, f"=SUM({cell(r, Y0)}:{cell(r, T - 1)})", b.money_total, planned)
        b.formula(ws, r, T + 1, f"={cell(budget_row[p.code], T)}-{cell(r, T)}", b.money,
                  sum(case.budget.get((p.code, y), 0.0) for y in years) - planned)
    last2 = first2 + len(case.pots) - 1
    ws.add_table(head2, 0, last2, len(heads2) - 1, {
        "name": "PlannedSpend", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h} for h in heads2]})
    define_name(book, "spend_grid", POOLED_BUDGET,
                f"${xl_col_to_name(Y0)}${first2 + 1}:${xl_col_to_name(T - 1)}${last2 + 1}")
    spend_keys = {k: v for k, v in spend.items() if k[0] in case.pot}
    r_all2 = totals(last2 + 2, first2, last2, spend_keys, ("pooled_spend_total", "retained_spend_total",
                                                           "spend_total"))
    spend_total = sheet_ref(POOLED_BUDGET, cell(r_all2, T, True))

    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 38)
    ws.set_column(2, 4, 11)
    ws.set_column(Y0, T, 14)
    ws.set_column(T + 1, T + 3, 10)
    ws.set_column(T + 4, T + 4, 90)
    ws.freeze_panes(head1 + 1, 2)
    print_setup(book, ws, head1, POOLED_BUDGET, draft.fingerprint)
    return PooledBudgetAnchors(year_col=year_col, budget_row=budget_row, spend_row=spend_row,
                               pot_code_cell=pot_code_cell, match_rate_cell=match_rate_cell,
                               pool_total=pool_total, budget_total=budget_total, spend_total=spend_total)


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
