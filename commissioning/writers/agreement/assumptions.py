"""Sheet 9, *Assumptions and evidence*: the constants the agreement rests on, as the case gives them.

Shows, one table each: the cohorts (their outcome, rate and public value per outcome), for a
case with an ``outcomes`` table the outcome values with their sources and licences, the
areas, the footprints (when the case has any), unit costs and outcome rates by pot and cohort
(after the rates table, with where each came from) and the need evidence — the caps every
need check reads (left out of the print area when longer than :data:`PRINT_ROWS_MAX` rows).

Reads no anchors (it is written first). Publishes :class:`AssumptionsAnchors` (each area's
code cell, each need cell's people, each footprint's rows of the footprint table), read by
*Checks*; defines the name ``need_people`` (when the case has need evidence).
"""

from __future__ import annotations

import pandas as pd

from commissioning.analysis.agreement_layout import ASSUMPTIONS
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (PRINT_ROWS_MAX, AssumptionsAnchors, define_name, heading,
                                                     note_row, out_of_print_note, print_setup, worksheet)
from commissioning.writers.style import SUBTITLE, WRAP, Book, cell, col_range, sheet_ref

WRAPPED = ("cohort_name", "outcome", "pot_name", "from", "source", "footprint_name", "area_name")  # printed, wrapped


def write_assumptions(book: Book, draft: Draft) -> AssumptionsAnchors:
    """Write the *Assumptions and evidence* sheet; return where its areas, needs and footprints are."""
    b, case = book, draft.case
    ws = worksheet(book, ASSUMPTIONS)
    area_cell: dict[str, str] = {}
    need_cell: dict[tuple[str, str, str], str] = {}
    footprint_range: dict[str, str] = {}
    widths = [16, 34, 20, 13, 10, 12, 34, 40]
    printed = widths[:7]  # the last column (a pot's source, beside its unit costs) does not print
    ws.write_string(0, 0, "Assumptions and evidence", b.title)
    note_row(book, ws, 1, "The constants the agreement rests on, as given in the case: change the case and "
             "draw the agreement again to change them. The need figures below are the caps the "
             "Checks sheet reads.", printed)
    row = 3
    top_fmt = b.top_formats()
    subtitle = b.wb.add_format({**SUBTITLE, **WRAP})

    def block(title: str, frame: pd.DataFrame, name: str, formats: dict) -> int:
        nonlocal row
        note_row(book, ws, row, title, printed, subtitle)
        top = row + 1
        width = {c: widths[j] for j, c in enumerate(frame.columns)}
        last = b.frame_table(ws, top, frame, name, {c: top_fmt(f) for c, f in formats.items()}, width,
                             headers=[heading(c) for c in frame.columns], header_format=b.header,
                             wrapped=[c for c in frame.columns if c in WRAPPED])
        row = last + 3
        return top

    cohorts = pd.DataFrame([(c.code, c.name, c.journey_stage, c.outcome, c.outcome_rate, c.value_per_outcome)
                            for c in case.cohorts],
                           columns=["cohort_code", "cohort_name", "journey_stage", "outcome", "outcome_rate",
                                    "value_per_outcome"])
    block("Cohorts: the outcome each is measured by, its rate and its public value (£ per outcome)", cohorts,
          "Cohorts", {"journey_stage": b.whole, "outcome_rate": b.rate, "value_per_outcome": b.plain_money})

    if case.outcomes:
        values = pd.DataFrame([(o.cohort_code, o.outcome, o.price_year or case.valuation.price_base,
                                o.persistence_years, o.deadweight, o.displacement, o.source or "")
                               for o in case.outcomes],
                              columns=["cohort_code", "outcome", "price_year", "persistence_years", "deadweight",
                                       "displacement", "source"])
        block("Outcome values and their sources, with their licences (the Value for money sheet counts them; "
              "licence-restricted values such as HACT's or the National TOMs' are not embedded)", values,
              "OutcomeValues", {"persistence_years": b.whole, "deadweight": b.share, "displacement": b.share})

    areas = pd.DataFrame([(a.code, a.name, a.population) for a in case.areas],
                         columns=["area_code", "area_name", "population"])
    top = block("Areas", areas, "Areas", {"population": b.whole})
    for i, a in enumerate(case.areas):
        area_cell[a.code] = sheet_ref(ASSUMPTIONS, cell(top + 1 + i, 0, True))

    if case.footprints:
        members = sorted(case.footprints, key=lambda m: list(case.footprint_names).index(m.footprint_code))
        fp = pd.DataFrame([(m.footprint_code, m.footprint_name, m.area_code) for m in members],
                          columns=["footprint_code", "footprint_name", "area_code"])
        top = block("Footprints: the areas each footprint code stands for", fp, "Footprints", {})
        for code in case.footprint_names:
            idx = [i for i, m in enumerate(members) if m.footprint_code == code]
            footprint_range[code] = sheet_ref(ASSUMPTIONS, col_range(2, top + 1 + idx[0], top + 1 + idx[-1]))

    rates = case.rate  # the rows naming no outcome (an outcome's own rate is on the Value for money sheet)
    used = set(zip(draft.rows["programme"], draft.rows["cohort_code"]))
    pairs = [(p.code, c) for p in case.pots for c in case.cohort
             if case.eligibility.covers(p.code, cohort=c) or (p.code, c) in used]
    costs = pd.DataFrame([
        (p, case.pot[p].name, c, case.unit_cost(p, c), case.outcome_rate(p, c),
         case.unit_cost(p, c) / case.outcome_rate(p, c) if case.outcome_rate(p, c) > 0 else None,
         _rate_source(rates.get((p, c))), case.pot[p].source)
        for p, c in pairs],
        columns=["pot_code", "pot_name", "cohort_code", "unit_cost", "outcome_rate", "cost_per_outcome",
                 "from", "pot_source"])
    costs_title = row
    block("Unit costs (£ per participant) and outcome rates, by pot and cohort, after the rates table", costs,
          "UnitCosts", {"unit_cost": b.plain_money, "outcome_rate": b.rate, "cost_per_outcome": b.plain_money})

    need = pd.DataFrame([(n.area_code, case.area[n.area_code].name if n.area_code in case.area else "",
                          n.cohort_code, n.year, n.people, n.source, n.as_of.isoformat() if n.as_of else None)
                         for n in case.need],
                        columns=["area_code", "area_name", "cohort_code", "year", "people", "source", "as_of"])
    need_title = row
    top = block("Need evidence (people in need of support; the cap on participants in each cell)", need,
                "NeedEvidence", {"people": b.plain_people})
    for i, n in enumerate(case.need):
        need_cell[(n.area_code, n.cohort_code, n.year)] = sheet_ref(ASSUMPTIONS, cell(top + 1 + i, 4, True))
    if len(case.need):
        define_name(book, "need_people", ASSUMPTIONS, col_range(4, top + 1, top + len(case.need)))
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(3, 0)
    # Long tables (each longer than PRINT_ROWS_MAX rows) are left out of print, from the first on:
    # they stay on screen and in the case's own files.
    long = [(title, n, what) for title, n, what in ((costs_title, len(costs), "the unit costs table"),
                                                    (need_title, len(case.need), "the need evidence"))
            if n > PRINT_ROWS_MAX]
    if long:
        title, n, what = long[0]
        words = out_of_print_note(n, what) + (" So is the need evidence after it." if what.startswith("the unit")
                                               and len(case.need) else "")
        note_row(book, ws, title - 1, words, printed, b.warn_wrap)
        print_setup(book, draft, ws, printed, None, print_area=(0, 0, title - 1, len(printed) - 1))
    else:
        print_setup(book, draft, ws, printed, None, print_area=(0, 0, row - 3, len(printed) - 1))
    return AssumptionsAnchors(area_cell=area_cell, need_cell=need_cell, footprint_range=footprint_range)


def _rate_source(rate) -> str:
    """Where a pot × cohort's unit cost and outcome rate came from (the rates table or the defaults)."""
    if rate is None:
        return "pot unit cost; cohort outcome rate"
    parts = []
    parts.append("rates table" if rate.unit_cost is not None else "pot unit cost")
    parts.append("rates table" if rate.outcome_rate is not None else "cohort outcome rate")
    return "; ".join(parts)
