"""`commissioning convert` and `commissioning template`.

A case converted folder → workbook → folder reads back as the same Case (only each rule's
``origin``, which names the file or sheet it came from, differs). The template is the
contract laid out as a workbook: filled in with the tiny case it validates cleanly and
equals the folder form.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from casefactory import changed, tiny_rows, write_tiny_case
from commissioning.inputs import schema as S
from commissioning.case.model import Settings
from commissioning.inputs.settings import sheet_keys
from commissioning.writers.casewriter import write_case
from commissioning.cli import main
from commissioning.writers.template import readme_text
from commissioning.inputs.validate import load_case, validate_path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def comparable(case) -> dict:
    """The case as plain data, with each rule's origin (its file or sheet) blanked and the files
    it was read from (``sources``, their names and digests) left out."""
    data = case.model_dump(exclude={"sources"})
    data["rules"] = [{**r, "origin": ""} for r in data["rules"]]
    return data


def round_trip(folder: Path, tmp_path: Path) -> tuple[Path, Path]:
    """folder → workbook → folder through the command line; return both outputs."""
    xlsx, back = tmp_path / "case.xlsx", tmp_path / "back"
    for src, dst in ((folder, xlsx), (xlsx, back)):
        result = run("convert", src, dst)
        assert result.exit_code == 0, result.output
        assert f"Wrote {dst}" in result.stdout
    return xlsx, back


def leftovers(folder: Path) -> list[str]:
    """Hidden work files an interrupted or refused write could leave behind."""
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


# ---- round trips ---------------------------------------------------------------------------
@pytest.mark.parametrize("optional", [False, True], ids=["required-tables", "all-tables"])
def test_tiny_case_round_trip(tmp_path, optional):
    folder = write_tiny_case(tmp_path / "tiny", optional=optional)
    xlsx, back = round_trip(folder, tmp_path)
    original = load_case(folder)
    assert comparable(load_case(xlsx)) == comparable(original)
    assert comparable(load_case(back)) == comparable(original)
    assert validate_path(xlsx).warnings == [] and validate_path(back).warnings == []
    # Sheets: the tables the case has, in contract order, then the settings.
    tables = ["areas", "cohorts", "pots", "budgets", "need"]
    if optional:  # the tiny case's optional tables: all but the value-for-money ones (tests/analysis/test_value.py)
        # and departments (tests/optimiser/test_settlement.py round-trips a settlement case)
        tables = [t for t in S.TABLE_ORDER if t not in ("outcomes", "deflators", "departments")]
    assert openpyxl.load_workbook(xlsx).sheetnames == [*tables, "case"]
    assert sorted(p.name for p in back.iterdir()) == sorted([f"{t}.csv" for t in tables] + ["case.yaml"])


def test_round_trip_keeps_values_exact(tmp_path):
    # 1234.5 and 12345.25 pounds, a rate with more places than results are rounded to, and a
    # date before March 1900, where Excel's calendar is wrong.
    folder = write_tiny_case(tmp_path / "tiny", cohorts=changed("cohorts", 1, outcome_rate=0.1234567891),
                             need=changed("need", 0, as_of="1850-01-01"))
    xlsx, back = round_trip(folder, tmp_path)
    for case in (load_case(xlsx), load_case(back)):
        assert case.cohort["YOUNG"].value_per_outcome == 1234.5
        assert case.cohort["OLDER"].outcome_rate == 0.1234567891
        assert case.budget[("LOCAL", "2025-26")] == 12345.25
        assert [n.as_of.isoformat() for n in case.need[:2]] == ["1850-01-01", "2025-03-31"]
    text = (back / "budgets.csv").read_text()
    assert "SKILLS,2025-26,100000\n" in text and "LOCAL,2025-26,12345.25\n" in text


def test_workbook_cells_have_real_types(tmp_path):
    folder = write_tiny_case(tmp_path / "tiny")
    xlsx, _ = round_trip(folder, tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    pots = wb["pots"]
    header = [c.value for c in pots[1]]
    row = {h: pots.cell(row=2, column=i + 1) for i, h in enumerate(header)}
    assert header == S.TABLES["pots"].column_names
    assert row["start"].value == datetime(2025, 4, 1) and row["start"].number_format == "yyyy-mm-dd"
    assert row["unit_cost"].data_type == "n" and row["unit_cost"].value == 1000
    assert row["geography"].value == "ALL" and row["cohorts"].value == "YOUNG;OLDER"
    assert row["can_match"].value == "no" and row["poolable"].value == "yes"
    assert pots.freeze_panes == "A2"
    settings = {r[0]: r[1] for r in wb["case"].iter_rows(min_row=2, values_only=True)}
    assert settings == {"name": "Tiny case", **{k: None for k in sheet_keys() if k != "name"}}
    assert "transition.max_change" in settings and "protect.cohorts" in settings  # nested settings, dotted


def test_settings_round_trip(tmp_path):
    settings = {"name": "Tiny", "objective": "coverage", "equity_floor": 0.2,
                "parties": ["Northtown Council", "DWP"], "lead_body": "Northtown Council",
                "term_years": 3, "start_year": "2025-26"}
    folder = write_tiny_case(tmp_path / "tiny", case_yaml=settings)
    xlsx, back = round_trip(folder, tmp_path)
    case_sheet = {r[0]: r[1] for r in openpyxl.load_workbook(xlsx)["case"].iter_rows(min_row=2, values_only=True)}
    assert case_sheet["parties"] == "Northtown Council;DWP"
    for case in (load_case(xlsx), load_case(back)):
        assert case.settings.model_dump() == {**Settings().model_dump(), **settings,
                                              "parties": ("Northtown Council", "DWP")}


def test_unset_name_is_written_so_it_survives(tmp_path):
    # Without case.yaml the name is the folder's; written out, it no longer follows the file name.
    folder = write_tiny_case(tmp_path / "northtown", case_yaml=None)
    xlsx, back = round_trip(folder, tmp_path)
    assert load_case(xlsx).settings.name == load_case(back).settings.name == "northtown"
    assert (back / "case.yaml").read_text() == "name: northtown\n"


def test_provision_empty_reads_and_converts_as_not_supplied(tmp_path):
    # A header and no rows is "no provision recorded", exactly as no table (see the README).
    unknown = load_case(write_tiny_case(tmp_path / "unknown"))
    empty = load_case(write_tiny_case(tmp_path / "empty", provision=[]))
    assert unknown.provision is None and empty.provision is None
    assert empty.fingerprint() == unknown.fingerprint()
    write_case(empty, tmp_path / "e.xlsx")
    write_case(load_case(tmp_path / "e.xlsx"), tmp_path / "e")
    assert load_case(tmp_path / "e").provision is None
    assert "provision" not in openpyxl.load_workbook(tmp_path / "e.xlsx").sheetnames
    assert not (tmp_path / "e" / "provision.csv").exists()


def test_example_round_trip(tmp_path):
    assert (EXAMPLE / "pots.csv").exists(), "the example ships with the project"
    original = load_case(EXAMPLE)
    xlsx, back = round_trip(EXAMPLE, tmp_path)
    assert comparable(load_case(xlsx)) == comparable(original)
    assert comparable(load_case(back)) == comparable(original)
    assert len(original.pots) > 10 and original.provision  # a real test, not an empty case


def test_formula_like_text_stays_text(tmp_path):
    formula = '=HYPERLINK("http://x","y")'
    folder = write_tiny_case(tmp_path / "tiny", pots=changed("pots", 0, pot_name=formula, source="+44 1234"))
    xlsx, back = round_trip(folder, tmp_path)
    cell = openpyxl.load_workbook(xlsx)["pots"]["B2"]
    assert cell.data_type == "s" and cell.value == formula
    # In CSV it is made inert for spreadsheets, and read back as the same text.
    assert "'=HYPERLINK" in (back / "pots.csv").read_text()
    for case in (load_case(xlsx), load_case(back)):
        assert case.pot["SKILLS"].name == formula and case.pot["SKILLS"].source == "+44 1234"


# ---- refusing to overwrite ---------------------------------------------------------------------
def test_convert_refuses_to_overwrite_a_workbook(tmp_path):
    folder = write_tiny_case(tmp_path / "tiny")
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"precious")
    result = run("convert", folder, out)
    assert result.exit_code == 2
    assert "already exists; use --force" in result.stderr
    assert out.read_bytes() == b"precious" and leftovers(tmp_path) == []
    result = run("convert", folder, out, "--force")
    assert result.exit_code == 0, result.output
    assert comparable(load_case(out)) == comparable(load_case(folder)) and leftovers(tmp_path) == []


def test_convert_refuses_to_overwrite_a_folder(tmp_path):
    xlsx = tmp_path / "tiny.xlsx"
    write_case(load_case(write_tiny_case(tmp_path / "tiny")), xlsx)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = run("convert", xlsx, out)
    assert result.exit_code == 2 and "already exists; use --force" in result.stderr
    assert [p.name for p in out.iterdir()] == ["mine.txt"] and leftovers(tmp_path) == []
    assert run("convert", xlsx, out, "--force").exit_code == 0
    assert not (out / "mine.txt").exists() and (out / "pots.csv").exists()


def test_convert_an_invalid_case_writes_nothing(tmp_path):
    folder = write_tiny_case(tmp_path / "tiny", budgets=changed("budgets", 0, amount="lots"))
    result = run("convert", folder, tmp_path / "out.xlsx")
    assert result.exit_code == 2 and "budgets.csv, row 2, column 'amount'" in result.stderr
    assert not (tmp_path / "out.xlsx").exists() and leftovers(tmp_path) == []


def test_convert_refuses_to_write_into_the_case(tmp_path):
    folder = write_tiny_case(tmp_path / "tiny")
    result = run("convert", folder, folder / "copy.xlsx")
    assert result.exit_code == 2 and "inside or the same as the input" in result.stderr
    assert not (folder / "copy.xlsx").exists()


def test_convert_refuses_a_macro_workbook_name(tmp_path):
    result = run("convert", write_tiny_case(tmp_path / "tiny"), tmp_path / "out.xlsm")
    assert result.exit_code == 2 and "ending in .xlsx" in result.stderr
    assert not (tmp_path / "out.xlsm").exists()


# ---- the template ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "blank.xlsx"
    result = run("template", path)
    assert result.exit_code == 0, result.output
    return path


def test_template_sheets_and_headers(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["read me", *S.TABLE_ORDER, "case"]
    for name in S.TABLE_ORDER:
        ws = wb[name]
        assert [c.value for c in ws[1]] == S.TABLES[name].column_names, name
        assert ws.max_row == 1 and ws.freeze_panes == "A2"
        for cell, col in zip(ws[1], S.TABLES[name].columns):
            assert cell.comment is not None and col.help in cell.comment.text
            assert ("required" if col.required else "optional") in cell.comment.text
    case = wb["case"]
    assert [[c.value for c in r] for r in case.iter_rows()] == [["key", "value"]] + [[k, None] for k in sheet_keys()]
    assert case["A3"].comment.text == S.SETTINGS_KEYS["objective"]


def test_template_drop_downs(template):
    wb = openpyxl.load_workbook(template)

    def lists(sheet: str, cells: bool = False) -> dict[str, str]:
        """Column letter (or, with ``cells``, the cell range) → the list a drop-down offers."""
        return {str(dv.sqref) if cells else str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
                for dv in wb[sheet].data_validations.dataValidation if dv.type == "list"}

    pots = lists("pots")
    letter = {c: openpyxl.utils.get_column_letter(i + 1) for i, c in enumerate(S.TABLES["pots"].column_names)}
    assert pots == {letter["can_match"]: '"yes,no"', letter["poolable"]: '"yes,no"',
                    letter["basis"]: '"' + ",".join(S.BASES) + '"', letter["pool_areas"]: '"own,pool"',
                    letter["settlement"]: '"yes,no"', letter["budget_type"]: '"revenue,capital"',
                    letter["ring_fenced"]: '"yes,no"'}
    assert lists("rules") == {"A": '"' + ",".join(S.RULE_KINDS) + '"'}
    row = {k: i + 2 for i, k in enumerate(sheet_keys())}  # the case sheet: one key a row below the header
    assert lists("case", cells=True) == {f"B{row['objective']}": '"' + ",".join(S.OBJECTIVES) + '"',
                                         f"B{row['least_disruption']}": '"yes,no"'}
    # Year columns carry an input message saying how to write a year.
    prompts = {dv.promptTitle: dv.prompt for dv in wb["budgets"].data_validations.dataValidation}
    assert "2025-26" in prompts["Financial year"]
    for dv in wb["pots"].data_validations.dataValidation:
        assert str(dv.sqref).endswith("1048576")  # the whole column below the header


def test_template_read_me(template):
    ws = openpyxl.load_workbook(template)["read me"]
    text = "\n".join(str(r[0]) for r in ws.iter_rows(values_only=True) if r[0])
    assert text.startswith("Read me: filling in a case")
    assert "commissioning validate FILE.xlsx" in text
    for name in S.TABLE_ORDER:
        assert f"{name} ({'required' if S.TABLES[name].required else 'optional'})" in text
    for phrase in ("2025-26", "2025-04-01", "semicolon", "ALL", "pounds sterling", "empty cell"):
        assert phrase in text
    assert "$" not in readme_text()  # every placeholder filled


def test_blank_template_reports_empty_required_tables(template):
    v = validate_path(template)
    assert [w.where for w in v.warnings] == ["sheet 'provision'"]  # no provision recorded
    assert [str(p) for p in v.errors] == [
        f"sheet '{t}': the required table '{t}' has no rows (expected at least one row below the header)"
        for t in ("areas", "cohorts", "pots", "budgets", "need")
    ]


def test_template_refuses_to_overwrite(template):
    before = template.read_bytes()
    result = run("template", template)
    assert result.exit_code == 2 and "already exists; use --force" in result.stderr
    assert template.read_bytes() == before and leftovers(template.parent) == []


@pytest.mark.parametrize("optional", [True, False], ids=["all-sheets-filled", "optional-sheets-left-blank"])
def test_filled_template_validates_and_equals_the_folder_case(template, tmp_path, optional):
    wb = openpyxl.load_workbook(template)
    for name, rows in tiny_rows(optional=optional).items():
        ws = wb[name]
        header = [c.value for c in ws[1]]
        for row in rows:
            ws.append([row.get(h) for h in header])
    case_sheet = wb["case"]
    for r in range(2, case_sheet.max_row + 1):
        if case_sheet.cell(row=r, column=1).value == "name":
            case_sheet.cell(row=r, column=2, value="Tiny case")
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)

    v = validate_path(filled)
    assert v.errors == []
    folder_case = load_case(write_tiny_case(tmp_path / "tiny", optional=optional))
    if optional:
        assert v.warnings == []
    else:
        # A provision sheet left with its header only means "no provision recorded", as a
        # folder without provision.csv does (see the read me); a warning says so.
        assert [w.where for w in v.warnings] == ["sheet 'provision'"]
        assert v.case.provision is None and folder_case.provision is None
    assert comparable(v.case) == comparable(folder_case)
    if optional:
        assert v.case.rules[0].origin == "sheet 'rules' row 2"


@pytest.mark.parametrize("command", [["map", str(EXAMPLE), "--out"], ["template"], ["convert", str(EXAMPLE)]])
def test_an_output_under_a_file_is_refused_before_any_work(tmp_path, command):
    """An output whose folder would have to be made inside a file (or cannot be made at all) is an
    output error, exit 2, naming the path, not a crash; nothing is left beside it."""
    notes = tmp_path / "notes.txt"
    notes.write_text("a file, not a folder")
    target = notes / ("out" if command[0] == "map" else "case.xlsx")
    res = CliRunner().invoke(main, [*command, str(target)])
    assert res.exit_code == 2, res.output
    assert f"cannot write {target}: {notes} is a file, not a folder" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_output_folder_the_system_refuses_is_said(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    res = CliRunner().invoke(main, ["map", str(EXAMPLE), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert f"cannot write {tmp_path / 'out'}: Permission denied ({tmp_path})" in res.output


def test_template_needs_an_xlsx_name(tmp_path):
    res = CliRunner().invoke(main, ["template", str(tmp_path / "t.txt")])
    assert res.exit_code == 2 and "cannot write the template as 't.txt': give a name ending in .xlsx" in res.output
    assert list(tmp_path.iterdir()) == []


def test_a_text_file_given_as_a_workbook_is_named_by_its_own_extension(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("pot_code,amount\n")
    res = CliRunner().invoke(main, ["check", str(notes), "--case", str(EXAMPLE)])
    assert res.exit_code == 2 and "notes.txt: is a CSV or text file named .txt" in res.output, res.output


def test_a_file_where_a_folder_goes_is_refused_before_the_run(tmp_path, monkeypatch):
    """``--force`` over a file where the output folder goes: refused at once (nothing is solved)."""
    from optimiser import levels

    def never(*args, **kwargs):
        raise AssertionError("solved before the output was checked")

    monkeypatch.setattr(levels, "optimise_case", never)
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    res = CliRunner().invoke(main, ["optimise", str(EXAMPLE), "--out", str(notes), "--force"])
    assert res.exit_code == 2 and f"{notes} exists and is not a folder" in res.output, res.output
    assert notes.read_text() == "keep me"
