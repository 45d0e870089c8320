"""Print set-up for the map, results and comparison workbooks: every sheet prints on A4.

:func:`setup_print` is the one page set-up every sheet of ``map.xlsx``, ``results.xlsx``
and ``comparison.xlsx`` gets: A4, the orientation asked for, fitted to a page's width (or
to a few pages wide, with the first columns repeated, when one page would shrink the text
below about 70%, i.e. under 8 pt), header rows repeated on every page, the sheet's name at
the head and the document's name with "Page N of M" at the foot. Widths are judged by the
wider of Excel's rendering and LibreOffice's without Calibri (:func:`column_points`), so
text stays legible in both. A heat map or pivot too wide for one page prints at a fixed
scale with page breaks between its column groups (:func:`grid_layout`), its first columns
repeated, and its title on each page's own columns (:func:`page_titles`).

Around it, the layout those workbooks share when printed:

* :func:`heading`, a column's header in words ("Pot code", "Carry forward (years)")
  where the CSVs keep their snake_case names;
* :func:`text_height` and :func:`wrapped_row`, wrapped text with a row height to fit it
  (neither Excel nor LibreOffice can be relied on to size a row that was written with
  wrapped text);
* :class:`Meaning`, colour by meaning: a change that is better is green and one that is
  worse red, whatever its sign (less unmet need is better), and a change under half a unit
  shows as 0, never "-0" or "+0";
* :data:`PRINT_ROWS_MAX`, the length above which a table is left out of the print area
  (it stays on screen, filterable, and in its CSV) and :func:`out_of_print_note`, the
  printed line that says so.

Layout only: nothing here computes a figure.
"""

from __future__ import annotations

import math
from typing import Sequence

A4 = 9  # Excel's paper code
PORTRAIT_WIDTH_PT = 595.3
LANDSCAPE_WIDTH_PT = 841.9
MARGIN_IN = 0.3  # left and right
MARGIN_TOP_IN = 0.6  # top and bottom (the header and footer sit at 0.3)
MIN_SCALE = 0.70  # 11 pt text printed at 70% is 7.7 pt, about 8: the smallest we print
FOOTER_LIMIT = 255  # Excel's limit on a header or footer, codes included
PRINT_ROWS_MAX = 200  # a table longer than this is left out of print (screen, filter and CSV)
LINE_PT = 15.0  # the height of one line of 11 pt text

LEGEND = ("Colours show meaning, not sign: green is better, red is worse (less unmet need or idle money is "
          "better); budget, need and money allocated are not coloured. A change under half a unit shows as 0.")

# Headers in words, where the CSVs keep their column names. Anything not here is read from
# its name (``gain_value`` -> "Gain value").
HEADINGS = {
    "scenario": "Scenario", "level": "Level", "pot_code": "Pot code", "pot_name": "Pot", "area_code": "Area code",
    "area_name": "Area", "cohort_code": "Cohort code", "cohort_name": "Cohort", "year": "Year",
    "amount": "Amount (£)", "participants": "Participants", "outcomes": "Outcomes", "value": "Public value (£)",
    "programme": "Programme", "unit_cost": "Unit cost (£)", "outcome_rate": "Outcome rate",
    "stage": "Stage", "kind": "Kind", "reason": "Reason", "people": "People", "detail": "Detail",
    "rank": "Rank", "change": "Change", "gain_outcomes": "Gain (outcomes)", "gain_per_million": "Gain per £1m",
    "estimated_gain": "Estimated gain", "gain": "Gain", "gain_participants": "Gain (participants)",
    "gain_value": "Gain (public value, £)", "family": "Rule family", "description": "Description",
    "words": "In words", "dual": "Dual value", "shadow_price_per_million": "Shadow price per £1m", "unit": "Unit",
    "journey_stage": "Journey stage", "need_people": "Need (people)", "eligible_pots": "Eligible pots",
    "eligible_money": "Eligible money (£)", "provision_amount": "Provision (£)",
    "provision_people": "Provision (people)", "coverage": "Coverage", "budget": "Budget (£)",
    "status": "Status", "objective": "Objective", "solver": "Solver", "pool": "Pool", "file": "File",
    "carry_forward_years": "Carry forward (years)", "geography": "Geography", "department": "Department",
    "outcome": "Outcome", "gross_outcomes": "Gross outcomes", "net_outcomes": "Net additional outcomes",
    "fiscal": "Fiscal benefit (£)", "economic": "Economic benefit (£)", "social": "Social benefit (£)",
    "pv_benefits": "PV of benefits (£)", "pv_costs": "PV of costs (£)", "npsv": "NPSV (£)",
    "bcr": "Benefit–cost ratio",
}
_LEVEL_WORDS = {"baseline": "Baseline", "aligned": "Aligned", "pooled": "Pooled",
                "alignment": "Alignment dividend", "devolution": "Devolution dividend"}
_MEASURE_WORDS = {"allocated": "allocated (£)", "participants": "participants", "outcomes": "outcomes",
                  "value": "public value (£)", "unmet_people": "unmet need (people)", "idle_amount": "idle money (£)"}


def heading(column: str) -> str:
    """A column's header in words: ``pot_code`` -> "Pot code", ``pooled_idle_amount`` -> "Pooled: idle money (£)"."""
    if column in HEADINGS:
        return HEADINGS[column]
    level, _, measure = column.partition("_")
    if level in _LEVEL_WORDS and measure in _MEASURE_WORDS:
        return f"{_LEVEL_WORDS[level]}: {_MEASURE_WORDS[measure]}"
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def escape(text: str) -> str:
    """Text for an Excel header or footer: '&' is its control character, so a literal one is '&&'."""
    return " ".join(str(text).split()).replace("&", "&&")


def _footer(name: str) -> str:
    fixed = "&L&RPage &P of &N"
    room = FOOTER_LIMIT - len(fixed)
    words = escape(name)
    if len(words) > room:  # cut on a character, never inside an '&&'
        words = words[: room - 1].rstrip("&") + "…"
    return f"&L{words}&RPage &P of &N"


def column_pixels(widths: Sequence[float]) -> int:
    """Excel's screen width of columns given in characters (Calibri 11: 7 px a character, 5 px padding)."""
    return sum(int(w * 7 + 0.5) + 5 for w in widths)


def column_points(widths: Sequence[float]) -> float:
    """The printed width (points, at 100%) of columns given in characters, the wider of two renderings.

    Excel draws a character of width 7 px, 0.75 pt each (Calibri 11). LibreOffice without
    Calibri or its metric twin Carlito (a server with DejaVu Sans only, as in CI) sizes a
    character by its own font's digit, 7 pt: a third wider. Counting the wider keeps the
    printed text at :data:`MIN_SCALE` or more in both.
    """
    return float(sum(w * 7 + 5 for w in widths))


def pages_wide(widths: Sequence[float], landscape: bool) -> int:
    """How many pages across columns of ``widths`` need so as to print at :data:`MIN_SCALE` or more."""
    page = (LANDSCAPE_WIDTH_PT if landscape else PORTRAIT_WIDTH_PT) - 2 * 72 * MARGIN_IN
    return max(1, math.ceil(column_points(widths) * MIN_SCALE / page - 0.02))


def fits_portrait(widths: Sequence[float]) -> bool:
    """Whether columns of ``widths`` print on a portrait page's width at :data:`MIN_SCALE` or more."""
    return pages_wide(widths, landscape=False) == 1


def fitting_columns(widths: Sequence[float]) -> int:
    """How many of the leading columns of ``widths`` print on one landscape page's width (at least one)."""
    k = len(widths)
    while k > 1 and pages_wide(widths[:k], landscape=True) > 1:
        k -= 1
    return max(1, min(k, len(widths)))


def layout(widths: Sequence[float]) -> dict:
    """``landscape`` and ``fit_width`` for :func:`setup_print`: portrait when the columns fit a
    portrait page's width, else landscape, as many pages wide as keeps the text legible."""
    landscape = not fits_portrait(widths)
    return {"landscape": landscape, "fit_width": pages_wide(widths, landscape)}


def setup_print(ws, name: str, *, landscape: bool, repeat_rows: tuple[int, int] | int | None,
                print_area: tuple[int, int, int, int] | None = None, fit_width: int = 1,
                repeat_cols: tuple[int, int] | None = None, scale: int | None = None,
                v_breaks: Sequence[int] = ()) -> None:
    """A4 in the orientation asked, ``fit_width`` pages wide (as many tall as it takes), the rows
    ``repeat_rows`` (zero-based, first and last, or one row) at the top of every page, and
    ``repeat_cols`` at the left of every page when more than one page wide; ``print_area``
    (first row, first column, last row, last column) when not the whole sheet. With ``scale``
    (a percentage, from :func:`grid_layout`) the sheet prints at that scale instead, breaking
    to a new page before each column of ``v_breaks``, across and then down. The sheet's name
    heads each page; ``name`` (the document's name, input text allowed) and "Page N of M" are
    at its foot."""
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=MARGIN_TOP_IN, bottom=MARGIN_TOP_IN)
    if scale is not None:
        ws.set_print_scale(int(scale))
        if v_breaks:
            ws.set_v_pagebreaks(list(v_breaks))
        ws.print_across()
    else:
        ws.fit_to_pages(max(1, fit_width), 0)
    if repeat_rows is not None:
        first, last = (repeat_rows, repeat_rows) if isinstance(repeat_rows, int) else repeat_rows
        ws.repeat_rows(first, last)
    if repeat_cols is not None and (fit_width > 1 or v_breaks):
        ws.repeat_columns(*repeat_cols)
    if print_area is not None:
        ws.print_area(*print_area)
    ws.set_header("&R&A", {"margin": 0.3})
    ws.set_footer(_footer(name), {"margin": 0.3})


def grid_layout(fixed: Sequence[float], groups: Sequence[Sequence[float]], height: float) -> dict:
    """How to print a grid: ``fixed`` columns (repeated on every page) then ``groups`` of columns
    (a journey stage's cohorts) that a page never splits, ``height`` points tall at 100%.

    Returns :func:`setup_print`'s ``landscape``, ``scale`` and ``v_breaks`` (the first column of
    each page after the first), and ``first_page`` (how many columns the first page shows):
    the orientation that prints on fewest pages, at the largest scale that keeps each page's
    groups within its width (and, when that still leaves it :data:`MIN_SCALE` or more, the
    whole height on one page), never above 100%.
    """
    best = None
    for landscape in (True, False):
        page_w = (LANDSCAPE_WIDTH_PT if landscape else PORTRAIT_WIDTH_PT) - 2 * 72 * MARGIN_IN
        page_h = (PORTRAIT_WIDTH_PT if landscape else LANDSCAPE_WIDTH_PT) - 2 * 72 * MARGIN_TOP_IN
        parts: list[list[float]] = [[]]
        for group in groups:
            if parts[-1] and column_points([*fixed, *parts[-1], *group]) * MIN_SCALE > page_w:
                parts.append([])
            parts[-1].extend(group)
        widest = max(column_points([*fixed, *part]) for part in parts)
        scale = min(1.0, page_w / widest)
        if height * scale > page_h and page_h / height >= MIN_SCALE:
            scale = page_h / height  # one page tall, still legible
        down = max(1, math.ceil(height * scale / page_h - 0.005))
        breaks, at = [], len(fixed)
        for part in parts[:-1]:
            at += len(part)
            breaks.append(at)
        found = (len(parts) * down, -scale, {"landscape": landscape, "scale": max(10, int(scale * 100)),
                                             "v_breaks": breaks, "first_page": len(fixed) + len(parts[0])})
        if best is None or found[:2] < best[:2]:
            best = found
    return best[2]


def document_name(kind: str, case_name: str, scenario: str | None = None) -> str:
    """The name a printed page carries: ``Provision map: West Yorkshire``, with the scenario when one ran."""
    of = f"{case_name}, scenario '{scenario}'" if scenario else case_name
    return f"{kind}: {of}"


# ---- wrapped text ------------------------------------------------------------------------------
def text_lines(text: str, width: float, factor: float = 1.1) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (an estimate on the safe side)."""
    per_line = max(1.0, width * factor)  # text averages narrower than the digit a width counts
    lines = 0
    for part in str(text).split("\n"):
        words, line, count = part.split(" "), 0.0, 1
        for w in words:
            n = len(w)
            if line and line + 1 + n > per_line:
                count += 1
                line = 0.0
            if n > per_line:  # a long word breaks across lines
                count += int(n // per_line)
                n = n % per_line
            line = line + (1 if line else 0) + n
        lines += count
    return max(1, lines)


def text_height(cells: Sequence[tuple[str, float]], line: float = LINE_PT, bold: bool = False) -> float:
    """The row height (points) that shows every (text, column width) of ``cells`` wrapped in full."""
    lines = max((text_lines(t, w, 1.0 if bold else 1.1) for t, w in cells if t), default=1)
    return lines * line + 2


def wrapped_row(ws, row: int, first_col: int, last_col: int, text: str, fmt, widths: Sequence[float],
                line: float = LINE_PT) -> float:
    """``text`` across columns first..last (merged when more than one), wrapped, the row as tall as it
    needs (its height in points is returned).

    ``fmt`` must wrap (``text_wrap``); ``widths`` are the widths of those columns. The text is
    written as a string, so input text stays text.
    """
    if last_col > first_col:
        ws.merge_range(row, first_col, row, last_col, "", fmt)
    ws.write_string(row, first_col, text, fmt)
    room = (sum(widths) + 1.1 * (len(widths) - 1)) * min(1.0, LINE_PT / line)  # larger type, fewer characters
    height = text_height([(text, room)], line, bold=line > LINE_PT)
    ws.set_row(row, height)
    return height


def page_titles(ws, widths: Sequence[float], fixed: int, v_breaks: Sequence[int], lines: Sequence[tuple]) -> None:
    """Title rows for a sheet printed several pages across with its ``fixed`` first columns
    repeated (:func:`grid_layout`'s ``v_breaks``): each page's own columns carry each line,
    merged and wrapped, and the repeated columns carry none (a title merged across pages would
    be cut at the page's edge, and one in the repeated columns on every page after the first).

    ``lines`` are ``(row, text, continued, fmt, line_height)``: ``text`` on the first page,
    ``continued`` on the others. Without ``v_breaks`` each line spans every column from the first.
    """
    if not v_breaks:
        for row, text, _, fmt, line in lines:
            wrapped_row(ws, row, 0, len(widths) - 1, text, fmt, widths, line)
        return
    starts = [fixed, *v_breaks]
    ends = [b - 1 for b in v_breaks] + [len(widths) - 1]
    for row, text, continued, fmt, line in lines:
        height = 0.0
        for i, (a, b) in enumerate(zip(starts, ends)):
            height = max(height, wrapped_row(ws, row, a, b, text if i == 0 else continued, fmt, widths[a:b + 1], line))
        ws.set_row(row, height)


class TopAligned:
    """Top-aligned copies of a workbook's formats, for the rows of a printed table whose text wraps
    (a number beside wrapped text then sits on its first line, not its last)."""

    def __init__(self, wb):
        self.wb = wb
        self.text = wb.add_format({"valign": "top", "indent": 1})
        self.wrap = wb.add_format({"valign": "top", "text_wrap": True, "indent": 1})
        self._copies: dict[str, object] = {}

    def __call__(self, fmt=None):
        """The top-aligned copy of ``fmt``'s number format (plain top-aligned text for None)."""
        if fmt is None:
            return self.text
        key = str(getattr(fmt, "num_format", "") or "")
        if key not in self._copies:
            # Right-aligned with an indent, so that a number never touches the text beside it.
            self._copies[key] = self.wb.add_format({"num_format": key, "valign": "top", "align": "right", "indent": 1}
                                                   if key else {"valign": "top"})
        return self._copies[key]


def out_of_print_note(rows: int, csv_name: str | None) -> str:
    """The printed line on a sheet whose table is left out of print."""
    where = f"; {csv_name} holds the same rows" if csv_name else ""
    return (f"Not printed: the table below has {rows:,} rows. Filter it on screen and print the selection, "
            f"or print it from Page Setup after clearing the print area{where}.")


# ---- colour by meaning --------------------------------------------------------------------------
DELTA_MONEY = "+£#,##0;-£#,##0;£0"
DELTA_COUNT = "+#,##0;-#,##0;0"
GREEN = {"bg_color": "#C6EFCE", "font_color": "#006100"}
RED = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
HIGHER, LOWER = "higher", "lower"  # which way is better


class Meaning:
    """Signed formats for changes, and conditional colours that say whether a change is better.

    One per workbook (its formats belong to it). A change is a number that may be negative;
    :meth:`colour` styles a block of them: under half a unit (either way) it reads 0, unsigned
    and uncoloured; otherwise green when it goes the better way and red when the worse.
    """

    def __init__(self, wb, base: dict | None = None):
        add = wb.add_format
        base = base or {}
        self.money = add({**base, "num_format": DELTA_MONEY})
        self.count = add({**base, "num_format": DELTA_COUNT})
        self.money_total = add({**base, "num_format": DELTA_MONEY, "bold": True, "top": 1})
        self.count_total = add({**base, "num_format": DELTA_COUNT, "bold": True, "top": 1})
        self.zero_money = add({"num_format": "£0;£0;£0"})  # conditional: no sign, no colour
        self.zero_count = add({"num_format": "0;0;0"})
        self.green = add(GREEN)
        self.red = add(RED)

    def colour(self, ws, first_row: int, first_col: int, last_row: int, last_col: int, better: str | None,
               money: bool) -> None:
        """Style the changes in the block: 0 under half a unit; green better, red worse (``better``
        is :data:`HIGHER`, :data:`LOWER`, or None for a change that is neither)."""
        from xlsxwriter.utility import xl_rowcol_to_cell

        if first_row > last_row or first_col > last_col:
            return
        x = xl_rowcol_to_cell(first_row, first_col)
        ws.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({x}),ABS({x})<0.5)",
            "format": self.zero_money if money else self.zero_count, "stop_if_true": True})
        if better is None:
            return
        up, down = (self.green, self.red) if better == HIGHER else (self.red, self.green)
        ws.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({x}),{x}>=0.5)", "format": up})
        ws.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({x}),{x}<=-0.5)", "format": down})


def better_way(measure: str) -> str | None:
    """Which way a change in ``measure`` (a summary or comparison column) is better, or None for neither.

    More participants, outcomes and value are better; less unmet need and idle money are;
    budget, need and money allocated are inputs or follow from them, neither better nor worse.
    """
    m = measure
    for prefix in ("baseline_", "aligned_", "pooled_", "alignment_", "devolution_"):
        if m.startswith(prefix):
            m = m[len(prefix):]
            break
    if m in ("unmet_people", "idle_amount"):
        return LOWER
    if m in ("participants", "outcomes", "value"):
        return HIGHER
    return None
