"""The agreement's Transition and Provision today sheets, summary.json's ``contracts``, and the Cover's lines.

A case small enough to work by hand: areas A1, A2; cohorts C1, C2; years 2025-26 (Y1) and
2026-27 (Y2). SK (£1,000 a head, everywhere) has £100,000 a year; WK (£2,000 a head, A2 only)
£40,000 a year: £140,000 of budgets each year. Need is 100 people in every cell, so the
baseline pays today's provision as written:

    SK A1 C1 Y1  £30,000  contract_end 2027-03-31  contracted in Y1 and Y2 ...
    SK A1 C1 Y2  £30,000  contract_end 2027-03-31  ... its last year Y2: ends in Y2
    SK A2 C2 Y1  £20,000  contract_end 2026-03-31  contracted in Y1, its last year: ends in Y1
    SK A2 C2 Y2  £20,000  contract_end 2026-03-31  Y2 starts after the end: free
    WK A2 C1 Y1  £10,000  no contract

    today       Y1 30,000 + 20,000 + 10,000 = 60,000   Y2 30,000 + 20,000 = 50,000   (110,000)
    contracted  Y1 30,000 + 20,000 = 50,000            Y2 30,000                     (80,000)
    free        Y1 140,000 − 50,000 = 90,000           Y2 140,000 − 30,000 = 110,000 (200,000)
    ending      Y1 20,000 (SK A2 C2)                   Y2 30,000 (SK A1 C1)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from agreementcase import allocation_rows, cli, defined_cell, header
from engines import need
from lpcases import Y1, Y2, make_case, pot, write_case
from commissioning.analysis.agreement_layout import COVER_CONTRACTED, COVER_FREE, TODAY, TODAY_HEADERS, TRANSITION
from commissioning.analysis.agreement import AgreementInputs
from commissioning.analysis.transition import contracts_by_year, transition
from commissioning.inputs.validate import load_case
from commissioning.writers.agreement import write_agreement
from optimiser.levels import optimise_case

AREAS, COHORTS = ["A1", "A2"], {"C1": 0.5, "C2": 0.25}
PROVISION = {
    ("SK", "A1", "C1", Y1): {"amount": 30000, "contract_end": "2027-03-31"},
    ("SK", "A1", "C1", Y2): {"amount": 30000, "contract_end": "2027-03-31"},
    ("SK", "A2", "C2", Y1): {"amount": 20000, "contract_end": "2026-03-31"},
    ("SK", "A2", "C2", Y2): {"amount": 20000, "contract_end": "2026-03-31"},
    ("WK", "A2", "C1", Y1): 10000,
}


def tables(provision=PROVISION) -> dict:
    return dict(
        areas=AREAS, cohorts=COHORTS,
        pots=[pot("SK", poolable=True), pot("WK", poolable=True, geography="A2", unit_cost=2000)],
        budgets={("SK", Y1): 100000, ("SK", Y2): 100000, ("WK", Y1): 40000, ("WK", Y2): 40000},
        need={(a, c, y): 100 for a in AREAS for c in COHORTS for y in (Y1, Y2)},
        provision=provision, settings={"name": "Transition case", "term_years": 2, "start_year": Y1})


def proposal(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["pot_code", "area_code", "cohort_code", "year", "programme", "amount"])


# ---- the analysis, on a proposal written by hand ------------------------------------------------------
def test_money_kept_moved_contracted_and_ending_by_hand(tmp_path):
    case = make_case(tmp_path / "case", **tables())
    rows = proposal(
        ("SK", "A1", "C1", Y1, "SK", 35000.0),  # today 30,000: kept 30,000, moved 0
        ("SK", "A2", "C2", Y1, "SK", 20000.0),  # today 20,000: kept 20,000
        ("WK", "A2", "C1", Y1, "WK", 4000.0),  # today 10,000: kept 4,000, moved 6,000
        ("SK", "A1", "C1", Y2, "SK", 30000.0),  # today 30,000: kept 30,000
        ("SK", "A2", "C2", Y2, "SK", 5000.0),  # today 20,000: the pot's two programmes give 8,000:
        ("SK", "A2", "C2", Y2, "WK", 3000.0),  #   kept 8,000, moved 12,000
        ("SK", "A2", "C1", Y2, "SK", 50000.0),  # not a cell of today's: newly commissioned
    )
    t = transition(case, rows)
    cells = {tuple(r[:4]): r[4:] for r in t.cells.itertuples(index=False)}
    # (today, contracted, ending, plan, kept, moved)
    assert cells[("SK", "A1", "C1", Y1)] == (30000, 30000, 0, 35000, 30000, 0)
    assert cells[("SK", "A2", "C2", Y1)] == (20000, 20000, 20000, 20000, 20000, 0)
    assert cells[("WK", "A2", "C1", Y1)] == (10000, 0, 0, 4000, 4000, 6000)
    assert cells[("SK", "A1", "C1", Y2)] == (30000, 30000, 30000, 30000, 30000, 0)
    assert cells[("SK", "A2", "C2", Y2)] == (20000, 0, 0, 8000, 8000, 12000)
    assert len(cells) == 5  # the new cell is not today's
    y = t.by_year
    assert y.loc[Y1].to_dict() == {"budget": 140000, "contracted": 50000, "free": 90000, "today": 60000,
                                   "kept": 54000, "moved": 6000, "ending": 20000,
                                   "proposed": 59000, "new": 5000}  # 35,000 + 20,000 + 4,000; 59,000 − 54,000
    assert y.loc[Y2].to_dict() == {"budget": 140000, "contracted": 30000, "free": 110000, "today": 50000,
                                   "kept": 38000, "moved": 12000, "ending": 30000,
                                   "proposed": 88000, "new": 50000}  # 30,000 + 8,000 + 50,000; 88,000 − 38,000
    assert t.contracted_total == 80000 and t.free_total == 200000
    assert t.grid("pot", "kept") == {("SK", Y1): 50000, ("WK", Y1): 4000, ("SK", Y2): 38000}
    assert t.grid("pot", "moved") == {("SK", Y1): 0, ("WK", Y1): 6000, ("SK", Y2): 12000}
    assert t.grid("area", "moved") == {("A1", Y1): 0, ("A2", Y1): 6000, ("A1", Y2): 0, ("A2", Y2): 12000}
    assert t.grid("pot", "ending") == {("SK", Y1): 20000, ("WK", Y1): 0, ("SK", Y2): 30000}
    assert contracts_by_year(case) == {Y1: {"contracted": 50000, "free": 90000},
                                       Y2: {"contracted": 30000, "free": 110000}}


def test_a_contract_over_its_cells_money_counts_as_the_baseline_pays_it(tmp_path):
    # SK's Y1 budget cut to £40,000: the baseline pays its £50,000 of Y1 provision 40/50 = 0.8 of each
    # cell, so today is 24,000 (A1 C1) and 16,000 (A2 C2), and so is the contracted money: 40,000 of
    # Y1's budgets of 40,000 + 40,000 = 80,000, leaving 40,000 free.
    t = tables()
    t["budgets"][("SK", Y1)] = 40000
    case = make_case(tmp_path / "case", **t)
    c = contracts_by_year(case)
    assert c[Y1] == pytest.approx({"contracted": 40000, "free": 40000})
    assert transition(case, proposal()).cells.set_index(["pot_code", "area_code", "cohort_code", "year"])[
        "contracted"].to_dict() == pytest.approx({("SK", "A1", "C1", Y1): 24000, ("SK", "A2", "C2", Y1): 16000,
                                                  ("SK", "A1", "C1", Y2): 30000, ("SK", "A2", "C2", Y2): 0,
                                                  ("WK", "A2", "C1", Y1): 0})
    assert c[Y2] == {"contracted": 30000, "free": 110000}


def test_a_case_without_provision_has_nothing_contracted(tmp_path):
    case = make_case(tmp_path / "case", **tables(provision=None))
    assert contracts_by_year(case) == {Y1: {"contracted": 0, "free": 140000}, Y2: {"contracted": 0, "free": 140000}}


# ---- the agreement ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def agreed(tmp_path_factory):
    root = tmp_path_factory.mktemp("transition")
    case = write_case(root / "case", **tables())
    res = cli("agree", case, "--out", root / "out")
    assert res.exit_code == 0, res.output
    return case, root / "out"


def block(ws) -> dict[str, dict[str, float]]:
    """The Transition sheet's year-by-year block: {row words: {year or Total: value}}."""
    head, cols = header(ws, Y1, Y2, "Total")
    out = {}
    for r in range(head + 1, head + 12):
        words = ws.cell(r, 1).value
        if words:
            out[words] = {k: ws.cell(r, cols[k]).value for k in (Y1, Y2, "Total")}
    return out


def test_the_transition_sheet_gives_the_year_by_year_figures(agreed):
    case, out = agreed
    wb = openpyxl.load_workbook(out / "agreement.xlsx", data_only=True)
    b = block(wb[TRANSITION])
    assert b["Budgets (money newly available)"] == {Y1: 140000, Y2: 140000, "Total": 280000}
    assert b["Contracted: kept where it is by signed contracts"] == {Y1: 50000, Y2: 30000, "Total": 80000}
    assert b["Free to commission (budgets − contracted)"] == {Y1: 90000, Y2: 110000, "Total": 200000}
    assert b["Today's money"] == {Y1: 60000, Y2: 50000, "Total": 110000}
    assert b["Contracts ending (free from the next year)"] == {Y1: 20000, Y2: 30000, "Total": 50000}
    kept, moved = b["Kept in its cell"], b["Re-commissioned (moved from today's cells)"]
    for y in (Y1, Y2, "Total"):
        assert kept[y] + moved[y] == pytest.approx(b["Today's money"][y])
        assert (b["Newly commissioned (proposed − kept)"][y]
                == pytest.approx(b["Proposed spend"][y] - kept[y]))
    # Kept is at least the contracted money: a contract keeps its cell's money where it is.
    assert kept[Y1] >= 50000 - 0.01 and kept[Y2] >= 30000 - 0.01
    # The proposal's spend is the Allocations total, year by year.
    rows = allocation_rows(wb["Allocations"])
    assert b["Proposed spend"][Y1] == pytest.approx(sum(r["amount"] for r in rows if r["year"] == Y1))
    # The cached figures are the analysis's own (the writer computes nothing).
    summary = json.loads((out / "summary.json").read_text())
    assert summary["contracts"] == {Y1: {"contracted": 50000.0, "free": 90000.0},
                                    Y2: {"contracted": 30000.0, "free": 110000.0}}
    cover = {wb["Cover"].cell(r, 1).value: wb["Cover"].cell(r, 2).value for r in range(1, 40)}
    assert cover[COVER_CONTRACTED] == 80000 and cover[COVER_FREE] == 200000


def test_the_grids_total_to_the_year_block_and_every_figure_is_a_formula(agreed):
    _, out = agreed
    values = openpyxl.load_workbook(out / "agreement.xlsx", data_only=True)
    formulas = openpyxl.load_workbook(out / "agreement.xlsx")
    ws, wf = values[TRANSITION], formulas[TRANSITION]
    b = block(ws)
    titles = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, str)}
    for title, row in (("Money kept in its cell, by pot and year (£)", "Kept in its cell"),
                       ("Money re-commissioned (moved from today's cells), by area and year (£)",
                        "Re-commissioned (moved from today's cells)"),
                       ("Contracts ending (contracted money in the last year of its contract), by pot and year (£)",
                        "Contracts ending (free from the next year)")):
        head = titles[title] + 1
        cols = {ws.cell(head, c).value: c for c in range(1, ws.max_column + 1)}
        total = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, 1).value == "Total")
        for y in (Y1, Y2, "Total"):
            assert ws.cell(total, cols[y]).value == pytest.approx(b[row][y]), (title, y)
        f = str(getattr(wf.cell(head + 1, cols[Y1]).value, "text", wf.cell(head + 1, cols[Y1]).value))
        assert f.startswith("=SUMPRODUCT(EXACT(today_") and "EXACT(today_year," in f
        assert str(wf.cell(total, cols[Y1]).value).startswith("=SUM(")
    # Pot grids list every pot of the case, area grids every area.
    head = titles["Money kept in its cell, by pot and year (£)"] + 1
    assert [ws.cell(head + 1 + i, 1).value for i in range(2)] == ["SK", "WK"]
    for name in ("contracted_total", "free_total", "transition_today_total", "transition_kept_by_pot",
                 "transition_moved_by_area", "today_moved", "today_amount", "today_plan"):
        assert name in formulas.defined_names, name
    assert defined_cell(values, "contracted_total").value == 80000
    # Provision today: one row per today's cell, plan, kept and moved as formulas on the Allocations sheet.
    pt = formulas[TODAY]
    head, cols = header(pt, *(TODAY_HEADERS[k] for k in ("pot_code", "today", "plan", "kept", "moved")))
    cells = [r for r in range(head + 1, pt.max_row + 1) if pt.cell(r, 1).value]
    assert len(cells) == 5
    r = cells[0]
    plan = str(getattr(pt.cell(r, cols[TODAY_HEADERS["plan"]]).value, "text", ""))
    assert plan.startswith("=SUMPRODUCT(EXACT(alloc_pot,A") and "EXACT(alloc_year,D" in plan
    assert str(pt.cell(r, cols[TODAY_HEADERS["kept"]]).value).startswith("=MIN(")
    for sheet in (TRANSITION, TODAY):  # printed like the other agreement sheets
        s = formulas[sheet]
        assert s.page_setup.paperSize == 9 and s.sheet_properties.pageSetUpPr.fitToPage
        assert s.page_setup.fitToHeight == 0 and "Page &P of &N" in s.oddFooter.right.text


def test_the_checks_reconcile_the_transition_sheet_with_todays_money(agreed):
    _, out = agreed
    ws = openpyxl.load_workbook(out / "agreement.xlsx", data_only=True)["Checks"]
    head, cols = header(ws, "family", "check", "value", "limit", "holds")
    recon = [(ws.cell(r, cols["check"]).value, ws.cell(r, cols["value"]).value, ws.cell(r, cols["limit"]).value,
              ws.cell(r, cols["holds"]).value) for r in range(head + 1, ws.max_row + 1)
             if ws.cell(r, cols["family"]).value == "reconciliation" and "Transition" in ws.cell(r, cols["check"]).value]
    assert len(recon) == 2  # by pot and by area: kept + re-commissioned = today's £110,000
    assert all(v == pytest.approx(110000) and lim == pytest.approx(110000) and h is True for _, v, lim, h in recon)


def test_a_case_without_provision_says_what_today_is(tmp_path):
    case = write_case(tmp_path / "case", **tables(provision=None))
    res = cli("agree", case, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "agreement.xlsx", data_only=True)
    assert "no provision table" in wb[TRANSITION].cell(2, 1).value
    b = block(wb[TRANSITION])
    assert b["Contracted: kept where it is by signed contracts"]["Total"] == 0
    assert b["Free to commission (budgets − contracted)"]["Total"] == 280000


# ---- recalculated by LibreOffice --------------------------------------------------------------------------
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculated(books: list[Path], work: Path) -> list[openpyxl.Workbook]:
    """``books`` opened in LibreOffice with recalculation forced, saved and read back."""
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    out = work / "recalculated"
    out.mkdir()
    proc = subprocess.run([SOFFICE, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={profile.as_uri()}",
                           "--calc", "--convert-to", "xlsx", "--outdir", str(out), *map(str, books)],
                          capture_output=True, text=True, timeout=240)
    assert all((out / b.name).exists() for b in books), proc.stderr
    return [openpyxl.load_workbook(out / b.name, data_only=True) for b in books]


def test_a_workbook_too_large_to_match_cell_by_cell_uses_sumifs(agreed, tmp_path):
    case, _ = agreed
    path = tmp_path / "sumifs.xlsx"
    write_agreement(AgreementInputs.from_run(optimise_case(load_case(case))), path, max_eligibility_work=1)
    ws = openpyxl.load_workbook(path)[TODAY]
    assert "SUMIFS" in ws.cell(3, 1).value  # the sheet says how its cells are matched
    head, cols = header(ws, TODAY_HEADERS["plan"])
    assert str(ws.cell(head + 1, cols[TODAY_HEADERS["plan"]]).value).startswith("=SUMIFS(alloc_amount,alloc_pot,A")


@pytest.mark.libreoffice
def test_an_edit_of_the_allocations_moves_the_transition_sheet(agreed, tmp_path):
    need(SOFFICE, "LibreOffice (soffice)")
    _, out = agreed
    before = block(openpyxl.load_workbook(out / "agreement.xlsx", data_only=True)[TRANSITION])
    # Every allocation of Y2 set to nothing (openpyxl drops every cached value).
    wb = openpyxl.load_workbook(out / "agreement.xlsx")
    ws = wb["Allocations"]
    for row in allocation_rows(ws):
        if row["year"] == Y2:
            ws[row["_amount_cell"]] = 0
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    # And the same edit of a workbook that matches today's cells with SUMIFS (a large case's form).
    case, _ = agreed
    large = tmp_path / "sumifs.xlsx"
    write_agreement(AgreementInputs.from_run(optimise_case(load_case(case))), large, max_eligibility_work=1)
    wb = openpyxl.load_workbook(large)
    for row in allocation_rows(wb["Allocations"]):
        if row["year"] == Y2:
            wb["Allocations"][row["_amount_cell"]] = 0
    wb.save(large)
    back, back_large = recalculated([edited, large], tmp_path)
    b = block(back[TRANSITION])
    large_block = block(back_large[TRANSITION])
    assert large_block.keys() == b.keys()
    for words, figures in b.items():
        assert large_block[words] == pytest.approx(figures), words
    # Y2: nothing kept, all of today's £50,000 re-commissioned (100%), nothing proposed nor new.
    assert b["Kept in its cell"][Y2] == 0
    assert b["Re-commissioned (moved from today's cells)"][Y2] == pytest.approx(50000)
    assert b["Re-commissioned, as a share of today's money"][Y2] == pytest.approx(1.0)
    assert b["Proposed spend"][Y2] == 0 and b["Newly commissioned (proposed − kept)"][Y2] == 0
    # Y1 and the constants as before.
    for words in ("Kept in its cell", "Re-commissioned (moved from today's cells)", "Proposed spend"):
        assert b[words][Y1] == pytest.approx(before[words][Y1]), words
    assert b["Contracted: kept where it is by signed contracts"] == before["Contracted: kept where it is by signed contracts"]
    assert b["Free to commission (budgets − contracted)"][Y2] == 110000
    # The total re-commissioned: Y1's as before, plus £50,000.
    assert b["Re-commissioned (moved from today's cells)"]["Total"] == pytest.approx(
        before["Re-commissioned (moved from today's cells)"][Y1] + 50000)
