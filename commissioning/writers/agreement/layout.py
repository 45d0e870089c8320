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

from typing import Sequence

from commissioning.analysis.agreement_layout import ALLOC_COLUMNS, ALLOC_HEADERS, CHECK_COLUMNS, CHECK_HEADERS
from commissioning.writers.style import PRINT_ROWS_MAX, Book, sheet_ref

SLACK_ROWS = 500  # rows below the proposal that every allocation range (and check) already covers
MAX_ELIGIBILITY_WORK = 40_000_000  # allocation rows × eligible keys above which the sheet leaves eligibility to `check`
MAX_LITERAL_AREAS = 100  # a footprint with more areas is matched against its rows of the footprint table

# Allocations sheet columns (zero-based).
AC = {name: i for i, name in enumerate(ALLOC_COLUMNS)}
ALLOC_NAMES = {"alloc_ref": "ref", "alloc_pot": "pot_code", "alloc_area": "area_code", "alloc_cohort": "cohort_code",
               "alloc_year": "year", "alloc_programme": "programme", "alloc_amount": "amount",
               "alloc_proposed": "proposed (£)", "alloc_unit_cost": "unit_cost", "alloc_participants": "participants",
               "alloc_outcomes": "outcomes", "alloc_value": "value", "alloc_eligible": "eligible",
               "alloc_theme": "theme", "alloc_across": "across"}

# Checks sheet columns (zero-based).
CC = {name: i for i, name in enumerate(CHECK_COLUMNS)}

FOOTER = "Local Labour Market Agreement — DRAFT"

# The headers in words of the other sheets' tables (the keys are the frames' column names and
# the CSVs'); a column not here is put in words from its name (``gain_value`` -> "Gain value").
HEADINGS = {
    "key": "Key (pot;area;cohort;year;programme)", "pot_code": "Pot code", "pot_name": "Pot",
    "area_code": "Area code", "area_name": "Area", "cohort_code": "Cohort code", "cohort_name": "Cohort",
    "year": "Year", "programme": "Programme", "department": "Department", "basis": "Basis", "status": "Status",
    "total (£)": "Total (£)", "carry_forward": "Carry forward (years)", "match_rate": "Match rate (£ per £1)",
    "can_match": "Counts as match", "planned (£)": "Planned (£)",
    "unspent over the term (£)": "Unspent over the term (£)", "journey_stage": "Journey stage",
    "outcome": "Outcome", "outcome_rate": "Outcome rate", "value_per_outcome": "Value per outcome (£)",
    "unit_cost": "Unit cost (£)", "cost_per_outcome": "Cost per outcome (£)", "from": "From",
    "pot_source": "Pot source", "population": "Population", "footprint_code": "Footprint code",
    "footprint_name": "Footprint", "people": "People", "source": "Source", "as_of": "As of",
    "rank": "Rank", "ask": "Ask", "change": "Change", "gain": "Gain", "gain_outcomes": "Gain (outcomes)",
    "gain_participants": "Gain (participants)", "gain_value": "Gain (public value, £)",
    "gain_per_million": "Gain (outcomes) per £1m", "detail": "Detail", "stage": "Stage", "level": "Level",
    "kind": "Kind", "reason": "Reason", "amount": "Amount (£)", "rows": "Rows", "amount (£)": "Amount (£)",
    "measured_against": "Measured against", "warning": "Warning", "receives_less": "Receives less",
    "group": "Kind of flexibility", "parts": "Parts", "assumption": "What the gain assumes",
    "step": "Step", "alone_gain": "Gain alone", "marginal_gain": "Gain in package",
    "cumulative_gain": "Package so far", "overlap": "Overlap (alone − in package)",
}


def heading(column: str) -> str:
    """A column's header in words (:data:`HEADINGS`, else its name with spaces and a capital)."""
    if column in HEADINGS:
        return HEADINGS[column]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def document_name(draft) -> str:
    """The name every printed page carries at its foot: the agreement, its case and scenario."""
    inputs = draft.inputs
    scenario = f", scenario '{inputs.scenario}'" if inputs.scenario and inputs.scenario != inputs.name else ""
    return f"{inputs.shape.title} (DRAFT): {inputs.name}{scenario}"


def out_of_print_note(rows: int, what: str) -> str:
    """The printed line on a sheet whose long table is left out of the print area."""
    return (f"Not printed: {what} below has {rows:,} rows. Filter it on screen and print the selection, "
            "or clear the print area (Page Layout) to print it all.")


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


def print_setup(book: Book, draft, ws, widths: Sequence[float], header_row: int | None = None, *,
                print_area: tuple[int, int, int, int] | None = None, landscape: bool | None = None) -> float:
    """The house print set-up for an agreement sheet (:meth:`Book.page_setup`): A4, fitted to one
    page's width in the orientation that keeps the printed columns (``widths``) largest,
    ``header_row`` repeated on every page, ``print_area`` when not the whole sheet; the document's
    name, the inputs' fingerprint and "Page N of M" at the foot. Returns the print scale (worst
    case), which the example's sheets keep at :data:`MIN_PRINT_SCALE` or more (nothing printed
    under about 8 pt; a case with many more years may print smaller: it still fits the width)."""
    return book.page_setup(ws, document_name(draft), widths,
                           repeat_rows=None if header_row is None else (header_row, header_row),
                           print_area=print_area, landscape=landscape, header_right=f"inputs {draft.fingerprint}")


def note_row(book: Book, ws, row: int, text: str, widths: Sequence[float], fmt=None) -> None:
    """A note across the printed columns (of ``widths``, from column A), merged, wrapped, the row as
    tall as the text needs: a note that overflowed past the print area would be cut off on paper."""
    fmt = fmt if fmt is not None else book.wrap_note
    if len(widths) > 1:
        ws.merge_range(row, 0, row, len(widths) - 1, "", fmt)
    ws.write_string(row, 0, text, fmt)
    book.row_height(ws, row, [(text, sum(widths) + 1.1 * (len(widths) - 1))])


def header_cells(book: Book, ws, row: int, words: Sequence[str], widths: Sequence[float], first_col: int = 0) -> None:
    """A header row in words, wrapped, the row as tall as its longest header needs."""
    for j, h in enumerate(words):
        ws.write_string(row, first_col + j, h, book.header)
    book.row_height(ws, row, list(zip(words, widths)), bold=True, fmt=None)


def worksheet(book: Book, name: str):
    """The sheet ``name`` of ``book`` (every sheet is added, in order, before any is written)."""
    return book.wb.get_worksheet_by_name(name)


__all__ = ["SLACK_ROWS", "MAX_ELIGIBILITY_WORK", "MAX_LITERAL_AREAS", "ALLOC_COLUMNS", "ALLOC_HEADERS", "AC",
           "ALLOC_NAMES", "CHECK_COLUMNS", "CHECK_HEADERS", "CC", "FOOTER", "HEADINGS", "PRINT_ROWS_MAX",
           "AssumptionsAnchors", "AllocationsAnchors", "PooledBudgetAnchors", "ChecksAnchors", "define_name",
           "document_name", "header_cells", "note_row", "heading", "out_of_print_note", "print_setup", "worksheet"]
