"""The traps a new user falls into (issue 13, items 12, 13, 15, 16, 17 and the validation half of 6).

Each test is a small case worked by hand; the arithmetic is in the comments. The cases are
those of :mod:`casefactory` (``tiny``), :mod:`scenariocases` (``scenario case``) and
:mod:`explaincases` (one-pot cases), changed only where a test says so.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

import explaincases as E
import scenariocases as SC
from casefactory import tiny_rows, write_tiny_case
from commissioning.writers.casewriter import write_case
from commissioning.cli import main
from commissioning.inputs.scenario import apply_scenario, changes_rules, load_scenario
from commissioning.inputs.validate import load_case, validate_path
from optimiser.levels import optimise_case

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "west-yorkshire"
CASE_NAME = "Tiny scenario case"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def ok(result):
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def one_pot_case(folder: Path, *, need: dict, budgets: dict, end: str = "2026-03-31", settings: dict | None = None,
                 provision: list[dict] | None = None, start: str = "2024-04-01", carry_forward: int = 0) -> Path:
    """One area A1, one cohort W (outcome rate 0.5), one pot A (ALL, W, £1,000 a head) from 2024-04-01."""
    pot = E.pot("A", "W", carry_forward=carry_forward)
    pot.update(start=start, end=end)
    E.write_case(folder, cohorts={"W": 0.5}, pots=[pot], budgets=budgets, need=need)
    (folder / "case.yaml").write_text(yaml.safe_dump({"name": folder.name, **(settings or {})}), encoding="utf-8")
    if provision is not None:
        E._write(folder / "provision.csv", ["pot_code", "area_code", "cohort_code", "year", "amount", "provider"],
                 provision)
    return folder


# ---- 12. an empty provision table is "no provision recorded" ------------------------------------
NO_ROWS = "the provision table has a header but no rows: read as no provision recorded"


def test_empty_provision_csv_is_read_as_absent_with_a_warning(tmp_path):
    v = validate_path(write_tiny_case(tmp_path / "empty", provision=[]))
    assert v.ok and v.case.provision is None
    assert [(w.where, w.row, w.column, w.severity) for w in v.warnings] == [("provision.csv", None, None, "warning")]
    assert NO_ROWS in v.warnings[0].found
    absent = load_case(write_tiny_case(tmp_path / "absent", provision=None))
    assert v.case.fingerprint() == absent.fingerprint()  # exactly the case without the table

    result = ok(run("validate", tmp_path / "empty"))
    assert f"provision.csv: {NO_ROWS}" in result.stderr
    assert "provision: not supplied" in result.stdout


def test_empty_provision_sheet_is_read_as_absent_with_a_warning(tmp_path):
    # The tiny case with provision rows, as a workbook; then the provision sheet's rows deleted.
    book = tmp_path / "tiny.xlsx"
    write_case(load_case(write_tiny_case(tmp_path / "tiny", optional=True)), book)
    wb = openpyxl.load_workbook(book)
    ws = wb["provision"]
    ws.delete_rows(2, ws.max_row)
    wb.save(book)
    assert openpyxl.load_workbook(book)["provision"].max_row == 1

    v = validate_path(book)
    assert v.ok and v.case.provision is None
    assert [(w.where, w.row, w.column) for w in v.warnings] == [("sheet 'provision'", None, None)]
    assert NO_ROWS in v.warnings[0].found
    assert f"sheet 'provision': {NO_ROWS}" in ok(run("validate", book)).stderr


@pytest.mark.parametrize("solver", E.SOLVERS)
def test_empty_provision_gives_the_baseline_of_no_provision(tmp_path, solver):
    # Pot A: £10,000 in 2025-26 at £1,000 a head; need A1·W 20; outcome rate 0.5.
    # No provision recorded: the baseline spreads £10,000 over its eligible need → 10 people,
    # 5 outcomes, the same as aligned: alignment dividend 0. (Read as "nothing committed",
    # the baseline would be 0 and the dividend a spurious +5.)
    case = load_case(one_pot_case(tmp_path / "c", need={("A1", "W", "2025-26"): 20},
                                  budgets={("A", "2025-26"): 10000}, provision=[]))
    assert case.provision is None
    run_ = optimise_case(case, solver=solver)
    base, aligned = run_.levels["baseline"].totals, run_.levels["aligned"].totals
    assert base["participants"] == pytest.approx(10) and base["outcomes"] == pytest.approx(5)
    assert aligned["outcomes"] == pytest.approx(5)
    assert run_.dividends()["alignment"]["outcomes"] == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("solver", E.SOLVERS)
def test_one_zero_provision_row_records_that_nothing_is_committed(tmp_path, solver):
    # The way to say "nothing is committed today" (the template's read me): one row of £0.
    # Baseline: 0 people; aligned: £10,000 / £1,000 = 10 people, 5 outcomes; dividend +5.
    case = load_case(one_pot_case(tmp_path / "c", need={("A1", "W", "2025-26"): 20},
                                  budgets={("A", "2025-26"): 10000},
                                  provision=[{"pot_code": "A", "area_code": "A1", "cohort_code": "W",
                                              "year": "2025-26", "amount": 0}]))
    assert case.provision is not None and len(case.provision) == 1
    run_ = optimise_case(case, solver=solver)
    assert run_.levels["baseline"].totals["outcomes"] == pytest.approx(0, abs=1e-9)
    assert run_.dividends()["alignment"]["outcomes"] == pytest.approx(5)


# ---- 13. validate --scenario summarises the case with the scenario applied -----------------------
def test_validate_with_a_scenario_prints_the_scenarios_money(tmp_path):
    # Scenario case: SKILLS £60,000 + WORK £40,000 + LOCAL £10,000 = £110,000 a year.
    # SKILLS × 0.5 → £30,000 + £40,000 + £10,000 = £80,000 a year, £160,000 in all.
    # Need is untouched: 40 + 30 + 30 + 50 = 150 a year, 300 in all.
    case = SC.write_case(tmp_path / "case")
    half = SC.write_scenario(tmp_path, "half.yaml", "name: half-skills\nbudgets:\n  SKILLS: {multiply: 0.5}\n")
    lines = ok(run("validate", case, "--scenario", half)).stdout.splitlines()
    assert lines[0] == "Scenario 'half-skills' is valid against the case."
    assert lines[1] == (f"Scenario 'half-skills' on case '{CASE_NAME}': 2 areas, 2 cohorts, 3 pots, "
                        "years 2025-26 to 2026-27")
    assert lines[3].split() == ["2025-26", "£80,000", "150"]
    assert lines[4].split() == ["2026-27", "£80,000", "150"]
    assert lines[5].split() == ["total", "£160,000", "300"]
    assert lines[-1] == "Valid."
    plain = ok(run("validate", case)).stdout.splitlines()
    assert plain[0].startswith(f"Case '{CASE_NAME}': ") and plain[4].split() == ["total", "£220,000", "300"]


def test_validate_with_a_bad_scenario_still_exits_2(tmp_path):
    case = SC.write_case(tmp_path / "case")
    bad = SC.write_scenario(tmp_path, "bad.yaml", "name: bad\nbudgets:\n  SKILLS: {multiply: lots}\n")
    result = run("validate", case, "--scenario", bad)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "bad.yaml, line 3, key 'budgets.SKILLS.multiply': 'lots' is not a number" in result.stderr


# ---- 15. need outside the term and every pot's life ----------------------------------------------
TERM = ["2024-25", "2025-26", "2026-27", "2027-28", "2028-29"]


def _term_case(folder: Path, settings: dict | None, end: str = "2029-03-31", extra: dict | None = None,
               **pot) -> Path:
    # Pot A: £10,000 a year 2024-25 to 2028-29, £1,000 a head; need A1·W 10 a year; and the
    # stray rows in ``extra`` (written after them: need.csv rows 7 onwards).
    need = {("A1", "W", y): 10 for y in TERM}
    need.update(extra or {("A1", "W", "2021-22"): 7})
    return one_pot_case(folder, need=need, budgets={("A", y): 10000 for y in TERM}, end=end, settings=settings,
                        **pot)


@pytest.mark.parametrize("settings", [{"start_year": "2024-25", "term_years": 5}, None],
                         ids=["start_year", "budget-years"])
def test_need_outside_the_term_and_every_pots_life_is_left_out_with_a_warning(tmp_path, settings):
    # Term 2024-25..2028-29 (from start_year + 5 years, or the span of the budget years);
    # pot A lives 2024-04-01..2029-03-31. The 2021-22 row (need.csv row 7, 7 people) is in
    # neither: it is left out. Need is then 5 × 10 = 50, over the five years of the term.
    v = validate_path(_term_case(tmp_path / "c", settings))
    assert v.ok
    assert len(v.warnings) == 1
    w = v.warnings[0]
    assert (w.where, w.row, w.column) == ("need.csv", 7, "year")
    assert "1 need row(s) (rows 7; 2021-22) are outside the agreement's term 2024-25 to 2028-29" in w.found
    assert "left out of the case" in w.found
    case = v.case
    assert case.years == tuple(TERM)
    assert case.total_need == 50 and all(n.year != "2021-22" for n in case.need)
    assert not any("can be reached by no pot" in x.found for x in v.warnings)  # the cohort is not blamed

    result = ok(run("validate", tmp_path / "c"))
    assert "need.csv, row 7, column 'year': 1 need row(s) (rows 7; 2021-22)" in result.stderr
    assert result.stdout.splitlines()[0].endswith("years 2024-25 to 2028-29")


@pytest.mark.parametrize("solver", E.SOLVERS)
def test_need_left_out_stays_out_of_the_levels(tmp_path, solver):
    # Each year £10,000 / £1,000 = 10 people = the year's need: 50 people, 25 outcomes over
    # the term, and nobody unmet (the 7 people of 2021-22 are not in the case).
    run_ = optimise_case(load_case(_term_case(tmp_path / "c", {"start_year": "2024-25"})), solver=solver)
    aligned = run_.levels["aligned"].totals
    assert aligned["participants"] == pytest.approx(50) and aligned["outcomes"] == pytest.approx(25)
    assert aligned["unmet_people"] == pytest.approx(0, abs=1e-6)


def test_need_outside_the_term_but_in_a_year_a_pot_can_spend_is_kept(tmp_path):
    # Pot A now lives to 2030-03-31 and carries money forward one year, so its 2028-29 budget
    # may be spent in 2029-30: a 2029-30 row is outside the term but in a year A can spend
    # money, so it stays (and stretches the years to 2029-30). A 2019-20 row is outside both:
    # left out (need.csv row 8).
    v = validate_path(_term_case(tmp_path / "c", {"start_year": "2024-25"}, end="2030-03-31", carry_forward=1,
                                 extra={("A1", "W", "2029-30"): 4, ("A1", "W", "2019-20"): 3}))
    assert v.ok
    gone = [w for w in v.warnings if "outside the agreement's term" in w.found]
    assert len(gone) == 1 and gone[0].row == 8 and "(rows 8; 2019-20)" in gone[0].found
    assert v.case.years == tuple(TERM + ["2029-30"])
    assert v.case.total_need == 50 + 4


def test_a_pot_that_began_before_the_case_does_not_pull_old_need_in(tmp_path):
    # Pot A's programme began on 2021-06-28 (a real start date, as Restart's), but its first
    # budget in the case is 2024-25 and it carries nothing: 2021-22 is in its life, yet no money
    # can be spent then. The 2021-22 row (row 7) is left out; the case's years stay the term's.
    v = validate_path(_term_case(tmp_path / "c", None, start="2021-06-28"))
    assert v.ok
    gone = [w for w in v.warnings if "outside the agreement's term" in w.found]
    assert len(gone) == 1 and gone[0].row == 7 and "(rows 7; 2021-22)" in gone[0].found
    assert v.case.years == tuple(TERM)


# ---- 6. a rule naming one pot that can never fund its scope --------------------------------------
def test_rule_naming_a_pot_that_can_never_fund_its_scope_is_an_error(tmp_path):
    # Tiny case: WORK funds A2 · OLDER, 2025-26 and 2026-27; LOCAL funds A1;A2 · ALL in 2025-26
    # only. Footprints: F1 = A1 + A2, F2 = A1.
    rules = [
        {"rule": "min_share", "pot_code": "WORK", "area_code": "A1", "cohort_code": "OLDER", "year": "ALL",
         "value": 0.1},                                                     # row 2: WORK is not in A1
        {"rule": "min_amount", "pot_code": "WORK", "area_code": "ALL", "cohort_code": "YOUNG", "year": "ALL",
         "value": 100},                                                     # row 3: WORK does not fund YOUNG
        {"rule": "max_amount", "pot_code": "LOCAL", "area_code": "ALL", "cohort_code": "ALL", "year": "2026-27",
         "value": 500},                                                     # row 4: LOCAL ends in March 2026
        {"rule": "min_share", "pot_code": "WORK", "area_code": "F2", "cohort_code": "ALL", "year": "ALL",
         "value": 0.1},                                                     # row 5: F2 = A1 only
        {"rule": "max_share", "pot_code": "WORK", "area_code": "F1", "cohort_code": "OLDER", "year": "ALL",
         "value": 0.5},                                                     # row 6: F1 holds A2: fine
        {"rule": "min_share", "pot_code": "ALL", "area_code": "A1", "cohort_code": "OLDER", "year": "ALL",
         "value": 0.1},                                                     # row 7: not one pot: not judged here
    ]
    footprints = tiny_rows(optional=True)["footprints"] + [
        {"footprint_code": "F2", "footprint_name": "North only", "area_code": "A1"}]
    result = run("validate", write_tiny_case(tmp_path / "c", optional=True, rules=rules, footprints=footprints))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "error: 4 problems found:" in result.stderr
    expected = "(expected a scope the pot may fund (or pot_code ALL))"
    for line in (
        "rules.csv, row 2, column 'area_code': pot WORK can never fund area A1: its geography shares no area with it",
        "rules.csv, row 3, column 'cohort_code': pot WORK can never fund cohort YOUNG: it does not fund that cohort",
        "rules.csv, row 4, column 'year': pot LOCAL can never fund 2026-27: the year is outside its life "
        "2025-04-01 to 2026-03-31",
        "rules.csv, row 5, column 'area_code': pot WORK can never fund area F2: its geography shares no area with it",
    ):
        assert f"  - {line} {expected}" in result.stderr, result.stderr


SCENARIO_RULES = [
    {"rule": "min_share", "pot_code": "SKILLS", "area_code": "ALL", "cohort_code": "OLDER", "year": "ALL",
     "value": 0.2},                                                         # rules.csv row 2
    {"rule": "min_amount", "pot_code": "WORK", "area_code": "ALL", "cohort_code": "ALL", "year": "2026-27",
     "value": 1000},                                                        # rules.csv row 3
]


def test_scenario_rules_and_eligibility_changes_meet_the_same_test(tmp_path):
    # Scenario case: SKILLS ALL · YOUNG;OLDER, WORK A2 · OLDER, LOCAL A1 · YOUNG, all to March 2027.
    # The scenario takes OLDER from SKILLS (so rules.csv row 2 can never apply), ends WORK in
    # March 2026 (row 3's 2026-27 is then outside its life), and adds two rules no pot can meet.
    case = SC.write_case(tmp_path / "case", rules=SCENARIO_RULES)
    assert ok(run("validate", case))
    bad = SC.write_scenario(tmp_path, "narrower.yaml", "\n".join([
        "name: narrower",                                                   # line 1
        "eligibility:",
        "  SKILLS: {remove_cohorts: [OLDER]}",                              # line 3
        "budgets:",
        "  WORK: {end: 2026-03-31}",                                        # line 5
        "rules:",
        "  - {rule: min_share, pot_code: LOCAL, cohort_code: OLDER, value: 0.1}",   # line 7
        "  - {rule: max_amount, pot_code: WORK, area_code: A1, value: 5}",          # line 8
        ""]))
    result = run("validate", case, "--scenario", bad)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "error: 4 problems found:" in result.stderr
    for line in (
        "narrower.yaml, line 3, key 'eligibility.SKILLS.remove_cohorts': pot SKILLS can never fund cohort OLDER: "
        "it does not fund that cohort, so the rule at rules.csv row 2 could never apply",
        "narrower.yaml, line 5, key 'budgets.WORK': pot WORK can never fund 2026-27: the year is outside its life "
        "2025-04-01 to 2026-03-31, so the rule at rules.csv row 3 could never apply",
        "narrower.yaml, line 7, key 'rules.0.cohort_code': pot LOCAL can never fund cohort OLDER",
        "narrower.yaml, line 8, key 'rules.1.area_code': pot WORK can never fund area A1",
    ):
        assert line in result.stderr, result.stderr


def test_a_scenario_rule_is_judged_against_the_scenarios_eligibility(tmp_path):
    # LOCAL funds OLDER once the scenario adds the cohort: a rule on LOCAL · OLDER is then valid.
    case = SC.write_case(tmp_path / "case", rules=SCENARIO_RULES)
    wider = SC.write_scenario(tmp_path, "wider.yaml", "\n".join([
        "name: wider", "eligibility:", "  LOCAL: {add_cohorts: [OLDER]}",
        "rules:", "  - {rule: min_share, pot_code: LOCAL, cohort_code: OLDER, value: 0.1}", ""]))
    assert ok(run("validate", case, "--scenario", wider)).stdout.startswith("Scenario 'wider' is valid")


def test_a_scenario_rule_note_that_is_not_text_is_refused(tmp_path):
    # A note that YAML reads as a list was an internal error (exit 70), not bad input.
    case = SC.write_case(tmp_path / "case")
    bad = SC.write_scenario(tmp_path, "note.yaml",
                            "name: n\nrules:\n  - {rule: max_share, pot_code: SKILLS, value: 0.5, note: [1, 2]}\n")
    result = run("validate", case, "--scenario", bad)
    assert result.exit_code == 2 and "note.yaml, line 3, key 'rules.0.note': not a piece of text" in result.stderr


def test_the_shipped_example_and_its_scenarios_still_validate():
    assert ok(run("validate", EXAMPLE)).stdout.splitlines()[-1].startswith("Valid")
    for path in sorted((EXAMPLE / "scenarios").glob("*.yaml")):
        assert ok(run("validate", EXAMPLE, "--scenario", path)).stdout.splitlines()[-1].startswith("Valid"), path


# ---- 16. pooling a pot marked poolable = no ------------------------------------------------------
POOL_LOCAL = "name: pool-local\npool: [SKILLS, LOCAL]\n"
NOT_POOLABLE = ("pool-local.yaml, line 2, key 'pool': LOCAL is marked poolable = no in the case and pooled all "
                "the same: a what-if (today it may not join a pool)")


@pytest.fixture(scope="module")
def scenario_case(tmp_path_factory):
    return SC.write_case(tmp_path_factory.mktemp("scenario-case") / "case")


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenarios")
    return {
        "pool-local": SC.write_scenario(folder, "pool-local.yaml", POOL_LOCAL),
        "half-skills": SC.write_scenario(folder, "half.yaml",
                                         "name: half-skills\nbudgets:\n  SKILLS: {multiply: 0.5}\n"),
        "wider": SC.write_scenario(folder, "wider.yaml",
                                   "name: wider\neligibility:\n  LOCAL: {add_cohorts: [OLDER]}\n"),
    }


@pytest.fixture(scope="module")
def runs(scenario_case, scenarios, tmp_path_factory):
    """``optimise`` (and ``explain``) of the scenario case without a scenario and with each one."""
    out = {}
    for name in [None, *scenarios]:
        folder = tmp_path_factory.mktemp("run") / "out"
        extra = ["--scenario", scenarios[name]] if name else []
        result = ok(run("optimise", scenario_case, "--out", folder, "--solver", "cbc", *extra))
        out[name] = (result, folder, json.loads((folder / "summary.json").read_text()),
                     ok(run("explain", folder)).stdout.splitlines())
    return out


def test_pooling_a_pot_not_poolable_is_allowed_and_said(runs):
    # Default pool: SKILLS and WORK (poolable = yes); the scenario pools SKILLS and LOCAL
    # (LOCAL poolable = no). summary.json lists LOCAL; every other run lists none.
    result, _, summary, explained = runs["pool-local"]
    assert NOT_POOLABLE in result.stderr
    assert summary["pool"] == ["SKILLS", "LOCAL"] and summary["pool_not_poolable"] == ["LOCAL"]
    assert ("  The scenario pools LOCAL although the case marks it poolable = no: the pooled level is a what-if "
            "beyond the pots that may join a pool today.") in explained
    for name in (None, "half-skills", "wider"):
        assert runs[name][2]["pool_not_poolable"] == [] and "poolable = no" not in runs[name][0].stderr
        assert not any("poolable = no" in line for line in runs[name][3])


def test_pooling_a_pot_not_poolable_is_said_by_validate_agree_and_compare(scenario_case, scenarios, tmp_path):
    sc = scenarios["pool-local"]
    assert NOT_POOLABLE in ok(run("validate", scenario_case, "--scenario", sc)).stderr
    agreed = ok(run("agree", scenario_case, "--scenario", sc, "--out", tmp_path / "agreement", "--solver", "cbc"))
    assert NOT_POOLABLE in agreed.stderr
    assert json.loads((tmp_path / "agreement" / "summary.json").read_text())["pool_not_poolable"] == ["LOCAL"]
    compared = ok(run("compare", scenario_case, scenarios["half-skills"], sc, "--out", tmp_path / "compare",
                      "--solver", "cbc", "--workers", "1"))
    assert NOT_POOLABLE in compared.stderr


# ---- 17. labels say what was run --------------------------------------------------------------------
@pytest.mark.parametrize("text, changed", [
    ("name: s\n", False),
    ("name: s\nbudgets:\n  SKILLS: {multiply: 0.5}\n", False),          # money, not rules
    ("name: s\nbudgets:\n  SKILLS: {year: 2025-26, amount: 1000}\n", False),
    ("name: s\nneed:\n  - {cohort: OLDER, multiply: 1.2}\n", False),       # evidence, not rules
    ("name: s\nbudgets:\n  WORK: {end: 2026-03-31}\n", True),              # a pot's years
    ("name: s\neligibility:\n  LOCAL: {add_cohorts: [OLDER]}\n", True),
    ("name: s\neligibility:\n  WORK: {carry_forward: 1}\n", True),
    ("name: s\neligibility:\n  LOCAL: {add_cohorts: [YOUNG]}\n", False),   # LOCAL already funds YOUNG
    ("name: s\nrules:\n  - {rule: max_share, pot_code: SKILLS, cohort_code: YOUNG, value: 0.5}\n", True),
    ("name: s\nlock:\n  - {pot_code: WORK}\n", True),
    ("name: s\nobjective: value\n", True),
    ("name: s\nobjective: outcomes\n", False),                             # the case's own objective
    ("name: s\nequity_floor: 0.5\n", True),
    # The pool changes the pooled level, not the rules the aligned level keeps.
    ("name: s\npool: [SKILLS]\n", False),                                  # the default pool is SKILLS + WORK
    ("name: s\npool: [WORK, SKILLS]\n", False),                            # the same pool, named
    ("name: s\npool: all\n", False),
    ("name: s\npool: none\n", False),
], ids=lambda v: str(v).replace("\n", " ").strip() if isinstance(v, str) else str(v))
def test_changes_rules_reads_what_the_scenario_changes(scenario_case, tmp_path, text, changed):
    case = load_case(scenario_case)
    sc = load_scenario(SC.write_scenario(tmp_path, "s.yaml", text), case)
    assert changes_rules(case, sc) is changed
    assert apply_scenario(case, sc).rules_changed is changed
    assert case.rules_changed is False


def _results_summary(folder: Path) -> tuple[dict, list]:
    ws = openpyxl.load_workbook(folder / "results.xlsx")["Summary"]
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 12)}
    header = next([c.value for c in row] for row in ws.iter_rows() if row[0].value == "Measure")
    return facts, header


@pytest.mark.parametrize("name, run_words, rules", [
    (None, f"Case '{CASE_NAME}'", "today's rules"),
    ("half-skills", f"Scenario 'half-skills' on case '{CASE_NAME}'", "today's rules"),
    ("wider", f"Scenario 'wider' on case '{CASE_NAME}'", "the scenario's rules"),
])
def test_labels_say_what_was_run(runs, name, run_words, rules):
    result, folder, summary, explained = runs[name]
    assert result.stdout.splitlines()[0].startswith(f"{run_words}: optimal (solver cbc")
    assert summary["scenario_applied"] is (name is not None)
    assert summary["rules_changed"] is (rules != "today's rules")
    assert explained[0] == f"{run_words} — optimal, objective: outcomes."
    assert any(line.startswith(f"  Aligned under {rules}: ") for line in explained)
    facts, header = _results_summary(folder)
    assert facts["Run"] == run_words
    assert header[1:4] == ["baseline (today)", f"aligned ({rules}, coordinated)",
                           "pooled (local pool under an agreement)"]
    # The CSVs keep their columns: the scenario column is the case's name without a scenario.
    with open(folder / "allocations.csv", encoding="utf-8") as fh:
        assert {r["scenario"] for r in csv.DictReader(fh)} == {name or CASE_NAME}
    assert summary["scenario"] == (name or CASE_NAME)


def test_agreement_and_sensitivity_labels(scenario_case, scenarios, tmp_path):
    agreed = ok(run("agree", scenario_case, "--scenario", scenarios["wider"], "--out", tmp_path / "a",
                    "--solver", "cbc"))
    assert agreed.stdout.splitlines()[0] == (f"Scenario 'wider' on case '{CASE_NAME}': Local Labour Market Agreement, DRAFT, "
                                             "2025-26 to 2029-30")
    wb = openpyxl.load_workbook(tmp_path / "a" / "agreement.xlsx")
    summary_cells = {c.value for row in wb["Summary"].iter_rows() for c in row if isinstance(c.value, str)}
    assert "aligned (the scenario's rules, coordinated)" in summary_cells
    assert "aligned (today's rules, coordinated)" not in summary_cells
    assert wb["Pooled budget"]["A2"].value.endswith("retained pots keep the scenario's rules.")

    plain = ok(run("agree", scenario_case, "--out", tmp_path / "b", "--solver", "cbc"))
    assert plain.stdout.splitlines()[0].startswith(f"Case '{CASE_NAME}': Local Labour Market Agreement, DRAFT")
    wb = openpyxl.load_workbook(tmp_path / "b" / "agreement.xlsx")
    assert "aligned (today's rules, coordinated)" in {c.value for row in wb["Summary"].iter_rows() for c in row}
    assert wb["Pooled budget"]["A2"].value.endswith("retained pots keep today's rules.")

    spread = ok(run("sensitivity", scenario_case, "--draws", "1", "--out", tmp_path / "s", "--solver", "cbc"))
    assert spread.stdout.splitlines()[0].startswith(f"Case '{CASE_NAME}': need drawn within ±10%")
    assert json.loads((tmp_path / "s" / "sensitivity.json").read_text())["run"] == f"Case '{CASE_NAME}'"


@pytest.mark.parametrize("names, board_words", [
    (["half-skills"], "today's rules"),
    (["half-skills", "wider"], "each scenario's own rules"),
])
def test_compare_labels(scenario_case, scenarios, tmp_path, names, board_words):
    ok(run("compare", scenario_case, *[scenarios[n] for n in names], "--out", tmp_path / "cmp", "--solver", "cbc",
           "--workers", "1"))
    wb = openpyxl.load_workbook(tmp_path / "cmp" / "comparison.xlsx")
    labels = [wb["Board summary"].cell(r, 1).value for r in range(5, 9)]
    assert f"Outcomes under {board_words}, coordinated (aligned)" in labels
    ws = wb["Scenarios"]
    head = [c.value for c in ws[1]]
    rules = {ws.cell(r, 1).value: ws.cell(r, head.index("rules") + 1).value for r in range(2, ws.max_row + 1)}
    assert rules == {n: {"half-skills": "today's rules", "wider": "the scenario's rules"}[n] for n in names}
    with open(tmp_path / "cmp" / "comparison.csv", encoding="utf-8") as fh:
        assert "rules" not in next(csv.reader(fh))  # the CSV keeps its columns
