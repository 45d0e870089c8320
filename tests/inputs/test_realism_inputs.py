"""The realism inputs of issue 16: contracts, capacity, where pooled money may go, minimum awards,
transition limits, least disruption and protection floors.

Each new column and setting is read in both forms of a case (a folder of CSVs with
``case.yaml``, and one workbook whose ``case`` sheet writes nested settings as dotted keys,
``transition.max_change``); each bad value is one message naming the file or sheet, the row
(or YAML line) and the column (or key), with exit code 2 from ``commissioning validate``; a
case without any of them reads as it always has; and folder → workbook → folder keeps every
one of them (the same case fingerprint). The case is the tiny case of :mod:`casefactory`
(``optional=True``: with footprint F1 = A1 + A2 and two provision rows, SKILLS A1 YOUNG
2025-26 £20,000 at row 2 and WORK A2 OLDER 2025-26 £10,000.50 at row 3).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from casefactory import changed, tiny_rows, write_tiny_case
from commissioning.case.model import Protect, Settings, Transition
from commissioning.cli import main
from commissioning.inputs import schema as S
from commissioning.inputs.scenario import apply_scenario, load_scenario
from commissioning.inputs.settings import CaseSettings, NESTED_SETTINGS, nest_dotted, sheet_keys
from commissioning.inputs.validate import load_case, validate_path
from commissioning.writers.casewriter import write_case

REALISM_YAML = """name: Tiny case
transition:
  max_change: 0.25
  max_moved: 0.3
near_optimal: 0.01
programme_scale: 3
protect:
  cohorts: {YOUNG: 0.9, ALL: 0.5}
  areas: 0.8
least_disruption: no
"""


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_error(case: Path, *messages: str, scenario: Path | None = None):
    """Validate ``case`` (with ``scenario``): exit code 2 and exactly ``messages``, in order."""
    args = ("validate", case) + (("--scenario", scenario) if scenario else ())
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    count = "1 problem found" if len(messages) == 1 else f"{len(messages)} problems found"
    assert result.stderr == f"error: {count}:\n" + "".join(f"  - {m}\n" for m in messages), result.stderr


def realism_tables() -> dict:
    """The tiny case's pots and provision with every new column set."""
    pots = tiny_rows()["pots"]
    pots[0].update(capacity=120, pool_areas="pool", min_award=5000)  # SKILLS
    pots[2].update(pool_areas="pool")  # LOCAL: a local budget that says it may go anywhere in the pool
    provision = tiny_rows(optional=True)["provision"]
    provision[0]["contract_end"] = "2026-03-31"
    provision[1]["contract_end"] = "2025-03-31"  # before its year starts: not contracted
    return {"pots": pots, "provision": provision}


@pytest.fixture
def realism_dir(tmp_path) -> Path:
    return write_tiny_case(tmp_path / "real", optional=True, case_yaml=REALISM_YAML, **realism_tables())


def assert_realism(case) -> None:
    """``case`` holds every new column and setting of :func:`realism_dir`."""
    skills, work, local = (case.pot[c] for c in ("SKILLS", "WORK", "LOCAL"))
    assert (skills.capacity, skills.pool_areas, skills.min_award) == (120, "pool", 5000)
    assert (work.capacity, work.pool_areas, work.min_award) == (None, None, None)
    assert local.pool_areas == "pool" and not local.stays_home
    first, second = case.provision
    assert first.contract_end == date(2026, 3, 31) and first.contracted()
    assert second.contract_end == date(2025, 3, 31) and not second.contracted()
    s = case.settings
    assert s.transition == Transition(max_change=0.25, max_moved=0.3)
    assert (s.near_optimal, s.programme_scale, s.least_disruption) == (0.01, 3.0, False)
    assert s.protect == Protect(cohorts={"YOUNG": 0.9, "ALL": 0.5}, areas={"ALL": 0.8})
    assert s.protect.share("cohorts", "YOUNG") == 0.9 and s.protect.share("cohorts", "OLDER") == 0.5
    assert s.protect.share("areas", "A2") == 0.8


# ---- read correctly, in both forms ---------------------------------------------------------------
def test_every_new_column_and_setting_is_read_from_a_folder(realism_dir):
    v = validate_path(realism_dir)
    assert v.errors == [] and v.warnings == []
    assert_realism(v.case)


def test_every_new_column_and_setting_is_read_from_a_workbook(realism_dir, tmp_path):
    xlsx = tmp_path / "real.xlsx"
    write_case(load_case(realism_dir), xlsx)
    sheet = {r[0]: r[1] for r in openpyxl.load_workbook(xlsx)["case"].iter_rows(min_row=2, values_only=True)}
    assert sheet == {"name": "Tiny case", "objective": None, "equity_floor": None, "parties": None,
                     "lead_body": None, "term_years": None, "start_year": None,
                     "transition.max_change": 0.25, "transition.max_moved": 0.3, "near_optimal": 0.01,
                     "programme_scale": 3, "protect.cohorts": "YOUNG: 0.9; ALL: 0.5", "protect.areas": 0.8,
                     "least_disruption": "no", "package_share": None, "price_base": None,
                     "discount_rate": None, "optimism_bias": None, "settlement.theme_flex": None,
                     "gss_vintage": None}
    pots = openpyxl.load_workbook(xlsx)["pots"]
    header = [c.value for c in pots[1]]
    assert header == S.TABLES["pots"].column_names
    assert [pots.cell(row=2, column=header.index(c) + 1).value for c in ("capacity", "pool_areas", "min_award")] \
        == [120, "pool", 5000]
    v = validate_path(xlsx)
    assert v.errors == [] and v.warnings == []
    assert_realism(v.case)


def test_a_workbook_case_sheet_written_by_hand(tmp_path):
    """Dotted keys in any order, a floor per code as one cell of text, yes/no in any capitals."""
    xlsx = tmp_path / "hand.xlsx"
    write_case(load_case(write_tiny_case(tmp_path / "tiny", optional=True)), xlsx)
    set_settings(xlsx, {"protect.areas": "A1: 0.9; ALL: 0.6", "transition.max_moved": "0.2",
                        "protect.cohorts": 0.5, "least_disruption": "No", "programme_scale": 1})
    s = load_case(xlsx).settings
    assert s.protect == Protect(cohorts={"ALL": 0.5}, areas={"A1": 0.9, "ALL": 0.6})
    assert s.transition == Transition(max_moved=0.2)
    assert (s.least_disruption, s.programme_scale, s.near_optimal) == (False, 1.0, 0.0)


def test_a_case_without_the_new_columns_and_settings_reads_as_before(tmp_path):
    case = load_case(write_tiny_case(tmp_path / "tiny", optional=True))
    assert all((p.capacity, p.pool_areas, p.min_award) == (None, None, None) for p in case.pots)
    assert all(pr.contract_end is None and not pr.contracted() for pr in case.provision)
    # A council's own budget stays home in the pool unless it says otherwise; others may go anywhere.
    assert {p.code: p.stays_home for p in case.pots} == {"SKILLS": False, "WORK": False, "LOCAL": True}
    defaults = Settings()
    assert case.settings == defaults.model_copy(update={"name": "Tiny case"})
    assert (defaults.transition, defaults.near_optimal, defaults.programme_scale, defaults.protect,
            defaults.least_disruption) == (Transition(), 0.0, 2.0, Protect(), True)
    # And the same with every new column present but left empty.
    empty = {name: [{**row, **{c: None for c in cols}} for row in tiny_rows(optional=True)[name]]
             for name, cols in (("pots", ("capacity", "pool_areas", "min_award")), ("provision", ("contract_end",)))}
    blank = load_case(write_tiny_case(tmp_path / "blank", optional=True, **empty))
    assert blank.fingerprint() == case.fingerprint()


def test_empty_settings_keep_their_defaults(tmp_path):
    text = "name: Tiny case\ntransition:\n  max_change:\nnear_optimal:\nprotect:\n  cohorts:\nleast_disruption:\n"
    case = load_case(write_tiny_case(tmp_path / "c", case_yaml=text))
    assert case.settings == Settings(name="Tiny case")


@pytest.mark.parametrize("contract_end,contracted", [("2025-04-01", True), ("2026-03-31", True),
                                                     ("2025-03-31", False), ("1999-01-01", False),
                                                     ("2030-12-31", True)])
def test_a_year_is_contracted_when_it_starts_on_or_before_the_contract_end(tmp_path, contract_end, contracted):
    provision = changed("provision", 0, optional=True, contract_end=contract_end)  # its year is 2025-26
    case = load_case(write_tiny_case(tmp_path / "c", optional=True, provision=provision))
    assert case.provision[0].contracted() is contracted and not case.provision[1].contracted()


# ---- bad values: the exact message, the place, exit code 2 -----------------------------------------
BAD_CELLS = [
    ("provision", 0, "contract_end", "soon",
     "provision.csv, row 2, column 'contract_end': 'soon' is not an ISO date "
     "(expected a date written like 2025-04-01)"),
    ("provision", 1, "contract_end", "2026-02-30",
     "provision.csv, row 3, column 'contract_end': '2026-02-30' is a date that does not exist "
     "(expected a real calendar date)"),
    ("pots", 0, "pool_areas", "everywhere",
     "pots.csv, row 2, column 'pool_areas': 'everywhere' (expected one of own, pool)"),
    ("pots", 2, "pool_areas", "Own", "pots.csv, row 4, column 'pool_areas': 'Own' (expected one of own, pool)"),
    ("pots", 1, "capacity", -3,
     "pots.csv, row 3, column 'capacity': a negative value -3 (expected a whole number, 0 or more)"),
    ("pots", 1, "capacity", 12.5, "pots.csv, row 3, column 'capacity': 12.5 is not whole (expected a whole number)"),
    ("pots", 0, "min_award", -5, "pots.csv, row 2, column 'min_award': a negative value -£5 (expected 0 or more)"),
    ("pots", 0, "min_award", "lots",
     "pots.csv, row 2, column 'min_award': 'lots' is not a number (expected a number of pounds)"),
]


@pytest.mark.parametrize("table,index,column,value,message", BAD_CELLS,
                         ids=[f"{t}.{c}={v}" for t, _, c, v, _ in BAD_CELLS])
def test_a_bad_new_cell_is_named_at_its_row_and_column(tmp_path, table, index, column, value, message):
    rows = changed(table, index, optional=True, **{column: value})
    assert_error(write_tiny_case(tmp_path / "c", optional=True, **{table: rows}), message)


@pytest.mark.parametrize("table,index,column,value,message", BAD_CELLS,
                         ids=[f"{t}.{c}={v}" for t, _, c, v, _ in BAD_CELLS])
def test_a_bad_new_cell_in_a_workbook_is_named_at_its_sheet_row_and_column(tmp_path, table, index, column, value,
                                                                            message):
    xlsx = tmp_path / "c.xlsx"
    write_case(load_case(write_tiny_case(tmp_path / "c", optional=True)), xlsx)
    wb = openpyxl.load_workbook(xlsx)
    ws = wb[table]
    header = [c.value for c in ws[1]]
    ws.cell(row=index + 2, column=header.index(column) + 1, value=value)
    wb.save(xlsx)
    assert_error(xlsx, message.replace(f"{table}.csv,", f"sheet '{table}',"))


BAD_SETTINGS = [
    ("transition:\n  max_change: -0.1\n",
     ["case.yaml, line 3, key 'transition.max_change': a negative value -0.1 (expected 0 or more)"]),
    ("transition:\n  max_change: 0.2\n  max_moved: 1.5\n",
     ["case.yaml, line 4, key 'transition.max_moved': 1.5 is outside 0-1 "
      "(expected a share from 0 to 1 (write 25% as 0.25))"]),
    ("transition:\n  max_change: lots\n",
     ["case.yaml, line 3, key 'transition.max_change': 'lots' is not a number (expected a number)"]),
    ("transition:\n  max_chnage: 0.2\n",
     ["case.yaml, line 3, key 'transition.max_chnage': unknown key 'max_chnage' "
      "(expected one of max_change, max_moved)"]),
    ("transition: 0.25\n",
     ["case.yaml, line 2, key 'transition': '0.25' is not a mapping "
      "(expected max_change: 0.25 and/or max_moved: 0.3)"]),
    ("near_optimal: 1.5\n",
     ["case.yaml, line 2, key 'near_optimal': 1.5 is outside 0-1 (expected a share from 0 to 1 (write 25% as 0.25))"]),
    ("programme_scale: 0.5\n",
     ["case.yaml, line 2, key 'programme_scale': 0.5 is below 1 (expected a number, 1 or more)"]),
    ("least_disruption: maybe\n", ["case.yaml, line 2, key 'least_disruption': 'maybe' (expected yes or no)"]),
    ("protect:\n  cohorts: 1.5\n",
     ["case.yaml, line 3, key 'protect.cohorts': 1.5 is outside 0-1 "
      "(expected a share from 0 to 1, or per code like {LTU: 0.9, ALL: 0.5})"]),
    ("protect:\n  cohorts: {YOUNG: 2}\n",
     ["case.yaml, line 3, key 'protect.cohorts': YOUNG: 2 is outside 0-1 "
      "(expected a share from 0 to 1 (write 25% as 0.25))"]),
    ("protect:\n  cohorts: {YOUNG: 0.9, NOPE: 0.5, ALL: 0.5}\n  areas:\n    A1: 0.5\n    F1: 0.5\n",
     ["case.yaml, line 3, key 'protect.cohorts': unknown cohort code 'NOPE' "
      "(expected a cohort code of the case, or ALL)",
      "case.yaml, line 4, key 'protect.areas': unknown area code 'F1' (expected an area code of the case, or ALL)"]),
    ("protect:\n  people: 0.5\n",
     ["case.yaml, line 3, key 'protect.people': unknown key 'people' (expected one of cohorts, areas)"]),
]


@pytest.mark.parametrize("text,messages", BAD_SETTINGS, ids=[t.split("\n")[0] + t.split("\n")[1]
                                                             for t, _ in BAD_SETTINGS])
def test_a_bad_setting_is_named_at_its_key_and_line(tmp_path, text, messages):
    assert_error(write_tiny_case(tmp_path / "c", optional=True, case_yaml="name: Tiny case\n" + text), *messages)


def set_settings(xlsx: Path, values: dict) -> dict[str, int]:
    """Put ``values`` in the ``case`` sheet (a key not there gets a row below); return each key's row."""
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["case"]
    rows = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
    for key, value in values.items():
        if key not in rows:
            rows[key] = ws.max_row + 1
            ws.cell(row=rows[key], column=1, value=key)
        ws.cell(row=rows[key], column=2, value=value)
    wb.save(xlsx)
    return rows


BAD_SHEET_SETTINGS = [
    ("transition.max_change", -1, "value", "a negative value -1 (expected 0 or more)"),
    ("transition.max_moved", 2, "value", "2 is outside 0-1 (expected a share from 0 to 1 (write 25% as 0.25))"),
    ("near_optimal", "1%", "value", "'1%' is not a number (expected a share from 0 to 1)"),
    ("programme_scale", 0, "value", "0 is below 1 (expected a number, 1 or more)"),
    ("least_disruption", "maybe", "value", "'maybe' (expected yes or no)"),
    ("package_share", "lots", "value", "'lots' is not a number (expected a share from 0 to 1)"),
    ("protect.cohorts", "YOUNG: 0.9; NOPE: 0.5", "value",
     "unknown cohort code 'NOPE' (expected a cohort code of the case, or ALL)"),
    ("protect.areas", "A1: 0.9; ALL", "value", "'A1: 0.9; ALL' (expected a share per code like LTU: 0.9; ALL: 0.5)"),
    ("transition.max_shift", 0.2, "transition.max_shift",
     "unknown key 'max_shift' (expected one of max_change, max_moved)"),
]


@pytest.mark.parametrize("key,value,column,message", BAD_SHEET_SETTINGS, ids=[k for k, *_ in BAD_SHEET_SETTINGS])
def test_a_bad_setting_on_the_case_sheet_is_named_at_its_row(tmp_path, key, value, column, message):
    xlsx = tmp_path / "c.xlsx"
    write_case(load_case(write_tiny_case(tmp_path / "c", optional=True)), xlsx)
    rows = set_settings(xlsx, {key: value})
    assert list(rows).index(key) + 1 == rows[key]  # the row written, the row named
    assert_error(xlsx, f"sheet 'case', row {rows[key]}, column '{column}': {message}")


def test_bad_settings_on_the_case_sheet_are_each_named_at_their_own_row(tmp_path):
    xlsx = tmp_path / "c.xlsx"
    write_case(load_case(write_tiny_case(tmp_path / "c", optional=True)), xlsx)
    rows = set_settings(xlsx, {"transition.max_change": -1, "transition.max_moved": 2, "protect.areas": "ZZ: 0.5"})
    assert_error(xlsx,
                 f"sheet 'case', row {rows['transition.max_change']}, column 'value': a negative value -1 "
                 "(expected 0 or more)",
                 f"sheet 'case', row {rows['transition.max_moved']}, column 'value': 2 is outside 0-1 "
                 "(expected a share from 0 to 1 (write 25% as 0.25))",
                 f"sheet 'case', row {rows['protect.areas']}, column 'value': unknown area code 'ZZ' "
                 "(expected an area code of the case, or ALL)")


def test_protect_codes_are_not_judged_against_a_table_that_could_not_be_read(tmp_path):
    """A cohorts table with a missing column is the one problem: its codes are unknown, not wrong."""
    case = write_tiny_case(tmp_path / "c", optional=True, case_yaml="name: T\nprotect:\n  cohorts: {YOUNG: 0.9}\n",
                           drop_columns={"cohorts": ["outcome"]})
    assert_error(case, "cohorts.csv, row 1, column 'outcome': the column 'outcome' is missing "
                       "(expected a 'outcome' column)")


# ---- scenarios ---------------------------------------------------------------------------------------
@pytest.fixture
def case_dir(tmp_path) -> Path:
    return write_tiny_case(tmp_path / "tiny", optional=True, case_yaml=REALISM_YAML)


def scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_sets_the_realism_settings_key_by_key(case_dir, tmp_path):
    base = load_case(case_dir)
    text = ("name: s\ntransition: {max_moved: 0.1}\nnear_optimal: 0.05\nprogramme_scale: 1.5\n"
            "protect: {cohorts: {OLDER: 0.7}}\nleast_disruption: yes\n")
    after = apply_scenario(base, load_scenario(scenario(tmp_path, text), base)).settings
    assert after.transition == Transition(max_change=0.25, max_moved=0.1)  # the case's max_change kept
    assert after.protect == Protect(cohorts={"OLDER": 0.7}, areas={"ALL": 0.8})  # cohorts replaced, areas kept
    assert (after.near_optimal, after.programme_scale, after.least_disruption) == (0.05, 1.5, True)
    assert run("validate", case_dir, "--scenario", tmp_path / "s.yaml").exit_code == 0


def test_a_scenario_least_disruption_may_be_yes_or_no_text(case_dir, tmp_path):
    base = load_case(case_dir)
    after = apply_scenario(base, load_scenario(scenario(tmp_path, "name: s\nleast_disruption: 'Yes'\n"), base))
    assert after.settings.least_disruption is True


def test_bad_realism_keys_of_a_scenario_are_named_at_their_key_and_line(case_dir, tmp_path):
    text = ("name: s\ntransition: {max_change: -1, max_moved: 2}\nnear_optimal: 2\nprogramme_scale: 0.5\n"
            "protect:\n  cohorts: {NOPE: 0.9, ALL: 0.5}\n  areas: {F1: 0.5}\nleast_disruption: maybe\n")
    assert_error(case_dir,
                 "s.yaml, line 2, key 'transition.max_change': a negative value -1 (expected 0 or more)",
                 "s.yaml, line 2, key 'transition.max_moved': 2 is outside 0-1 "
                 "(expected a share from 0 to 1 (write 25% as 0.25))",
                 "s.yaml, line 3, key 'near_optimal': 2 is out of range (expected a number from 0 to 1)",
                 "s.yaml, line 4, key 'programme_scale': 0.5 is out of range (expected a number 1 or more)",
                 "s.yaml, line 6, key 'protect.cohorts': unknown cohort code 'NOPE' "
                 "(expected a cohort code of the case, or ALL)",
                 "s.yaml, line 7, key 'protect.areas': unknown area code 'F1' "
                 "(expected an area code of the case, or ALL)",
                 "s.yaml, line 8, key 'least_disruption': 'maybe' (expected yes or no)",
                 scenario=scenario(tmp_path, text))


def test_a_scenario_that_states_a_realism_setting_changes_the_rules(case_dir, tmp_path):
    base = load_case(case_dir)
    for text, changes in (("name: s\nprotect: {areas: 0.5}\n", True), ("name: s\nprogramme_scale: 3\n", False),
                          ("name: s\nprogramme_scale: 2\n", True), ("name: s\n", False)):
        assert apply_scenario(base, load_scenario(scenario(tmp_path, text), base)).rules_changed is changes, text


# ---- folder → workbook → folder ----------------------------------------------------------------------
def test_the_round_trip_keeps_every_new_field(realism_dir, tmp_path):
    original = load_case(realism_dir)
    xlsx, back = tmp_path / "case.xlsx", tmp_path / "back"
    for src, dst in ((realism_dir, xlsx), (xlsx, back)):
        result = run("convert", src, dst)
        assert result.exit_code == 0, result.output
    for case in (load_case(xlsx), load_case(back)):
        assert_realism(case)
        assert case.fingerprint() == original.fingerprint()
    assert (back / "case.yaml").read_text(encoding="utf-8") == (
        "name: Tiny case\ntransition:\n  max_change: 0.25\n  max_moved: 0.3\nnear_optimal: 0.01\n"
        "programme_scale: 3.0\nprotect:\n  cohorts:\n    YOUNG: 0.9\n    ALL: 0.5\n  areas: 0.8\n"
        "least_disruption: false\n")
    assert "SKILLS,A1,YOUNG,2025-26,20000,Northtown College,2026-03-31\n" in (back / "provision.csv").read_text()
    cell = openpyxl.load_workbook(xlsx)["provision"]["G2"]
    assert cell.value.date() == date(2026, 3, 31) and cell.number_format == "yyyy-mm-dd"


def test_the_round_trip_keeps_a_floor_per_area_with_odd_shares(tmp_path):
    text = "name: T\nprotect:\n  areas: {A1: 0.123456789, A2: 1}\ntransition: {max_change: 2.5}\n"
    original = load_case(write_tiny_case(tmp_path / "c", optional=True, case_yaml=text))
    write_case(original, tmp_path / "c.xlsx")
    write_case(load_case(tmp_path / "c.xlsx"), tmp_path / "back")
    for case in (load_case(tmp_path / "c.xlsx"), load_case(tmp_path / "back")):
        assert case.settings.protect.areas == {"A1": 0.123456789, "A2": 1.0}
        assert case.settings.transition.max_change == 2.5
        assert case.fingerprint() == original.fingerprint()


# ---- the template ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "blank.xlsx"
    result = run("template", path)
    assert result.exit_code == 0, result.output
    return path


def test_the_template_offers_pool_areas_and_explains_every_new_column(template):
    wb = openpyxl.load_workbook(template)
    pots = wb["pots"]
    letter = {c: openpyxl.utils.get_column_letter(i + 1) for i, c in enumerate(S.TABLES["pots"].column_names)}
    lists = {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
             for dv in pots.data_validations.dataValidation if dv.type == "list"}
    assert lists[letter["pool_areas"]] == '"own,pool"'
    for table, column in (("pots", "capacity"), ("pots", "pool_areas"), ("pots", "min_award"),
                          ("provision", "contract_end")):
        header = [c for c in wb[table][1] if c.value == column]
        assert header and S.TABLES[table].column(column).help in header[0].comment.text
        assert "optional" in header[0].comment.text
    provision = wb["provision"]
    col = openpyxl.utils.get_column_letter(S.TABLES["provision"].column_names.index("contract_end") + 1)
    prompts = {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.promptTitle
               for dv in provision.data_validations.dataValidation}
    assert prompts[col] == "Date"
    assert provision.column_dimensions[col].number_format == "yyyy-mm-dd"


def test_the_template_case_sheet_lists_the_new_settings_as_dotted_keys(template):
    ws = openpyxl.load_workbook(template)["case"]
    keys = [r[0].value for r in ws.iter_rows(min_row=2)]
    assert keys == list(sheet_keys())
    assert keys[keys.index("start_year") + 1:] == [
        "transition.max_change", "transition.max_moved", "near_optimal", "programme_scale", "protect.cohorts",
        "protect.areas", "least_disruption", "package_share", "price_base", "discount_rate", "optimism_bias",
        "settlement.theme_flex", "gss_vintage"]
    assert S.SETTINGS_KEYS["package_share"] in [r[0].comment.text for r in ws.iter_rows(min_row=2)]
    comments = {r[0].value: r[0].comment.text for r in ws.iter_rows(min_row=2)}
    assert comments["near_optimal"] == S.SETTINGS_KEYS["near_optimal"]
    assert "with no funding today is not limited" in comments["transition.max_change"]
    assert "LTU: 0.9; ALL: 0.5" in comments["protect.cohorts"]
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists == {f"B{keys.index('objective') + 2}": '"outcomes,value,fiscal,economic,social,coverage"',
                     f"B{keys.index('least_disruption') + 2}": '"yes,no"'}


def test_a_filled_template_with_the_new_settings_validates(template, tmp_path):
    wb = openpyxl.load_workbook(template)
    tables = tiny_rows(optional=True)
    tables.update(realism_tables())
    for name, rows in tables.items():
        header = [c.value for c in wb[name][1]]
        for row in rows:
            wb[name].append([row.get(h) for h in header])
    values = {"name": "Tiny case", "transition.max_change": 0.25, "transition.max_moved": 0.3, "near_optimal": 0.01,
              "programme_scale": 3, "protect.cohorts": "YOUNG: 0.9; ALL: 0.5", "protect.areas": 0.8,
              "least_disruption": "no"}
    for r in range(2, wb["case"].max_row + 1):
        key = wb["case"].cell(row=r, column=1).value
        if key in values:
            wb["case"].cell(row=r, column=2, value=values[key])
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    v = validate_path(filled)
    assert v.errors == [] and v.warnings == []
    assert_realism(v.case)


# ---- the statement of the keys -----------------------------------------------------------------------
def test_the_sheet_keys_are_the_settings_with_nested_ones_dotted():
    expected = []
    for key in CaseSettings.model_fields:
        nested = NESTED_SETTINGS.get(key)
        expected += [f"{key}.{sub}" for sub in nested.model_fields] if nested else [key]
    assert list(sheet_keys()) == expected
    assert all(sheet_keys()[k] == S.SETTINGS_KEYS[k] for k in expected if k in S.SETTINGS_KEYS)
    # Every dotted key folds back into its setting.
    assert nest_dotted({k: 1 for k in expected}) == {
        k: ({sub: 1 for sub in NESTED_SETTINGS[k].model_fields} if k in NESTED_SETTINGS else 1)
        for k in CaseSettings.model_fields}
