"""Shared layout for the finance workbooks (``results.xlsx``, ``agreement.xlsx``).

The cell styles every workbook shares (title, header, note, the case sheets' header row,
ISO dates) are stated here once, for these two and for the map, comparison, case and
template workbooks.

One place for the house formats (money as ``£#,##0``, people to one decimal, shares as
percentages), for writing input text as text, for Excel tables with filters and for
print set-up, so the two workbooks look and print alike. Layout only: nothing here
computes a figure.

Every workbook comes from :func:`commissioning.writers.files.new_workbook`, in which no string
becomes a formula, link or number; on top of that, text taken from inputs is written
with ``write_string`` only (:meth:`Book.text`), so a pot called ``=HYPERLINK("http://x","y")``
stays those characters in every cell.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from commissioning.writers.files import new_workbook

if TYPE_CHECKING:
    import pandas as pd

MONEY_FORMAT = "£#,##0;[Red]-£#,##0"
PENCE_FORMAT = "£#,##0.00;[Red]-£#,##0.00"
PEOPLE_FORMAT = "#,##0.0;[Red]-#,##0.0"
SHARE_FORMAT = "0.0%"
RATE_FORMAT = "0.000"
WHOLE_FORMAT = "#,##0"
ISO_DATE_FORMAT = "yyyy-mm-dd"
# The same without red negatives, for figures whose negative is not bad (a change, a dividend,
# a saving): the colour of a figure says better or worse by its meaning (:meth:`Book.colour_by_meaning`),
# never by its sign. Zero shows as "–"; a value under half a unit is shown as "–" too by
# :meth:`Book.no_signed_zero`, so "-0" and "-£0" never print.
PLAIN_MONEY_FORMAT = '£#,##0;-£#,##0;"–"'  # whole pounds
PLAIN_PENCE_FORMAT = '£#,##0.00;-£#,##0.00;"–"'
PLAIN_PEOPLE_FORMAT = '#,##0.0;-#,##0.0;"–"'  # people to one decimal (working sheets)
WHOLE_PEOPLE_FORMAT = '#,##0;-#,##0;"–"'  # whole people (board-facing sheets; the value stays exact)
DELTA_MONEY_FORMAT = '+£#,##0;-£#,##0;"–"'  # a change, signed
DELTA_PEOPLE_FORMAT = '+#,##0;-#,##0;"–"'
NIL_FORMAT = '"–";"–";"–"'  # what a value under half a unit shows (conditional)

# Cell styles (xlsxwriter format properties) that more than one workbook uses.
TITLE = {"bold": True, "font_size": 14}
SUBTITLE = {"bold": True, "font_size": 12}
HEADER = {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#D9D9D9", "bottom": 1}
CASE_HEADER = {"bold": True, "bg_color": "#DDEBF7", "bottom": 1}  # a case sheet's header row (convert, template)
BOLD = {"bold": True}
WRAP = {"text_wrap": True, "valign": "top"}
NOTE = {"italic": True, "font_color": "#595959"}
WARN = {"italic": True, "font_color": "#9C0006"}
TOTAL_LABEL = {"bold": True, "top": 1}
GREEN = {"bg_color": "#C6EFCE", "font_color": "#006100"}
RED = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
HIGHER, LOWER = "higher", "lower"  # which way a change is better (:meth:`Book.colour_by_meaning`)

# ---- print ------------------------------------------------------------------------------------------
A4 = 9  # Excel's paper code
PAGE_WIDTH_PT = {False: 595.3, True: 841.9}  # A4 portrait, landscape
PAGE_HEIGHT_PT = {False: 841.9, True: 595.3}
PRINT_MARGIN_IN = 0.4  # left and right
PRINT_MARGIN_TOP_IN = 0.6  # top and bottom
MIN_PRINT_SCALE = 0.70  # 11 pt text printed at 70% is 7.7 pt, about 8: the smallest we print
PORTRAIT_SCALE = 0.75  # portrait when the columns print at this scale or more on a portrait page
PRINT_ROWS_MAX = 200  # a table longer than this is left out of the print area (screen, filter, its CSV)
LINE_PT = 15.0  # the height of one line of 11 pt text
FOOTER_LIMIT = 255  # Excel's limit on a header or footer, codes included


# LibreOffice sizes a column by the digit width of the workbook's default font; where Calibri's
# metric twin (Carlito) is not installed it falls back to a wider font (DejaVu Sans) and every
# column comes out about a third wider than in Excel. Layouts are chosen to stay legible there too.
LIBREOFFICE_WIDTH_FACTOR = 1.33


def column_pixels(widths: Sequence[float]) -> int:
    """Excel's screen width of columns given in characters (Calibri 11: 7 px a character, 5 px padding)."""
    return sum(int(w * 7 + 0.5) + 5 for w in widths)


def print_scale(widths: Sequence[float], landscape: bool, factor: float = LIBREOFFICE_WIDTH_FACTOR) -> float:
    """The scale at which columns of ``widths`` fit one A4 page's width (at most 1), their width
    taken ``factor`` times Excel's (by default the worst case: LibreOffice without Carlito)."""
    page = PAGE_WIDTH_PT[landscape] - 2 * 72 * PRINT_MARGIN_IN
    return min(1.0, page / (column_pixels(widths) * 0.75 * factor))


def print_landscape(widths: Sequence[float]) -> bool:
    """Landscape unless the columns print at :data:`PORTRAIT_SCALE` or more on a portrait page."""
    return print_scale(widths, landscape=False) < PORTRAIT_SCALE


def _char_width(ch: str) -> float:
    """A character's width in digit widths (the unit of a column's width), on the wide side: capitals
    and symbols are wider than a digit, lower case and punctuation narrower (Calibri and DejaVu alike)."""
    if ch == " ":
        return 0.5
    if ch in ".,;:'!|il()[]ftj-":
        return 0.6 if ch in ";:" else 0.5
    if ch.isupper() or ch in "%@&#=_~mwMW£€":
        return 1.15
    if ch.islower():
        return 0.9
    return 1.0


def text_lines(text: str, width: float, factor: float = 1.0) -> int:
    """How many lines ``text`` wraps to, word by word, in a column ``width`` characters (digit widths)
    wide: an estimate on the safe side (each character weighed by :func:`_char_width`, times ``factor``)."""
    per_line = max(1.0, width * 0.97)
    lines = 0
    for part in str(text).split("\n"):
        line, count = 0.0, 1
        for word in part.split(" "):
            n = sum(_char_width(ch) for ch in word) * factor
            if line and line + 0.5 + n > per_line:
                count += 1
                line = 0.0
            if n > per_line:  # a long word breaks across lines
                count += int(n // per_line)
                n = n % per_line
            line = line + (0.5 if line else 0) + n
        lines += count
    return max(1, lines)


def text_height(cells: Sequence[tuple[Any, float]], line: float = LINE_PT, bold: bool = False) -> float:
    """The row height (points) that shows every (text, column width) of ``cells`` wrapped in full.

    Neither Excel nor LibreOffice can be relied on to size a row written with wrapped text, so
    every row whose text wraps gets this height."""
    lines = max((text_lines(str(t), w, 1.07 if bold else 1.0) for t, w in cells if not is_blank(t) and str(t)),
                default=1)
    return lines * line + 2


def footer_words(text: str) -> str:
    """Text for an Excel header or footer: '&' is its control character, so a literal one is '&&'."""
    return " ".join(str(text).split()).replace("&", "&&")


def cell(row: int, col: int, absolute: bool = False) -> str:
    """A1 reference of a zero-based (row, col)."""
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def col_range(col: int, first: int, last: int) -> str:
    """``$K$8:$K$300`` for a column between two zero-based rows."""
    name = xl_col_to_name(col)
    return f"${name}${first + 1}:${name}${last + 1}"


def sheet_ref(sheet: str, ref: str) -> str:
    """``'Pooled budget'!$F$7``: a reference on another sheet (names are always quoted)."""
    return "'" + sheet.replace("'", "''") + "'!" + ref


def is_blank(value: Any) -> bool:
    """Whether a cell value is missing: None, NaN, or anything else pandas counts as missing (never a string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, str):
        return False
    import pandas as pd  # here, not at the top: the template workbook needs the styles, not pandas

    return pd.isna(value)


class Book:
    """An xlsxwriter workbook with the house formats."""

    def __init__(self, path: Path):
        self.wb = new_workbook(path)
        add = self.wb.add_format
        self.title = add(TITLE)
        self.subtitle = add(SUBTITLE)
        self.note = add(NOTE)
        self.warn = add(WARN)
        self.header = add(HEADER)
        self.bold = add(BOLD)
        self.wrap = add(WRAP)
        self.label = add({"bold": True, "valign": "top"})
        self.money = add({"num_format": MONEY_FORMAT})
        self.pence = add({"num_format": PENCE_FORMAT})
        self.people = add({"num_format": PEOPLE_FORMAT})
        self.share = add({"num_format": SHARE_FORMAT})
        self.rate = add({"num_format": RATE_FORMAT})
        self.whole = add({"num_format": WHOLE_FORMAT})
        self.centre = add({"align": "center", "valign": "top"})
        self.date = add({"num_format": "d mmmm yyyy", "align": "left"})
        self.money_total = add({"num_format": MONEY_FORMAT, "bold": True, "top": 1})
        self.people_total = add({"num_format": PEOPLE_FORMAT, "bold": True, "top": 1})
        self.whole_total = add({"num_format": WHOLE_FORMAT, "bold": True, "top": 1})
        self.total_label = add(TOTAL_LABEL)
        self.input_money = add({"num_format": PENCE_FORMAT, "bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF"})
        self.sub_label = add({"bold": True, "bg_color": "#DDEBF7"})
        self.sub_money = add({"bold": True, "bg_color": "#DDEBF7", "num_format": MONEY_FORMAT})
        self.sub_people = add({"bold": True, "bg_color": "#DDEBF7", "num_format": PEOPLE_FORMAT})
        self.sub_blank = add({"bg_color": "#DDEBF7"})
        self.ok = add({"bold": True, "align": "center"})
        self.big_ok = add({"bold": True, "font_size": 14, "align": "center", "border": 2})
        self.green = add({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.red = add({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.changed = add({"bg_color": "#FCE4D6"})
        self._top_copies: dict[tuple[str, bool], Any] = {}
        self.array_exact = False  # see formula()
        # Formats without red negatives (see PLAIN_MONEY_FORMAT), and for printed tables.
        self.plain_money = add({"num_format": PLAIN_MONEY_FORMAT})
        self.plain_money_top = add({"num_format": PLAIN_MONEY_FORMAT, "valign": "top"})
        self.plain_pence = add({"num_format": PLAIN_PENCE_FORMAT})
        self.plain_people = add({"num_format": PLAIN_PEOPLE_FORMAT})
        self.whole_people = add({"num_format": WHOLE_PEOPLE_FORMAT})
        self.whole_people_top = add({"num_format": WHOLE_PEOPLE_FORMAT, "valign": "top"})
        self.plain_money_total = add({"num_format": PLAIN_MONEY_FORMAT, "bold": True, "top": 1})
        self.plain_money_bold = add({"num_format": PLAIN_MONEY_FORMAT, "bold": True})
        self.whole_people_bold = add({"num_format": WHOLE_PEOPLE_FORMAT, "bold": True})
        self.plain_people_total = add({"num_format": PLAIN_PEOPLE_FORMAT, "bold": True, "top": 1})
        self.whole_people_total = add({"num_format": WHOLE_PEOPLE_FORMAT, "bold": True, "top": 1})
        self.sub_plain_money = add({"bold": True, "bg_color": "#DDEBF7", "num_format": PLAIN_MONEY_FORMAT})
        self.sub_plain_people = add({"bold": True, "bg_color": "#DDEBF7", "num_format": PLAIN_PEOPLE_FORMAT})
        self.delta_money = add({"num_format": DELTA_MONEY_FORMAT})
        self.delta_people = add({"num_format": DELTA_PEOPLE_FORMAT})
        self.delta_people_top = add({"num_format": DELTA_PEOPLE_FORMAT, "valign": "top"})
        self.nil = add({"num_format": NIL_FORMAT})  # conditional: under half a unit, no sign, no colour
        self.better = add(GREEN)
        self.worse = add(RED)
        self.wrap_note = add({**NOTE, **WRAP})
        self.wrap_indent = add({**WRAP, "indent": 1})  # wrapped text beside a right-aligned number
        self.wrap_label = add({"bold": True, "valign": "top", "text_wrap": True})
        self.warn_wrap = add({**WARN, **WRAP})
        self.bold_right = add({"bold": True, "align": "right", "valign": "top"})
        self.top = add({"valign": "top"})

    def close(self) -> None:
        """Finish the workbook and write the file."""
        self.wb.close()

    # ---- cells ---------------------------------------------------------------------------
    def text(self, ws, row: int, col: int, value: Any, fmt=None) -> None:
        """Input text, always a string cell (never a formula, link or number)."""
        if is_blank(value):
            return
        ws.write_string(row, col, str(value), fmt)

    def number(self, ws, row: int, col: int, value: Any, fmt=None) -> None:
        """A number cell (written as a float) in ``fmt``; nothing for a blank value."""
        if is_blank(value):
            return
        ws.write_number(row, col, float(value), fmt)

    def formula(self, ws, row: int, col: int, formula: str, fmt=None, value: Any = None) -> None:
        """A live formula with its cached result (so viewers that do not recalculate show it).

        With :attr:`array_exact` set, a formula that compares a range with EXACT is array-entered
        (one cell): Excel and LibreOffice give it the same value either way, and Gnumeric, whose
        EXACT does not take a range outside an array formula, computes it too."""
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            value = None
        value = value if value is not None else 0
        if self.array_exact and "EXACT(" in formula and not isinstance(value, bool):
            ws.write_array_formula(row, col, row, col, "{" + formula + "}", fmt, value)
        else:
            ws.write_formula(row, col, formula, fmt, value)

    def wrapped(self, ws, row: int, col: int, text: str, width: float, fmt=None, line: float = LINE_PT) -> None:
        """Input or fixed text that wraps in a column ``width`` characters wide, the row made tall enough
        (never lower than it already is for this call's other cells: use :meth:`row_height` for a row of several)."""
        ws.write_string(row, col, str(text), fmt if fmt is not None else self.wrap)
        ws.set_row(row, text_height([(text, width)], line))

    @staticmethod
    def row_height(ws, row: int, cells: Sequence[tuple[Any, float]], line: float = LINE_PT, bold: bool = False,
                   fmt=None, options: dict | None = None) -> None:
        """Set ``row`` tall enough for every (text, width) of ``cells`` wrapped (one line: left as it is)."""
        height = text_height(cells, line, bold)
        if height > line + 2 or fmt is not None or options:
            ws.set_row(row, height, fmt, options or {})

    def top_formats(self):
        """A function giving the top-aligned copy of a format's number format, for the numbers of a
        table whose text wraps (a number beside wrapped text then sits on its first line)."""
        copies = self._top_copies

        def top(fmt=None):
            num = str(getattr(fmt, "num_format", "") or "") if fmt is not None else ""
            bold = bool(getattr(fmt, "bold", False)) if fmt is not None else False
            if (num, bold) not in copies:
                copies[num, bold] = self.wb.add_format({**({"num_format": num} if num else {}),
                                                        **({"bold": True} if bold else {}), "valign": "top"})
            return copies[num, bold]

        return top

    def no_signed_zero(self, ws, first_row: int, first_col: int, last_row: int, last_col: int,
                       half: float = 0.5) -> None:
        """A value under ``half`` a unit of its format either way (0.5: whole; 0.005: pence) shows as
        "–" in the block, never "-0", "-£0" or "+0"."""
        if first_row > last_row or first_col > last_col:
            return
        x = cell(first_row, first_col)
        ws.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({x}),ABS({x})<{half:g})", "format": self.nil,
            "stop_if_true": True})

    def colour_by_meaning(self, ws, first_row: int, first_col: int, last_row: int, last_col: int,
                          better: str | None) -> None:
        """Colour the changes in the block by what they mean, not their sign: green when the change
        goes the better way (``better`` is :data:`HIGHER` or :data:`LOWER`), red when the worse;
        under half a unit, "–" and no colour; ``better`` None: no colour (neither better nor worse)."""
        self.no_signed_zero(ws, first_row, first_col, last_row, last_col)
        if better is None or first_row > last_row or first_col > last_col:
            return
        x = cell(first_row, first_col)
        up, down = (self.better, self.worse) if better == HIGHER else (self.worse, self.better)
        ws.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({x}),{x}>=0.5)", "format": up})
        ws.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({x}),{x}<=-0.5)", "format": down})

    # ---- blocks --------------------------------------------------------------------------
    def frame_table(self, ws, top: int, frame: pd.DataFrame, name: str, formats: dict[str, Any] | None = None,
                    widths: dict[str, float] | None = None, headers: Sequence[str] | None = None,
                    left: int = 0, wrapped: Sequence[str] = (), header_format=None) -> int:
        """Write a DataFrame as an Excel table with filters; return the last row used.

        Numbers in columns named in ``formats`` are written as numbers with that format;
        everything else as text. An empty frame still gets its header and one blank row
        (Excel tables need a body row). ``headers`` are the header cells' words (default: the
        column names); ``header_format`` their format, with the header row as tall as its
        wrapped words need. Text in the columns named in ``wrapped`` wraps, top-aligned, each
        row as tall as it needs.
        """
        import numpy as np

        formats = formats or {}
        cols = list(frame.columns)
        rows = np.arange(top + 1, top + 1 + len(frame))
        # Column by column: which cells are blank and which are numbers is decided once per
        # column with pandas, so the loop left per cell is the write itself (at national size
        # a million cells: the per-cell checks were a third of the workbook's time).
        for j, c in enumerate(cols):
            values = frame[c].to_numpy(dtype=object)
            blank = frame[c].isna().to_numpy()
            if c in formats:
                numeric = np.fromiter((isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values),
                                      dtype=bool, count=len(values)) & ~blank
            else:
                numeric = np.zeros(len(values), dtype=bool)
            write_number, write_string, col, fmt = ws.write_number, ws.write_string, left + j, formats.get(c)
            for r, v in zip(rows[numeric].tolist(), values[numeric].tolist()):
                write_number(r, col, float(v), fmt)
            text = ~numeric & ~blank
            wrap_fmt = self.wrap_indent if c in wrapped else (self.top if wrapped else None)
            for r, v in zip(rows[text].tolist(), values[text].tolist()):
                write_string(r, col, str(v), wrap_fmt)
        last = top + max(len(frame), 1)
        heads = list(headers) if headers is not None else cols
        width = {c: (widths or {}).get(c, 14) for c in cols}
        ws.add_table(top, left, last, left + len(cols) - 1, {
            "name": name,
            "style": "Table Style Light 9",
            "autofilter": True,
            "columns": [{"header": h, **({"format": formats[c]} if c in formats else {}),
                         **({"header_format": header_format} if header_format is not None else {})}
                        for h, c in zip(heads, cols)],
        })
        for j, c in enumerate(cols):
            ws.set_column(left + j, left + j, width[c])
        if header_format is not None:
            self.row_height(ws, top, list(zip(heads, (width[c] for c in cols))), bold=True)
        if wrapped:
            texts = [frame[c].to_numpy(dtype=object) for c in wrapped if c in frame.columns]
            cw = [width[c] for c in wrapped if c in frame.columns]
            for i in range(len(frame)):
                self.row_height(ws, top + 1 + i, [(t[i], w) for t, w in zip(texts, cw)])
        return last

    @staticmethod
    def page_setup(ws, name: str, widths: Sequence[float], *, repeat_rows: tuple[int, int] | None = None,
                   print_area: tuple[int, int, int, int] | None = None, landscape: bool | None = None,
                   header_right: str = "") -> float:
        """A4, fitted to one page's WIDTH (as many pages tall as it takes), in the orientation that
        keeps the text largest (portrait when the printed columns, of ``widths``, print at
        :data:`PORTRAIT_SCALE` or more; else landscape), ``repeat_rows`` (zero-based first and last)
        at the top of every page, ``print_area`` (first row, first column, last row, last column)
        when not the whole sheet. The sheet's name (and ``header_right``, at the right) heads each
        page; ``name`` (the document's name, input text allowed) and "Page N of M" are at its foot. Returns the scale
        the page will print at in the worst case (:data:`LIBREOFFICE_WIDTH_FACTOR`; callers keep it
        at :data:`MIN_PRINT_SCALE` or more). A sheet of one column must fit at full size: LibreOffice
        never shrinks a single column, it cuts it at the page's edge."""
        if landscape is None:
            landscape = print_landscape(widths)
        ws.set_paper(A4)
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.set_margins(left=PRINT_MARGIN_IN, right=PRINT_MARGIN_IN, top=PRINT_MARGIN_TOP_IN,
                       bottom=PRINT_MARGIN_TOP_IN)
        ws.fit_to_pages(1, 0)
        if repeat_rows is not None:
            ws.repeat_rows(*repeat_rows)
        if print_area is not None:
            ws.print_area(*print_area)
        # The header and footer keep their size (not scaled with the sheet): the sheet's name and the
        # fingerprint at the head, the document's name and the page number at the foot.
        options = {"margin": 0.3, "scale_with_doc": False}
        right = f"&R{footer_words(header_right)}" if header_right else ""
        ws.set_header(f'&L&"-,Bold"&A{right}', options)
        fixed = "&L&RPage &P of &N"
        words = footer_words(name)
        room = FOOTER_LIMIT - len(fixed)
        if len(words) > room:  # cut on a character, never inside an '&&'
            words = words[: room - 1].rstrip("&") + "…"
        ws.set_footer(f"&L{words}&RPage &P of &N", options)
        return print_scale(widths, landscape)
