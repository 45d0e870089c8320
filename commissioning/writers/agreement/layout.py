"""The agreement workbook's shared layout: column positions, sizes, and the anchors sheets pass on.

The sheets are written in a fixed order (see :mod:`commissioning.writers.agreement`); a sheet
whose formulas point into an earlier one reads that sheet's **anchors** — the cells it
published — here as one frozen dataclass per publishing sheet:

* :class:`AssumptionsAnchors` — from *Assumptions and evidence*: each area's code cell, each
  need cell's people, each footprint's rows of the footprint table;
* :class:`AllocationsAnchors` — from *Allocations*: the rows every allocation range covers
  (later sheets reach those rows through the ``alloc_*`` names instead);
* :class:`PooledBudgetAnchors` — from *Pooled budget*: each pot's budget and spend rows, each
  year's column, each pot's code and match-rate cells, and the total cells;
* :class:`ChecksAnchors` — from *Checks*: the rows of the need checks.

Most links go through the workbook's defined names instead (``alloc_amount``,
``total_allocated``, ``all_checks_hold``…): each sheet module's docstring lists those it
defines and those it uses.

Sheet names and column headers live at the analysis layer
(:mod:`commissioning.analysis.agreement_layout`), because ``commissioning check`` reads them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from commissioning.analysis.agreement_layout import ALLOC_COLUMNS, CHECK_COLUMNS
from commissioning.writers.style import Book, sheet_ref

SLACK_ROWS = 500  # rows below the proposal that every allocation range (and check) already covers
MAX_ELIGIBILITY_WORK = 40_000_000  # allocation rows × eligible keys above which the sheet leaves eligibility to `check`
MAX_LITERAL_AREAS = 100  # a footprint with more areas is matched against its rows of the footprint table

# Allocations sheet columns (zero-based).
AC = {name: i for i, name in enumerate(ALLOC_COLUMNS)}
ALLOC_NAMES = {"alloc_ref": "ref", "alloc_pot": "pot_code", "alloc_area": "area_code", "alloc_cohort": "cohort_code",
               "alloc_year": "year", "alloc_programme": "programme", "alloc_amount": "amount",
               "alloc_proposed": "proposed (£)", "alloc_unit_cost": "unit_cost", "alloc_participants": "participants",
               "alloc_outcomes": "outcomes", "alloc_value": "value", "alloc_eligible": "eligible"}

# Checks sheet columns (zero-based).
CC = {name: i for i, name in enumerate(CHECK_COLUMNS)}

FOOTER = "Local Labour Market Agreement — DRAFT"


@dataclass(frozen=True)
class AssumptionsAnchors:
    """What *Assumptions and evidence* publishes: absolute references, sheet included."""

    area_cell: dict[str, str]  # area code -> its code cell in the Areas table
    need_cell: dict[tuple[str, str, str], str]  # (area, cohort, year) -> its people cell in NeedEvidence
    footprint_range: dict[str, str]  # footprint code -> its rows of the Footprints table's area_code column


@dataclass(frozen=True)
class AllocationsAnchors:
    """What *Allocations* publishes: the zero-based rows every ``alloc_*`` range spans."""

    first: int  # the first allocation row (below the header)
    last: int  # the last row covered (the proposal plus :data:`SLACK_ROWS`)


@dataclass(frozen=True)
class PooledBudgetAnchors:
    """What *Pooled budget* publishes: zero-based rows and columns of its two grids, and cells."""

    year_col: dict[str, int]  # year -> its column (both grids)
    budget_row: dict[str, int]  # pot -> its row in the budget grid (block 1)
    spend_row: dict[str, int]  # pot -> its row in the planned-spend grid (block 2)
    pot_code_cell: dict[str, str]  # pot -> its code cell (absolute, sheet included)
    match_rate_cell: dict[str, str]  # pot -> its match-rate cell (absolute, sheet included)
    pool_total: str  # the budget contributed to the pool over the term
    budget_total: str  # every pot's budget over the term
    spend_total: str  # the planned spend over the term


@dataclass(frozen=True)
class ChecksAnchors:
    """What *Checks* publishes: the first and last zero-based rows of the need checks (None: none)."""

    need_rows: tuple[int, int] | None


def define_name(book: Book, name: str, sheet: str, ref: str) -> None:
    """Define the workbook name ``name`` as ``ref`` on ``sheet``."""
    book.wb.define_name(name, "=" + sheet_ref(sheet, ref))


def print_setup(book: Book, ws, header_row: int | None, title: str, fingerprint: str) -> None:
    """The house print set-up for an agreement sheet: ``header_row`` repeated on every page, and
    the footer naming the draft and the inputs' fingerprint."""
    book.print_setup(ws, None if header_row is None else (header_row, header_row),
                     footer_left=f"{FOOTER} — inputs {fingerprint}", title=title)


def worksheet(book: Book, name: str):
    """The sheet ``name`` of ``book`` (every sheet is added, in order, before any is written)."""
    return book.wb.get_worksheet_by_name(name)


__all__ = ["SLACK_ROWS", "MAX_ELIGIBILITY_WORK", "MAX_LITERAL_AREAS", "ALLOC_COLUMNS", "AC", "ALLOC_NAMES",
           "CHECK_COLUMNS", "CC", "FOOTER", "AssumptionsAnchors", "AllocationsAnchors", "PooledBudgetAnchors",
           "ChecksAnchors", "define_name", "print_setup", "worksheet"]
