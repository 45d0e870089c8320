"""A blank input workbook: the case contract laid out for a commissioner to fill in.

Sheets: ``read me`` (the text of ``templates/case-readme.md`` with the table and
settings lists filled in from :mod:`commissioning.inputs.schema`), then one sheet per table in
contract order with its exact header row, then the ``case`` settings sheet. Everything
a commissioner needs at the cell comes from the schema too: a comment on each header
(the column's meaning, and whether it is required), drop-downs for ``yes``/``no``,
``basis``, ``pots.pool_areas`` and ``rules.rule``, input messages on year, date and share
columns, and a text format on code and year columns so that Excel does not turn
``2025-26`` or ``0123`` into something else. The ``case`` sheet lists every setting, a
nested one (``transition``, ``protect``) as its dotted keys (``transition.max_change``),
each with its meaning as a comment, and drop-downs for ``objective`` and
``least_disruption``.

Nothing here creates a cell beyond the header row: validations and formats cover whole
columns, so a filled-in template reads back with no extra columns or tables.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from string import Template

from commissioning.inputs import schema as S
from commissioning.inputs.settings import sheet_keys
from commissioning.errors import OutputError
from commissioning.writers.files import new_workbook, output_file
from commissioning.writers.style import CASE_HEADER, ISO_DATE_FORMAT, SUBTITLE, TITLE, WRAP

README_SHEET = "read me"
LAST_ROW = 1_048_575  # the last row of a sheet (0-based), so validations cover the column

_TEXT_KINDS = {S.CODE, S.TEXT, S.CODE_LIST, S.CODE_OR_ALL, S.YEAR, S.YEAR_OR_ALL, S.CHOICE, S.YESNO}
_WIDTH = {S.TEXT: 30, S.CODE_LIST: 30, S.DATE: 12, S.YEAR: 10, S.YEAR_OR_ALL: 10}
_INPUT_MESSAGE = {
    S.YEAR: ("Financial year", "Write it like 2025-26 (1 April 2025 to 31 March 2026)."),
    S.YEAR_OR_ALL: ("Financial year or ALL", "Write it like 2025-26, or ALL for every year."),
    S.DATE: ("Date", "Write it like 2025-04-01 (year-month-day)."),
    S.CODE_LIST: ("Codes", "Codes separated by ';' (e.g. E08000032;E08000035), or ALL."),
    S.SHARE: ("Share", "A fraction from 0 to 1: write 25% as 0.25."),
}


def readme_text() -> str:
    """The read-me text, with the list of tables and settings taken from the schema."""
    raw = (files("commissioning.templates") / "case-readme.md").read_text(encoding="utf-8")
    tables = []
    for name in S.TABLE_ORDER:
        t = S.TABLES[name]
        tables.append(f"- {name} ({'required' if t.required else 'optional'}): {t.help}")
    settings = [f"- {key}: {meaning}" for key, meaning in sheet_keys().items()]
    return Template(raw).safe_substitute(tables="\n".join(tables), settings="\n".join(settings))


def column_comment(col: S.Column) -> str:
    """The comment on a header cell: what the column holds, and whether it must be filled."""
    return f"{col.name} ({'required' if col.required else 'optional'})\n{col.help}"


def _choices(col: S.Column) -> tuple[str, ...]:
    if col.kind == S.YESNO:
        return ("yes", "no")
    if col.kind == S.CHOICE:
        return col.choices
    return ()


def write_template(out: Path, force: bool = False) -> None:
    """Write a blank input workbook to ``out`` (atomically; an existing file needs ``force``)."""
    if Path(out).suffix.lower() != ".xlsx":  # a workbook under another name would open as nothing
        raise OutputError(f"cannot write the template as '{Path(out).name}': give a name ending in .xlsx")
    with output_file(Path(out), force) as tmp:
        wb = new_workbook(tmp)
        fmt = {
            "header": wb.add_format(CASE_HEADER),
            "optional": wb.add_format({"bold": True, "italic": True, "bg_color": "#EDEDED", "bottom": 1}),
            "as_text": wb.add_format({"num_format": "@"}),
            "date": wb.add_format({"num_format": ISO_DATE_FORMAT}),
            "title": wb.add_format(TITLE),
            "heading": wb.add_format(SUBTITLE),
            "text": wb.add_format(WRAP),
            "item": wb.add_format({"text_wrap": True, "valign": "top", "indent": 1}),
            "code": wb.add_format({"font_name": "Consolas", "indent": 2}),
        }
        _readme_sheet(wb, fmt)
        for name in S.TABLE_ORDER:
            _table_sheet(wb, S.TABLES[name], fmt)
        _settings_sheet(wb, fmt)
        wb.close()


def readme_paragraphs(text: str) -> list[tuple[str, str]]:
    """Split the read-me markdown into (style, text) paragraphs, one per cell.

    Styles: ``title`` (``#``), ``heading`` (``##``), ``item`` (``- ``), ``code`` (indented
    four spaces) and ``text``. Hard-wrapped lines are joined, so that Excel wraps them to
    the column's width instead.
    """
    out: list[tuple[str, str]] = []
    current: list[str] | None = None  # the paragraph being joined: [style, text]
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            current = None
            continue
        if line.startswith("#"):
            level, _, title = line.partition(" ")
            out.append(("title" if level == "#" else "heading", title.strip()))
            current = None
        elif line.startswith("    "):
            out.append(("code", stripped))
            current = None
        elif stripped.startswith("- "):
            current = ["item", "\u2022 " + stripped[2:]]
            out.append(tuple(current))  # replaced below as continuation lines arrive
        elif current is not None:
            current[1] += " " + stripped
            out[-1] = tuple(current)
        else:
            current = ["text", stripped]
            out.append(tuple(current))
    # Markdown's `code` marks read as plain text in a cell.
    return [(style, body.replace("`", "")) for style, body in out]


def _readme_sheet(wb, fmt) -> None:
    ws = wb.add_worksheet(README_SHEET)
    ws.set_column(0, 0, 110)
    row = 0
    previous = None
    for style, body in readme_paragraphs(readme_text()):
        if style in ("title", "heading") and row:
            row += 1  # a blank row before each section
        elif style == "text" and previous in ("item", "text"):
            row += 1
        ws.write_string(row, 0, body, fmt[style])
        row += 1
        previous = style
    ws.activate()


def _table_sheet(wb, table: S.Table, fmt) -> None:
    ws = wb.add_worksheet(table.name)
    for c, col in enumerate(table.columns):
        ws.write_string(0, c, col.name, fmt["header"] if col.required else fmt["optional"])
        ws.write_comment(0, c, column_comment(col), {"x_scale": 2.5, "y_scale": 1.5})
        width = max(len(col.name) + 3, _WIDTH.get(col.kind, 12))
        cell_format = fmt["as_text"] if col.kind in _TEXT_KINDS else fmt["date"] if col.kind == S.DATE else None
        ws.set_column(c, c, width, cell_format)
        choices = _choices(col)
        if choices:
            ws.data_validation(1, c, LAST_ROW, c, {
                "validate": "list",
                "source": list(choices),
                "input_title": col.name[:32],
                "input_message": ("One of: " + ", ".join(choices))[:255],
                "error_title": f"Not a valid {col.name}"[:32],
                "error_message": ("Choose one of: " + ", ".join(choices))[:255],
            })
        elif col.kind in _INPUT_MESSAGE:
            title, message = _INPUT_MESSAGE[col.kind]
            ws.data_validation(1, c, LAST_ROW, c, {
                "validate": "any", "input_title": title, "input_message": message,
            })
    ws.freeze_panes(1, 0)


def _settings_sheet(wb, fmt) -> None:
    ws = wb.add_worksheet("case")
    ws.write_string(0, 0, "key", fmt["header"])
    ws.write_string(0, 1, "value", fmt["header"])
    ws.write_comment(0, 1, "Leave a value empty for the default.", {"x_scale": 2})
    keys = sheet_keys()
    for r, (key, meaning) in enumerate(keys.items(), start=1):
        ws.write_string(r, 0, key)
        ws.write_comment(r, 0, meaning, {"x_scale": 2.5})
    for key, choices in (("objective", S.OBJECTIVES), ("least_disruption", ("yes", "no"))):
        row = list(keys).index(key) + 1
        ws.data_validation(row, 1, row, 1, {"validate": "list", "source": list(choices)})
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 40, fmt["as_text"])
    ws.freeze_panes(1, 0)
