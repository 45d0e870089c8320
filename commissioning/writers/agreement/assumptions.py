"""Sheet 9, *Assumptions and evidence*: the constants the agreement rests on, as the case gives them.

Shows, one table each: the cohorts (their outcome, rate and public value per outcome), unit
costs and outcome rates by pot and cohort (after the rates table, with where each came from),
the areas, the footprints (when the case has any) and the need evidence — the caps every
need check reads.

Reads no anchors (it is written first). Publishes :class:`AssumptionsAnchors` (each area's
code cell, each need cell's people, each footprint's rows of the footprint table), read by
*Checks*; defines the name ``need_people`` (when the case has need evidence).
"""

from __future__ import annotations

import pandas as pd

from commissioning.analysis.agreement_layout import ASSUMPTIONS
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import AssumptionsAnchors, define_name, print_setup, worksheet
from commissioning.writers.style import Book, cell, col_range, sheet_ref


def write_assumptions(book: Book, draft: Draft) -> AssumptionsAnchors:
    """Write the *Assumptions and evidence* sheet; return where its areas, needs and footprints are."""
    b, case = book, draft.case
    ws = worksheet(book, ASSUMPTIONS)
    area_cell: dict[str, str] = {}
    need_cell: dict[tuple[str, str, str], str] = {}
    footprint_range: dict[str, str] = {}
    ws.write_string(0, 0, "Assumptions and evidence", b.title)
    ws.write_string(1, 0, "The constants the agreement rests on, as given in the case: change the case and "
                    "draw the agreement again to change them. The need figures below are the caps the "
                    "Checks sheet reads.", b.note)
    row = 3

    def block(title: str, frame: pd.DataFrame, name: str, formats: dict) -> int:
        nonlocal row
        ws.write_string(row, 0, title, b.subtitle)
        top = row + 1
        last = b.frame_table(ws, top, frame, name, formats)
        row = last + 3
        return top

    cohorts = pd.DataFrame([(c.code, c.name, c.journey_stage, c.outcome, c.outcome_rate, c.value_per_outcome)
                            for c in case.cohorts],
                           columns=["cohort_code", "cohort_name", "journey_stage", "outcome", "outcome_rate",
                                    "value_per_outcome"])
    block("Cohorts: the outcome each is measured by, its rate and its public value (£ per outcome)", cohorts,
          "Cohorts", {"journey_stage": b.whole, "outcome_rate": b.rate, "value_per_outcome": b.money})

    rates = {(r.pot_code, r.cohort_code): r for r in case.rates}
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
    block("Unit costs (£ per participant) and outcome rates, by pot and cohort, after the rates table", costs,
          "UnitCosts", {"unit_cost": b.money, "outcome_rate": b.rate, "cost_per_outcome": b.money})

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

    need = pd.DataFrame([(n.area_code, case.area[n.area_code].name if n.area_code in case.area else "",
                          n.cohort_code, n.year, n.people, n.source, n.as_of.isoformat() if n.as_of else None)
                         for n in case.need],
                        columns=["area_code", "area_name", "cohort_code", "year", "people", "source", "as_of"])
    top = block("Need evidence (people in need of support; the cap on participants in each cell)", need,
                "NeedEvidence", {"people": b.people})
    for i, n in enumerate(case.need):
        need_cell[(n.area_code, n.cohort_code, n.year)] = sheet_ref(ASSUMPTIONS, cell(top + 1 + i, 4, True))
    if len(case.need):
        define_name(book, "need_people", ASSUMPTIONS, col_range(4, top + 1, top + len(case.need)))
    widths = [(0, 16), (1, 34), (2, 22), (3, 14), (4, 14), (5, 40), (6, 40), (7, 60)]
    for c, w in widths:
        ws.set_column(c, c, w)
    ws.freeze_panes(3, 0)
    print_setup(book, ws, None, ASSUMPTIONS, draft.fingerprint)
    return AssumptionsAnchors(area_cell=area_cell, need_cell=need_cell, footprint_range=footprint_range)


def _rate_source(rate) -> str:
    """Where a pot × cohort's unit cost and outcome rate came from (the rates table or the defaults)."""
    if rate is None:
        return "pot unit cost; cohort outcome rate"
    parts = []
    parts.append("rates table" if rate.unit_cost is not None else "pot unit cost")
    parts.append("rates table" if rate.outcome_rate is not None else "cohort outcome rate")
    return "; ".join(parts)
