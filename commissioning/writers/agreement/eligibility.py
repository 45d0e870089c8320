"""Sheet 11, *Eligibility*: every pot, area, cohort, year and programme the agreement may fund.

Shows the eligible keys (with need > 0) as a table, each with its ``key`` (the five codes
joined by ``;``) that the Allocations sheet's ``eligible`` column looks each row up by. When
the list is too long to check row by row in a spreadsheet (``draft.eligibility`` false), it
says so and leaves eligibility to ``commissioning check``.

Reads no anchors. Publishes none; defines the name ``elig_key`` (when the keys are listed),
used by *Allocations*.
"""

from __future__ import annotations

from commissioning.analysis.agreement_layout import ELIGIBILITY
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import define_name, print_setup, worksheet
from commissioning.writers.style import Book, col_range


def write_eligibility(book: Book, draft: Draft) -> None:
    """Write the *Eligibility* sheet (the list of ``draft.keys``, or why it is not there)."""
    b, keys = book, draft.keys
    ws = worksheet(book, ELIGIBILITY)
    ws.write_string(0, 0, "Eligibility: every pot, area, cohort, year and programme the agreement may fund", b.title)
    if not draft.eligibility:
        ws.write_string(1, 0, f"{len(keys):,} eligible combinations: too many to check row by row in a "
                        "spreadsheet. 'commissioning check' checks every row's eligibility.", b.warn)
        return
    ws.write_string(1, 0, "Pooled pots may fund any area and cohort some pool member may fund, within their own "
                    "years, through the pool's best programme for the cohort (or their own where today's "
                    "rules allow). Only cells with evidenced need are listed. The Allocations sheet's "
                    "'eligible' column looks each row up here by its key.", b.note)
    frame = keys.copy()
    frame.insert(0, "key", [";".join(k) for k in keys.itertuples(index=False, name=None)])
    head = 3
    last = b.frame_table(ws, head, frame, "Eligibility", {},
                         {"key": 50, "pot_code": 14, "area_code": 12, "cohort_code": 20, "year": 9, "programme": 14})
    define_name(book, "elig_key", ELIGIBILITY, col_range(0, head + 1, last))
    ws.freeze_panes(head + 1, 0)
    print_setup(book, ws, head, ELIGIBILITY, draft.fingerprint)
