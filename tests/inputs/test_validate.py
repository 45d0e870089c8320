"""`commissioning validate`: one broken input per validation error, each naming its place.

Every case here is the tiny case of :mod:`casefactory` with one thing broken. A message
must name the file (or sheet), the row as the spreadsheet shows it (header = row 1) and
the column, and the command must exit 2 (errors) or 0 (warnings only).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from casefactory import TINY_MONEY, TINY_NEED, changed, tiny_rows, write_tiny_case
from commissioning.writers.casewriter import write_case
from commissioning.cli import main
from commissioning.inputs.validate import load_case, validate_path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_error(case: Path, *fragments: str, count: int = 1):
    """Validate ``case``: exit code 2, ``count`` problems, and every fragment in the output.

    Counting proves that one broken cell gives one message, not a cascade.
    """
    result = run("validate", case)
    assert result.exit_code == 2, result.output
    problems = "1 problem found" if count == 1 else f"{count} problems found"
    assert f"error: {problems}:" in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    assert "Traceback" not in result.output
    return result


def assert_warning(case: Path, *fragments: str):
    """Validate ``case``: exit code 0, the case valid, every fragment in a warning."""
    result = run("validate", case)
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    assert "Valid, with" in result.stdout
    return result


# ---- the tiny case itself ------------------------------------------------------------------
def test_tiny_case_is_valid_without_warnings(tmp_path):
    v = validate_path(write_tiny_case(tmp_path / "tiny", optional=True))
    assert v.ok and v.errors == [] and v.warnings == []
    assert len(v.case.areas) == 2 and len(v.case.pots) == 3 and len(v.case.rules) == 2


def test_summary_of_a_valid_case(tmp_path):
    # Money: 2025-26 = SKILLS 100,000 + WORK 50,000 + LOCAL 12,345.25 = 162,345.25 → £162,345
    #        2026-27 = SKILLS 120,000 + WORK 50,000                 = 170,000
    #        total   = 332,345.25 → £332,345
    # Need:  2025-26 = 40 + 30 + 20 + 60 = 150;  2026-27 = 45 + 25 + 25 + 65 = 160;  total 310
    assert sum(TINY_MONEY.values()) == 332345.25 and sum(TINY_NEED.values()) == 310
    result = run("validate", write_tiny_case(tmp_path / "tiny"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Case 'Tiny case': 2 areas, 2 cohorts, 3 pots, years 2025-26 to 2026-27"
    assert lines[2].split() == ["2025-26", "£162,345", "150"]
    assert lines[3].split() == ["2026-27", "£170,000", "160"]
    assert lines[4].split() == ["total", "£332,345", "310"]
    assert "provision: not supplied" in lines[5]
    assert lines[-1] == "Valid."
    assert result.stderr == ""


# ---- errors: structure -----------------------------------------------------------------------
def test_missing_table(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", need=None),
                 "need.csv: the required table 'need' is missing")


def test_required_table_with_no_rows(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", budgets=[]),
                 "budgets.csv: the required table 'budgets' has no rows")


def test_missing_column(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", drop_columns={"pots": ["basis"]}),
                 "pots.csv, row 1, column 'basis': the column 'basis' is missing")


def test_duplicate_key(tmp_path):
    areas = tiny_rows()["areas"] + [{"area_code": "A1", "area_name": "Northtown again", "population": 5}]
    assert_error(write_tiny_case(tmp_path / "c", areas=areas),
                 "areas.csv, row 4, column 'area_code': duplicate of row 2")


def test_duplicate_composite_key(tmp_path):
    budgets = tiny_rows()["budgets"] + [{"pot_code": "SKILLS", "year": "2026-27", "amount": 1}]
    assert_error(write_tiny_case(tmp_path / "c", budgets=budgets),
                 "budgets.csv, row 7, column 'pot_code, year': duplicate of row 3")


# ---- errors: cell values ---------------------------------------------------------------------
def test_text_in_a_money_column(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", budgets=changed("budgets", 1, amount="lots")),
                 "budgets.csv, row 3, column 'amount': 'lots' is not a number")


def test_money_with_pound_sign_and_commas_is_accepted(tmp_path):
    case = load_case(write_tiny_case(tmp_path / "c", budgets=changed("budgets", 1, amount="£120,000")))
    assert case.budget[("SKILLS", "2026-27")] == 120000.0


# "0000-01" was found by the long fuzz run: year 0 is no date at all (validate exited 70).
@pytest.mark.parametrize("year", ["2025/26", "2025-27", "2025", "0000-01", "9999-00"])
def test_malformed_financial_year(tmp_path, year):
    assert_error(write_tiny_case(tmp_path / "c", need=changed("need", 2, year=year)),
                 f"need.csv, row 4, column 'year': '{year}' is not a financial year",
                 "a year written like 2025-26")


@pytest.mark.parametrize("table,index,column,row", [("pots", 0, "start", 2), ("need", 5, "as_of", 7)])
def test_date_that_does_not_exist(tmp_path, table, index, column, row):
    case = write_tiny_case(tmp_path / "c", **{table: changed(table, index, **{column: "2025-02-30"})})
    assert_error(case, f"{table}.csv, row {row}, column '{column}': '2025-02-30' is a date that does not exist")


@pytest.mark.parametrize("day", ["0045-08-03", "9999-12-31"])
def test_date_outside_the_years_a_case_can_cover(tmp_path, day):
    assert_error(write_tiny_case(tmp_path / "c", pots=changed("pots", 1, start=day)),
                 f"pots.csv, row 3, column 'start': {day} is outside the years a case can cover")


def test_date_not_iso(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", pots=changed("pots", 1, end="31/03/2027")),
                 "pots.csv, row 3, column 'end': '31/03/2027' is not an ISO date")


def test_negative_money(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", budgets=changed("budgets", 0, amount=-5)),
                 "budgets.csv, row 2, column 'amount': a negative value -£5 (expected 0 or more)")


@pytest.mark.parametrize("table,index,column,value,row", [
    ("budgets", 0, "amount", "1e308", 2),  # found by the long fuzz run: x * 100 overflowed (exit 70)
    ("pots", 1, "unit_cost", "20000000000000", 3),
])
def test_implausibly_large_money(tmp_path, table, index, column, value, row):
    assert_error(write_tiny_case(tmp_path / "c", **{table: changed(table, index, **{column: value})}),
                 f"{table}.csv, row {row}, column '{column}': {float(value):g} is implausibly large")


def test_negative_people(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", need=changed("need", 0, people=-3)),
                 "need.csv, row 2, column 'people': a negative value -3")


@pytest.mark.parametrize("table,index,column,value,row", [
    ("cohorts", 0, "outcome_rate", 1.5, 2),
    ("pots", 1, "match_rate", -0.1, 3),
    ("rates", 1, "outcome_rate", 2, 3),
])
def test_share_outside_0_1(tmp_path, table, index, column, value, row):
    case = write_tiny_case(tmp_path / "c", optional=True,
                           **{table: changed(table, index, optional=True, **{column: value})})
    assert_error(case, f"{table}.csv, row {row}, column '{column}': {value:g} is outside 0-1")


@pytest.mark.parametrize("value", [0, -10])
def test_unit_cost_not_positive(tmp_path, value):
    assert_error(write_tiny_case(tmp_path / "c", pots=changed("pots", 0, unit_cost=value)),
                 f"pots.csv, row 2, column 'unit_cost': {'-' if value < 0 else ''}£{abs(value):g} (expected an amount "
                 "greater than 0)")


def test_rate_unit_cost_not_positive(tmp_path):
    case = write_tiny_case(tmp_path / "c", optional=True, rates=changed("rates", 0, optional=True, unit_cost=0))
    assert_error(case, "rates.csv, row 2, column 'unit_cost': £0 (expected an amount greater than 0)")


def test_end_before_start(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", pots=changed("pots", 1, end="2025-01-01")),
                 "pots.csv, row 3, column 'end': end 2025-01-01 is before start 2025-04-01")


def test_yes_no_with_another_value(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", pots=changed("pots", 2, can_match="maybe")),
                 "pots.csv, row 4, column 'can_match': 'maybe' (expected yes or no)")


def test_yes_no_is_case_insensitive(tmp_path):
    case = load_case(write_tiny_case(tmp_path / "c", pots=changed("pots", 2, can_match="YES", poolable="No")))
    assert case.pot["LOCAL"].can_match is True and case.pot["LOCAL"].poolable is False


def test_empty_required_cell(tmp_path):
    assert_error(write_tiny_case(tmp_path / "c", areas=changed("areas", 1, area_name=None)),
                 "areas.csv, row 3, column 'area_name': an empty cell")


# ---- errors: references ----------------------------------------------------------------------
UNKNOWN_CODES = [
    # table, row index, changed cells, expected message fragment
    ("pots", 1, {"geography": "A2;A9"}, "pots.csv, row 3, column 'geography': unknown area or footprint code 'A9'"),
    ("pots", 0, {"cohorts": "YOUNG;NOPE"}, "pots.csv, row 2, column 'cohorts': unknown cohort code 'NOPE'"),
    ("budgets", 4, {"pot_code": "NOPE"}, "budgets.csv, row 6, column 'pot_code': unknown pot code 'NOPE'"),
    ("need", 3, {"area_code": "A9"}, "need.csv, row 5, column 'area_code': unknown area code 'A9'"),
    ("need", 3, {"cohort_code": "NOPE"}, "need.csv, row 5, column 'cohort_code': unknown cohort code 'NOPE'"),
    ("rates", 0, {"pot_code": "NOPE"}, "rates.csv, row 2, column 'pot_code': unknown pot code 'NOPE'"),
    ("rates", 1, {"cohort_code": "NOPE"}, "rates.csv, row 3, column 'cohort_code': unknown cohort code 'NOPE'"),
    ("provision", 0, {"pot_code": "NOPE"}, "provision.csv, row 2, column 'pot_code': unknown pot code 'NOPE'"),
    ("provision", 1, {"area_code": "A9"}, "provision.csv, row 3, column 'area_code': unknown area code 'A9'"),
    ("provision", 1, {"area_code": "F1"}, "provision.csv, row 3, column 'area_code': unknown area code 'F1'"),
    ("provision", 0, {"cohort_code": "NOPE"},
     "provision.csv, row 2, column 'cohort_code': unknown cohort code 'NOPE'"),
    ("rules", 0, {"pot_code": "NOPE"}, "rules.csv, row 2, column 'pot_code': unknown pot code 'NOPE'"),
    ("rules", 1, {"area_code": "F9"}, "rules.csv, row 3, column 'area_code': unknown area or footprint code 'F9'"),
    ("rules", 0, {"cohort_code": "NOPE"}, "rules.csv, row 2, column 'cohort_code': unknown cohort code 'NOPE'"),
    ("footprints", 1, {"area_code": "A9"}, "footprints.csv, row 3, column 'area_code': unknown area code 'A9'"),
]


@pytest.mark.parametrize("table,index,cells,message", UNKNOWN_CODES,
                         ids=[f"{t}.{next(iter(c))}={next(iter(c.values()))}" for t, _, c, _ in UNKNOWN_CODES])
def test_unknown_code(tmp_path, table, index, cells, message):
    case = write_tiny_case(tmp_path / "c", optional=True, **{table: changed(table, index, optional=True, **cells)})
    assert_error(case, message)


def test_footprint_code_in_pot_geography_is_known(tmp_path):
    case = load_case(write_tiny_case(tmp_path / "c", optional=True, pots=changed("pots", 2, geography="F1")))
    assert case.pot_areas["LOCAL"] == {"A1", "A2"}


def test_budget_year_outside_the_pots_life(tmp_path):
    # LOCAL's life ends 31 March 2026, so 2026-27 money can never be spent.
    budgets = tiny_rows()["budgets"] + [{"pot_code": "LOCAL", "year": "2026-27", "amount": 1}]
    assert_error(write_tiny_case(tmp_path / "c", budgets=budgets),
                 "budgets.csv, row 7, column 'year': 2026-27 is outside pot LOCAL's life 2025-04-01 to 2026-03-31")


# ---- errors: settings and files -----------------------------------------------------------------
def test_unknown_case_yaml_key(tmp_path):
    case = write_tiny_case(tmp_path / "c", case_yaml="name: Tiny\nobjective: outcomes\ncolour: blue\n")
    assert_error(case, "case.yaml, line 3, key 'colour': unknown key 'colour'")


def test_bad_case_yaml_value(tmp_path):
    case = write_tiny_case(tmp_path / "c", case_yaml="name: Tiny\nequity_floor: 2\n")
    assert_error(case, "case.yaml, line 2, key 'equity_floor': 2 is outside 0-1")


def test_a_text_file_is_not_a_case(tmp_path):
    path = tmp_path / "case.txt"
    path.write_text("areas and pots\n")
    assert_error(path, "case.txt: a '.txt' file is not a case")


def test_a_single_csv_is_not_a_case(tmp_path):
    folder = write_tiny_case(tmp_path / "c")
    assert_error(folder / "pots.csv", "pots.csv: a single CSV file is not a case")


def test_a_csv_that_is_really_a_zip(tmp_path):
    folder = write_tiny_case(tmp_path / "c")
    with zipfile.ZipFile(folder / "need.csv", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert_error(folder, "need.csv: is an Excel workbook (or another zip file) named .csv")


def test_an_xlsx_that_is_really_text(tmp_path):
    path = tmp_path / "case.xlsx"
    path.write_text("area_code,area_name\nA1,Northtown\n")
    assert_error(path, "case.xlsx: is a CSV or text file named .xlsx")


def test_an_xlsm_is_refused(tmp_path):
    path = tmp_path / "case.xlsm"
    write_case(load_case(write_tiny_case(tmp_path / "c")), tmp_path / "case.xlsx")
    (tmp_path / "case.xlsx").rename(path)
    assert_error(path, "case.xlsm: a macro-enabled workbook (.xlsm) is refused")


# ---- warnings ------------------------------------------------------------------------------------
def test_pot_that_can_fund_nothing(tmp_path):
    # IDLE has a life and eligible cells with need, but no budget in any year.
    pots = tiny_rows()["pots"] + [{**tiny_rows()["pots"][0], "pot_code": "IDLE", "pot_name": "Idle fund"}]
    assert_warning(write_tiny_case(tmp_path / "c", pots=pots),
                   "pots.csv, row 5, column 'pot_code': pot IDLE can fund nothing with need")


def test_need_no_pot_can_reach(tmp_path):
    # CARERS is in no pot's cohorts but LOCAL's ALL, and LOCAL ends before 2026-27.
    cohorts = tiny_rows()["cohorts"] + [{**tiny_rows()["cohorts"][1], "cohort_code": "CARERS"}]
    need = tiny_rows()["need"] + [{"area_code": "A1", "cohort_code": "CARERS", "year": "2026-27", "people": 12}]
    assert_warning(write_tiny_case(tmp_path / "c", cohorts=cohorts, need=need),
                   "need.csv, column 'people': 12 people in 1 need cells can be reached by no pot: CARERS (12)")


def test_extra_columns(tmp_path):
    assert_warning(write_tiny_case(tmp_path / "c", pots=changed("pots", 0, notes="ask Sam", owner="me")),
                   "pots.csv, row 1: extra column(s) ignored: 'notes', 'owner'")


def test_pence_level_noise(tmp_path):
    assert_warning(write_tiny_case(tmp_path / "c", budgets=changed("budgets", 1, amount=120000.004)),
                   "budgets.csv, row 3, column 'amount': 1 amount(s) carry fractions of a penny")


def test_extra_file_is_a_warning(tmp_path):
    folder = write_tiny_case(tmp_path / "c")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    assert_warning(folder, "extra table(s) ignored: notes.csv")


# ---- one pass -----------------------------------------------------------------------------------
def test_all_problems_in_one_pass(tmp_path):
    case = write_tiny_case(
        tmp_path / "c",
        pots=changed("pots", 0, unit_cost="abc"),
        budgets=changed("budgets", 2, pot_code="NOPE"),
        need=changed("need", 4, year="2026/27"),
    )
    result = assert_error(
        case,
        "pots.csv, row 2, column 'unit_cost': 'abc' is not a number",
        "budgets.csv, row 4, column 'pot_code': unknown pot code 'NOPE'",
        "need.csv, row 6, column 'year': '2026/27' is not a financial year",
        count=3,
    )
    # Reported in reading order: pots before budgets before need.
    err = result.stderr
    assert err.index("pots.csv") < err.index("budgets.csv") < err.index("need.csv")


# ---- the same errors in a workbook ----------------------------------------------------------------
@pytest.fixture
def tiny_xlsx(tmp_path) -> Path:
    path = tmp_path / "tiny.xlsx"
    write_case(load_case(write_tiny_case(tmp_path / "tiny", optional=True)), path)
    return path


def set_cell(path: Path, sheet: str, row: int, column: str, value) -> None:
    """Put ``value`` in the cell of ``column`` (found by header) at spreadsheet ``row``."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    ws.cell(row=row, column=header.index(column) + 1, value=value)
    wb.save(path)


def test_tiny_workbook_is_valid_without_warnings(tiny_xlsx):
    v = validate_path(tiny_xlsx)
    assert v.ok and v.warnings == []


WORKBOOK_ERRORS = [
    ("pots", 3, "unit_cost", "abc", "sheet 'pots', row 3, column 'unit_cost': 'abc' is not a number"),
    ("pots", 2, "start", "2025-02-30", "sheet 'pots', row 2, column 'start': '2025-02-30' is a date that does not exist"),
    ("pots", 4, "can_match", "maybe", "sheet 'pots', row 4, column 'can_match': 'maybe' (expected yes or no)"),
    ("pots", 3, "geography", "A9", "sheet 'pots', row 3, column 'geography': unknown area or footprint code 'A9'"),
    ("budgets", 2, "year", "2025/26", "sheet 'budgets', row 2, column 'year': '2025/26' is not a financial year"),
    ("budgets", 4, "amount", -5, "sheet 'budgets', row 4, column 'amount': a negative value -£5"),
    ("need", 5, "area_code", "A9", "sheet 'need', row 5, column 'area_code': unknown area code 'A9'"),
    ("need", 2, "people", -3, "sheet 'need', row 2, column 'people': a negative value -3"),
    ("cohorts", 3, "outcome_rate", 1.5, "sheet 'cohorts', row 3, column 'outcome_rate': 1.5 is outside 0-1"),
    ("rules", 3, "area_code", "F9", "sheet 'rules', row 3, column 'area_code': unknown area or footprint code 'F9'"),
]


@pytest.mark.parametrize("sheet,row,column,value,message", WORKBOOK_ERRORS,
                         ids=[f"{s}.{c}={v}" for s, _, c, v, _ in WORKBOOK_ERRORS])
def test_workbook_errors_name_sheet_row_and_column(tiny_xlsx, sheet, row, column, value, message):
    set_cell(tiny_xlsx, sheet, row, column, value)
    assert_error(tiny_xlsx, message)


def test_workbook_missing_column(tiny_xlsx):
    set_cell(tiny_xlsx, "pots", 1, "basis", "Basis")
    assert_error(tiny_xlsx, "sheet 'pots', row 1, column 'basis': the column 'basis' is missing (found 'Basis'")


def test_workbook_missing_sheet(tiny_xlsx):
    wb = openpyxl.load_workbook(tiny_xlsx)
    del wb["need"]
    wb.save(tiny_xlsx)
    assert_error(tiny_xlsx, "sheet 'need': the required table 'need' is missing")


def test_workbook_unknown_setting(tiny_xlsx):
    wb = openpyxl.load_workbook(tiny_xlsx)
    ws = wb["case"]
    row = ws.max_row + 1
    ws.cell(row=row, column=1, value="colour")
    ws.cell(row=row, column=2, value="blue")
    wb.save(tiny_xlsx)
    assert_error(tiny_xlsx, f"sheet 'case', row {row}, column 'colour': unknown key 'colour'")


def test_workbook_all_problems_in_one_pass(tiny_xlsx):
    set_cell(tiny_xlsx, "pots", 2, "unit_cost", "abc")
    set_cell(tiny_xlsx, "budgets", 4, "pot_code", "NOPE")
    set_cell(tiny_xlsx, "need", 6, "year", "2026/27")
    assert_error(tiny_xlsx,
                 "sheet 'pots', row 2, column 'unit_cost'",
                 "sheet 'budgets', row 4, column 'pot_code': unknown pot code 'NOPE'",
                 "sheet 'need', row 6, column 'year'", count=3)


def test_workbook_extra_sheet_and_column_are_warnings(tiny_xlsx):
    wb = openpyxl.load_workbook(tiny_xlsx)
    wb.create_sheet("scratch")["A1"] = "my notes"
    wb["areas"].cell(row=1, column=4, value="mayor")
    wb["areas"].cell(row=2, column=4, value="someone")
    wb.save(tiny_xlsx)
    assert_warning(tiny_xlsx, "tiny.xlsx: extra table(s) ignored: scratch",
                   "sheet 'areas', row 1: extra column(s) ignored: 'mayor'")
