"""Sheet *Value for money* (a case with an ``outcomes`` table only): from the allocations to NPSV
and the benefit–cost ratio, every step a live formula a finance team can follow and change.

Blocks, top to bottom:

1. **Assumptions** — price base, discount rate, optimism bias (yellow: change them and every
   figure follows) and year 0; then the **result**: present value of benefits and of costs,
   NPSV, BCR, and the undiscounted fiscal, economic and social benefit.
2. **Deflators** — the case's index by year (yellow).
3. **Outcomes** — per cohort and outcome: rate, fiscal, economic and social value a year,
   persistence, price year (yellow), the uprating ``index[base] ÷ index[price year]`` and the
   net share ``(1 − deadweight)(1 − displacement)`` as formulas, and the source.
4. **Benefits** — per programme, cohort, outcome and year achieved: participants (summed from
   the Allocations sheet), the rate (the outcome's, or a ``rates`` override for the programme,
   yellow), gross = participants × rate, net = gross × net share, the yearly benefits in the
   price base, and the present-value factor Σ_{k<P} (1 + r)^−(t+k) =
   (1 + r)^−t · (1 − (1 + r)^−P) ÷ (1 − 1/(1 + r)) (P when r = 0), times the yearly total.
5. **Costs** (above the benefits, which may be long) — per year: spend (from the Allocations
   sheet), 1 ÷ (1 + r)^t and the present value with the optimism-bias uplift.

The benefits table prints when it has at most ``PRINT_ROWS_MAX`` rows; longer, a printed line
says it is left out of print (the house rule for long tables).

The arithmetic is :mod:`commissioning.case.value`'s; the cached values are
:mod:`commissioning.analysis.value`'s rows (this module computes nothing). Defines the names
``vfm_rate``, ``vfm_ob``, ``vfm_base``, ``vfm_pv_benefits``, ``vfm_pv_costs``, ``vfm_npsv``
and ``vfm_bcr``, which ``check`` reads back.
"""

from __future__ import annotations

from commissioning.analysis.agreement_layout import VALUE
from commissioning.analysis.value import benefit_rows, cost_rows, outcome_types, sheet_totals
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (PRINT_ROWS_MAX, define_name, header_cells, note_row,
                                                     out_of_print_note, print_setup, worksheet)
from commissioning.writers.style import Book, cell, col_range

# Printed on A4 landscape at 70% or more: the sources (column P) do not print (the Assumptions sheet
# prints them). Column positions of each table:
WIDTHS = [20, 13, 14, 8, 10, 8, 8, 8, 10, 10, 9, 4, 6, 8, 12, 40]
OC = {"cohort": 0, "outcome": 1, "rate": 2, "price_year": 3, "fiscal": 4, "economic": 5, "social": 6,
     "persistence": 7, "uprating": 8, "deadweight": 9, "displacement": 10, "net": 12, "source": 15}
B = {"cohort": 0, "outcome": 1, "programme": 2, "year": 3, "participants": 4, "rate": 5, "gross": 6, "net": 7,
     "fiscal": 8, "economic": 9, "social": 10, "t": 11, "persistence": 12, "factor": 13, "pv": 14}
C = {"year": 0, "spend": 1, "pv": 2, "discount": 3, "t": 4}
VALUE_COL = 2  # the assumptions' and the result's values (labels in column A, with room in B)
PRINTED = 15  # columns A … O


def write_value(book: Book, draft: Draft) -> None:
    """Write the *Value for money* sheet (only for a valued case)."""
    b, case, rows = book, draft.case, draft.rows
    v = case.valuation
    ws = worksheet(book, VALUE)
    benefits = benefit_rows(case, rows)
    costs = cost_rows(case, rows)
    types = outcome_types(case, {c: [] for c in benefits["cohort_code"].unique()})
    yellow = {"bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF"}
    inputs_share = b.wb.add_format({"num_format": "0.0%", **yellow})
    inputs_rate = b.wb.add_format({"num_format": "0.000", **yellow})
    inputs_whole = b.wb.add_format({"num_format": "0", "align": "center", **yellow})
    inputs_text = b.wb.add_format(yellow)
    inputs_money = b.wb.add_format({"num_format": "£#,##0", **yellow})
    factor = b.wb.add_format({"num_format": "0.000000"})
    wrap_top = b.wb.add_format({"text_wrap": True, "valign": "top"})
    widths = WIDTHS[:PRINTED]
    ws.write_string(0, 0, "Value for money: net additional outcomes, present values, NPSV and the benefit–cost ratio",
                    b.title)
    kind = ("gross: no outcome states deadweight or displacement" if v.gross else
            "net additional: gross × (1 − deadweight) × (1 − displacement)")
    note_row(book, ws, 1, "Every figure is a formula, from the Allocations sheet through the outcomes, additionality, "
             "the price base and discounting to NPSV and BCR: change a yellow cell and the rest follow. Year 0 is "
             "the term's first year and is not discounted; a benefit accruing in year t is divided by (1 + r)^t; an "
             f"outcome achieved in year t pays its yearly value for its persistence. Figures are {kind}. Costs are "
             "the allocations, uplifted for optimism bias and discounted; they are in the price base, as the case "
             "states its money. The values' sources and licences are on the Assumptions and evidence sheet.", widths)
    # ---- assumptions ----
    r = 3
    ws.write_string(r, 0, "Assumptions", b.subtitle)
    settings = (("Price base", v.price_base, inputs_text, "vfm_base"),
                ("Discount rate", case.settings.discount_rate, inputs_share, "vfm_rate"),
                ("Optimism bias (uplift on costs)", case.settings.optimism_bias, inputs_share, "vfm_ob"),
                ("Year 0 (not discounted)", v.first_year, None, None))
    for i, (label, value, fmt, name) in enumerate(settings):
        rr = r + 1 + i
        ws.write_string(rr, 0, label, b.label)
        if isinstance(value, str):
            ws.write_string(rr, VALUE_COL, value, fmt)
        else:
            ws.write_number(rr, VALUE_COL, value, fmt)
        if name:
            define_name(book, name, VALUE, cell(rr, VALUE_COL, True))
    # the result: its formulas are written once the tables' ranges are known (below)
    res = r + len(settings) + 2
    ws.write_string(res, 0, "Result (the pooled proposal)", b.subtitle)
    # ---- deflators ----
    r = res + 9
    ws.write_string(r, 0, "Deflators (a price index by year)", b.subtitle)
    header_cells(book, ws, r + 1, ["Year", "Index"], widths)
    first = r + 2
    for i, d in enumerate(case.deflators):
        ws.write_string(first + i, 0, d.year, inputs_text)
        ws.write_number(first + i, 1, d.index, inputs_rate)
    last = first + max(len(case.deflators), 1) - 1
    define_name(book, "vfm_def_year", VALUE, col_range(0, first, last))
    define_name(book, "vfm_def_index", VALUE, col_range(1, first, last))
    # ---- outcomes ----
    r = last + 2
    ws.write_string(r, 0, "Outcomes: rates and values per outcome a year, as stated, with uprating and additionality",
                    b.subtitle)
    words = {"cohort": "Cohort", "outcome": "Outcome", "rate": "Rate per participant", "price_year": "Price year",
             "fiscal": "Fiscal £ a year", "economic": "Economic £ a year", "social": "Social £ a year",
             "persistence": "Lasts (years)", "uprating": "Uprating to the price base",
             "deadweight": "Dead-weight", "displacement": "Displace-ment", "net": "Net share", "source": "Source"}
    _header(book, ws, r + 1, OC, words, widths)
    at: dict[tuple[str, str], int] = {}
    first = r + 2
    for i, t in enumerate(types.itertuples(index=False)):
        rr = first + i
        at[(t.cohort_code, t.outcome)] = rr
        b.text(ws, rr, OC["cohort"], t.cohort_code, b.top)
        b.text(ws, rr, OC["outcome"], t.outcome, wrap_top)
        b.row_height(ws, rr, [(t.outcome, WIDTHS[OC["outcome"]])])
        ws.write_number(rr, OC["rate"], t.rate, inputs_rate)
        for key, val in (("fiscal", t.fiscal_value), ("economic", t.economic_value), ("social", t.social_value)):
            ws.write_number(rr, OC[key], val, inputs_money)
        ws.write_number(rr, OC["persistence"], t.persistence_years, inputs_whole)
        ws.write_string(rr, OC["price_year"], t.price_year, inputs_text)
        h = cell(rr, OC["price_year"])
        b.formula(ws, rr, OC["uprating"], f"=IF(EXACT({h},vfm_base),1,SUMPRODUCT(EXACT(vfm_def_year,vfm_base)*"
                  f"vfm_def_index)/SUMPRODUCT(EXACT(vfm_def_year,{h})*vfm_def_index))", factor, float(t.uprating))
        ws.write_number(rr, OC["deadweight"], t.deadweight, inputs_share)
        ws.write_number(rr, OC["displacement"], t.displacement, inputs_share)
        b.formula(ws, rr, OC["net"], f"=(1-{cell(rr, OC['deadweight'])})*(1-{cell(rr, OC['displacement'])})", b.share,
                  float(t.net_share))
        b.text(ws, rr, OC["source"], t.source, wrap_top)
    # ---- costs ----
    r = first + len(types) + 1
    ws.write_string(r, 0, "Costs: the allocations by year, uplifted for optimism bias and discounted", b.subtitle)
    _header(book, ws, r + 1, C, {"year": "Year", "spend": "Spend (£)", "pv": "PV of costs (£)",
                                 "discount": "Discount factor", "t": "t"}, widths)
    cf = r + 2
    for i, x in enumerate(costs.itertuples(index=False)):
        rr = cf + i
        b.text(ws, rr, C["year"], x.year)
        ws.write_number(rr, C["t"], x.t)
        b.formula(ws, rr, C["spend"], f"=SUMPRODUCT(EXACT(alloc_year,{cell(rr, C['year'])}),alloc_amount)",
                  b.plain_money, float(x.spend))
        b.formula(ws, rr, C["discount"], f"=(1+vfm_rate)^(-{cell(rr, C['t'])})", factor, float(x.discount))
        b.formula(ws, rr, C["pv"], f"={cell(rr, C['spend'])}*(1+vfm_ob)*{cell(rr, C['discount'])}", b.plain_money,
                  float(x.pv_costs))
    cl = cf + max(len(costs), 1) - 1
    # ---- benefits ----
    r = cl + 2
    ws.write_string(r, 0, "Benefits: per cohort, outcome, programme and year achieved", b.subtitle)
    long = len(benefits) > PRINT_ROWS_MAX
    if long:  # the house rule: a table this long is left out of print, with a printed line saying so
        r += 1
        ws.write_string(r, 0, out_of_print_note(len(benefits), "the Benefits table"), b.note)
    head = r + 1
    words = {"cohort": "Cohort", "outcome": "Outcome", "programme": "Programme", "year": "Year achieved",
             "participants": "Partici-pants", "rate": "Rate", "gross": "Gross outcomes", "net": "Net outcomes",
             "fiscal": "Fiscal £ a year", "economic": "Economic £ a year", "social": "Social £ a year", "t": "t",
             "persistence": "Years", "factor": "PV factor", "pv": "PV of benefits (£)"}
    _header(book, ws, head, B, words, widths)
    bf = head + 1
    for i, x in enumerate(benefits.itertuples(index=False)):
        rr = bf + i
        tr = at[(x.cohort_code, x.outcome)]
        b.text(ws, rr, B["cohort"], x.cohort_code, b.top)
        b.text(ws, rr, B["outcome"], x.outcome, wrap_top)
        b.row_height(ws, rr, [(x.outcome, WIDTHS[B["outcome"]])])
        b.text(ws, rr, B["programme"], x.programme, b.top)
        b.text(ws, rr, B["year"], x.year, b.top)
        ws.write_number(rr, B["t"], x.t)
        match = (f"EXACT(alloc_programme,{cell(rr, B['programme'])})*EXACT(alloc_cohort,{cell(rr, B['cohort'])})*"
                 f"EXACT(alloc_year,{cell(rr, B['year'])})")
        b.formula(ws, rr, B["participants"], f"=SUMPRODUCT({match},alloc_participants)", b.plain_people,
                  float(x.participants))
        if x.overridden:  # a rates row sets this outcome's rate for the programme
            ws.write_number(rr, B["rate"], x.rate, inputs_rate)
        else:
            b.formula(ws, rr, B["rate"], f"={cell(tr, OC['rate'], True)}", b.rate, float(x.rate))
        b.formula(ws, rr, B["gross"], f"={cell(rr, B['participants'])}*{cell(rr, B['rate'])}", b.plain_people,
                  float(x.gross_outcomes))
        b.formula(ws, rr, B["net"], f"={cell(rr, B['gross'])}*{cell(tr, OC['net'], True)}", b.plain_people,
                  float(x.net_outcomes))
        for key, val in (("fiscal", x.fiscal), ("economic", x.economic), ("social", x.social)):
            b.formula(ws, rr, B[key], f"={cell(rr, B['net'])}*{cell(tr, OC[key], True)}*"
                      f"{cell(tr, OC['uprating'], True)}", b.plain_money, float(val))
        b.formula(ws, rr, B["persistence"], f"={cell(tr, OC['persistence'], True)}", None, int(x.persistence_years))
        t, p = cell(rr, B["t"]), cell(rr, B["persistence"])
        b.formula(ws, rr, B["factor"], f"=IF(vfm_rate=0,{p},(1+vfm_rate)^(-{t})*(1-(1+vfm_rate)^(-{p}))/"
                  "(1-1/(1+vfm_rate)))", factor, float(x.pv_factor))
        yearly = "+".join(cell(rr, B[k]) for k in ("fiscal", "economic", "social"))
        b.formula(ws, rr, B["pv"], f"=({yearly})*{cell(rr, B['factor'])}", b.plain_money, float(x.pv_benefits))
    bl = bf + max(len(benefits), 1) - 1
    # ---- the result ----
    total = sheet_totals(benefits, costs)
    at_result = {name: cell(res + 1 + i, VALUE_COL) for i, name in enumerate(("pvb", "pvc"))}
    undiscounted = {k: f"=SUMPRODUCT({col_range(B[k], bf, bl)},{col_range(B['persistence'], bf, bl)})"
                    for k in ("fiscal", "economic", "social")}
    lines = (
        ("PV of benefits (£)", f"=SUM({col_range(B['pv'], bf, bl)})", total["pv_benefits"], "vfm_pv_benefits"),
        ("PV of costs (£)", f"=SUM({col_range(C['pv'], cf, cl)})", total["pv_costs"], "vfm_pv_costs"),
        ("NPSV (£)", f"={at_result['pvb']}-{at_result['pvc']}", total["npsv"], "vfm_npsv"),
        ("Benefit–cost ratio", f"=IF({at_result['pvc']}>0,{at_result['pvb']}/{at_result['pvc']},0)", total["bcr"],
         "vfm_bcr"),
        ("Fiscal benefit (undiscounted)", undiscounted["fiscal"], total["fiscal"], None),
        ("Economic benefit (undiscounted)", undiscounted["economic"], total["economic"], None),
        ("Social benefit (undiscounted)", undiscounted["social"], total["social"], None),
    )
    for i, (label, f, cached, name) in enumerate(lines):
        rr = res + 1 + i
        ws.write_string(rr, 0, label, b.label)
        b.formula(ws, rr, VALUE_COL, f, factor if name == "vfm_bcr" else b.plain_money_bold, cached)
        if name:
            define_name(book, name, VALUE, cell(rr, VALUE_COL, True))
    for j, w in enumerate(WIDTHS):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 0)
    last_row = head if long else bl
    print_setup(book, draft, ws, widths, None, print_area=(0, 0, last_row, PRINTED - 1))


def _header(book: Book, ws, row: int, columns: dict[str, int], words: dict[str, str], widths) -> None:
    """A header row in words at the table's own column positions."""
    for key, col in columns.items():
        ws.write_string(row, col, words[key], book.header)
    book.row_height(ws, row, [(words[k], WIDTHS[c]) for k, c in columns.items()], bold=True, fmt=None)
