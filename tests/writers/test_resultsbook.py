"""results.xlsx: the three levels side by side, area × cohort pivots with live totals, the
allocations as a filterable table, and the explanation's sheets when there is one.

Every figure is judged against the run it was written from (the engine's numbers), and
every total must be a formula whose cached value is that figure.
"""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from agreementcase import cli, header, write_agreement_case
from commissioning.writers.resultsbook import write_results_workbook
from commissioning.writers.results import write_run_outputs
from commissioning.inputs.validate import load_case
from commissioning.analysis.explain import explain_run
from optimiser.levels import optimise_case


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    case = load_case(write_agreement_case(tmp_path_factory.mktemp("case")))
    return optimise_case(case)


@pytest.fixture(scope="module")
def book(run, tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "results.xlsx"
    write_results_workbook(run, path)
    return path


def test_sheets_without_an_explanation(book):
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Summary", "Aligned by area", "Pooled by area", "Allocations", "Run record"]


def test_summary_puts_the_three_levels_side_by_side_with_dividends_as_formulas(run, book):
    ws = openpyxl.load_workbook(book)["Summary"]
    head, cols = header(ws, "Measure")
    labels = {ws.cell(r, 1).value: r for r in range(head + 1, head + 7)}
    assert list(labels) == ["Allocated (£)", "Participants", "Outcomes", "Public value (£)",
                            "Unmet need (people)", "Idle money (£)"]
    r = labels["Outcomes"]
    for j, level in enumerate(("baseline", "aligned", "pooled")):
        assert ws.cell(r, 2 + j).value == pytest.approx(run.levels[level].totals["outcomes"])
    assert ws.cell(r, 5).value == f"=C{r}-B{r}"  # alignment dividend, live
    assert ws.cell(r, 6).value == f"=D{r}-C{r}"  # devolution dividend, live
    values = openpyxl.load_workbook(book, data_only=True)["Summary"]
    assert values.cell(r, 6).value == pytest.approx(run.dividends()["devolution"]["outcomes"])
    assert ws.freeze_panes is not None
    with zipfile.ZipFile(book) as z:  # the column chart of outcomes by level
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


@pytest.mark.parametrize("level,sheet", [("aligned", "Aligned by area"), ("pooled", "Pooled by area")])
def test_area_pivots_total_with_live_sums(run, book, level, sheet):
    wb = openpyxl.load_workbook(book)
    ws, values = wb[sheet], openpyxl.load_workbook(book, data_only=True)[sheet]
    head, cols = header(ws, "Area code", "Total (£)")
    total_col = cols["Total (£)"]
    total_row = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, 1).value == "Total")
    grand = ws.cell(total_row, total_col)
    assert grand.value.startswith("=SUM(")
    alloc = run.levels[level].allocations
    assert values.cell(total_row, total_col).value == pytest.approx(alloc["amount"].sum(), abs=0.005)
    # Each area's total is a formula over its row and matches the engine's figure.
    for r in range(head + 1, total_row):
        area = ws.cell(r, 1).value
        assert ws.cell(r, total_col).value.startswith("=SUM(")
        assert values.cell(r, total_col).value == pytest.approx(
            alloc.loc[alloc["area_code"] == area, "amount"].sum(), abs=0.005)
    assert ws.cell(head + 1, 3).number_format.startswith("£#,##0")


def test_allocations_sheet_is_a_filterable_table_of_allocations_csv(run, book):
    ws = openpyxl.load_workbook(book)["Allocations"]
    assert "Allocations" in ws.tables
    table = ws.tables["Allocations"]
    assert table.autoFilter is not None
    head, cols = header(ws, "Level", "Amount (£)", "Pot code")  # headers in words; allocations.csv keeps its names
    frame = run.allocations_frame()
    assert ws.max_row - head == len(frame)
    total = sum(ws.cell(r, cols["Amount (£)"]).value for r in range(head + 1, ws.max_row + 1)
                if ws.cell(r, cols["Level"]).value == "pooled")
    assert total == pytest.approx(frame.loc[frame["level"] == "pooled", "amount"].sum(), abs=0.005)
    assert ws.freeze_panes == f"A{head + 1}"


def test_explanation_adds_flags_asks_and_binding_sheets(run, tmp_path):
    explanation = explain_run(run, asks=False)
    path = tmp_path / "results.xlsx"
    write_results_workbook(run, path, explanation=explanation)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-4:] == ["Flags", "Asks", "Binding rules", "Run record"]
    head, cols = header(wb["Flags"], "Stage", "Kind", "Detail")
    assert wb["Flags"].max_row - head == max(len(explanation.flags), 1)


def test_write_run_outputs_passes_the_explanation_through(run, tmp_path):
    write_run_outputs(run, tmp_path, explanation=explain_run(run, asks=False))
    assert "Binding rules" in openpyxl.load_workbook(tmp_path / "results.xlsx").sheetnames


def test_optimise_writes_results_xlsx_with_text_kept_as_text(tmp_path):
    # A cohort name (a pivot's column header) that a spreadsheet would run as a formula
    # stays those characters.
    from casefactory import changed

    evil = '=HYPERLINK("http://x","y")'
    case = write_agreement_case(tmp_path / "case", cohorts=changed("cohorts", 0, optional=True, cohort_name=evil))
    res = cli("optimise", case, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value == evil:
                    seen.add(ws.title)
                    assert c.data_type == "s", (ws.title, c.coordinate)
                elif isinstance(c.value, str) and c.data_type == "f":
                    assert "HYPERLINK" not in c.value.upper(), (ws.title, c.coordinate)
    assert {"Aligned by area", "Pooled by area"} <= seen
