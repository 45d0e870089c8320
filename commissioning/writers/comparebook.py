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
  the board's aligned rows are "under today's rules" only when no scenario compared changes them;
* **Run record** — what produced the workbook: the base case's record, the scenario files
  compared and their SHA-256 (:mod:`commissioning.writers.record`).

Every sheet prints on A4 (:func:`commissioning.writers.printing.setup_print`); the
Comparison sheet prints its figures a few pages wide (the scenario column repeated) and
leaves its text columns to the Scenarios sheet; a differences table longer than
:data:`~commissioning.writers.printing.PRINT_ROWS_MAX` rows is left out of print, with a
printed line saying so. Changes are coloured by meaning (green better, red worse, whatever
the sign: less unmet need is better; budget, need and money moved between pots are not
coloured), and a change under half a unit shows as 0. Headers are in words; the CSV keeps
its column names.

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
from commissioning.analysis.record import run_record
from commissioning.case.labels import rules_words
from commissioning.writers.files import new_workbook, write_frame_csv, write_json
from commissioning.writers.printing import (LEGEND, PRINT_ROWS_MAX, Meaning, better_way, column_pixels,
                                            document_name, fitting_columns, heading, layout, out_of_print_note,
                                            pages_wide, setup_print, text_height, wrapped_row)
from commissioning.writers.record import write_run_record
from commissioning.writers.style import BOLD, NOTE, TITLE, WHOLE_FORMAT, WRAP

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
SCENARIO_COLUMNS = ["scenario", "file", "description", "status", "objective", "solver", "pool", "rules", "detail"]
SCENARIO_WIDTHS = [16, 18, 30, 9, 9, 7, 24, 14, 28]


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
    meaning = Meaning(wb, base={"valign": "top"})
    f = {
        "title": wb.add_format({**TITLE, **WRAP}),
        "plain_title": wb.add_format(TITLE),
        "note": wb.add_format({**NOTE, **WRAP}),
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                               "valign": "top"}),
        "money": wb.add_format({"num_format": "£#,##0", "valign": "top"}),
        "count": wb.add_format({"num_format": WHOLE_FORMAT, "valign": "top"}),  # whole people; the cells stay exact
        "dmoney": meaning.money,
        "dcount": meaning.count,
        "bold": wb.add_format(BOLD),
        "label": wb.add_format({"bold": True, "valign": "top"}),
        "wrap": wb.add_format(WRAP),
        "top": wb.add_format({"valign": "top"}),
        "tmoney": wb.add_format({"num_format": "£#,##0", "bold": True, "top": 1}),
        "tdmoney": meaning.money_total,
        "meaning": meaning,
    }
    name = document_name("Scenario comparison", case.settings.name)
    rows = comparison_rows(runs)
    board = wb.add_worksheet("Board summary")
    comp = wb.add_worksheet(COMPARISON_SHEET)
    cells = _comparison_sheet(comp, rows, f, name)
    _board_sheet(wb, board, rows, cells, case, f, _rules_in_words(runs), name)
    _differences_sheet(wb.add_worksheet("Allocation differences"), runs, "pooled", case, f, name)
    _differences_sheet(wb.add_worksheet("Aligned differences"), runs, "aligned", case, f, name)
    _scenarios_sheet(wb.add_worksheet("Scenarios"), [dict(row, rules=_rules_of(r)) for row, r in zip(rows, runs)], f,
                     name)
    write_run_record(wb, comparison_run_record(runs, case), f["plain_title"], f["label"], footer=name)
    wb.close()


def comparison_run_record(runs: list[ScenarioRun], case) -> dict[str, Any]:
    """The run record of a comparison: the base case's, with the solver the scenarios ran with, the
    scenario files compared (``scenarios``, in words) and their SHA-256 among the inputs."""
    solved = [r for r in runs if r.solved]
    first = solved[0].summary if solved else {}
    solver_of = (first.get("run_record") or {}).get("solver") or {}
    record = run_record(case, solver=first.get("solver") or None, choice=first.get("solver_choice") or None,
                        time_limit=solver_of.get("time_limit"))
    record["scenarios"] = [f"{Path(r.file).name} ('{r.name}', {r.status})" for r in runs]
    seen = {(i["file"], i["sha256"]) for i in record["inputs"]}
    for r in solved:
        for i in (r.summary.get("run_record") or {}).get("inputs", []):
            if (i["file"], i["sha256"]) not in seen:
                seen.add((i["file"], i["sha256"]))
                record["inputs"].append(dict(i))
    return record


def _comparison_sheet(ws, rows: list[dict], f, name: str) -> dict[tuple[int, str], str]:
    """The csv's figures, then the changes against the first scenario; returns each figure's cell."""
    columns = COMPARISON_COLUMNS + EXTRA_COLUMNS
    n = len(rows)
    widths = [24.0] + [13.0] * (len(COMPARISON_COLUMNS) - 1) + [24.0] * len(EXTRA_COLUMNS)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    cells: dict[tuple[int, str], str] = {}
    heads = [heading(c) for c in columns]
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, f["head"])
    ws.set_row(0, text_height(list(zip(heads, widths)), bold=True))
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
    change_heads = [heading(c) for c in COMPARISON_COLUMNS]
    for j, h in enumerate(change_heads):
        ws.write_string(top + 1, j, h, f["head"])
    ws.set_row(top + 1, text_height(list(zip(change_heads, widths)), bold=True))
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
    for j, col in enumerate(COMPARISON_COLUMNS[1:], start=1):
        f["meaning"].colour(ws, top + 2, j, top + 1 + n, j, better_way(col), money=_kind(col) == "money")
    legend = top + 3 + n
    # From column B: column A is repeated on every printed page, and a merged note there would be cut.
    wrapped_row(ws, legend, 1, 8, LEGEND, f["note"], widths[1:9])
    wrapped_row(ws, legend + 1, 1, 8, "Printed: the figures; the scenarios' status, pool, file and detail are on "
                "the Scenarios sheet.", f["note"], widths[1:9])
    ws.freeze_panes(1, 1)
    printed = widths[:len(COMPARISON_COLUMNS)]
    setup_print(ws, name, repeat_rows=0, repeat_cols=(0, 0), print_area=(0, 0, legend + 1, len(printed) - 1),
                landscape=True, fit_width=pages_wide(printed, True))
    return cells


def _board_sheet(wb, ws, rows: list[dict], cells: dict, case, f, rules: str, name: str) -> None:
    n = len(rows)
    widths = [50.0] + [16.0] * max(1, n)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    last_col = len(widths) - 1
    ref = rows[0]["scenario"] if rows else ""
    wrapped_row(ws, 0, 0, last_col, f"What changes if — {case.settings.name}", f["title"], widths, line=19)
    wrapped_row(ws, 1, 0, last_col, f"One column per scenario; the lower block is the change against '{ref}'. "
                "Every figure reads the Comparison sheet; people are shown whole.", f["note"], widths)
    wrapped_row(ws, 2, 0, last_col, LEGEND, f["note"], widths)
    ws.write_string(3, 0, "Measure", f["head"])
    for i, row in enumerate(rows):
        ws.write_string(3, 1 + i, row["scenario"], f["head"])
    ws.set_row(3, text_height([(row["scenario"], 16.0) for row in rows], bold=True))
    for k, (label, col, kind) in enumerate(BOARD_MEASURES):
        ws.write_string(4 + k, 0, label.format(rules=rules))
        for i, row in enumerate(rows):
            v = _num(row[col])
            src = cells[(i, col)]
            ws.write_formula(4 + k, 1 + i, f'=IF({src}="","",{src})', f[kind], "" if v is None else v)
        if n:
            f["meaning"].colour(ws, 4 + k, 1, 4 + k, n, None, money=kind == "money")  # float noise reads 0
    top = 4 + len(BOARD_MEASURES) + 1
    ws.write_string(top, 0, f"Change against '{ref}'", f["head"])
    for i, row in enumerate(rows):
        ws.write_string(top, 1 + i, row["scenario"], f["head"])
    ws.set_row(top, text_height([(row["scenario"], 16.0) for row in rows], bold=True))
    for k, (label, col, kind) in enumerate(BOARD_MEASURES):
        r = top + 1 + k
        ws.write_string(r, 0, label.format(rules=rules))
        for i, row in enumerate(rows):
            this = xl_rowcol_to_cell(4 + k, 1 + i)
            first = xl_rowcol_to_cell(4 + k, 1, col_abs=True)
            a, b = _num(row[col]), _num(rows[0][col])
            ws.write_formula(r, 1 + i, f'=IF(OR({this}="",{first}=""),"",{this}-{first})', f["d" + kind],
                             "" if a is None or b is None else a - b)
        if n:
            f["meaning"].colour(ws, r, 1, r, n, better_way(col), money=kind == "money")
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
        chart.set_size({"width": min(760, column_pixels(widths) - 10), "height": 360})
        ws.insert_chart(top + len(BOARD_MEASURES) + 2, 0, chart)
    setup_print(ws, name, repeat_rows=3, repeat_cols=(0, 0), **layout(widths))


def _differences_sheet(ws, runs: list[ScenarioRun], level: str, case, f, name: str) -> None:
    table = allocation_by_pot_area(runs, level, case)
    names = [r.name for r in runs]
    ref = names[0] if names else ""
    fixed = ["Pot code", "Pot", "Area code", "Area"]
    fixed_widths = [13.0, 40.0, 10.0, 12.0]
    heads = fixed + names + [f"Change: {n}" for n in names[1:]]
    widths = fixed_widths + [14.0] * (len(heads) - len(fixed))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    printed = len(table) <= PRINT_ROWS_MAX
    span = widths if printed else widths[:fitting_columns(widths)]  # out of print: its title and note only
    last_col = len(span) - 1
    wrapped_row(ws, 0, 0, last_col, f"The {level} allocation by pot and area (£, all cohorts and years)", f["title"],
                span, line=19)
    note = (f"Left: each scenario's money. Right: the change against '{ref}' (live formulas); money moved between "
            "pots and areas is neither better nor worse, so it is not coloured. A change under £0.50 shows as £0.")
    if not printed:
        note += " " + out_of_print_note(len(table), "allocations.csv (summed by pot and area)")
    wrapped_row(ws, 1, 0, last_col, note, f["note"], span)
    head = 3
    for j, h in enumerate(heads):
        ws.write_string(head, j, h, f["head"])
    ws.set_row(head, text_height(list(zip(heads, widths)), bold=True))
    amount0 = len(fixed)
    delta0 = amount0 + len(names)
    first_row = head + 1
    for i, rec in enumerate(table.itertuples(index=False)):
        r = first_row + i
        pot, area = rec[0], rec[1]
        pot_name = case.pot[pot].name if pot in case.pot else ""
        ws.write_string(r, 0, pot, f["top"])
        ws.write_string(r, 1, pot_name, f["wrap"])
        ws.write_string(r, 2, area, f["top"])
        ws.write_string(r, 3, case.area[area].name if area in case.area else "", f["top"])
        if printed:
            ws.set_row(r, text_height([(pot_name, fixed_widths[1])]))
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
    if len(names) > 1:
        f["meaning"].colour(ws, first_row, delta0, total, delta0 + len(names) - 2, None, money=True)
    ws.freeze_panes(head + 1, 4)
    if len(table):
        ws.autofilter(head, 0, last, delta0 + len(names) - 2 if len(names) > 1 else delta0 - 1)
    setup_print(ws, name, repeat_rows=head, repeat_cols=(0, 1),
                print_area=(0, 0, total if printed else head, last_col), **layout(span))


def _scenarios_sheet(ws, rows: list[dict], f, name: str) -> None:
    # One row per scenario under the header row and nothing else: the header keeps the scenario
    # file's words ("scenario", "rules"), and the rows are read back by those names.
    for j, (c, w) in enumerate(zip(SCENARIO_COLUMNS, SCENARIO_WIDTHS)):
        ws.write_string(0, j, c, f["head"])
        ws.set_column(j, j, w)
    for i, row in enumerate(rows):
        texts = []
        for j, c in enumerate(SCENARIO_COLUMNS):
            if row.get(c) is not None:
                text = str(row[c]).replace(";", "; ") if c == "pool" else str(row[c])  # so that it wraps
                ws.write_string(i + 1, j, text, f["wrap"])
                texts.append((text, SCENARIO_WIDTHS[j]))
        ws.set_row(i + 1, text_height(texts))
    ws.freeze_panes(1, 1)
    setup_print(ws, name, repeat_rows=0, repeat_cols=(0, 0), **layout([float(w) for w in SCENARIO_WIDTHS]))


def write_comparison_outputs(runs: list[ScenarioRun], case, folder: Path) -> None:
    """comparison.csv, comparison.json, allocations.csv and comparison.xlsx into ``folder``."""
    write_frame_csv(folder / "comparison.csv", comparison_frame(runs))
    write_frame_csv(folder / "allocations.csv", allocations_frame(runs))
    write_json(folder / "comparison.json", comparison_record(runs, case))
    write_comparison_workbook(runs, case, folder / "comparison.xlsx")
