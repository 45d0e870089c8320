"""Shadow prices against hand-solved cases, and infeasible cases that name their rules.

The convention (optimiser/solve.py): ``dual = ∂(optimal objective, natural units) /
∂(binding bound of the row, model units)``, whatever the solver — money rows in £k, need
rows in people. So a binding ``≤`` row whose loosening helps is positive, a binding ``≥`` row
whose tightening costs is negative, and a row with slack is 0. PuLP's own HiGHS adapter
flips signs on maximisation (SOLVERS.md); these cases pin the convention for both back ends.

Every case has a unique optimum that is not degenerate (as many binding rows as positive
variables), so its duals are unique too.
"""

from __future__ import annotations

import pytest

from commissioning.errors import InfeasibleError
from lpcases import Y1, Y2, make_case, pot, rule
from optimiser.build import create_model
from optimiser.levels import constraint_table, optimise_case

SOLVERS = ["cbc", "highs"]
approx = pytest.approx


def table(case, solver):
    """The aligned level's constraint table, rebuilt from its LP and solution."""
    lv = optimise_case(case, solver=solver).levels["aligned"]
    t = constraint_table(lv.lp, lv.solution)
    assert t[["family", "dual"]].equals(lv.constraints[["family", "dual"]])  # what the writers see
    return t


def row(t, family, **keys):
    m = t["family"] == family
    for k, v in keys.items():
        m &= t[k] == v
    assert m.sum() == 1, (family, keys, t[["family", "pot_code", "area_code", "cohort_code", "year"]])
    return t[m].iloc[0]


def assert_slack_rows_have_no_price(t):
    """Complementary slackness: a row with room on both sides has a zero shadow price."""
    lo_gap = (t["activity"] - t["lower"]).abs()
    up_gap = (t["upper"] - t["activity"]).abs()
    slack = (lo_gap > 1e-6) & (up_gap > 1e-6)
    assert (t.loc[slack, "dual"].abs() < 1e-9).all(), t.loc[slack]


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_binding_budget_is_worth_the_outcomes_a_thousand_pounds_buys(tmp_path, solver):
    # P: £1,000 a head, £10k; C1 (rate 0.5) has 100 people. The budget binds (10 people);
    # one more £1,000 buys one more person = 0.5 outcomes → dual 0.5 per £k. Need has slack → 0.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P")],
                     budgets={("P", Y1): 10_000}, need={("A1", "C1", Y1): 100})
    t = table(case, solver)
    budget = row(t, "pot_budget", pot_code="P", year=Y1)
    assert budget["dual"] == approx(0.5, rel=1e-9)
    assert bool(budget["binding"])
    need = row(t, "need_cap", area_code="A1", cohort_code="C1", year=Y1)
    assert need["dual"] == approx(0.0, abs=1e-9)
    assert not bool(need["binding"])
    assert_slack_rows_have_no_price(t)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_binding_need_cap_is_worth_the_outcomes_of_one_more_person(tmp_path, solver):
    # P: £1,000 a head, £100k; C1 (rate 0.5) has 10 people. Need binds: one more person in need
    # = 0.5 outcomes → dual 0.5 per person; £90k idle, so the budget's dual is 0.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P")],
                     budgets={("P", Y1): 100_000}, need={("A1", "C1", Y1): 10})
    t = table(case, solver)
    assert row(t, "need_cap", area_code="A1", cohort_code="C1", year=Y1)["dual"] == approx(0.5, rel=1e-9)
    assert row(t, "pot_budget", pot_code="P", year=Y1)["dual"] == approx(0.0, abs=1e-9)
    assert not bool(row(t, "pot_budget", pot_code="P", year=Y1)["binding"])
    assert_slack_rows_have_no_price(t)


@pytest.mark.parametrize("solver", SOLVERS)
def test_budget_and_need_duals_together(tmp_path, solver):
    # P: £1,000 a head, £100k. C1 (0.5) 10 people, C2 (0.25) 1,000 people.
    # Optimum: C1 10 people (£10k), C2 the other £90k. The marginal £1,000 goes to C2:
    # budget dual 0.25/£k. One more C1 person displaces £1,000 of C2: 0.5 − 0.25 = 0.25 per
    # person. C2's need has slack: 0.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25}, pots=[pot("P")],
                     budgets={("P", Y1): 100_000}, need={("A1", "C1", Y1): 10, ("A1", "C2", Y1): 1000})
    t = table(case, solver)
    assert row(t, "pot_budget", pot_code="P", year=Y1)["dual"] == approx(0.25, rel=1e-9)
    assert row(t, "need_cap", area_code="A1", cohort_code="C1", year=Y1)["dual"] == approx(0.25, rel=1e-9)
    assert row(t, "need_cap", area_code="A1", cohort_code="C2", year=Y1)["dual"] == approx(0.0, abs=1e-9)
    assert_slack_rows_have_no_price(t)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_costly_min_amount_has_a_negative_dual(tmp_path, solver):
    # P: £1,000 a head, £100k. C1 (0.5) 60 people, C2 (0.25) 100 people; at least £50k on C2.
    # Optimum: C2 £50k, C1 £50k (below its need of 60). Raising the minimum by £1,000 moves
    # £1,000 from C1 to C2: −0.5 + 0.25 = −0.25 per £k. Budget: one more £1,000 goes to C1 → 0.5.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25}, pots=[pot("P")],
                     budgets={("P", Y1): 100_000}, need={("A1", "C1", Y1): 60, ("A1", "C2", Y1): 100},
                     rules=[rule("min_amount", 50_000, pot="P", area="A1", cohort="C2", year=Y1, note="C2 floor")])
    t = table(case, solver)
    r = row(t, "rule", year=Y1)
    assert r["dual"] == approx(-0.25, rel=1e-9)
    assert bool(r["binding"])
    assert row(t, "pot_budget", pot_code="P", year=Y1)["dual"] == approx(0.5, rel=1e-9)
    for c in ("C1", "C2"):
        assert row(t, "need_cap", cohort_code=c)["dual"] == approx(0.0, abs=1e-9)
    assert_slack_rows_have_no_price(t)


@pytest.mark.parametrize("solver", SOLVERS)
def test_match_and_matching_budget_duals(tmp_path, solver):
    # M (match 0.5, £100k) and G (can match, £10k), £1,000 a head, C1 rate 0.5, need 1,000.
    # Optimum: G £10k, M £20k (0.5 · 20k = 10k). Loosening the match row by £1k lets M spend
    # £2k more: +1.0 outcome → match dual 1.0 per £k. One more £1k of G: 0.5 itself + £2k of M
    # (1.0) → 1.5 per £k. M has £80k idle → 0.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5},
                     pots=[pot("M", match_rate=0.5), pot("G", can_match=True)],
                     budgets={("M", Y1): 100_000, ("G", Y1): 10_000}, need={("A1", "C1", Y1): 1000})
    t = table(case, solver)
    assert row(t, "match", area_code="A1", year=Y1)["dual"] == approx(1.0, rel=1e-9)
    assert row(t, "pot_budget", pot_code="G", year=Y1)["dual"] == approx(1.5, rel=1e-9)
    assert row(t, "pot_budget", pot_code="M", year=Y1)["dual"] == approx(0.0, abs=1e-9)
    assert_slack_rows_have_no_price(t)


@pytest.mark.parametrize("solver", SOLVERS)
def test_carried_budget_dual(tmp_path, solver):
    # P (carry_forward 1) has £10k in Y1 only; need is in Y2 only (100 people, rate 0.5).
    # The Y1 budget row binds: one more £1,000 of Y1 money buys 0.5 outcomes in Y2 → 0.5.
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5}, pots=[pot("P", carry_forward=1)],
                     budgets={("P", Y1): 10_000}, need={("A1", "C1", Y1): 0, ("A1", "C1", Y2): 100})
    t = table(case, solver)
    assert row(t, "pot_budget", pot_code="P", year=Y1)["dual"] == approx(0.5, rel=1e-9)
    assert row(t, "need_cap", year=Y2)["dual"] == approx(0.0, abs=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_dual_is_in_natural_units_under_the_value_objective(tmp_path, solver):
    # Objective value, C1 worth £2,000 an outcome: £1,000 more budget buys 0.5 outcomes = £1,000
    # of value → dual 1,000 (£ per £k), though the model carries value in £k internally.
    from lpcases import cohort

    case = make_case(tmp_path, areas=["A1"], cohorts=[cohort("C1", 0.5, 2000)], pots=[pot("P")],
                     budgets={("P", Y1): 10_000}, need={("A1", "C1", Y1): 100},
                     settings={"objective": "value"})
    t = table(case, solver)
    assert row(t, "pot_budget", pot_code="P", year=Y1)["dual"] == approx(1000.0, rel=1e-9)


# ---- infeasible cases name their rules -----------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_a_minimum_no_pot_can_reach_is_named_before_solving(tmp_path, solver):
    # P funds A1 only; a min_amount of £5,000 in A2 has no variable in its scope at all.
    case = make_case(tmp_path, areas=["A1", "A2"], cohorts={"C1": 0.5}, pots=[pot("P", geography="A1")],
                     budgets={("P", Y1): 10_000}, need={("A1", "C1", Y1): 10, ("A2", "C1", Y1): 10},
                     rules=[rule("min_amount", 5_000, area="A2", year=Y1, note="Southside delivery promise")])
    assert create_model(case).infeasible_rules  # found while building, no solve needed
    with pytest.raises(InfeasibleError) as err:
        optimise_case(case, solver=solver)
    assert err.value.level == "aligned"
    assert any("Southside delivery promise" in c.description for c in err.value.collisions)
    assert "Southside delivery promise" in str(err.value)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_share_larger_than_need_allows_is_diagnosed(tmp_path, solver):
    # P: £100k, £1,000 a head; C1 has 10 people (at most £10k), C2 1,000. "At least half of P
    # on C1" is a share of what P spends, and P must spend all £100k (min_amount), so it asks
    # for £50k on C1: the need cap collides with the share; the solver finds it infeasible
    # and the diagnosis names the rule (and what it collides with).
    case = make_case(tmp_path, areas=["A1"], cohorts={"C1": 0.5, "C2": 0.25}, pots=[pot("P")],
                     budgets={("P", Y1): 100_000}, need={("A1", "C1", Y1): 10, ("A1", "C2", Y1): 1000},
                     rules=[rule("min_share", 0.5, pot="P", cohort="C1", note="half of P on young people"),
                            rule("min_amount", 100_000, pot="P", year=Y1, note="P spends its whole budget")])
    assert not create_model(case).infeasible_rules  # the scope has a variable: only solving shows it
    with pytest.raises(InfeasibleError) as err:
        optimise_case(case, solver=solver)
    collisions = err.value.collisions
    assert err.value.level == "aligned"
    named = {c.description.split(":")[0]: c.description for c in collisions if c.family == "rule"}
    assert len(named) == 2
    # The cheaper violation is the floor: P can spend £10,000 on C1 (its whole need) and as
    # much again on C2 within "half on C1", so £20,000 of the £100,000 floor.
    floor = next(d for k, d in named.items() if "P spends its whole budget" in k)
    assert "can be met only up to £20,000 of £100,000" in floor
    share = next(d for k, d in named.items() if "half of P on young people" in k)
    assert "met, but only at the expense of the above" in share
    assert any(c.family == "need_cap" for c in collisions)
