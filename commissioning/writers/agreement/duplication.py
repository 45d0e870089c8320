"""Sheet 7, *Duplication and gaps*: the flags register from the map and the optimiser.

Shows counts, people and money of each kind of flag (duplication, gaps and idle money from
the map; gaps and idle money after the aligned and pooled allocations) as COUNTIFS/SUMIFS
formulas on the register, then the register itself as a filterable table (left out of the
print area when longer than :data:`PRINT_ROWS_MAX` rows: it stays on screen and in flags.csv).

Reads no anchors. Publishes none.
"""

from __future__ import annotations

import pandas as pd

from commissioning.analysis.agreement_layout import DUPLICATION
from commissioning.analysis.flags import FLAG_COLUMNS
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (PRINT_ROWS_MAX, header_cells, heading, note_row,
                                                     out_of_print_note, print_setup, worksheet)
from commissioning.writers.style import TITLE, WRAP, Book, col_range

GROUPS = [("map", None, "duplication"), ("map", None, "gap"), ("map", None, "idle"),
          ("optimise", "aligned", "gap"), ("optimise", "aligned", "idle"),
          ("optimise", "pooled", "gap"), ("optimise", "pooled", "idle")]  # (stage, level, kind) counted above


WIDTHS = {"stage": 8, "level": 8, "kind": 11, "reason": 13, "pot_code": 12, "area_code": 14, "cohort_code": 16,
          "year": 8, "people": 10, "amount": 13, "detail": 33}


def write_duplication(book: Book, draft: Draft) -> None:
    """Write the *Duplication and gaps* sheet."""
    b = book
    ws = worksheet(book, DUPLICATION)
    width = [WIDTHS[c] for c in FLAG_COLUMNS]
    register_printed = len(draft.inputs.flags if draft.inputs.flags is not None else ()) <= PRINT_ROWS_MAX
    printed = width if register_printed else width[:6]  # else only the counts print (six columns)
    note_row(book, ws, 0, "Duplication and gaps: the register from the map (today) and the optimiser (after "
             "the aligned and pooled allocations)", printed, b.wb.add_format({**TITLE, **WRAP}))
    flags = draft.inputs.flags
    if flags is None:
        flags = pd.DataFrame(columns=FLAG_COLUMNS)
    flags = flags.reindex(columns=FLAG_COLUMNS).reset_index(drop=True)
    for c in ("people", "amount"):
        flags[c] = pd.to_numeric(flags[c], errors="coerce")
    note_row(book, ws, 1, "Counts and totals are formulas on the register below; filter it with the header "
             "arrows.", printed)
    top = 3
    header_cells(book, ws, top, ["Stage", "Level", "Kind", "Rows", "People", "Amount (£)"], width)
    groups = GROUPS if "settlement" not in draft.inputs.levels else [  # a settlement case: its level too
        *GROUPS[:5], ("optimise", "settlement", "gap"), ("optimise", "settlement", "idle"), *GROUPS[5:]]
    head = top + len(groups) + 3
    first, last = head + 1, head + max(len(flags), 1)
    rng = {c: col_range(FLAG_COLUMNS.index(c), first, last) for c in FLAG_COLUMNS}
    for i, (stage, level, kind) in enumerate(groups):
        r = top + 1 + i
        ws.write_string(r, 0, stage)
        ws.write_string(r, 1, level or "")
        ws.write_string(r, 2, kind)
        crit = f'{rng["stage"]},"{stage}",{rng["kind"]},"{kind}"'
        crit += f',{rng["level"]},"{level}"' if level else ""
        m = (flags["stage"] == stage) & (flags["kind"] == kind)
        if level:
            m &= flags["level"] == level
        b.formula(ws, r, 3, f"=COUNTIFS({crit})", b.whole, int(m.sum()))
        b.formula(ws, r, 4, f"=SUMIFS({rng['people']},{crit})", b.whole_people, float(flags.loc[m, "people"].sum()))
        b.formula(ws, r, 5, f"=SUMIFS({rng['amount']},{crit})", b.plain_money, float(flags.loc[m, "amount"].sum()))
    top_fmt = b.top_formats()
    b.frame_table(ws, head, flags, "Flags", {"people": top_fmt(b.plain_people), "amount": top_fmt(b.plain_money)},
                  WIDTHS, headers=[heading(c) for c in FLAG_COLUMNS], wrapped=("detail",), header_format=b.header)
    ws.freeze_panes(head + 1, 0)
    if not register_printed:
        note_row(book, ws, head - 1, out_of_print_note(len(flags), "the register") + " flags.csv holds the same "
                 "rows.", printed, b.warn_wrap)
        print_setup(book, draft, ws, printed, None, print_area=(0, 0, head - 1, len(printed) - 1))
    else:
        print_setup(book, draft, ws, width, head)
