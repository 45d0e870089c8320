"""A tiny case for agreement tests, and helpers to read an agreement by its headers.

The case is :mod:`casefactory`'s tiny case with every optional table, made feasible for
all three levels by letting SKILLS count as match (WORK needs £0.10 of match per £1 in
Southvale), with agreement settings. By hand:

* SKILLS and LOCAL are poolable: the pool is {SKILLS, LOCAL}; WORK is retained.
* WORK carries money forward one year, so its budget is checked over three windows:
  2025-26 (≤ £50,000), 2026-27 (≤ £100,000: both budgets can reach it) and both years
  together (≤ £100,000).
* The rules are SKILLS YOUNG ≤ 60% of SKILLS's money in each year (£60,000 in 2025-26,
  £72,000 in 2026-27) and WORK OLDER in footprint F1 (both areas) ≥ £5,000 in 2026-27.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from casefactory import changed, write_tiny_case
from commissioning.analysis.agreement_layout import ALLOC_HEADERS, CHECK_HEADERS, column_keys
from commissioning.cli import main
from commissioning.writers.agreement.layout import HEADINGS

AGREEMENT_SETTINGS = {
    "name": "Tiny case",
    "parties": ["Northtown Council", "Southvale Council", "Department for Work and Pensions"],
    "lead_body": "Northtown Council",
    "term_years": 2,
    "start_year": "2025-26",
}


def write_agreement_case(folder: Path, **tables) -> Path:
    """The tiny agreement case (see the module docstring); ``tables`` replace tables as in casefactory."""
    tables.setdefault("pots", changed("pots", 0, optional=True, can_match="yes"))
    return write_tiny_case(folder, optional=True, case_yaml=AGREEMENT_SETTINGS, **tables)


def cli(*args: str):
    """Run the command line in-process; the result has exit_code, stdout and stderr."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def header(ws, *names: str, search: int = 40) -> tuple[int, dict[str, int]]:
    """The row holding every one of ``names`` and a map of its headers to column numbers.

    ``names`` are the columns' keys (``pot_code``, ``holds``, ``total (£)``…): the workbook shows
    headers in words ("Pot code"), which are found through the same maps ``commissioning check``
    reads them by (and the keys themselves, as older workbooks have them). The map returned has
    both the words and the keys."""
    for r in range(1, min(ws.max_row, search) + 1):
        cols = {ws.cell(r, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(r, c).value is not None}
        for words in (ALLOC_HEADERS, CHECK_HEADERS, HEADINGS, {}):
            keys = column_keys(cols, words)
            if all(n in keys for n in names):
                return r, keys
    raise AssertionError(f"no header row with {names} on sheet {ws.title!r}")


def allocation_rows(ws) -> list[dict]:
    """Every allocation row of the Allocations sheet (rows with a pot code), with its row number and
    its cells by column key (and by header words)."""
    head, cols = header(ws, "pot_code", "amount")
    out = []
    for r in range(head + 1, ws.max_row + 1):
        if ws.cell(r, cols["pot_code"]).value in (None, "", "pot_code", ALLOC_HEADERS["pot_code"]):
            continue
        row = {name: ws.cell(r, c).value for name, c in cols.items()}
        row["_row"] = r
        row["_amount_cell"] = f"{get_column_letter(cols['amount'])}{r}"
        out.append(row)
    return out


def defined_cell(wb, name: str):
    """The cell a workbook-level defined name points at."""
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")]
