"""Sheet 4, *Allocations*: the proposal (the ``pooled`` level), the workbook's only editable numbers.

Shows, for each area × cohort × year, a subtotal row (its area, and its cohort and year in the
pot's column) with the pot detail beneath (one row per pot and programme, grouped in an
outline): ``amount`` is the input (yellow); participants, outcomes and value are formulas on
the row; ``eligible`` ("yes"/"no") looks the row up on the Eligibility sheet (when eligibility
is listed); ``proposed (£)`` keeps the amount as issued and ``change (£)`` the difference;
then the codes, rates and ``issued as`` (the row's codes as issued). Headers are in words
(:data:`~commissioning.analysis.agreement_layout.ALLOC_HEADERS`). Above the header, the totals
of every allocation row and of the visible rows. Every range reaches :data:`SLACK_ROWS` rows
below the proposal, so added rows are counted and checked.

Prints on A4 landscape, one page wide at 70% or more: the columns up to ``eligible`` (names,
money, people), the header row on every page; the codes and rates an edit needs stay on
screen. ``eligible`` is text, not TRUE/FALSE: LibreOffice 7.4 aborts a PDF export of a sheet
where a conditionally formatted boolean cell has text in the cell to its right.

Reads no anchors (uses the name ``elig_key`` when eligibility is listed). Publishes
:class:`AllocationsAnchors` (the rows the ranges span); defines the names ``alloc_*`` (one per
column of :data:`ALLOC_NAMES`) and ``total_allocated``, ``total_proposed``,
``total_participants``, ``total_outcomes``, ``total_value``, used by every later sheet.
"""

from __future__ import annotations

import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from commissioning.analysis.agreement_layout import ALLOC_COLUMNS, ALLOC_HEADERS, ALLOC_PRINTED, ALLOCATIONS
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (AC, ALLOC_NAMES, SLACK_ROWS, AllocationsAnchors, define_name,
                                                     header_cells, print_setup, worksheet)
from commissioning.writers.style import Book, cell, col_range, text_height


WIDTHS = {"ref": 8, "area_name": 11, "pot_name": 60, "year": 8, "pooled": 9, "amount": 14, "participants": 11,
          "outcomes": 10, "value": 15, "eligible": 7, "proposed (£)": 14, "change (£)": 11, "cohort_name": 40,
          "pot_code": 14, "area_code": 11, "cohort_code": 18, "programme": 14, "unit_cost": 10, "outcome_rate": 9,
          "value_per_outcome": 11, "issued as": 40, "theme": 22, "across": 10}
H = ALLOC_HEADERS


def write_allocations(book: Book, draft: Draft) -> AllocationsAnchors:
    """Write the *Allocations* sheet; return the rows its ranges (and so the checks) cover."""
    b, case, rows = book, draft.case, draft.rows
    ws = worksheet(book, ALLOCATIONS)
    printed = AC[ALLOC_PRINTED]  # the last printed column: names, money, people and eligibility
    ws.write_string(0, 0, f"Allocations: the proposal ({draft.inputs.level} level) — area × cohort × year, with "
                    "the pot detail beneath", b.title)
    note = (f"Edit the yellow '{H['amount']}' cells; '{H['proposed (£)']}' keeps the amount as issued. "
            f"{H['participants']} = amount ÷ unit cost; {H['outcomes']} = participants × outcome rate; "
            f"{H['value']} = outcomes × value per outcome. '{H['issued as']}' records each row's pot, area, "
            "cohort, year and programme as issued. To add an allocation, fill a row below the last one (codes, "
            "year, programme, amount, unit cost, outcome rate, value per outcome: the columns to the right of "
            f"'{H['eligible']}', which do not print, like '{H['proposed (£)']}' and '{H['change (£)']}') and copy "
            f"the formulas of the row above; the checks cover {SLACK_ROWS} rows beyond the proposal. A subtotal "
            "row names its area, cohort and year.")
    ws.merge_range(1, 0, 1, printed, "", b.wrap_note)
    ws.write_string(1, 0, note, b.wrap_note)
    ws.set_row(1, text_height([(note, sum(WIDTHS[c] for c in ALLOC_COLUMNS[:printed + 1]))]))
    head = 5
    first = head + 1
    # Lay out rows: a subtotal row per area × cohort × year, its pot rows beneath.
    plan: list[tuple[str, object]] = []
    keys = list(zip(rows["area_code"], rows["cohort_code"], rows["year"]))
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or keys[i] != keys[start]:
            plan.append(("sub", (keys[start], start, i)))
            plan.extend(("row", j) for j in range(start, i))
            start = i
    last_data = head + len(plan)
    anchors = AllocationsAnchors(first=first, last=last_data + SLACK_ROWS)
    rng = {c: col_range(AC[c], anchors.first, anchors.last) for c in ALLOC_COLUMNS}
    for nm, col in ALLOC_NAMES.items():
        if col == "eligible" and not draft.eligibility:
            continue
        define_name(book, nm, ALLOCATIONS, rng[col])

    header_cells(book, ws, head, [H[c] for c in ALLOC_COLUMNS], [WIDTHS[c] for c in ALLOC_COLUMNS])
    pooled_words = {True: "pooled", False: "retained"}
    r = first
    for kind, item in plan:
        if kind == "sub":
            (a, c, t), s, e = item
            ws.write_string(r, AC["ref"], "Subtotal", b.sub_label)
            for col in range(1, len(ALLOC_COLUMNS)):
                ws.write_blank(r, col, None, b.sub_blank)
            b.text(ws, r, AC["area_name"], case.area[a].name if a in case.area else a, b.sub_label)
            # The cohort and year in the pot's column (the year column stays blank: a check scoped by
            # year alone must not count a subtotal row).
            b.text(ws, r, AC["pot_name"], f"{case.cohort[c].name if c in case.cohort else c} · {t}", b.sub_label)
            for col, fmt in (("amount", b.sub_plain_money), ("proposed (£)", b.sub_plain_money),
                             ("change (£)", b.sub_plain_money), ("participants", b.sub_plain_people),
                             ("outcomes", b.sub_plain_people), ("value", b.sub_plain_money)):
                src = {"proposed (£)": "amount", "change (£)": None}.get(col, col)
                cached = 0.0 if src is None else float(rows[src].iloc[s:e].sum())
                b.formula(ws, r, AC[col], f"=SUBTOTAL(9,{cell(r + 1, AC[col])}:{cell(r + e - s, AC[col])})",
                          fmt, cached)
        else:
            x = rows.iloc[item]
            _allocation_row(book, draft, ws, r, x, pooled_words[x["pot_code"] in draft.pool])
            ws.set_row(r, None, None, {"level": 1})
        r += 1

    # Totals above the header: every allocation row (filter-proof) and the visible rows.
    cond = 'SUMPRODUCT(--(alloc_pot<>""),{})'
    ws.write_string(2, 0, "Total, all allocation rows", b.bold)
    ws.write_string(3, 0, "Total, visible rows (after filters)", b.note)
    totals = {"amount": "total_allocated", "proposed (£)": "total_proposed", "participants": "total_participants",
              "outcomes": "total_outcomes", "value": "total_value"}
    fmt = {"amount": b.plain_money_total, "proposed (£)": b.plain_money_total, "participants": b.plain_people_total,
           "outcomes": b.plain_people_total, "value": b.plain_money_total, "change (£)": b.plain_money_total}
    src = {"amount": "alloc_amount", "proposed (£)": "alloc_proposed", "participants": "alloc_participants",
           "outcomes": "alloc_outcomes", "value": "alloc_value"}
    for col, nm in totals.items():
        cached = float(rows["amount" if col == "proposed (£)" else col].sum())
        b.formula(ws, 2, AC[col], "=" + cond.format(src[col]), fmt[col], cached)
        define_name(book, nm, ALLOCATIONS, cell(2, AC[col], True))
    b.formula(ws, 2, AC["change (£)"], f"={cell(2, AC['amount'])}-{cell(2, AC['proposed (£)'])}",
              fmt["change (£)"], 0.0)
    for col in ("amount", "proposed (£)", "change (£)", "participants", "outcomes", "value"):
        cached = 0.0 if col == "change (£)" else float(rows["amount" if col == "proposed (£)" else col].sum())
        b.formula(ws, 3, AC[col], f"=SUBTOTAL(9,{cell(first, AC[col])}:{cell(anchors.last, AC[col])})",
                  b.plain_money if col not in ("participants", "outcomes") else b.plain_people, cached)
    b.no_signed_zero(ws, 2, AC["change (£)"], 3, AC["change (£)"])  # whole pounds

    ws.autofilter(head, 0, max(last_data, first), len(ALLOC_COLUMNS) - 1)
    ws.outline_settings(True, False, True, False)  # subtotal rows sit above their detail
    ws.freeze_panes(head + 1, 1)
    ws.data_validation(first, AC["amount"], anchors.last, AC["amount"], {
        "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
        "error_title": "Amount", "error_message": "An allocation is a number of pounds, zero or more."})
    change_col = xl_col_to_name(AC["change (£)"])
    b.no_signed_zero(ws, first, AC["change (£)"], anchors.last, AC["change (£)"], half=0.005)  # pence
    ws.conditional_format(first, AC["change (£)"], anchors.last, AC["change (£)"], {
        "type": "formula", "criteria": f"=AND(ISNUMBER(${change_col}{first + 1}),${change_col}{first + 1}<>0)",
        "format": b.changed})
    if draft.eligibility:
        # Text, not TRUE/FALSE: LibreOffice (7.4) aborts exporting a sheet to PDF where a conditionally
        # formatted cell holding a boolean has text in the cell to its right (here, the pot code).
        ws.conditional_format(first, AC["eligible"], anchors.last, AC["eligible"], {
            "type": "cell", "criteria": "==", "value": '"no"', "format": b.red})
    for c, w in WIDTHS.items():
        ws.set_column(AC[c], AC[c], w)
    print_setup(book, draft, ws, [WIDTHS[c] for c in ALLOC_COLUMNS[:printed + 1]], head,
                print_area=(0, 0, max(last_data, head + 1), printed))
    return anchors


def _allocation_row(book: Book, draft: Draft, ws, r: int, x: pd.Series, pooled: str) -> None:
    """One pot row of the proposal at sheet row ``r``: its codes and names, the input amount and
    the formulas beside it."""
    b, case = book, draft.case
    b.text(ws, r, AC["ref"], x["ref"])
    b.text(ws, r, AC["pot_code"], x["pot_code"])
    b.text(ws, r, AC["pot_name"], case.pot[x["pot_code"]].name if x["pot_code"] in case.pot else None)
    b.text(ws, r, AC["area_code"], x["area_code"])
    b.text(ws, r, AC["area_name"], case.area[x["area_code"]].name if x["area_code"] in case.area else None)
    b.text(ws, r, AC["cohort_code"], x["cohort_code"])
    b.text(ws, r, AC["cohort_name"], case.cohort[x["cohort_code"]].name if x["cohort_code"] in case.cohort else None)
    b.text(ws, r, AC["year"], x["year"])
    b.text(ws, r, AC["programme"], x["programme"])
    ws.write_string(r, AC["pooled"], pooled)
    b.number(ws, r, AC["amount"], x["amount"], b.input_money)
    b.number(ws, r, AC["proposed (£)"], x["amount"], b.plain_pence)
    b.formula(ws, r, AC["change (£)"], f"={cell(r, AC['amount'])}-{cell(r, AC['proposed (£)'])}", b.plain_pence,
              0.0)
    b.number(ws, r, AC["unit_cost"], x["unit_cost"], b.plain_money)
    b.number(ws, r, AC["outcome_rate"], x["outcome_rate"], b.rate)
    b.number(ws, r, AC["value_per_outcome"], x["value_per_outcome"], b.plain_money)
    b.formula(ws, r, AC["participants"], f"={cell(r, AC['amount'])}/{cell(r, AC['unit_cost'])}", b.plain_people,
              float(x["participants"]))
    b.formula(ws, r, AC["outcomes"], f"={cell(r, AC['participants'])}*{cell(r, AC['outcome_rate'])}",
              b.plain_people, float(x["outcomes"]))
    b.formula(ws, r, AC["value"], f"={cell(r, AC['outcomes'])}*{cell(r, AC['value_per_outcome'])}", b.plain_money,
              float(x["value"]))
    b.text(ws, r, AC["theme"], x["theme"] or None)
    key = "&\";\"&".join(cell(r, AC[c]) for c in ("pot_code", "area_code", "cohort_code", "year", "programme"))
    if draft.eligibility and "across" in draft.keys.columns:
        # Live, like 'eligible': an edit of a row's codes that makes it a move between themes counts.
        b.formula(ws, r, AC["across"], f'=IF(SUMPRODUCT(EXACT(elig_key,{key})*(elig_across="yes"))>0,"yes","no")',
                  None, "yes" if x["across"] else "no")
    else:
        ws.write_string(r, AC["across"], "yes" if x["across"] else "no")
    b.text(ws, r, AC["issued as"], ";".join(str(x[c]) for c in ("pot_code", "area_code", "cohort_code", "year",
                                                                "programme")))
    if draft.eligibility:
        b.formula(ws, r, AC["eligible"],
                  f'=IF({cell(r, AC["pot_code"])}="","",IF(SUMPRODUCT(--EXACT(elig_key,{key}))>0,"yes","no"))',
                  b.ok, "yes")
