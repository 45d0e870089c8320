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
  pots × areas), "Flags" (the register as a filterable table) and "Coverage data".

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
from commissioning.writers.files import new_workbook, write_frame_csv, write_json
from commissioning.writers.style import BOLD, HEADER, ISO_DATE_FORMAT, NOTE, SUBTITLE, TITLE, TOTAL_LABEL, WARN

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
        self.title = add(TITLE)
        self.note = add(WARN)
        self.legend = add(NOTE)
        self.header = add(HEADER)
        self.stage = add({"bold": True, "align": "center", "bg_color": "#BDD7EE", "border": 1})
        self.block = add(SUBTITLE)
        self.bold = add(BOLD)
        self.pct = add({"num_format": "0%"})
        self.pct_total = add({"num_format": "0%", "bold": True, "top": 1})
        self.total_label = add(TOTAL_LABEL)
        self.money = add({"num_format": MONEY_FORMAT})
        self.people = add({"num_format": PEOPLE_FORMAT})
        self.whole = add({"num_format": "0"})
        self.center = add({"align": "center"})
        self.date = add({"num_format": ISO_DATE_FORMAT})
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


def write_map_workbook(pm: ProvisionMap, case: Case, path: Path) -> None:
    """Lay out ``map.xlsx`` (see the module docstring for the sheets)."""
    book = _Book(path)
    try:
        _coverage_sheet(book, pm, case)
        _stage_sheet(book, pm, case)
        _eligibility_sheet(book, case)
        _flags_sheet(book, pm)
        _coverage_data_sheet(book, pm)
    finally:
        book.wb.close()


def _note_rows(book: _Book, ws, pm: ProvisionMap, title: str, legend: str | None) -> None:
    """Row 1 the title; row 2 the provision note when there is one, else the legend."""
    ws.write_string(0, 0, title, book.title)
    if pm.note:
        ws.write_string(1, 0, pm.note + (" — " + legend if legend else ""), book.note)
    elif legend:
        ws.write_string(1, 0, legend, book.legend)


def _coverage_sheet(book: _Book, pm: ProvisionMap, case: Case) -> None:
    ws = book.wb.add_worksheet("Coverage")
    cohorts = _cohorts_by_stage(case)
    legend = HEAT_LEGEND if pm.provision_supplied else "Cells read 'no pot' where no pot may fund the need."
    _note_rows(book, ws, pm, "Coverage of need by today's provision: areas × cohorts, one block per year "
               "(cohorts grouped by customer-journey stage)", legend)
    ws.write_string(2, 0, "Area code", book.header)
    ws.write_string(2, 1, "Area", book.header)
    ws.write_string(3, 0, "", book.header)
    ws.write_string(3, 1, "", book.header)
    col = 2
    for stage in dict.fromkeys(c.journey_stage for c in cohorts):
        width = sum(1 for c in cohorts if c.journey_stage == stage)
        if width > 1:
            ws.merge_range(2, col, 2, col + width - 1, _stage_label(stage), book.stage)
        else:
            ws.write_string(2, col, _stage_label(stage), book.stage)
        col += width
    for j, c in enumerate(cohorts):
        book.text(ws, 3, 2 + j, c.name, book.header)
    ws.set_row(3, 75)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 1 + len(cohorts), 14)
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


def _stage_sheet(book: _Book, pm: ProvisionMap, case: Case) -> None:
    ws = book.wb.add_worksheet("By journey stage")
    _note_rows(book, ws, pm, "Coverage by customer-journey stage: where support piles up and where it tapers off "
               "(provision people ÷ need over the cohorts at each stage)", HEAT_LEGEND)
    stages = list(dict.fromkeys(pm.stage_totals["journey_stage"]))
    stages = sorted(stages, key=lambda s: 99 if s is None else s)
    ws.write_string(3, 0, "Area code", book.header)
    ws.write_string(3, 1, "Area", book.header)
    for j, s in enumerate(stages):
        ws.write_string(3, 2 + j, _stage_label(s), book.header)
    ws.set_row(3, 45)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 1 + len(stages), 16)
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
                book.number(ws, row, 2 + j, getattr(r, field), book.people)
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


def _eligibility_sheet(book: _Book, case: Case) -> None:
    ws = book.wb.add_worksheet("Eligibility")
    ws.write_string(0, 0, "Eligibility: which cohorts and which areas each pot may fund (✓) — "
                    "by its geography and cohorts; its years and money aside", book.title)
    cohorts = _cohorts_by_stage(case)
    fixed = ["Pot code", "Pot name", "Department", "Start", "End"]
    row = 2
    ws.write_string(row - 1, 0, "Pots × cohorts", book.block)
    for j, h in enumerate(fixed):
        ws.write_string(row, j, h, book.header)
    for j, c in enumerate(cohorts):
        book.text(ws, row, len(fixed) + j, c.name, book.header)
    ws.set_row(row, 75)
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

    row = row + len(case.pots) + 3
    ws.write_string(row - 1, 0, "Pots × areas", book.block)
    fixed2 = ["Pot code", "Pot name", "Department", "Geography", ""]
    for j, h in enumerate(fixed2):
        ws.write_string(row, j, h, book.header)
    for j, a in enumerate(case.areas):
        book.text(ws, row, len(fixed2) + j, a.name, book.header)
    ws.set_row(row, 45)
    for i, p in enumerate(case.pots):
        r = row + 1 + i
        book.text(ws, r, 0, p.code)
        book.text(ws, r, 1, p.name)
        book.text(ws, r, 2, p.department)
        book.text(ws, r, 3, ";".join(p.geography))
        for j, a in enumerate(case.areas):
            if case.eligibility.covers(p.code, area=a.code):
                ws.write_string(r, len(fixed2) + j, TICK, book.center)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 4, 12)
    ws.set_column(5, 4 + max(len(cohorts), len(case.areas)), 13)


def _flags_sheet(book: _Book, pm: ProvisionMap) -> None:
    ws = book.wb.add_worksheet("Flags")
    title = "Flags register (stage map): duplication, gaps with their reasons, and provision the pot may not fund"
    if pm.note:
        ws.write_string(0, 0, pm.note, book.note)  # the first line a reader sees
        ws.write_string(1, 0, title, book.title)
    else:
        ws.write_string(0, 0, title, book.title)
        ws.write_string(1, 0, "Filter with the header arrows; amounts in £, people in participants.", book.legend)
    frame = pm.flags_frame
    head = 3
    formats = {"people": book.people, "amount": book.money}
    for i, rec in enumerate(frame.itertuples(index=False)):
        for j, c in enumerate(FLAG_COLUMNS):
            v = getattr(rec, c)
            if c in formats:
                book.number(ws, head + 1 + i, j, v, formats[c])
            else:
                book.text(ws, head + 1 + i, j, v or None)
    last = head + max(len(frame), 1)
    ws.add_table(head, 0, last, len(FLAG_COLUMNS) - 1, {
        "name": "Flags",
        "style": "Table Style Light 9",
        "autofilter": True,
        "columns": [{"header": c, **({"format": formats[c]} if c in formats else {})} for c in FLAG_COLUMNS],
    })
    widths = {"stage": 8, "level": 8, "kind": 12, "reason": 16, "pot_code": 14, "area_code": 12,
              "cohort_code": 22, "year": 9, "people": 11, "amount": 14, "detail": 120}
    for j, c in enumerate(FLAG_COLUMNS):
        ws.set_column(j, j, widths[c])
    ws.freeze_panes(head + 1, 0)


def _coverage_data_sheet(book: _Book, pm: ProvisionMap) -> None:
    ws = book.wb.add_worksheet("Coverage data")
    _note_rows(book, ws, pm, "Coverage data (coverage.csv): one row per area, cohort and year with need", None)
    frame = pm.coverage
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
    ws.add_table(head, 0, last, len(COVERAGE_COLUMNS) - 1, {
        "name": "Coverage",
        "style": "Table Style Light 9",
        "columns": [{"header": c, **({"format": formats[c]} if c in formats else {})} for c in COVERAGE_COLUMNS],
    })
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 22)
    ws.set_column(2, len(COVERAGE_COLUMNS) - 1, 15)
    ws.freeze_panes(head + 1, 0)
