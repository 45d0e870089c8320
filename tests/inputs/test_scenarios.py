"""Scenarios change exactly what they say, and bad scenario files are rejected with the place named.

The tiny case is described in :mod:`scenariocases`. Each overlay test checks the changed
field and that nothing else in the case moved (``changed_fields``).
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from scenariocases import BUDGET, NEED, Y1, Y2, write_case, write_scenario

from commissioning.cli import main
from commissioning.errors import CaseError, InfeasibleError
from commissioning.inputs.scenario import apply_scenario, load_scenario
from commissioning.inputs.validate import load_case
from optimiser.levels import optimise_case

FIELDS = ("areas", "cohorts", "pots", "budgets", "need", "footprints", "rates", "provision", "rules", "settings",
          "scenario", "pool", "locks")


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    return write_case(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def base(case_dir):
    return load_case(case_dir)


def overlay(base, tmp_path, text: str, filename: str = "s.yaml"):
    path = write_scenario(tmp_path, filename, text)
    return apply_scenario(base, load_scenario(path, base))


def changed_fields(before, after) -> set[str]:
    return {f for f in FIELDS if getattr(before, f) != getattr(after, f)}


def amounts(alloc, **match) -> float:
    sel = alloc
    for k, v in match.items():
        sel = sel[sel[k] == v]
    return float(sel["amount"].sum())


# ---- what a scenario changes ---------------------------------------------------------------------
def test_name_and_description_only_change_nothing_but_the_name(base, tmp_path):
    after = overlay(base, tmp_path, "name: today\ndescription: Today's rules, unchanged\n")
    assert changed_fields(base, after) == {"scenario"}
    assert after.scenario == "today"


def test_budget_multiply_every_year_of_one_pot(base, tmp_path):
    after = overlay(base, tmp_path, "name: cut\nbudgets:\n  SKILLS: {multiply: 0.5}\n")
    assert changed_fields(base, after) == {"budgets", "scenario"}
    assert after.budget == {("SKILLS", Y1): 30000, ("SKILLS", Y2): 30000, ("WORK", Y1): 40000,
                            ("WORK", Y2): 40000, ("LOCAL", Y1): 10000, ("LOCAL", Y2): 10000}


def test_budget_entries_by_year_multiply_one_and_replace_another(base, tmp_path):
    after = overlay(base, tmp_path, f"name: by-year\nbudgets:\n  SKILLS:\n    - {{year: {Y1}, multiply: 2}}\n"
                                    f"    - {{year: {Y2}, amount: 5000}}\n  LOCAL: {{amount: 7500}}\n")
    assert changed_fields(base, after) == {"budgets", "scenario"}
    # SKILLS: 60,000 × 2 in Y1, replaced by 5,000 in Y2; LOCAL replaced in every year; WORK untouched.
    assert after.budget == {("SKILLS", Y1): 120000, ("SKILLS", Y2): 5000, ("WORK", Y1): 40000,
                            ("WORK", Y2): 40000, ("LOCAL", Y1): 7500, ("LOCAL", Y2): 7500}


def test_budget_end_drops_later_budgets(base, tmp_path):
    after = overlay(base, tmp_path, "name: ends\nbudgets:\n  WORK: {end: 2026-03-31}\n")
    assert changed_fields(base, after) == {"budgets", "pots", "scenario"}
    assert ("WORK", Y2) not in after.budget and after.budget[("WORK", Y1)] == 40000
    assert str(after.pot["WORK"].end) == "2026-03-31"
    assert not after.pot["WORK"].in_life(Y2)
    assert sum(b.amount for b in after.budgets) == sum(BUDGET.values()) * 2 - 40000


@pytest.mark.parametrize("pool, expected", [("[SKILLS]", {"SKILLS"}), ("all", {"SKILLS", "WORK"}),
                                            ("none", set()), ("[SKILLS, LOCAL]", {"SKILLS", "LOCAL"})])
def test_pool(base, tmp_path, pool, expected):
    after = overlay(base, tmp_path, f"name: pool\npool: {pool}\n")
    assert changed_fields(base, after) <= {"pool", "scenario"}
    run = optimise_case(after)
    assert run.pool == frozenset(expected)
    if not expected:
        # Nothing pooled: the pooled level is the aligned optimum (85 outcomes, see scenariocases).
        assert run.levels["pooled"].totals == run.levels["aligned"].totals
        assert run.levels["aligned"].totals["outcomes"] == pytest.approx(85, abs=1e-6)


def test_pool_of_one_pot_is_used_by_the_pooled_level(base, tmp_path):
    # With WORK pooled alone, WORK buys only its own programme in its own area: nothing changes
    # against aligned. With SKILLS and WORK pooled, WORK money reaches YOUNG at £1,000 a head: 95.
    only_work = optimise_case(overlay(base, tmp_path, "name: w\npool: [WORK]\n"))
    both = optimise_case(overlay(base, tmp_path, "name: sw\npool: [SKILLS, WORK]\n"))
    assert only_work.levels["pooled"].totals["outcomes"] == pytest.approx(85, abs=1e-6)
    assert both.levels["pooled"].totals["outcomes"] == pytest.approx(95, abs=1e-6)


def test_eligibility_add_and_remove_cohorts(base, tmp_path):
    after = overlay(base, tmp_path, "name: cohorts\neligibility:\n  WORK: {add_cohorts: [YOUNG]}\n"
                                    "  SKILLS: {remove_cohorts: [OLDER]}\n")
    assert changed_fields(base, after) == {"pots", "scenario"}
    assert after.pot_cohorts["WORK"] == {"OLDER", "YOUNG"}
    assert after.pot_cohorts["SKILLS"] == {"YOUNG"}
    assert after.pot_cohorts["LOCAL"] == base.pot_cohorts["LOCAL"]
    assert after.eligibility.may_fund("WORK", "A2", "YOUNG", Y1) and not after.eligibility.may_fund("SKILLS", "A1", "OLDER", Y1)


def test_eligibility_add_and_remove_areas_with_footprints(base, tmp_path):
    after = overlay(base, tmp_path, "name: areas\neligibility:\n  LOCAL: {add_areas: [F1]}\n"
                                    "  SKILLS: {remove_areas: [A2]}\n  WORK: {add_areas: [A1], remove_areas: [F1]}\n")
    assert changed_fields(base, after) == {"pots", "scenario"}
    assert after.pot_areas["LOCAL"] == {"A1", "A2"}  # F1 is both towns
    assert after.pot_areas["SKILLS"] == {"A1"}  # ALL less A2
    assert after.pot_areas["WORK"] == set()  # A2 and A1 added, then the whole footprint removed


def test_eligibility_carry_forward_match_rate_and_end(base, tmp_path):
    after = overlay(base, tmp_path, "name: rules\neligibility:\n"
                                    "  SKILLS: {carry_forward: 1, match_rate: 0.1}\n  WORK: {end: 2026-03-31}\n")
    assert changed_fields(base, after) == {"pots", "budgets", "scenario"}
    assert after.pot["SKILLS"].carry_forward == 1 and after.pot["SKILLS"].match_rate == 0.1
    assert after.available("SKILLS", Y2) == 120000  # its own year's money plus last year's
    assert str(after.pot["WORK"].end) == "2026-03-31" and ("WORK", Y2) not in after.budget


def test_need_multipliers_apply_in_order_and_narrow(base, tmp_path):
    after = overlay(base, tmp_path, f"name: need\nneed:\n  - {{cohort: YOUNG, multiply: 2}}\n"
                                    f"  - {{area: A1, year: {Y2}, multiply: 0.5}}\n"
                                    f"  - {{area: F1, cohort: OLDER, multiply: 3}}\n")
    assert changed_fields(base, after) == {"need", "scenario"}
    got = {(n.area_code, n.cohort_code, n.year): n.people for n in after.need}
    expected = {}
    for (a, c), people in NEED.items():
        for y in (Y1, Y2):
            p = people * (2 if c == "YOUNG" else 1)
            p *= 0.5 if (a == "A1" and y == Y2) else 1
            p *= 3 if c == "OLDER" else 1  # F1 is both areas
            expected[(a, c, y)] = p
    assert got == expected
    assert got[("A1", "YOUNG", Y2)] == 40  # 40 × 2 × 0.5
    assert got[("A1", "OLDER", Y2)] == 45  # 30 × 0.5 × 3


def test_extra_rules_are_appended_and_bind(base, tmp_path):
    text = (f"name: cap\nrules:\n  - {{rule: max_amount, pot_code: SKILLS, area_code: A2, cohort_code: YOUNG, "
            f"year: {Y1}, value: 12000, note: cap the youth offer}}\n")
    after = overlay(base, tmp_path, text, "cap.yaml")
    assert changed_fields(base, after) == {"rules", "scenario"}
    assert after.rules[:-1] == base.rules
    rule = after.rules[-1]
    assert (rule.rule, rule.pot_code, rule.area_code, rule.cohort_code, rule.year, rule.value) == \
        ("max_amount", "SKILLS", "A2", "YOUNG", Y1, 12000)
    assert "cap.yaml" in rule.origin
    before = optimise_case(base).levels["aligned"].allocations
    aligned = optimise_case(after).levels["aligned"].allocations
    assert amounts(before, pot_code="SKILLS", area_code="A2", cohort_code="YOUNG", year=Y1) == 30000
    assert amounts(aligned, pot_code="SKILLS", area_code="A2", cohort_code="YOUNG", year=Y1) == 12000


def test_objective_and_equity_floor(base, tmp_path):
    after = overlay(base, tmp_path, "name: fair\nobjective: value\nequity_floor: 0.5\n")
    assert changed_fields(base, after) == {"settings", "scenario"}
    assert after.settings.objective == "value" and after.settings.equity_floor == 0.5
    assert after.settings.name == base.settings.name
    assert optimise_case(after).objective == "value"


def test_lock_keeps_provision_exactly(base, tmp_path):
    after = overlay(base, tmp_path, "name: lock\nlock:\n  - {pot_code: WORK}\n  - {pot_code: SKILLS, area_code: A1}\n")
    assert changed_fields(base, after) == {"locks", "scenario"}
    assert {(p.pot_code, p.area_code, p.cohort_code, p.year, p.amount) for p in after.locks} == \
        {("WORK", "A2", "OLDER", Y1, 20000), ("SKILLS", "A1", "YOUNG", Y1, 10000)}
    run = optimise_case(after)
    for level in ("aligned", "pooled"):
        alloc = run.levels[level].allocations
        # Unlocked, aligned puts all £40,000 of WORK's Y1 money there and pooled none of it.
        assert amounts(alloc, pot_code="WORK", area_code="A2", cohort_code="OLDER", year=Y1) == 20000
        assert amounts(alloc, pot_code="SKILLS", area_code="A1", cohort_code="YOUNG", year=Y1) == 10000


def test_lock_narrowed_by_year_keeps_only_that_year(base, tmp_path):
    after = overlay(base, tmp_path, f"name: lock-y1\nlock:\n  - {{pot_code: LOCAL, year: {Y1}}}\n")
    assert [(p.pot_code, p.year, p.amount) for p in after.locks] == [("LOCAL", Y1, 5000)]
    alloc = optimise_case(after).levels["aligned"].allocations
    assert amounts(alloc, pot_code="LOCAL", area_code="A1", cohort_code="YOUNG", year=Y1) == 5000


def test_impossible_lock_is_infeasible_naming_the_lock(case_dir, tmp_path):
    # WORK may no longer fund OLDER, yet its OLDER provision is locked.
    path = write_scenario(tmp_path, "badlock.yaml", "name: badlock\nlock:\n  - {pot_code: WORK}\n"
                                                     "eligibility:\n  WORK: {remove_cohorts: [OLDER], add_cohorts: [YOUNG]}\n")
    with pytest.raises(InfeasibleError):
        optimise_case(apply_scenario(load_case(case_dir), load_scenario(path, load_case(case_dir))))
    result = CliRunner().invoke(main, ["optimise", str(case_dir), "--scenario", str(path), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "lock: WORK keeps £20,000 for OLDER in Southvale 2025-26" in result.output
    assert not (tmp_path / "out").exists()


def test_lock_beyond_need_is_infeasible_naming_the_lock(case_dir, tmp_path):
    path = write_scenario(tmp_path, "overlock.yaml", "name: overlock\nlock:\n  - {pot_code: SKILLS}\n"
                                                      "need:\n  - {cohort: YOUNG, area: A1, multiply: 0.1}\n")
    result = CliRunner().invoke(main, ["optimise", str(case_dir), "--scenario", str(path), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "lock: SKILLS keeps £10,000 for YOUNG in Northtown 2025-26" in result.output


# ---- bad scenario files ------------------------------------------------------------------------
BAD = {
    "unknown-top-key": ("name: x\nbudget:\n  SKILLS: {multiply: 2}\n", 2, "budget", "unknown key 'budget'"),
    "unknown-nested-key": ("name: x\nbudgets:\n  SKILLS: {multiplier: 2}\n", 3, "budgets.SKILLS.multiplier",
                           "unknown key 'multiplier'"),
    "unknown-eligibility-key": ("name: x\neligibility:\n  SKILLS:\n    add_cohort: [OLDER]\n", 4,
                                "eligibility.SKILLS.add_cohort", "unknown key 'add_cohort'"),
    "unknown-pot": ("name: x\ndescription: d\nbudgets:\n  NOPE: {multiply: 2}\n", 4, "budgets.NOPE",
                    "unknown pot code 'NOPE'"),
    "unknown-pool-pot": ("name: x\npool: [SKILLS, NOPE]\n", 2, "pool.1", "unknown pot code 'NOPE'"),
    "unknown-cohort": ("name: x\neligibility:\n  SKILLS: {add_cohorts: [NOBODY]}\n", 3,
                       "eligibility.SKILLS.add_cohorts", "unknown cohort code 'NOBODY'"),
    "unknown-area": ("name: x\neligibility:\n  SKILLS: {add_areas: [ZZ9]}\n", 3, "eligibility.SKILLS.add_areas",
                     "unknown area or footprint code 'ZZ9'"),
    "unknown-need-area": ("name: x\nneed:\n  - {cohort: YOUNG, multiply: 2}\n  - {area: ZZ9, multiply: 2}\n", 4,
                          "need.1.area", "unknown area code 'ZZ9'"),
    "unknown-lock-cohort": ("name: x\nlock:\n  - {cohort_code: NOBODY}\n", 3, "lock.0.cohort_code",
                            "unknown cohort code 'NOBODY'"),
    "multiply-and-amount": (f"name: x\nbudgets:\n  SKILLS:\n    - {{multiply: 2}}\n    - {{year: {Y1}, amount: 5}}\n",
                            5, "budgets.SKILLS.1.amount", "both multiply and amount for SKILLS in 2025-26"),
    "year-not-in-case": ("name: x\nbudgets:\n  SKILLS: {year: 2031-32, amount: 5}\n", 3, "budgets.SKILLS.year",
                         "2031-32 is not a year of the case"),
    "year-not-a-year": ("name: x\nneed:\n  - {year: 2025, multiply: 2}\n", 3, "need.0.year",
                        "'2025' is not a financial year"),
    "equity-out-of-range": ("name: x\nequity_floor: 1.5\n", 2, "equity_floor", "1.5 is out of range"),
    "match-rate-out-of-range": ("name: x\neligibility:\n  WORK: {match_rate: 2}\n", 3,
                                "eligibility.WORK.match_rate", "2 is out of range"),
    "negative-multiplier": ("name: x\nneed:\n  - {cohort: OLDER, multiply: -1}\n", 3, "need.0.multiply",
                            "-1 is out of range"),
    "bad-objective": ("name: x\nobjective: happiness\n", 2, "objective", "'happiness'"),
    "missing-name": ("description: no name here\npool: none\n", None, "name", "no name"),
}


def _check_named(output: str, filename: str, line: int | None, key: str, found: str) -> None:
    place = f"{filename}, line {line}, key '{key}'" if line else f"{filename}, key '{key}'"
    assert place in output, output
    assert found in output, output


@pytest.mark.parametrize("label", sorted(BAD))
def test_bad_scenario_is_rejected_with_file_line_and_key(case_dir, tmp_path, label):
    text, line, key, found = BAD[label]
    path = write_scenario(tmp_path, f"{label}.yaml", text)
    result = CliRunner().invoke(main, ["validate", str(case_dir), "--scenario", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    _check_named(result.output, path.name, line, key, found)
    # The same file is refused by optimise before anything is solved or written.
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["optimise", str(case_dir), "--scenario", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    _check_named(result.output, path.name, line, key, found)
    assert not out.exists()


def test_not_yaml_is_rejected_with_the_line(case_dir, tmp_path):
    path = write_scenario(tmp_path, "broken.yaml", "name: x\nbudgets:\n  SKILLS: {multiply: 2\n")
    result = CliRunner().invoke(main, ["validate", str(case_dir), "--scenario", str(path)])
    assert result.exit_code == 2
    assert re.search(r"broken\.yaml, line \d+: is not valid YAML", result.output), result.output


def test_lock_without_provision_is_rejected(tmp_path):
    case_dir = write_case(tmp_path / "noprov", provision=False)
    path = write_scenario(tmp_path, "lock.yaml", "name: x\ndescription: keep WORK\nlock:\n  - {pot_code: WORK}\n")
    result = CliRunner().invoke(main, ["validate", str(case_dir), "--scenario", str(path)])
    assert result.exit_code == 2
    _check_named(result.output, "lock.yaml", 3, "lock", "the case has no provision table")


def test_every_problem_in_a_file_is_reported_at_once(case_dir, tmp_path):
    path = write_scenario(tmp_path, "many.yaml", "name: x\npools: all\nbudgets:\n  NOPE: {multiply: 2}\n"
                                                 "equity_floor: -1\n")
    with pytest.raises(CaseError) as e:
        load_scenario(path, load_case(case_dir))
    assert {p.column for p in e.value.problems} == {"pools", "budgets.NOPE", "equity_floor"}


def test_missing_scenario_file_is_a_user_error(case_dir, tmp_path):
    result = CliRunner().invoke(main, ["validate", str(case_dir), "--scenario", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such scenario file" in result.output


GOOD = [
    "name: a\ndescription: Today's rules\n",
    "name: b\nbudgets:\n  SKILLS: {multiply: 0.9}\n  WORK: [{year: 2025-26, amount: 1000}, {year: 2026-27, multiply: 2}]\n",
    "name: c\npool: [SKILLS, WORK]\neligibility:\n  LOCAL: {add_areas: [F1], carry_forward: 1, end: 2027-03-31}\n",
    "name: d\nneed:\n  - {area: F1, cohort: YOUNG, year: 2026-27, multiply: 1.2}\nequity_floor: 0.8\nobjective: coverage\n",
    "name: e\nrules:\n  - {rule: min_share, pot_code: SKILLS, cohort_code: OLDER, value: 0.2}\nlock:\n  - {pot_code: LOCAL}\n",
]


@pytest.mark.parametrize("text", GOOD)
def test_validate_accepts_good_scenarios(case_dir, tmp_path, text):
    path = write_scenario(tmp_path, "good.yaml", text)
    result = CliRunner().invoke(main, ["validate", str(case_dir), "--scenario", str(path)])
    assert result.exit_code == 0, result.output
    assert "is valid against the case" in result.output


def test_example_scenarios_validate_and_say_what_they_are_for():
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    files = sorted((root / "scenarios").glob("*.yaml"))
    assert len(files) >= 5
    readme = (root / "scenarios" / "README.md").read_text(encoding="utf-8")
    for f in files:
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert data["description"] and "\n" not in data["description"].strip(), f.name
        assert f.name in readme, f"{f.name} is not listed in scenarios/README.md"
        result = CliRunner().invoke(main, ["--quiet", "validate", str(root), "--scenario", str(f)])
        assert result.exit_code == 0, result.output


def test_example_dwp_cut_names_every_dwp_pot():
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    case = load_case(root)
    data = yaml.safe_load((root / "scenarios" / "03-dwp-cut.yaml").read_text(encoding="utf-8"))
    assert set(data["budgets"]) == {p.code for p in case.pots if p.department == "DWP"}
    assert all(v == {"multiply": 0.9} for v in data["budgets"].values())
    after = apply_scenario(case, load_scenario(root / "scenarios" / "03-dwp-cut.yaml", case))
    assert changed_fields(case, after) == {"budgets", "scenario"}
    for b in case.budgets:
        factor = 0.9 if case.pot[b.pot_code].department == "DWP" else 1.0
        assert after.budget[(b.pot_code, b.year)] == b.amount * factor
