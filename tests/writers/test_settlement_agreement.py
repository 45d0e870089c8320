"""The agreement's forms, the integrated settlement's sheets, the 360Giving export and the Get
Working annex, on a small settlement case worked out by hand.

The case: two districts of West Yorkshire (Leeds E08000035, Wakefield E08000036, both in the
combined authority E47000003), two years (2025-26, 2026-27), cohorts J (out of work) and L
(without Level 2), 50% outcome rates. Settlement pots:

====  ==================  ========  ======  ======  =============================================
pot   theme               type      £/head  cohort  budgets
====  ==================  ========  ======  ======  =============================================
SK    Adult skills        revenue   1,000   L       £100,000 a year; DfE, then DWP from 1 Apr 2026
EM    Employment support  revenue   1,000   J       £100,000 a year; DWP
CAP   Adult skills        capital   5,000   L       £50,000 in 2026-27; DfE, then DWP from 1 Apr 2026
====  ==================  ========  ======  ======  =============================================

Need each year: J 100 and L 25 in each district (J 200, L 50 a year). SK buys the 50 L a year
(£50,000), so £50,000 of it is idle. The Adult skills theme's money is £100,000 in 2025-26 and
£150,000 in 2026-27 (SK's and CAP's: both budget types count), so 10% — £10,000, then £15,000 —
of it may move to another theme; only SK's revenue can buy EM's (revenue) programme. EM buys 100 J
a year. Settlement: (50 + 100 + 10) + (50 + 100 + 15) = 325 participants, 162.5 outcomes;
aligned 2 × 150 = 300, 150. CAP (capital) buys no J, and no L is left for it.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from agreementcase import allocation_rows, header
from engines import SOFFICE, need, recalculate
from commissioning.analysis.annex import intention
from commissioning.analysis.opendata import validate
from commissioning.cli import main
from tablecases import write_tables

ROOT = Path(__file__).resolve().parents[2]
Y1, Y2 = "2025-26", "2026-27"
AREAS = ("E08000035", "E08000036")


NAMES = {"SK": "Adult Skills Fund", "EM": "Connect to Work", "CAP": "Adult skills capital"}


def pot(code, theme, cohorts, dept, unit_cost=1000, budget_type="revenue", end="2027-03-31"):
    return {"pot_code": code, "pot_name": NAMES[code], "department": dept, "geography": "E47000003",
            "cohorts": cohorts, "start": "2025-04-01", "end": end, "unit_cost": unit_cost, "carry_forward": 0,
            "match_rate": 0, "can_match": "no", "poolable": "no", "basis": "devolved", "settlement": "yes",
            "theme": theme, "budget_type": budget_type, "ring_fenced": "no"}


SETTINGS = """name: Two districts
parties: [West Yorkshire Combined Authority, MHCLG, DWP]
lead_body: West Yorkshire Combined Authority
term_years: 2
start_year: "2025-26"
gss_vintage: 2025-05-01"""


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("settled") / "case"
    tables = {
        "areas": [{"area_code": "E08000035", "area_name": "Leeds"}, {"area_code": "E08000036", "area_name": "Wakefield"}],
        "footprints": [{"footprint_code": "E47000003", "footprint_name": "West Yorkshire", "area_code": a}
                       for a in AREAS],
        "cohorts": [{"cohort_code": "J", "cohort_name": "Out of work", "outcome": "job entry", "outcome_rate": 0.5},
                    {"cohort_code": "L", "cohort_name": "Without Level 2", "outcome": "Level 2",
                     "outcome_rate": 0.5}],
        "pots": [pot("SK", "Adult skills", "L", "DfE"), pot("EM", "Employment support", "J", "DWP"),
                 pot("CAP", "Adult skills", "L", "DfE", unit_cost=5000, budget_type="capital")],
        "budgets": [{"pot_code": p, "year": y, "amount": 100_000} for p in ("SK", "EM") for y in (Y1, Y2)]
        + [{"pot_code": "CAP", "year": Y2, "amount": 50_000}],
        "need": [{"area_code": a, "cohort_code": c, "year": y, "people": n} for a in AREAS for y in (Y1, Y2)
                 for c, n in (("J", 100), ("L", 25))],
        "provision": [
            {"pot_code": "EM", "area_code": "E08000035", "cohort_code": "J", "year": Y1, "amount": 30_000,
             "provider": "Prime A"},
            {"pot_code": "EM", "area_code": "E08000035", "cohort_code": "J", "year": Y1, "amount": 20_000,
             "provider": "Prime B"},
            {"pot_code": "SK", "area_code": "E08000036", "cohort_code": "L", "year": Y1, "amount": 20_000},
        ],
        "departments": [{"pot_code": p, "department": "DWP", "from": "2026-04-01",
                         "source": "adult skills moved from DfE to DWP (guidance moved 1 April 2026)"}
                        for p in ("SK", "CAP")],
    }
    return write_tables(folder, tables, SETTINGS)


@pytest.fixture(scope="module")
def agreed(case, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("agreed") / "out"
    result = CliRunner().invoke(main, ["agree", str(case), "--out", str(out), "--form", "integrated-settlement"])
    assert result.exit_code == 0, result.output
    assert "Integrated Settlement: spending plan and outcomes framework, DRAFT, 2025-26 to 2026-27" in result.output
    assert "162 outcomes (settlement level)" in result.output
    return out


def rows_of(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]


def test_the_settlement_agreement_proposes_the_settlement_level(agreed):
    wb = openpyxl.load_workbook(agreed / "agreement.xlsx")
    assert wb.sheetnames[:8] == ["Cover", "Summary", "Pooled budget", "Settlement", "Allocations",
                                 "Outcomes and targets", "Outcomes framework", "Flexibilities requested"]
    cover = {r[0]: r[1] for r in rows_of(wb["Cover"]) if r[0]}
    assert cover["Form"].startswith("integrated-settlement — ")
    assert wb["Cover"]["A1"].value == "Integrated Settlement: spending plan and outcomes framework"
    rows = allocation_rows(wb["Allocations"])
    # SK: £50,000 a year on L, and its moves to J, £10,000 + £15,000; EM: £100,000 a year on J.
    by = {}
    for r in rows:
        by[(r["pot_code"], r["programme"])] = by.get((r["pot_code"], r["programme"]), 0.0) + r["amount"]
    assert by == {("SK", "SK"): 100_000.0, ("SK", "EM"): 25_000.0, ("EM", "EM"): 200_000.0}
    governance = " ".join(str(r[0]) for r in rows_of(wb["Governance"]))
    assert "At most 10% of a theme's money in a year may be spent on another theme" in governance


def test_the_settlement_sheet_is_the_published_table_year_by_year(agreed):
    """Home department as it stood: SK and CAP are DfE's in 2025-26, DWP's in 2026-27. RDEL and CDEL:
    2025-26 Adult skills £100,000 RDEL; 2026-27 Adult skills £100,000 RDEL + £50,000 CDEL."""
    ws = openpyxl.load_workbook(agreed / "agreement.xlsx", data_only=True)["Settlement"]
    rows = rows_of(ws)
    heads = ["Functional responsibility", "Fund", "Home department", "Allocation mechanism", "RDEL (£)",
             "CDEL (£)", "Ring-fenced"]
    assert heads in rows
    funds = [(r[0], r[1], r[2], r[4], r[5]) for r in rows if r[1] and str(r[1]).endswith(")") and r[4] is not None]
    assert funds == [
        ("Adult skills", "Adult Skills Fund (SK)", "DfE", 100_000, 0),
        ("Employment support", "Connect to Work (EM)", "DWP", 100_000, 0),
        ("Adult skills", "Adult Skills Fund (SK)", "DWP", 100_000, 0),
        ("Adult skills", "Adult skills capital (CAP)", "DWP", 0, 50_000),
        ("Employment support", "Connect to Work (EM)", "DWP", 100_000, 0),
    ]
    totals = {r[0]: (r[4], r[5]) for r in rows if str(r[0]).startswith("Total ")}
    assert totals == {f"Total {Y1}": (200_000, 0), f"Total {Y2}": (200_000, 50_000)}
    limits = [r for r in rows if r[0] in ("Adult skills", "Employment support") and r[1] in (Y1, Y2)]
    # The theme's money not ring-fenced (both budget types), the 10% limit, the money moved (live), within.
    assert [tuple(r[:6]) for r in limits] == [
        ("Adult skills", Y1, 100_000, 10_000, 10_000, True), ("Adult skills", Y2, 150_000, 15_000, 15_000, True),
        ("Employment support", Y1, 100_000, 10_000, 0, True), ("Employment support", Y2, 100_000, 10_000, 0, True)]


def test_the_outcomes_framework_sets_targets_against_today(agreed):
    """Adult skills pays for 50 L a year (25 Level 2s) and 10, then 15, J (5, then 7.5 job entries); today
    it pays for the 20 L of its Wakefield provision in 2025-26 only. Employment support: 100 J a year;
    today 50 J (£50,000 in Leeds, 2025-26)."""
    ws = openpyxl.load_workbook(agreed / "agreement.xlsx", data_only=True)["Outcomes framework"]
    rows = {(r[0], r[2], r[3]): r[4:] for r in rows_of(ws) if r[3] in ("J", "L")}
    # columns: 2025-26 today, target, 2026-27 today, target, term today, term target, change
    assert rows[("Adult skills", "Participants starting", "L")] == [20, 50, 0, 50, 20, 100, 80]
    assert rows[("Adult skills", "Achieving the outcome", "J")] == [0, 5, 0, 7.5, 0, 12.5, 12.5]
    assert rows[("Employment support", "Participants starting", "J")] == [50, 100, 0, 100, 50, 200, 150]


def moved_more(agreed: Path, tmp_path: Path) -> Path:
    """The agreement with £5,000 more of SK's 2025-26 money moved to J through EM's programme."""
    wb = openpyxl.load_workbook(agreed / "agreement.xlsx")
    row = next(r for r in allocation_rows(wb["Allocations"]) if (r["pot_code"], r["programme"], r["year"]) ==
               ("SK", "EM", Y1))
    wb["Allocations"][row["_amount_cell"]] = row["amount"] + 5_000
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    return edited


def test_check_holds_the_plan_to_the_settlement_s_rules(case, agreed, tmp_path):
    result = CliRunner().invoke(main, ["check", str(agreed / "agreement.xlsx"), "--case", str(case)])
    assert result.exit_code == 0, result.output
    # Moving £5,000 more of Adult skills' 2025-26 money to J in Leeds takes the theme to £15,000 against
    # its £10,000 limit: a breach, by £5,000.
    edited = moved_more(agreed, tmp_path)
    result = CliRunner().invoke(main, ["check", str(edited), "--case", str(case)])
    assert result.exit_code == 1, result.output
    assert ("at most 10% of the Adult skills theme's 2025-26 money moves to another theme: the sheet moves "
            "£15,000.00 against £10,000.00 (over by £5,000.00)") in result.output


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_settlement_plan_with_every_check_true(agreed, tmp_path):
    """Recalculated from scratch in LibreOffice: every Checks row and the overall cell TRUE, the
    cross-theme rows at their hand-worked values (Adult skills moves £10,000 of its £10,000 limit in
    2025-26 and £15,000 of £15,000 in 2026-27), the Settlement sheet's limits TRUE. Then, with
    £5,000 more moved in 2025-26 (openpyxl drops every cached value), that theme's check, its
    Settlement row and the overall cell read FALSE."""
    need(SOFFICE, "LibreOffice (soffice)")
    edited = moved_more(agreed, tmp_path)
    # A row re-coded (not re-priced) into a move: SK's own L row in 2026-27 now buys J through EM's
    # programme — its £25,000 on top of the £15,000 moved takes Adult skills past its £15,000.
    wb = openpyxl.load_workbook(agreed / "agreement.xlsx")
    own = next(r for r in allocation_rows(wb["Allocations"]) if (r["pot_code"], r["programme"], r["year"]) ==
               ("SK", "SK", Y2))
    ws = wb["Allocations"]
    _, at = header(ws, "cohort_code", "programme")
    ws.cell(own["_row"], at["cohort_code"]).value = "J"
    ws.cell(own["_row"], at["programme"]).value = "EM"
    recoded = tmp_path / "recoded.xlsx"
    wb.save(recoded)
    out = recalculate([agreed / "agreement.xlsx", edited, recoded], tmp_path)
    book = openpyxl.load_workbook(out["recoded.xlsx"], data_only=True)
    theme = {(r[2], r[6]): r[9] for r in rows_of(book["Checks"]) if isinstance(r[0], int) and r[1] == "cross-theme limit"}
    assert theme[("at most 10% of the Adult skills theme's 2026-27 money moves to another theme", Y2)] is False
    for name, holds in (("agreement.xlsx", True), ("edited.xlsx", False)):
        book = openpyxl.load_workbook(out[name], data_only=True)
        checks = [r for r in rows_of(book["Checks"]) if isinstance(r[0], int)]
        assert len(checks) > 10
        theme = {(r[2], r[6]): (r[7], r[8], r[9]) for r in checks if r[1] == "cross-theme limit"}
        first = theme[("at most 10% of the Adult skills theme's 2025-26 money moves to another theme", Y1)]
        assert first == ((10_000 if holds else 15_000), 10_000, holds)
        assert theme[("at most 10% of the Adult skills theme's 2026-27 money moves to another theme", Y2)] == \
            (15_000, 15_000, True)
        assert all(r[9] is True for r in checks if r[1] != "cross-theme limit") and defined(book, "all_checks_hold") is holds
        limits = [r for r in rows_of(book["Settlement"]) if r[0] == "Adult skills" and r[1] == Y1]
        assert limits[0][4:6] == [(10_000 if holds else 15_000), holds]


def defined(book, name):
    from agreementcase import defined_cell

    return defined_cell(book, name).value


def test_the_lesa_form_speaks_the_lga_s_words(case, tmp_path):
    out = tmp_path / "lesa"
    result = CliRunner().invoke(main, ["agree", str(case), "--out", str(out), "--form", "lesa"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out / "agreement.xlsx")
    assert wb["Cover"]["A1"].value == "Local Employment and Skills Agreement"
    assert "Settlement" not in wb.sheetnames and "Outcomes framework" not in wb.sheetnames
    governance = " ".join(str(r[0]) for r in rows_of(wb["Governance"]))
    assert "Youth Pathways" in governance and "Working Futures" in governance and "Skills for All" in governance


def test_a_settlement_form_needs_settlement_pots(tmp_path):
    from casefactory import write_tiny_case

    result = CliRunner().invoke(main, ["agree", str(write_tiny_case(tmp_path / "tiny")), "--out",
                                       str(tmp_path / "out"), "--form", "integrated-settlement"])
    assert result.exit_code == 2, result.output
    assert "no pot of the case is in a settlement" in result.output
    assert not (tmp_path / "out").exists()


# ---- 360Giving -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(case, agreed) -> dict:
    result = CliRunner().invoke(main, ["export", str(agreed), "--case", str(case), "--format", "360giving"])
    assert result.exit_code == 0, result.output
    return json.loads((agreed / "360giving.json").read_text())


def test_the_export_is_a_valid_package_whose_grants_add_up(exported, agreed):
    assert validate(exported) == []
    with open(agreed / "allocations.csv") as fh:
        level = [r for r in csv.DictReader(fh) if r["level"] == "settlement"]
    total = sum(float(r["amount"]) for r in level)
    assert sum(g["amountAwarded"] for g in exported["grants"]) == pytest.approx(total, abs=0.01 * len(level))
    assert {g["currency"] for g in exported["grants"]} == {"GBP"}


def test_named_providers_share_their_cell_as_today(exported, agreed):
    """EM's Leeds money in 2025-26 is Prime A's and Prime B's, who provide there today (£30,000 and
    £20,000: 3 : 2 of the plan's money in the cell); the rest of EM's Leeds money (2026-27) is the lead
    body's, to commission."""
    with open(agreed / "allocations.csv") as fh:
        em = [r for r in csv.DictReader(fh) if (r["level"], r["pot_code"], r["area_code"]) ==
              ("settlement", "EM", "E08000035")]
    cell = sum(float(r["amount"]) for r in em if r["year"] == Y1 and r["cohort_code"] == "J")
    rest = sum(float(r["amount"]) for r in em) - cell
    assert cell > 0 and rest > 0
    grants = {g["recipientOrganization"][0]["name"]: g for g in exported["grants"]
              if g["grantProgramme"][0]["code"] == "EM" and g["beneficiaryLocation"][0]["geoCode"] == "E08000035"}
    assert set(grants) == {"Prime A", "Prime B", "West Yorkshire Combined Authority"}
    assert grants["Prime A"]["amountAwarded"] == pytest.approx(0.6 * cell, abs=0.01)
    assert grants["Prime B"]["amountAwarded"] == pytest.approx(0.4 * cell, abs=0.01)
    assert grants["West Yorkshire Combined Authority"]["amountAwarded"] == pytest.approx(rest, abs=0.01)
    assert grants["Prime A"]["plannedDates"] == [{"startDate": "2025-04-01", "endDate": "2026-03-31", "duration": 12}]


def test_a_combined_authority_has_no_geo_code_type(exported):
    locations = exported["grants"][0]["beneficiaryLocation"]
    assert locations[0]["geoCodeType"] == "MD"  # E08: a metropolitan district
    assert locations[1]["geoCode"] == "E47000003" and locations[1]["geoCodeType"] is None
    assert "no type for it" in locations[1]["description"]


def test_a_pot_that_changed_hands_says_so(exported):
    sk = next(g for g in exported["grants"] if g["grantProgramme"][0]["code"] == "SK")
    assert sk["fundingOrganization"][0]["name"] == "Department for Education"
    assert sk["fundingOrganization"][0]["department"] == "owned by DfE, then by DWP (departments.csv)"


def test_the_flattened_csv_has_a_row_per_grant(exported, agreed):
    with open(agreed / "360giving.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["Identifier"] for r in rows] == [g["id"] for g in exported["grants"]]
    assert rows[0]["Beneficiary Location:1:Geographic Code"] == "E47000003"


OFFICIAL = Path(os.environ.get("COMMISSIONING_360GIVING_SCHEMA", ROOT.parent / "shared" / "data" / "360giving"))


@pytest.mark.skipif(not (OFFICIAL / "360-giving-package-schema.json").exists(),
                    reason="the official 360Giving schema is not beside this checkout")
def test_the_export_is_valid_against_the_official_schema(exported):
    """The official schema files are not part of the project (CC BY 4.0, kept beside it): validate
    against them where they are (COMMISSIONING_360GIVING_SCHEMA names their folder)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    grant = json.loads((OFFICIAL / "360-giving-schema.json").read_text())
    package = json.loads((OFFICIAL / "360-giving-package-schema.json").read_text())
    resources = [(grant["$id"], DRAFT202012.create_resource(grant)),
                 (grant["$id"].replace("1.4.3", "1.4.2"), DRAFT202012.create_resource(grant)),
                 (package["$id"], DRAFT202012.create_resource(package))]
    validator = Draft202012Validator(package, registry=Registry().with_resources(resources),
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(exported)] == []


def test_an_export_never_replaces_without_force(case, agreed, exported):
    result = CliRunner().invoke(main, ["export", str(agreed), "--case", str(case)])
    assert result.exit_code == 2 and "add --force" in result.output


# ---- the Get Working annex ---------------------------------------------------------------------------
def test_the_annex_states_today_the_plan_and_the_intentions(case, tmp_path):
    out = tmp_path / "map"
    result = CliRunner().invoke(main, ["map", str(case), "--out", str(out), "--get-working"])
    assert result.exit_code == 0, result.output
    text = (out / "get-working-annex.md").read_text()
    for heading in ("## 1. Provision aligned against need", "## 2. Duplication and gaps",
                    "## 3. Commissioning intentions", "## 4. Outcome indicators"):
        assert heading in text
    assert "the settlement level" in text
    # Need 2 years × (200 J + 50 L) = 500 people; today 70 (50 J, 20 L); the plan 325.
    assert "500 people are in need of support; today's provision serves 70 (14%), and the plan 325 (65%)" in text
    # EM: £50,000 today, £200,000 in the plan: grow; CAP: nothing either way.
    assert "| Connect to Work (EM) | DWP | £50,000 | £200,000 | +£150,000 | grow |" in text
    assert "| Adult skills capital (CAP) | DWP | £0 | £0 | £0 | – |" in text  # DWP's from 1 April 2026


@pytest.mark.parametrize("today, plan, word", [(0, 0, "none"), (0, 1, "start"), (100, 0, "stop"),
                                               (100, 105, "hold"), (100, 95, "hold"), (100, 106, "grow"),
                                               (100, 94, "reduce")])
def test_intentions_in_one_word(today, plan, word):
    assert intention(today, plan) == word


def test_a_prefix_that_is_not_360giving_s_is_refused(case, agreed):
    result = CliRunner().invoke(main, ["export", str(agreed), "--case", str(case), "--prefix", "WYCA", "--force"])
    assert result.exit_code == 2 and "360G-" in result.output


def test_the_settlement_budget_reconciles_with_the_settlement_sheet(tmp_path):
    """The example's settlement: its flexible funds £238,500,000 (the plan's budget) and the
    ring-fenced Skills Bootcamps £25,500,000 (three years of £8.5m) are the Settlement sheet's
    £264,000,000 (£84m RDEL + £4m CDEL a year for three years), and both are said."""
    example = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["agree", str(example), "--out", str(out), "--form", "integrated-settlement"])
    assert result.exit_code == 0, result.output
    assert "settlement budget £238,500,000 (the flexible funds; £25,500,000 ring-fenced outside it)" in result.output
    wb = openpyxl.load_workbook(out / "agreement.xlsx", data_only=True)
    summary = {r[0]: r[1] for r in rows_of(wb["Summary"]) if r[0]}
    flexible = summary["Flexible settlement funds (£)"]
    fenced = summary["   ring-fenced, outside it (£)"]
    totals = [r for r in rows_of(wb["Settlement"]) if str(r[0]).startswith("Total ")]
    assert len(totals) == 3 and sum(r[4] + r[5] for r in totals) == 264_000_000
    assert (flexible, fenced) == (238_500_000, 25_500_000) and flexible + fenced == 264_000_000
