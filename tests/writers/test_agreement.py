"""``commissioning agree``: the Local Labour Market Agreement workbook.

Judged on the tiny agreement case (tests/agreementcase.py), whose figures are small enough
to check by hand: the workbook's totals must reconcile with allocations.csv to the penny,
every total must be a live formula, the checks must cover every pot budget (per year, or
per window of years where money carries forward), need cell and rule, and text taken from
inputs must stay text.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from openpyxl.utils import get_column_letter

from agreementcase import allocation_rows, cli, defined_cell, header, write_agreement_case
from casefactory import changed
from commissioning.analysis import limits as L
from commissioning.analysis.agreement_layout import ALLOC_PRINTED
from commissioning.writers.agreementbook import AC
from optimiser.families.budget import budget_limits
from commissioning.writers.agreementbook import SHEETS
from commissioning.inputs.validate import load_case

EVIL = '=HYPERLINK("http://x","y")'
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


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


def text(value):
    """A cell's formula as text (an array-entered formula, as every EXACT over a range is, has it apart)."""
    return getattr(value, "text", value)


def pooled_csv(folder) -> pd.DataFrame:
    a = pd.read_csv(folder / "allocations.csv")
    return a[a["level"] == "pooled"]


def test_writes_the_agreement_with_the_runs_machine_readable_files(agreed, wb):
    case, out = agreed
    assert {"agreement.xlsx", "allocations.csv", "summary.json"} <= {p.name for p in out.iterdir()}
    assert wb.sheetnames == SHEETS + ["Run record"]  # the run record last
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
    col = {c: get_column_letter(AC[c] + 1) for c in AC}
    for r in rows:
        n = r["_row"]
        assert isinstance(r["amount"], float | int) and r["proposed (£)"] == r["amount"]
        assert r["participants"] == f"={col['amount']}{n}/{col['unit_cost']}{n}"
        assert r["outcomes"] == f"={col['participants']}{n}*{col['outcome_rate']}{n}"
        assert r["value"] == f"={col['outcomes']}{n}*{col['value_per_outcome']}{n}"
    assert wb["Allocations"][rows[0]["_amount_cell"]].number_format.startswith("£#,##0")


def test_area_cohort_year_subtotals_sit_above_their_pot_detail(wb):
    ws = wb["Allocations"]
    head, cols = header(ws, "ref", "pot_code", "amount")
    subtotals = [r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, cols["ref"]).value == "Subtotal"]
    assert subtotals
    for r in subtotals:
        f = ws.cell(r, cols["amount"]).value
        k = get_column_letter(cols["amount"])
        assert f.startswith(f"=SUBTOTAL(9,{k}{r + 1}:")
        assert ws.cell(r, cols["year"]).value is None  # a check scoped by year alone never counts a subtotal
        assert ws.cell(r + 1, cols["pot_code"]).value  # the pot detail beneath
        assert ws.row_dimensions[r + 1].outlineLevel == 1


def test_every_total_on_every_sheet_is_a_live_formula(wb):
    pb = wb["Pooled budget"]
    head, cols = header(pb, "pot_code", "total (£)")
    for r in range(head + 1, head + 4):
        assert pb.cell(r, cols["total (£)"]).value.startswith("=SUM(")
    # Planned spend reads the Allocations sheet.
    spend = [text(c.value) for row in pb.iter_rows() for c in row
             if isinstance(text(c.value), str) and "alloc_amount" in text(c.value)]
    assert len(spend) == 3 * 2  # three pots × two years
    out = wb["Outcomes and targets"]
    grid = [text(c.value) for row in out.iter_rows() for c in row
            if isinstance(text(c.value), str) and text(c.value).startswith("=")]
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
    f1 = next(text(ws.cell(r, cols["value"]).value) for r in rows if ws.cell(r, cols["area"]).value == "F1")
    assert f1.count("EXACT(alloc_area,'Assumptions and evidence'!$A$") == 2


def test_finance_ready_layout(wb):
    for name in ("Summary", "Pooled budget", "Allocations", "Outcomes and targets", "Checks",
                 "Assumptions and evidence", "Duplication and gaps", "Flexibilities requested"):
        assert wb[name].freeze_panes, name
    for ws in wb.worksheets:
        name = ws.title
        assert ws.page_setup.paperSize == 9, name  # A4
        # Fit to one page WIDE (1 is the default width, so it is left out of the file), any height.
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, name
        assert "Page &P of &N" in ws.oddFooter.right.text, name
        assert ws.oddFooter.left.text, name  # the document's name
    orientation = {ws.title: ws.page_setup.orientation for ws in wb.worksheets}
    assert orientation["Cover"] == orientation["Governance"] == "portrait"
    assert orientation["Allocations"] == orientation["Pooled budget"] == "landscape"
    # Header rows repeat on every page of the long tables; the lookups and columns no one reads
    # on paper are left out of the print area.
    assert wb["Allocations"].print_title_rows == "$6:$6"
    last = get_column_letter(AC[ALLOC_PRINTED] + 1)
    assert wb["Allocations"].print_area.endswith(f"$A$1:${last}${wb['Allocations'].print_area.split('$')[-1]}")
    assert wb["Eligibility"].print_area.endswith("$A$1:$F$3")
    tables = {t for ws in wb.worksheets for t in ws.tables}
    assert {"PooledBudget", "PlannedSpend", "Checks", "Flags", "Asks", "NeedEvidence", "UnitCosts",
            "Eligibility"} <= tables
    names = set(wb.defined_names)
    assert {"total_allocated", "all_checks_hold", "alloc_amount", "alloc_pot", "budget_grid", "spend_grid",
            "need_people", "pooled_budget_total", "target_outcomes", "proposed_total"} <= names
    assert wb["Allocations"].auto_filter.ref
    pb = wb["Pooled budget"]
    head, cols = header(pb, "pot_code", "2025-26", "2026-27")  # financial-year columns
    assert pb.cell(head + 1, cols["2025-26"]).number_format.startswith("£#,##0")


def test_every_sheet_prints_legibly_on_a4(tmp_path):
    # The tiny case and the example: each sheet's printed columns fit one page's width at 70% or
    # more, even in LibreOffice without Calibri's metric twin (columns a third wider than Excel's).
    from commissioning.writers.style import MIN_PRINT_SCALE, print_scale

    for book in (tiny_book(tmp_path), example_book(tmp_path)):
        wb = openpyxl.load_workbook(book)
        for ws in wb.worksheets:
            area = ws.print_area
            last_col = (openpyxl.utils.cell.range_boundaries(area.split("!")[-1].replace("$", ""))[2]
                        if area else ws.max_column)
            width = {}
            for dim in ws.column_dimensions.values():  # a dimension may span several columns
                for c in range(dim.min, dim.max + 1):
                    width[c] = round(dim.width - 0.71) if dim.width else 8.43  # xlsxwriter stores width + 0.71
            widths = [width.get(c, 8.43) for c in range(1, last_col + 1)]
            scale = print_scale(widths, ws.page_setup.orientation == "landscape")
            assert scale >= MIN_PRINT_SCALE or ws.title == "Run record", (book.name, ws.title, round(scale, 2))


def test_headers_are_in_words_and_wrap(wb):
    ws = wb["Allocations"]
    head, cols = header(ws, "pot_code", "amount", "unit_cost")
    assert ws.cell(head, cols["pot_code"]).value == "Pot code"
    assert ws.cell(head, cols["unit_cost"]).value == "Unit cost (£)"
    assert ws.cell(head, cols["pot_code"]).alignment.wrap_text
    pb = wb["Pooled budget"]
    head, cols = header(pb, "pot_code", "carry_forward")
    assert pb.cell(head, cols["carry_forward"]).value == "Carry forward (years)"
    # The Checks sheet's keys are plain words already (no, family, check … holds, headroom): its headers.
    head, cols = header(wb["Checks"], "family", "check", "holds")
    assert all("_" not in str(wb["Checks"].cell(head, c).value) for c in cols.values())


def test_no_boolean_with_a_conditional_format_has_text_to_its_right(tmp_path):
    # LibreOffice 7.4 aborts (SIGABRT) exporting to PDF a sheet where a conditionally formatted cell
    # holding TRUE/FALSE has a text cell immediately to its right: the cause of issue 15's crash
    # (the Allocations sheet's 'eligible' column beside 'issued as'). Every such cell is checked.
    for book in (tiny_book(tmp_path), example_book(tmp_path)):
        values = openpyxl.load_workbook(book, data_only=True)
        for ws in values.worksheets:
            for rng in ws.conditional_formatting:
                for bounds in rng.sqref.ranges:
                    for row in ws.iter_rows(min_row=bounds.min_row, max_row=min(bounds.max_row, ws.max_row),
                                            min_col=bounds.min_col, max_col=bounds.max_col):
                        for c in row:
                            if isinstance(c.value, bool):
                                right = ws.cell(c.row, c.column + 1).value
                                assert not isinstance(right, str), (ws.title, c.coordinate, right)


def test_summary_colours_by_meaning_and_never_prints_a_signed_zero(wb):
    ws = wb["Summary"]
    head, cols = header(ws, "Measure", "alignment dividend (aligned − baseline)")
    rows = {ws.cell(r, 1).value: r for r in range(head + 1, head + 7)}
    rules = {}
    for rng in ws.conditional_formatting:
        for rule in rng.rules:
            rules.setdefault(str(rng.sqref), []).append((rule.formula[0], rule.dxf.fill.bgColor.rgb
                                                         if rule.dxf and rule.dxf.fill else None))
    green, red = "FFC6EFCE", "FFFFC7CE"

    def colour(label, sign):
        r = rows[label]
        got = rules.get(f"F{r}:G{r}", [])
        return next((fill for f, fill in got if (">=0.5" if sign > 0 else "<=-0.5") in f), None)

    # A fall in unmet need or idle money is better: green; a rise in outcomes is better: green.
    assert colour("Unmet need (people)", -1) == green and colour("Unmet need (people)", +1) == red
    assert colour("Idle money (£)", -1) == green and colour("Idle money (£)", +1) == red
    assert colour("Outcomes", +1) == green and colour("Outcomes", -1) == red
    assert colour("Allocated (£)", +1) is None  # neither better nor worse
    # Every number on the Summary: no red negatives, zero as "–", under half a unit as "–".
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, (int, float)) or (isinstance(c.value, str) and c.value.startswith("=")):
                assert "[Red]" not in c.number_format, c.coordinate
    assert any("ABS(" in f and "<0.5" in f for fs in rules.values() for f, _ in fs)
    legend = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "Green is better" in c.value]
    assert legend


def test_one_cell_per_figure_and_whole_people_on_board_facing_sheets(wb, values):
    cover = wb["Cover"]
    facts = {cover.cell(r, 1).value: cover.cell(r, 2) for r in range(1, 60) if cover.cell(r, 1).value}
    total = facts["Proposed total (£)"]
    assert isinstance(total.value, float)  # stored to the penny: `check` reads it
    assert total.number_format.startswith("£#,##0;") and ".00" not in total.number_format  # shown in pounds
    assert defined_cell(wb, "proposed_total").coordinate == total.coordinate
    summary = wb["Summary"]
    shown = [c for row in summary.iter_rows() for c in row if c.value == "=proposed_total"]
    assert shown and shown[0].number_format == total.number_format  # the Summary shows the Cover's cell
    for name in ("Summary", "Outcomes and targets"):
        for row in wb[name].iter_rows():
            for c in row:
                if isinstance(c.value, str) and any(k in c.value for k in ("participants", "outcomes")) \
                        and c.value.startswith("="):
                    assert ".0" not in c.number_format, (name, c.coordinate, c.number_format)
    # The stored values stay exact.
    assert defined_cell(values, "total_participants").value == pytest.approx(
        sum(r["participants"] for r in allocation_rows(values["Allocations"])))


def tiny_book(tmp_path):
    path = tmp_path / "tiny" / "agreement.xlsx"
    if not path.exists():
        case = write_agreement_case(tmp_path / "tiny-case")
        assert cli("agree", case, "--out", tmp_path / "tiny").exit_code == 0
    return path


def example_book(tmp_path):
    path = tmp_path / "example" / "agreement.xlsx"
    if not path.exists():
        res = cli("agree", EXAMPLE, "--out", tmp_path / "example")
        assert res.exit_code == 0, res.output
    return path


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
    # The asks and the package, reused from the run's asks.csv and summary.json.
    assert set(wb["Flexibilities requested"].tables) == {"Asks", "Package"}


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
