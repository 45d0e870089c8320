"""Near-optimal alternatives (optimiser.alternatives), on cases worked by hand.

The cases have one pot P (any area and cohort, £1,000 a head, £10,000 in 2025-26, not
poolable, so the pooled level is the aligned one) and two districts A1 and A2.
"""

from __future__ import annotations

import pytest

from lpcases import Y1, by, make_case, pot
from optimiser.alternatives import ALTERNATIVE_COLUMNS, alternatives_frame, run_alternatives
from optimiser.levels import optimise_case

SOLVERS = ["cbc", "highs"]


def _areas(alloc) -> dict[str, float]:
    return by(alloc, "area_code")


def _two_districts(tmp_path, cohorts, need, settings=None, provision=None):
    return make_case(tmp_path / "case", areas=["A1", "A2"], cohorts=cohorts, pots=[pot("P")],
                     budgets={("P", Y1): 10_000}, need=need, settings=settings, provision=provision)


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_identical_districts_the_alternative_uses_the_other_one(tmp_path, solver):
    # A1 and A2 each have 10 people of cohort C (rate 0.5). £10,000 buys 10 places: 5
    # outcomes wherever they are, so every split is optimal. The tie-break puts the optimum
    # in one district; alternative 1 minimises the money in (P, that district): all £10,000
    # in the other, still 5 outcomes. Its money is all in a pair the optimum left unused
    # (share 1), and all of it sits in another pair: ½ (£10,000 + £10,000) / £10,000 = 1.
    case = _two_districts(tmp_path, {"C": 0.5}, {("A1", "C", Y1): 10, ("A2", "C", Y1): 10})
    run = optimise_case(case, solver=solver)
    alts = run_alternatives(run, 2)
    for level in ("aligned", "pooled"):
        optimum = _areas(run.levels[level].allocations)
        assert len(optimum) == 1 and sum(optimum.values()) == pytest.approx(10_000)
        used = next(iter(optimum))
        other = "A2" if used == "A1" else "A1"
        first, second = alts[level]
        assert _areas(first.allocations) == pytest.approx({other: 10_000}, abs=0.02)
        assert first.objective_value == pytest.approx(5.0, abs=1e-6)
        assert first.share_of_optimum == pytest.approx(1.0, abs=1e-8)
        assert first.share_outside_optimum == pytest.approx(1.0)
        assert first.share_outside_earlier == pytest.approx(1.0)
        assert first.share_reallocated == pytest.approx(1.0)
        # Alternative 2: both pairs are used now, each carrying a whole plan's money (weight 1
        # each), so nothing tells them apart: still 5 outcomes, nothing in a new pair.
        assert second.objective_value == pytest.approx(5.0, abs=1e-6)
        assert second.share_outside_earlier == pytest.approx(0.0)
        assert sum(_areas(second.allocations).values()) == pytest.approx(10_000, abs=0.02)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_unique_optimum_is_its_own_alternative(tmp_path, solver):
    # Only A1 has need (10 people, rate 0.5): the £10,000 can go nowhere else. The
    # alternative repeats the optimum: 5 outcomes, every share of difference 0.
    case = _two_districts(tmp_path, {"C": 0.5}, {("A1", "C", Y1): 10})
    run = optimise_case(case, solver=solver)
    (alt,) = run_alternatives(run, 1)["aligned"]
    assert _areas(alt.allocations) == pytest.approx({"A1": 10_000}, abs=0.02)
    assert alt.objective_value == pytest.approx(5.0, abs=1e-6)
    assert (alt.share_outside_optimum, alt.share_outside_earlier, alt.share_reallocated) == pytest.approx((0, 0, 0))


@pytest.mark.parametrize("solver", SOLVERS)
def test_near_optimal_lets_the_alternative_give_up_the_tolerance(tmp_path, solver):
    # A1 has 10 people of C1 (rate 0.5), A2 10 of C2 (rate 0.45), same cost. Optimum: all
    # £10,000 in A1, 5 outcomes. With near_optimal = 0.05 an alternative needs
    # 0.5 y + 0.45 (10 − y) ≥ 0.95 × 5 = 4.75 (y = £k in A1), i.e. y ≥ 5; the least money in
    # (P, A1) is £5,000, the other £5,000 in A2 (spending stays at 0.95 × £10,000 or more):
    # 2.5 + 2.25 = 4.75 outcomes, half its money in a pair the optimum did not use.
    case = _two_districts(tmp_path, {"C1": 0.5, "C2": 0.45}, {("A1", "C1", Y1): 10, ("A2", "C2", Y1): 10},
                          settings={"near_optimal": 0.05})
    run = optimise_case(case, solver=solver)
    assert _areas(run.levels["aligned"].allocations) == pytest.approx({"A1": 10_000}, abs=0.02)
    (alt,) = run_alternatives(run, 1)["aligned"]
    assert _areas(alt.allocations) == pytest.approx({"A1": 5_000, "A2": 5_000}, abs=0.05)
    assert alt.objective_value == pytest.approx(4.75, abs=1e-4)
    assert alt.share_of_optimum == pytest.approx(0.95, abs=1e-5)
    assert alt.share_outside_optimum == pytest.approx(0.5, abs=1e-5)
    assert alt.share_reallocated == pytest.approx(0.5, abs=1e-5)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_tolerance_is_measured_from_the_optimum_not_from_the_least_disruptive_plan(tmp_path, solver):
    # As above, but today's provision is £10,000 on A2's C2 (4.5 outcomes) and near_optimal
    # is 0.1. Least disruption keeps today's plan, as 4.5 ≥ 0.9 × 5 (the optimum, all in A1).
    # The alternative minimises the money in (P, A2), the pair today's plan uses: all £10,000
    # goes to A1, 5 outcomes, which is 100% of the optimum (not 5 / 4.5 = 111%).
    case = _two_districts(tmp_path, {"C1": 0.5, "C2": 0.45}, {("A1", "C1", Y1): 10, ("A2", "C2", Y1): 10},
                          settings={"near_optimal": 0.1}, provision={("P", "A2", "C2", Y1): 10_000})
    run = optimise_case(case, solver=solver)
    assert _areas(run.levels["aligned"].allocations) == pytest.approx({"A2": 10_000}, abs=0.02)
    (alt,) = run_alternatives(run, 1)["aligned"]
    assert _areas(alt.allocations) == pytest.approx({"A1": 10_000}, abs=0.02)
    assert alt.objective_value == pytest.approx(5.0, abs=1e-5)
    assert alt.share_of_optimum == pytest.approx(1.0, abs=1e-6)


def test_the_alternatives_table(tmp_path):
    # Two alternatives of the two-district case: one row each (all the money in one cell),
    # per level, with the alternative's figures on its rows.
    case = _two_districts(tmp_path, {"C": 0.5}, {("A1", "C", Y1): 10, ("A2", "C", Y1): 10})
    run = optimise_case(case, solver="highs")
    frame = alternatives_frame(run_alternatives(run, 2))
    assert list(frame.columns) == ALTERNATIVE_COLUMNS
    assert list(frame["level"]) == ["aligned", "aligned", "pooled", "pooled"]
    assert list(frame["alternative"]) == [1, 2, 1, 2]
    assert list(frame["amount"]) == pytest.approx([10_000] * 4, abs=0.02)
    assert list(frame["outcomes"]) == pytest.approx([5] * 4, abs=1e-6)
    assert list(frame["objective_value"]) == pytest.approx([5] * 4, abs=1e-6)
    assert frame["share_outside_optimum"].iloc[0] == pytest.approx(1.0)  # alternative 1: the other district
    assert frame["share_outside_optimum"].iloc[2] == pytest.approx(1.0)
    assert set(frame["status"]) == {"optimal"}
    assert alternatives_frame({}).columns.tolist() == ALTERNATIVE_COLUMNS
    assert run_alternatives(run, 0) == {"aligned": [], "pooled": []}
