"""Sheet 2, *Summary*: the headline, the three levels with the dividends, and a chart.

Shows this agreement live from the Allocations sheet (pooled budget, allocated, of which from
pooled pots, participants, outcomes, public value, all checks hold); then the engine's
baseline, aligned and pooled levels beside this agreement (live), with the alignment and
devolution dividends as formulas; and a column chart of outcomes by level.

Reads :class:`PooledBudgetAnchors` (the pool's and all pots' budget totals) and
:class:`ChecksAnchors` (the need checks' rows, for unmet need); uses the names ``total_*``,
``pooled_spend_total`` and ``all_checks_hold``. Publishes none.
"""

from __future__ import annotations

from optimiser.families.registry import family

from commissioning.analysis.agreement_layout import CHECKS, SUMMARY
from commissioning.case.labels import rules_words
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (CC, ChecksAnchors, PooledBudgetAnchors, print_setup,
                                                     worksheet)
from commissioning.writers.style import Book, cell, col_range, sheet_ref


def write_summary(book: Book, draft: Draft, pooled: PooledBudgetAnchors, checks: ChecksAnchors) -> None:
    """Write the *Summary* sheet."""
    b, inputs, rows = book, draft.inputs, draft.rows
    ws = worksheet(book, SUMMARY)
    ws.write_string(0, 0, "Summary", b.title)
    b.text(ws, 1, 0, inputs.name, b.subtitle)
    ws.write_string(3, 0, "This agreement (live from the Allocations sheet)", b.subtitle)
    total = float(rows["amount"].sum())
    head = [
        ("Pooled budget over the term (£)", f"={pooled.pool_total}", inputs.pooled_budget(), b.money),
        ("Allocated by this agreement (£)", "=total_allocated", total, b.money),
        ("   of which from pooled pots (£)", "=pooled_spend_total",
         float(rows.loc[rows["pot_code"].isin(draft.pool), "amount"].sum()), b.money),
        ("Participants", "=total_participants", float(rows["participants"].sum()), b.people),
        ("Outcomes", "=total_outcomes", float(rows["outcomes"].sum()), b.people),
        ("Public value (£)", "=total_value", float(rows["value"].sum()), b.money),
    ]
    for i, (label, f, cached, fmt) in enumerate(head):
        ws.write_string(4 + i, 0, label, b.label)
        b.formula(ws, 4 + i, 1, f, fmt, cached)
    ws.write_string(4 + len(head), 0, "All checks hold", b.label)
    b.formula(ws, 4 + len(head), 1, "=all_checks_hold", b.ok, all(m.holds for m in draft.measured))

    top = 4 + len(head) + 2
    ws.write_string(top, 0, "The three levels and the dividends", b.subtitle)
    h = top + 1
    cols = ["Measure", "baseline (today)", f"aligned ({rules_words(inputs.case.rules_changed)}, coordinated)",
            "pooled (as proposed by the engine)", "this agreement (live)",
            "alignment dividend (aligned − baseline)", "devolution dividend (pooled − aligned)"]
    for j, c in enumerate(cols):
        ws.write_string(h, j, c, b.header)
    ws.set_row(h, 45)
    need = [m for m in draft.measured if family(m.limit.family).counts_unmet]
    unmet_cached = float(sum(max(0.0, m.bound - m.value) for m in need))
    if checks.need_rows:
        a, z = checks.need_rows
        V = sheet_ref(CHECKS, col_range(CC["value"], a, z))
        Lm = sheet_ref(CHECKS, col_range(CC["limit"], a, z))
        unmet_f = f"=SUMPRODUCT(--({Lm}>{V}),{Lm}-{V})"
    else:
        unmet_f = "=0"
    live = {"allocated": ("=total_allocated", total),
            "participants": ("=total_participants", float(rows["participants"].sum())),
            "outcomes": ("=total_outcomes", float(rows["outcomes"].sum())),
            "value": ("=total_value", float(rows["value"].sum())),
            "unmet_people": (unmet_f, unmet_cached),
            "idle_amount": (f"={pooled.budget_total}-total_allocated", draft.case.total_budget - total)}
    metrics = [("allocated", "Allocated (£)", b.money), ("participants", "Participants", b.people),
               ("outcomes", "Outcomes", b.people), ("value", "Public value (£)", b.money),
               ("unmet_people", "Unmet need (people)", b.people), ("idle_amount", "Idle money (£)", b.money)]
    outcomes_row = None
    for i, (key, label, fmt) in enumerate(metrics):
        r = h + 1 + i
        ws.write_string(r, 0, label, b.bold)
        vals = [inputs.levels[lv][key] for lv in ("baseline", "aligned", "pooled")]
        for j, v in enumerate(vals):
            b.number(ws, r, 1 + j, v, fmt)
        b.formula(ws, r, 4, live[key][0], fmt, live[key][1])
        b.formula(ws, r, 5, f"={cell(r, 2)}-{cell(r, 1)}", fmt, vals[1] - vals[0])
        b.formula(ws, r, 6, f"={cell(r, 3)}-{cell(r, 2)}", fmt, vals[2] - vals[1])
        if key == "outcomes":
            outcomes_row = r
    note_r = h + len(metrics) + 1
    ws.write_string(note_r, 0, "The baseline, aligned and pooled figures are the engine's (summary.json, "
                    "allocations.csv); 'this agreement' follows any edit of the Allocations sheet; the "
                    "dividends are formulas on the cells beside them.", b.note)
    chart = b.wb.add_chart({"type": "column"})
    chart.add_series({"name": "Outcomes", "categories": [SUMMARY, h, 1, h, 4],
                      "values": [SUMMARY, outcomes_row, 1, outcomes_row, 4],
                      "data_labels": {"value": True, "num_format": "#,##0"}})
    chart.set_title({"name": "Outcomes by level"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": "#,##0", "name": "outcomes"})
    ws.insert_chart(note_r + 2, 0, chart, {"x_scale": 1.6, "y_scale": 1.2})
    ws.set_column(0, 0, 34)
    ws.set_column(1, 6, 20)
    ws.freeze_panes(3, 0)
    print_setup(book, ws, None, SUMMARY, draft.fingerprint)
