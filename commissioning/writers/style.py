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
        """A live formula with its cached result (so viewers that do not recalculate show it)."""
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            value = None
        ws.write_formula(row, col, formula, fmt, value if value is not None else 0)

    # ---- blocks --------------------------------------------------------------------------
    def frame_table(self, ws, top: int, frame: pd.DataFrame, name: str, formats: dict[str, Any] | None = None,
                    widths: dict[str, float] | None = None, headers: Sequence[str] | None = None,
                    left: int = 0) -> int:
        """Write a DataFrame as an Excel table with filters; return the last row used.

        Numbers in columns named in ``formats`` are written as numbers with that format;
        everything else as text. An empty frame still gets its header and one blank row
        (Excel tables need a body row).
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
            for r, v in zip(rows[text].tolist(), values[text].tolist()):
                write_string(r, col, str(v))
        last = top + max(len(frame), 1)
        heads = list(headers) if headers is not None else cols
        ws.add_table(top, left, last, left + len(cols) - 1, {
            "name": name,
            "style": "Table Style Light 9",
            "autofilter": True,
            "columns": [{"header": h, **({"format": formats[c]} if c in formats else {})}
                        for h, c in zip(heads, cols)],
        })
        for j, c in enumerate(cols):
            ws.set_column(left + j, left + j, (widths or {}).get(c, 14))
        return last

    def print_setup(self, ws, header_rows: tuple[int, int] | None = None, footer_left: str = "",
                    title: str = "") -> None:
        """Landscape A4, fit to one page wide, repeated header rows, page numbers in the footer.

        ``footer_left`` and ``title`` must not carry input text ('&' is a control character
        in Excel headers); callers pass fixed words and hex fingerprints only.
        """
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        if header_rows is not None:
            ws.repeat_rows(*header_rows)
        head = f'&L&"-,Bold"{title}&R&A' if title else "&R&A"
        ws.set_header(head)
        ws.set_footer(f"&L{footer_left}&CPage &P of &N&R&D")
