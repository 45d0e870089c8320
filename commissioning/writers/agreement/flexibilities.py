"""Sheet 6, *Flexibilities requested*: what the agreement asks government for, ranked by measured gain.

Shows the measured asks (each a single change solved again) as devolution asks in words,
with the pot, cell and year they concern, their gain in the objective's unit, in outcomes,
participants and value, and per £1m of money the change moves. When the asks were not
computed it says so.

Reads no anchors. Publishes none.
"""

from __future__ import annotations

import pandas as pd

from optimiser.objective import UNIT_LONG

from commissioning.analysis.agreement import ask_words
from commissioning.analysis.agreement_layout import FLEXIBILITIES
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import heading, note_row, print_setup, worksheet
from commissioning.writers.style import Book

ASK_COLUMNS = ["rank", "ask", "gain", "gain_outcomes", "gain_participants", "gain_value", "gain_per_million",
               "pot_code", "pot_name", "change", "area_code", "cohort_code", "year", "detail"]
PRINTED = "gain_per_million"  # the last printed column: the ask in words and its gains
WIDTHS = {"rank": 5, "ask": 62, "gain": 10, "gain_outcomes": 10, "gain_participants": 13, "gain_value": 13,
          "gain_per_million": 11, "pot_code": 14, "pot_name": 30, "change": 14, "area_code": 11, "cohort_code": 16,
          "year": 9, "detail": 90}


def write_flexibilities(book: Book, draft: Draft) -> None:
    """Write the *Flexibilities requested* sheet."""
    b, inputs, case = book, draft.inputs, draft.case
    ws = worksheet(book, FLEXIBILITIES)
    ws.write_string(0, 0, "Flexibilities requested: what we ask government for, ranked by measured gain", b.title)
    unit = UNIT_LONG.get(inputs.objective, inputs.objective)
    asks = inputs.asks
    printed = ASK_COLUMNS.index(PRINTED)
    width = [WIDTHS[c] for c in ASK_COLUMNS[:printed + 1]]
    if asks is None:
        note_row(book, ws, 1, "The asks were not computed for this agreement (draw it from a run with its "
                 "explanation to list them).", width, b.warn_wrap)
        print_setup(book, draft, ws, width, None, print_area=(0, 0, 1, printed))
        return
    note_row(book, ws, 1, f"Each gain is measured by solving the case again with that one change "
             f"(gain in {unit}; per £1m of money the change moves). The columns after the gains "
             "(codes and detail) do not print.", width)
    frame = pd.DataFrame({
        "rank": asks.get("rank"),
        "ask": [ask_words(case, str(x.get("change", "")), x.get("pot_code"), x.get("area_code"),
                          x.get("cohort_code"), x.get("year"), x.get("detail")) for _, x in asks.iterrows()],
        "gain": asks.get("gain", asks.get("gain_outcomes")),
        "gain_outcomes": asks.get("gain_outcomes"),
        "gain_participants": asks.get("gain_participants"),
        "gain_value": asks.get("gain_value"),
        "gain_per_million": asks.get("gain_per_million"),
        "pot_code": asks.get("pot_code"),
        "pot_name": [case.pot[p].name if isinstance(p, str) and p in case.pot else None
                     for p in asks.get("pot_code", pd.Series(dtype=object))],
        "change": asks.get("change"),
        "area_code": asks.get("area_code"),
        "cohort_code": asks.get("cohort_code"),
        "year": asks.get("year"),
        "detail": asks.get("detail"),
    }) if len(asks) else pd.DataFrame(columns=ASK_COLUMNS)
    head = 3
    if not len(frame):
        ws.write_string(2, 0, "No single flexibility measured a gain.", b.note)
    top = b.top_formats()
    last = b.frame_table(ws, head, frame, "Asks", {"rank": top(b.whole), "gain": top(b.whole_people),
                                                  "gain_outcomes": top(b.whole_people),
                                                  "gain_participants": top(b.whole_people),
                                                  "gain_value": top(b.plain_money),
                                                  "gain_per_million": top(b.whole_people)},
                         WIDTHS, headers=[heading(c) for c in ASK_COLUMNS], wrapped=("ask",),
                         header_format=b.header)
    ws.freeze_panes(head + 1, 2)
    print_setup(book, draft, ws, width, head,
                print_area=(0, 0, last, printed))
