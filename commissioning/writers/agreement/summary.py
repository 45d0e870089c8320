"""Sheet 2, *Summary*: the headline, the three levels with the dividends, and a chart.

Shows this agreement live from the Allocations sheet (pooled budget, allocated, of which from
pooled pots, participants, outcomes, public value, all checks hold); then the engine's
baseline, aligned and pooled levels beside this agreement (live), with the alignment and
devolution dividends as formulas; a column chart of outcomes by level; and, last, the cohorts
and areas the engine's pooled proposal stops supporting (``AgreementInputs.dropped``: no
protection floor, over half of today's people gone over the term), each with the measured
cost of keeping half of them.

Reads :class:`PooledBudgetAnchors` (the pool's and all pots' budget totals) and
:class:`ChecksAnchors` (the need checks' rows, for unmet need); uses the names ``total_*``,
``pooled_spend_total`` and ``all_checks_hold``. Publishes none.
"""

from __future__ import annotations

from optimiser.families.registry import family

from commissioning.analysis.agreement_layout import CHECKS, SUMMARY
from commissioning.analysis.narrative import REALISM_WORDS
from optimiser.objective import UNIT
from commissioning.case.labels import rules_words
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (CC, ChecksAnchors, PooledBudgetAnchors, header_cells,
                                                     note_row, print_setup, worksheet)
from commissioning.writers.style import HIGHER, LOWER, Book, cell, col_range, sheet_ref


LEGEND = ("Green is better, red is worse, whatever the sign (less unmet need or idle money is better); "
          "money allocated is not coloured.")
BETTER = {"allocated": None, "participants": HIGHER, "outcomes": HIGHER, "value": HIGHER, "unmet_people": LOWER,
          "idle_amount": LOWER}  # which way a change is better


def write_summary(book: Book, draft: Draft, pooled: PooledBudgetAnchors, checks: ChecksAnchors) -> None:
    """Write the *Summary* sheet."""
    b, inputs, rows = book, draft.inputs, draft.rows
    ws = worksheet(book, SUMMARY)
    widths = [32] + [17] * 6
    ws.write_string(0, 0, "Summary", b.title)
    b.text(ws, 1, 0, inputs.name, b.subtitle)
    ws.write_string(3, 0, "This agreement (live from the Allocations sheet)", b.subtitle)
    total = float(rows["amount"].sum())
    money, people = b.plain_money, b.whole_people  # whole pounds, whole people: the values stay exact
    ring_fenced = inputs.ring_fenced_budget()
    head = [
        (inputs.budget_label, f"={pooled.pool_total}", inputs.pooled_budget(), money),
        *([("   ring-fenced, outside it (£)", None, ring_fenced, money)] if ring_fenced else []),
        ("Allocated by this agreement (£)", "=total_allocated", total, money),
        ("   as proposed (£, the Cover's figure)", "=proposed_total", total, money),
        ("   of which from pooled pots (£)", "=pooled_spend_total",
         float(rows.loc[rows["pot_code"].isin(draft.pool), "amount"].sum()), money),
        ("Participants", "=total_participants", float(rows["participants"].sum()), people),
        ("Outcomes", "=total_outcomes", float(rows["outcomes"].sum()), people),
        ("Public value (£)", "=total_value", float(rows["value"].sum()), money),
    ]
    for i, (label, f, cached, fmt) in enumerate(head):
        ws.write_string(4 + i, 0, label, b.label)
        if f is None:
            b.number(ws, 4 + i, 1, cached, fmt)
        else:
            b.formula(ws, 4 + i, 1, f, fmt, cached)
    b.no_signed_zero(ws, 4, 1, 3 + len(head), 1)
    ws.write_string(4 + len(head), 0, "All checks hold", b.label)
    b.formula(ws, 4 + len(head), 1, "=all_checks_hold", b.ok, all(m.holds for m in draft.measured))

    top = 4 + len(head) + 2
    ws.write_string(top, 0, "The three levels and the dividends", b.subtitle)
    h = top + 1
    proposed = inputs.level  # pooled, or settlement for an integrated settlement
    second = ("devolution dividend (pooled − aligned)" if proposed == "pooled" else
              "settlement dividend (settlement − aligned)")
    cols = ["Measure", "baseline (today)", f"aligned ({rules_words(inputs.case.rules_changed)}, coordinated)",
            f"{proposed} (as proposed by the engine)", f"this {inputs.shape.short} (live)",
            "alignment dividend (aligned − baseline)", second]
    header_cells(book, ws, h, cols, widths)
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
    metrics = [("allocated", "Allocated (£)", True), ("participants", "Participants", False),
               ("outcomes", "Outcomes", False), ("value", "Public value (£)", True),
               ("unmet_people", "Unmet need (people)", False), ("idle_amount", "Idle money (£)", True)]
    outcomes_row = None
    for i, (key, label, is_money) in enumerate(metrics):
        r = h + 1 + i
        fmt, delta = (money, b.delta_money) if is_money else (people, b.delta_people)
        ws.write_string(r, 0, label, b.bold)
        vals = [inputs.levels[lv][key] for lv in ("baseline", "aligned", proposed)]
        for j, v in enumerate(vals):
            b.number(ws, r, 1 + j, v, fmt)
        b.formula(ws, r, 4, live[key][0], fmt, live[key][1])
        b.formula(ws, r, 5, f"={cell(r, 2)}-{cell(r, 1)}", delta, vals[1] - vals[0])
        b.formula(ws, r, 6, f"={cell(r, 3)}-{cell(r, 2)}", delta, vals[2] - vals[1])
        b.no_signed_zero(ws, r, 1, r, 4)
        b.colour_by_meaning(ws, r, 5, r, 6, BETTER[key])
        if key == "outcomes":
            outcomes_row = r
    legend_r = h + len(metrics) + 1
    ws.merge_range(legend_r, 0, legend_r, len(cols) - 1, "", b.wrap_note)
    ws.write_string(legend_r, 0, LEGEND, b.wrap_note)
    b.row_height(ws, legend_r, [(LEGEND, sum(widths))])
    note_r = legend_r + 1
    note = ("The baseline, aligned and pooled figures are the engine's (summary.json, allocations.csv); 'this "
            "agreement' follows any edit of the Allocations sheet; the dividends are formulas on the cells beside "
            "them. Money is shown in whole pounds and people as whole people (the cells keep the exact figures); "
            "a figure under half a unit shows as –.")
    ws.merge_range(note_r, 0, note_r, len(cols) - 1, "", b.wrap_note)
    ws.write_string(note_r, 0, note, b.wrap_note)
    b.row_height(ws, note_r, [(note, sum(widths))])
    after = _write_dropped(book, ws, note_r + 2, inputs.dropped, widths, proposed)
    _write_realism(book, ws, after + 1, inputs.realism, inputs.objective, widths)
    chart = b.wb.add_chart({"type": "column"})
    chart.add_series({"name": "Outcomes", "categories": [SUMMARY, h, 1, h, 4],
                      "values": [SUMMARY, outcomes_row, 1, outcomes_row, 4],
                      "data_labels": {"value": True, "num_format": "#,##0"}})
    chart.set_title({"name": "Outcomes by level"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": "#,##0", "name": "outcomes"})
    # Beside the headline figures (columns C to G are free there), so that the sheet prints on one page.
    ws.insert_chart(3, 2, chart, {"x_offset": 20, "y_offset": 4, "x_scale": 1.25, "y_scale": 0.68})
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 0)
    print_setup(book, draft, ws, widths, None)


DROPPED_TITLE = "Who the proposal stops supporting"


def _write_dropped(book: Book, ws, row: int, dropped, widths: list[float], proposed: str = "pooled") -> None:
    """The proposed level's dropped cohorts and areas (``proposed``: pooled, or settlement), one note each
    in the analysis's own words (nothing when the run did not look for them)."""
    if dropped is None:
        return row
    mine = [d for d in dropped if d.level == proposed]
    ws.write_string(row, 0, DROPPED_TITLE, book.subtitle)
    if not mine:
        note_row(book, ws, row + 1, "No cohort or area without a protection floor loses more than half of the "
                 f"people supported today in the engine's {proposed} proposal.", widths)
        return row + 2
    note_row(book, ws, row + 1, "Cohorts and areas with no protection floor (protect: in case.yaml) of which the "
             f"engine's {proposed} proposal supports less than half as many people over the term as today, each with "
             "what keeping at least half of them each year would cost, measured by solving again:", widths)
    for i, d in enumerate(mine):
        note_row(book, ws, row + 2 + i, d.words, widths)
    return row + 2 + len(mine)


REALISM_TITLE = "What realism costs"


def _write_realism(book: Book, ws, row: int, realism, objective: str, widths: list[float]) -> None:
    """What each realism rule the case sets costs each level, as ``explain`` measured it (nothing
    when the run did not measure it)."""
    if not realism:
        return
    unit = UNIT.get(objective, objective)
    ws.write_string(row, 0, REALISM_TITLE, book.subtitle)
    note_row(book, ws, row + 1, "Each rule that makes the plan one a commissioner could adopt, measured by solving "
             "the level again without it alone; the costs overlap and do not add up (realism.csv).", widths)
    for i, r in enumerate(realism):
        words = REALISM_WORDS.get(r.rule, r.note or r.rule)
        cost = ("not measured" if r.cost is None else
                f"{r.cost:,.0f} {unit} ({(r.cost_share or 0.0):.1%} of what the level buys without it)")
        note_row(book, ws, row + 2 + i, f"{words[:1].upper()}{words[1:]}, {r.level} level: {cost}.", widths)
