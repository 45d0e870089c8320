"""Write the provision map: coverage.csv, flags.csv, map.json and map.xlsx.

A writer lays out what :func:`commissioning.analysis.mapping.provision_map` found; it computes
nothing new (pivots of the coverage table into grids are layout). Files, per outputs.md:

* ``coverage.csv`` — :data:`~commissioning.analysis.mapping.COVERAGE_COLUMNS`, one row per need cell;
* ``flags.csv`` — :data:`~commissioning.analysis.flags.FLAG_COLUMNS`, ``stage = map``;
* ``map.json`` — the headline figures, and ``provision_supplied`` (false when the case has
  no provision table: today's coverage is then unknown, and the CSV columns stay plain);
* ``map.xlsx`` — for people: sheets "Coverage" (area × cohort heat map per year, cohorts
  grouped by journey stage), "By journey stage" (area × stage per year, with totals that
  show where support piles up and where it tapers off), "Eligibility" (pots × cohorts and
  pots × areas), "Flags" (the map's figures in words, then the register as a filterable
  table), "Coverage data" and "Run record" (what produced it, :mod:`commissioning.writers.record`).

Every sheet prints on A4 (:func:`commissioning.writers.printing.setup_print`): the heat maps
landscape or portrait as their width needs, their header rows repeated. The Eligibility
grids are a lookup and are left out of the print area; so are the flags register and the
coverage data when longer than :data:`~commissioning.writers.printing.PRINT_ROWS_MAX` rows
(a printed line says so, and the CSVs hold the same rows). Headers are in words ("Pot
code"); the CSVs keep their column names. People on the stage summary are shown whole.

Heat maps colour a coverage ratio red (0%) through amber (50%) to green (100%); a cell
above 100% (provision beyond need) is blue instead — a formula rule placed before the
colour scale with ``stop_if_true``. Input text is always written with ``write_string``
into a workbook from :func:`~commissioning.writers.files.new_workbook`, so a name such as
``=HYPERLINK(...)`` stays those characters.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from commissioning.analysis.flags import FLAG_COLUMNS
from commissioning.analysis.mapping import ALL_YEARS, COVERAGE_COLUMNS, STAGE_NAMES, ProvisionMap
from commissioning.case.model import Case
from commissioning.analysis.record import run_record
from commissioning.writers.files import new_workbook, write_frame_csv, write_json
from commissioning.writers.printing import (PRINT_ROWS_MAX, TopAligned, document_name, fitting_columns, grid_layout,
                                            heading, layout, out_of_print_note, page_titles, setup_print,
                                            text_height, wrapped_row)
from commissioning.writers.record import write_run_record
from commissioning.writers.style import (BOLD, HEADER, ISO_DATE_FORMAT, NOTE, SUBTITLE, TITLE, TOTAL_LABEL, WARN,
                                         WRAP)

MAP_FILES = ("coverage.csv", "flags.csv", "map.json", "map.xlsx")
RED, AMBER, GREEN, OVER = "#F8696B", "#FFEB84", "#63BE7B", "#4F81BD"
MONEY_FORMAT = "£#,##0"
PEOPLE_FORMAT = "#,##0.0"
TICK = "✓"


def write_map_outputs(pm: ProvisionMap, case: Case, folder: Path) -> list[Path]:
    """Write the four map files into ``folder`` (already created); return their paths."""
    folder = Path(folder)
    write_frame_csv(folder / "coverage.csv", pm.coverage, COVERAGE_COLUMNS)
    write_frame_csv(folder / "flags.csv", pm.flags_frame, FLAG_COLUMNS)
    write_json(folder / "map.json", pm.summary())
    write_map_workbook(pm, case, folder / "map.xlsx")
    return [folder / f for f in MAP_FILES]


def map_summary_lines(pm: ProvisionMap) -> list[str]:
    """A short account of the map for the terminal (the figures of :meth:`ProvisionMap.summary`)."""
    s = pm.summary()
    lines = [f"Mapped {s['cells_with_need']:,} need {_cells(s['cells_with_need'])} ({s['need_people']:,.0f} people in need) in '{s['case']}'."]
    if pm.provision_supplied:
        lines.append(f"  coverage: {s['coverage'] or 0:.0%} of need ({s['provision_people']:,.0f} people "
                     f"from £{s['provision_amount']:,.0f} of eligible provision)")
        d = s["flags"]["duplication"]
        lines.append(f"  duplication: {d['count']:,} {_cells(d['count'])}, {d['people']:,.0f} people beyond need, "
                     f"£{d['amount']:,.0f}")
    g = s["flags"]["gap"]
    lines.append(f"  gaps: {g['count']:,} {_cells(g['count'])}, {g['people']:,.0f} people unmet")
    for reason, t in g["by_reason"].items():
        lines.append(f"    {reason}: {t['count']:,} {_cells(t['count'])}, {t['people']:,.0f} people")
    if pm.provision_supplied:
        i = s["flags"]["idle"]
        rows = "provision row" if i["count"] == 1 else "provision rows"
        lines.append(f"  idle: {i['count']:,} {rows}, £{i['amount']:,.0f} ({i['people']:,.0f} people) committed "
                     "where the pot may not fund it")
    if pm.note:
        lines.append(f"  {pm.note}")
    return lines


def _cells(n: int) -> str:
    return "cell" if n == 1 else "cells"


# ---- the workbook ----------------------------------------------------------------------------
def _stage_label(stage) -> str:
    if stage is None or pd.isna(stage):
        return "no stage"
    return f"Stage {int(stage)}: {STAGE_NAMES.get(int(stage), '')}".rstrip(": ")


def _cohorts_by_stage(case: Case) -> list:
    """Cohorts grouped by journey stage (1 → 6, then those without a stage), case order within."""
    return sorted(case.cohorts, key=lambda c: (c.journey_stage if c.journey_stage is not None else 99))


class _Book:
    """The workbook and its formats."""

    def __init__(self, path: Path):
        self.wb = new_workbook(path)
        add = self.wb.add_format
        self.title = add({**TITLE, **WRAP})
        self.plain_title = add(TITLE)
        self.note = add({**WARN, **WRAP})
        self.legend = add({**NOTE, **WRAP})
        self.line = add(WRAP)
        self.header = add(HEADER)
        self.stage = add({"bold": True, "align": "center", "valign": "top", "text_wrap": True, "bg_color": "#BDD7EE",
                          "border": 1})
        self.block = add(SUBTITLE)
        self.bold = add(BOLD)
        self.pct = add({"num_format": "0%"})
        self.pct_total = add({"num_format": "0%", "bold": True, "top": 1})
        self.total_label = add(TOTAL_LABEL)
        self.money = add({"num_format": MONEY_FORMAT})
        self.people = add({"num_format": PEOPLE_FORMAT})
        self.whole_people = add({"num_format": WHOLE_PEOPLE_FORMAT})  # board-facing: whole people
        self.whole = add({"num_format": "0"})
        self.center = add({"align": "center", "valign": "top"})
        self.top = add({"valign": "top"})
        self.wrap = add(WRAP)
        self.date = add({"num_format": ISO_DATE_FORMAT, "valign": "top"})
        self.grey = add({"font_color": "#808080", "italic": True, "align": "center"})
        self.over = add({"bg_color": OVER, "font_color": "#FFFFFF", "bold": True})

    def heat(self, ws, ranges: list[tuple[int, int, int, int]]) -> None:
        """Red → amber → green over 0–100%; above 100% blue, evaluated first and stopping."""
        ranges = [r for r in ranges if r[0] <= r[2] and r[1] <= r[3]]
        if not ranges:
            return
        r1, c1, r2, c2 = ranges[0]
        multi = " ".join(
            f"{xl_rowcol_to_cell(a, b)}:{xl_rowcol_to_cell(c, d)}" for a, b, c, d in ranges
        )
        top_left = xl_rowcol_to_cell(r1, c1)
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "formula",
            "criteria": f"=AND(ISNUMBER({top_left}),{top_left}>1)",
            "format": self.over,
            "stop_if_true": True,
            "multi_range": multi,
        })
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "3_color_scale",
            "min_type": "num", "min_value": 0, "min_color": RED,
            "mid_type": "num", "mid_value": 0.5, "mid_color": AMBER,
            "max_type": "num", "max_value": 1, "max_color": GREEN,
            "multi_range": multi,
        })

    def text(self, ws, row: int, col: int, value, fmt=None) -> None:
        """Input text, always as a string cell (never a formula, link or number)."""
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return
        ws.write_string(row, col, str(value), fmt)

    def number(self, ws, row: int, col: int, value, fmt=None) -> None:
        """A number cell (written as a float) in ``fmt``; nothing for None or NaN."""
        if value is None or pd.isna(value):
            return
        ws.write_number(row, col, float(value), fmt)


HEAT_LEGEND = ("Each cell: today's eligible provision (people) ÷ need. Red 0% → amber 50% → green 100%; "
               "blue: more provision than need (over-provision). Blank: no need evidenced.")
WHOLE_PEOPLE_FORMAT = "#,##0"
GRID_WIDTH = 11  # a heat map's cohort or stage column (characters)


def _name_width(names, least: float = 12, most: float = 26) -> float:
    """A column wide enough for the longest of ``names`` (within least..most characters)."""
    return float(min(most, max([least, *[len(str(n)) + 1 for n in names]])))


def write_map_workbook(pm: ProvisionMap, case: Case, path: Path) -> None:
    """Lay out ``map.xlsx`` (see the module docstring for the sheets)."""
    book = _Book(path)
    name = document_name("Provision map", case.settings.name, case.scenario)
    try:
        _coverage_sheet(book, pm, case, name)
        _stage_sheet(book, pm, case, name)
        _eligibility_sheet(book, case, name)
        _flags_sheet(book, pm, name)
        _coverage_data_sheet(book, pm, name)
        write_run_record(book.wb, run_record(case), book.plain_title, book.bold, footer=name)
    finally:
        book.wb.close()


def _note_rows(book: _Book, ws, pm: ProvisionMap, title: str, legend: str | None, widths: list[float]) -> None:
    """Row 1 the title; row 2 the provision note when there is one, else the legend (both wrapped to the sheet's width)."""
    last = len(widths) - 1
    wrapped_row(ws, 0, 0, last, title, book.title, widths, line=19)
    if pm.note:
        wrapped_row(ws, 1, 0, last, pm.note + (" — " + legend if legend else ""), book.note, widths)
    elif legend:
        wrapped_row(ws, 1, 0, last, legend, book.legend, widths)


def _heat_layout(case: Case, fixed: list[float], groups: list[list[float]], header: float) -> dict:
    """:func:`~commissioning.writers.printing.grid_layout` of a heat map: ``header`` points of
    header rows, then one block per year (its label, a row per area, a blank row)."""
    body = header + len(case.years) * (17 + 15 * len(case.areas) + 15) + 70  # 70: the title and legend rows
    return grid_layout(fixed, groups, body)


def _set_widths(ws, widths: list[float]) -> None:
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)


def _coverage_sheet(book: _Book, pm: ProvisionMap, case: Case, name: str) -> None:
    ws = book.wb.add_worksheet("Coverage")
    cohorts = _cohorts_by_stage(case)
    widths = [10.0, _name_width((a.name for a in case.areas), least=10)] + [float(GRID_WIDTH)] * len(cohorts)
    _set_widths(ws, widths)
    stages = list(dict.fromkeys(c.journey_stage for c in cohorts))
    groups = [[float(GRID_WIDTH)] * sum(1 for c in cohorts if c.journey_stage == s) for s in stages]
    header = (text_height([(_stage_label(s), GRID_WIDTH * len(g)) for s, g in zip(stages, groups)], bold=True)
              + text_height([(c.name, GRID_WIDTH) for c in cohorts], bold=True))
    pages = _heat_layout(case, widths[:2], groups, header)  # a page never splits a journey stage
    pages.pop("first_page")
    legend = HEAT_LEGEND if pm.provision_supplied else "Cells read 'no pot' where no pot may fund the need."
    title = ("Coverage of need by today's provision: areas × cohorts, one block per year (cohorts grouped by "
             "customer-journey stage)")
    if not pages["v_breaks"]:
        _note_rows(book, ws, pm, title, legend, widths)
    else:  # several pages across, the area columns repeated: each page's columns carry the title
        note = (pm.note + " — " + legend) if pm.note else legend
        page_titles(ws, widths, 2, pages["v_breaks"], [
            (0, title, "Coverage of need by today's provision (continued)", book.title, 19),
            (1, note, note, book.note if pm.note else book.legend, 15)])
    ws.write_string(2, 0, "Area code", book.header)
    ws.write_string(2, 1, "Area", book.header)
    ws.write_string(3, 0, "", book.header)
    ws.write_string(3, 1, "", book.header)
    col = 2
    stage_cells = []
    for stage in dict.fromkeys(c.journey_stage for c in cohorts):
        width = sum(1 for c in cohorts if c.journey_stage == stage)
        if width > 1:
            ws.merge_range(2, col, 2, col + width - 1, "", book.stage)
        ws.write_string(2, col, _stage_label(stage), book.stage)
        stage_cells.append((_stage_label(stage), sum(widths[col:col + width]) + 1.1 * (width - 1)))
        col += width
    for j, c in enumerate(cohorts):
        book.text(ws, 3, 2 + j, c.name, book.header)
    ws.set_row(2, text_height(stage_cells, bold=True))
    ws.set_row(3, text_height([(c.name, GRID_WIDTH) for c in cohorts], bold=True))
    ws.freeze_panes(4, 2)

    cov = pm.coverage
    value = dict(zip(zip(cov["area_code"], cov["cohort_code"], cov["year"]), zip(cov["coverage"], cov["eligible_pots"])))
    row = 4
    ranges = []
    for year in case.years:
        ws.write_string(row, 0, year, book.block)
        row += 1
        first = row
        for a in case.areas:
            book.text(ws, row, 0, a.code)
            book.text(ws, row, 1, a.name)
            for j, c in enumerate(cohorts):
                v = value.get((a.code, c.code, year))
                if v is None:
                    continue
                ratio, pots = v
                if pm.provision_supplied:
                    book.number(ws, row, 2 + j, ratio, book.pct)
                elif pots == 0:
                    ws.write_string(row, 2 + j, "no pot", book.grey)
            row += 1
        ranges.append((first, 2, row - 1, 1 + len(cohorts)))
        row += 1
    if pm.provision_supplied:
        book.heat(ws, ranges)
    setup_print(ws, name, repeat_rows=(0, 3) if pages["v_breaks"] else (2, 3), repeat_cols=(0, 1), **pages)


def _stage_sheet(book: _Book, pm: ProvisionMap, case: Case, name: str) -> None:
    ws = book.wb.add_worksheet("By journey stage")
    stages = list(dict.fromkeys(pm.stage_totals["journey_stage"]))
    stages = sorted(stages, key=lambda s: 99 if s is None else s)
    widths = [10.0, max(_name_width(a.name for a in case.areas), 27.0)] + [11.0] * len(stages)
    _set_widths(ws, widths)
    _note_rows(book, ws, pm, "Coverage by customer-journey stage: where support piles up and where it tapers off "
               "(provision people ÷ need over the cohorts at each stage)", HEAT_LEGEND, widths)
    ws.write_string(3, 0, "Area code", book.header)
    ws.write_string(3, 1, "Area", book.header)
    for j, s in enumerate(stages):
        ws.write_string(3, 2 + j, _stage_label(s), book.header)
    ws.set_row(3, text_height([(_stage_label(s), 11.0) for s in stages], bold=True))
    ws.freeze_panes(4, 2)
    last_col = 1 + len(stages)

    def key(frame: pd.DataFrame, cols: list[str]) -> dict:
        return {tuple(k): r for k, r in zip(frame[cols].itertuples(index=False, name=None), frame.itertuples(index=False))}

    totals = key(pm.stage_totals, ["year", "journey_stage"])
    by_area = key(pm.stage_coverage, ["area_code", "year", "journey_stage"])
    ranges = []
    row = 4
    ws.write_string(row, 0, "All areas", book.block)
    row += 1
    first = row
    for year in [*case.years, ALL_YEARS]:
        fmt_label, fmt = (book.total_label, book.pct_total) if year == ALL_YEARS else (None, book.pct)
        ws.write_string(row, 0, year, fmt_label)
        ws.write_string(row, 1, "All areas", fmt_label)
        for j, s in enumerate(stages):
            r = totals.get((year, s))
            if r is not None:
                book.number(ws, row, 2 + j, r.coverage, fmt)
        row += 1
    ranges.append((first, 2, row - 1, last_col))
    for label, field in (("Need (people), all years", "need_people"), ("Provision (people), all years", "provision_people")):
        ws.write_string(row, 1, label, book.bold)
        for j, s in enumerate(stages):
            r = totals.get((ALL_YEARS, s))
            if r is not None:
                book.number(ws, row, 2 + j, getattr(r, field), book.whole_people)
        row += 1
    row += 1

    for year in case.years:
        ws.write_string(row, 0, year, book.block)
        row += 1
        first = row
        for a in case.areas:
            book.text(ws, row, 0, a.code)
            book.text(ws, row, 1, a.name)
            for j, s in enumerate(stages):
                r = by_area.get((a.code, year, s))
                if r is not None:
                    book.number(ws, row, 2 + j, r.coverage, book.pct)
            row += 1
        ws.write_string(row, 0, "Total", book.total_label)
        ws.write_string(row, 1, "All areas", book.total_label)
        for j, s in enumerate(stages):
            r = totals.get((year, s))
            if r is not None:
                book.number(ws, row, 2 + j, r.coverage, book.pct_total)
        row += 1
        ranges.append((first, 2, row - 1, last_col))
        row += 1
    if pm.provision_supplied:
        book.heat(ws, ranges)
    setup_print(ws, name, repeat_rows=(3, 3), repeat_cols=(0, 1), **layout(widths))


def _eligibility_sheet(book: _Book, case: Case, name: str) -> None:
    """The pots × cohorts and pots × areas grids: a lookup, left out of print (a printed line says so)."""
    ws = book.wb.add_worksheet("Eligibility")
    cohorts = _cohorts_by_stage(case)
    grid = max(len(cohorts), len(case.areas))
    fixed_widths = [14.0, 34.0, 11.0, 11.0, 11.0]
    widths = fixed_widths + [12.0] * grid
    _set_widths(ws, widths)
    shown = widths[:fitting_columns(widths)]
    wrapped_row(ws, 0, 0, len(shown) - 1, "Eligibility: which cohorts and which areas each pot may fund (✓) — by its "
                "geography and cohorts; its years and money aside", book.title, shown, line=19)
    wrapped_row(ws, 1, 0, len(shown) - 1, f"Not printed: a lookup of {len(case.pots):,} pots × {len(cohorts):,} "
                f"cohorts and × {len(case.areas):,} areas; use it on screen.", book.legend, shown)
    fixed = ["Pot code", "Pot name", "Department", "Start", "End"]
    row = 3
    ws.write_string(row - 1, 0, "Pots × cohorts", book.block)
    for j, h in enumerate(fixed):
        ws.write_string(row, j, h, book.header)
    for j, c in enumerate(cohorts):
        book.text(ws, row, len(fixed) + j, c.name, book.header)
    ws.set_row(row, text_height([(c.name, 12.0) for c in cohorts], bold=True))
    for i, p in enumerate(case.pots):
        r = row + 1 + i
        book.text(ws, r, 0, p.code)
        book.text(ws, r, 1, p.name)
        book.text(ws, r, 2, p.department)
        ws.write_datetime(r, 3, pd.Timestamp(p.start).to_pydatetime(), book.date)
        ws.write_datetime(r, 4, pd.Timestamp(p.end).to_pydatetime(), book.date)
        for j, c in enumerate(cohorts):
            if case.eligibility.covers(p.code, cohort=c.code):
                ws.write_string(r, len(fixed) + j, TICK, book.center)
    ws.freeze_panes(row + 1, 2)

    head = row
    row = row + len(case.pots) + 3
    ws.write_string(row - 1, 0, "Pots × areas", book.block)
    fixed2 = ["Pot code", "Pot name", "Department", "Geography", ""]
    for j, h in enumerate(fixed2):
        ws.write_string(row, j, h, book.header)
    for j, a in enumerate(case.areas):
        book.text(ws, row, len(fixed2) + j, a.name, book.header)
    ws.set_row(row, text_height([(a.name, 12.0) for a in case.areas], bold=True))
    for i, p in enumerate(case.pots):
        r = row + 1 + i
        book.text(ws, r, 0, p.code)
        book.text(ws, r, 1, p.name)
        book.text(ws, r, 2, p.department)
        book.text(ws, r, 3, ";".join(p.geography))
        for j, a in enumerate(case.areas):
            if case.eligibility.covers(p.code, area=a.code):
                ws.write_string(r, len(fixed2) + j, TICK, book.center)
    setup_print(ws, name, repeat_rows=head, print_area=(0, 0, 1, len(shown) - 1), **layout(shown))


FLAG_WIDTHS = {"stage": 6, "level": 8, "kind": 10, "reason": 13, "pot_code": 11, "area_code": 10,
               "cohort_code": 21, "year": 8, "people": 8, "amount": 11, "detail": 45}


def _flags_sheet(book: _Book, pm: ProvisionMap, name: str) -> None:
    """The flags register: the map's figures in words (printed), then the register as a filterable table.

    The register prints (its Detail wrapped) when it is at most :data:`PRINT_ROWS_MAX` rows;
    longer, it is left out of the print area and a printed line says so.
    """
    ws = book.wb.add_worksheet("Flags")
    frame = pm.flags_frame
    widths = [float(FLAG_WIDTHS[c]) for c in FLAG_COLUMNS]
    _set_widths(ws, widths)
    last_col = len(FLAG_COLUMNS) - 1
    title = "Flags register (stage map): duplication, gaps with their reasons, and provision the pot may not fund"
    if pm.note:
        wrapped_row(ws, 0, 0, last_col, pm.note, book.note, widths)  # the first line a reader sees
        wrapped_row(ws, 1, 0, last_col, title, book.title, widths, line=19)
    else:
        wrapped_row(ws, 0, 0, last_col, title, book.title, widths, line=19)
        wrapped_row(ws, 1, 0, last_col, "Filter with the header arrows; amounts in £, people in participants.",
                    book.legend, widths)
    row = 3
    for line in map_summary_lines(pm):
        wrapped_row(ws, row, 0, last_col, line.strip() if not line.startswith("    ") else "    – " + line.strip(),
                    book.line, widths)
        row += 1
    printed = len(frame) <= PRINT_ROWS_MAX
    if not printed:
        wrapped_row(ws, row, 0, last_col, out_of_print_note(len(frame), "flags.csv"), book.legend, widths)
        row += 1
    head = row + 1
    formats = {"people": book.people, "amount": book.money}
    top = TopAligned(book.wb)  # printed: each cell wrapped, on the first line of its row
    for i, rec in enumerate(frame.itertuples(index=False)):
        r = head + 1 + i
        for j, c in enumerate(FLAG_COLUMNS):
            v = getattr(rec, c)
            if c in formats:
                book.number(ws, r, j, v, top(formats[c]) if printed else formats[c])
            else:
                book.text(ws, r, j, v or None, top.wrap if printed else None)
        if printed:
            ws.set_row(r, text_height([(str(getattr(rec, c)), widths[j]) for j, c in enumerate(FLAG_COLUMNS)
                                       if c not in formats and getattr(rec, c)]))
    last = head + max(len(frame), 1)
    heads = [heading(c) for c in FLAG_COLUMNS]
    ws.add_table(head, 0, last, last_col, {
        "name": "Flags",
        "style": "Table Style Light 9",
        "autofilter": True,
        "columns": [{"header": h, "header_format": book.header, **({"format": formats[c]} if c in formats else {})}
                    for h, c in zip(heads, FLAG_COLUMNS)],
    })
    ws.set_row(head, text_height(list(zip(heads, widths)), bold=True))
    ws.freeze_panes(head + 1, 0)
    setup_print(ws, name, repeat_rows=head, print_area=(0, 0, last if printed else head, last_col), **layout(widths))


COVERAGE_WIDTHS = {"area_code": 11, "cohort_code": 22, "year": 9, "journey_stage": 9, "need_people": 11,
                   "eligible_pots": 9, "eligible_money": 14, "provision_amount": 13, "provision_people": 11,
                   "coverage": 10}


def _coverage_data_sheet(book: _Book, pm: ProvisionMap, name: str) -> None:
    ws = book.wb.add_worksheet("Coverage data")
    frame = pm.coverage
    widths = [float(COVERAGE_WIDTHS.get(c, 12)) for c in COVERAGE_COLUMNS]
    _set_widths(ws, widths)
    _note_rows(book, ws, pm, "Coverage data (coverage.csv): one row per area, cohort and year with need", None, widths)
    printed = len(frame) <= PRINT_ROWS_MAX
    last_col = len(COVERAGE_COLUMNS) - 1
    if not printed:
        wrapped_row(ws, 2, 0, last_col, out_of_print_note(len(frame), "coverage.csv"), book.legend, widths)
    head = 3
    formats = {
        "journey_stage": book.whole, "need_people": book.people, "eligible_pots": book.whole,
        "eligible_money": book.money, "provision_amount": book.money, "provision_people": book.people,
        "coverage": book.pct,
    }
    for i, rec in enumerate(frame.itertuples(index=False)):
        for j, c in enumerate(COVERAGE_COLUMNS):
            v = getattr(rec, c)
            if c in formats:
                book.number(ws, head + 1 + i, j, v, formats[c])
            else:
                book.text(ws, head + 1 + i, j, v)
    last = head + max(len(frame), 1)
    heads = [heading(c) for c in COVERAGE_COLUMNS]
    ws.add_table(head, 0, last, last_col, {
        "name": "Coverage",
        "style": "Table Style Light 9",
        "columns": [{"header": h, "header_format": book.header, **({"format": formats[c]} if c in formats else {})}
                    for h, c in zip(heads, COVERAGE_COLUMNS)],
    })
    ws.set_row(head, text_height(list(zip(heads, widths)), bold=True))
    ws.freeze_panes(head + 1, 0)
    setup_print(ws, name, repeat_rows=head, print_area=(0, 0, last if printed else head, last_col), **layout(widths))
