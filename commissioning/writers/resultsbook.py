"""``results.xlsx``: one optimisation run laid out for people.

Sheets:

* **Summary** — the three levels side by side (allocated, participants, outcomes, value,
  unmet people, idle money), the dividends between them as live formulas on those
  cells, and a column chart of outcomes by level;
* **Aligned by area**, **Pooled by area** — area × cohort pivots of £ allocated over all
  pots and years, with row, column and grand totals as live ``=SUM`` formulas;
* **Allocations** — ``allocations.csv`` (all three levels) as an Excel table with filters;
* with an explanation: **Flags** (the duplication, gap and idle-money register),
  **Asks** (the flexibilities worth asking for, best first), **Package** (the asks taken one at
  a time, each measured given those before), **Realism** (what each realism
  rule costs each level, ``realism.csv``; only when it was measured) and **Binding rules**
  (the rules that hold the allocation back, with their shadow prices);
* **Run record** — what produced the workbook (:mod:`commissioning.writers.record`).

Every sheet prints on A4 (:func:`commissioning.writers.printing.setup_print`). A table
longer than :data:`~commissioning.writers.printing.PRINT_ROWS_MAX` rows (for the example:
Allocations, Flags and Binding rules) is left out of the print area, and its sheet prints a
line saying so; it stays on screen as a filterable table and in its CSV. Headers are in
words ("Pot code"); the CSVs keep their column names. On the Summary the dividends are
coloured by meaning (green better, red worse, whatever the sign: less unmet need is
better) and people are shown whole (the stored figures stay exact).

The Summary names what was run (``Case 'NAME'`` or ``Scenario 'X' on case 'NAME'``) and
heads the aligned level "today's rules" only when the scenario left them as they are
(:func:`commissioning.inputs.scenario.changes_rules`).

A writer lays out result objects: it computes nothing new (sums in a pivot are layout,
and each total is written as a formula with its cached value, so a viewer that does
not recalculate still shows the right figure). Text from inputs is always text.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import pandas as pd

from optimiser.levels import LEVELS, RunResult

from commissioning.analysis.record import record_of_run
from commissioning.case.labels import rules_words, run_label
from commissioning.writers.printing import (LEGEND, PRINT_ROWS_MAX, Meaning, TopAligned, better_way, column_pixels,
                                            document_name, fitting_columns, grid_layout, heading, layout,
                                            out_of_print_note, page_titles, setup_print, text_height, wrapped_row)
from commissioning.writers.record import write_run_record
from commissioning.writers.style import MONEY_FORMAT, NOTE, TITLE, WHOLE_FORMAT, WRAP, Book, cell, is_blank

METRIC_ROWS = [
    ("allocated", "Allocated (£)", "money"),
    ("participants", "Participants", "people"),
    ("outcomes", "Outcomes", "people"),
    ("value", "Public value (£)", "money"),
    ("unmet_people", "Unmet need (people)", "people"),
    ("idle_amount", "Idle money (£)", "money"),
]
ALLOCATION_FORMATS = ("amount", "participants", "outcomes", "value", "unit_cost", "outcome_rate")
GRID_WIDTH = 10.5  # a pivot's cohort column: £99,999,999 fits


def _money_width(most: float, bold: bool = False) -> float:
    """A pivot column wide enough for ``most`` in £#,##0 (at least :data:`GRID_WIDTH`)."""
    return max(GRID_WIDTH, len(f"£{most:,.0f}") * (1.1 if bold else 1.0) - 0.5)
WRAPPED = ("detail", "words", "description")  # long text: wrapped, with row heights, when the table prints


class _Formats:
    """The formats this workbook adds to the house ones (:class:`~commissioning.writers.style.Book`)."""

    def __init__(self, book: Book):
        add = book.wb.add_format
        self.title = add({**TITLE, **WRAP})
        self.note = add({**NOTE, **WRAP})
        self.wrap = add(WRAP)
        self.meaning = Meaning(book.wb)
        self.top = TopAligned(book.wb)
        self.column_total = add({"num_format": MONEY_FORMAT, "top": 1})  # not bold: £99,999,999 fits its column


def level_words(run: RunResult) -> dict[str, str]:
    """Each level's heading; the aligned one keeps today's rules unless the scenario changed them."""
    return {
        "baseline": "baseline (today)",
        "aligned": f"aligned ({rules_words(run.case.rules_changed)}, coordinated)",
        "pooled": "pooled (local pool under an agreement)",
    }


def write_results_workbook(run: RunResult, path: Path, explanation=None) -> None:
    """Write ``results.xlsx`` for ``run``; ``explanation`` (optional) adds Flags, Asks, Binding rules."""
    book = Book(path)
    fmt = _Formats(book)
    name = document_name("Optimisation results", run.case.settings.name, run.case.scenario)
    try:
        _summary_sheet(book, fmt, run, name)
        for level, sheet in (("aligned", "Aligned by area"), ("pooled", "Pooled by area")):
            _by_area_sheet(book, fmt, run, level, sheet, name)
        _allocations_sheet(book, fmt, run, name)
        if run.case.valuation.valued:
            from commissioning.analysis.value import run_value_frame

            frame = run_value_frame(run)
            money = {c: book.money for c in ("fiscal", "economic", "social", "pv_benefits", "pv_costs", "npsv")}
            whole = frame[(frame["pot_code"] == "") & ((frame["year"] == "") | (frame["outcome"] == ""))]
            _frame_sheet(book, fmt, "Value for money", whole.drop(columns="pot_code"),
                         "Value for money: net additional outcomes by type over the term, and benefits, present "
                         "values, NPSV and BCR by level and year (every pot together; value.csv has each pot and "
                         "each outcome by year)",
                         money | {"gross_outcomes": book.whole, "net_outcomes": book.whole, "bcr": book.rate},
                         {"level": 10, "year": 9, "outcome": 26, "gross_outcomes": 10, "net_outcomes": 10,
                          "fiscal": 14, "economic": 14, "social": 13, "pv_benefits": 15, "pv_costs": 15, "npsv": 15,
                          "bcr": 8}, name, "value.csv")
        if explanation is not None:
            _frame_sheet(book, fmt, "Flags", getattr(explanation, "flags", None),
                         "Flags: duplication, gaps with their reasons, and idle money (map and optimise stages)",
                         {"people": book.people, "amount": book.money},
                         {"stage": 7, "level": 8, "kind": 10, "reason": 13, "pot_code": 12, "area_code": 10,
                          "cohort_code": 21, "year": 8, "people": 9, "amount": 11, "detail": 46}, name, "flags.csv")
            _frame_sheet(book, fmt, "Asks", getattr(explanation, "asks", None),
                         "Asks: the flexibilities worth asking for, best first (each gain measured by solving again)",
                         {"rank": book.whole, "gain": book.whole, "gain_outcomes": book.whole,
                          "gain_participants": book.whole, "gain_value": book.money, "gain_per_million": book.whole,
                          "estimated_gain": book.whole},
                         {"rank": 6, "pot_code": 12, "change": 12, "area_code": 11, "cohort_code": 21, "year": 9,
                          "gain_outcomes": 11, "gain_per_million": 10, "detail": 56, "estimated_gain": 11, "gain": 10,
                          "gain_participants": 12, "gain_value": 14, "measured_against": 9, "department": 12,
                          "group": 12, "ask": 56, "parts": 6, "assumption": 56, "warning": 48,
                          "loses_participants": 11, "loses_outcomes": 11, "receives_less": 48}, name, "asks.csv")
            package = getattr(explanation, "package", None)
            _frame_sheet(book, fmt, "Package", package.steps if package is not None and len(package.steps) else None,
                         "The package: the asks taken one at a time, each measured given those before it "
                         "(the gains in the package add up to its total)",
                         {c: book.whole for c in ("step", "rank", "parts", "alone_gain", "marginal_gain",
                                                  "cumulative_gain", "marginal_outcomes", "marginal_participants",
                                                  "overlap")} | {"marginal_value": book.money},
                         {"step": 6, "rank": 6, "pot_code": 12, "change": 12, "area_code": 11, "cohort_code": 18,
                          "year": 9, "measured_against": 9, "department": 12, "group": 12, "ask": 56, "parts": 6,
                          "alone_gain": 10, "marginal_gain": 10, "cumulative_gain": 10, "marginal_outcomes": 10,
                          "marginal_participants": 11, "marginal_value": 14, "overlap": 10, "warning": 48},
                         name, "package.csv")
            from commissioning.analysis.realism import realism_frame

            realism = realism_frame(explanation)
            _frame_sheet(book, fmt, "Realism", realism if len(realism) else None,
                         "The price of realism: what each rule costs, measured by solving again without it "
                         "(the costs overlap and do not add up)",
                         {"objective_with": book.people, "objective_without": book.people, "cost": book.people,
                          "cost_share": book.share},
                         {"rule": 16, "level": 8, "objective_with": 12, "objective_without": 12, "cost": 11,
                          "cost_share": 9, "note": 40}, name, "realism.csv")
            _frame_sheet(book, fmt, "Binding rules", getattr(explanation, "binding", None),
                         "Binding rules: what holds the allocation back, and what one more £1m of room would buy",
                         {"dual": book.rate, "shadow_price_per_million": book.people},
                         {"level": 8, "family": 12, "pot_code": 11, "area_code": 10, "cohort_code": 21, "year": 8,
                          "description": 24, "words": 34, "dual": 8, "shadow_price_per_million": 11, "unit": 9},
                         name, None)
        write_run_record(book.wb, record_of_run(run), book.title, book.label, footer=name)
    finally:
        book.close()


def _summary_sheet(book: Book, fmt: _Formats, run: RunResult, name: str) -> None:
    ws = book.wb.add_worksheet("Summary")
    case = run.case
    widths = [24.0, 16.0, 16.0, 16.0, 16.0, 16.0]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    wrapped_row(ws, 0, 0, 5, "Results of one optimisation run", fmt.title, widths, line=19)
    facts = [
        ("Run", run_label(case.settings.name, case.scenario)),
        ("Status", run.status if run.status == "optimal" else f"{run.status}: the best found within the time limit, NOT PROVEN OPTIMAL"),
        ("Solver", run.solver),
        ("Objective", run.objective),
        ("Case fingerprint", case.fingerprint()),
        ("Pool", ", ".join(p for p in case.pot if p in run.pool) or "none"),
    ]
    row = 2
    for label, value in facts:
        ws.write_string(row, 0, label, book.label)
        wrapped_row(ws, row, 1, 5, str(value), fmt.wrap, widths[1:])
        row += 1
    ws.write_string(row, 0, "Budget (£)", book.label)
    book.number(ws, row, 1, case.total_budget, book.money)
    ws.write_string(row + 1, 0, "Need (people)", book.label)
    book.number(ws, row + 1, 1, case.total_need, book.whole)
    row += 3

    head = row
    heads = ["Measure", *[level_words(run)[level] for level in LEVELS],
             "alignment dividend (aligned − baseline)", "devolution dividend (pooled − aligned)"]
    for j, h in enumerate(heads):
        ws.write_string(head, j, h, book.header)
    ws.set_row(head, text_height(list(zip(heads, widths)), bold=True))
    kinds = {"money": book.money, "people": book.whole}  # whole people: the stored figures stay exact
    deltas = {"money": fmt.meaning.money, "people": fmt.meaning.count}
    for i, (key, label, kind) in enumerate(METRIC_ROWS):
        r = head + 1 + i
        ws.write_string(r, 0, label, book.bold)
        vals = [run.levels[level].totals[key] for level in LEVELS]
        for j, v in enumerate(vals):
            book.number(ws, r, 1 + j, v, kinds[kind])
        book.formula(ws, r, 4, f"={cell(r, 2)}-{cell(r, 1)}", deltas[kind], vals[1] - vals[0])
        book.formula(ws, r, 5, f"={cell(r, 3)}-{cell(r, 2)}", deltas[kind], vals[2] - vals[1])
        fmt.meaning.colour(ws, r, 1, r, 3, None, money=kind == "money")  # float noise reads 0, never -0
        fmt.meaning.colour(ws, r, 4, r, 5, better_way(key), money=kind == "money")
    below = head + len(METRIC_ROWS) + 1
    wrapped_row(ws, below, 0, 5, "Dividends are live formulas on the level figures; the level figures are the "
                "engine's (summary.json, allocations.csv). People are shown whole; the cells hold the exact figures.",
                fmt.note, widths)
    wrapped_row(ws, below + 1, 0, 5, LEGEND, fmt.note, widths)
    ws.freeze_panes(head + 1, 1)
    if "settlement" in run.levels:  # a settlement case's fourth level, beside aligned
        top = below + 3
        ws.write_string(top, 0, "The integrated settlement", book.bold)
        cols = ["Measure", "settlement (the settlement's own rules)", "settlement dividend (settlement − aligned)"]
        for j, h in enumerate(cols):
            ws.write_string(top + 1, j, h, book.header)
        ws.set_row(top + 1, text_height(list(zip(cols, widths)), bold=True))
        for i, (key, label, kind) in enumerate(METRIC_ROWS):
            r = top + 2 + i
            ws.write_string(r, 0, label, book.bold)
            v = run.levels["settlement"].totals[key]
            book.number(ws, r, 1, v, kinds[kind])
            book.formula(ws, r, 2, f"={cell(r, 1)}-{cell(head + 1 + i, 2)}", deltas[kind],
                         v - run.levels["aligned"].totals[key])
            fmt.meaning.colour(ws, r, 2, r, 2, better_way(key), money=kind == "money")
        below = top + 2 + len(METRIC_ROWS)

    outcomes_row = head + 1 + [k for k, _, _ in METRIC_ROWS].index("outcomes")
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series({
        "name": "Outcomes",
        "categories": ["Summary", head, 1, head, 3],
        "values": ["Summary", outcomes_row, 1, outcomes_row, 3],
        "data_labels": {"value": True, "num_format": WHOLE_FORMAT},
    })
    chart.set_title({"name": "Outcomes by level"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": WHOLE_FORMAT, "name": "outcomes"})
    chart.set_size({"width": column_pixels(widths) - 10, "height": 320})
    ws.insert_chart(below + 3, 0, chart)
    setup_print(ws, name, repeat_rows=head, **layout(widths))


def _by_area_sheet(book: Book, fmt: _Formats, run: RunResult, level: str, sheet: str, name: str) -> None:
    """Area × cohort pivot of £ over every pot and year, with live totals."""
    ws = book.wb.add_worksheet(sheet)
    case = run.case
    alloc = run.levels[level].allocations
    grid = alloc.groupby(["area_code", "cohort_code"], sort=False)["amount"].sum()
    cohorts = list(case.cohort)
    area_width = float(min(26, max([10, *[len(a.name) + 1 for a in case.areas]])))
    totals = [float(sum(grid.get((a, c), 0.0) for a in case.area)) for c in cohorts]
    cohort_widths = [_money_width(t) for t in totals]
    widths = [9.5, area_width] + cohort_widths + [_money_width(float(alloc["amount"].sum()), bold=True)]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    header = text_height([(case.cohort[c].name, w) for c, w in zip(cohorts, cohort_widths)], bold=True)
    pages = grid_layout(widths[:2], [[w] for w in widths[2:]], 70 + header + 15 * (len(case.areas) + 1))
    pages.pop("first_page")
    title = f"{level_words(run)[level].capitalize()}: £ allocated by area and cohort, all pots and years"
    page_titles(ws, widths, 2, pages["v_breaks"], [
        (0, title, f"{level_words(run)[level].capitalize()}: £ allocated (continued)", fmt.title, 19),
        (1, "Totals are live =SUM formulas over the grid.", "", fmt.note, 15)])
    head = 3
    ws.write_string(head, 0, "Area code", book.header)
    ws.write_string(head, 1, "Area", book.header)
    for j, c in enumerate(cohorts):
        book.text(ws, head, 2 + j, case.cohort[c].name, book.header)
    total_col = 2 + len(cohorts)
    ws.write_string(head, total_col, "Total (£)", book.header)
    ws.set_row(head, header)
    first = head + 1
    for i, a in enumerate(case.areas):
        r = first + i
        book.text(ws, r, 0, a.code)
        book.text(ws, r, 1, a.name)
        row_total = 0.0
        for j, c in enumerate(cohorts):
            v = float(grid.get((a.code, c), 0.0))
            if v:
                book.number(ws, r, 2 + j, v, book.money)
                row_total += v
        book.formula(ws, r, total_col, f"=SUM({cell(r, 2)}:{cell(r, total_col - 1)})", book.money_total, row_total)
    last = first + len(case.areas) - 1
    tr = last + 1
    ws.write_string(tr, 0, "Total", book.total_label)
    ws.write_string(tr, 1, "", book.total_label)
    for j, c in enumerate(cohorts):
        v = float(sum(grid.get((a, c), 0.0) for a in case.area))
        book.formula(ws, tr, 2 + j, f"=SUM({cell(first, 2 + j)}:{cell(last, 2 + j)})", fmt.column_total, v)
    book.formula(ws, tr, total_col, f"=SUM({cell(first, total_col)}:{cell(last, total_col)})", book.money_total,
                 float(alloc["amount"].sum()))
    ws.freeze_panes(head + 1, 2)
    setup_print(ws, name, repeat_rows=(0, head) if pages["v_breaks"] else head, repeat_cols=(0, 1), **pages)


def _table(book: Book, fmt: _Formats, ws, head: int, frame: pd.DataFrame, table: str, formats: dict,
           widths: dict[str, float], printed: bool) -> list[float]:
    """``frame`` as a filterable table with headers in words; long text wrapped when it prints. Returns the widths."""
    cols = list(frame.columns)
    heads = [heading(c) for c in cols]
    book.frame_table(ws, head, frame, table, formats, widths, headers=heads)
    col_widths = [float(widths.get(c, 14)) for c in cols]
    for j, h in enumerate(heads):  # the header row wrapped (frame_table writes it plain)
        ws.write_string(head, j, h, book.header)
    ws.set_row(head, text_height(list(zip(heads, col_widths)), bold=True))
    if printed:
        # Printed: every cell top-aligned and its text wrapped, each row as tall as its text.
        for j, c in enumerate(cols):
            top = fmt.top(formats.get(c)) if c in formats else fmt.top.wrap
            for i, v in enumerate(frame[c].tolist()):
                if is_blank(v):
                    continue
                if c in formats and isinstance(v, numbers.Real) and not isinstance(v, bool):
                    ws.write_number(head + 1 + i, j, float(v), top)
                else:
                    ws.write_string(head + 1 + i, j, str(v), top)
        for i, rec in enumerate(frame.itertuples(index=False, name=None)):
            cells = [(str(v), col_widths[j]) for j, (c, v) in enumerate(zip(cols, rec))
                     if c not in formats and not is_blank(v) and str(v)]
            if cells:
                ws.set_row(head + 1 + i, text_height(cells))
    return col_widths


def _allocations_sheet(book: Book, fmt: _Formats, run: RunResult, name: str) -> None:
    _table_sheet(book, fmt, "Allocations", run.allocations_frame(), "Allocations",
                 "Allocations (allocations.csv): one row per level, pot, area, cohort, year and programme",
                 "Filter with the header arrows. Participants = amount ÷ unit cost; outcomes = participants × "
                 "outcome rate; value = outcomes × value per outcome.",
                 {"amount": book.pence, "participants": book.people, "outcomes": book.people, "value": book.money,
                  "unit_cost": book.money, "outcome_rate": book.rate},
                 {"scenario": 16, "level": 8, "pot_code": 12, "area_code": 10, "cohort_code": 21, "year": 8,
                  "amount": 14, "participants": 11, "outcomes": 10, "value": 13, "programme": 12, "unit_cost": 10,
                  "outcome_rate": 8}, name, "allocations.csv")


def _frame_sheet(book: Book, fmt: _Formats, sheet: str, frame: pd.DataFrame | None, title: str, formats: dict,
                 widths: dict, name: str, csv_name: str | None) -> None:
    if frame is None:
        return
    frame = frame.reset_index(drop=True)
    note = "Filter with the header arrows." if len(frame) else "Nothing to report."
    _table_sheet(book, fmt, sheet, frame, sheet.replace(" ", "_"), title, note,
                 {c: f for c, f in formats.items() if c in frame.columns}, widths, name, csv_name)


def _table_sheet(book: Book, fmt: _Formats, sheet: str, frame: pd.DataFrame, table: str, title: str, note: str,
                 formats: dict, widths: dict, name: str, csv_name: str | None) -> None:
    """A sheet of one filterable table under its title and note, set up to print.

    The table prints when it has at most :data:`PRINT_ROWS_MAX` rows, with as many of its
    leading columns as fit a landscape page legibly (the note names those left out); longer,
    only the title, the note and the header row print, and the note says why.
    """
    ws = book.wb.add_worksheet(sheet)
    cols = list(frame.columns)
    col_widths = [float(widths.get(c, 14)) for c in cols]
    printed = len(frame) <= PRINT_ROWS_MAX
    shown = fitting_columns(col_widths) if cols else 1
    notes = [note]
    if printed and shown < len(cols):
        notes.append(f"Printed without {', '.join(heading(c) for c in cols[shown:])} (on screen"
                     + (f", and in {csv_name})." if csv_name else ")."))
    if not printed:
        notes.append(out_of_print_note(len(frame), csv_name))
    span = col_widths[:shown] or [14.0]
    wrapped_row(ws, 0, 0, len(span) - 1, title, fmt.title, span, line=19)
    wrapped_row(ws, 1, 0, len(span) - 1, " ".join(notes), fmt.note, span)
    head = 3
    _table(book, fmt, ws, head, frame, table, formats, widths, printed)
    ws.freeze_panes(head + 1, 0)
    last = head + max(len(frame), 1) if printed else head
    setup_print(ws, name, repeat_rows=head, print_area=(0, 0, last, len(span) - 1), **layout(span))
