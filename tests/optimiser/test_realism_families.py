"""Hand-worked cases for issue 16's families: contracts, transition limits, least disruption,
capacity, pots that stay home, protection floors and minimum awards — with both solvers.

Every case is small enough to solve on paper; the arithmetic is in each test's comment.
Unless a test says otherwise: one year (2025-26), £1,000 a head, cohorts' outcome rates as
given, every pot's money use-it-or-lose-it.
"""

from __future__ import annotations

import numpy as np
import pytest

from lpcases import Y1, Y2, amounts, by, make_case, pot
from optimiser.baseline import today_cells
from optimiser.levels import optimise_case

SOLVERS = ["cbc", "highs"]


def moved(case, alloc) -> float:
    """Σ max(0, today − plan) over today's cells, £."""
    plan = amounts(alloc)
    t = today_cells(case)
    return float(sum(max(0.0, amt - plan.get(k, 0.0))
                     for k, amt in zip(zip(t.pot_code, t.area_code, t.cohort_code, t.year), t.amount)))


def two_cohorts(tmp_path, provision, settings=None, years=(Y1,), budget=10_000):
    """One area A1; cohorts C1 (rate 0.2) and C2 (rate 0.5), need 100 each year; pot P £budget a year."""
    return make_case(tmp_path / "case", areas=["A1"], cohorts={"C1": 0.2, "C2": 0.5}, pots=[pot("P")],
                     budgets={("P", y): budget for y in years},
                     need={("A1", c, y): 100 for c in ("C1", "C2") for y in years},
                     provision=provision, settings=settings)


# ---- contracts -------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_a_contract_is_kept_until_its_end_and_free_after(tmp_path, solver):
    # Today P spends £6,000 a year on C1 under a contract ending 31 March 2026: 2025-26 is
    # contracted (it starts 1 April 2025, before the end), 2026-27 is not (it starts after).
    # 2025-26: £6,000 stays on C1 (6 people, 1.2 outcomes); the other £4,000 goes to C2
    #          (4 people × 0.5 = 2 outcomes).
    # 2026-27: the contract has ended: all £10,000 to C2 (10 × 0.5 = 5 outcomes).
    # Aligned: 1.2 + 2 + 5 = 8.2 outcomes (without the contract it would be 10).
    signed = {"amount": 6000, "contract_end": "2026-03-31"}
    case = two_cohorts(tmp_path, {("P", "A1", "C1", Y1): signed, ("P", "A1", "C1", Y2): signed}, years=(Y1, Y2))
    run = optimise_case(case, solver=solver)
    got = amounts(run.levels["aligned"].allocations)
    assert got == {("P", "A1", "C1", Y1): 6000.0, ("P", "A1", "C2", Y1): 4000.0, ("P", "A1", "C2", Y2): 10000.0}
    assert run.levels["aligned"].totals["outcomes"] == pytest.approx(8.2)
    assert run.levels["pooled"].totals["outcomes"] == pytest.approx(8.2)


# ---- transition limits -------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_max_change_holds_each_cohort_within_a_quarter_of_today(tmp_path, solver):
    # Today: C1 £8,000, C2 £2,000 (baseline 1.6 + 1 = 2.6 outcomes). Unlimited, all £10,000
    # would go to C2 (5 outcomes). With max_change 0.25: C2 ≤ 1.25 × £2,000 = £2,500 and
    # C1 ≥ 0.75 × £8,000 = £6,000; the rest of the money still buys C1 outcomes, so
    # C1 = £7,500, C2 = £2,500: 7.5 × 0.2 + 2.5 × 0.5 = 2.75 outcomes.
    case = two_cohorts(tmp_path, {("P", "A1", "C1", Y1): 8000, ("P", "A1", "C2", Y1): 2000},
                       settings={"transition": {"max_change": 0.25}})
    run = optimise_case(case, solver=solver)
    aligned = run.levels["aligned"]
    assert amounts(aligned.allocations) == {("P", "A1", "C1", Y1): 7500.0, ("P", "A1", "C2", Y1): 2500.0}
    assert aligned.totals["outcomes"] == pytest.approx(2.75)
    binding = aligned.constraints[aligned.constraints["binding"]]
    assert "transition" in set(binding["family"])


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_moved_caps_the_money_taken_from_today(tmp_path, solver):
    # Same case, max_moved 0.3: at most 0.3 × £10,000 = £3,000 leaves today's cells. The
    # optimum takes it all from C1 (worse per pound) to C2: C1 £5,000, C2 £5,000,
    # 1 + 2.5 = 3.5 outcomes, money moved exactly £3,000.
    case = two_cohorts(tmp_path, {("P", "A1", "C1", Y1): 8000, ("P", "A1", "C2", Y1): 2000},
                       settings={"transition": {"max_moved": 0.3}})
    run = optimise_case(case, solver=solver)
    aligned = run.levels["aligned"]
    assert amounts(aligned.allocations) == {("P", "A1", "C1", Y1): 5000.0, ("P", "A1", "C2", Y1): 5000.0}
    assert aligned.totals["outcomes"] == pytest.approx(3.5)
    assert moved(case, aligned.allocations) == pytest.approx(3000.0)


# ---- least disruption ------------------------------------------------------------------------------
def _twin_areas(tmp_path, settings=None):
    # Areas A1 and A2; cohorts C1 (0.2) and C2 (0.5), need of C2 7 in A1 and 5 in A2, 100
    # of C1 in each; pot P £10,000. Today: A1 C1 £5,000 and A2 C2 £5,000.
    return make_case(tmp_path / "case", areas=["A1", "A2"], cohorts={"C1": 0.2, "C2": 0.5}, pots=[pot("P")],
                     budgets={("P", Y1): 10_000},
                     need={("A1", "C1", Y1): 100, ("A2", "C1", Y1): 100, ("A1", "C2", Y1): 7, ("A2", "C2", Y1): 5},
                     provision={("P", "A1", "C1", Y1): 5000, ("P", "A2", "C2", Y1): 5000}, settings=settings)


@pytest.mark.parametrize("solver", SOLVERS)
def test_least_disruption_takes_the_closer_of_two_equal_optima(tmp_path, solver):
    # Every optimum buys 10 C2 participants (5 outcomes): A2 takes £X from £3,000 to £5,000
    # (its need of 5), A1 the other £10,000 − X (at most its 7). Distance Σ|plan − today|
    # = |X − 5,000| + (10,000 − X) + |0 − 5,000| = 20,000 − 2X, least at X = £5,000:
    #   A2 £5,000 / A1 £5,000: 0 + 5,000 + 5,000 = £10,000 (unique);
    #   A2 £3,000 / A1 £7,000: 2,000 + 7,000 + 5,000 = £14,000.
    # Money moved is A1 C1's £5,000.
    case = _twin_areas(tmp_path)
    run = optimise_case(case, solver=solver)
    aligned = run.levels["aligned"]
    assert amounts(aligned.allocations) == {("P", "A2", "C2", Y1): 5000.0, ("P", "A1", "C2", Y1): 5000.0}
    assert aligned.totals["outcomes"] == pytest.approx(5.0)
    assert moved(case, aligned.allocations) == pytest.approx(5000.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_near_optimal_lets_today_stand_when_it_is_within_the_tolerance(tmp_path, solver):
    # near_optimal 0.5: any plan with at least half the optimum's 5 outcomes may be taken.
    # Today's plan buys 5 × 0.2 + 5 × 0.5 = 3.5 ≥ 2.5 outcomes at distance 0: it stands.
    case = _twin_areas(tmp_path, settings={"near_optimal": 0.5})
    run = optimise_case(case, solver=solver)
    aligned = run.levels["aligned"]
    assert amounts(aligned.allocations) == {("P", "A1", "C1", Y1): 5000.0, ("P", "A2", "C2", Y1): 5000.0}
    assert aligned.totals["outcomes"] == pytest.approx(3.5)


def test_least_disruption_off_may_take_the_farther_optimum(tmp_path):
    # least_disruption: false — the solver's fixed preference decides among the optima
    # (any X from £3,000 to £5,000); the outcomes are the same 5.
    case = _twin_areas(tmp_path, settings={"least_disruption": False})
    run = optimise_case(case, solver="highs")
    assert run.levels["aligned"].lp.disruption is None
    assert run.levels["aligned"].totals["outcomes"] == pytest.approx(5.0)


def test_least_disruption_gives_one_plan_whatever_the_solver(tmp_path):
    case = _twin_areas(tmp_path)
    plans = [amounts(optimise_case(case, solver=s).levels["aligned"].allocations) for s in SOLVERS]
    assert plans[0] == plans[1]


# ---- programme capacity ----------------------------------------------------------------------------
def _cheap_and_dear(tmp_path, capacity=None, settings=None):
    # One area, one cohort C (rate 0.5, need 100). Pool of P1 (£500 a head, £1,000) and P2
    # (£1,000 a head, £9,000), both poolable.
    cheap = pot("P1", unit_cost=500, poolable=True)
    if capacity is not None:
        cheap["capacity"] = capacity
    return make_case(tmp_path / "case", areas=["A1"], cohorts={"C": 0.5},
                     pots=[cheap, pot("P2", unit_cost=1000, poolable=True)],
                     budgets={("P1", Y1): 1000, ("P2", Y1): 9000}, need={("A1", "C", Y1): 100}, settings=settings)


@pytest.mark.parametrize("solver", SOLVERS)
def test_programme_scale_caps_a_programme_the_pool_buys(tmp_path, solver):
    # Aligned: P1 buys 2 people, P2 9: 11 people, 5.5 outcomes.
    # Pooled, unlimited: £10,000 at £500 = 20 people. With programme_scale 2 (the default),
    # P1's programme serves at most 2 × £1,000 / £500 = 4 people: £2,000 through it (P1's
    # £1,000 and £1,000 of P2's), P2's other £8,000 on its own programme (8 people):
    # 12 people, 6 outcomes.
    run = optimise_case(_cheap_and_dear(tmp_path), solver=solver)
    assert run.levels["aligned"].totals["participants"] == pytest.approx(11.0)
    pooled = run.levels["pooled"]
    assert pooled.totals["participants"] == pytest.approx(12.0)
    assert by(pooled.allocations, "programme", column="participants") == pytest.approx({"P1": 4.0, "P2": 8.0})
    assert "capacity" in set(pooled.constraints.loc[pooled.constraints["binding"], "family"])


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_stated_capacity_replaces_the_multiple(tmp_path, solver):
    # capacity 10: P1's programme takes 10 people (£5,000), P2's own the other £5,000
    # (5 people): 15 people, 7.5 outcomes.
    run = optimise_case(_cheap_and_dear(tmp_path, capacity=10), solver=solver)
    pooled = run.levels["pooled"]
    assert by(pooled.allocations, "programme", column="participants") == pytest.approx({"P1": 10.0, "P2": 5.0})
    assert pooled.totals["outcomes"] == pytest.approx(7.5)


# ---- where pooled money may go ------------------------------------------------------------------------
def _home_case(tmp_path, **local):
    # L: a council's own budget (basis local), A1 only, £1,000 a head, £5,000; need in A1
    # is 2 people. N: a national pot for A2, £1,250 a head, £1,000; need in A2 is 100.
    # Cohort C, rate 0.5. Both poolable.
    return make_case(tmp_path / "case", areas=["A1", "A2"], cohorts={"C": 0.5},
                     pots=[{**pot("L", geography="A1", poolable=True, basis="local"), **local},
                           pot("N", geography="A2", unit_cost=1250, poolable=True, basis="national")],
                     budgets={("L", Y1): 5000, ("N", Y1): 1000},
                     need={("A1", "C", Y1): 2, ("A2", "C", Y1): 100})


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_local_budget_stays_in_its_own_area_in_the_pool(tmp_path, solver):
    # Aligned: L serves A1's 2 people (£2,000, £3,000 idle); N 0.8 people in A2.
    # Pooled: L may not leave A1; N buys L's cheaper programme in A2 (£1,000 at £1,000 = 1
    # person): 3 people. L's £3,000 stays idle.
    run = optimise_case(_home_case(tmp_path), solver=solver)
    pooled = run.levels["pooled"]
    assert by(pooled.allocations, "pot_code", "area_code") == {("L", "A1"): 2000.0, ("N", "A2"): 1000.0}
    assert pooled.totals["participants"] == pytest.approx(3.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_pool_areas_pool_lets_it_go(tmp_path, solver):
    # pool_areas = pool: L's other £3,000 serves 3 people in A2: 2 + 3 + 1 = 6 people.
    run = optimise_case(_home_case(tmp_path, pool_areas="pool"), solver=solver)
    pooled = run.levels["pooled"]
    assert by(pooled.allocations, "pot_code", "area_code") == {("L", "A1"): 2000.0, ("L", "A2"): 3000.0,
                                                               ("N", "A2"): 1000.0}
    assert pooled.totals["participants"] == pytest.approx(6.0)


# ---- protection ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("protect", [{"cohorts": {"C1": 0.5}}, {"cohorts": 0.5}])
def test_a_protected_cohort_keeps_its_floor(tmp_path, solver, protect):
    # Today all £10,000 serves C1 (10 people). Unprotected, all of it goes to C2 (5
    # outcomes) and C1 drops to 0. With a floor of half: C1 keeps 5 people (£5,000), C2
    # gets £5,000: 5 × 0.2 + 5 × 0.5 = 3.5 outcomes. (C2 has nobody today: no floor.)
    case = two_cohorts(tmp_path, {("P", "A1", "C1", Y1): 10_000}, settings={"protect": protect})
    run = optimise_case(case, solver=solver)
    for level in ("aligned", "pooled"):
        got = run.levels[level]
        assert amounts(got.allocations) == {("P", "A1", "C1", Y1): 5000.0, ("P", "A1", "C2", Y1): 5000.0}
        assert got.totals["outcomes"] == pytest.approx(3.5)


# ---- minimum award ----------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_a_minimum_award_forces_all_or_nothing(tmp_path, solver):
    # P (£5,000, min_award £4,000) may fund A1 (need 4) and A2 (need 2). As an LP: 5
    # people, 2.5 outcomes. With the minimum: A2 can take at most £2,000 < £4,000, so
    # nothing; A1 takes £4,000; £1,000 idle: 4 people, 2 outcomes. The LP bound stays 2.5,
    # 20% above the plan (the MIP itself is proven optimal).
    case = make_case(tmp_path / "case", areas=["A1", "A2"], cohorts={"C": 0.5},
                     pots=[{**pot("P"), "min_award": 4000}], budgets={("P", Y1): 5000},
                     need={("A1", "C", Y1): 4, ("A2", "C", Y1): 2})
    run = optimise_case(case, solver=solver)
    aligned = run.levels["aligned"]
    assert amounts(aligned.allocations) == {("P", "A1", "C", Y1): 4000.0}
    assert aligned.totals["outcomes"] == pytest.approx(2.0)
    assert aligned.solution.lp_bound == pytest.approx(2.5)
    assert aligned.solution.mip_gap == pytest.approx(0.2)


def test_without_the_new_settings_every_level_is_a_plain_lp(tmp_path):
    # A case that states none of them has no extra rows but the moved rows least disruption
    # needs (it has provision), and no whole-valued columns.
    case = two_cohorts(tmp_path, {("P", "A1", "C1", Y1): 8000})
    run = optimise_case(case, solver="highs")
    lp = run.levels["aligned"].lp
    assert not lp.is_mip
    families = {b.family for b in lp.blocks}
    assert families == {"pot_budget", "need_cap", "moved"}
    assert np.all(np.isfinite(lp.disruption))


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_minimum_award_the_relaxation_already_meets_is_proven_by_rounding(tmp_path, solver):
    # min_award £1,000: the LP optimum spends £4,000 in A1 and £1,000 in A2 (5 people,
    # 2.5 outcomes), both at least £1,000, so turning both switches on loses nothing: the
    # plan is the LP optimum, gap 0, and no branching was needed.
    case = make_case(tmp_path / "case", areas=["A1", "A2"], cohorts={"C": 0.5},
                     pots=[{**pot("P"), "min_award": 1000}], budgets={("P", Y1): 5000},
                     need={("A1", "C", Y1): 4, ("A2", "C", Y1): 2})
    aligned = optimise_case(case, solver=solver).levels["aligned"]
    assert aligned.totals["outcomes"] == pytest.approx(2.5)
    assert aligned.solution.mip_gap == pytest.approx(0.0, abs=1e-12)
    assert aligned.solution.mip_method.startswith("rounding the LP relaxation")


def test_a_limit_on_money_moved_that_collides_with_a_rule_is_named(tmp_path):
    # Today £10,000 serves C1, but a rule caps P's C1 spending at £8,000: £2,000 must move,
    # and max_moved 0.1 lets only £1,000. The diagnosis names both.
    from commissioning.errors import InfeasibleError
    from lpcases import rule

    case = make_case(tmp_path / "case", areas=["A1"], cohorts={"C1": 0.2, "C2": 0.5}, pots=[pot("P")],
                     budgets={("P", Y1): 10_000}, need={("A1", "C1", Y1): 100, ("A1", "C2", Y1): 100},
                     provision={("P", "A1", "C1", Y1): 10_000},
                     rules=[rule("max_amount", 8000, pot="P", cohort="C1")],
                     settings={"transition": {"max_moved": 0.1}})
    with pytest.raises(InfeasibleError) as e:
        optimise_case(case, solver="highs")
    said = [(c.family, c.kind, c.description) for c in e.value.collisions]
    assert ("max_moved", "short", "at most 10% of today's money moves: needs £1,000 more room") in said
    assert any(f == "rule" and k == "limit" for f, k, _ in said)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_minimum_award_no_cell_can_take_collides_with_a_floor_and_is_named(tmp_path, solver):
    # P (£60,000, min_award £50,000) serves A1 (need 100) and A2 (need 5) today with £5,000
    # each; A2's floor keeps half of its 5 people, but A2 can take at most £5,000 < £50,000:
    # nothing or at least £50,000 cannot both hold. The elastic diagnosis keeps the switches
    # whole, so it names the floor (it was "numerical trouble" before, and HiGHS crashed).
    from commissioning.errors import InfeasibleError

    case = make_case(tmp_path / "case", areas=["A1", "A2"], cohorts={"C": 0.5},
                     pots=[{**pot("P"), "min_award": 50_000}], budgets={("P", Y1): 60_000},
                     need={("A1", "C", Y1): 100, ("A2", "C", Y1): 5},
                     provision={("P", "A1", "C", Y1): 5000, ("P", "A2", "C", Y1): 5000},
                     settings={"protect": {"areas": {"A2": 0.5}}})
    with pytest.raises(InfeasibleError) as e:
        optimise_case(case, solver=solver)
    said = [(c.family, c.kind, c.description) for c in e.value.collisions]
    assert ("protect", "short", "Area A2 keeps at least 50% of today's participants in 2025-26: can be met only "
            "up to 0 of 2 people") in said, said


def test_a_contract_whose_money_is_cut_to_nothing_keeps_nothing(tmp_path):
    # A scenario (here: a zero budget) leaves the contracted pot no money: the baseline pays
    # nothing, so the contract keeps £0 — not an impossible "keep £0" row.
    case = two_cohorts(tmp_path, {("P", "A1", "C1", Y1): {"amount": 6000, "contract_end": "2026-03-31"}},
                       budget=0)
    run = optimise_case(case, solver="highs")
    assert run.levels["aligned"].totals["allocated"] == 0.0
