"""The frontier (commissioning.analysis.frontier), on cases worked by hand.

Every case has one area A1, one pot P (any area and cohort, £1,000 a head) and two cohorts:
C1, outcome rate 0.2, where today's provision sits, and C2, rate 0.6, which it does not reach.
Each £1,000 moved from C1 to C2 buys 0.6 − 0.2 = 0.4 more outcomes, so the frontier is a
straight line until C2's need is met.
"""

from __future__ import annotations

import math

import pytest

from lpcases import Y1, amounts, make_case, pot, rule
from commissioning.analysis.frontier import FRONTIER_COLUMNS, money_moved, trace_frontier
from optimiser.baseline import today_cells

SOLVERS = ["cbc", "highs"]


def _case(tmp_path, budget=10_000, rules=None):
    return make_case(tmp_path / "case", areas=["A1"], cohorts={"C1": 0.2, "C2": 0.6}, pots=[pot("P")],
                     budgets={("P", Y1): budget}, need={("A1", "C1", Y1): 10, ("A1", "C2", Y1): 5},
                     provision={("P", "A1", "C1", Y1): 10_000}, rules=rules)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_frontier_is_the_straight_line_from_today_to_the_optimum(tmp_path, solver):
    # Today: £10,000 on C1 = 10 people = 2 outcomes (Σ today = £10,000).
    # Optimum: C2's need of 5 served (£5,000, 3 outcomes), the other £5,000 kept on C1
    # (1 outcome): 4 outcomes, and it moves M* = £10,000 − £5,000 = £5,000 = 50% of today's.
    # Steps (N = 4) at shares k/4 × 50%: 0, 12.5%, 25%, 37.5%, 50% → £0, £1,250, £2,500,
    # £3,750, £5,000 moved → outcomes 2 + 0.4 × moved/£1,000 = 2, 2.5, 3, 3.5, 4, which is
    # k/4 of the dividend (4 − 2 = 2 outcomes) at step k.
    case = _case(tmp_path)
    fr = trace_frontier(case, solver=solver, steps=4)
    assert fr.today_money == pytest.approx(10_000)
    base = fr.baseline
    assert base.objective_value == pytest.approx(2.0) and base.money_moved == pytest.approx(0.0, abs=0.01)
    for level in ("aligned", "pooled"):  # P is not poolable: the pool changes nothing here
        pts = fr.level_points(level)
        assert [p.step for p in pts] == [0, 1, 2, 3, 4]
        assert [p.max_moved_share for p in pts] == pytest.approx([0, 0.125, 0.25, 0.375, 0.5])
        assert [p.money_moved for p in pts] == pytest.approx([0, 1250, 2500, 3750, 5000], abs=0.02)
        assert [p.objective_value for p in pts] == pytest.approx([2, 2.5, 3, 3.5, 4], abs=1e-5)
        assert [p.share_of_dividend for p in pts] == pytest.approx([0, 0.25, 0.5, 0.75, 1], abs=1e-5)
        assert all(p.status == "optimal" for p in pts)
    # Step 0 keeps today's plan; the last step is the unconstrained optimum.
    first, last = fr.level_points("aligned")[0], fr.optimum("aligned")
    assert amounts(first.allocations) == pytest.approx({("P", "A1", "C1", Y1): 10_000}, abs=0.02)
    assert amounts(last.allocations) == pytest.approx({("P", "A1", "C1", Y1): 5_000, ("P", "A1", "C2", Y1): 5_000},
                                                      abs=0.02)
    # A fifth of today's money (£2,000) is 2 + 0.8 = 2.8 outcomes, 0.8 / 2 = 40% of the dividend,
    # read off the line between steps 1 and 2.
    assert fr.dividend_at("aligned", 0.2) == pytest.approx(0.4, abs=1e-6)
    assert fr.dividend_at("aligned", 0.9) == pytest.approx(1.0)  # beyond M*: the whole dividend

    frame = fr.frame()
    assert list(frame.columns) == FRONTIER_COLUMNS
    assert list(frame["level"]) == ["baseline"] + ["aligned"] * 5 + ["pooled"] * 5
    assert frame["step"].isna().iloc[0] and math.isnan(frame["max_moved_share"].iloc[0])
    assert list(frame["outcomes"].iloc[1:6]) == pytest.approx([2, 2.5, 3, 3.5, 4], abs=1e-5)
    assert list(frame["money_moved_share"].iloc[1:6]) == pytest.approx([0, 0.125, 0.25, 0.375, 0.5], abs=1e-5)
    # £1 of need-serving money is one thousandth of a participant at £1,000 a head.
    assert list(frame["participants"].iloc[1:6]) == pytest.approx([10, 10, 10, 10, 10], abs=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_step_zero_spends_uncommitted_money_without_moving_todays(tmp_path, solver):
    # The pot has £12,000: £2,000 more than today's provision uses (baseline 2 outcomes).
    # Optimum: C2's need of 5 (£5,000, 3 outcomes) and £7,000 on C1 (1.4): 4.4 outcomes;
    # C1 falls from £10,000 to £7,000, so M* = £3,000 (30% of today's £10,000).
    # Step 0 (nothing moves): C1 keeps £10,000 and the £2,000 goes to C2: 2 + 1.2 = 3.2.
    # N = 3: £0, £1,000, £2,000, £3,000 moved → 3.2, 3.6, 4.0, 4.4 outcomes; dividend
    # 4.4 − 2 = 2.4, so shares (3.2 − 2)/2.4 = 0.5, then 0.6667, 0.8333, 1.
    case = _case(tmp_path, budget=12_000)
    fr = trace_frontier(case, solver=solver, steps=3)
    pts = fr.level_points("aligned")
    assert [p.money_moved for p in pts] == pytest.approx([0, 1000, 2000, 3000], abs=0.02)
    assert [p.objective_value for p in pts] == pytest.approx([3.2, 3.6, 4.0, 4.4], abs=1e-5)
    assert [p.share_of_dividend for p in pts] == pytest.approx([0.5, 2 / 3, 5 / 6, 1], abs=1e-5)
    assert amounts(pts[0].allocations) == pytest.approx({("P", "A1", "C1", Y1): 10_000, ("P", "A1", "C2", Y1): 2_000},
                                                        abs=0.02)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_step_that_keeps_a_rule_breaking_provision_has_no_plan(tmp_path, solver):
    # A rule caps P's spending on A1 C1 at £8,000; today's provision there is £10,000, so any
    # plan moves at least £2,000. Optimum as in the first test (M* = £5,000, 4 outcomes).
    # N = 4: £0 and £1,250 cannot be met (infeasible, no figures); £2,500 → 3, £3,750 → 3.5,
    # £5,000 → 4 outcomes.
    case = _case(tmp_path, rules=[rule("max_amount", 8000, pot="P", area="A1", cohort="C1", year=Y1)])
    fr = trace_frontier(case, solver=solver, steps=4)
    pts = fr.level_points("aligned")
    assert [p.status for p in pts] == ["infeasible", "infeasible", "optimal", "optimal", "optimal"]
    assert [p.objective_value for p in pts[2:]] == pytest.approx([3, 3.5, 4], abs=1e-5)
    assert math.isnan(pts[0].objective_value) and math.isnan(pts[0].share_of_dividend)
    frame = fr.frame()
    assert frame.loc[1, "status"] == "infeasible" and math.isnan(frame.loc[1, "outcomes"])
    assert fr.dividend_at("aligned", 0.1) is None  # £1,000 moved: no plan moves that little
    assert fr.dividend_at("aligned", 0.3) == pytest.approx(0.5 + 0.25 * 500 / 1250, abs=1e-6)


def test_money_moved_is_what_leaves_todays_cells(tmp_path):
    # Today £10,000 on (P, A1, C1). A plan of £4,000 there and £6,000 on C2 takes £6,000
    # from today's cell; the money added to C2 moves nothing.
    case = _case(tmp_path)
    import pandas as pd

    plan = pd.DataFrame({"pot_code": ["P", "P"], "area_code": ["A1", "A1"], "cohort_code": ["C1", "C2"],
                         "year": [Y1, Y1], "amount": [4000.0, 6000.0]})
    assert money_moved(case, plan) == pytest.approx(6000)
    assert money_moved(case, plan.iloc[:0]) == pytest.approx(float(today_cells(case)["amount"].sum()))


def test_the_case_own_max_moved_is_lifted_for_the_optimum(tmp_path):
    # With transition.max_moved = 0.1 in case.yaml the optimum would move only £1,000; the
    # frontier lifts it, so its last step is the unconstrained optimum (4 outcomes, £5,000 moved).
    case = _case(tmp_path)
    case = case.with_changes(settings=case.settings.model_copy(
        update={"transition": case.settings.transition.model_copy(update={"max_moved": 0.1})}))
    fr = trace_frontier(case, solver="highs", steps=1)
    assert fr.optimum("aligned").objective_value == pytest.approx(4.0, abs=1e-6)
    assert fr.optimum("aligned").money_moved == pytest.approx(5000, abs=0.02)
    assert fr.level_points("aligned")[0].objective_value == pytest.approx(2.0, abs=1e-6)
