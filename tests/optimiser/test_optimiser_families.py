"""One hand-solvable case per constraint family, with the arithmetic in a comment.

Every case is written to the contract as a CSV folder (``tests/lpcases.py``), loaded through
the validator and solved by :func:`optimiser.levels.optimise_case` with both solvers. The
assertions are exact: money to the penny (``lpcases.by`` rounds sums to pence), people and
outcomes to a relative 1e-9.

Conventions of the arithmetic comments: £k = £ thousands; "0.5/£k" = outcomes per £1,000.
Years: Y1 = 2025-26, Y2 = 2026-27, Y3 = 2027-28.
"""

from __future__ import annotations

import pytest

from lpcases import Y1, Y2, Y3, amounts, by, cohort, make_case, pot, rate, rule
from optimiser.build import create_model
from optimiser.levels import optimise_case
from optimiser.solve import solve

SOLVERS = ["cbc", "highs"]
approx = pytest.approx


def aligned(case, solver):
    return optimise_case(case, solver=solver).levels["aligned"]


def check_totals(totals, **expected):
    for k, v in expected.items():
        assert totals[k] == approx(v, rel=1e-9, abs=1e-6), k


# ---- pot_budget: use it or lose it ------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_pot_budget_use_it_or_lose_it(tmp_path, solver):
    # P: £1,000 a head, carry_forward 0; budgets Y1 £50k, Y2 £10k; need Y1 20, Y2 100 (rate 0.5).
    # Y1: need caps spend at 20 × £1,000 = £20k; the other £30k is lost (cannot reach Y2).
    # Y2: the budget caps spend at £10k → 10 people.
    # Participants 30, outcomes 15, allocated £30k, idle £30k, unmet 0 + 90 = 90.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P")],
                     budgets={("P", Y1): 50_000, ("P", Y2): 10_000},
                     need={("A1", "C1", Y1): 20, ("A1", "C1", Y2): 100})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", "C1", Y1): 20_000, ("P", "A1", "C1", Y2): 10_000}
    check_totals(lv.totals, allocated=30_000, participants=30, outcomes=15, unmet_people=90, idle_amount=30_000)
    assert lv.solution.objective == approx(15, rel=1e-9)


# ---- carry_forward ------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_carry_forward_spends_year_one_money_in_year_two(tmp_path, solver):
    # P as above but carry_forward 1, and need Y1 20, Y2 40. The £30k left in Y1 rolls into Y2,
    # where £10k + £30k = £40k buys all 40 people (use it or lose it would buy 10).
    # Participants 20 + 40 = 60, outcomes 30, allocated £60k, idle 0, unmet 0.
    # (Both years need-capped, so the answer is unique: £60k = 20 + 40 people exactly.)
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P", carry_forward=1)],
                     budgets={("P", Y1): 50_000, ("P", Y2): 10_000},
                     need={("A1", "C1", Y1): 20, ("A1", "C1", Y2): 40})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", "C1", Y1): 20_000, ("P", "A1", "C1", Y2): 40_000}
    check_totals(lv.totals, allocated=60_000, participants=60, outcomes=30, unmet_people=0, idle_amount=0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_carry_forward_never_before_the_money_arrives(tmp_path, solver):
    # P (carry_forward 1) has £0 in Y1 and £50k in Y2; need Y1 100, Y2 10.
    # Y2 money may not go back to Y1: Y1 gets nothing, Y2 spends 10 × £1,000 = £10k, £40k idle.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P", carry_forward=1)],
                     budgets={("P", Y1): 0, ("P", Y2): 50_000},
                     need={("A1", "C1", Y1): 100, ("A1", "C1", Y2): 10})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", "C1", Y2): 10_000}
    check_totals(lv.totals, allocated=10_000, participants=10, outcomes=5, unmet_people=100, idle_amount=40_000)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("carry, expected, idle", [
    # carry_forward 1: Y1 money lives in Y1 and Y2 only: £10k + £10k spent, £30k expires, Y3 gets nothing.
    (1, {Y1: 10_000, Y2: 10_000}, 30_000),
    # carry_forward 2: it reaches Y3 too, where the remaining £30k buys all 30 people.
    (2, {Y1: 10_000, Y2: 10_000, Y3: 30_000}, 0),
])
def test_carry_forward_expires(tmp_path, solver, carry, expected, idle):
    # P: £50k in Y1 only; need Y1 10, Y2 10, Y3 30 (10 + 10 + 30 people = £50k: a unique answer).
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P", carry_forward=carry)],
                     budgets={("P", Y1): 50_000},
                     need={("A1", "C1", Y1): 10, ("A1", "C1", Y2): 10, ("A1", "C1", Y3): 30})
    lv = aligned(case, solver)
    assert by(lv.allocations, "year") == expected
    check_totals(lv.totals, allocated=50_000 - idle, idle_amount=idle, outcomes=(50_000 - idle) / 1000 * 0.5)


# ---- need_cap --------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_need_cap_surplus_goes_idle(tmp_path, solver):
    # A cheap pot (£500 a head, £50k) and 40 people in need: 40 × £500 = £20k buys them all;
    # the other £30k has no eligible need and is idle. Outcomes 40 × 0.5 = 20.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P", unit_cost=500)],
                     budgets={("P", Y1): 50_000}, need={("A1", "C1", Y1): 40})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", "C1", Y1): 20_000}
    assert by(lv.allocations, "cohort_code", column="participants") == approx({"C1": 40})
    check_totals(lv.totals, allocated=20_000, participants=40, outcomes=20, unmet_people=0, idle_amount=30_000)


@pytest.mark.parametrize("solver", SOLVERS)
def test_need_cap_sends_money_to_the_next_best_cohort(tmp_path, solver):
    # P: £500 a head, £50k. C1 (rate 0.5, 1.0/£k) has 40 people; C2 (rate 0.25, 0.5/£k) 1,000.
    # Uncapped, all £50k would go to C1 (100 people); capped, C1 takes 40 × £500 = £20k and
    # C2 the other £30k = 60 people. Outcomes 20 + 15 = 35.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25}, pots=[pot("P", unit_cost=500)],
                     budgets={("P", Y1): 50_000}, need={("A1", "C1", Y1): 40, ("A1", "C2", Y1): 1000})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", "C1", Y1): 20_000, ("P", "A1", "C2", Y1): 30_000}
    check_totals(lv.totals, allocated=50_000, participants=100, outcomes=35, unmet_people=940, idle_amount=0)


# ---- match -------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_match_limits_spend_to_twice_the_matching_spend_in_the_same_area_and_year(tmp_path, solver):
    # M needs match at 0.5 (£100k in Y1, £50k in Y2, anywhere); G can match (£10k in Y1, A1 only).
    # Both £1,000 a head, need 1,000 in every cell: money, not need, binds.
    # A1 Y1: G spends its £10k, so 0.5 · X_M ≤ 10k → M spends £20k.
    # A2 Y1 and A1 Y2: no matching spend there → M spends nothing.
    # Participants 30, outcomes 15, idle £80k + £50k = £130k.
    case = make_case(tmp_path, areas=["A1", "A2"], cohorts={"C1": 0.5},
                     pots=[pot("M", match_rate=0.5), pot("G", geography="A1", can_match=True)],
                     budgets={("M", Y1): 100_000, ("M", Y2): 50_000, ("G", Y1): 10_000},
                     need={("A1", "C1", Y1): 1000, ("A2", "C1", Y1): 1000, ("A1", "C1", Y2): 1000})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("M", "A1", "C1", Y1): 20_000, ("G", "A1", "C1", Y1): 10_000}
    check_totals(lv.totals, allocated=30_000, participants=30, outcomes=15, idle_amount=130_000)


@pytest.mark.parametrize("solver", SOLVERS)
def test_match_is_shared_by_every_pot_that_needs_it(tmp_path, solver):
    # M1 needs 0.5, M2 needs 0.25 (£30k), G matches £10k; all £1,000 a head, need 1,000.
    # One row per area and year: 0.5 · X_M1 + 0.25 · X_M2 ≤ X_G = 10k.
    # A pound of match unlocks £4 of M2 but only £2 of M1: M2 takes all £30k (uses £7.5k of
    # match), M1 the rest: 0.5 · X_M1 ≤ 2.5k → £5k. Total £45k = 45 people, 22.5 outcomes.
    # (Counting G's £10k for each pot separately would let M1 spend £20k.)
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5},
                     pots=[pot("M1", match_rate=0.5), pot("M2", match_rate=0.25), pot("G", can_match=True)],
                     budgets={("M1", Y1): 100_000, ("M2", Y1): 30_000, ("G", Y1): 10_000},
                     need={("A1", "C1", Y1): 1000})
    lv = aligned(case, solver)
    assert by(lv.allocations, "pot_code") == {"M1": 5_000, "M2": 30_000, "G": 10_000}
    check_totals(lv.totals, allocated=45_000, participants=45, outcomes=22.5, idle_amount=95_000)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_pot_that_needs_match_cannot_match_itself(tmp_path, solver):
    # S needs match at 0.5 and is marked can_match; its own spend does not count (documented in
    # optimiser/match.py), and no other pot matches: it spends nothing.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5},
                     pots=[pot("S", match_rate=0.5, can_match=True), pot("O")],
                     budgets={("S", Y1): 10_000, ("O", Y1): 1_000}, need={("A1", "C1", Y1): 1000})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("O", "A1", "C1", Y1): 1_000}


# ---- rules -------------------------------------------------------------------------------------
# P: £1,000 a head, £100k in Y1. C1 (rate 0.5, 0.5/£k) has 60 people, C2 (0.25, 0.25/£k) 100.
# Without rules: C1 £60k (need-capped), C2 £40k. Outcomes 30 + 10 = 40.
RULE_CASES = [
    (None, 60_000, 40_000, 40.0),
    # At most 40% of £100k on C1: C1 £40k, C2 £60k → 20 + 15 = 35.
    (rule("max_share", 0.4, pot="P", area="A1", cohort="C1", year=Y1), 40_000, 60_000, 35.0),
    # At most £45k on C1 (every pot, area and year): C1 £45k, C2 £55k → 22.5 + 13.75 = 36.25.
    (rule("max_amount", 45_000, cohort="C1"), 45_000, 55_000, 36.25),
    # At least 70% of P's £100k on C2: C2 £70k, C1 £30k → 15 + 17.5 = 32.5.
    (rule("min_share", 0.7, pot="P", cohort="C2"), 30_000, 70_000, 32.5),
    # At least £50k on C2 in A1 in Y1: C2 £50k, C1 £50k → 25 + 12.5 = 37.5.
    (rule("min_amount", 50_000, pot="P", area="A1", cohort="C2", year=Y1), 50_000, 50_000, 37.5),
]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("the_rule, c1, c2, outcomes", RULE_CASES,
                         ids=["no_rule", "max_share", "max_amount", "min_share", "min_amount"])
def test_rules_change_the_answer(tmp_path, solver, the_rule, c1, c2, outcomes):
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25}, pots=[pot("P")],
                     budgets={("P", Y1): 100_000}, need={("A1", "C1", Y1): 60, ("A1", "C2", Y1): 100},
                     rules=[the_rule] if the_rule else None)
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", "C1", Y1): c1, ("P", "A1", "C2", Y1): c2}
    check_totals(lv.totals, allocated=100_000, outcomes=outcomes, idle_amount=0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_rule_year_all_means_each_year(tmp_path, solver):
    # Documented decision (optimiser/rules.py): year ALL is one row per year, each a share of
    # that year's budget. P has £100k in each of Y1 and Y2, need as above each year; at most
    # 40% on C1 → C1 £40k in each year, C2 the other £60k.
    need = {(a, c, y): n for y in (Y1, Y2) for (a, c), n in {("A1", "C1"): 60, ("A1", "C2"): 100}.items()}
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25}, pots=[pot("P")],
                     budgets={("P", Y1): 100_000, ("P", Y2): 100_000}, need=need,
                     rules=[rule("max_share", 0.4, pot="P", cohort="C1")])
    lv = aligned(case, solver)
    assert by(lv.allocations, "cohort_code", "year") == {("C1", Y1): 40_000, ("C2", Y1): 60_000,
                                                         ("C1", Y2): 40_000, ("C2", Y2): 60_000}


@pytest.mark.parametrize("solver", SOLVERS)
def test_share_rule_on_all_pots_is_a_share_of_each_pot(tmp_path, solver):
    # Documented decision: pot ALL on a share rule = each pot's own money. P (£100k, any cohort)
    # and Q (£50k, C2 only); at most 40% on C1. P may put 40% × £100k = £40k on C1 (a share of
    # both pots' money would allow £60k, all of C1's need). C2 takes P's other £60k and Q's £50k.
    # Outcomes 40 × 0.5 + 110 × 0.25 = 47.5.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25},
                     pots=[pot("P"), pot("Q", cohorts="C2")],
                     budgets={("P", Y1): 100_000, ("Q", Y1): 50_000},
                     need={("A1", "C1", Y1): 60, ("A1", "C2", Y1): 1000},
                     rules=[rule("max_share", 0.4, cohort="C1")])
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", "C1", Y1): 40_000, ("P", "A1", "C2", Y1): 60_000,
                                       ("Q", "A1", "C2", Y1): 50_000}
    check_totals(lv.totals, outcomes=47.5)


@pytest.mark.parametrize("solver", SOLVERS)
def test_amount_rule_on_all_pots_is_a_total(tmp_path, solver):
    # Documented decision: pot ALL on an amount rule = the total over all pots. P and Q (£100k
    # each, any cohort); at most £50k on C1 in total (not £50k each): C1 £50k, C2 £150k.
    # Outcomes 50 × 0.5 + 150 × 0.25 = 62.5. (Which pot pays for C1 is a tie.)
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25}, pots=[pot("P"), pot("Q")],
                     budgets={("P", Y1): 100_000, ("Q", Y1): 100_000},
                     need={("A1", "C1", Y1): 150, ("A1", "C2", Y1): 1000},
                     rules=[rule("max_amount", 50_000, cohort="C1")])
    lv = aligned(case, solver)
    assert by(lv.allocations, "cohort_code") == {"C1": 50_000, "C2": 150_000}
    check_totals(lv.totals, outcomes=62.5)


# ---- equity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("floor, a1, a2, outcomes", [
    # No floor: A1's C1 (0.5/£k) first, 40 people = £40k; A2's C2 (0.25/£k) the other £20k.
    # Outcomes 20 + 5 = 25.
    (0.0, 40_000, 20_000, 25.0),
    # Floor 0.75: P_A2/80 ≥ 0.75 · P/120 → P_A2 ≥ P/2 → 30 and 30 people. Outcomes 15 + 7.5.
    (0.75, 30_000, 30_000, 22.5),
    # Floor 1.0: both areas at the same share of reachable need: s = 60/120 = 0.5 →
    # A1 20 of 40, A2 40 of 80. Outcomes 10 + 10 = 20.
    (1.0, 20_000, 40_000, 20.0),
])
def test_equity_floor_on_reachable_need(tmp_path, solver, floor, a1, a2, outcomes):
    # P: A1 and A2, cohorts C1 (rate 0.5) and C2 (0.25), £1,000 a head, £60k.
    # Need: A1·C1 40, A2·C2 80, and A3·C3 500 that no pot may fund. Documented decision
    # (optimiser/equity.py): only reachable need counts — were A3's 500 counted, floor 1.0
    # would force A3 (which nobody can serve) level with the rest, i.e. nothing anywhere.
    case = make_case(tmp_path, areas=["A1", "A2", "A3"], cohorts={"C1": 0.5, "C2": 0.25, "C3": 0.5},
                     pots=[pot("P", geography="A1;A2", cohorts="C1;C2")],
                     budgets={("P", Y1): 60_000},
                     need={("A1", "C1", Y1): 40, ("A2", "C2", Y1): 80, ("A3", "C3", Y1): 500},
                     settings={"equity_floor": floor})
    lv = aligned(case, solver)
    assert by(lv.allocations, "area_code") == {"A1": a1, "A2": a2}
    check_totals(lv.totals, allocated=60_000, participants=60, outcomes=outcomes)


# ---- objectives ------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("objective, cell, people, measure", [
    # Per £k through P (£1,000 a head, but £250 for CC through rates):
    #            outcomes            value (£)                 coverage (people)
    #   CO   0.5                 0.5 × £1,000  = 500            1
    #   CV   0.2                 0.2 × £10,000 = 2,000          1
    #   CC   4 × 0.05 = 0.2      0                              4
    # £10k buys: outcomes → CO 10 people (5 outcomes); value → CV 10 people (£20,000);
    # coverage → CC 40 people.
    ("outcomes", "CO", 10, 5.0),
    ("value", "CV", 10, 20_000.0),
    ("coverage", "CC", 40, 40.0),
])
def test_objectives_choose_different_cells(tmp_path, solver, objective, cell, people, measure):
    case = make_case(tmp_path, areas=["A1"],
                     cohorts=[cohort("CO", 0.5, 1000), cohort("CV", 0.2, 10_000), cohort("CC", 0.05)],
                     pots=[pot("P")], rates=[rate("P", "CC", unit_cost=250)],
                     budgets={("P", Y1): 10_000},
                     need={("A1", c, Y1): 100 for c in ("CO", "CV", "CC")},
                     settings={"objective": objective})
    lv = aligned(case, solver)
    assert amounts(lv.allocations) == {("P", "A1", cell, Y1): 10_000}
    assert by(lv.allocations, "cohort_code", column="participants") == approx({cell: people})
    # Phase two may give up to the documented 1e-9 of the primary to the tie-breaks (the
    # fixed preference always takes it), so the optimum reads within 2e-9.
    assert lv.solution.objective == approx(measure, rel=2e-9)
    natural = {"outcomes": "outcomes", "value": "value", "coverage": "participants"}[objective]
    assert lv.totals[natural] == approx(measure, rel=2e-9)


# ---- lexicographic tie-break: soonest-expiring money first ----------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("order", [("E", "K"), ("K", "E")])
def test_expiring_money_is_spent_first_without_changing_the_primary(tmp_path, solver, order):
    # E (carry_forward 0) and K (carry_forward 1) each have £20k in Y1, £1,000 a head; need 30
    # in Y1 and none in Y2 (a year of the case, inside both pots' lives). Any split of the 30
    # people gives 15 outcomes; E's money expires in Y1, K's could still be spent in Y2, so E
    # pays first: E £20k, K £10k. The primary optimum (15) is the same with or without phase two.
    pots = {"E": pot("E", end="2027-03-31"), "K": pot("K", carry_forward=1, end="2027-03-31")}
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pots[p] for p in order],
                     budgets={("E", Y1): 20_000, ("K", Y1): 20_000},
                     need={("A1", "C1", Y1): 30, ("A1", "C1", Y2): 0})
    lv = aligned(case, solver)
    assert by(lv.allocations, "pot_code") == {"E": 20_000, "K": 10_000}
    assert lv.solution.objective == approx(15, rel=1e-9)
    primary_only = solve(create_model(case), solver=solver, lexicographic=False)
    assert primary_only.objective == approx(15, rel=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("order", [("K1", "K2"), ("K2", "K1")])
def test_expiring_carried_money_is_spent_before_later_carried_money(tmp_path, solver, order):
    # K1 and K2 both carry forward one year; K1's £20k arrives in Y1 (last usable in Y2),
    # K2's £20k in Y2 (usable until Y3). Need: 10 people in Y2 only (Y1 and Y3 have none).
    # Either pot gives 5 outcomes; the tie-break (optimiser/objective.py: "spend the
    # soonest-expiring money first") must pick K1, whose money dies in Y2, in either order.
    pots = {"K1": pot("K1", carry_forward=1), "K2": pot("K2", carry_forward=1)}
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pots[p] for p in order],
                     budgets={("K1", Y1): 20_000, ("K2", Y2): 20_000},
                     need={("A1", "C1", Y1): 0, ("A1", "C1", Y2): 10, ("A1", "C1", Y3): 0})
    lv = aligned(case, solver)
    assert lv.solution.objective == approx(5, rel=1e-9)
    assert amounts(lv.allocations) == {("K1", "A1", "C1", Y2): 10_000}


# ---- pooled level and the three levels ----------------------------------------------------------
def three_level_case(tmp_path):
    # Areas A1, A2. Cohorts C1 and C2 (rate 0.5, £1,000 an outcome), C3 (rate 0.1, no value).
    #   P1  poolable  A1  C1     £1,000 a head  £10k
    #   P2  poolable  A2  C2;C3  £2,000 a head  £50k
    #   N   not       A2  C2     £1,000 a head  £10k
    # Need (Y1): A1·C1 10, A2·C1 30, A2·C2 200, A2·C3 200 (440 people).
    return make_case(tmp_path, areas=["A1", "A2"],
                     cohorts=[cohort("C1", 0.5, 1000), cohort("C2", 0.5, 1000), cohort("C3", 0.1)],
                     pots=[pot("P1", geography="A1", cohorts="C1", poolable=True),
                           pot("P2", geography="A2", cohorts="C2;C3", unit_cost=2000, poolable=True),
                           pot("N", geography="A2", cohorts="C2")],
                     budgets={("P1", Y1): 10_000, ("P2", Y1): 50_000, ("N", Y1): 10_000},
                     need={("A1", "C1", Y1): 10, ("A2", "C1", Y1): 30, ("A2", "C2", Y1): 200,
                           ("A2", "C3", Y1): 200},
                     # P1's programme grows 4× in the pool: past issue 16's default scale of 2.
                     settings={"programme_scale": 10})


@pytest.mark.parametrize("solver", SOLVERS)
def test_three_levels_and_dividends(tmp_path, solver):
    # Baseline (no provision: each pot spread over its own need in proportion to it):
    #   P1 → A1·C1 £10k (10 people); P2 → A2·C2 and A2·C3 200:200 → £25k each = 12.5 people
    #   each; N → A2·C2 £10k (10). Participants 45; outcomes 5 + 6.25 + 1.25 + 5 = 17.5;
    #   value (5 + 6.25 + 5) × £1,000 = £16,250; unmet 440 − 45 = 395.
    # Aligned: P2 puts all £50k on C2 (0.25/£k beats C3's 0.05): 25 people. Participants 45;
    #   outcomes 5 + 12.5 + 5 = 22.5; value £22,500; unmet 395.
    # Pooled: the pool (P1 + P2 = £60k) funds any area and cohort of a member, each cohort at
    #   its best programme: C1 via P1 (£1,000, 0.5/£k), C2 via P2 (£2,000, 0.25/£k). C1 first:
    #   A1·C1 10 + A2·C1 30 = £40k; the last £20k on A2·C2 = 10 people; N as before.
    #   Participants 40 + 10 + 10 = 60; outcomes 30; value £30,000; unmet 380.
    # Every level spends all £70k. Dividends: alignment 0 people, 5 outcomes, £6,250;
    # devolution 15 people, 7.5 outcomes, £7,500.
    case = three_level_case(tmp_path)
    run = optimise_case(case, solver=solver)
    L = {k: v.totals for k, v in run.levels.items()}
    check_totals(L["baseline"], allocated=70_000, participants=45, outcomes=17.5, value=16_250,
                 unmet_people=395, idle_amount=0)
    check_totals(L["aligned"], allocated=70_000, participants=45, outcomes=22.5, value=22_500,
                 unmet_people=395, idle_amount=0)
    check_totals(L["pooled"], allocated=70_000, participants=60, outcomes=30, value=30_000,
                 unmet_people=380, idle_amount=0)
    d = run.dividends()
    assert d["alignment"] == approx({"participants": 0, "outcomes": 5, "value": 6_250}, abs=1e-6)
    assert d["devolution"] == approx({"participants": 15, "outcomes": 7.5, "value": 7_500}, abs=1e-6)
    assert L["pooled"]["outcomes"] >= L["aligned"]["outcomes"] >= L["baseline"]["outcomes"]

    base = run.levels["baseline"].allocations
    assert amounts(base) == {("P1", "A1", "C1", Y1): 10_000, ("P2", "A2", "C2", Y1): 25_000,
                             ("P2", "A2", "C3", Y1): 25_000, ("N", "A2", "C2", Y1): 10_000}
    assert amounts(run.levels["aligned"].allocations) == {
        ("P1", "A1", "C1", Y1): 10_000, ("P2", "A2", "C2", Y1): 50_000, ("N", "A2", "C2", Y1): 10_000}


@pytest.mark.parametrize("solver", SOLVERS)
def test_pooled_pots_reach_new_cells_at_the_best_programme(tmp_path, solver):
    # Same case (arithmetic in test_three_levels_and_dividends).
    case = three_level_case(tmp_path)
    run = optimise_case(case, solver=solver)
    pooled = run.levels["pooled"].allocations
    # Cells: A2·C1 is funded although no pot may fund it alone; which pool member pays is a tie.
    assert by(pooled, "area_code", "cohort_code") == {("A1", "C1"): 10_000, ("A2", "C1"): 30_000,
                                                      ("A2", "C2"): 30_000}
    # Best-programme pricing: every C1 row costs £1,000 a head through P1's programme, also when
    # P2 (£2,000 a head on its own) pays. P1 has only £10k, so P2 pays at least £30k of C1's £40k.
    c1 = pooled[pooled["cohort_code"] == "C1"]
    assert set(c1["programme"]) == {"P1"} and set(c1["unit_cost"]) == {1000.0}
    assert by(c1, "pot_code").get("P2", 0) >= 30_000
    assert by(pooled, "pot_code", "cohort_code", column="participants")[("N", "C2")] == approx(10)
    # The non-poolable pot keeps exactly its aligned allocation.
    n_rows = lambda a: {k: v for k, v in amounts(a).items() if k[0] == "N"}  # noqa: E731
    assert n_rows(pooled) == n_rows(run.levels["aligned"].allocations) == {("N", "A2", "C2", Y1): 10_000}
    # Pool members spend only their own money: P1 £10k, P2 £50k.
    assert by(pooled, "pot_code") == {"P1": 10_000, "P2": 50_000, "N": 10_000}


@pytest.mark.parametrize("solver", SOLVERS)
def test_pooled_price_is_the_lowest_cost_per_outcome_after_rates(tmp_path, solver):
    # Q1 (A1) and Q2 (A2) both fund C1 (rate 0.5). Q1 costs £1,000 a head but its rate for C1
    # is overridden to 0.25 → £4,000 an outcome; Q2 costs £1,500 at 0.5 → £3,000 an outcome.
    # Best programme for C1: Q2's, although Q1's unit cost is lower.
    # Aligned: Q1 £10k = 10 people × 0.25 = 2.5; Q2 £15k = 10 people × 0.5 = 5 → 7.5 outcomes.
    # Pooled: every pound buys Q2's programme (1/3 outcome per £k beats Q1's own 0.25):
    #   £25k / £1,500 = 16⅔ people × 0.5 = 8⅓ outcomes (fewer people, more outcomes).
    case = make_case(tmp_path, areas=["A1", "A2"], cohorts={"C1": 0.5},
                     pots=[pot("Q1", geography="A1", poolable=True),
                           pot("Q2", geography="A2", unit_cost=1500, poolable=True)],
                     rates=[rate("Q1", "C1", outcome_rate=0.25)],
                     budgets={("Q1", Y1): 10_000, ("Q2", Y1): 15_000},
                     need={("A1", "C1", Y1): 1000, ("A2", "C1", Y1): 1000})
    run = optimise_case(case, solver=solver)
    check_totals(run.levels["aligned"].totals, participants=20, outcomes=7.5)
    check_totals(run.levels["pooled"].totals, allocated=25_000, participants=50 / 3, outcomes=25 / 3)
    pooled = run.levels["pooled"].allocations
    assert set(pooled["programme"]) == {"Q2"}
    assert set(pooled["unit_cost"]) == {1500.0} and set(pooled["outcome_rate"]) == {0.5}


# ---- baseline ----------------------------------------------------------------------------------
def baseline_of(case):
    return optimise_case(case, solver="highs").levels["baseline"]


def test_baseline_duplication_is_capped_at_need(tmp_path):
    # P and Q (£1,000 a head) each have £8k of provision on A1·C1, whose need is 10 people:
    # 16 people aimed at 10. Each is scaled by 10/16 → £5k each; participants 10, outcomes 5.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P"), pot("Q")],
                     budgets={("P", Y1): 50_000, ("Q", Y1): 50_000}, need={("A1", "C1", Y1): 10},
                     provision={("P", "A1", "C1", Y1): 8_000, ("Q", "A1", "C1", Y1): 8_000})
    b = baseline_of(case)
    assert amounts(b.allocations) == {("P", "A1", "C1", Y1): 5_000, ("Q", "A1", "C1", Y1): 5_000}
    check_totals(b.totals, allocated=10_000, participants=10, outcomes=5, unmet_people=0, idle_amount=90_000)


def test_baseline_ignores_ineligible_provision(tmp_path):
    # P may fund A1·C1 only. Its provision on A2·C1 (wrong area) and A1·C2 (wrong cohort) buys
    # nothing; only the £4k on A1·C1 counts (4 people, 2 outcomes).
    case = make_case(tmp_path, areas=["A1", "A2"], cohorts={"C1": 0.5, "C2": 0.5},
                     pots=[pot("P", geography="A1", cohorts="C1")], budgets={("P", Y1): 50_000},
                     need={(a, c, Y1): 100 for a in ("A1", "A2") for c in ("C1", "C2")},
                     provision={("P", "A1", "C1", Y1): 4_000, ("P", "A2", "C1", Y1): 7_000,
                                ("P", "A1", "C2", Y1): 9_000})
    b = baseline_of(case)
    assert amounts(b.allocations) == {("P", "A1", "C1", Y1): 4_000}
    check_totals(b.totals, allocated=4_000, participants=4, outcomes=2)


def test_baseline_match_limits_the_pot_that_needs_it(tmp_path):
    # G (can match) provides £4k in A1; M (match 0.5) provides £20k in A1 and £6k in A2 (where
    # nothing matches). 0.5 · X_M ≤ 4k → M's A1 spend is scaled to £8k; its A2 spend to £0.
    case = make_case(tmp_path, areas=["A1", "A2"], cohorts={"C1": 0.5, "C2": 0.5},
                     pots=[pot("M", match_rate=0.5), pot("G", can_match=True)],
                     budgets={("M", Y1): 50_000, ("G", Y1): 50_000},
                     need={(a, c, Y1): 100 for a in ("A1", "A2") for c in ("C1", "C2")},
                     provision={("G", "A1", "C1", Y1): 4_000, ("M", "A1", "C2", Y1): 20_000,
                                ("M", "A2", "C2", Y1): 6_000})
    b = baseline_of(case)
    assert amounts(b.allocations) == {("G", "A1", "C1", Y1): 4_000, ("M", "A1", "C2", Y1): 8_000}
    check_totals(b.totals, allocated=12_000, participants=12, outcomes=6)


def test_baseline_provision_beyond_the_budget_is_scaled_to_it(tmp_path):
    # P has £10k in Y1 and £15k of provision there (two cells 2:1): scaled by 10/15 →
    # £6,666.66 and £3,333.33 (floored to the penny, never over the budget).
    case = make_case(tmp_path, areas=["A1", "A2"], cohorts={"C1": 0.5}, pots=[pot("P")],
                     budgets={("P", Y1): 10_000}, need={("A1", "C1", Y1): 100, ("A2", "C1", Y1): 100},
                     provision={("P", "A1", "C1", Y1): 10_000, ("P", "A2", "C1", Y1): 5_000})
    b = baseline_of(case)
    assert amounts(b.allocations) == {("P", "A1", "C1", Y1): 6_666.66, ("P", "A2", "C1", Y1): 3_333.33}
    assert b.totals["idle_amount"] == approx(0.01, abs=1e-6)


def test_baseline_provision_never_spends_carried_money_twice(tmp_path):
    # P (carry_forward 1) has £10k in Y1 and nothing in Y2, and £10k of provision in each year.
    # Each year alone looks covered (Y2 may spend Y1's money), but the two years together may
    # spend £10k at most: the baseline must allocate £10k in total (Y1's provision, spent
    # first), and idle money is never negative. Regression: the baseline once checked each
    # year against Case.available(p, t) on its own and spent the same £10k twice.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P", carry_forward=1)],
                     budgets={("P", Y1): 10_000, ("P", Y2): 0},
                     need={("A1", "C1", Y1): 100, ("A1", "C1", Y2): 100},
                     provision={("P", "A1", "C1", Y1): 10_000, ("P", "A1", "C1", Y2): 10_000})
    b = baseline_of(case)
    assert amounts(b.allocations) == {("P", "A1", "C1", Y1): 10_000}
    assert b.totals["allocated"] == approx(10_000, abs=0.01)
    assert b.totals["idle_amount"] >= 0


def test_baseline_without_provision_spreads_each_pot_over_its_need(tmp_path):
    # P (C1, £30k): A1·C1 10 and A2·C1 50 → £30k × 10/60 = £5k and × 50/60 = £25k.
    # Q (C2, £120k): A1·C2 10, A2·C2 50 → £20k and £100k by share, but never past need at
    # £1,000 a head → £10k and £50k; the other £60k stays idle.
    case = make_case(tmp_path, areas=["A1", "A2"], cohorts={"C1": 0.5, "C2": 0.25},
                     pots=[pot("P", cohorts="C1"), pot("Q", cohorts="C2")],
                     budgets={("P", Y1): 30_000, ("Q", Y1): 120_000},
                     need={("A1", "C1", Y1): 10, ("A2", "C1", Y1): 50, ("A1", "C2", Y1): 10,
                           ("A2", "C2", Y1): 50})
    b = baseline_of(case)
    assert amounts(b.allocations) == {("P", "A1", "C1", Y1): 5_000, ("P", "A2", "C1", Y1): 25_000,
                                      ("Q", "A1", "C2", Y1): 10_000, ("Q", "A2", "C2", Y1): 50_000}
    # Participants 30 + 60 = 90; outcomes 15 + 15 = 30; idle £60k; unmet 120 − 90 = 30.
    check_totals(b.totals, allocated=90_000, participants=90, outcomes=30, idle_amount=60_000, unmet_people=30)
