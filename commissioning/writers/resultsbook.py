"""``results.xlsx``: one optimisation run laid out for people.

Sheets:

* **Summary** — the three levels side by side (allocated, participants, outcomes, value,
  unmet people, idle money), the dividends between them as live formulas on those
  cells, and a column chart of outcomes by level;
* **Aligned by area**, **Pooled by area** — area × cohort pivots of £ allocated over all
  pots and years, with row, column and grand totals as live ``=SUM`` formulas;
* **Allocations** — ``allocations.csv`` (all three levels) as an Excel table with filters;
* with an explanation: **Flags** (the duplication, gap and idle-money register),
  **Asks** (the flexibilities worth asking for, best first) and **Binding rules** (the
  rules that hold the allocation back, with their shadow prices).

The Summary names what was run (``Case 'NAME'`` or ``Scenario 'X' on case 'NAME'``) and
heads the aligned level "today's rules" only when the scenario left them as they are
(:func:`commissioning.inputs.scenario.changes_rules`).

A writer lays out result objects: it computes nothing new (sums in a pivot are layout,
and each total is written as a formula with its cached value, so a viewer that does
not recalculate still shows the right figure). Text from inputs is always text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optimiser.levels import LEVELS, RunResult

from commissioning.writers.style import WHOLE_FORMAT, Book, cell
from commissioning.case.labels import rules_words, run_label

METRIC_ROWS = [
    ("allocated", "Allocated (£)", "money"),
    ("participants", "Participants", "people"),
    ("outcomes", "Outcomes", "people"),
    ("value", "Public value (£)", "money"),
    ("unmet_people", "Unmet need (people)", "people"),
    ("idle_amount", "Idle money (£)", "money"),
]
ALLOCATION_FORMATS = ("amount", "participants", "outcomes", "value", "unit_cost", "outcome_rate")


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
    try:
        _summary_sheet(book, run)
        for level, name in (("aligned", "Aligned by area"), ("pooled", "Pooled by area")):
            _by_area_sheet(book, run, level, name)
        _allocations_sheet(book, run)
        if explanation is not None:
            _frame_sheet(book, "Flags", getattr(explanation, "flags", None),
                         "Flags: duplication, gaps with their reasons, and idle money (map and optimise stages)",
                         {"people": book.people, "amount": book.money}, {"detail": 90, "reason": 16})
            _frame_sheet(book, "Asks", getattr(explanation, "asks", None),
                         "Asks: the flexibilities worth asking for, best first (each gain measured by solving again)",
                         {"rank": book.whole, "gain": book.people, "gain_outcomes": book.people,
                          "gain_participants": book.people, "gain_value": book.money, "gain_per_million": book.people},
                         {"detail": 90, "change": 16})
            _frame_sheet(book, "Binding rules", getattr(explanation, "binding", None),
                         "Binding rules: what holds the allocation back, and what one more £1m of room would buy",
                         {"dual": book.rate, "shadow_price_per_million": book.people},
                         {"description": 50, "words": 80})
    finally:
        book.close()


def _summary_sheet(book: Book, run: RunResult) -> None:
    ws = book.wb.add_worksheet("Summary")
    case = run.case
    ws.write_string(0, 0, "Results of one optimisation run", book.title)
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
        book.text(ws, row, 1, value)
        row += 1
    ws.write_string(row, 0, "Budget (£)", book.label)
    book.number(ws, row, 1, case.total_budget, book.money)
    ws.write_string(row + 1, 0, "Need (people)", book.label)
    book.number(ws, row + 1, 1, case.total_need, book.people)
    row += 3

    head = row
    ws.write_string(head, 0, "Measure", book.header)
    for j, level in enumerate(LEVELS):
        ws.write_string(head, 1 + j, level_words(run)[level], book.header)
    ws.write_string(head, 4, "alignment dividend (aligned − baseline)", book.header)
    ws.write_string(head, 5, "devolution dividend (pooled − aligned)", book.header)
    ws.set_row(head, 45)
    fmt = {"money": book.money, "people": book.people}
    for i, (key, label, kind) in enumerate(METRIC_ROWS):
        r = head + 1 + i
        ws.write_string(r, 0, label, book.bold)
        vals = [run.levels[level].totals[key] for level in LEVELS]
        for j, v in enumerate(vals):
            book.number(ws, r, 1 + j, v, fmt[kind])
        book.formula(ws, r, 4, f"={cell(r, 2)}-{cell(r, 1)}", fmt[kind], vals[1] - vals[0])
        book.formula(ws, r, 5, f"={cell(r, 3)}-{cell(r, 2)}", fmt[kind], vals[2] - vals[1])
    ws.write_string(head + len(METRIC_ROWS) + 1, 0,
                    "Dividends are live formulas on the level figures; the level figures are the engine's "
                    "(summary.json, allocations.csv).", book.note)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 5, 22)
    ws.freeze_panes(head + 1, 1)

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
    ws.insert_chart(head + len(METRIC_ROWS) + 3, 0, chart, {"x_scale": 1.4, "y_scale": 1.1})
    book.print_setup(ws, title="Results")


def _by_area_sheet(book: Book, run: RunResult, level: str, name: str) -> None:
    """Area × cohort pivot of £ over every pot and year, with live totals."""
    ws = book.wb.add_worksheet(name)
    case = run.case
    alloc = run.levels[level].allocations
    ws.write_string(0, 0, f"{level_words(run)[level].capitalize()}: £ allocated by area and cohort, all pots and years",
                    book.title)
    ws.write_string(1, 0, "Totals are live =SUM formulas over the grid.", book.note)
    grid = alloc.groupby(["area_code", "cohort_code"], sort=False)["amount"].sum()
    cohorts = list(case.cohort)
    head = 3
    ws.write_string(head, 0, "Area code", book.header)
    ws.write_string(head, 1, "Area", book.header)
    for j, c in enumerate(cohorts):
        book.text(ws, head, 2 + j, case.cohort[c].name, book.header)
    total_col = 2 + len(cohorts)
    ws.write_string(head, total_col, "Total (£)", book.header)
    ws.set_row(head, 60)
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
        book.formula(ws, tr, 2 + j, f"=SUM({cell(first, 2 + j)}:{cell(last, 2 + j)})", book.money_total, v)
    book.formula(ws, tr, total_col, f"=SUM({cell(first, total_col)}:{cell(last, total_col)})", book.money_total,
                 float(alloc["amount"].sum()))
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 24)
    ws.set_column(2, total_col, 15)
    ws.freeze_panes(head + 1, 2)
    book.print_setup(ws, header_rows=(head, head), title=name)


def _allocations_sheet(book: Book, run: RunResult) -> None:
    ws = book.wb.add_worksheet("Allocations")
    frame = run.allocations_frame()
    ws.write_string(0, 0, "Allocations (allocations.csv): one row per level, pot, area, cohort, year and programme",
                    book.title)
    ws.write_string(1, 0, "Filter with the header arrows. participants = amount ÷ unit_cost; "
                    "outcomes = participants × outcome_rate; value = outcomes × value per outcome.", book.note)
    formats = {"amount": book.pence, "participants": book.people, "outcomes": book.people, "value": book.money,
               "unit_cost": book.money, "outcome_rate": book.rate}
    head = 3
    book.frame_table(ws, head, frame, "Allocations", formats,
                     {"scenario": 22, "level": 9, "pot_code": 14, "area_code": 12, "cohort_code": 20, "year": 9,
                      "amount": 16, "programme": 14})
    ws.freeze_panes(head + 1, 0)
    book.print_setup(ws, header_rows=(head, head), title="Allocations")


def _frame_sheet(book: Book, name: str, frame: pd.DataFrame | None, title: str, formats: dict,
                 widths: dict) -> None:
    if frame is None:
        return
    ws = book.wb.add_worksheet(name)
    ws.write_string(0, 0, title, book.title)
    ws.write_string(1, 0, "Filter with the header arrows." if len(frame) else "Nothing to report.", book.note)
    head = 3
    fmts = {c: f for c, f in formats.items() if c in frame.columns}
    book.frame_table(ws, head, frame.reset_index(drop=True), name.replace(" ", "_"), fmts,
                     {c: widths.get(c, 14) for c in frame.columns})
    ws.freeze_panes(head + 1, 0)
    book.print_setup(ws, header_rows=(head, head), title=name)
