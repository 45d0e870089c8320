"""Sheet 7, *Duplication and gaps*: the flags register from the map and the optimiser.

Shows counts, people and money of each kind of flag (duplication, gaps and idle money from
the map; gaps and idle money after the aligned and pooled allocations) as COUNTIFS/SUMIFS
formulas on the register, then the register itself as a filterable table.

Reads no anchors. Publishes none.
"""

from __future__ import annotations

import pandas as pd

from commissioning.analysis.agreement_layout import DUPLICATION
from commissioning.analysis.flags import FLAG_COLUMNS
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import print_setup, worksheet
from commissioning.writers.style import Book, col_range

GROUPS = [("map", None, "duplication"), ("map", None, "gap"), ("map", None, "idle"),
          ("optimise", "aligned", "gap"), ("optimise", "aligned", "idle"),
          ("optimise", "pooled", "gap"), ("optimise", "pooled", "idle")]  # (stage, level, kind) counted above


def write_duplication(book: Book, draft: Draft) -> None:
    """Write the *Duplication and gaps* sheet."""
    b = book
    ws = worksheet(book, DUPLICATION)
    ws.write_string(0, 0, "Duplication and gaps: the register from the map (today) and the optimiser (after "
                    "the aligned and pooled allocations)", b.title)
    flags = draft.inputs.flags
    if flags is None:
        flags = pd.DataFrame(columns=FLAG_COLUMNS)
    flags = flags.reindex(columns=FLAG_COLUMNS).reset_index(drop=True)
    for c in ("people", "amount"):
        flags[c] = pd.to_numeric(flags[c], errors="coerce")
    ws.write_string(1, 0, "Counts and totals are formulas on the register below; filter it with the header "
                    "arrows.", b.note)
    top = 3
    for j, h in enumerate(["stage", "level", "kind", "rows", "people", "amount (£)"]):
        ws.write_string(top, j, h, b.header)
    head = top + len(GROUPS) + 3
    first, last = head + 1, head + max(len(flags), 1)
    rng = {c: col_range(FLAG_COLUMNS.index(c), first, last) for c in FLAG_COLUMNS}
    for i, (stage, level, kind) in enumerate(GROUPS):
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
        b.formula(ws, r, 4, f"=SUMIFS({rng['people']},{crit})", b.people, float(flags.loc[m, "people"].sum()))
        b.formula(ws, r, 5, f"=SUMIFS({rng['amount']},{crit})", b.money, float(flags.loc[m, "amount"].sum()))
    b.frame_table(ws, head, flags, "Flags", {"people": b.people, "amount": b.money},
                  {"stage": 9, "level": 9, "kind": 12, "reason": 16, "pot_code": 14, "area_code": 12,
                   "cohort_code": 20, "year": 9, "people": 12, "amount": 14, "detail": 110})
    ws.freeze_panes(head + 1, 0)
    print_setup(book, ws, head, DUPLICATION, draft.fingerprint)
