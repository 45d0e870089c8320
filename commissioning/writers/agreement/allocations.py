"""Sheet 4, *Allocations*: the proposal (the ``pooled`` level), the workbook's only editable numbers.

Shows, for each area × cohort × year, a subtotal row with the pot detail beneath (one row per
pot and programme, grouped in an outline): ``amount`` is the input (yellow), ``proposed (£)``
the amount as issued, ``change (£)``, participants, outcomes and value are formulas on the row,
``eligible`` looks the row up on the Eligibility sheet (when eligibility is listed) and
``issued as`` records the row's codes as issued. Above the header, the totals of every
allocation row and of the visible rows. Every range reaches :data:`SLACK_ROWS` rows below the
proposal, so added rows are counted and checked.

Reads no anchors (uses the name ``elig_key`` when eligibility is listed). Publishes
:class:`AllocationsAnchors` (the rows the ranges span); defines the names ``alloc_*`` (one per
column of :data:`ALLOC_NAMES`) and ``total_allocated``, ``total_proposed``,
``total_participants``, ``total_outcomes``, ``total_value``, used by every later sheet.
"""

from __future__ import annotations

import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from commissioning.analysis.agreement_layout import ALLOC_COLUMNS, ALLOCATIONS
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (AC, ALLOC_NAMES, SLACK_ROWS, AllocationsAnchors, define_name,
                                                     print_setup, worksheet)
from commissioning.writers.style import Book, cell, col_range


def write_allocations(book: Book, draft: Draft) -> AllocationsAnchors:
    """Write the *Allocations* sheet; return the rows its ranges (and so the checks) cover."""
    b, case, rows = book, draft.case, draft.rows
    ws = worksheet(book, ALLOCATIONS)
    ws.write_string(0, 0, "Allocations: the proposal (pooled level) — area × cohort × year, with the pot "
                    "detail beneath", b.title)
    ws.write_string(1, 0, "Edit the yellow 'amount' cells (£); 'proposed (£)' keeps the amount as issued. "
                    "participants = amount ÷ unit_cost; outcomes = participants × outcome_rate; "
                    "value = outcomes × value_per_outcome; 'issued as' records each row's pot, area, cohort, "
                    "year and programme as issued. To add an allocation, fill a row below the last "
                    "one (codes, year, programme, amount, unit_cost, outcome_rate, value_per_outcome) and copy "
                    "the formulas of the row above; the checks cover "
                    f"{SLACK_ROWS} rows beyond the proposal.", b.note)
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

    for j, h in enumerate(ALLOC_COLUMNS):
        ws.write_string(head, j, h, b.header)
    pooled_words = {True: "pooled", False: "retained"}
    r = first
    for kind, item in plan:
        if kind == "sub":
            (a, c, t), s, e = item
            label = " · ".join([case.area[a].name if a in case.area else a,
                                case.cohort[c].name if c in case.cohort else c, t])
            ws.write_string(r, AC["ref"], "Subtotal", b.sub_label)
            for col in range(1, len(ALLOC_COLUMNS)):
                ws.write_blank(r, col, None, b.sub_blank)
            ws.write_string(r, AC["pot_name"], label, b.sub_label)
            for col, fmt in (("amount", b.sub_money), ("proposed (£)", b.sub_money), ("change (£)", b.sub_money),
                             ("participants", b.sub_people), ("outcomes", b.sub_people), ("value", b.sub_money)):
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
    fmt = {"amount": b.money_total, "proposed (£)": b.money_total, "participants": b.people_total,
           "outcomes": b.people_total, "value": b.money_total, "change (£)": b.money_total}
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
                  b.money if col not in ("participants", "outcomes") else b.people, cached)

    ws.autofilter(head, 0, max(last_data, first), len(ALLOC_COLUMNS) - 1)
    ws.outline_settings(True, False, True, False)  # subtotal rows sit above their detail
    ws.freeze_panes(head + 1, 2)
    ws.data_validation(first, AC["amount"], anchors.last, AC["amount"], {
        "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
        "error_title": "Amount", "error_message": "An allocation is a number of pounds, zero or more."})
    amount_col = xl_col_to_name(AC["change (£)"])
    ws.conditional_format(first, AC["change (£)"], anchors.last, AC["change (£)"], {
        "type": "formula", "criteria": f"=AND(ISNUMBER(${amount_col}{first + 1}),${amount_col}{first + 1}<>0)",
        "format": b.changed})
    if draft.eligibility:
        ws.conditional_format(first, AC["eligible"], anchors.last, AC["eligible"], {
            "type": "cell", "criteria": "==", "value": "FALSE", "format": b.red})
    widths = {"ref": 10, "pot_code": 14, "pot_name": 34, "area_code": 11, "area_name": 14, "cohort_code": 18,
              "cohort_name": 26, "year": 9, "programme": 14, "pooled": 9, "amount": 15, "proposed (£)": 15,
              "change (£)": 13, "unit_cost": 10, "outcome_rate": 9, "value_per_outcome": 11, "participants": 12,
              "outcomes": 11, "value": 15, "eligible": 9, "issued as": 40}
    for c, w in widths.items():
        ws.set_column(AC[c], AC[c], w)
    ws.set_row(head, 30)
    print_setup(book, ws, head, ALLOCATIONS, draft.fingerprint)
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
    b.number(ws, r, AC["proposed (£)"], x["amount"], b.pence)
    b.formula(ws, r, AC["change (£)"], f"={cell(r, AC['amount'])}-{cell(r, AC['proposed (£)'])}", b.pence, 0.0)
    b.number(ws, r, AC["unit_cost"], x["unit_cost"], b.money)
    b.number(ws, r, AC["outcome_rate"], x["outcome_rate"], b.rate)
    b.number(ws, r, AC["value_per_outcome"], x["value_per_outcome"], b.money)
    b.formula(ws, r, AC["participants"], f"={cell(r, AC['amount'])}/{cell(r, AC['unit_cost'])}", b.people,
              float(x["participants"]))
    b.formula(ws, r, AC["outcomes"], f"={cell(r, AC['participants'])}*{cell(r, AC['outcome_rate'])}", b.people,
              float(x["outcomes"]))
    b.formula(ws, r, AC["value"], f"={cell(r, AC['outcomes'])}*{cell(r, AC['value_per_outcome'])}", b.money,
              float(x["value"]))
    b.text(ws, r, AC["issued as"], ";".join(str(x[c]) for c in ("pot_code", "area_code", "cohort_code", "year",
                                                                "programme")))
    if draft.eligibility:
        key = "&\";\"&".join(cell(r, AC[c]) for c in ("pot_code", "area_code", "cohort_code", "year", "programme"))
        b.formula(ws, r, AC["eligible"],
                  f'=IF({cell(r, AC["pot_code"])}="","",SUMPRODUCT(--EXACT(elig_key,{key}))>0)', b.ok, True)
