"""*Settlement* (integrated-settlement form only): the settlement table as published, year by year.

For each year of the case, one table in the layout of the published settlements (Greater
Manchester's 2025-26 table): functional responsibility (the theme), fund, home department (as
it stood that year: a fund that changed hands shows both), allocation mechanism, revenue
(RDEL) and capital (CDEL) in £, and whether the fund is ring-fenced; a total per theme and
per year as formulas on the rows above.

Then the cross-theme limit: for each theme and year, the theme's money that is not
ring-fenced, the limit (``settlement_flex`` × that money, the share in one cell), the money
this plan moves to other themes (live: the Allocations rows marked as moves between themes)
and whether it is within the limit. The same limits are on the Checks sheet.

Reads no anchors (uses the names ``alloc_theme``, ``alloc_year``, ``alloc_across`` and
``alloc_amount``). Publishes none; defines ``settlement_flex``.
"""

from __future__ import annotations

from commissioning.analysis.agreement_layout import SETTLEMENT
from commissioning.analysis.settlement import settlement_table
from commissioning.case.settlement import theme_flex, theme_money, themes
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import define_name, header_cells, note_row, print_setup, worksheet
from commissioning.writers.style import Book, cell

HEADS = ["Functional responsibility", "Fund", "Home department", "Allocation mechanism", "RDEL (£)", "CDEL (£)",
         "Ring-fenced"]
WIDTHS = [24, 38, 20, 20, 15, 15, 11]
FLEX_HEADS = ["Theme", "Year", "Theme's money, not ring-fenced (£)", "Limit (£)", "Moved to other themes (£, live)",
              "Within the limit"]


def write_settlement(book: Book, draft: Draft) -> None:
    """Write the *Settlement* sheet."""
    b, case = book, draft.case
    ws = worksheet(book, SETTLEMENT)
    ws.write_string(0, 0, "Settlement: the integrated settlement's funds, as published, year by year", b.title)
    note_row(book, ws, 1, "One table a year in the published layout: each fund's functional responsibility (its "
             "theme), home department as it stood that year, allocation mechanism and revenue (RDEL) and capital "
             "(CDEL) money, from pots.csv, departments.csv and budgets.csv. Revenue never pays for capital, nor "
             "capital for revenue; a ring-fenced fund keeps its own conditions.", WIDTHS)
    table = settlement_table(case, draft.years)
    money = b.plain_money
    r = 3
    for y in draft.years:
        rows = table[table["year"] == y]
        if rows.empty:
            continue
        ws.write_string(r, 0, y, b.subtitle)
        header_cells(book, ws, r + 1, HEADS, WIDTHS)
        r += 2
        year_totals = []
        for t in [t for t in themes(case) if t in set(rows["theme"])]:
            mine = rows[rows["theme"] == t]
            first = r
            for x in mine.itertuples(index=False):
                b.text(ws, r, 0, x.theme, b.top)
                b.text(ws, r, 1, f"{x.fund} ({x.pot_code})", b.wrap)
                b.text(ws, r, 2, x.department, b.wrap)
                b.text(ws, r, 3, x.mechanism, b.top)
                b.number(ws, r, 4, x.rdel, b.plain_money_top)
                b.number(ws, r, 5, x.cdel, b.plain_money_top)
                ws.write_string(r, 6, "yes" if x.ring_fenced else "no", b.centre)
                b.row_height(ws, r, [(f"{x.fund} ({x.pot_code})", WIDTHS[1]), (x.department, WIDTHS[2])])
                r += 1
            ws.write_string(r, 0, f"Total: {t}", b.bold)
            for j, col in ((4, "rdel"), (5, "cdel")):
                b.formula(ws, r, j, f"=SUM({cell(first, j)}:{cell(r - 1, j)})", b.plain_money_bold,
                          float(mine[col].sum()))
            year_totals.append(r)
            r += 1
        ws.write_string(r, 0, f"Total {y}", b.total_label)
        for j, col in ((4, "rdel"), (5, "cdel")):
            b.formula(ws, r, j, "=" + "+".join(cell(t, j) for t in year_totals), b.plain_money_total,
                      float(rows[col].sum()))
        r += 2

    # The cross-theme limit, live.
    ws.write_string(r, 0, "The cross-theme limit", b.subtitle)
    r += 1
    ws.write_string(r, 0, "Share of a theme's money in a year that may move to another theme", b.label)
    b.number(ws, r, 3, theme_flex(case), b.share)
    define_name(book, "settlement_flex", SETTLEMENT, cell(r, 3, True))
    r += 1
    header_cells(book, ws, r, FLEX_HEADS, WIDTHS)
    r += 1
    money_of = theme_money(case, draft.pool)
    moved = draft.rows[draft.rows["across"]].groupby(["theme", "year"])["amount"].sum().to_dict()
    for t in themes(case):
        for y in draft.years:
            if (t, y) not in money_of:
                continue
            b.text(ws, r, 0, t, b.top)
            b.text(ws, r, 1, y)
            b.number(ws, r, 2, money_of[(t, y)], money)
            limit = theme_flex(case) * money_of[(t, y)]
            b.formula(ws, r, 3, f"=settlement_flex*{cell(r, 2)}", money, limit)
            done = float(moved.get((t, y), 0.0))
            b.formula(ws, r, 4, f'=SUMPRODUCT(EXACT(alloc_theme,{cell(r, 0)})*EXACT(alloc_year,{cell(r, 1)})'
                                f'*(alloc_across="yes"),alloc_amount)', money, done)
            b.formula(ws, r, 5, f"={cell(r, 4)}<={cell(r, 3)}+0.01", b.ok, done <= limit + 0.01)
            r += 1
    for j, w in enumerate(WIDTHS):
        ws.set_column(j, j, w)
    print_setup(book, draft, ws, WIDTHS, None)
