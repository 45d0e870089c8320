"""The models of a scenario file and of a case's settings: what they hold, and their problems word for word.

:mod:`commissioning.inputs.settings` states the keys (``ScenarioFile``, ``CaseSettings``);
every problem must read exactly as the command line has always reported it — file, line,
key, what was found and what was expected — in the same order. The tiny case is the one of
:mod:`scenariocases`.
"""

from __future__ import annotations

from datetime import date

import pytest
from scenariocases import Y1, Y2, write_case, write_scenario

from commissioning.errors import CaseError
from commissioning.inputs import schema as S
from commissioning.inputs.scenario import load_scenario
from commissioning.inputs.settings import (BudgetChange, CaseSettings, EligibilityChange, NeedChange, ScenarioFile,
                                           ScenarioLock, ScenarioRule)
from commissioning.inputs.validate import load_case, validate_path

TOP_KEYS = ("name, description, budgets, pool, eligibility, need, rules, objective, equity_floor, lock, "
            "transition, near_optimal, programme_scale, protect, least_disruption")
SETTINGS_KEYS = ("name, objective, equity_floor, parties, lead_body, term_years, start_year, transition, "
                 "near_optimal, programme_scale, protect, least_disruption, package_share, price_base, discount_rate, "
                 "optimism_bias, settlement, gss_vintage")


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    return write_case(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def base(case_dir):
    return load_case(case_dir)


def problems(base, tmp_path, name: str, text: str) -> str:
    """The message a scenario file is rejected with."""
    with pytest.raises(CaseError) as e:
        load_scenario(write_scenario(tmp_path, name, text), base)
    return str(e.value)


# ---- the models are the statement of the keys --------------------------------------------------
@pytest.mark.parametrize("model", [ScenarioFile, BudgetChange, EligibilityChange, NeedChange, ScenarioRule,
                                   ScenarioLock, CaseSettings])
def test_every_key_is_documented_and_no_other_is_allowed(model):
    assert model.model_config["extra"] == "forbid"
    assert all(f.description for f in model.model_fields.values()), model


def test_the_settings_model_documents_the_keys_the_templates_write():
    assert {k: f.description for k, f in CaseSettings.model_fields.items()} == S.SETTINGS_KEYS


# ---- scenario files ----------------------------------------------------------------------------
def test_scenario_unknown_keys(base, tmp_path):
    text = "name: s\nbudgest:\n  WORK: {multiply: 0.9}\nbudgets:\n  WORK: {multiply: 0.9, multiplier: 2}\n"
    assert problems(base, tmp_path, "unknown.yaml", text) == (
        "2 problems found:\n"
        f"  - unknown.yaml, line 2, key 'budgest': unknown key 'budgest' (expected one of {TOP_KEYS})\n"
        "  - unknown.yaml, line 5, key 'budgets.WORK.multiplier': unknown key 'multiplier' "
        "(expected one of multiply, amount, end, year)")


def test_scenario_wrong_types(base, tmp_path):
    text = (f"name: s\nbudgets:\n  WORK:\n    - {{multiply: 'half'}}\n    - {{year: {Y2}, amount: -5}}\n"
            "equity_floor: .nan\neligibility:\n  SKILLS: {carry_forward: 1.5, match_rate: ~}\n")
    assert problems(base, tmp_path, "types.yaml", text) == (
        "6 problems found:\n"
        "  - types.yaml, line 4, key 'budgets.WORK.0.multiply': 'half' is not a number (expected a number)\n"
        "  - types.yaml, line 5, key 'budgets.WORK.1.amount': -5 is out of range (expected a number 0 or more)\n"
        f"  - types.yaml, line 5, key 'budgets.WORK.1.amount': both multiply and amount for WORK in {Y2} "
        "(expected either a multiplier or an amount for a pot and year)\n"
        "  - types.yaml, line 8, key 'eligibility.SKILLS.carry_forward': 1.5 is not whole "
        "(expected a whole number of years)\n"
        "  - types.yaml, line 8, key 'eligibility.SKILLS.match_rate': 'None' is not a number (expected a number)\n"
        "  - types.yaml, line 6, key 'equity_floor': 'nan' is not a finite number (expected a number)")


def test_scenario_problems_keep_their_order_within_an_entry(base, tmp_path):
    # Unknown keys first, then each entry's checks in their own order (need: multiply first;
    # a rule: rule, value, then the codes), and a lock's provision match last.
    text = ("name: s\nneed:\n  - {year: 2030-31, cohort: NOPE, colour: red}\n  - {multiply: 1.2, area: F1}\n"
            "rules:\n  - {value: 2, rule: min_share, pot_code: WORK, cohort_code: NOPE}\n  - {rule: top_share}\n"
            f"lock:\n  - {{pot_code: WORK, year: {Y2}}}\n")
    assert problems(base, tmp_path, "order.yaml", text) == (
        "9 problems found:\n"
        "  - order.yaml, line 3, key 'need.0.colour': unknown key 'colour' (expected one of cohort, area, year, "
        "multiply)\n"
        "  - order.yaml, line 3, key 'need.0': no multiply (expected a 'multiply:' factor)\n"
        "  - order.yaml, line 3, key 'need.0.cohort': unknown cohort code 'NOPE' (expected a cohort code of the case)\n"
        f"  - order.yaml, line 3, key 'need.0.year': 2030-31 is not a year of the case (expected one of {Y1}, {Y2})\n"
        "  - order.yaml, line 6, key 'rules.0.value': a share of 2 (expected a share from 0 to 1)\n"
        "  - order.yaml, line 6, key 'rules.0.cohort_code': unknown cohort code 'NOPE' (expected a cohort code, or ALL)\n"
        "  - order.yaml, line 7, key 'rules.1.rule': 'top_share' (expected min_share, max_share, min_amount or "
        "max_amount)\n"
        "  - order.yaml, line 7, key 'rules.1': no value (expected a 'value:')\n"
        "  - order.yaml, line 9, key 'lock.0': matches no provision row (expected a lock that names provision the "
        "case has)")


def test_a_wrong_pot_or_year_hides_the_rest_of_its_entry(base, tmp_path):
    text = ("name: s\nbudgets:\n  NOPE: {multiply: x, colour: red}\n  WORK: {year: 2031-32, multiply: x}\n"
            "eligibility:\n  NOPE: {end: never}\n  WORK: {end: 2020-01-01, add_cohorts: [YOUNG, MIDDLE, ELDER]}\n")
    assert problems(base, tmp_path, "hide.yaml", text) == (
        "6 problems found:\n"
        "  - hide.yaml, line 3, key 'budgets.NOPE': unknown pot code 'NOPE' (expected a pot code of the case)\n"
        f"  - hide.yaml, line 4, key 'budgets.WORK.year': 2031-32 is not a year of the case (expected one of {Y1}, "
        f"{Y2})\n"
        "  - hide.yaml, line 6, key 'eligibility.NOPE': unknown pot code 'NOPE' (expected a pot code of the case)\n"
        "  - hide.yaml, line 7, key 'eligibility.WORK.end': 2020-01-01 is before the pot's start 2025-04-01 "
        "(expected an end on or after the start)\n"
        "  - hide.yaml, line 7, key 'eligibility.WORK.add_cohorts': unknown cohort code 'MIDDLE' "
        "(expected a cohort code of the case)\n"
        "  - hide.yaml, line 7, key 'eligibility.WORK.add_cohorts': unknown cohort code 'ELDER' "
        "(expected a cohort code of the case)")


def test_a_valid_scenario_is_read_as_typed_values(base, tmp_path):
    text = (f"name: 7\ndescription: A what-if\nbudgets:\n  WORK: {{year: {Y2}, amount: 5000}}\n  SKILLS:\n"
            "    - {multiply: 2}\n    - {end: 2026-03-31}\npool: none\n"
            "eligibility:\n  LOCAL: {add_areas: [F1], carry_forward: 1, match_rate: 0}\n"
            "need:\n  - {cohort: YOUNG, multiply: 1}\nrules:\n  - {rule: max_amount, value: 100, note: 5}\n"
            "objective: value\nequity_floor: 0.5\nlock:\n  - {pot_code: WORK}\n")
    sc = load_scenario(write_scenario(tmp_path, "valid.yaml", text), base)
    f = sc.file.model_dump(exclude_none=True)
    assert (sc.name, sc.description) == ("7", "A what-if")
    assert f["budgets"] == {"WORK": [{"year": Y2, "amount": 5000.0}],
                            "SKILLS": [{"multiply": 2.0}, {"end": date(2026, 3, 31)}]}
    assert f["pool"] == []
    assert f["eligibility"] == {"LOCAL": {"add_areas": ["F1"], "carry_forward": 1.0, "match_rate": 0.0}}
    assert f["need"] == [{"cohort": "YOUNG", "multiply": 1.0}]
    assert f["rules"] == [{"rule": "max_amount", "pot_code": "ALL", "area_code": "ALL", "cohort_code": "ALL",
                           "year": "ALL", "value": 100.0, "note": "5"}]
    assert (f["objective"], f["equity_floor"]) == ("value", 0.5)
    assert f["lock"] == [{"pot_code": "WORK"}]


# ---- case.yaml ---------------------------------------------------------------------------------
def settings_errors(folder, text: str) -> list[str]:
    (folder / "case.yaml").write_text(text, encoding="utf-8")
    return [str(p) for p in validate_path(folder).errors]


def test_case_yaml_unknown_key(tmp_path):
    folder = write_case(tmp_path / "c")
    assert settings_errors(folder, "name: Tiny\nobjective: outcomes\ncolour: blue\n") == [
        f"case.yaml, line 3, key 'colour': unknown key 'colour' (expected one of {SETTINGS_KEYS})"]


def test_case_yaml_wrong_types(tmp_path):
    folder = write_case(tmp_path / "c")
    text = ("name: [Tiny]\nobjective: ' profit '\nequity_floor: half\nterm_years: 0\nstart_year: 2025\n"
            "parties: {a: 1}\nlead_body:\n")
    assert settings_errors(folder, text) == [
        "case.yaml, line 1, key 'name': a list (expected one piece of text)",
        "case.yaml, line 2, key 'objective': ' profit ' (expected outcomes, value, fiscal, economic, social or coverage)",
        "case.yaml, line 3, key 'equity_floor': 'half' is not a number (expected a share from 0 to 1)",
        "case.yaml, line 4, key 'term_years': 0 (expected a whole number of years, 1 or more)",
        "case.yaml, line 5, key 'start_year': '2025' is not a financial year (expected a year written like 2025-26)",
        "case.yaml, line 6, key 'parties': not a list of names (expected a list of party names)"]


def test_case_yaml_valid(tmp_path):
    folder = write_case(tmp_path / "c")
    text = ("name: Tiny\nobjective: ' value '\nequity_floor: '0.5'\nparties: [Council, 7]\nlead_body:\n"
            "term_years: 3\nstart_year: 2025-26\n")
    assert settings_errors(folder, text) == []
    s = load_case(folder).settings
    assert (s.name, s.objective, s.equity_floor, s.parties, s.lead_body, s.term_years, s.start_year) == \
        ("Tiny", "value", 0.5, ("Council", "7"), None, 3, "2025-26")
