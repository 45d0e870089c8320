"""``commissioning check``: re-check an agreement a finance team has edited.

The workbook is read with openpyxl *without evaluating anything*: the allocation is the
``amount`` input cells of the Allocations sheet (found by their header names, not their
positions), and every figure the checks need — unit costs, outcome rates, budgets, need,
rules, eligibility — comes from the case, not from the workbook's formulas or cached
values. Then:

* every row is checked for **eligibility** (the pot may fund that area, cohort, year and
  programme under the agreement's pool — :func:`commissioning.analysis.limits.why_ineligible`);
* every **limit** (:mod:`commissioning.analysis.limits`: pot budgets with carry-forward windows,
  need caps, rules, match funding, equity floor, locks) is measured on the amounts;
* each breach names the sheet and the cell(s) that cause it — the edited cells in the
  breach's scope first — and the Checks sheet row that shows it;
* the **diff** from the proposal compares each ``amount`` with the row's ``proposed (£)``
  (the amount as issued), lists new rows and rows removed (by their ``ref``), and gives
  the effect on participants, outcomes and value at the case's rates;
* where the workbook and the case disagree without breaking a rule, a **note** says so: an
  edited unit cost on the Allocations sheet, an edited budget on the *Pooled budget* sheet
  (the workbook's own Checks read that figure; this check the case's), a Cover whose *Form*
  line is missing, blank or names no form (then the LLMA's rules are used, and said: never a
  silent default), and a workbook drawn from other inputs (its fingerprint).

An amount typed as a formula of numbers only (``=1000*12``) is read as its arithmetic; a
formula that refers to other cells cannot be checked without evaluating the workbook
and is reported as unreadable. Exit codes: 0 everything holds; 1 a breach; 2 the
workbook (or a cell the checks need) cannot be read, or the case is invalid.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimiser.families.registry import family

from commissioning.analysis import agreement_layout as AL
from commissioning.analysis import limits as L
from commissioning.analysis.forms import FORM_KEYS, form_from_title, form_of
from commissioning.case.settlement import flexible_pots
from commissioning.errors import CaseError, Problem
from commissioning.case.model import Case
from commissioning.case.tables import bought
from commissioning.inputs.readers import check_workbook_safe

ALLOCATIONS = AL.ALLOCATIONS
REQUIRED = ("pot_code", "area_code", "cohort_code", "year", "amount")
OPTIONAL = ("ref", "programme", "proposed (£)", "unit_cost", "issued as")
MAX_CELLS_NAMED = 4


@dataclass
class AgreementRow:
    sheet_row: int
    amount_cell: str
    ref: str | None
    pot_code: str
    area_code: str
    cohort_code: str
    year: str
    programme: str
    amount: float
    proposed: float | None
    sheet_unit_cost: float | None
    unit_cost_cell: str | None
    programme_given: bool = True
    issued: tuple[str, str, str, str, str] | None = None  # pot, area, cohort, year, programme as issued


@dataclass
class Audit:
    path: Path
    case: Case
    breaches: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: int = 0
    rows: int = 0
    net: dict[str, float] = field(default_factory=dict)
    value: dict[str, float] | None = None  # the value for money recomputed (a case with an outcomes table)
    form: str = "llma"  # the agreement's form, as its Cover says (commissioning.analysis.forms)

    @property
    def exit_code(self) -> int:
        if self.unreadable:
            return 2
        return 1 if self.breaches else 0

    def lines(self) -> list[str]:
        out = [f"Checked {self.path.name} against '{self.case.settings.name}' "
               f"(fingerprint {self.case.fingerprint()}): {self.rows:,} allocation rows, {self.checks:,} checks."]
        for n in self.notes:
            out.append(f"note: {n}")
        if self.unreadable:
            out.append(f"{len(self.unreadable)} cell(s) could not be read, so the check is incomplete:")
            out.extend(f"  - {u}" for u in self.unreadable)
        if self.breaches:
            out.append(f"{len(self.breaches)} breach{'es' if len(self.breaches) != 1 else ''}:")
            out.extend(f"  - {b}" for b in self.breaches)
        if self.changes:
            out.append(f"Changes from the proposal ({len(self.changes)}):")
            out.extend(f"  - {c}" for c in self.changes)
            n = self.net
            out.append(f"  Net effect: {_signed_money(n.get('amount', 0.0))} allocated; "
                       f"{n.get('participants', 0.0):+,.1f} participants; {n.get('outcomes', 0.0):+,.1f} outcomes; "
                       f"{_signed_money(n.get('value', 0.0))} public value (at the case's rates; removed rows "
                       "counted by their money only).")
        else:
            out.append("No changes from the proposal.")
        if self.value is not None:
            v = self.value
            out.append(f"Value for money, recomputed from the amounts: PV of benefits {_money(v['pv_benefits'])}, "
                       f"PV of costs {_money(v['pv_costs'])}, NPSV {_signed_money(v['npsv'])}, "
                       f"benefit–cost ratio {v['bcr']:.3f}.")
        if not self.breaches and not self.unreadable:
            out.append("Everything holds: every pot budget, need cap, eligibility and rule is respected.")
        return out


# ---- reading the workbook ------------------------------------------------------------------------
def _open(path: Path):
    import openpyxl

    check_workbook_safe(path)
    try:
        # Read-only mode streams just the sheets the check reads; formulas stay formulas.
        return openpyxl.load_workbook(path, read_only=True, data_only=False, keep_vba=False, keep_links=False)
    except CaseError:
        raise
    except Exception as e:  # openpyxl raises many types for damaged files
        raise CaseError(Problem(path.name, None, None, f"cannot be opened as a workbook ({type(e).__name__}: {e})",
                                "an agreement.xlsx saved by Excel or LibreOffice")) from None


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.USub: operator.neg, ast.UAdd: operator.pos}


def arithmetic(formula: str) -> float | None:
    """The value of a formula made only of numbers and + − × ÷ (``=1000*12``); None otherwise."""
    text = formula.lstrip("=").replace(" ", "")
    if not text or not re.fullmatch(r"[0-9.+\-*/()eE]+", text):
        return None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError("not arithmetic")

    try:
        return float(ev(ast.parse(text, mode="eval")))
    except (ValueError, SyntaxError, ZeroDivisionError, TypeError, RecursionError):
        return None


def _amount(v: Any) -> tuple[float | None, str | None]:
    """(amount, problem) of an amount cell as typed."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return 0.0, None
    if isinstance(v, bool):
        return None, f"holds {v}, not an amount"
    if isinstance(v, (int, float)):
        return float(v), None
    text = str(v).strip()
    if text.startswith("="):
        x = arithmetic(text)
        if x is None:
            return None, (f"holds the formula {text[:60]}, which refers to other cells; enter the amount as a number "
                          "(the check never evaluates formulas)")
        return x, None
    cleaned = re.sub(r"[£,\s]", "", text)
    try:
        return float(cleaned), None
    except ValueError:
        return None, f"holds the text '{text[:40]}', not an amount"


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    return None


def _sheet_rows(wb, name: str) -> list[tuple]:
    """Every row of a sheet as a tuple of cell values (formulas as their text), row 1 first."""
    ws = wb[name]
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # a saved dimension may be stale: read every row there is
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def _cell_of(table: list[tuple], r: int, c: int | None) -> Any:
    """The value at spreadsheet row ``r`` and column ``c`` (both from 1) of a sheet read as rows."""
    if c is None or r - 1 >= len(table):
        return None
    row = table[r - 1]
    return row[c - 1] if c - 1 < len(row) else None


def read_allocations(wb, case: Case, pool: frozenset[str], audit: Audit) -> list[AgreementRow]:
    """The allocation rows of the Allocations sheet, found by header name; subtotal rows (no pot code,
    a formula amount) are skipped, a typed amount without a pot is a breach, and an amount that cannot
    be read is recorded as unreadable."""
    if ALLOCATIONS not in wb.sheetnames:
        raise CaseError(Problem(audit.path.name, None, None, f"has no '{ALLOCATIONS}' sheet",
                                "an agreement.xlsx written by 'commissioning agree'"))
    table = _sheet_rows(wb, ALLOCATIONS)
    header_row, cols = None, {}
    for r, values in enumerate(table[:40], start=1):
        names = AL.column_keys({_text(v): c for c, v in enumerate(values, start=1)}, AL.ALLOC_HEADERS)
        if all(h in names for h in ("pot_code", "amount")):
            header_row, cols = r, {k: v for k, v in names.items() if k}
            break
    where = f"sheet '{ALLOCATIONS}'"
    if header_row is None:
        raise CaseError(Problem(where, None, None, f"has no header row naming '{AL.ALLOC_HEADERS['pot_code']}' and "
                                f"'{AL.ALLOC_HEADERS['amount']}' (or 'pot_code' and 'amount')",
                                "the Allocations sheet of an agreement.xlsx"))
    missing = [h for h in REQUIRED if h not in cols]
    if missing:
        raise CaseError(Problem(where, header_row, None,
                                f"lacks the column(s) {', '.join(AL.ALLOC_HEADERS[h] for h in missing)}",
                                f"the headers {', '.join(AL.ALLOC_HEADERS[h] for h in REQUIRED)}"))
    from openpyxl.utils import get_column_letter

    rows: list[AgreementRow] = []
    for r in range(header_row + 1, len(table) + 1):
        def get(name, r=r):
            return _cell_of(table, r, cols.get(name))

        pot = _text(get("pot_code"))
        if pot in ("pot_code", AL.ALLOC_HEADERS["pot_code"]):
            continue  # a second header row (the keys above the words, or the words repeated)
        amount_cell = f"{get_column_letter(cols['amount'])}{r}"
        raw = get("amount")
        if not pot:
            # Subtotal rows hold formulas; a typed amount without a pot is a mistake.
            if raw is not None and not (isinstance(raw, str) and (raw.startswith("=") or not raw.strip())):
                x, _ = _amount(raw)
                if x:
                    audit.breaches.append(f"{where}, cell {amount_cell}: an amount ({_money(x)}) on a row without "
                                          "a pot code — say which pot, area, cohort and year it funds")
            continue
        amount, problem = _amount(raw)
        if problem:
            audit.unreadable.append(f"{where}, cell {amount_cell}: {problem}")
            continue
        cohort = _text(get("cohort_code"))
        programme = _text(get("programme"))
        given = bool(programme)
        if not programme:
            programme = L.default_programme(case, pool, pot, cohort)
        proposed = _number(get("proposed (£)"))
        uc_col = cols.get("unit_cost")
        issued = tuple(_text(get("issued as")).split(";"))
        rows.append(AgreementRow(
            sheet_row=r, amount_cell=amount_cell, ref=_text(get("ref")) or None, pot_code=pot,
            area_code=_text(get("area_code")), cohort_code=cohort, year=_text(get("year")), programme=programme,
            amount=float(amount), proposed=proposed, sheet_unit_cost=_number(get("unit_cost")),
            unit_cost_cell=f"{get_column_letter(uc_col)}{r}" if uc_col else None, programme_given=given,
            issued=issued if len(issued) == 5 else None))
    return rows


def _cover_facts(wb) -> dict[str, Any]:
    if AL.COVER not in wb.sheetnames:
        return {}
    table = _sheet_rows(wb, AL.COVER)
    facts = {}
    for r in range(1, min(len(table), 80) + 1):
        label = _text(_cell_of(table, r, 1))
        if label and label not in facts:
            facts[label] = _cell_of(table, r, 2)
    return facts


def _budget_edits(wb, case: Case) -> list[str]:
    """A note for each budget on the *Pooled budget* sheet that differs from the case's: the check
    holds the plan to the case's budgets, while the workbook's own Checks read the sheet's, so an
    edited budget would otherwise leave the two disagreeing without a word."""
    from openpyxl.utils import get_column_letter

    if AL.POOLED_BUDGET not in wb.sheetnames:
        return []
    table = _sheet_rows(wb, AL.POOLED_BUDGET)
    years = set(case.years)
    heads = [(r, [_text(v) for v in values]) for r, values in enumerate(table[:15], start=1)]
    found = next(((r, t) for r, t in heads if "Pot code" in t or "pot_code" in t), None)
    if found is None:
        return []
    head, texts = found
    pot_col = (texts.index("Pot code") if "Pot code" in texts else texts.index("pot_code")) + 1
    year_cols = {c: t for c, t in enumerate(texts, start=1) if t in years}
    notes = []
    for r in range(head + 1, len(table) + 1):
        code = _text(_cell_of(table, r, pot_col))
        if not code or code in ("Pot code", "pot_code"):
            break  # the budget grid ends at its first blank row (the spend grid below is formulas)
        if code not in case.pot:
            continue
        for c, y in year_cols.items():
            v = _number(_cell_of(table, r, c))
            want = case.budget.get((code, y), 0.0)
            if v is not None and abs(v - want) > 0.005:
                notes.append(f"sheet '{AL.POOLED_BUDGET}', cell {get_column_letter(c)}{r}: the {code} {y} budget "
                             f"{_money(v)} differs from the case's {_money(want)}; the check uses the case (change "
                             "the case to change a budget), while the workbook's own Checks read the sheet's figure")
    return notes


def _checks_rows(wb) -> dict[tuple[str, str, str, str, str], int]:
    """Checks sheet rows by (check words, pot, area, cohort, year), to point a breach at its row."""
    if AL.CHECKS not in wb.sheetnames:
        return {}
    table = _sheet_rows(wb, AL.CHECKS)
    head, cols = None, {}
    for r, values in enumerate(table[:20], start=1):
        names = AL.column_keys({_text(v): c for c, v in enumerate(values, start=1)}, AL.CHECK_HEADERS)
        if "check" in names and "holds" in names:
            head, cols = r, names
            break
    if head is None:
        return {}
    out = {}
    for r in range(head + 1, len(table) + 1):
        key = tuple(_text(_cell_of(table, r, cols.get(c))) for c in ("check", "pot", "area", "cohort", "year"))
        out.setdefault(key, r)
    return out


# ---- the audit ----------------------------------------------------------------------------------------
def audit_agreement(path: str | Path, case: Case) -> Audit:
    """Re-check an edited agreement against ``case``; raise :class:`CaseError` if it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise CaseError(Problem(str(path), None, None, "no such file", "an agreement.xlsx"))
    if path.suffix.lower() == ".xlsm":
        raise CaseError(Problem(path.name, None, None, "a macro-enabled workbook (.xlsm) is refused",
                                "the .xlsx agreement"))
    wb = _open(path)
    audit = Audit(path, case)
    try:
        facts = _cover_facts(wb)
        # The form says which level's rules hold (commissioning.analysis.forms): an integrated
        # settlement's plan is held to the settlement's, its pool the settlement's flexible pots.
        written = _text(facts.get(AL.COVER_FORM))
        form = form_from_title(written)
        if form is None:
            # Never a silent default: the rules checked by are said (an older workbook has no line).
            form = form_of(None)
            said = f"says '{written}'" if written else "is missing or blank"
            audit.notes.append(f"sheet 'Cover': the {AL.COVER_FORM} line {said}, which names no agreement form "
                               f"({', '.join(FORM_KEYS)}): checked by the rules of the {form.key} "
                               f"({form.title})")
        audit.form = form.key
        pool = flexible_pots(case) if form.level == "settlement" else L.agreement_pool(case)
        rows = read_allocations(wb, case, pool, audit)
        checks_at = _checks_rows(wb)
        audit.notes.extend(_budget_edits(wb, case))
    finally:
        wb.close()
    audit.rows = len(rows)
    fp = _text(facts.get(AL.COVER_FINGERPRINT))
    if fp and fp != case.fingerprint():
        audit.notes.append(f"the workbook was drawn from other inputs (fingerprint {fp}; this case and scenario "
                           f"{case.fingerprint()}): it is checked against this case all the same")
    where = f"sheet '{ALLOCATIONS}'"

    # Eligibility and amounts, row by row.
    for row in rows:
        if row.amount < 0:
            audit.breaches.append(f"{where}, cell {row.amount_cell}: a negative amount ({_money(row.amount)}) — "
                                  "an allocation is zero or more")
        if row.amount == 0:
            continue
        why = L.why_ineligible(case, pool, row.pot_code, row.area_code, row.cohort_code, row.year, row.programme)
        if why:
            audit.breaches.append(f"{where}, cell {row.amount_cell} (row {row.sheet_row}): {_money(row.amount)} "
                                  f"funds an ineligible cell — {row.pot_code} / {row.area_code} / "
                                  f"{row.cohort_code} / {row.year}: {why}")
        if not row.programme_given:
            audit.notes.append(f"{where}, row {row.sheet_row}: no programme given; read as {row.programme}")
        if row.sheet_unit_cost is not None and row.programme in case.pot and row.cohort_code in case.cohort:
            uc = case.unit_cost(row.programme, row.cohort_code)
            if abs(row.sheet_unit_cost - uc) > 1e-9 * max(1.0, uc):
                audit.notes.append(f"{where}, cell {row.unit_cost_cell}: unit_cost {_money(row.sheet_unit_cost)} "
                                   f"differs from the case's {_money(uc)} for {row.programme} / {row.cohort_code}; "
                                   "the check uses the case (change the case to change a unit cost)")

    frame = pd.DataFrame([(r.pot_code, r.area_code, r.cohort_code, r.year, r.programme, r.amount) for r in rows],
                         columns=L.ROW_COLUMNS)
    frame = L.with_participants(case, frame)
    limits = L.case_limits(case, pool)
    audit.checks = len(limits) + 1  # as the Checks sheet counts them: every limit, and eligibility (every row)
    changed = np.array([r.proposed is None or abs(r.amount - r.proposed) > 0.005 for r in rows], dtype=bool)
    for m in L.measure_all(case, limits, frame):
        if m.holds:
            continue
        audit.breaches.append(_breach_text(m, rows, changed, checks_at))

    _diff(audit, rows, frame, facts)
    if case.valuation.valued:
        _value_for_money(audit, path, case, frame)
    return audit


def _named(wb, name: str) -> Any:
    """The value of the one-cell defined ``name`` (None when the workbook has no such name)."""
    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string

    dn = wb.defined_names.get(name) if hasattr(wb.defined_names, "get") else None
    if dn is None:
        return None
    for sheet, ref in dn.destinations:
        col, row = coordinate_from_string(ref.replace("$", ""))
        c = column_index_from_string(col)
        for (v,) in wb[sheet].iter_rows(min_row=row, max_row=row, min_col=c, max_col=c, values_only=True):
            return v
    return None


def _value_for_money(audit: Audit, path: Path, case: Case, frame: pd.DataFrame) -> None:
    """Recompute the Value for money sheet from the amounts as edited, with the sheet's own discount
    rate and optimism bias (a finance team may change them there): the figures, a note for each
    assumption that differs from the case's, and a note when the sheet's saved result (after a
    spreadsheet recalculated it) differs from the recomputation (not a breach: no rule is broken;
    the sheet's other inputs are followed by its formulas, not by the check)."""
    from commissioning.analysis.value import benefit_rows, cost_rows, sheet_totals

    import openpyxl

    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if AL.VALUE not in values.sheetnames:
            audit.notes.append(f"the case values its outcomes but the workbook has no '{AL.VALUE}' sheet: the value "
                               "for money is recomputed from the case alone")
            sheet = {}
        else:
            sheet = {n: _named(values, n) for n in AL.VALUE_NAMES}
    finally:
        values.close()
    settings = case.settings
    changes = {}
    for key, name, words in (("discount_rate", "vfm_rate", "discount rate"), ("optimism_bias", "vfm_ob",
                                                                                "optimism bias")):
        got = _number(sheet.get(name))
        if got is not None and not (0 <= got <= (1 if key == "discount_rate" else 10)):
            audit.notes.append(f"sheet '{AL.VALUE}': the {words} {got:g} is not a rate the check can use "
                               f"(expected {'0 to 1' if key == 'discount_rate' else '0 or more'}); the case's is used")
            continue
        if got is not None and abs(got - getattr(settings, key)) > 1e-12:
            changes[key] = got
            audit.notes.append(f"sheet '{AL.VALUE}': the {words} is {got:.2%} where the case states "
                               f"{getattr(settings, key):.2%}; the value for money below uses the sheet's")
    used = case.with_changes(settings=settings.model_copy(update=changes)) if changes else case
    rows = L.with_participants(used, frame)
    totals = sheet_totals(benefit_rows(used, rows), cost_rows(used, rows))
    audit.value = totals
    for key, name, words in (("pv_benefits", "vfm_pv_benefits", "PV of benefits"),
                             ("pv_costs", "vfm_pv_costs", "PV of costs"), ("npsv", "vfm_npsv", "NPSV")):
        saved = _number(sheet.get(name))
        if saved is not None and abs(saved - totals[key]) > 0.005:
            # Not a breach of any rule: the sheet's own inputs (values, rates, deadweight, deflators) may
            # have been edited, an allocation moved to a combination the sheet has no row for, or a formula
            # changed. The check recomputes with the case's values and the sheet's rate and optimism bias.
            audit.notes.append(f"sheet '{AL.VALUE}': the {words} it shows, {_money(saved)}, differs from "
                               f"{_money(totals[key])} recomputed from the amounts with the case's values: an "
                               "input on the sheet was edited, an allocation was moved to a programme, cohort or "
                               "year the sheet has no row for, a formula was changed, or the sheet was not "
                               "recalculated after an edit")


def _cells(m: L.Measured, rows: list[AgreementRow], changed: np.ndarray) -> str:
    pos = m.rows  # for match funding, both sides (the pots needing match and those giving it)
    edited = [p for p in pos if changed[p]]
    chosen = edited or list(pos)
    if not chosen:
        return f"sheet '{ALLOCATIONS}' (no allocation row in its scope)"
    names = [rows[p].amount_cell for p in chosen[:MAX_CELLS_NAMED]]
    more = len(chosen) - len(names)
    label = "cell" if len(chosen) == 1 else "cells"
    text = f"sheet '{ALLOCATIONS}', {label} {', '.join(names)}"
    return text + (f" and {more} more" if more > 0 else "")


def _breach_text(m: L.Measured, rows: list[AgreementRow], changed: np.ndarray, checks_at: dict) -> str:
    lim = m.limit
    place = _cells(m, rows, changed)
    fam = family(lim.family)
    what = fam.breach_words(m, _money) if fam.breach_words else f"{lim.words}: {m.value} against {m.bound}"
    row = checks_at.get((lim.words, lim.pot_code, lim.area_code, lim.cohort_code, lim.year))
    return f"{place}: {what}" + (f" [Checks sheet, row {row}]" if row else "")


def _effect(case: Case, key: tuple[str, str, str, str, str], amount: float) -> tuple[float, float, float]:
    """Participants, outcomes and value that ``amount`` buys for (pot, area, cohort, year, programme)."""
    _, _, cohort, year, programme = key
    if amount == 0 or programme not in case.pot or cohort not in case.cohort:
        return 0.0, 0.0, 0.0
    participants, outcomes, value = bought(amount, case.unit_cost(programme, cohort),
                                           case.outcome_rate(programme, cohort), case.cohort[cohort].value_per_outcome)
    if case.valuation.valued:  # public value as the case counts it: the present value of net additional benefits
        value = participants * case.valuation.per_head(programme, cohort, year)
    return participants, outcomes, value


def _diff(audit: Audit, rows: list[AgreementRow], frame: pd.DataFrame, facts: dict) -> None:
    """What changed from the proposal: amounts, re-pointed rows, new rows, removed rows."""
    case = audit.case
    net = {"amount": 0.0, "participants": 0.0, "outcomes": 0.0, "value": 0.0}
    where = f"sheet '{ALLOCATIONS}'"
    for row in rows:
        key = (row.pot_code, row.area_code, row.cohort_code, row.year, row.programme)
        old_key = row.issued or key
        before = row.proposed if row.proposed is not None else 0.0
        moved = old_key != key
        if row.proposed is not None and abs(row.amount - before) <= 0.005 and not moved:
            continue
        if row.proposed is None and row.amount == 0:
            continue
        new = _effect(case, key, row.amount)
        old = _effect(case, old_key, before)
        d = [n - o for n, o in zip(new, old)]
        delta = row.amount - before
        for k, v in zip(("amount", "participants", "outcomes", "value"), (delta, *d)):
            net[k] += v
        what = f"{row.ref + ' ' if row.ref else ''}{' '.join(key[:4])}"
        effect = f"{d[1]:+,.1f} outcomes; {_signed_money(d[2])} value"
        if row.proposed is None:
            audit.changes.append(f"{where}, cell {row.amount_cell} (new row {row.sheet_row}): {what}: "
                                 f"{_money(row.amount)} ({effect})")
        elif moved:
            audit.changes.append(f"{where}, row {row.sheet_row} ({row.ref or 'no ref'}): re-pointed from "
                                 f"{' '.join(old_key[:4])} (programme {old_key[4]}) to {' '.join(key[:4])} "
                                 f"(programme {key[4]}), {_money(before)} → {_money(row.amount)} ({effect})")
        else:
            audit.changes.append(f"{where}, cell {row.amount_cell} ({what}): {_money(row.proposed)} → "
                                 f"{_money(row.amount)} ({_signed_money(delta)}; {effect})")
    issued = _number(facts.get(AL.COVER_ROWS_ISSUED))
    if issued:
        present = {r.ref for r in rows if r.ref}
        missing = [f"A{i:04d}" for i in range(1, int(issued) + 1) if f"A{i:04d}" not in present]
        if missing:
            proposed_total = _number(facts.get(AL.COVER_PROPOSED_TOTAL))
            kept = sum(r.proposed for r in rows if r.proposed is not None and r.ref)
            gone = (proposed_total - kept) if proposed_total is not None else None
            shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            audit.changes.append(f"{where}: {len(missing)} proposed row(s) removed ({shown})"
                                 + (f", {_money(gone)} of the proposal" if gone is not None else ""))
            if gone is not None:
                net["amount"] -= gone
    audit.net = net


def _money(x: float) -> str:
    return f"-£{-x:,.2f}" if x < 0 else f"£{x:,.2f}"


def _signed_money(x: float) -> str:
    return f"-£{-x:,.2f}" if x < 0 else f"+£{x:,.2f}"
