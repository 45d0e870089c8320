"""``agreement.xlsx``: the Local Labour Market Agreement, as a workbook finance can audit.

Sheets, in order (the issue's ten, then the eligibility list the checks read):

1. **Cover** — title, parties, lead body, term and years, scenario, status DRAFT, date,
   the inputs' fingerprint, and how to read and edit the workbook.
2. **Summary** — the headline (pooled budget, allocated, participants, outcomes, value,
   live from the Allocations sheet), the three levels with the dividends as formulas, and
   a chart of outcomes by level.
3. **Pooled budget** — pot × year budgets (the constants every budget check reads), each
   pot contributed to the pool or retained, with department, basis and its rules in
   words; beneath, the planned spend by pot and year as formulas on the Allocations sheet.
4. **Allocations** — the proposal (the ``pooled`` level), the single source of editable
   numbers: for each area × cohort × year a subtotal row, with the pot detail beneath
   (one row per pot and programme: ``amount`` is the input; ``proposed (£)`` the amount
   as issued; participants, outcomes and value are formulas on the row).
5. **Outcomes and targets** — participants, outcomes and value by area and year (and
   outcomes by cohort and year), as formulas on the Allocations sheet.
6. **Flexibilities requested** — the measured asks, ranked, as devolution asks.
7. **Duplication and gaps** — the flags register from the map and the optimiser.
8. **Governance** — the joint board, reporting, review points and variation, from the
   editable template ``templates/governance.md``.
9. **Assumptions and evidence** — cohorts and outcome values, unit costs and outcome
   rates, areas, footprints and the need evidence (the constants every need cap reads).
10. **Checks** — one formula per pot budget (per year, or per window of years for money
    that carries forward), per need cell, per rule instance, per area-year of match
    funding (and equity floor and locks when the case has them), plus eligibility and
    reconciliation; each reads TRUE while the Allocations sheet respects it, and one
    overall cell (``all_checks_hold``).
11. **Eligibility** — every pot, area, cohort, year and programme the pool may fund.

Finance-ready: money as pounds, financial-year columns, frozen headers, Excel tables with
filters, defined names for the key ranges, print set-up (landscape, fit to width, page
numbers). Every total is a live formula, written with its cached value so that viewers
that do not recalculate still show it. Formulas use only functions Excel and LibreOffice
share (SUM, SUMPRODUCT, EXACT, SUMIF, COUNTIF, COUNTIFS, SUBTOTAL, AND, ABS, ROUND, MAX)
over plain A1 ranges and defined names; codes are compared with EXACT (case-sensitive,
no wildcards) by reference to the cells that hold them, never pasted into a formula.
Text from inputs is written with ``write_string`` only: it can never become a formula.

A writer lays out: the figures come from :class:`~commissioning.analysis.agreement.AgreementInputs`
and the limits from :mod:`commissioning.analysis.limits` (whose measures also supply the cached
values of the checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from optimiser.families.registry import family

from commissioning.analysis import limits as L
from commissioning.analysis.agreement import AgreementInputs, ask_words, governance_lines
from commissioning.writers.style import Book, cell, col_range, sheet_ref
from commissioning.analysis.flags import FLAG_COLUMNS
from commissioning.case.model import ALL
from commissioning.inputs.scenario import rules_words

SHEETS = ["Cover", "Summary", "Pooled budget", "Allocations", "Outcomes and targets", "Flexibilities requested",
          "Duplication and gaps", "Governance", "Assumptions and evidence", "Checks", "Eligibility"]
SLACK_ROWS = 500  # rows below the proposal that every allocation range (and check) already covers
MAX_ELIGIBILITY_WORK = 40_000_000  # allocation rows × eligible keys above which the sheet leaves eligibility to `check`
MAX_LITERAL_AREAS = 100  # a footprint with more areas is matched against its rows of the footprint table

# Allocations sheet columns (zero-based).
ALLOC_COLUMNS = ["ref", "pot_code", "pot_name", "area_code", "area_name", "cohort_code", "cohort_name", "year",
                 "programme", "pooled", "amount", "proposed (£)", "change (£)", "unit_cost", "outcome_rate",
                 "value_per_outcome", "participants", "outcomes", "value", "eligible", "issued as"]
AC = {name: i for i, name in enumerate(ALLOC_COLUMNS)}
ALLOC_NAMES = {"alloc_ref": "ref", "alloc_pot": "pot_code", "alloc_area": "area_code", "alloc_cohort": "cohort_code",
               "alloc_year": "year", "alloc_programme": "programme", "alloc_amount": "amount",
               "alloc_proposed": "proposed (£)", "alloc_unit_cost": "unit_cost", "alloc_participants": "participants",
               "alloc_outcomes": "outcomes", "alloc_value": "value", "alloc_eligible": "eligible"}

# Checks sheet columns.
CHECK_COLUMNS = ["no", "family", "check", "pot", "area", "cohort", "year", "value", "limit", "allowance", "holds",
                 "headroom", "unit", "factor"]
CC = {name: i for i, name in enumerate(CHECK_COLUMNS)}

FOOTER = "Local Labour Market Agreement — DRAFT"


@dataclass
class Layout:
    """Where things are, for formulas on other sheets (zero-based rows and columns)."""

    years: list[str]
    area_cell: dict[str, str] = field(default_factory=dict)  # area code -> absolute ref on Assumptions
    need_cell: dict[tuple[str, str, str], str] = field(default_factory=dict)
    footprint_range: dict[str, str] = field(default_factory=dict)
    budget_row: dict[str, int] = field(default_factory=dict)  # pot -> row in block 1 of Pooled budget
    spend_row: dict[str, int] = field(default_factory=dict)  # pot -> row in block 2
    year_col: dict[str, int] = field(default_factory=dict)  # year -> column on Pooled budget
    pot_code_cell: dict[str, str] = field(default_factory=dict)  # pot -> its code cell on Pooled budget
    match_rate_cell: dict[str, str] = field(default_factory=dict)
    pool_total: str = ""
    budget_total: str = ""
    spend_total: str = ""
    eligibility: bool = False
    need_rows: tuple[int, int] | None = None  # first, last row of need checks on the Checks sheet
    alloc_first: int = 0
    alloc_last: int = 0


def write_agreement(inputs: AgreementInputs, path: Path, governance_template: Path | None = None) -> None:
    """Write ``agreement.xlsx`` for ``inputs`` at ``path`` (see the module docstring)."""
    _AgreementWriter(inputs, path, governance_template).write()


def proposal_rows(inputs: AgreementInputs) -> pd.DataFrame:
    """The proposal in sheet order — area, cohort, year (as the case lists them), then pot and
    programme — with unit costs, rates and values from the case."""
    case = inputs.case
    rows = inputs.pooled.copy()
    rows["programme"] = rows["programme"].where(rows["programme"].notna(), rows["pot_code"])
    rows = rows[rows["amount"] > 0]
    order = {col: {k: i for i, k in enumerate(keys)} for col, keys in
             (("area_code", case.area), ("cohort_code", case.cohort), ("year", case.years), ("pot_code", case.pot),
              ("programme", case.pot))}
    keys = [rows[c].map(order[c]).fillna(len(order[c])).to_numpy() for c in
            ("area_code", "cohort_code", "year", "pot_code", "programme")]
    rows = rows.iloc[np.lexsort(keys[::-1])].reset_index(drop=True)
    rows = L.with_participants(case, rows[L.ROW_COLUMNS])
    rows["ref"] = [f"A{i + 1:04d}" for i in range(len(rows))]
    return rows


class _AgreementWriter:
    def __init__(self, inputs: AgreementInputs, path: Path, governance_template: Path | None):
        self.inputs = inputs
        self.case = inputs.case
        self.pool = frozenset(inputs.pool)
        self.governance_template = governance_template
        self.book = Book(path)
        self.rows = proposal_rows(inputs)
        self.limits = L.case_limits(self.case, self.pool)
        self.measured = L.measure_all(self.case, self.limits, self.rows)
        self.layout = Layout(years=list(self.case.years))
        self.fp = self.case.fingerprint()
        self.ws = {}

    # ---- driver ------------------------------------------------------------------------------
    def write(self) -> None:
        try:
            for name in SHEETS:
                self.ws[name] = self.book.wb.add_worksheet(name)
            keys = L.eligible_keys(self.case, self.pool)
            self.layout.eligibility = len(keys) * max(len(self.rows), 1) <= MAX_ELIGIBILITY_WORK
            self._assumptions()
            self._eligibility(keys)
            self._allocations()
            self._pooled_budget()
            self._outcomes()
            self._checks()
            self._summary()
            self._cover()
            self._asks()
            self._flags()
            self._governance()
            self.book.wb.set_properties({"title": "Local Labour Market Agreement (DRAFT)",
                                         "subject": f"fingerprint {self.fp}", "author": "commissioning",
                                         "created": datetime(2000, 1, 1)})
        finally:
            self.book.close()

    def _print(self, ws, header_row: int | None, title: str) -> None:
        self.book.print_setup(ws, None if header_row is None else (header_row, header_row),
                              footer_left=f"{FOOTER} — inputs {self.fp}", title=title)

    def _name(self, name: str, sheet: str, ref: str) -> None:
        self.book.wb.define_name(name, "=" + sheet_ref(sheet, ref))

    # ---- 9. assumptions and evidence -------------------------------------------------------
    def _assumptions(self) -> None:
        b, case, lay = self.book, self.case, self.layout
        ws = self.ws["Assumptions and evidence"]
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
        used = set(zip(self.rows["programme"], self.rows["cohort_code"]))
        pairs = [(p.code, c) for p in case.pots for c in case.cohort
                 if c in case.pot_cohorts[p.code] or (p.code, c) in used]
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
            lay.area_cell[a.code] = sheet_ref("Assumptions and evidence", cell(top + 1 + i, 0, True))

        if case.footprints:
            members = sorted(case.footprints, key=lambda m: list(case.footprint_names).index(m.footprint_code))
            fp = pd.DataFrame([(m.footprint_code, m.footprint_name, m.area_code) for m in members],
                              columns=["footprint_code", "footprint_name", "area_code"])
            top = block("Footprints: the areas each footprint code stands for", fp, "Footprints", {})
            for code in case.footprint_names:
                idx = [i for i, m in enumerate(members) if m.footprint_code == code]
                lay.footprint_range[code] = sheet_ref("Assumptions and evidence",
                                                      col_range(2, top + 1 + idx[0], top + 1 + idx[-1]))

        need = pd.DataFrame([(n.area_code, case.area[n.area_code].name if n.area_code in case.area else "",
                              n.cohort_code, n.year, n.people, n.source, n.as_of.isoformat() if n.as_of else None)
                             for n in case.need],
                            columns=["area_code", "area_name", "cohort_code", "year", "people", "source", "as_of"])
        top = block("Need evidence (people in need of support; the cap on participants in each cell)", need,
                    "NeedEvidence", {"people": b.people})
        for i, n in enumerate(case.need):
            lay.need_cell[(n.area_code, n.cohort_code, n.year)] = sheet_ref("Assumptions and evidence",
                                                                           cell(top + 1 + i, 4, True))
        if len(case.need):
            self._name("need_people", "Assumptions and evidence", col_range(4, top + 1, top + len(case.need)))
        widths = [(0, 16), (1, 34), (2, 22), (3, 14), (4, 14), (5, 40), (6, 40), (7, 60)]
        for c, w in widths:
            ws.set_column(c, c, w)
        ws.freeze_panes(3, 0)
        self._print(ws, None, "Assumptions and evidence")

    # ---- 11. eligibility ---------------------------------------------------------------------
    def _eligibility(self, keys: pd.DataFrame) -> None:
        b = self.book
        ws = self.ws["Eligibility"]
        ws.write_string(0, 0, "Eligibility: every pot, area, cohort, year and programme the agreement may fund", b.title)
        if not self.layout.eligibility:
            ws.write_string(1, 0, f"{len(keys):,} eligible combinations: too many to check row by row in a "
                            "spreadsheet. 'commissioning check' checks every row's eligibility.", b.warn)
            return
        ws.write_string(1, 0, "Pooled pots may fund any area and cohort some pool member may fund, within their own "
                        "years, through the pool's best programme for the cohort (or their own where today's "
                        "rules allow). Only cells with evidenced need are listed. The Allocations sheet's "
                        "'eligible' column looks each row up here by its key.", b.note)
        frame = keys.copy()
        frame.insert(0, "key", [";".join(k) for k in keys.itertuples(index=False, name=None)])
        head = 3
        last = b.frame_table(ws, head, frame, "Eligibility", {},
                             {"key": 50, "pot_code": 14, "area_code": 12, "cohort_code": 20, "year": 9, "programme": 14})
        self._name("elig_key", "Eligibility", col_range(0, head + 1, last))
        ws.freeze_panes(head + 1, 0)
        self._print(ws, head, "Eligibility")

    # ---- 4. allocations ------------------------------------------------------------------------
    def _allocations(self) -> None:
        b, case, lay, rows = self.book, self.case, self.layout, self.rows
        ws = self.ws["Allocations"]
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
        lay.alloc_first, lay.alloc_last = first, last_data + SLACK_ROWS
        rng = {c: col_range(AC[c], lay.alloc_first, lay.alloc_last) for c in ALLOC_COLUMNS}
        for nm, col in ALLOC_NAMES.items():
            if col == "eligible" and not lay.eligibility:
                continue
            self._name(nm, "Allocations", rng[col])

        for j, h in enumerate(ALLOC_COLUMNS):
            ws.write_string(head, j, h, b.header)
        pooled_words = {True: "pooled", False: "retained"}
        r = first
        sub_pos: list[int] = []
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
                sub_pos.append(r)
            else:
                x = rows.iloc[item]
                self._allocation_row(ws, r, x, pooled_words[x["pot_code"] in self.pool])
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
            self._name(nm, "Allocations", cell(2, AC[col], True))
        b.formula(ws, 2, AC["change (£)"], f"={cell(2, AC['amount'])}-{cell(2, AC['proposed (£)'])}",
                  fmt["change (£)"], 0.0)
        for col in ("amount", "proposed (£)", "change (£)", "participants", "outcomes", "value"):
            cached = 0.0 if col == "change (£)" else float(rows["amount" if col == "proposed (£)" else col].sum())
            b.formula(ws, 3, AC[col], f"=SUBTOTAL(9,{cell(first, AC[col])}:{cell(lay.alloc_last, AC[col])})",
                      b.money if col not in ("participants", "outcomes") else b.people, cached)

        ws.autofilter(head, 0, max(last_data, first), len(ALLOC_COLUMNS) - 1)
        ws.outline_settings(True, False, True, False)  # subtotal rows sit above their detail
        ws.freeze_panes(head + 1, 2)
        ws.data_validation(first, AC["amount"], lay.alloc_last, AC["amount"], {
            "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
            "error_title": "Amount", "error_message": "An allocation is a number of pounds, zero or more."})
        amount_col = xl_col_to_name(AC["change (£)"])
        ws.conditional_format(first, AC["change (£)"], lay.alloc_last, AC["change (£)"], {
            "type": "formula", "criteria": f"=AND(ISNUMBER(${amount_col}{first + 1}),${amount_col}{first + 1}<>0)",
            "format": b.changed})
        if lay.eligibility:
            ws.conditional_format(first, AC["eligible"], lay.alloc_last, AC["eligible"], {
                "type": "cell", "criteria": "==", "value": "FALSE", "format": b.red})
        widths = {"ref": 10, "pot_code": 14, "pot_name": 34, "area_code": 11, "area_name": 14, "cohort_code": 18,
                  "cohort_name": 26, "year": 9, "programme": 14, "pooled": 9, "amount": 15, "proposed (£)": 15,
                  "change (£)": 13, "unit_cost": 10, "outcome_rate": 9, "value_per_outcome": 11, "participants": 12,
                  "outcomes": 11, "value": 15, "eligible": 9, "issued as": 40}
        for c, w in widths.items():
            ws.set_column(AC[c], AC[c], w)
        ws.set_row(head, 30)
        self._print(ws, head, "Allocations")

    def _allocation_row(self, ws, r: int, x: pd.Series, pooled: str) -> None:
        b, case = self.book, self.case
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
        if self.layout.eligibility:
            key = "&\";\"&".join(cell(r, AC[c]) for c in ("pot_code", "area_code", "cohort_code", "year", "programme"))
            b.formula(ws, r, AC["eligible"],
                      f'=IF({cell(r, AC["pot_code"])}="","",SUMPRODUCT(--EXACT(elig_key,{key}))>0)', b.ok, True)

    # ---- 3. pooled budget -----------------------------------------------------------------------
    def _pooled_budget(self) -> None:
        b, case, lay, rows = self.book, self.case, self.layout, self.rows
        ws = self.ws["Pooled budget"]
        years = lay.years
        n = len(years)
        Y0 = 5
        T = Y0 + n
        ws.write_string(0, 0, "Pooled budget: each pot's money by financial year, contributed to the pool or "
                        "retained outside it", b.title)
        ws.write_string(1, 0, "Budgets are the case's (the constants the budget checks read). Pooled pots may fund "
                        "any area and cohort a pool member may fund, within their own years, carry-forward and "
                        f"match; retained pots keep {rules_words(case.rules_changed)}.", b.note)
        head1 = 3
        heads = ["pot_code", "pot_name", "department", "basis", "status", *years, "total (£)", "carry_forward",
                 "match_rate", "can_match", "rules in words"]
        first1 = head1 + 1
        for i, p in enumerate(case.pots):
            r = first1 + i
            lay.budget_row[p.code] = r
            lay.pot_code_cell[p.code] = sheet_ref("Pooled budget", cell(r, 0, True))
            lay.match_rate_cell[p.code] = sheet_ref("Pooled budget", cell(r, T + 2, True))
            b.text(ws, r, 0, p.code)
            b.text(ws, r, 1, p.name)
            b.text(ws, r, 2, p.department)
            b.text(ws, r, 3, p.basis)
            ws.write_string(r, 4, "pooled" if p.code in self.pool else "retained")
            for j, y in enumerate(years):
                if p.in_life(y) or (p.code, y) in case.budget:
                    b.number(ws, r, Y0 + j, case.budget.get((p.code, y), 0.0), b.money)
            total = sum(case.budget.get((p.code, y), 0.0) for y in years)
            b.formula(ws, r, T, f"=SUM({cell(r, Y0)}:{cell(r, T - 1)})", b.money_total, total)
            b.number(ws, r, T + 1, p.carry_forward, b.whole)
            b.number(ws, r, T + 2, p.match_rate, b.rate)
            ws.write_string(r, T + 3, "yes" if p.can_match else "no")
            b.text(ws, r, T + 4, self._pot_rules_words(p.code), b.wrap)
        last1 = first1 + len(case.pots) - 1
        ws.add_table(head1, 0, last1, len(heads) - 1, {
            "name": "PooledBudget", "style": "Table Style Light 9", "autofilter": True,
            "columns": [{"header": h} for h in heads]})
        for j, y in enumerate(years):
            lay.year_col[y] = Y0 + j
        self._name("budget_grid", "Pooled budget",
                   f"${xl_col_to_name(Y0)}${first1 + 1}:${xl_col_to_name(T - 1)}${last1 + 1}")
        status = col_range(4, first1, last1)

        def totals(r0: int, first: int, last: int, grid: dict[tuple[str, str], float], names: tuple[str, ...]):
            for k, (label, crit) in enumerate((("Contributed to the pool", "pooled"),
                                               ("Retained outside the pool", "retained"), ("All pots", None))):
                r = r0 + k
                ws.write_string(r, 1, label, b.total_label)
                for c in range(Y0, T + 1):
                    yr = years[c - Y0] if c < T else None
                    vals = [v for (p, y), v in grid.items()
                            if (crit is None or (p in self.pool) == (crit == "pooled")) and (yr is None or y == yr)]
                    rc = col_range(c, first, last)
                    f = f'=SUMIF({status},"{crit}",{rc})' if crit else f"=SUM({rc})"
                    b.formula(ws, r, c, f, b.money_total, float(sum(vals)))
                if names[k]:
                    self._name(names[k], "Pooled budget", cell(r, T, True))
            return r0 + 2

        budgets = {(p, y): v for (p, y), v in case.budget.items() if y in years}
        r_all = totals(last1 + 2, first1, last1, budgets, ("pooled_budget_total", "retained_budget_total",
                                                           "budget_total"))
        lay.pool_total = sheet_ref("Pooled budget", cell(last1 + 2, T, True))
        lay.budget_total = sheet_ref("Pooled budget", cell(r_all, T, True))

        # Planned spend, pot × year, from the Allocations sheet.
        top2 = r_all + 3
        ws.write_string(top2, 0, "Planned spend by pot and year (formulas on the Allocations sheet)", b.subtitle)
        head2 = top2 + 1
        heads2 = ["pot_code", "pot_name", "department", "basis", "status", *years, "planned (£)",
                  "unspent over the term (£)"]
        first2 = head2 + 1
        spend = rows.groupby(["pot_code", "year"])["amount"].sum().to_dict()
        for i, p in enumerate(case.pots):
            r = first2 + i
            lay.spend_row[p.code] = r
            b.text(ws, r, 0, p.code)
            b.text(ws, r, 1, p.name)
            b.text(ws, r, 2, p.department)
            b.text(ws, r, 3, p.basis)
            ws.write_string(r, 4, "pooled" if p.code in self.pool else "retained")
            for j, y in enumerate(years):
                f = (f"=SUMPRODUCT(EXACT(alloc_pot,{cell(r, 0, True)})*EXACT(alloc_year,"
                     f"{cell(head1, Y0 + j, True)}),alloc_amount)")
                b.formula(ws, r, Y0 + j, f, b.money, float(spend.get((p.code, y), 0.0)))
            planned = float(sum(spend.get((p.code, y), 0.0) for y in years))
            b.formula(ws, r, T, f"=SUM({cell(r, Y0)}:{cell(r, T - 1)})", b.money_total, planned)
            b.formula(ws, r, T + 1, f"={cell(lay.budget_row[p.code], T)}-{cell(r, T)}", b.money,
                      sum(case.budget.get((p.code, y), 0.0) for y in years) - planned)
        last2 = first2 + len(case.pots) - 1
        ws.add_table(head2, 0, last2, len(heads2) - 1, {
            "name": "PlannedSpend", "style": "Table Style Light 9", "autofilter": True,
            "columns": [{"header": h} for h in heads2]})
        self._name("spend_grid", "Pooled budget",
                   f"${xl_col_to_name(Y0)}${first2 + 1}:${xl_col_to_name(T - 1)}${last2 + 1}")
        spend_keys = {k: v for k, v in spend.items() if k[0] in case.pot}
        r_all2 = totals(last2 + 2, first2, last2, spend_keys, ("pooled_spend_total", "retained_spend_total",
                                                               "spend_total"))
        lay.spend_total = sheet_ref("Pooled budget", cell(r_all2, T, True))

        ws.set_column(0, 0, 14)
        ws.set_column(1, 1, 38)
        ws.set_column(2, 4, 11)
        ws.set_column(Y0, T, 14)
        ws.set_column(T + 1, T + 3, 10)
        ws.set_column(T + 4, T + 4, 90)
        ws.freeze_panes(head1 + 1, 2)
        self._print(ws, head1, "Pooled budget")

    def _pot_rules_words(self, pot_code: str) -> str:
        case = self.case
        p = case.pot[pot_code]
        parts = [f"Geography: {';'.join(p.geography)}. Cohorts: {';'.join(p.cohorts)}. "
                 f"Money may be spent from {p.start:%d %b %Y} to {p.end:%d %b %Y}."]
        if p.carry_forward:
            parts.append(f"Unspent money may be carried forward {p.carry_forward} year(s).")
        else:
            parts.append("Use it or lose it: no carry-forward.")
        if p.match_rate > 0:
            parts.append(f"Each £1 needs £{p.match_rate:g} of match from pots that count as match in the same "
                         "area and year.")
        if p.can_match and p.match_rate == 0:
            parts.append("Its spend counts as match for other pots.")
        for rule in case.rules:
            if rule.pot_code in (pot_code, ALL):
                parts.append(f"Rule: {rule.describe()}.")
        if pot_code in self.pool:
            parts.append("In the pool: may fund any area and cohort a pool member may fund, within its own years.")
        return " ".join(parts)

    # ---- 5. outcomes and targets -------------------------------------------------------------------
    def _outcomes(self) -> None:
        b, case, lay, rows = self.book, self.case, self.layout, self.rows
        ws = self.ws["Outcomes and targets"]
        years = lay.years
        ws.write_string(0, 0, "Outcomes and targets: what the agreement commits to, by area and year", b.title)
        ws.write_string(1, 0, "Every figure is a formula on the Allocations sheet: edit an amount there and these "
                        "follow. Outcomes are each cohort's headline outcome (see Assumptions and evidence).", b.note)
        r = 3
        grids = (("participants", "Participants (people supported)", b.people, b.people_total, "target_participants"),
                 ("outcomes", "Outcomes (people achieving their cohort's outcome)", b.people, b.people_total,
                  "target_outcomes"),
                 ("value", "Public value (£)", b.money, b.money_total, "target_value"))
        by_area = {c: rows.groupby(["area_code", "year"])[c].sum().to_dict() for c in ("participants", "outcomes", "value")}
        for col, title, fmt, tfmt, name in grids:
            ws.write_string(r, 0, title, b.subtitle)
            head = r + 1
            for j, h in enumerate(["Area code", "Area", *years, "Total"]):
                ws.write_string(head, j, h, b.header)
            first = head + 1
            for i, a in enumerate(case.areas):
                rr = first + i
                b.text(ws, rr, 0, a.code)
                b.text(ws, rr, 1, a.name)
                for j, y in enumerate(years):
                    f = (f"=SUMPRODUCT(EXACT(alloc_area,{cell(rr, 0, True)})*EXACT(alloc_year,"
                         f"{cell(head, 2 + j, True)}),alloc_{col})")
                    b.formula(ws, rr, 2 + j, f, fmt, float(by_area[col].get((a.code, y), 0.0)))
                b.formula(ws, rr, 2 + len(years), f"=SUM({cell(rr, 2)}:{cell(rr, 1 + len(years))})", tfmt,
                          float(sum(by_area[col].get((a.code, y), 0.0) for y in years)))
            last = first + len(case.areas) - 1
            tr = last + 1
            ws.write_string(tr, 0, "Total", b.total_label)
            ws.write_string(tr, 1, "", b.total_label)
            for j in range(len(years) + 1):
                yr = years[j] if j < len(years) else None
                cached = float(sum(v for (a, y), v in by_area[col].items() if a in case.area and (yr is None or y == yr)))
                b.formula(ws, tr, 2 + j, f"=SUM({cell(first, 2 + j)}:{cell(last, 2 + j)})", tfmt, cached)
            self._name(name, "Outcomes and targets", cell(tr, 2 + len(years), True))
            r = tr + 3

        ws.write_string(r, 0, "Outcomes by cohort and year", b.subtitle)
        head = r + 1
        for j, h in enumerate(["Cohort code", "Cohort", "Outcome", *years, "Total"]):
            ws.write_string(head, j, h, b.header)
        by_cohort = rows.groupby(["cohort_code", "year"])["outcomes"].sum().to_dict()
        first = head + 1
        for i, c in enumerate(case.cohorts):
            rr = first + i
            b.text(ws, rr, 0, c.code)
            b.text(ws, rr, 1, c.name)
            b.text(ws, rr, 2, c.outcome)
            for j, y in enumerate(years):
                f = (f"=SUMPRODUCT(EXACT(alloc_cohort,{cell(rr, 0, True)})*EXACT(alloc_year,"
                     f"{cell(head, 3 + j, True)}),alloc_outcomes)")
                b.formula(ws, rr, 3 + j, f, b.people, float(by_cohort.get((c.code, y), 0.0)))
            b.formula(ws, rr, 3 + len(years), f"=SUM({cell(rr, 3)}:{cell(rr, 2 + len(years))})", b.people_total,
                      float(sum(by_cohort.get((c.code, y), 0.0) for y in years)))
        last = first + len(case.cohorts) - 1
        tr = last + 1
        ws.write_string(tr, 0, "Total", b.total_label)
        for j in range(len(years) + 1):
            yr = years[j] if j < len(years) else None
            cached = float(sum(v for (c, y), v in by_cohort.items() if c in case.cohort and (yr is None or y == yr)))
            b.formula(ws, tr, 3 + j, f"=SUM({cell(first, 3 + j)}:{cell(last, 3 + j)})", b.people_total, cached)
        ws.set_column(0, 0, 14)
        ws.set_column(1, 1, 30)
        ws.set_column(2, 3 + len(years), 14)
        ws.freeze_panes(3, 2)
        self._print(ws, None, "Outcomes and targets")

    # ---- 10. checks ------------------------------------------------------------------------------------
    def _checks(self) -> None:
        b, lay = self.book, self.layout
        ws = self.ws["Checks"]
        ws.write_string(0, 0, "Checks: each reads TRUE while the Allocations sheet respects it", b.title)
        ws.write_string(1, 0, "Allowances (the engine rounds each allocation down to whole pence): a maximum holds "
                        f"to within £{L.MONEY_ALLOWANCE:.2f}; a minimum or an exact amount to within £{L.PENNY:.2f} "
                        "per allocation row in its scope plus one ten-millionth of the amount (the solver's "
                        "tolerance); people to within a millionth of a person. Comparisons round to 6 decimal "
                        "places.", b.note)
        ws.write_string(2, 0, "Windows: money that may be carried forward is checked over every run of consecutive "
                        "years (spend in the run ≤ the budgets that can reach it).", b.note)
        head = 6
        first = head + 1
        self._spec_row = first
        specs = [self._limit_spec(m) for m in self.measured] + self._extra_specs()
        last = first + len(specs) - 1
        holds_rng = col_range(CC["holds"], first, max(last, first))
        ws.write_string(3, 0, "All checks hold", b.subtitle)
        all_ok = all(s["holds"] for s in specs)
        b.formula(ws, 3, 2, f"=AND({holds_rng})", b.big_ok, all_ok)
        self._name("all_checks_hold", "Checks", cell(3, 2, True))
        ws.write_string(4, 0, "Checks failing", b.bold)
        b.formula(ws, 4, 2, f"=COUNTIF({holds_rng},FALSE)", b.whole, sum(1 for s in specs if not s["holds"]))
        ws.write_string(4, 3, "of", b.note)
        b.formula(ws, 4, 4, f"=ROWS({holds_rng})", b.whole, len(specs))
        fam_words = {**L.FAMILY_WORDS, "eligibility": "eligibility", "reconciliation": "reconciliation"}
        need_rows = []
        for i, s in enumerate(specs):
            r = first + i
            unit = s["unit"]
            vfmt = {"people": b.people, "rows": b.whole}.get(unit, b.money)
            afmt = b.pence if unit == "£" else None
            b.number(ws, r, CC["no"], i + 1, b.whole)
            ws.write_string(r, CC["family"], fam_words[s["family"]])
            b.text(ws, r, CC["check"], s["words"])
            for col in ("pot", "area", "cohort", "year"):
                b.text(ws, r, CC[col], s.get(col) or None)
            V, Lm, A = (cell(r, CC[c]) for c in ("value", "limit", "allowance"))
            b.formula(ws, r, CC["value"], s["value_f"], vfmt, s["value"])
            if isinstance(s["limit_f"], str):
                b.formula(ws, r, CC["limit"], s["limit_f"], vfmt, s["limit"])
            else:
                b.number(ws, r, CC["limit"], s["limit_f"], vfmt)
            if isinstance(s["allowance_f"], str):
                b.formula(ws, r, CC["allowance"], s["allowance_f"], afmt, s["allowance"])
            else:
                b.number(ws, r, CC["allowance"], s["allowance_f"], afmt)
            sense = s["sense"]
            if sense == "max":
                hf, rf = f"=ROUND({Lm}+{A}-{V},6)>=0", f"={Lm}-{V}"
            elif sense == "min":
                hf, rf = f"=ROUND({V}-{Lm}+{A},6)>=0", f"={V}-{Lm}"
            else:
                hf, rf = f"=ROUND({A}-ABS({V}-{Lm}),6)>=0", f"=-ABS({V}-{Lm})"
            b.formula(ws, r, CC["holds"], hf, b.ok, bool(s["holds"]))
            head_cached = {"max": s["limit"] - s["value"], "min": s["value"] - s["limit"]}.get(
                sense, -abs(s["value"] - s["limit"]))
            b.formula(ws, r, CC["headroom"], rf, vfmt, head_cached)
            ws.write_string(r, CC["unit"], unit)
            if s.get("factor") is not None:
                b.number(ws, r, CC["factor"], s["factor"], b.rate)
            if s["family"] in L.FAMILY_WORDS and family(s["family"]).counts_unmet:
                need_rows.append(r)
        ws.add_table(head, 0, max(last, first), len(CHECK_COLUMNS) - 1, {
            "name": "Checks", "style": "Table Style Light 9", "autofilter": True,
            "columns": [{"header": h} for h in CHECK_COLUMNS]})
        if need_rows:
            lay.need_rows = (need_rows[0], need_rows[-1])
        ws.conditional_format(first, CC["holds"], max(last, first), CC["holds"],
                              {"type": "cell", "criteria": "==", "value": "FALSE", "format": b.red})
        ws.conditional_format(first, CC["holds"], max(last, first), CC["holds"],
                              {"type": "cell", "criteria": "==", "value": "TRUE", "format": b.green})
        ws.conditional_format(3, 2, 3, 2, {"type": "cell", "criteria": "==", "value": "FALSE", "format": b.red})
        ws.conditional_format(3, 2, 3, 2, {"type": "cell", "criteria": "==", "value": "TRUE", "format": b.green})
        widths = {"no": 6, "family": 14, "check": 70, "pot": 12, "area": 11, "cohort": 16, "year": 18, "value": 15,
                  "limit": 15, "allowance": 10, "holds": 8, "headroom": 14, "unit": 7, "factor": 8}
        for c, w in widths.items():
            ws.set_column(CC[c], CC[c], w)
        ws.freeze_panes(head + 1, 3)
        self._print(ws, head, "Checks")

    def _scope_terms(self, lim: L.Limit, r: int) -> list[str]:
        """EXACT conditions selecting a limit's rows of the Allocations sheet, by reference."""
        terms = []
        if lim.pots is not None:
            terms.append(f"EXACT(alloc_pot,{cell(r, CC['pot'], True)})")
        if lim.areas is not None:
            if len(lim.areas) == 1 and lim.area_code == lim.areas[0]:
                terms.append(f"EXACT(alloc_area,{cell(r, CC['area'], True)})")
            elif lim.area_code in self.layout.footprint_range and len(lim.areas) > MAX_LITERAL_AREAS:
                terms.append(f"ISNUMBER(MATCH(alloc_area,{self.layout.footprint_range[lim.area_code]},0))")
            elif lim.areas:
                terms.append("(" + "+".join(f"EXACT(alloc_area,{self.layout.area_cell[a]})" for a in lim.areas) + ")")
            else:
                terms.append("0")
        if lim.cohorts is not None:
            terms.append(f"EXACT(alloc_cohort,{cell(r, CC['cohort'], True)})")
        if lim.years is not None and len(lim.years) == 1:
            terms.append(f"EXACT(alloc_year,{cell(r, CC['year'], True)})")
        return terms

    def _limit_spec(self, m: L.Measured) -> dict:
        """One Checks row: the limit as measured, and its family's live formulas on this row."""
        lim = m.limit
        r = self._spec_row
        self._spec_row += 1
        spec = {"family": lim.family, "words": lim.words, "pot": lim.pot_code, "area": lim.area_code,
                "cohort": lim.cohort_code, "year": lim.year, "unit": lim.unit, "sense": lim.sense,
                "value": m.value, "limit": m.bound, "allowance": m.allowance, "holds": m.holds,
                "allowance_f": m.allowance}
        fam = family(lim.family)
        if fam.check_formulas is None:  # pragma: no cover - a family without a closed form
            raise ValueError(f"no formula for limit family {lim.family}")
        spec.update(fam.check_formulas(m, _CheckCells(self, r)))
        return spec

    def _extra_specs(self) -> list[dict]:
        """Eligibility of every row, and reconciliation of the sheets with the Allocations total."""
        rows, lay = self.rows, self.layout
        out = []
        n = len(rows)
        if lay.eligibility:
            self._spec_row += 1
            out.append({"family": "eligibility", "words": "every allocation row is a pot, area, cohort, year and "
                        "programme the agreement may fund (rows with a pot code; see the Eligibility sheet)",
                        "unit": "rows", "sense": "equal", "value_f": "=COUNTIF(alloc_eligible,TRUE)",
                        "limit_f": '=SUMPRODUCT(--(alloc_pot<>""))', "allowance_f": 0.0,
                        "value": n, "limit": n, "allowance": 0.0, "holds": True})
        total = float(rows["amount"].sum())
        known = float(rows[rows["pot_code"].isin(self.case.pot) & rows["year"].isin(lay.years)]["amount"].sum())
        for words, value_f, limit_f, value, limit, unit in (
            ("planned spend by pot and year (Pooled budget sheet) adds up to the Allocations total — every row "
             "names a pot and a year of the case", f"={lay.spend_total}", "=total_allocated", known, total, "£"),
            ("participants by area and year (Outcomes and targets) add up to the Allocations total — every row "
             "names an area of the case", "=target_participants", "=total_participants",
             float(rows[rows["area_code"].isin(self.case.area) & rows["year"].isin(lay.years)]["participants"].sum()),
             float(rows["participants"].sum()), "people"),
            ("public value by area and year (Outcomes and targets) adds up to the Allocations total",
             "=target_value", "=total_value",
             float(rows[rows["area_code"].isin(self.case.area) & rows["year"].isin(lay.years)]["value"].sum()),
             float(rows["value"].sum()), "£"),
        ):
            allowance = L.MONEY_ALLOWANCE if unit == "£" else L.PEOPLE_ALLOWANCE
            self._spec_row += 1
            out.append({"family": "reconciliation", "words": words, "unit": unit, "sense": "equal",
                        "value_f": value_f, "limit_f": limit_f, "allowance_f": allowance, "value": value,
                        "limit": limit, "allowance": allowance,
                        "holds": L.holds("equal", value, limit, allowance)})
        return out


    # ---- 2. summary ----------------------------------------------------------------------------------
    def _summary(self) -> None:
        b, inputs, lay, rows = self.book, self.inputs, self.layout, self.rows
        ws = self.ws["Summary"]
        ws.write_string(0, 0, "Summary", b.title)
        b.text(ws, 1, 0, inputs.name, b.subtitle)
        ws.write_string(3, 0, "This agreement (live from the Allocations sheet)", b.subtitle)
        total = float(rows["amount"].sum())
        head = [
            ("Pooled budget over the term (£)", f"={lay.pool_total}", inputs.pooled_budget(), b.money),
            ("Allocated by this agreement (£)", "=total_allocated", total, b.money),
            ("   of which from pooled pots (£)", "=pooled_spend_total",
             float(rows.loc[rows["pot_code"].isin(self.pool), "amount"].sum()), b.money),
            ("Participants", "=total_participants", float(rows["participants"].sum()), b.people),
            ("Outcomes", "=total_outcomes", float(rows["outcomes"].sum()), b.people),
            ("Public value (£)", "=total_value", float(rows["value"].sum()), b.money),
        ]
        for i, (label, f, cached, fmt) in enumerate(head):
            ws.write_string(4 + i, 0, label, b.label)
            b.formula(ws, 4 + i, 1, f, fmt, cached)
        ws.write_string(4 + len(head), 0, "All checks hold", b.label)
        b.formula(ws, 4 + len(head), 1, "=all_checks_hold", b.ok, all(m.holds for m in self.measured))

        top = 4 + len(head) + 2
        ws.write_string(top, 0, "The three levels and the dividends", b.subtitle)
        h = top + 1
        cols = ["Measure", "baseline (today)", f"aligned ({rules_words(inputs.case.rules_changed)}, coordinated)",
                "pooled (as proposed by the engine)", "this agreement (live)",
                "alignment dividend (aligned − baseline)", "devolution dividend (pooled − aligned)"]
        for j, c in enumerate(cols):
            ws.write_string(h, j, c, b.header)
        ws.set_row(h, 45)
        need = [m for m in self.measured if family(m.limit.family).counts_unmet]
        unmet_cached = float(sum(max(0.0, m.bound - m.value) for m in need))
        if lay.need_rows:
            a, z = lay.need_rows
            V = sheet_ref("Checks", col_range(CC["value"], a, z))
            Lm = sheet_ref("Checks", col_range(CC["limit"], a, z))
            unmet_f = f"=SUMPRODUCT(--({Lm}>{V}),{Lm}-{V})"
        else:
            unmet_f = "=0"
        live = {"allocated": ("=total_allocated", total),
                "participants": ("=total_participants", float(rows["participants"].sum())),
                "outcomes": ("=total_outcomes", float(rows["outcomes"].sum())),
                "value": ("=total_value", float(rows["value"].sum())),
                "unmet_people": (unmet_f, unmet_cached),
                "idle_amount": (f"={lay.budget_total}-total_allocated", self.case.total_budget - total)}
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
        chart.add_series({"name": "Outcomes", "categories": ["Summary", h, 1, h, 4],
                          "values": ["Summary", outcomes_row, 1, outcomes_row, 4],
                          "data_labels": {"value": True, "num_format": "#,##0"}})
        chart.set_title({"name": "Outcomes by level"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"num_format": "#,##0", "name": "outcomes"})
        ws.insert_chart(note_r + 2, 0, chart, {"x_scale": 1.6, "y_scale": 1.2})
        ws.set_column(0, 0, 34)
        ws.set_column(1, 6, 20)
        ws.freeze_panes(3, 0)
        self._print(ws, None, "Summary")

    # ---- 1. cover ---------------------------------------------------------------------------------------
    def _cover(self) -> None:
        b, inputs, case = self.book, self.inputs, self.case
        ws = self.ws["Cover"]
        ws.write_string(0, 0, "Local Labour Market Agreement", b.title)
        b.text(ws, 1, 0, inputs.name, b.subtitle)
        r = 3

        def line(label: str, value=None, fmt=None, number=False):
            nonlocal r
            ws.write_string(r, 0, label, b.label)
            if number:
                b.number(ws, r, 1, value, fmt)
            elif value is not None:
                b.text(ws, r, 1, value, fmt)
            r += 1

        line("Status", "DRAFT", b.bold)
        ws.write_string(r, 0, "Date", b.label)
        ws.write_datetime(r, 1, datetime.combine(inputs.drafted, datetime.min.time()), b.date)
        r += 1
        parties = inputs.parties or ("(the case names no parties)",)
        for i, p in enumerate(parties):
            line("Parties" if i == 0 else "", p)
        line("Lead body", inputs.lead_body)
        line("Term (years)", inputs.term_years, b.whole, number=True)
        line("Agreement years", f"{inputs.start_year} to {inputs.end_year}")
        if case.years:
            line("Figures cover", f"{case.years[0]} to {case.years[-1]} (financial years, 1 April to 31 March)")
        line("Scenario", inputs.scenario)
        line("Pooled pots", "; ".join(inputs.pool_codes) or "none")
        line("Fingerprint", self.fp)
        line("Optimisation", f"{inputs.status} ({inputs.solver}, objective {inputs.objective}); {inputs.source}")
        if inputs.status != "optimal":
            ws.write_string(r, 1, "NOT PROVEN OPTIMAL: the solver stopped before proving these figures the best; "
                            "they respect every check all the same.", b.warn)
            r += 1
        line("Allocation rows as issued", len(self.rows), b.whole, number=True)
        line("Proposed total (£)", float(self.rows["amount"].sum()), b.pence, number=True)
        line("All checks hold (live)")
        b.formula(ws, r - 1, 1, "=all_checks_hold", b.ok, all(m.holds for m in self.measured))
        r += 1
        ws.write_string(r, 0, "How to read and edit this workbook", b.subtitle)
        r += 1
        for text in (
            "The fingerprint identifies the inputs (case and scenario) this agreement was drawn from.",
            "Edit only the yellow 'amount' cells of the Allocations sheet; totals, outcomes and checks follow.",
            "The Checks sheet reads TRUE for every pot budget, need cap and rule the allocation respects; "
            "the cell 'All checks hold' sums them up.",
            "Then run: commissioning check agreement.xlsx --case CASE — it recomputes every budget, need cap, "
            "eligibility and rule from the amounts and the case, and lists what changed from the proposal.",
        ):
            ws.write_string(r, 0, "•", b.bold)
            ws.write_string(r, 1, text, b.wrap)
            r += 1
        r += 1
        ws.write_string(r, 0, "Contents", b.subtitle)
        r += 1
        contents = {
            "Summary": "the headline, the three levels and the dividends",
            "Pooled budget": "pot × year budgets, pooled or retained, and planned spend",
            "Allocations": "area × cohort × year, with the pot detail beneath (the editable proposal)",
            "Outcomes and targets": "participants, outcomes and value by area and year",
            "Flexibilities requested": "the asks, ranked by measured gain",
            "Duplication and gaps": "the register from the map and the optimiser",
            "Governance": "joint board, reporting, review points and variation",
            "Assumptions and evidence": "unit costs, outcome rates, values and the need evidence",
            "Checks": "one TRUE/FALSE per budget, need cap and rule, and the overall cell",
            "Eligibility": "what each pot may fund under the agreement",
        }
        for name, words in contents.items():
            ws.write_string(r, 0, name, b.bold)
            ws.write_string(r, 1, words)
            r += 1
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 110)
        self._print(ws, None, "Cover")

    # ---- 6. flexibilities --------------------------------------------------------------------------------
    def _asks(self) -> None:
        b, inputs, case = self.book, self.inputs, self.case
        ws = self.ws["Flexibilities requested"]
        ws.write_string(0, 0, "Flexibilities requested: what we ask government for, ranked by measured gain", b.title)
        unit = {"outcomes": "outcomes", "value": "£ of public value", "coverage": "participants"}.get(
            inputs.objective, inputs.objective)
        asks = inputs.asks
        if asks is None:
            ws.write_string(1, 0, "The asks were not computed for this agreement (draw it from a run with its "
                            "explanation to list them).", b.warn)
            return
        ws.write_string(1, 0, f"Each gain is measured by solving the case again with that one change "
                        f"(gain in {unit}; per £1m of money the change moves).", b.note)
        frame = pd.DataFrame({
            "rank": asks.get("rank"),
            "ask": [ask_words(case, str(x.get("change", "")), x.get("pot_code"), x.get("area_code"),
                              x.get("cohort_code"), x.get("year"), x.get("detail")) for _, x in asks.iterrows()],
            "pot_code": asks.get("pot_code"),
            "pot_name": [case.pot[p].name if isinstance(p, str) and p in case.pot else None
                         for p in asks.get("pot_code", pd.Series(dtype=object))],
            "change": asks.get("change"),
            "area_code": asks.get("area_code"),
            "cohort_code": asks.get("cohort_code"),
            "year": asks.get("year"),
            "gain": asks.get("gain", asks.get("gain_outcomes")),
            "gain_outcomes": asks.get("gain_outcomes"),
            "gain_participants": asks.get("gain_participants"),
            "gain_value": asks.get("gain_value"),
            "gain_per_million": asks.get("gain_per_million"),
            "detail": asks.get("detail"),
        }) if len(asks) else pd.DataFrame(columns=["rank", "ask", "pot_code", "pot_name", "change", "area_code",
                                                   "cohort_code", "year", "gain", "gain_outcomes", "gain_participants",
                                                   "gain_value", "gain_per_million", "detail"])
        head = 3
        if not len(frame):
            ws.write_string(2, 0, "No single flexibility measured a gain.", b.note)
        b.frame_table(ws, head, frame, "Asks", {"rank": b.whole, "gain": b.people, "gain_outcomes": b.people,
                                               "gain_participants": b.people, "gain_value": b.money,
                                               "gain_per_million": b.people},
                      {"rank": 6, "ask": 60, "pot_code": 14, "pot_name": 30, "change": 14, "area_code": 11,
                       "cohort_code": 16, "year": 9, "gain": 13, "gain_outcomes": 13, "gain_participants": 13,
                       "gain_value": 15, "gain_per_million": 13, "detail": 90})
        ws.freeze_panes(head + 1, 2)
        self._print(ws, head, "Flexibilities requested")

    # ---- 7. duplication and gaps ----------------------------------------------------------------------------
    def _flags(self) -> None:
        b = self.book
        ws = self.ws["Duplication and gaps"]
        ws.write_string(0, 0, "Duplication and gaps: the register from the map (today) and the optimiser (after "
                        "the aligned and pooled allocations)", b.title)
        flags = self.inputs.flags
        if flags is None:
            flags = pd.DataFrame(columns=FLAG_COLUMNS)
        flags = flags.reindex(columns=FLAG_COLUMNS).reset_index(drop=True)
        for c in ("people", "amount"):
            flags[c] = pd.to_numeric(flags[c], errors="coerce")
        ws.write_string(1, 0, "Counts and totals are formulas on the register below; filter it with the header "
                        "arrows.", b.note)
        groups = [("map", None, "duplication"), ("map", None, "gap"), ("map", None, "idle"),
                  ("optimise", "aligned", "gap"), ("optimise", "aligned", "idle"),
                  ("optimise", "pooled", "gap"), ("optimise", "pooled", "idle")]
        top = 3
        for j, h in enumerate(["stage", "level", "kind", "rows", "people", "amount (£)"]):
            ws.write_string(top, j, h, b.header)
        head = top + len(groups) + 3
        first, last = head + 1, head + max(len(flags), 1)
        rng = {c: col_range(FLAG_COLUMNS.index(c), first, last) for c in FLAG_COLUMNS}
        for i, (stage, level, kind) in enumerate(groups):
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
        self._print(ws, head, "Duplication and gaps")

    # ---- 8. governance --------------------------------------------------------------------------------------
    def _governance(self) -> None:
        b = self.book
        ws = self.ws["Governance"]
        r = 0
        for kind, text in _blocks(governance_lines(self.inputs, self.governance_template)):
            if kind == "blank":
                r += 1
                continue
            fmt = {"title": b.title, "heading": b.subtitle}.get(kind, b.wrap)
            ws.write_string(r, 0, text, fmt)
            r += 1
        ws.set_column(0, 0, 120)
        self._print(ws, None, "Governance")


def _rate_source(rate) -> str:
    if rate is None:
        return "pot unit cost; cohort outcome rate"
    parts = []
    parts.append("rates table" if rate.unit_cost is not None else "pot unit cost")
    parts.append("rates table" if rate.outcome_rate is not None else "cohort outcome rate")
    return "; ".join(parts)


def _blocks(lines: list[str]) -> list[tuple[str, str]]:
    """Markdown-ish text as cells: titles ("# "), headings ("## "), bullets ("- ", with their
    indented continuation lines) and paragraphs (consecutive lines joined), one cell each."""
    out: list[tuple[str, str]] = []
    for line in lines:
        text = line.strip()
        if not text:
            if out and out[-1][0] != "blank":
                out.append(("blank", ""))
        elif text.startswith("## "):
            out.append(("heading", text[3:]))
        elif text.startswith("# "):
            out.append(("title", text[2:]))
        elif text.startswith("- "):
            out.append(("bullet", "• " + text[2:]))
        elif out and out[-1][0] in ("paragraph", "bullet") and (out[-1][0] == "paragraph" or line[:1].isspace()):
            out[-1] = (out[-1][0], out[-1][1] + " " + text)
        else:
            out.append(("paragraph", text))
    while out and out[0][0] == "blank":
        out.pop(0)
    return out


class _CheckCells:
    """The references a family writes its Checks formulas with (:class:`optimiser.families.base.CheckCells`)."""

    def __init__(self, writer: "_AgreementWriter", row: int):
        self._w, self.row = writer, row

    def col(self, name: str, absolute: bool = False) -> str:
        return cell(self.row, CC[name], absolute)

    def scope_terms(self, limit: L.Limit) -> list[str]:
        return self._w._scope_terms(limit, self.row)

    def pooled_span(self, what: str, pot: str, years) -> str:
        lay = self._w.layout
        row = (lay.spend_row if what == "spend" else lay.budget_row)[pot]
        cols = [lay.year_col[y] for y in years]
        return f"{sheet_ref('Pooled budget', cell(row, min(cols)))}:{cell(row, max(cols))}"

    def pooled_cell(self, what: str, pot: str, year: str) -> str:
        lay = self._w.layout
        row = (lay.spend_row if what == "spend" else lay.budget_row)[pot]
        return sheet_ref("Pooled budget", cell(row, lay.year_col[year]))

    def need_cell(self, area: str, cohort: str, year: str) -> str:
        return self._w.layout.need_cell[(area, cohort, year)]

    def pot_cell(self, pot: str) -> str:
        return self._w.layout.pot_code_cell[pot]

    def match_rate_cell(self, pot: str) -> str:
        return self._w.layout.match_rate_cell[pot]
