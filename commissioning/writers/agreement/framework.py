"""*Outcomes framework* (integrated-settlement form only): outcomes, indicators and targets by theme.

An integrated settlement carries an outcomes framework: for each spending theme, the outcomes
it is for, the indicators that measure them and a target for each year. Here, for each theme
and each cohort its money funds (today or in this plan), two indicators — participants
starting, and participants achieving the cohort's headline outcome — with, for each year of
the settlement (a year in which its themes have money),
today's figure (the engine's baseline: today's provision) and this plan's target, live from
the Allocations sheet (counted by the theme whose money pays), then the term's totals and the
change. A total per theme and indicator sums its cohorts.

Reads no anchors (uses the names ``alloc_theme``, ``alloc_cohort``, ``alloc_year``,
``alloc_participants`` and ``alloc_outcomes``). Publishes none.
"""

from __future__ import annotations

from commissioning.analysis.agreement_layout import FRAMEWORK
from commissioning.analysis.settlement import framework
from commissioning.case.settlement import theme_money, themes
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import note_row, print_setup, worksheet
from commissioning.writers.style import Book, cell

INDICATOR_WORDS = {"participants": "Participants starting", "outcomes": "Achieving the outcome"}


def write_framework(book: Book, draft: Draft) -> None:
    """Write the *Outcomes framework* sheet."""
    b, case, inputs = book, draft.case, draft.inputs
    ws = worksheet(book, FRAMEWORK)
    money = theme_money(case, draft.pool)
    years = [y for y in draft.years if any((t, y) in money for t in themes(case))]  # the settlement's years
    widths = [20, 36, 20, 12] + [10, 10] * len(years) + [11, 11, 10]
    ws.write_string(0, 0, "Outcomes framework: outcomes, indicators and yearly targets by theme", b.title)
    note_row(book, ws, 1, "Per theme and cohort: the outcome, two indicators and, each year, today's figure (the "
             "baseline, from provision.csv) beside this plan's target (live from the Allocations sheet, counted by "
             "the theme whose money pays). Whole people shown; the cells keep the exact figures.", widths)
    base = inputs.baseline if inputs.baseline is not None else draft.rows.iloc[:0]
    frame = framework(case, base, draft.rows, years)
    h1, h2 = 3, 4
    for j, w in enumerate(["Theme", "Outcome (cohort)", "Indicator", "Cohort code"]):
        ws.merge_range(h1, j, h2, j, w, b.header)
    for k, y in enumerate(years):
        c0 = 4 + 2 * k
        ws.merge_range(h1, c0, h1, c0 + 1, y, b.header)
        ws.write_string(h2, c0, "Today", b.header)
        ws.write_string(h2, c0 + 1, "Target", b.header)
    end = 4 + 2 * len(years)
    for j, w in enumerate(["Term, today", "Term, target", "Change"]):
        ws.merge_range(h1, end + j, h2, end + j, w, b.header)
    people = b.whole_people_top
    r = h2 + 1
    for t in themes(case):
        mine = frame[frame["theme"] == t]
        if mine.empty:
            continue
        for ind in ("participants", "outcomes"):
            rows_ind = mine[mine["indicator"] == ind]
            first = r
            for c in dict.fromkeys(rows_ind["cohort_code"]):
                cohort = case.cohort[c]
                words = f"{cohort.outcome or 'outcome'} ({cohort.name})"
                b.text(ws, r, 0, t, b.top)
                b.text(ws, r, 1, words, b.wrap)
                b.text(ws, r, 2, INDICATOR_WORDS[ind], b.top)
                b.text(ws, r, 3, c, b.top)
                b.row_height(ws, r, [(words, widths[1])])
                vals = rows_ind[rows_ind["cohort_code"] == c].set_index("year")
                for k, y in enumerate(years):
                    c0 = 4 + 2 * k
                    b.number(ws, r, c0, float(vals.loc[y, "baseline"]) if y in vals.index else 0.0, people)
                    f = (f"=SUMPRODUCT(EXACT(alloc_theme,{cell(r, 0)})*EXACT(alloc_cohort,{cell(r, 3)})"
                         f"*EXACT(alloc_year,{cell(h1, c0, True)}),alloc_{ind})")
                    b.formula(ws, r, c0 + 1, f, people, float(vals.loc[y, "target"]) if y in vals.index else 0.0)
                today = "+".join(cell(r, 4 + 2 * k) for k in range(len(years)))
                target = "+".join(cell(r, 5 + 2 * k) for k in range(len(years)))
                b.formula(ws, r, end, f"={today}", people, float(vals["baseline"].sum()))
                b.formula(ws, r, end + 1, f"={target}", people, float(vals["target"].sum()))
                b.formula(ws, r, end + 2, f"={cell(r, end + 1)}-{cell(r, end)}", b.delta_people_top,
                          float(vals["target"].sum() - vals["baseline"].sum()))
                r += 1
            ws.write_string(r, 0, f"Total: {t}", b.total_label)
            ws.write_string(r, 1, "", b.total_label)
            ws.write_string(r, 2, INDICATOR_WORDS[ind], b.total_label)
            ws.write_string(r, 3, "", b.total_label)
            sums = rows_ind.groupby("year")[["baseline", "target"]].sum()
            for k, y in enumerate(years):
                for dj, col in ((0, "baseline"), (1, "target")):
                    j = 4 + 2 * k + dj
                    b.formula(ws, r, j, f"=SUM({cell(first, j)}:{cell(r - 1, j)})", b.whole_people_total,
                              float(sums.loc[y, col]) if y in sums.index else 0.0)
            for dj, col in ((0, "baseline"), (1, "target")):
                b.formula(ws, r, end + dj, f"=SUM({cell(first, end + dj)}:{cell(r - 1, end + dj)})",
                          b.whole_people_total, float(rows_ind[col].sum()))
            b.formula(ws, r, end + 2, f"={cell(r, end + 1)}-{cell(r, end)}", b.delta_people,
                      float(rows_ind["target"].sum() - rows_ind["baseline"].sum()))
            r += 2
    b.no_signed_zero(ws, h2 + 1, 4, max(r, h2 + 1), end + 1)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(h2 + 1, 2)
    print_setup(book, draft, ws, widths, h2, landscape=True)
