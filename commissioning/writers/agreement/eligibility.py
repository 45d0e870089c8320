"""Sheet 11, *Eligibility*: every pot, area, cohort, year and programme the agreement may fund.

Shows the eligible keys (with need > 0) as a table, each with its ``key`` (the five codes
joined by ``;``) that the Allocations sheet's ``eligible`` column looks each row up by. When
the list is too long to check row by row in a spreadsheet (``draft.eligibility`` false), it
says so and leaves eligibility to ``commissioning check``. A lookup no one prints: its print
area is its heading, which says so.

Reads no anchors. Publishes none; defines the name ``elig_key`` (when the keys are listed),
used by *Allocations*, and in a settlement case ``elig_across`` (``yes`` for a key that moves a
theme's money to another theme), which the Allocations sheet's ``across`` column looks up.
"""

from __future__ import annotations

from commissioning.analysis.agreement_layout import ELIGIBILITY
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import define_name, heading, note_row, print_setup, worksheet
from commissioning.writers.style import Book, col_range


def write_eligibility(book: Book, draft: Draft) -> None:
    """Write the *Eligibility* sheet (the list of ``draft.keys``, or why it is not there)."""
    b, keys = book, draft.keys
    ws = worksheet(book, ELIGIBILITY)
    widths = {"key": 50, "pot_code": 14, "area_code": 12, "cohort_code": 20, "year": 9, "programme": 14}
    if "across" in keys.columns:
        widths["across"] = 10
    width = list(widths.values())
    ws.write_string(0, 0, "Eligibility: every pot, area, cohort, year and programme the agreement may fund", b.title)
    if not draft.eligibility:
        note_row(book, ws, 1, f"{len(keys):,} eligible combinations: too many to check row by row in a "
                 "spreadsheet. 'commissioning check' checks every row's eligibility.", width, b.warn_wrap)
        print_setup(book, draft, ws, width, None, print_area=(0, 0, 1, len(width) - 1))
        return
    note_row(book, ws, 1, "Pooled pots may fund any area and cohort some pool member may fund, within their own "
             "years, through the pool's best programme for the cohort (or their own where today's rules allow). "
             "Only cells with evidenced need are listed. The Allocations sheet's 'Eligible' column looks each row "
             "up here by its key.", width)
    # A lookup, not a page of the agreement: only its heading prints.
    note_row(book, ws, 2, f"Not printed: the {len(keys):,} eligible combinations below are a lookup for the "
             "Allocations sheet. Filter them on screen, or clear the print area (Page Layout) to print them.",
             width, b.warn_wrap)
    frame = keys.copy()
    codes = keys[["pot_code", "area_code", "cohort_code", "year", "programme"]]
    frame.insert(0, "key", [";".join(k) for k in codes.itertuples(index=False, name=None)])
    head = 3
    last = b.frame_table(ws, head, frame, "Eligibility", {}, widths, headers=[heading(c) for c in frame.columns],
                         header_format=b.header)
    define_name(book, "elig_key", ELIGIBILITY, col_range(0, head + 1, last))
    if "across" in frame.columns:  # a settlement case: which keys move money between themes
        define_name(book, "elig_across", ELIGIBILITY, col_range(list(frame.columns).index("across"), head + 1, last))
    ws.freeze_panes(head + 1, 0)
    print_setup(book, draft, ws, width, None, print_area=(0, 0, 2, len(width) - 1))
