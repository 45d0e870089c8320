"""Sheet 6, *Flexibilities requested*: what the agreement asks government for, by the department
that would grant it, and the package.

The measured asks (each one change solved again alone) in their grantor's words, grouped by
department (national departments first, then asks of several departments together, then the
partners' own decisions), each with what it was measured against, its gain in the
objective's unit, in outcomes, participants and value and per £1m moved, a warning where the
gain rests on a doubtful assumption, and who receives less. Below them the package: the asks
taken one at a time, each measured given those before, with the marginal gains summed by a
live formula to the package's total, the gains alone summed beside it, and the overlaps.
When the asks were not computed it says so.

Reads no anchors. Publishes none.
"""

from __future__ import annotations

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell as cell_ref

from optimiser.objective import UNIT_LONG

from commissioning.analysis.agreement_layout import FLEXIBILITIES
from commissioning.analysis.asks import words_of
from commissioning.analysis.policy import LOCAL
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import heading, note_row, print_setup, worksheet
from commissioning.writers.style import Book

ASK_COLUMNS = ["rank", "department", "ask", "measured_against", "gain", "gain_per_million", "warning",
               "receives_less", "gain_outcomes", "gain_participants", "gain_value", "group", "pot_code", "change",
               "area_code", "cohort_code", "year", "parts", "assumption", "detail"]
PRINTED = "receives_less"  # the last printed column: the ask in words, its gain, its warning and givers
WIDTHS = {"rank": 5, "department": 11, "ask": 43, "measured_against": 9, "gain": 9, "gain_outcomes": 9,
          "gain_participants": 10, "gain_value": 12, "gain_per_million": 9, "warning": 34, "receives_less": 32,
          "group": 14, "pot_code": 14, "change": 12, "area_code": 11, "cohort_code": 16, "year": 9, "parts": 6,
          "assumption": 60, "detail": 90}
PACKAGE_COLUMNS = ["step", "department", "ask", "alone_gain", "marginal_gain", "cumulative_gain", "overlap"]
# The package's table sits in the asks' columns, so each takes the width of the asks' column above it.
PACKAGE_WIDTHS = {c: WIDTHS[ASK_COLUMNS[j]] for j, c in enumerate(PACKAGE_COLUMNS)}


def _order(asks: pd.DataFrame) -> pd.DataFrame:
    """The asks grouped by department: national ones first (by name), then several together,
    then the partners' own; by rank within each."""
    dept = asks.get("department", pd.Series([""] * len(asks), index=asks.index)).fillna("").astype(str)
    key = pd.DataFrame({"local": dept.isin([LOCAL, ""]), "several": dept.str.contains(";"),
                        "name": dept.str.lower(), "rank": pd.to_numeric(asks.get("rank"), errors="coerce")})
    return asks.loc[key.sort_values(["local", "several", "name", "rank"], kind="mergesort").index]


def write_flexibilities(book: Book, draft: Draft) -> None:
    """Write the *Flexibilities requested* sheet."""
    b, inputs = book, draft.inputs
    ws = worksheet(book, FLEXIBILITIES)
    ws.write_string(0, 0, "Flexibilities requested: what we ask government for, by the department that would "
                    "grant it", b.title)
    unit = UNIT_LONG.get(inputs.objective, inputs.objective)
    asks = inputs.asks
    printed = ASK_COLUMNS.index(PRINTED)
    width = [WIDTHS[c] for c in ASK_COLUMNS[:printed + 1]]
    if asks is None:
        note_row(book, ws, 1, "The asks were not computed for this agreement (draw it from a run with its "
                 "explanation to list them).", width, b.warn_wrap)
        print_setup(book, draft, ws, width, None, print_area=(0, 0, 1, printed))
        return
    note_row(book, ws, 1, "Grouped by the department that would grant each ask (DfE, DWP …; several together; "
             "'local': the partners' own decision, not an ask of government). "
             f"Each gain is measured by solving the case again with that change alone (a merged ask: all its "
             "parts at once) "
             f"(gain in {unit}; per £1m of money the change moves), against the level the 'Measured against' "
             "column names. Asks overlap, so their gains do not add up: the package below measures them "
             "together. The columns after 'Receives less' (the gains in outcomes, participants and value, "
             "codes, assumptions and detail) do not print.", width)
    asks = _order(asks) if len(asks) else asks
    get = asks.get
    frame = pd.DataFrame({
        "rank": get("rank"),
        "department": get("department"),
        "ask": [a if isinstance(a, str) and a else words_of(str(d)) for a, d in
                zip(get("ask", pd.Series([None] * len(asks), index=asks.index)), get("detail"))],
        "measured_against": get("measured_against"),
        "gain": get("gain", get("gain_outcomes")),
        "gain_outcomes": get("gain_outcomes"),
        "gain_participants": get("gain_participants"),
        "gain_value": get("gain_value"),
        "gain_per_million": get("gain_per_million"),
        "warning": get("warning"),
        "receives_less": get("receives_less"),
        "group": get("group"),
        "pot_code": get("pot_code"),
        "change": get("change"),
        "area_code": get("area_code"),
        "cohort_code": get("cohort_code"),
        "year": get("year"),
        "parts": get("parts"),
        "assumption": get("assumption"),
        "detail": get("detail"),
    }).reindex(columns=ASK_COLUMNS) if len(asks) else pd.DataFrame(columns=ASK_COLUMNS)
    head = 3
    if not len(frame):
        ws.write_string(2, 0, "No single flexibility measured a gain.", b.note)
    top = b.top_formats()
    last = b.frame_table(ws, head, frame, "Asks", {"rank": top(b.whole), "gain": top(b.whole_people),
                                                  "gain_outcomes": top(b.whole_people),
                                                  "gain_participants": top(b.whole_people),
                                                  "gain_value": top(b.plain_money),
                                                  "gain_per_million": top(b.whole_people),
                                                  "parts": top(b.whole)},
                         WIDTHS, headers=[heading(c) for c in ASK_COLUMNS],
                         wrapped=("ask", "department", "warning", "receives_less"), header_format=b.header)
    ws.freeze_panes(head + 1, 3)
    last = _package(book, ws, inputs.package, last + 2, width, unit)
    print_setup(book, draft, ws, width, head, print_area=(0, 0, last, printed))


def _package(book: Book, ws, package, row: int, width: list[float], unit: str) -> int:
    """The package block from ``row``; returns the last row used."""
    b = book
    if package is None:
        note_row(book, ws, row, "The package was not measured for this agreement (draw it from a run whose "
                 "asks were measured).", width, b.warn_wrap)
        return row
    ws.write_string(row, 0, "The package: the asks taken one at a time, each measured given those before it", b.bold)
    note_row(book, ws, row + 1, f"Against the {package.measured_against} level, in {unit}. It stops when the next "
             f"ask would add less than {package.share:.0%} of the package so far: {package.stopped}."
             + (f" Left out: {package.left_out}." if package.left_out else ""), width)
    steps = pd.DataFrame(package.steps).reindex(columns=PACKAGE_COLUMNS)
    top = b.top_formats()
    head = row + 2
    last = b.frame_table(ws, head, steps, "Package", {c: top(b.whole_people) for c in PACKAGE_COLUMNS[3:]}
                         | {"step": top(b.whole)}, PACKAGE_WIDTHS,
                         headers=[heading(c) for c in PACKAGE_COLUMNS], wrapped=("ask", "department"),
                         header_format=b.header)
    if not len(steps):
        return last
    first, end = head + 1, head + len(steps)
    alone, marg = PACKAGE_COLUMNS.index("alone_gain"), PACKAGE_COLUMNS.index("marginal_gain")
    r = last + 1
    ws.write_string(r, 2, "Together (the gains in the package summed; one solve)", b.bold)
    ws.write_formula(r, marg, f"=SUM({cell_ref(first, marg)}:{cell_ref(end, marg)})", b.whole_people,
                     float(package.total.get("gain", 0.0)))
    ws.write_string(r + 1, 2, "Their gains alone added up (counts overlaps twice)", b.note)
    ws.write_formula(r + 1, alone, f"=SUM({cell_ref(first, alone)}:{cell_ref(end, alone)})", b.whole_people,
                     float(package.sum_of_gains_alone))
    r += 2
    for o in package.overlaps:
        note_row(book, ws, r, f"Overlap: {o['words']}.", width)
        r += 1
    return r - 1
