"""Sheet 10, *Checks*: one live TRUE/FALSE per limit, and the overall cell.

Shows one row per limit of :mod:`commissioning.analysis.limits` — each pot budget (per year,
or per window of years for money that carries forward), need cell, rule instance, area-year
of match funding, equity floor and lock, signed contract, transition limit, the money moved,
programme capacity, pot that stays in its own areas, protection floor and minimum award —
written by its family as formulas on the Allocations sheet
(:class:`optimiser.families.base.CheckCells`), then the eligibility of every row (when
eligibility is listed) and the reconciliations of the other sheets with the Allocations totals
and of the Transition sheet with today's provision. Each row shows value, limit, allowance,
``holds`` and headroom, cached with the values measured on the proposal; ``holds`` compares
them as :func:`commissioning.analysis.limits.holds` does for each sense (``max``, ``min``,
``equal``, and ``zero_or_min``: nothing, or at least the limit). Above the table: all checks
hold, and how many fail. A scope of more areas than a formula names one by one, which no
footprint stands for, is matched against a list of its areas written to the right of the table.

Reads :class:`AssumptionsAnchors` (area, need and footprint cells) and
:class:`PooledBudgetAnchors` (budget and spend rows, year columns, pot code and match-rate
cells, the spend total); uses the names ``alloc_*``, ``total_*``, ``target_*``, ``today_*``
(the money moved) and ``transition_*`` (the reconciliations). Publishes :class:`ChecksAnchors`
(the rows of the need checks), read by *Summary*; defines the name ``all_checks_hold``, read by
*Summary* and *Cover*.
"""

from __future__ import annotations

from optimiser.families.registry import family
from xlsxwriter.utility import xl_col_to_name

from optimiser.levels import MIN_LINE
from commissioning.analysis import limits as L
from commissioning.analysis.agreement_layout import CHECK_COLUMNS, CHECK_HEADERS, CHECK_PRINTED, CHECKS, POOLED_BUDGET
from commissioning.analysis.transition import TransitionFigures
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import (CC, MAX_LITERAL_AREAS, PRINT_ROWS_MAX, AssumptionsAnchors,
                                                     ChecksAnchors, PooledBudgetAnchors, define_name, note_row,
                                                     out_of_print_note, print_setup, worksheet)
from commissioning.writers.style import NOTE, Book, cell, col_range, sheet_ref


def write_checks(book: Book, draft: Draft, assumptions: AssumptionsAnchors, pooled: PooledBudgetAnchors,
                 max_literal_areas: int = MAX_LITERAL_AREAS, figures: TransitionFigures | None = None) -> ChecksAnchors:
    """Write the *Checks* sheet; return where its need checks are. A footprint of more than
    ``max_literal_areas`` areas is matched against its rows of the footprint table, and any
    other scope of more areas against a list of them beside the table. ``figures``: the
    transition the *Transition* sheet shows (its totals are reconciled with today's money)."""
    b = book
    ws = worksheet(book, CHECKS)
    widths = {"no": 5, "family": 11, "check": 40, "pot": 9, "area": 9, "cohort": 12, "year": 10, "value": 13,
              "limit": 13, "holds": 7, "headroom": 12, "allowance": 10, "unit": 7, "factor": 7}
    printed = CC[CHECK_PRINTED]  # the columns after it (allowance, unit, factor) do not print
    width = [widths[c] for c in CHECK_COLUMNS[:printed + 1]]
    ws.write_string(0, 0, "Checks: each reads TRUE while the Allocations sheet respects it", b.title)
    notes = ["Allowances (the engine rounds each allocation down to whole pence): a maximum holds "
             f"to within £{L.MONEY_ALLOWANCE:.2f}; a minimum or an exact amount to within £{L.PENNY:.2f} "
             "per allocation row in its scope plus one ten-millionth of the amount (the solver's "
             "tolerance); people to within a millionth of a person. Comparisons round to 6 decimal "
             f"places. No proposed line is below £{MIN_LINE:,.0f}: smaller lines are solver noise and are "
             "settled to nothing, unless a minimum, a lock or the equity floor counts them.",
             "Windows: money that may be carried forward is checked over every run of consecutive "
             "years (spend in the run ≤ the budgets that can reach it)."]
    for r, text in ((1, notes[0]), (2, notes[1])):
        note_row(book, ws, r, text, width)
    head = 7
    first = head + 1
    lists = _AreaLists(head, first, len(CHECK_COLUMNS) + 1)
    limit_specs = [_limit_spec(m, _CheckCells(first + i, assumptions, pooled, max_literal_areas, lists))
                   for i, m in enumerate(draft.measured)]
    eligibility, reconciliation = _extra_specs(draft, pooled, figures)
    specs = limit_specs + eligibility + reconciliation
    last = first + len(specs) - 1
    n_checks = len(limit_specs) + len(eligibility)  # the allocation's checks: `commissioning check` makes as many
    check_last = first + n_checks - 1
    holds_rng = col_range(CC["holds"], first, max(last, first))
    # Labels in the (wide) check column, figures beside them; nothing to the right of the overall
    # TRUE/FALSE (see the holds below).
    L0, V0 = CC["check"], CC["check"] + 1
    ws.write_string(3, L0, "All checks hold", b.subtitle)
    all_ok = all(s["holds"] for s in specs)
    b.formula(ws, 3, V0, f"=AND({holds_rng})", b.big_ok, all_ok)
    define_name(book, "all_checks_hold", CHECKS, cell(3, V0, True))
    checks_rng = col_range(CC["holds"], first, max(check_last, first))
    recon_rng = col_range(CC["holds"], check_last + 1, max(last, check_last + 1))
    # When eligibility is not listed here, `check` still makes it: it is counted all the same.
    extra = "" if eligibility else "+1"
    counts = (
        ("Checks failing", f"=COUNTIF({checks_rng},FALSE)", sum(1 for s in limit_specs + eligibility if not s["holds"]),
         f"=ROWS({checks_rng}){extra}", len(limit_specs) + 1,
         "checks of the allocation (every limit, and the eligibility of every row"
         + ("" if eligibility else ", made by 'commissioning check' only") + "), as 'commissioning check' counts them"),
        ("Reconciliations failing", f"=COUNTIF({recon_rng},FALSE)", sum(1 for s in reconciliation if not s["holds"]),
         f"=ROWS({recon_rng})", len(reconciliation), "reconciliations of the other sheets with the Allocations totals "
         "(and of the Transition sheet with today's provision)"),
    )
    note_first, note_last = V0 + 3, printed
    note_width = sum(widths[c] for c in CHECK_COLUMNS[note_first:note_last + 1])
    top = b.top_formats()
    count_left = b.wb.add_format({"num_format": "#,##0", "align": "left", "valign": "top"})
    of_fmt = b.wb.add_format({**NOTE, "align": "center", "valign": "top"})
    for r, (label, failing_f, failing, of_f, of, words) in zip((4, 5), counts):
        ws.write_string(r, L0, label, top(b.bold))
        b.formula(ws, r, V0, failing_f, top(b.whole), failing)
        ws.write_string(r, V0 + 1, "of", of_fmt)
        b.formula(ws, r, V0 + 2, of_f, count_left, of)
        ws.merge_range(r, note_first, r, note_last, "", b.wrap_note)
        ws.write_string(r, note_first, words, b.wrap_note)
        b.row_height(ws, r, [(words, note_width)])
    fam_words = {**L.FAMILY_WORDS, "eligibility": "eligibility", "reconciliation": "reconciliation"}
    need_rows = []
    ok = b.wb.add_format({"bold": True, "align": "center", "valign": "top"})
    for i, s in enumerate(specs):
        r = first + i
        unit = s["unit"]
        # Top-aligned: a row whose check wraps keeps its figures on its first line.
        vfmt = top({"people": b.plain_people, "rows": b.whole}.get(unit, b.plain_money))
        hfmt = top({"people": b.people, "rows": b.whole}.get(unit, b.money))  # a negative headroom is a breach: red
        afmt = top(b.pence if unit == "£" else None)
        b.number(ws, r, CC["no"], i + 1, top(b.whole))
        ws.write_string(r, CC["family"], fam_words[s["family"]], b.top)
        b.text(ws, r, CC["check"], s["words"], b.wrap)
        for col in ("pot", "area", "cohort", "year"):
            b.text(ws, r, CC[col], s.get(col) or None, b.wrap)
        b.row_height(ws, r, [(s["words"], widths["check"]), *((s.get(c) or "", widths[c]) for c in
                                                               ("pot", "area", "cohort", "year"))])
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
        hf, rf = _holds_formulas(s["sense"], V, Lm, A)
        b.formula(ws, r, CC["holds"], hf, ok, bool(s["holds"]))
        b.formula(ws, r, CC["headroom"], rf, hfmt, _headroom(s["sense"], s["value"], s["limit"], s["allowance"]))
        ws.write_string(r, CC["unit"], unit, b.top)
        if s.get("factor") is not None:
            b.number(ws, r, CC["factor"], s["factor"], top(b.rate))
        if s["family"] in L.FAMILY_WORDS and family(s["family"]).counts_unmet:
            need_rows.append(r)
    ws.add_table(head, 0, max(last, first), len(CHECK_COLUMNS) - 1, {
        "name": "Checks", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": CHECK_HEADERS[h], "header_format": b.header} for h in CHECK_COLUMNS]})
    b.row_height(ws, head, [(CHECK_HEADERS[h], widths[h]) for h in CHECK_COLUMNS], bold=True)
    # The holds are TRUE/FALSE with colours: the cell to the right of each (headroom) is a number,
    # never text (LibreOffice 7.4 aborts a PDF export otherwise; see the Allocations sheet).
    ws.conditional_format(first, CC["holds"], max(last, first), CC["holds"],
                          {"type": "cell", "criteria": "==", "value": "FALSE", "format": b.red})
    ws.conditional_format(first, CC["holds"], max(last, first), CC["holds"],
                          {"type": "cell", "criteria": "==", "value": "TRUE", "format": b.green})
    ws.conditional_format(3, V0, 3, V0, {"type": "cell", "criteria": "==", "value": "FALSE", "format": b.red})
    ws.conditional_format(3, V0, 3, V0, {"type": "cell", "criteria": "==", "value": "TRUE", "format": b.green})
    h, u = cell(first, CC["headroom"]), xl_col_to_name(CC["unit"])
    ws.conditional_format(first, CC["headroom"], max(last, first), CC["headroom"], {
        "type": "formula", "criteria": f'=AND(ISNUMBER({h}),ABS({h})<IF(${u}{first + 1}="people",0.05,0.5))',
        "format": b.nil, "stop_if_true": True})
    for c, w in widths.items():
        ws.set_column(CC[c], CC[c], w)
    lists.write(book, ws)
    ws.freeze_panes(head + 1, 3)
    rows = len(specs)
    if rows > PRINT_ROWS_MAX:
        note_row(book, ws, 6, out_of_print_note(rows, "the table of checks"), width, b.warn_wrap)
        print_setup(book, draft, ws, width, None, print_area=(0, 0, 6, printed))
    else:
        print_setup(book, draft, ws, width, head, print_area=(0, 0, max(last, first), printed))
    return ChecksAnchors(need_rows=(need_rows[0], need_rows[-1]) if need_rows else None)


def _holds_formulas(sense: str, V: str, Lm: str, A: str) -> tuple[str, str]:
    """The ``holds`` and ``headroom`` formulas of a row, from its value, limit and allowance cells, as
    :func:`commissioning.analysis.limits.holds` compares them (a negative headroom is a breach)."""
    if sense == "max":
        return f"=ROUND({Lm}+{A}-{V},6)>=0", f"={Lm}-{V}"
    if sense == "min":
        return f"=ROUND({V}-{Lm}+{A},6)>=0", f"={V}-{Lm}"
    if sense == "zero_or_min":  # nothing (to the allowance), or at least the limit; headroom 0 on nothing
        nothing = f"ROUND({A}-ABS({V}),6)>=0"
        return f"=OR({nothing},ROUND({V}-{Lm}+{A},6)>=0)", f"=IF({nothing},0,{V}-{Lm})"
    return f"=ROUND({A}-ABS({V}-{Lm}),6)>=0", f"=-ABS({V}-{Lm})"


def _headroom(sense: str, value: float, limit: float, allowance: float) -> float:
    """The cached value of :func:`_holds_formulas`' headroom."""
    if sense == "max":
        return limit - value
    if sense == "min":
        return value - limit
    if sense == "zero_or_min":
        return 0.0 if round(allowance - abs(value), 6) >= 0 else value - limit
    return -abs(value - limit)


class _AreaLists:
    """Lists of area codes written beside the Checks table (one column each, from the table's first
    row), for a scope of more areas than a formula should name one by one and no footprint of
    the case stands for (a pot that stays in its own areas, in a case of many areas)."""

    def __init__(self, head: int, first: int, first_col: int):
        self.head, self.first, self.first_col = head, first, first_col
        self.lists: dict[tuple[str, ...], int] = {}  # areas -> column

    def range(self, areas: tuple[str, ...]) -> str:
        """The (absolute) range holding ``areas``, written by :meth:`write`."""
        col = self.lists.setdefault(areas, self.first_col + len(self.lists))
        return f"{cell(self.first, col, True)}:{cell(self.first + len(areas) - 1, col, True)}"

    def write(self, book: Book, ws) -> None:
        for areas, col in self.lists.items():
            ws.write_string(self.head, col, "Areas a check reads", book.header)
            for i, a in enumerate(areas):
                ws.write_string(self.first + i, col, a)
            ws.set_column(col, col, 14)


class _CheckCells:
    """The references a family writes its Checks formulas with (:class:`optimiser.families.base.CheckCells`),
    for the Checks row ``row``."""

    def __init__(self, row: int, assumptions: AssumptionsAnchors, pooled: PooledBudgetAnchors,
                 max_literal_areas: int, lists: _AreaLists | None = None):
        self.row = row
        self._assumptions, self._pooled, self._max_literal_areas = assumptions, pooled, max_literal_areas
        self._lists = lists

    def col(self, name: str, absolute: bool = False) -> str:
        """The cell of Checks column ``name`` on this row."""
        return cell(self.row, CC[name], absolute)

    def scope_terms(self, limit: L.Limit) -> list[str]:
        """EXACT conditions selecting a limit's rows of the Allocations sheet, by reference.

        One pot, cohort or year: the code in this row's cell. Areas: this row's area cell when it
        names the one area; up to ``max_literal_areas`` areas one by one (their cells in the
        Areas table); more, a footprint's rows of the footprint table, else a list of them beside
        the table (:class:`_AreaLists`), matched with MATCH. Programmes: this row's pot cell when
        the one programme is the row's pot, else each programme's code cell (Pooled budget)."""
        lim, r = limit, self.row
        terms = []
        if lim.pots is not None:
            terms.append(f"EXACT(alloc_pot,{cell(r, CC['pot'], True)})")
        if lim.areas is not None:
            terms.append(self._area_term(lim))
        if lim.cohorts is not None:
            terms.append(f"EXACT(alloc_cohort,{cell(r, CC['cohort'], True)})")
        if lim.years is not None and len(lim.years) == 1:
            terms.append(f"EXACT(alloc_year,{cell(r, CC['year'], True)})")
        if lim.programmes is not None:
            if len(lim.programmes) == 1 and lim.programmes[0] == lim.pot_code:
                terms.append(f"EXACT(alloc_programme,{cell(r, CC['pot'], True)})")
            elif lim.programmes:
                terms.append("(" + "+".join(f"EXACT(alloc_programme,{self._pooled.pot_code_cell[q]})"
                                            for q in lim.programmes) + ")")
            else:
                terms.append("0")
        return terms

    def _area_term(self, lim: L.Limit) -> str:
        fp, areas = self._assumptions, lim.areas
        if len(areas) == 1 and lim.area_code == areas[0]:
            return f"EXACT(alloc_area,{cell(self.row, CC['area'], True)})"
        if not areas:
            return "0"
        if len(areas) <= self._max_literal_areas and all(a in fp.area_cell for a in areas):
            return "(" + "+".join(f"EXACT(alloc_area,{fp.area_cell[a]})" for a in areas) + ")"
        if lim.area_code in fp.footprint_range:
            return f"ISNUMBER(MATCH(alloc_area,{fp.footprint_range[lim.area_code]},0))"
        if self._lists is None:  # pragma: no cover - the sheet always offers its lists
            raise ValueError(f"no list for the {len(areas)} areas of '{lim.words}'")
        return f"ISNUMBER(MATCH(alloc_area,{self._lists.range(tuple(areas))},0))"

    def pooled_span(self, what: str, pot: str, years) -> str:
        """The Pooled budget sheet's ``what`` ("spend" or "budget") row of ``pot`` across ``years``."""
        pb = self._pooled
        row = (pb.spend_row if what == "spend" else pb.budget_row)[pot]
        cols = [pb.year_col[y] for y in years]
        return f"{sheet_ref(POOLED_BUDGET, cell(row, min(cols)))}:{cell(row, max(cols))}"

    def pooled_cell(self, what: str, pot: str, year: str) -> str:
        """One cell of the Pooled budget sheet's ``what`` row of ``pot``."""
        pb = self._pooled
        row = (pb.spend_row if what == "spend" else pb.budget_row)[pot]
        return sheet_ref(POOLED_BUDGET, cell(row, pb.year_col[year]))

    def need_cell(self, area: str, cohort: str, year: str) -> str:
        """The cell holding a need cell's people (Assumptions and evidence)."""
        return self._assumptions.need_cell[(area, cohort, year)]

    def pot_cell(self, pot: str) -> str:
        """The cell holding a pot's code (Pooled budget)."""
        return self._pooled.pot_code_cell[pot]

    def match_rate_cell(self, pot: str) -> str:
        """The cell holding a pot's match rate (Pooled budget)."""
        return self._pooled.match_rate_cell[pot]


def _limit_spec(m: L.Measured, cells: _CheckCells) -> dict:
    """One Checks row: the limit as measured, and its family's live formulas on this row."""
    lim = m.limit
    spec = {"family": lim.family, "words": lim.words, "pot": lim.pot_code, "area": lim.area_code,
            "cohort": lim.cohort_code, "year": lim.year, "unit": lim.unit, "sense": lim.sense,
            "value": m.value, "limit": m.bound, "allowance": m.allowance, "holds": m.holds,
            "allowance_f": m.allowance}
    fam = family(lim.family)
    if fam.check_formulas is None:  # pragma: no cover - a family without a closed form
        raise ValueError(f"no formula for limit family {lim.family}")
    spec.update(fam.check_formulas(m, cells))
    return spec


def _extra_specs(draft: Draft, pooled: PooledBudgetAnchors,
                 figures: TransitionFigures | None = None) -> tuple[list[dict], list[dict]]:
    """Eligibility of every row (when listed), the reconciliations of the sheets with the Allocations
    total, and of the Transition sheet's grids with today's money (Provision today)."""
    rows, case, years = draft.rows, draft.case, draft.years
    eligibility, out = [], []
    n = len(rows)
    if draft.eligibility:
        eligibility.append({"family": "eligibility", "words": "every allocation row is a pot, area, cohort, year "
                            "and programme the agreement may fund (rows with a pot code; see the Eligibility sheet)",
                            "unit": "rows", "sense": "equal", "value_f": '=COUNTIF(alloc_eligible,"yes")',
                            "limit_f": '=SUMPRODUCT(--(alloc_pot<>""))', "allowance_f": 0.0,
                            "value": n, "limit": n, "allowance": 0.0, "holds": True})
    total = float(rows["amount"].sum())
    known = float(rows[rows["pot_code"].isin(case.pot) & rows["year"].isin(years)]["amount"].sum())
    for words, value_f, limit_f, value, limit, unit in (
        ("planned spend by pot and year (Pooled budget sheet) adds up to the Allocations total — every row "
         "names a pot and a year of the case", f"={pooled.spend_total}", "=total_allocated", known, total, "£"),
        ("participants by area and year (Outcomes and targets) add up to the Allocations total — every row "
         "names an area of the case", "=target_participants", "=total_participants",
         float(rows[rows["area_code"].isin(case.area) & rows["year"].isin(years)]["participants"].sum()),
         float(rows["participants"].sum()), "people"),
        ("public value by area and year (Outcomes and targets) adds up to the Allocations total",
         "=target_value", "=total_value",
         float(rows[rows["area_code"].isin(case.area) & rows["year"].isin(years)]["value"].sum()),
         float(rows["value"].sum()), "£"),
        *_transition_reconciliations(figures),
    ):
        allowance = L.MONEY_ALLOWANCE if unit == "£" else L.PEOPLE_ALLOWANCE
        out.append({"family": "reconciliation", "words": words, "unit": unit, "sense": "equal",
                    "value_f": value_f, "limit_f": limit_f, "allowance_f": allowance, "value": value,
                    "limit": limit, "allowance": allowance,
                    "holds": L.holds("equal", value, limit, allowance)})
    return eligibility, out


def _transition_reconciliations(figures: TransitionFigures | None) -> list[tuple]:
    """The Transition sheet's money kept and re-commissioned, by pot and by area, against today's money."""
    if figures is None:
        return []
    today = float(figures.cells["today"].sum())
    by = {k: float(sum(figures.grid(k, "kept").values()) + sum(figures.grid(k, "moved").values()))
          for k in ("pot", "area")}
    return [(f"money kept and re-commissioned by {k} (Transition sheet) add up to today's money (Provision today "
             f"sheet) — every cell funded today names {'a pot' if k == 'pot' else 'an area'} of the case",
             f"=transition_kept_by_{k}+transition_moved_by_{k}", "=SUM(today_amount)", by[k], today, "£")
            for k in ("pot", "area")]
