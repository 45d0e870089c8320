"""``commissioning agree``: the Local Labour Market Agreement workbook.

Judged on the tiny agreement case (tests/agreementcase.py), whose figures are small enough
to check by hand: the workbook's totals must reconcile with allocations.csv to the penny,
every total must be a live formula, the checks must cover every pot budget (per year, or
per window of years where money carries forward), need cell and rule, and text taken from
inputs must stay text.
"""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
import yaml

from agreementcase import allocation_rows, cli, defined_cell, header, write_agreement_case
from casefactory import changed
from commissioning.analysis import limits as L
from optimiser.families.budget import budget_limits
from commissioning.writers.agreementbook import SHEETS
from commissioning.inputs.validate import load_case

EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def agreed(tmp_path_factory):
    root = tmp_path_factory.mktemp("agree")
    case = write_agreement_case(root / "case")
    res = cli("agree", case, "--out", root / "out")
    assert res.exit_code == 0, res.output
    return case, root / "out"


@pytest.fixture(scope="module")
def wb(agreed):
    return openpyxl.load_workbook(agreed[1] / "agreement.xlsx")


@pytest.fixture(scope="module")
def values(agreed):
    return openpyxl.load_workbook(agreed[1] / "agreement.xlsx", data_only=True)


def pooled_csv(folder) -> pd.DataFrame:
    a = pd.read_csv(folder / "allocations.csv")
    return a[a["level"] == "pooled"]


def test_writes_the_agreement_with_the_runs_machine_readable_files(agreed, wb):
    case, out = agreed
    assert {"agreement.xlsx", "allocations.csv", "summary.json"} <= {p.name for p in out.iterdir()}
    assert wb.sheetnames == SHEETS
    assert SHEETS[:10] == ["Cover", "Summary", "Pooled budget", "Allocations", "Outcomes and targets",
                           "Flexibilities requested", "Duplication and gaps", "Governance",
                           "Assumptions and evidence", "Checks"]


def test_cover_names_parties_term_status_and_the_inputs_fingerprint(agreed, wb):
    case, out = agreed
    ws = wb["Cover"]
    facts = {}
    parties = []
    label = None
    for r in range(1, ws.max_row + 1):
        label = ws.cell(r, 1).value or (label if label == "Parties" else None)
        if label == "Parties":
            parties.append(ws.cell(r, 2).value)
        elif ws.cell(r, 1).value:
            facts[ws.cell(r, 1).value] = ws.cell(r, 2).value
    assert ws["A1"].value == "Local Labour Market Agreement"
    assert facts["Status"] == "DRAFT"
    assert facts["Date"] is not None
    assert facts["Fingerprint"] == load_case(case).fingerprint()
    assert json.loads((out / "summary.json").read_text())["case"]["fingerprint"] == facts["Fingerprint"]
    assert parties == ["Northtown Council", "Southvale Council", "Department for Work and Pensions"]
    assert facts["Lead body"] == "Northtown Council"
    assert facts["Term (years)"] == 2
    assert facts["Agreement years"] == "2025-26 to 2026-27"
    assert facts["Scenario"] == "Tiny case"


def test_allocations_reconcile_with_allocations_csv_to_the_penny(agreed, wb, values):
    case, out = agreed
    csv = pooled_csv(out)
    rows = allocation_rows(wb["Allocations"])
    assert len(rows) == len(csv[csv["amount"] > 0])
    assert round(sum(r["amount"] for r in rows), 2) == round(csv["amount"].sum(), 2)
    total = defined_cell(wb, "total_allocated")
    assert total.value.startswith("=SUMPRODUCT(")  # a live formula, not a typed total
    assert round(defined_cell(values, "total_allocated").value, 2) == round(csv["amount"].sum(), 2)
    for r in rows:
        n = r["_row"]
        assert isinstance(r["amount"], float | int) and r["proposed (£)"] == r["amount"]
        assert r["participants"] == f"=K{n}/N{n}"
        assert r["outcomes"] == f"=Q{n}*O{n}"
        assert r["value"] == f"=R{n}*P{n}"
    assert wb["Allocations"][rows[0]["_amount_cell"]].number_format.startswith("£#,##0")


def test_area_cohort_year_subtotals_sit_above_their_pot_detail(wb):
    ws = wb["Allocations"]
    head, cols = header(ws, "ref", "pot_code", "amount")
    subtotals = [r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, cols["ref"]).value == "Subtotal"]
    assert subtotals
    for r in subtotals:
        f = ws.cell(r, cols["amount"]).value
        assert f.startswith("=SUBTOTAL(9,K") and f.startswith(f"=SUBTOTAL(9,K{r + 1}:")
        assert ws.cell(r + 1, cols["pot_code"]).value  # the pot detail beneath
        assert ws.row_dimensions[r + 1].outlineLevel == 1


def test_every_total_on_every_sheet_is_a_live_formula(wb):
    pb = wb["Pooled budget"]
    head, cols = header(pb, "pot_code", "total (£)")
    for r in range(head + 1, head + 4):
        assert pb.cell(r, cols["total (£)"]).value.startswith("=SUM(")
    # Planned spend reads the Allocations sheet.
    spend = [c.value for row in pb.iter_rows() for c in row if isinstance(c.value, str) and "alloc_amount" in c.value]
    assert len(spend) == 3 * 2  # three pots × two years
    out = wb["Outcomes and targets"]
    grid = [c.value for row in out.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert any("alloc_participants" in f for f in grid) and any("alloc_outcomes" in f for f in grid)
    assert any(f.startswith("=SUM(") for f in grid)
    summary = wb["Summary"]
    live = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert "=total_allocated" in live and "=all_checks_hold" in live


def test_checks_cover_each_budget_window_need_cell_rule_and_match(wb, values):
    ws, vs = wb["Checks"], values["Checks"]
    head, cols = header(ws, "family", "check", "holds")
    rows = [r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, cols["family"]).value]
    fam = pd.Series([ws.cell(r, cols["family"]).value for r in rows]).value_counts().to_dict()
    # SKILLS 2 years + LOCAL 1 year + WORK (carry-forward 1) 3 windows; 8 need cells;
    # SKILLS youth cap in 2 years + WORK's F1 minimum; match in Southvale in 2 years.
    assert fam["pot budget"] == 6
    assert fam["need cap"] == 8
    assert fam["rule"] == 3
    assert fam["match funding"] == 2
    work = {vs.cell(r, cols["year"]).value: vs.cell(r, cols["limit"]).value for r in rows
            if ws.cell(r, cols["pot"]).value == "WORK" and ws.cell(r, cols["family"]).value == "pot budget"}
    assert work == {"2025-26": 50000, "2026-27": 100000, "2025-26 to 2026-27": 100000}
    for r in rows:
        assert ws.cell(r, cols["holds"]).value.startswith("=ROUND(")
        assert vs.cell(r, cols["holds"]).value is True
    overall = defined_cell(wb, "all_checks_hold")
    assert overall.value.startswith("=AND(") and defined_cell(values, "all_checks_hold").value is True
    # A footprint rule reads both member areas by reference, never by pasted text.
    f1 = next(ws.cell(r, cols["value"]).value for r in rows if ws.cell(r, cols["area"]).value == "F1")
    assert f1.count("EXACT(alloc_area,'Assumptions and evidence'!$A$") == 2


def test_finance_ready_layout(wb):
    for name in ("Summary", "Pooled budget", "Allocations", "Outcomes and targets", "Checks",
                 "Assumptions and evidence", "Duplication and gaps", "Flexibilities requested"):
        ws = wb[name]
        assert ws.freeze_panes, name
        assert ws.page_setup.orientation == "landscape", name
        # Fit to one page wide (1 is the default width, so it is left out of the file), any height.
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, name
        assert "&P" in ws.oddFooter.center.text, name
    tables = {t for ws in wb.worksheets for t in ws.tables}
    assert {"PooledBudget", "PlannedSpend", "Checks", "Flags", "Asks", "NeedEvidence", "UnitCosts",
            "Eligibility"} <= tables
    names = set(wb.defined_names)
    assert {"total_allocated", "all_checks_hold", "alloc_amount", "alloc_pot", "budget_grid", "spend_grid",
            "need_people", "pooled_budget_total", "target_outcomes"} <= names
    assert wb["Allocations"].auto_filter.ref
    pb = wb["Pooled budget"]
    head, cols = header(pb, "pot_code", "2025-26", "2026-27")  # financial-year columns
    assert pb.cell(head + 1, cols["2025-26"]).number_format.startswith("£#,##0")


def test_governance_is_the_template_with_the_cases_values(wb):
    text = "\n".join(str(c.value) for row in wb["Governance"].iter_rows() for c in row if c.value)
    assert "Northtown Council chairs the board" in text
    assert "Department for Work and Pensions" in text
    assert "{" not in text and "<!--" not in text  # every placeholder filled; editors' notes left out
    assert "Quarterly" in text and "Variation" in text and "2025-26, 2026-27" in text


def test_governance_template_can_be_replaced(agreed, tmp_path):
    case, _ = agreed
    template = tmp_path / "governance.md"
    template.write_text("# Board for {name}\nChaired by {lead_body} for {term_years} years; {unknown} stays.\n",
                        encoding="utf-8")
    res = cli("agree", case, "--out", tmp_path / "out", "--governance", template)
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(tmp_path / "out" / "agreement.xlsx")["Governance"]
    assert ws["A1"].value == "Board for Tiny case"
    assert ws["A2"].value == "Chaired by Northtown Council for 2 years; {unknown} stays."


def test_formula_like_text_stays_text_in_every_sheet(tmp_path):
    pots = changed("pots", 0, optional=True, can_match="yes", pot_name=EVIL)
    settings = {"name": EVIL, "parties": [EVIL, "Southvale Council"], "lead_body": EVIL}
    from casefactory import write_tiny_case

    case = write_tiny_case(tmp_path / "case", optional=True, case_yaml=settings, pots=pots,
                           areas=changed("areas", 0, optional=True, area_name=EVIL))
    res = cli("agree", case, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "agreement.xlsx")
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value == EVIL:
                    seen.add(ws.title)
                    assert c.data_type == "s", (ws.title, c.coordinate)
                elif c.data_type == "f":
                    assert "HYPERLINK" not in str(c.value).upper(), (ws.title, c.coordinate, c.value)
    # Wherever pot names (and the other input texts) appear, they are text.
    assert {"Cover", "Summary", "Pooled budget", "Allocations", "Outcomes and targets",
            "Assumptions and evidence"} <= seen


def test_from_reuses_an_optimise_folder_of_the_same_inputs(agreed, tmp_path):
    case, out = agreed
    res = cli("optimise", case, "--out", tmp_path / "run")
    assert res.exit_code == 0, res.output
    res = cli("agree", case, "--from", tmp_path / "run", "--out", tmp_path / "agreement")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "agreement" / "allocations.csv").read_bytes() == (tmp_path / "run" / "allocations.csv").read_bytes()
    wb = openpyxl.load_workbook(tmp_path / "agreement" / "agreement.xlsx", data_only=True)
    assert round(defined_cell(wb, "total_allocated").value, 2) == round(pooled_csv(tmp_path / "run")["amount"].sum(), 2)
    assert len(list(wb["Flexibilities requested"].tables)) == 1


def test_from_refuses_results_of_other_inputs(agreed, tmp_path):
    case, out = agreed
    other = write_agreement_case(tmp_path / "other", budgets=changed("budgets", 0, optional=True, amount=90000))
    res = cli("agree", other, "--from", out, "--out", tmp_path / "agreement")
    assert res.exit_code == 2
    assert "fingerprint" in res.output and "other inputs" in res.output
    assert not (tmp_path / "agreement").exists()


def test_scenario_is_applied_and_fingerprinted(agreed, tmp_path):
    case, _ = agreed
    scenario = tmp_path / "half.yaml"
    scenario.write_text(yaml.safe_dump({"name": "half-skills", "budgets": {"SKILLS": {"multiply": 0.5}}}))
    res = cli("agree", case, "--scenario", scenario, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "agreement.xlsx", data_only=True)
    cover = {wb["Cover"].cell(r, 1).value: wb["Cover"].cell(r, 2).value for r in range(1, 40)}
    assert cover["Scenario"] == "half-skills"
    from commissioning.inputs.scenario import load_case_with_scenario

    assert cover["Fingerprint"] == load_case_with_scenario(case, scenario)[0].fingerprint() != \
        load_case(case).fingerprint()
    pb = wb["Pooled budget"]
    head, cols = header(pb, "pot_code", "2025-26")
    assert pb.cell(head + 1, cols["2025-26"]).value == 50000  # SKILLS 2025-26 halved
    res = cli("check", tmp_path / "out" / "agreement.xlsx", "--case", case, "--scenario", scenario)
    assert res.exit_code == 0, res.output


# ---- the limits themselves, by hand ------------------------------------------------------------------
def test_carry_forward_is_checked_over_every_window(tmp_path):
    # WORK may carry its money one year: spending in 2026-27 can draw on both budgets.
    case = load_case(write_agreement_case(tmp_path))
    lims = [x for x in budget_limits(case) if x.pot_code == "WORK"]
    assert [(x.years, x.budget_years, x.bound) for x in lims] == [
        (("2025-26",), ("2025-26",), 50000.0),
        (("2025-26", "2026-27"), ("2025-26", "2026-27"), 100000.0),
        (("2026-27",), ("2025-26", "2026-27"), 100000.0),
    ]
    # £60,000 in 2025-26 overspends the first window even though the two years hold £100,000.
    rows = pd.DataFrame([("WORK", "A2", "OLDER", "2025-26", "WORK", 60000.0)], columns=L.ROW_COLUMNS)
    held = {m.limit.years: m.holds for m in L.measure_all(case, lims, rows)}
    assert held == {("2025-26",): False, ("2025-26", "2026-27"): True, ("2026-27",): True}


def test_ineligible_rows_are_named_with_their_reason(tmp_path):
    case = load_case(write_agreement_case(tmp_path))
    pool = L.agreement_pool(case)
    assert pool == {"SKILLS", "LOCAL"}
    assert L.why_ineligible(case, pool, "SKILLS", "A1", "YOUNG", "2025-26", "SKILLS") is None
    assert "geography" in L.why_ineligible(case, pool, "WORK", "A1", "OLDER", "2025-26", "WORK")
    assert "may not spend in 2026-27" in L.why_ineligible(case, pool, "LOCAL", "A1", "OLDER", "2026-27", "LOCAL")
    assert "not a pot" in L.why_ineligible(case, pool, "NOPE", "A1", "OLDER", "2026-27", "NOPE")
