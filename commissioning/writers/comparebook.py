"""``comparison.xlsx``: the scenarios side by side, for a board and for finance.

Sheets:

* **Board summary** — the figures a board asks about (outcomes at each level, people
  reached, need unmet, money idle, the dividends), one column per scenario, then the
  change against the first scenario; every cell a live formula reading *Comparison*; and
  a chart of outcomes by level per scenario.
* **Comparison** — ``comparison.csv`` as it is, then the same columns as changes against
  the first scenario (live formulas).
* **Allocation differences** — the pooled allocation by pot and area for each scenario,
  and each scenario's difference from the first (live formulas, with totals).
* **Aligned differences** — the same for the aligned allocation.
* **Scenarios** — each scenario's file, purpose, status, pool and rules ("today's rules",
  or "the scenario's rules" when it changes them: :func:`commissioning.inputs.scenario.changes_rules`);
  the board's aligned rows are "under today's rules" only when no scenario compared changes them.

Writers lay out results; nothing here computes a figure that the workbook does not show
as a formula. Formulas carry their computed value too, so a viewer that does not
recalculate still shows the numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from optimiser.levels import LEVELS

from commissioning.analysis.compare import (COMPARISON_COLUMNS, EXTRA_COLUMNS, ScenarioRun, allocation_by_pot_area,
                                            allocations_frame, comparison_frame, comparison_record, comparison_rows)
from commissioning.writers.files import new_workbook, write_frame_csv, write_json
from commissioning.writers.style import BOLD, TITLE, WHOLE_FORMAT
from commissioning.case.labels import rules_words

COMPARISON_SHEET = "Comparison"
BOARD_MEASURES = [  # (label, comparison column, kind); {rules} from _rules_in_words
    ("Outcomes today (baseline)", "baseline_outcomes", "count"),
    ("Outcomes under {rules}, coordinated (aligned)", "aligned_outcomes", "count"),
    ("Outcomes with the pool (pooled)", "pooled_outcomes", "count"),
    ("People reached (pooled)", "pooled_participants", "count"),
    ("Need unmet, people (pooled)", "pooled_unmet_people", "count"),
    ("Value of outcomes (pooled)", "pooled_value", "money"),
    ("Money idle under {rules} (aligned)", "aligned_idle_amount", "money"),
    ("Alignment dividend, outcomes (aligned − baseline)", "alignment_outcomes", "count"),
    ("Devolution dividend, outcomes (pooled − aligned)", "devolution_outcomes", "count"),
    ("Budget", "budget", "money"),
    ("Need, people", "need_people", "count"),
]
TEXT_COLUMNS = {"scenario", *EXTRA_COLUMNS}


def _rules_of(run: ScenarioRun) -> str:
    """The rules a scenario's aligned level kept, in words ('' when it has no figures)."""
    return rules_words(bool(run.summary.get("rules_changed"))) if run.solved else ""


def _rules_in_words(runs: list[ScenarioRun]) -> str:
    """The rules the board's aligned rows are under: today's when no scenario compared changes them."""
    if all(_rules_of(r) in ("", rules_words(False)) for r in runs):
        return rules_words(False)
    return "each scenario's own rules"


def _kind(column: str) -> str:
    return "money" if column.endswith(("allocated", "value", "idle_amount")) or column == "budget" else "count"


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and v != v) else float(v)


def write_comparison_workbook(runs: list[ScenarioRun], case, path: Path) -> None:
    """Write comparison.xlsx (the sheets in the module docstring) to ``path``."""
    wb = new_workbook(path)
    f = {
        "title": wb.add_format(TITLE),
        "note": wb.add_format({"italic": True, "font_color": "#555555"}),
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                               "valign": "top"}),
        "money": wb.add_format({"num_format": "£#,##0"}),
        "count": wb.add_format({"num_format": WHOLE_FORMAT}),
        "dmoney": wb.add_format({"num_format": "+£#,##0;-£#,##0;0"}),
        "dcount": wb.add_format({"num_format": "+#,##0;-#,##0;0"}),
        "bold": wb.add_format(BOLD),
        "tmoney": wb.add_format({"num_format": "£#,##0", "bold": True, "top": 1}),
        "tdmoney": wb.add_format({"num_format": "+£#,##0;-£#,##0;0", "bold": True, "top": 1}),
    }
    rows = comparison_rows(runs)
    board = wb.add_worksheet("Board summary")
    comp = wb.add_worksheet(COMPARISON_SHEET)
    cells = _comparison_sheet(comp, rows, f)
    _board_sheet(wb, board, rows, cells, case, f, _rules_in_words(runs))
    _differences_sheet(wb.add_worksheet("Allocation differences"), runs, "pooled", case, f)
    _differences_sheet(wb.add_worksheet("Aligned differences"), runs, "aligned", case, f)
    _scenarios_sheet(wb.add_worksheet("Scenarios"), [dict(row, rules=_rules_of(r)) for row, r in zip(rows, runs)], f)
    wb.close()


def _comparison_sheet(ws, rows: list[dict], f) -> dict[tuple[int, str], str]:
    """The csv's figures, then the changes against the first scenario; returns each figure's cell."""
    columns = COMPARISON_COLUMNS + EXTRA_COLUMNS
    n = len(rows)
    cells: dict[tuple[int, str], str] = {}
    for j, col in enumerate(columns):
        ws.write_string(0, j, col, f["head"])
    for i, row in enumerate(rows):
        for j, col in enumerate(columns):
            v = row[col]
            cells[(i, col)] = f"'{COMPARISON_SHEET}'!{xl_rowcol_to_cell(i + 1, j, row_abs=True, col_abs=True)}"
            if col in TEXT_COLUMNS:
                if v is not None:
                    ws.write_string(i + 1, j, str(v))
            elif _num(v) is not None:
                ws.write_number(i + 1, j, _num(v), f[_kind(col)])
    top = n + 2
    ref_name = rows[0]["scenario"] if rows else ""
    ws.write_string(top, 0, f"Change against '{ref_name}' (the first scenario)", f["bold"])
    for j, col in enumerate(COMPARISON_COLUMNS):
        ws.write_string(top + 1, j, col if j else "scenario", f["head"])
    for i, row in enumerate(rows):
        r = top + 2 + i
        ws.write_formula(r, 0, f"={xl_rowcol_to_cell(i + 1, 0)}", None, row["scenario"])
        for j, col in enumerate(COMPARISON_COLUMNS[1:], start=1):
            this = xl_rowcol_to_cell(i + 1, j)
            first = xl_rowcol_to_cell(1, j, row_abs=True)
            a, b = _num(row[col]), _num(rows[0][col])
            value = "" if a is None or b is None else a - b
            ws.write_formula(r, j, f'=IF(OR({this}="",{first}=""),"",{this}-{first})',
                             f["d" + _kind(col)], value)
    ws.freeze_panes(1, 1)
    ws.set_column(0, 0, 28)
    ws.set_column(1, len(COMPARISON_COLUMNS) - 1, 15)
    ws.set_column(len(COMPARISON_COLUMNS), len(columns) - 1, 24)
    return cells


def _board_sheet(wb, ws, rows: list[dict], cells: dict, case, f, rules: str) -> None:
    n = len(rows)
    ws.write_string(0, 0, f"What changes if — {case.settings.name}", f["title"])
    ref = rows[0]["scenario"] if rows else ""
    ws.write_string(1, 0, f"One column per scenario; the lower block is the change against '{ref}'. "
                          "Every figure reads the Comparison sheet.", f["note"])
    ws.write_string(3, 0, "measure", f["head"])
    for i, row in enumerate(rows):
        ws.write_string(3, 1 + i, row["scenario"], f["head"])
    for k, (label, col, kind) in enumerate(BOARD_MEASURES):
        ws.write_string(4 + k, 0, label.format(rules=rules))
        for i, row in enumerate(rows):
            v = _num(row[col])
            src = cells[(i, col)]
            ws.write_formula(4 + k, 1 + i, f'=IF({src}="","",{src})', f[kind], "" if v is None else v)
    top = 4 + len(BOARD_MEASURES) + 1
    ws.write_string(top, 0, f"Change against '{ref}'", f["head"])
    for i, row in enumerate(rows):
        ws.write_string(top, 1 + i, row["scenario"], f["head"])
    for k, (label, col, kind) in enumerate(BOARD_MEASURES):
        r = top + 1 + k
        ws.write_string(r, 0, label.format(rules=rules))
        for i, row in enumerate(rows):
            this = xl_rowcol_to_cell(4 + k, 1 + i)
            first = xl_rowcol_to_cell(4 + k, 1, col_abs=True)
            a, b = _num(row[col]), _num(rows[0][col])
            ws.write_formula(r, 1 + i, f'=IF(OR({this}="",{first}=""),"",{this}-{first})', f["d" + kind],
                             "" if a is None or b is None else a - b)
    ws.set_column(0, 0, 52)
    ws.set_column(1, max(1, n), 18)
    ws.freeze_panes(4, 1)
    if n:
        chart = wb.add_chart({"type": "column"})
        for level in LEVELS:
            j = COMPARISON_COLUMNS.index(f"{level}_outcomes")
            chart.add_series({
                "name": level,
                "categories": [COMPARISON_SHEET, 1, 0, n, 0],
                "values": [COMPARISON_SHEET, 1, j, n, j],
            })
        chart.set_title({"name": "Outcomes by level, per scenario"})
        chart.set_y_axis({"name": "outcomes", "num_format": WHOLE_FORMAT})
        chart.set_size({"width": 760, "height": 380})
        ws.insert_chart(top + len(BOARD_MEASURES) + 3, 0, chart)


def _differences_sheet(ws, runs: list[ScenarioRun], level: str, case, f) -> None:
    table = allocation_by_pot_area(runs, level, case)
    names = [r.name for r in runs]
    ref = names[0] if names else ""
    ws.write_string(0, 0, f"The {level} allocation by pot and area (£, all cohorts and years)", f["title"])
    ws.write_string(1, 0, f"Left: each scenario's money. Right: the difference from '{ref}' (live formulas).",
                    f["note"])
    fixed = ["pot_code", "pot_name", "area_code", "area_name"]
    head = 3
    for j, h in enumerate(fixed + names + [f"Δ {n}" for n in names[1:]]):
        ws.write_string(head, j, h, f["head"])
    amount0 = len(fixed)
    delta0 = amount0 + len(names)
    first_row = head + 1
    for i, rec in enumerate(table.itertuples(index=False)):
        r = first_row + i
        pot, area = rec[0], rec[1]
        ws.write_string(r, 0, pot)
        ws.write_string(r, 1, case.pot[pot].name if pot in case.pot else "")
        ws.write_string(r, 2, area)
        ws.write_string(r, 3, case.area[area].name if area in case.area else "")
        amounts = list(rec[2:])
        for k, v in enumerate(amounts):
            if _num(v) is not None:
                ws.write_number(r, amount0 + k, _num(v), f["money"])
        for k in range(1, len(names)):
            this = xl_rowcol_to_cell(r, amount0 + k)
            first = xl_rowcol_to_cell(r, amount0, col_abs=True)
            a, b = _num(amounts[k]), _num(amounts[0])
            ws.write_formula(r, delta0 + k - 1, f'=IF(OR({this}="",{first}=""),"",{this}-{first})', f["dmoney"],
                             "" if a is None or b is None else a - b)
    last = first_row + len(table) - 1
    total = last + 1
    ws.write_string(total, 0, "total", f["bold"])
    for k in range(len(names) + max(0, len(names) - 1)):
        j = amount0 + k
        col = xl_col_to_name(j)
        values = table.iloc[:, 2 + k] if k < len(names) else None
        if values is not None:
            cached = float(values.fillna(0).sum()) if len(table) else 0.0
        else:
            d = k - len(names) + 1
            cached = float((table.iloc[:, 2 + d].fillna(0) - table.iloc[:, 2].fillna(0)).sum()) if len(table) else 0.0
        fmt = f["tmoney"] if k < len(names) else f["tdmoney"]
        if len(table):
            ws.write_formula(total, j, f"=SUM({col}{first_row + 1}:{col}{last + 1})", fmt, cached)
        else:
            ws.write_number(total, j, 0.0, fmt)
    ws.freeze_panes(head + 1, 4)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 11)
    ws.set_column(3, 3, 12)
    ws.set_column(amount0, delta0 + len(names), 16)
    if len(table):
        ws.autofilter(head, 0, last, delta0 + len(names) - 2 if len(names) > 1 else delta0 - 1)


def _scenarios_sheet(ws, rows: list[dict], f) -> None:
    cols = ["scenario", "file", "description", "status", "objective", "solver", "pool", "rules", "detail"]
    widths = [24, 28, 70, 11, 11, 8, 60, 22, 60]
    for j, (c, w) in enumerate(zip(cols, widths)):
        ws.write_string(0, j, c, f["head"])
        ws.set_column(j, j, w)
    for i, row in enumerate(rows):
        for j, c in enumerate(cols):
            if row.get(c) is not None:
                ws.write_string(i + 1, j, str(row[c]))
    ws.freeze_panes(1, 1)


def write_comparison_outputs(runs: list[ScenarioRun], case, folder: Path) -> None:
    """comparison.csv, comparison.json, allocations.csv and comparison.xlsx into ``folder``."""
    write_frame_csv(folder / "comparison.csv", comparison_frame(runs))
    write_frame_csv(folder / "allocations.csv", allocations_frame(runs))
    write_json(folder / "comparison.json", comparison_record(runs, case))
    write_comparison_workbook(runs, case, folder / "comparison.xlsx")
