"""Invariants that must hold on any case, checked on random small cases with both solvers.

Each draw (``lpcases.random_case_specs``) is written as a CSV folder, loaded through the
validator and optimised with CBC and with HiGHS. On the allocations *as written* (pounds
floored to the penny, participants and outcomes as reported) every level must:

* never overspend a pot — with carry-forward, for every pot and every contiguous window of
  years, spending in the window ≤ the budgets that could reach it (a budget of year *s*
  reaches *s* … *s + carry_forward*); with no tolerance beyond 1e-6 £;
* never fund a cell past its need (Σ participants ≤ need + 1e-9);
* fund nothing its level's rules forbid: baseline and aligned only what ``case.eligibility.may_fund``
  allows, at the pot's own price; pooled — a pool member anywhere within the union of the
  members' areas and cohorts, in its own years with money, at its own price or the pool's
  best programme for the cohort; a non-member as in aligned;
* respect match (Σ m·X ≤ matching spend, per area and year) and, for aligned and pooled,
  the ``rules`` rows;
* reconcile: allocated + idle_amount = budget, allocated = Σ amounts, idle ≥ 0.

Between levels and solvers:

* pooled ≥ aligned in outcomes, with rules and equity floors on (the aligned allocation is
  feasible for the pooled LP, which keeps each member's own programmes; the equity floor is
  measured against the need today's rules reach at both levels, so pooling cannot raise it);
* aligned ≥ baseline in outcomes when the case has no rules and no equity floor (the
  baseline is today's provision or a blind spread: it is not bound by ``rules`` — a
  ``max_amount`` the baseline ignores can hold the aligned level below it — nor by the floor);
* CBC and HiGHS reach the same optimal objective (relative 1e-6) at both levels.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings

from commissioning.case import years as fy
from commissioning.errors import InfeasibleError
from commissioning.case.model import ALL
from lpcases import load_spec, random_case_specs
from optimiser.levels import LEVELS, optimise_case

SOLVERS = ("cbc", "highs")
MONEY_TOL = 1e-6  # £
PEOPLE_TOL = 1e-9


def budget_windows_respected(case, alloc) -> list[str]:
    """Every pot and contiguous window of case years: spend ≤ the budgets that reach it."""
    years = list(case.years)
    spent = defaultdict(float)
    for p, t, amt in zip(alloc["pot_code"], alloc["year"], alloc["amount"]):
        spent[(p, t)] += amt
    problems = []
    for pot in case.pots:
        for i in range(len(years)):
            for j in range(i, len(years)):
                window = years[i:j + 1]
                spend = sum(spent[(pot.code, t)] for t in window)
                reach = sum(case.budget.get((pot.code, fy.shift(years[i], d)), 0.0)
                            for d in range(-pot.carry_forward, j - i + 1))
                if spend > reach + MONEY_TOL:
                    problems.append(f"{pot.code} spends £{spend:,.2f} in {window[0]}..{window[-1]} "
                                    f"but only £{reach:,.2f} can reach those years")
    return problems


def need_respected(case, alloc) -> list[str]:
    need = {(n.area_code, n.cohort_code, n.year): n.people for n in case.need}
    served = alloc.groupby(["area_code", "cohort_code", "year"])["participants"].sum()
    return [f"{cell}: {people} participants, need {need.get(cell, 0)}"
            for cell, people in served.items() if people > need.get(cell, 0.0) + PEOPLE_TOL]


def eligibility_respected(case, alloc, level: str, pool: frozenset[str]) -> list[str]:
    members = [p for p in case.pot if p in pool] if level == "pooled" and len(pool) >= 2 else []
    areas = set().union(*(case.pot_areas[p] for p in members)) if members else set()
    cohorts = set().union(*(case.pot_cohorts[p] for p in members)) if members else set()
    best = {}  # the pool's best programme per cohort: lowest cost per outcome, then unit cost, then order
    for c in cohorts:
        options = [(case.unit_cost(m, c) / case.outcome_rate(m, c) if case.outcome_rate(m, c) > 0 else float("inf"),
                    case.unit_cost(m, c), i, m) for i, m in enumerate(members) if c in case.pot_cohorts[m]]
        best[c] = min(options)[3]
    problems = []
    for r in alloc.itertuples():
        own = case.eligibility.may_fund(r.pot_code, r.area_code, r.cohort_code, r.year)
        if r.pot_code in members:
            ok = (r.area_code in areas and r.cohort_code in cohorts and case.pot[r.pot_code].in_life(r.year)
                  and case.available(r.pot_code, r.year) > 0)
            # Its own programme where today's rules allow it, otherwise the pool's best one.
            ok &= r.programme == best[r.cohort_code] or (r.programme == r.pot_code and own)
        else:
            ok = own and r.programme == r.pot_code
        price = (case.unit_cost(r.programme, r.cohort_code), case.outcome_rate(r.programme, r.cohort_code))
        if not ok or (r.unit_cost, r.outcome_rate) != price:
            problems.append(f"{level}: {r.pot_code} may not fund {r.area_code} {r.cohort_code} {r.year} "
                            f"through {r.programme} at {r.unit_cost}/{r.outcome_rate}")
    return problems


def match_respected(case, alloc, penny_per_row: bool = False) -> list[str]:
    """Σ m·X ≤ matching spend per area and year.

    ``penny_per_row``: the baseline is worked out in exact pounds and only then floored to
    the penny row by row (optimiser/levels.py, optimise_case), so flooring the matching rows
    can leave the match short by under a penny per row; the LP levels are settled exactly.
    """
    rate = {p.code: p.match_rate for p in case.pots}
    gives = {p.code for p in case.pots if p.can_match and p.match_rate == 0}
    want, have, rows = defaultdict(float), defaultdict(float), defaultdict(int)
    for p, a, t, amt in zip(alloc["pot_code"], alloc["area_code"], alloc["year"], alloc["amount"]):
        want[(a, t)] += rate[p] * amt
        if p in gives:
            have[(a, t)] += amt
            rows[(a, t)] += 1
    return [f"match in {k}: needs £{w:,.2f}, has £{have[k]:,.2f}" for k, w in want.items()
            if w > have[k] + MONEY_TOL + (0.01 * rows[k] if penny_per_row else 0.0)]


def rules_respected(case, alloc) -> list[str]:
    """The ``rules`` rows, as documented in optimiser/rules.py (minima to the penny per row)."""
    problems = []
    for rl in case.rules:
        years = list(case.years) if rl.year == ALL else [rl.year]
        share = rl.rule in ("min_share", "max_share")
        pots = (list(case.pot) if rl.pot_code == ALL else [rl.pot_code]) if share else [rl.pot_code]
        scope = alloc
        if rl.area_code != ALL:
            scope = scope[scope["area_code"].isin(case.resolve_areas(rl.area_code))]
        if rl.cohort_code != ALL:
            scope = scope[scope["cohort_code"] == rl.cohort_code]
        for p in pots:
            for t in years:
                rows = scope[(scope["year"] == t) & ((scope["pot_code"] == p) if p != ALL else True)]
                total = float(rows["amount"].sum())
                if share:
                    # A share of what the pot spends that year, whatever year its money arrived in.
                    spent = float(alloc.loc[(alloc["year"] == t) & (alloc["pot_code"] == p), "amount"].sum())
                    if rl.rule == "min_share" and rows.empty:
                        continue  # skipped where the pot may fund nothing in the scope (optimiser/rules.py)
                    bound = rl.value * spent
                else:
                    bound = rl.value
                if rl.rule.startswith("max") and total > bound + MONEY_TOL + (0.01 if share else 0.0):
                    problems.append(f"{rl.describe()} in {t} for {p}: £{total:,.2f}")
                if rl.rule.startswith("min") and total < bound - 0.01 * max(1, len(rows)) - MONEY_TOL:
                    problems.append(f"{rl.describe()} in {t} for {p}: £{total:,.2f}")
    return problems


def worst(differences) -> float:
    """The largest absolute difference (0 for an empty allocation)."""
    return float(differences.abs().max()) if len(differences) else 0.0


def run_both(case):
    """Optimise with both solvers; an infeasible case must be infeasible for both."""
    runs, infeasible = {}, {}
    for solver in SOLVERS:
        try:
            runs[solver] = optimise_case(case, solver=solver)
        except InfeasibleError as e:
            infeasible[solver] = e.level
    assert not infeasible or len(infeasible) == 2, f"only some solvers find it infeasible: {infeasible}"
    assert len(set(infeasible.values())) <= 1
    assume(not infeasible)  # min rules or the floor collide: nothing more to check
    return runs


# A draw hypothesis found (CI, 4 December 2026): CBC's plan met the pooled level's held primary only to its
# tolerance (2.5e-8 above the true optimum), so its tie-break with least disruption held as well was
# infeasible; optimiser.solve now widens every hold so far and solves it (CBC_HOLD_RETRY).
CBC_HELD_TOO_HIGH = {'areas': ['A1', 'A2'],
                      'cohorts': [{'cohort_code': 'C1',
                                   'cohort_name': 'Cohort C1',
                                   'outcome': 'job entry',
                                   'outcome_rate': 0.2,
                                   'value_per_outcome': None},
                                  {'cohort_code': 'C2',
                                   'cohort_name': 'Cohort C2',
                                   'outcome': 'job entry',
                                   'outcome_rate': 0.6,
                                   'value_per_outcome': 2500},
                                  {'cohort_code': 'C3',
                                   'cohort_name': 'Cohort C3',
                                   'outcome': 'job entry',
                                   'outcome_rate': 0.1,
                                   'value_per_outcome': 1000}],
                      'pots': [{'pot_code': 'P1',
                                'pot_name': 'Pot P1',
                                'department': 'DfE',
                                'geography': 'F1',
                                'cohorts': 'C1;C2',
                                'start': '2025-04-01',
                                'end': '2028-03-31',
                                'unit_cost': 250,
                                'carry_forward': 0,
                                'match_rate': 0.0,
                                'can_match': 'no',
                                'poolable': 'yes',
                                'basis': 'formula'},
                               {'pot_code': 'P2',
                                'pot_name': 'Pot P2',
                                'department': 'DfE',
                                'geography': 'F1',
                                'cohorts': 'C1;C3',
                                'start': '2027-04-01',
                                'end': '2027-09-30',
                                'unit_cost': 2500,
                                'carry_forward': 0,
                                'match_rate': 0.1,
                                'can_match': 'yes',
                                'poolable': 'yes',
                                'basis': 'formula'},
                               {'pot_code': 'P3',
                                'pot_name': 'Pot P3',
                                'department': 'DfE',
                                'geography': 'A1;A2',
                                'cohorts': 'C1;C2',
                                'start': '2025-04-01',
                                'end': '2026-03-31',
                                'unit_cost': 800,
                                'carry_forward': 1,
                                'match_rate': 0.1,
                                'can_match': 'yes',
                                'poolable': 'no',
                                'basis': 'formula'},
                               {'pot_code': 'P4',
                                'pot_name': 'Pot P4',
                                'department': 'DfE',
                                'geography': 'A2',
                                'cohorts': 'C1;C2',
                                'start': '2025-04-01',
                                'end': '2027-03-31',
                                'unit_cost': 1500,
                                'carry_forward': 0,
                                'match_rate': 0.0,
                                'can_match': 'yes',
                                'poolable': 'no',
                                'basis': 'formula'}],
                      'budgets': {('P1', '2025-26'): 7000,
                                  ('P1', '2026-27'): 78003.43,
                                  ('P1', '2027-28'): 65000,
                                  ('P2', '2027-28'): 75000,
                                  ('P3', '2025-26'): 35000,
                                  ('P4', '2025-26'): 0,
                                  ('P4', '2026-27'): 0},
                      'need': {('A1', 'C1', '2025-26'): 47,
                               ('A1', 'C1', '2026-27'): 26,
                               ('A1', 'C1', '2027-28'): 4,
                               ('A1', 'C2', '2025-26'): 35,
                               ('A1', 'C2', '2026-27'): 68,
                               ('A1', 'C2', '2027-28'): 79,
                               ('A1', 'C3', '2025-26'): 44,
                               ('A1', 'C3', '2026-27'): 2,
                               ('A1', 'C3', '2027-28'): 4,
                               ('A2', 'C1', '2025-26'): 6,
                               ('A2', 'C1', '2026-27'): 27,
                               ('A2', 'C1', '2027-28'): 48,
                               ('A2', 'C3', '2025-26'): 29,
                               ('A2', 'C3', '2027-28'): 37},
                      'footprints': {'F1': ['A1', 'A2']},
                      'rates': [{'pot_code': 'P1', 'cohort_code': 'C1', 'unit_cost': 3000, 'outcome_rate': None},
                                {'pot_code': 'P1', 'cohort_code': 'C2', 'unit_cost': 3000, 'outcome_rate': 0.8},
                                {'pot_code': 'P3', 'cohort_code': 'C3', 'unit_cost': 1200, 'outcome_rate': 0.4},
                                {'pot_code': 'P3', 'cohort_code': 'C1', 'unit_cost': 1200, 'outcome_rate': None}],
                      'provision': {('P3', 'A2', 'C3', '2025-26'): 19000,
                                    ('P4', 'A2', 'C1', '2026-27'): 8000,
                                    ('P4', 'A2', 'C2', '2025-26'): 23000},
                      'rules': None,
                      'settings': {'equity_floor': 0.5}}


# No shrinking: a draw costs about half a second with both solvers, and shrinking a failure
# took minutes; the failing draw is printed whole (it is small) and replays from the database.
@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@example(spec=CBC_HELD_TOO_HIGH)
@given(spec=random_case_specs())
def test_invariants_on_random_cases(spec):
    # One test for all invariants, so that each draw is optimised once per solver.
    case = load_spec(spec)
    runs = run_both(case)
    check_every_level(case, runs)
    check_levels_ordered_and_solvers_agree(case, runs)


def check_every_level(case, runs) -> None:
    """Money, need, eligibility, match, rules and reconciliation on every level's allocations."""
    for solver, run in runs.items():
        for level in LEVELS:
            lv = run.levels[level]
            alloc = lv.allocations
            where = f"{solver} {level}"
            assert not budget_windows_respected(case, alloc), (where, budget_windows_respected(case, alloc))
            assert not need_respected(case, alloc), (where, need_respected(case, alloc))
            assert not eligibility_respected(case, alloc, level, run.pool), where
            slack = level == "baseline"
            assert not match_respected(case, alloc, slack), (where, match_respected(case, alloc, slack))
            if level != "baseline":
                assert not rules_respected(case, alloc), (where, rules_respected(case, alloc))
            # Money reconciles, to the penny as written.
            assert (alloc["amount"] > 0).all()
            assert worst(alloc["amount"] * 100 - (alloc["amount"] * 100).round()) < 1e-6
            assert lv.totals["allocated"] == pytest.approx(float(alloc["amount"].sum()), abs=MONEY_TOL)
            assert lv.totals["allocated"] + lv.totals["idle_amount"] == pytest.approx(case.total_budget,
                                                                                      abs=MONEY_TOL)
            assert lv.totals["idle_amount"] >= -MONEY_TOL, where
            assert worst(alloc["participants"] - alloc["amount"] / alloc["unit_cost"]) < 1e-9
            assert worst(alloc["outcomes"] - alloc["participants"] * alloc["outcome_rate"]) < 1e-9


def check_levels_ordered_and_solvers_agree(case, runs) -> None:
    """pooled ≥ aligned ≥ baseline (when they must be), and CBC = HiGHS."""
    cbc, highs = runs["cbc"], runs["highs"]
    for level in ("aligned", "pooled"):
        assert cbc.levels[level].solution.objective == pytest.approx(highs.levels[level].solution.objective,
                                                                     rel=1e-6, abs=1e-6), level
    for run in runs.values():
        out = {k: v.totals["outcomes"] for k, v in run.levels.items()}
        z = {k: run.levels[k].solution.objective for k in ("aligned", "pooled")}
        # Settling to the penny may cost a few pence of spending: 1e-3 outcomes is far more.
        # Solver tolerances (and phase two's slack on the primary) allow ~1e-9 noise; with
        # rules and equity floors on too.
        assert z["pooled"] >= z["aligned"] * (1 - 1e-7) - 1e-7
        assert out["pooled"] >= out["aligned"] - 1e-3
        if case.settings.equity_floor == 0 and not case.rules:
            assert out["aligned"] >= out["baseline"] - 1e-3, out
