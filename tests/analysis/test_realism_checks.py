"""The realism families on the agreement's Checks sheet and in ``commissioning check``.

Each family's closed form is a Checks row of live formulas on the Allocations sheet, and
``check`` measures the same limit on an edited workbook: signed contracts, transition limits,
money moved, programme capacity, a pot that stays in its own areas, protection floors and
minimum awards. The case, by hand: areas A1, A2, A3; cohorts C1, C2; years 2025-26 (Y1) and
2026-27 (Y2); need 100 people in every cell; every pot poolable:

* SK: £1,000 a head, everywhere, £100,000 a year, ``capacity`` 120 participants a year,
  ``min_award`` £1,000;
* LOC: a council's own budget (``basis local``) in A3, £500 a head, £20,000 a year: it stays
  in its own areas in the pool (``pool_areas`` unset);
* WK: £2,000 a head, A1 and A2, £60,000 a year.

case.yaml: ``transition: {max_change: 0.25, max_moved: 0.3}``, ``protect: {cohorts: 0.5}``.
Today's provision (the baseline pays it as written: no pot over its budget, no cell over need)::

    SK  A1 C1 Y1 £40,000 contract_end 2026-03-31  contracted (Y1 starts before the end)
    SK  A1 C1 Y2 £40,000 contract_end 2026-03-31  free (Y2 starts after it)
    SK  A2 C2 Y1 £30,000
    LOC A3 C1 Y1 £10,000 contract_end 2027-03-31  contracted
    LOC A3 C1 Y2 £10,000 contract_end 2027-03-31  contracted
    WK  A2 C1 Y1 £20,000

So the limits are:

* contracts: SK A1 C1 Y1 ≥ £40,000 on SK's own programme; LOC A3 C1 ≥ £10,000 in Y1 and in Y2;
* transition (±25% of today's funding, per area-year and cohort-year funded today):
  A1 Y1 £40,000 → [30,000, 50,000]; A2 Y1 £30,000 + £20,000 = £50,000 → [37,500, 62,500];
  A3 Y1 £10,000 → [7,500, 12,500]; A1 Y2 £40,000 → [30,000, 50,000]; A3 Y2 → [7,500, 12,500];
  C1 Y1 £40,000 + £10,000 + £20,000 = £70,000 → [52,500, 87,500]; C2 Y1 £30,000 → [22,500, 37,500];
  C1 Y2 £50,000 → [37,500, 62,500]. A2 Y2 and C2 Y2 have no funding today: not limited;
* money moved: at most 0.3 × £150,000 (today's money: 100,000 in Y1 + 50,000 in Y2) = £45,000;
* capacity: SK's programme 120 participants a year (stated); LOC's programme, which the pool's
  other members may buy (it is the cheapest, £500 a head), 2 (the default programme_scale) ×
  £20,000 ÷ £500 = 80 participants a year;
* own areas: LOC spends nothing in A1 or A2;
* protection (half of today's participants): C1 Y1 40 (SK, 40,000 ÷ 1,000) + 20 (LOC, 10,000 ÷ 500)
  + 10 (WK, 20,000 ÷ 2,000) = 70 → 35; C2 Y1 30 → 15; C1 Y2 40 + 20 = 60 → 30;
* minimum award: SK in each of A1, A2, A3 in each year, nothing or at least £1,000 (6 rows).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from agreementcase import allocation_rows, cli, header
from engines import need
from lpcases import Y1, Y2, pot, write_case
from commissioning.analysis import limits as L
from commissioning.analysis.agreement import AgreementInputs
from commissioning.inputs.validate import load_case
from commissioning.writers import agreementbook
from optimiser.levels import optimise_case

AREAS = ["A1", "A2", "A3"]
FAMILY = {"contract": "signed contract", "transition": "transition limit", "max_moved": "money moved",
          "capacity": "programme capacity", "pool_areas": "own areas only", "protect": "protection floor",
          "min_award": "minimum award"}


def write_realism_case(folder: Path) -> Path:
    """The case of the module docstring."""
    return write_case(
        folder, areas=AREAS, cohorts={"C1": 0.5, "C2": 0.25},
        pots=[{**pot("SK", poolable=True), "capacity": 120, "min_award": 1000},
              pot("LOC", poolable=True, geography="A3", unit_cost=500, basis="local"),
              pot("WK", poolable=True, geography="A1;A2", unit_cost=2000)],
        budgets={(p, y): amount for p, amount in (("SK", 100000), ("LOC", 20000), ("WK", 60000)) for y in (Y1, Y2)},
        need={(a, c, y): 100 for a in AREAS for c in ("C1", "C2") for y in (Y1, Y2)},
        provision={("SK", "A1", "C1", Y1): {"amount": 40000, "contract_end": "2026-03-31"},
                   ("SK", "A1", "C1", Y2): {"amount": 40000, "contract_end": "2026-03-31"},
                   ("SK", "A2", "C2", Y1): 30000,
                   ("LOC", "A3", "C1", Y1): {"amount": 10000, "contract_end": "2027-03-31"},
                   ("LOC", "A3", "C1", Y2): {"amount": 10000, "contract_end": "2027-03-31"},
                   ("WK", "A2", "C1", Y1): 20000},
        settings={"name": "Realism case", "term_years": 2, "start_year": Y1,
                  "transition": {"max_change": 0.25, "max_moved": 0.3}, "protect": {"cohorts": 0.5}})


@pytest.fixture(scope="module")
def agreed(tmp_path_factory):
    root = tmp_path_factory.mktemp("realism")
    case = write_realism_case(root / "case")
    res = cli("agree", case, "--out", root / "out")
    assert res.exit_code == 0, res.output
    return case, root / "out" / "agreement.xlsx"


COLUMNS = ("family", "check", "pot", "area", "cohort", "year", "value", "limit", "holds", "factor")


def check_rows(wb) -> list[dict]:
    """The Checks sheet's rows (values as cached or recalculated)."""
    ws = wb["Checks"]
    head, cols = header(ws, *COLUMNS)
    return [{k: ws.cell(r, cols[k]).value for k in COLUMNS} for r in range(head + 1, ws.max_row + 1)
            if ws.cell(r, cols["family"]).value]


def of(rows, family):
    return [r for r in rows if r["family"] == FAMILY[family]]


def test_every_realism_limit_has_a_checks_row_that_holds(agreed):
    case, book = agreed
    rows = check_rows(openpyxl.load_workbook(book, data_only=True))
    assert {(r["pot"], r["area"], r["cohort"], r["year"]): r["limit"] for r in of(rows, "contract")} == {
        ("SK", "A1", "C1", Y1): 40000, ("LOC", "A3", "C1", Y1): 10000, ("LOC", "A3", "C1", Y2): 10000}
    change = {(r["area"] or r["cohort"], r["year"], "min" if "at least" in r["check"] else "max"): r["limit"]
              for r in of(rows, "transition")}
    assert change == {
        ("A1", Y1, "min"): 30000, ("A1", Y1, "max"): 50000, ("A2", Y1, "min"): 37500, ("A2", Y1, "max"): 62500,
        ("A3", Y1, "min"): 7500, ("A3", Y1, "max"): 12500, ("A1", Y2, "min"): 30000, ("A1", Y2, "max"): 50000,
        ("A3", Y2, "min"): 7500, ("A3", Y2, "max"): 12500, ("C1", Y1, "min"): 52500, ("C1", Y1, "max"): 87500,
        ("C2", Y1, "min"): 22500, ("C2", Y1, "max"): 37500, ("C1", Y2, "min"): 37500, ("C1", Y2, "max"): 62500}
    [moved] = of(rows, "max_moved")
    assert moved["limit"] == pytest.approx(45000) and moved["factor"] == pytest.approx(0.3)
    assert {(r["pot"], r["year"]): r["limit"] for r in of(rows, "capacity")} == pytest.approx(
        {("SK", Y1): 120, ("SK", Y2): 120, ("LOC", Y1): 80, ("LOC", Y2): 80})
    [home] = of(rows, "pool_areas")
    assert (home["pot"], home["area"], home["limit"]) == ("LOC", "outside its geography", 0)
    assert {(r["cohort"], r["year"]): r["limit"] for r in of(rows, "protect")} == pytest.approx(
        {("C1", Y1): 35, ("C2", Y1): 15, ("C1", Y2): 30})
    assert {(r["pot"], r["area"], r["year"]): r["limit"] for r in of(rows, "min_award")} == {
        ("SK", a, y): 1000 for a in AREAS for y in (Y1, Y2)}
    for family in FAMILY:
        assert of(rows, family) and all(r["holds"] is True for r in of(rows, family)), family
    res = cli("check", book, "--case", case)
    assert res.exit_code == 0, res.output


def test_the_checks_formulas_read_the_allocations_sheet(agreed):
    _, book = agreed
    ws = openpyxl.load_workbook(book)["Checks"]
    head, cols = header(ws, "family", "value", "limit", "holds", "headroom")

    def formulas(family):
        r = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, cols["family"]).value == FAMILY[family])
        return {k: str(getattr(ws.cell(r, cols[k]).value, "text", ws.cell(r, cols[k]).value))
                for k in ("value", "limit", "holds", "headroom")}

    contract = formulas("contract")["value"]
    assert "EXACT(alloc_programme,$D$" in contract and "EXACT(alloc_pot,$D$" in contract  # its own programme
    assert "EXACT(alloc_programme,$D$" in formulas("capacity")["value"]
    assert "alloc_participants" in formulas("capacity")["value"]
    assert formulas("max_moved")["value"] == "=SUM(today_moved)"
    assert formulas("max_moved")["limit"].endswith("*SUM(today_amount)")
    home = formulas("pool_areas")["value"]  # two areas outside: named one by one
    assert home.count("EXACT(alloc_area,'Assumptions and evidence'!$A$") == 2
    award = formulas("min_award")
    assert award["holds"].startswith("=OR(ROUND(") and "ABS(H" in award["holds"]
    assert award["headroom"].startswith("=IF(ROUND(")


# ---- breaking each limit, as a finance team might -----------------------------------------------------
def amounts(ws, rows, where, first: float | None, rest: float = 0.0) -> None:
    """The allocation rows matching ``where``: the first set to ``first`` (unless None), the others to ``rest``."""
    chosen = [r for r in rows if all(r[k] == v for k, v in where.items())]
    assert chosen, where
    for i, r in enumerate(chosen):
        ws[r["_amount_cell"]] = first if i == 0 and first is not None else rest


def add_row(ws, **codes) -> None:
    """A new allocation row below the last, with the formulas of the rows above (as the sheet says to)."""
    head, cols = header(ws, "pot_code", "amount", "unit_cost", "participants")
    r = max(row["_row"] for row in allocation_rows(ws)) + 1
    for k, v in codes.items():
        ws.cell(r, cols[k]).value = v
    c = {k: openpyxl.utils.get_column_letter(cols[k]) for k in ("amount", "unit_cost", "participants")}
    ws.cell(r, cols["participants"]).value = f"={c['amount']}{r}/{c['unit_cost']}{r}"


def break_contract(ws, rows):
    # SK's own programme in SK A1 C1 2025-26 cut to £30,000: £10,000 short of the contract's £40,000.
    amounts(ws, rows, {"pot_code": "SK", "area_code": "A1", "cohort_code": "C1", "year": Y1, "programme": "SK"}, 30000)


def break_transition(ws, rows):
    # A2's funding in 2025-26 down to £35,000, under its floor of 0.75 × £50,000 = £37,500.
    amounts(ws, rows, {"area_code": "A2", "year": Y1}, 35000)


def break_moved(ws, rows):
    # Nothing allocated: all of today's £150,000 moves, over 0.3 × £150,000 = £45,000.
    amounts(ws, rows, {}, None, 0)


def break_capacity(ws, rows):
    # SK's programme in 2026-27: one row of £130,000 at £1,000 a head = 130 participants, over its 120.
    amounts(ws, rows, {"programme": "SK", "year": Y2}, 130000)


def break_pool_areas(ws, rows):
    # LOC's money in A1 (outside its geography, A3): £1,000 spent elsewhere.
    add_row(ws, pot_code="LOC", area_code="A1", cohort_code="C1", year=Y1, programme="LOC", amount=1000,
            unit_cost=500, outcome_rate=0.5, value_per_outcome=0)


def break_protect(ws, rows):
    # C2 in 2025-26: 10 participants (the first row's amount is 10 × its unit cost), under the floor of 15.
    chosen = [r for r in rows if r["cohort_code"] == "C2" and r["year"] == Y1]
    amounts(ws, rows, {"cohort_code": "C2", "year": Y1}, 10 * chosen[0]["unit_cost"])


def break_min_award(ws, rows):
    # £100 of SK's money in A3 in 2026-27, where its minimum award is £1,000 (any other SK row there emptied).
    for r in rows:
        if (r["pot_code"], r["area_code"], r["year"]) == ("SK", "A3", Y2):
            ws[r["_amount_cell"]] = 0
    add_row(ws, pot_code="SK", area_code="A3", cohort_code="C1", year=Y2, programme="SK", amount=100,
            unit_cost=1000, outcome_rate=0.5, value_per_outcome=0)


BREACHES = [
    (break_contract, "contract: SK keeps £40,000.00 for C1 in A1 2025-26: the sheet holds £30,000.00"),
    (break_transition, "area A2's funding in 2025-26 at least −25% of today's £50,000.00: the sheet holds £35,000.00"),
    (break_moved, "money moved from today's provision at most 30% of £150,000.00: the sheet moves £150,000.00"),
    (break_capacity, "SK's programme serves at most 120.0 participants in 2026-27: the sheet serves 130.0"),
    (break_pool_areas, "LOC spends only in its own areas: the sheet spends £1,000.00 elsewhere"),
    (break_protect, "Cohort C2 keeps at least 50% of today's participants in 2025-26: 10.0 participants against "
                    "at least 15.0"),
    (break_min_award, "SK in A3 2026-27: nothing or at least £1,000.00: the sheet holds £100.00"),
]


def edited(book: Path, path: Path, edit) -> Path:
    wb = openpyxl.load_workbook(book)
    ws = wb["Allocations"]
    edit(ws, allocation_rows(ws))
    wb.save(path)
    return path


@pytest.mark.parametrize("edit,words", BREACHES, ids=[b[0].__name__ for b in BREACHES])
def test_check_names_each_broken_realism_limit(agreed, tmp_path, edit, words):
    case, book = agreed
    res = cli("check", edited(book, tmp_path / "edited.xlsx", edit), "--case", case)
    assert res.exit_code == 1, res.output
    line = next((x for x in res.output.splitlines() if words in x), None)
    assert line is not None, res.output
    assert "sheet 'Allocations', cell" in line and "[Checks sheet, row" in line


def test_nothing_or_the_minimum_both_hold(agreed, tmp_path):
    case, book = agreed

    def edit(ws, rows):
        # SK in A3 2026-27: £1,000 exactly (the minimum); SK in A3 2025-26: nothing at all.
        for r in rows:
            if (r["pot_code"], r["area_code"]) == ("SK", "A3"):
                ws[r["_amount_cell"]] = 0
        add_row(ws, pot_code="SK", area_code="A3", cohort_code="C1", year=Y2, programme="SK", amount=1000,
                unit_cost=1000, outcome_rate=0.5, value_per_outcome=0)

    res = cli("check", edited(book, tmp_path / "edited.xlsx", edit), "--case", case)
    assert "minimum award" not in res.output and "nothing or at least" not in res.output, res.output


# ---- LibreOffice recalculates the same verdicts ----------------------------------------------------------
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def awards(ws, rows):
    # SK in A3 2026-27: £100 (a breach); in A1 2026-27: nothing (holds); in A2 2026-27: £1,000 exactly (holds).
    break_min_award(ws, rows)
    amounts(ws, rows, {"pot_code": "SK", "area_code": "A1", "year": Y2}, None, 0)
    amounts(ws, rows, {"pot_code": "SK", "area_code": "A2", "year": Y2}, 1000)


@pytest.fixture(scope="module")
def recalculated(agreed, tmp_path_factory):
    need(SOFFICE, "LibreOffice (soffice)")
    case_path, book = agreed
    work = tmp_path_factory.mktemp("realism-lo")
    case = load_case(case_path)
    # A workbook whose area scopes are all matched against lists (as a case of many areas has them).
    lists = work / "lists.xlsx"
    limit = agreementbook.MAX_LITERAL_AREAS
    agreementbook.MAX_LITERAL_AREAS = 0
    try:
        agreementbook.write_agreement(AgreementInputs.from_run(optimise_case(case)), lists)
    finally:
        agreementbook.MAX_LITERAL_AREAS = limit
    books = {"as-written": edited(book, work / "as-written.xlsx", lambda ws, rows: None),
             "moved": edited(book, work / "moved.xlsx", break_moved),
             "awards": edited(book, work / "awards.xlsx", awards),
             "lists": edited(lists, work / "lists-edited.xlsx", break_pool_areas)}
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    out = work / "recalculated"
    out.mkdir()
    proc = subprocess.run([SOFFICE, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={profile.as_uri()}",
                           "--calc", "--convert-to", "xlsx", "--outdir", str(out), *map(str, books.values())],
                          capture_output=True, text=True, timeout=240)
    back = {}
    for name, path in books.items():
        assert (out / path.name).exists(), proc.stderr
        back[name] = (openpyxl.load_workbook(path), openpyxl.load_workbook(out / path.name, data_only=True))
    return case, back


def measured_holds(case, wb) -> list[bool]:
    """What ``check`` finds of every limit, measured on the workbook's allocation rows."""
    rows = pd.DataFrame([{k: r[k] for k in L.ROW_COLUMNS} for r in allocation_rows(wb["Allocations"])])
    rows["amount"] = rows["amount"].astype(float)
    return [m.holds for m in L.measure_all(case, L.case_limits(case), rows)]


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["as-written", "moved", "awards", "lists"])
def test_libreoffice_recalculates_the_holds_check_measures(recalculated, name):
    case, back = recalculated
    typed, recalc = back[name]
    rows = check_rows(recalc)
    limits = [r for r in rows if r["family"] not in ("eligibility", "reconciliation")]
    assert [r["holds"] for r in limits] == measured_holds(case, typed)
    if name == "as-written":
        assert all(r["holds"] is True for r in rows)


@pytest.mark.libreoffice
def test_libreoffice_measures_money_moved_and_minimum_awards(recalculated):
    _, back = recalculated
    [moved] = of(check_rows(back["moved"][1]), "max_moved")
    # Σ max(0, today − plan) with nothing planned: all of today's £150,000, over its £45,000.
    assert moved["value"] == pytest.approx(150000) and moved["limit"] == pytest.approx(45000)
    assert moved["holds"] is False
    [kept] = of(check_rows(back["as-written"][1]), "max_moved")
    assert kept["holds"] is True and kept["value"] <= 45000
    award = {(r["area"], r["year"]): (r["value"], r["holds"]) for r in of(check_rows(back["awards"][1]), "min_award")}
    assert award[("A3", Y2)] == (pytest.approx(100), False)  # £100: neither nothing nor £1,000
    assert award[("A1", Y2)] == (0, True)  # nothing
    assert award[("A2", Y2)] == (pytest.approx(1000), True)  # the minimum exactly
    [home] = of(check_rows(back["lists"][1]), "pool_areas")
    assert home["value"] == pytest.approx(1000) and home["holds"] is False  # matched against the list of A1, A2
