"""Infeasible cases: no crash, exit code 3, the colliding rules named, nothing written.

Tiny CSV cases (local helper below), run through ``commissioning optimise`` with Click's
``CliRunner`` on both solvers. One area A1 "Northtown", year 2025-26, one pot P funding
cohorts C and D at £1,000 a head with £10,000, every rate 0.5, unless said.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from commissioning.cli import main
from commissioning.errors import InfeasibleError
from commissioning.inputs.validate import load_case
from optimiser.levels import optimise_case

from explaincases import SOLVERS, Y1, min_share_case, one_pot_case, pot, rule, write_case


def no_scope_case(folder: Path) -> Path:
    """min_amount £1,000 in Southvale from all pots together; no pot covers it: nothing in scope.

    (Naming one pot that cannot fund its scope is a validation error instead.)
    """
    return one_pot_case(folder, [rule("min_amount", 1000, "Southvale floor", area="A2", year=Y1)],
                        need={("A1", "C", Y1): 20, ("A2", "C", Y1): 20}, areas=("A1", "A2"))


def two_floors_case(folder: Path) -> Path:
    """Two floors on the same £10,000: £3,000 on C and £9,000 on D = £12,000 > £10,000.

    Need is ample (50 each), so neither floor is impossible alone; together they collide
    with each other (and with P's budget). Both must be named.
    """
    return one_pot_case(folder, [rule("min_amount", 3000, "C floor", pot="P", cohort="C", year=Y1),
                                 rule("min_amount", 9000, "D floor", pot="P", cohort="D", year=Y1)],
                        need={("A1", "C", Y1): 50, ("A1", "D", Y1): 50})


def optimise(case: Path, out: Path, solver: str, *extra: str):
    return CliRunner().invoke(main, ["--quiet", "optimise", str(case), "--out", str(out), "--solver", solver, *extra])


def assert_infeasible_and_nothing_written(result, out: Path) -> str:
    assert result.exit_code == 3, (result.output, result.stderr, result.exception)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []  # no partial folder
    assert "Wrote" not in result.stdout
    return result.stderr


# ---- 5. infeasible cases ----------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_min_share_that_eligibility_cannot_meet(tmp_path, solver):
    out = tmp_path / "out"
    err = assert_infeasible_and_nothing_written(optimise(min_share_case(tmp_path / "case"), out, solver), out)
    assert "infeasible" in err
    # The rule by its note, how far it can be met (2 people × £1,000 of £5,000), what to do,
    # and what it collides with: C's need.
    assert "Half of P on cohort C" in err
    assert "can be met only up to £2,000 of £5,000" in err
    assert "suggestion: relax or remove this rule" in err
    assert "collides with: Northtown Cohort C 2025-26 need is fully met" in err


@pytest.mark.parametrize("solver", SOLVERS)
def test_min_amount_with_no_eligible_cell_in_scope(tmp_path, solver):
    out = tmp_path / "out"
    err = assert_infeasible_and_nothing_written(optimise(no_scope_case(tmp_path / "case"), out, solver), out)
    assert "Southvale floor" in err and "rules.csv row 2" in err
    assert "no eligible pot, area and cohort with need falls within its scope" in err
    assert "suggestion: relax or remove this rule" in err


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_colliding_rules_are_both_named(tmp_path, solver):
    # Today only the floor that absorbs the shortfall in the elastic diagnosis is named (D floor:
    # "met only up to £7,000 of £9,000"); the C floor it collides with is not mentioned at all.
    out = tmp_path / "out"
    err = assert_infeasible_and_nothing_written(optimise(two_floors_case(tmp_path / "case"), out, solver), out)
    assert "collides with: the Pot P (P) 2025-26 budget is exhausted" in err
    assert "D floor" in err
    assert "C floor" in err, err


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_impossible_share_and_an_empty_scope_are_named_together(tmp_path, solver):
    # Every collision at once: the rule with nothing in scope and the share need cannot meet.
    case = one_pot_case(tmp_path / "case", [
        rule("min_amount", 5000, "Half of P on cohort C", pot="P", cohort="C", year=Y1),
        rule("min_amount", 1000, "Southvale floor", area="A2", year=Y1),
    ], need={("A1", "C", Y1): 2, ("A1", "D", Y1): 50, ("A2", "C", Y1): 20}, areas=("A1", "A2"))
    out = tmp_path / "out"
    err = assert_infeasible_and_nothing_written(optimise(case, out, solver), out)
    assert "Southvale floor" in err and "Half of P on cohort C" in err
    assert "can be met only up to £2,000 of £5,000" in err


def test_an_infeasible_run_leaves_previous_results_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"scenario": "before"}', encoding="utf-8")
    result = optimise(min_share_case(tmp_path / "case"), out, "highs", "--force")
    assert result.exit_code == 3
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert (out / "summary.json").read_text(encoding="utf-8") == '{"scenario": "before"}'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_infeasible_is_an_error_with_collisions_not_a_crash(tmp_path):
    case = load_case(min_share_case(tmp_path / "case"))
    with pytest.raises(InfeasibleError) as info:
        optimise_case(case, solver="highs")
    e = info.value
    assert e.exit_code == 3 and e.level == "aligned"
    rules = [c for c in e.collisions if c.family == "rule"]
    assert len(rules) == 1 and "Half of P on cohort C" in rules[0].description
    assert rules[0].suggestion == "relax or remove this rule"
    assert any(c.family == "need_cap" for c in e.collisions)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_floor_that_its_match_cannot_support(tmp_path, solver):
    # M must spend £8,000 but needs £0.50 of match per £1; L's £2,000 is all the match there
    # is, so M can spend at most 2,000 / 0.5 = £4,000 of the £8,000.
    case = write_case(tmp_path / "case", cohorts={"E": 0.5},
                      pots=[pot("M", "E", match_rate=0.5), pot("L", "E", can_match=True)],
                      budgets={("M", Y1): 10000, ("L", Y1): 2000}, need={("A1", "E", Y1): 100},
                      rules=[rule("min_amount", 8000, "M must spend eight thousand", pot="M", year=Y1)])
    out = tmp_path / "out"
    err = assert_infeasible_and_nothing_written(optimise(case, out, solver), out)
    assert "M must spend eight thousand" in err and "can be met only up to £4,000 of £8,000" in err
    assert "collides with: the match funding in Northtown 2025-26 is fully used" in err
    assert "collides with: the Pot L (L) 2025-26 budget is exhausted" in err
