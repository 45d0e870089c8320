"""Sheet 5, *Outcomes and targets*: what the agreement commits to, by area and year.

Shows three area × year grids — participants, outcomes (each cohort's headline outcome) and
public value — and outcomes by cohort and year, every figure a formula on the Allocations
sheet with row and column totals, people shown as whole people and money in whole pounds.

Reads no anchors (uses the names ``alloc_area``, ``alloc_cohort``, ``alloc_year``,
``alloc_participants``, ``alloc_outcomes``, ``alloc_value``). Publishes none; defines the
names ``target_participants``, ``target_outcomes`` and ``target_value`` (the grand totals),
read by the reconciliation checks.
"""

from __future__ import annotations

from commissioning.analysis.agreement_layout import OUTCOMES
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import define_name, header_cells, print_setup, worksheet
from commissioning.writers.style import Book, cell


def write_outcomes(book: Book, draft: Draft) -> None:
    """Write the *Outcomes and targets* sheet."""
    b, case, rows = book, draft.case, draft.rows
    ws = worksheet(book, OUTCOMES)
    years = draft.years
    widths = [20, 36, *([13] * len(years)), 15]
    top = b.top_formats()
    ws.write_string(0, 0, "Outcomes and targets: what the agreement commits to, by area and year", b.title)
    note = ("Every figure is a formula on the Allocations sheet: edit an amount there and these follow. Outcomes "
            "are each cohort's headline outcome (see Assumptions and evidence). People are shown as whole people "
            "and money in whole pounds; the cells keep the exact figures.")
    ws.merge_range(1, 0, 1, len(widths) - 1, "", b.wrap_note)
    ws.write_string(1, 0, note, b.wrap_note)
    b.row_height(ws, 1, [(note, sum(widths))])
    r = 3
    people, money = b.whole_people, b.plain_money
    grids = (("participants", "Participants (people supported)", people, b.whole_people_total, "target_participants"),
             ("outcomes", "Outcomes (people achieving their cohort's outcome)", people, b.whole_people_total,
              "target_outcomes"),
             ("value", "Public value (£)", money, b.plain_money_total, "target_value"))
    bold_of = {"participants": b.whole_people_bold, "outcomes": b.whole_people_bold, "value": b.plain_money_bold}
    by_area = {c: rows.groupby(["area_code", "year"])[c].sum().to_dict() for c in ("participants", "outcomes", "value")}
    for col, title, fmt, tfmt, name in grids:
        ws.write_string(r, 0, title, b.subtitle)
        head = r + 1
        header_cells(book, ws, head, ["Area code", "Area", *years, "Total"], widths)
        first = head + 1
        for i, a in enumerate(case.areas):
            rr = first + i
            b.text(ws, rr, 0, a.code)
            b.text(ws, rr, 1, a.name)
            for j, y in enumerate(years):
                f = (f"=SUMPRODUCT(EXACT(alloc_area,{cell(rr, 0, True)})*EXACT(alloc_year,"
                     f"{cell(head, 2 + j, True)}),alloc_{col})")
                b.formula(ws, rr, 2 + j, f, fmt, float(by_area[col].get((a.code, y), 0.0)))
            b.formula(ws, rr, 2 + len(years), f"=SUM({cell(rr, 2)}:{cell(rr, 1 + len(years))})", bold_of[col],
                      float(sum(by_area[col].get((a.code, y), 0.0) for y in years)))
        last = first + len(case.areas) - 1
        tr = last + 1
        ws.write_string(tr, 0, "Total", b.total_label)
        ws.write_string(tr, 1, "", b.total_label)
        for j in range(len(years) + 1):
            yr = years[j] if j < len(years) else None
            cached = float(sum(v for (a, y), v in by_area[col].items() if a in case.area and (yr is None or y == yr)))
            b.formula(ws, tr, 2 + j, f"=SUM({cell(first, 2 + j)}:{cell(last, 2 + j)})", tfmt, cached)
        b.no_signed_zero(ws, first, 2, tr, 2 + len(years))
        define_name(book, name, OUTCOMES, cell(tr, 2 + len(years), True))
        r = tr + 3

    ws.write_string(r, 0, "Outcomes by cohort and year", b.subtitle)
    head = r + 1
    header_cells(book, ws, head, ["Cohort code", "Cohort: its outcome", *years, "Total"], widths)
    by_cohort = rows.groupby(["cohort_code", "year"])["outcomes"].sum().to_dict()
    first = head + 1
    for i, c in enumerate(case.cohorts):
        rr = first + i
        b.text(ws, rr, 0, c.code, b.top)
        words = f"{c.name}: {c.outcome}" if c.outcome else c.name
        b.text(ws, rr, 1, words, b.wrap)
        b.row_height(ws, rr, [(words, widths[1]), (c.code, widths[0])])
        for j, y in enumerate(years):
            f = (f"=SUMPRODUCT(EXACT(alloc_cohort,{cell(rr, 0, True)})*EXACT(alloc_year,"
                 f"{cell(head, 2 + j, True)}),alloc_outcomes)")
            b.formula(ws, rr, 2 + j, f, top(people), float(by_cohort.get((c.code, y), 0.0)))
        b.formula(ws, rr, 2 + len(years), f"=SUM({cell(rr, 2)}:{cell(rr, 1 + len(years))})", top(b.whole_people_bold),
                  float(sum(by_cohort.get((c.code, y), 0.0) for y in years)))
    last = first + len(case.cohorts) - 1
    tr = last + 1
    ws.write_string(tr, 0, "Total", b.total_label)
    ws.write_string(tr, 1, "", b.total_label)
    for j in range(len(years) + 1):
        yr = years[j] if j < len(years) else None
        cached = float(sum(v for (c, y), v in by_cohort.items() if c in case.cohort and (yr is None or y == yr)))
        b.formula(ws, tr, 2 + j, f"=SUM({cell(first, 2 + j)}:{cell(last, 2 + j)})", b.whole_people_total, cached)
    b.no_signed_zero(ws, first, 2, tr, 2 + len(years))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 2)
    print_setup(book, draft, ws, widths, None)
