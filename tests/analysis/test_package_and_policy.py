"""Asks a minister can act on: similar asks merged, doubtful assumptions warned, the package.

Hand-worked cases (one year, £1,000 a head unless said, objective outcomes), each solved
with both solvers. The package's own hand case is ``story_case`` in test_explain.py; here
its total is re-solved independently, with every change made at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from commissioning.analysis.asks import apply_candidate, measure_asks
from commissioning.analysis.package import build_package
from commissioning.analysis.policy import assumption, department_name, short_name
from commissioning.inputs.validate import load_case
from optimiser.build import create_model
from optimiser.levels import allocations_from, optimise_case, settle
from optimiser.solve import solve

from explaincases import SOLVERS, Y1, pot, write_case


def merge_case(folder: Path) -> Path:
    """P (DfE, Northtown only, cohort X) has £10,000; X's need is 4 in Northtown, 2 in
    Southvale and 3 in Eastmoor, outside P's area → £6,000 idle.

    add_area P/A2 (+1.0) and add_area P/A3 (+1.5) are the same change to one pot: merged into
    one ask, measured once: P's idle money buys 2 + 3 = 5 of X → **+2.5**.

    Q1 (£3,000 idle) and Q2 (£4,000 idle), both DWP's, fund W (need 1 each: £1,000 each);
    cohort Y (need 10) has no pot. add_cohort Q1/Y and Q2/Y merge (one department, one
    cohort): 2,000 + 3,000 buy 5 of Y at 0.5 → **+2.5**. add_cohort P/Y (P's £6,000 buys 6 of
    Y → +3.0) is DfE's: another department, so a separate ask.
    """
    return write_case(folder, areas=("A1", "A2", "A3"), cohorts={"X": 0.5, "W": 0.5, "Y": 0.5},
                      pots=[pot("P", "X", geography="A1"),
                            pot("Q1", "W", geography="A1", department="DWP"),
                            pot("Q2", "W", geography="A1", department="DWP")],
                      budgets={("P", Y1): 10000, ("Q1", Y1): 3000, ("Q2", Y1): 4000},
                      need={("A1", "X", Y1): 4, ("A2", "X", Y1): 2, ("A3", "X", Y1): 3,
                            ("A1", "W", Y1): 2, ("A1", "Y", Y1): 10})


def doubtful_case(folder: Path) -> Path:
    """Cohort Y (rate 0.5, need 100) is served today only by Q at £4,000 a head: £8,000 an
    outcome (Q's £8,000 buys 2).

    C (£500 a head, funds X: need 1, £2,000 → £1,500 idle) and D (£3,000 a head, funds X'
    need 1, £9,000 → £6,000 idle), both DfE's. add_cohort C/Y and D/Y merge: C's £1,500 buys 3
    of Y and D's £6,000 buys 2 → +2.5. C is assumed to reach Y at £500 / 0.5 = **£1,000 an
    outcome**, under half Q's £8,000: warned. D's £3,000 / 0.5 = £6,000 is not under half
    (£4,000): not named.
    """
    return write_case(folder, cohorts={"X": 0.5, "Z": 0.5, "Y": 0.5},
                      pots=[pot("Q", "Y", unit_cost=4000, department="DWP"),
                            pot("C", "X", unit_cost=500, name="Careers contact (all ages)"),
                            pot("D", "Z", unit_cost=3000, name="Skills course")],
                      budgets={("Q", Y1): 8000, ("C", Y1): 2000, ("D", Y1): 9000},
                      need={("A1", "Y", Y1): 100, ("A1", "X", Y1): 1, ("A1", "Z", Y1): 1})


def _run(folder: Path, make, solver: str):
    run = optimise_case(load_case(make(folder)), solver=solver)
    asks, cands = measure_asks(run)
    return run, asks, cands


@pytest.mark.parametrize("solver", SOLVERS)
def test_similar_asks_merge_into_one_measured_ask(tmp_path, solver):
    run, asks, cands = _run(tmp_path / "case", merge_case, solver)
    rows = {(r.change, r.pot_code): r for r in asks.itertuples(index=False)}
    area = rows[("add_area", "P")]
    assert area.area_code == "A2;A3" and area.parts == 2
    assert area.gain_outcomes == pytest.approx(2.5, abs=1e-6)  # 5 of X at 0.5, one solve
    assert area.ask == "DfE: let Pot P be spent on residents of 2 more areas (Southvale and Eastmoor)"
    cohort = rows[("add_cohort", "Q2;Q1")] if ("add_cohort", "Q2;Q1") in rows else rows[("add_cohort", "Q1;Q2")]
    assert cohort.cohort_code == "Y" and cohort.parts == 2 and cohort.department == "DWP"
    assert cohort.gain_outcomes == pytest.approx(2.5, abs=1e-6)  # (2,000 + 3,000) / 1,000 × 0.5
    assert cohort.ask.startswith("DWP: widen the eligibility of Pot Q")
    # No single-pot or single-area ask is listed beside the merged ones; P/Y is DfE's, apart.
    assert not any(isinstance(p, str) and p in ("Q1", "Q2") for p in asks["pot_code"])
    assert rows[("add_cohort", "P")].gain_outcomes == pytest.approx(3.0, abs=1e-6)
    assert len(asks) == 3
    # The merged ask re-solved here, independently, with both parts made: the same gain.
    cand = next(c for c in cands if c.change == "add_area")
    lp = create_model(apply_candidate(run.case, cand))
    sol = solve(lp, solver=solver)
    gain = allocations_from(lp.variables, settle(lp, sol.x))["outcomes"].sum() - \
        run.levels["aligned"].allocations["outcomes"].sum()
    assert gain == pytest.approx(2.5, abs=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_implausibly_cheap_programme_is_warned(tmp_path, solver):
    run, asks, _ = _run(tmp_path / "case", doubtful_case, solver)
    ask = asks[asks["change"].eq("add_cohort") & asks["cohort_code"].eq("Y")].iloc[0]
    assert ask["gain_outcomes"] == pytest.approx(2.5, abs=1e-6)  # 3 + 2 of Y at 0.5
    assert ask["warning"] == (
        "Doubtful: Careers contact (all ages) (£1,000) is assumed to reach cohort Y at under half the £8,000 "
        "an outcome of the cheapest programme serving them today (Pot Q, £4,000 a head at 50%); check that it "
        "can reach them at that rate before asking")
    assert "Skills course: £3,000 a head at the cohort's own 50% job entry rate (£6,000 an outcome)" \
        in ask["assumption"]


def test_assumption_reads_a_rates_row(tmp_path):
    case = load_case(doubtful_case(tmp_path / "case"))
    from commissioning.case.model import Rate

    case = case.with_changes(rates=(Rate(pot_code="C", cohort_code="Y", outcome_rate=0.05),))
    said, warning = assumption(case, "add_cohort", ["C"], ["Y"])
    # 500 / 0.05 = £10,000 an outcome: not cheaper than Q's £8,000, so no warning.
    assert said == ("Careers contact (all ages): £500 a head at the rates row C/Y's 5% job entry rate "
                    "(£10,000 an outcome)")
    assert warning == ""


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_package_total_is_one_solve_with_every_change(tmp_path, solver):
    from test_explain import story_case

    run = optimise_case(load_case(story_case(tmp_path / "case")), solver=solver)
    asks, cands = measure_asks(run)
    package = build_package(run, asks, cands)
    # story_case's package: +30, +10, +5 (see its docstring); the sum telescopes to the total.
    assert package.steps["marginal_gain"].round(6).tolist() == [30.0, 10.0, 5.0]
    assert package.steps["marginal_gain"].sum() == pytest.approx(package.total["gain"], abs=1e-9)
    case = run.case
    for i in package.steps.index:
        rank = int(package.steps.loc[i, "rank"])
        case = apply_candidate(case, cands[rank - 1])
    lp = create_model(case)
    sol = solve(lp, solver=solver)
    together = allocations_from(lp.variables, settle(lp, sol.x))["outcomes"].sum() - \
        run.levels["aligned"].allocations["outcomes"].sum()
    assert together == pytest.approx(45.0, abs=1e-6) and package.total["gain"] == pytest.approx(together, abs=1e-6)
    assert package.sum_alone == pytest.approx(65.0)
    assert "less than 5% of the package's +45" in package.stopped


def test_package_share_stops_it_sooner(tmp_path):
    from test_explain import story_case

    run = optimise_case(load_case(story_case(tmp_path / "case")), solver="highs")
    asks, cands = measure_asks(run)
    # Step 2 adds +10 to +30 (33%): a 50% share stops the package after step 1.
    package = build_package(run, asks, cands, share=0.5)
    assert package.steps["marginal_gain"].round(6).tolist() == [30.0]
    assert "+10, less than 50% of the package's +30" in package.stopped


def test_policy_words():
    assert short_name("Connect to Work (supported employment)") == "Connect to Work"
    assert short_name("(only an aside)") == "(only an aside)"
    assert department_name("DWP") == "DWP — Department for Work and Pensions"
    assert department_name("local").startswith("Local partners")
    assert department_name("DfE; DWP; local") == "Several departments together (DfE, DWP and local partners)"


def three_caps_case(folder: Path) -> Path:
    """R, S and T (£10,000 each, £1,000 a head) each fund their own cohort (need 100, rate 0.5)
    under a max_amount rule: R £1,000, S £5,000, T £8,000 (rules rows 1, 2 and 3).

    Relaxing each is independent of the others: R +9 people × 0.5 = **+4.5**, S +5 × 0.5 =
    **+2.5**, T +2 × 0.5 = **+1.0**. The package takes all three (1.0 is over 5% of 7.0):
    **+8.0**, the sum of the three, with no overlap. (Removing the rules by their place in the
    list removed T's cap at step 2, once R's was gone: the package said +5.5.)
    """
    from explaincases import rule

    return write_case(folder, cohorts={"CR": 0.5, "CS": 0.5, "CT": 0.5},
                      pots=[pot("R", "CR"), pot("S", "CS"), pot("T", "CT")],
                      budgets={("R", Y1): 10000, ("S", Y1): 10000, ("T", Y1): 10000},
                      need={("A1", "CR", Y1): 100, ("A1", "CS", Y1): 100, ("A1", "CT", Y1): 100},
                      rules=[rule("max_amount", 1000, "R capped", pot="R"), rule("max_amount", 5000, "S capped", pot="S"),
                             rule("max_amount", 8000, "T capped", pot="T")])


@pytest.mark.parametrize("solver", SOLVERS)
def test_relaxing_one_rule_after_another_removes_the_right_one(tmp_path, solver):
    run = optimise_case(load_case(three_caps_case(tmp_path / "case")), solver=solver)
    asks, cands = measure_asks(run)
    package = build_package(run, asks, cands)
    steps = package.steps
    assert steps["pot_code"].tolist() == ["R", "S", "T"]
    assert steps["marginal_gain"].round(6).tolist() == [4.5, 2.5, 1.0]
    assert package.total["gain"] == pytest.approx(8.0) and package.sum_alone == pytest.approx(8.0)
    assert package.overlaps == [] and package.stopped == "every measured ask is in the package"


def test_an_overlap_is_named_only_where_the_pair_gains_less_together():
    """The example's package: step 3 loses +476 in the package (+5,291 there, +5,767 alone), but the
    step it shares people with, step 2, gains more with it than apart (+11,377 against +10,714). That
    pair is not called an overlap ("they reach the same people"): the step's own line says its
    overlap is with the steps before it, not step 2 alone. Every pair named loses together."""
    import re

    example = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    run = optimise_case(load_case(example), solver="highs")
    asks, cands = measure_asks(run)
    package = build_package(run, asks, cands)
    words = [o["words"] for o in package.overlaps]
    assert len(words) >= 2
    for w in words:
        m = re.match(r"steps \d+ and \d+ together \+([\d,]+), not \+([\d,]+)", w)
        if m:
            together, apart = (float(g.replace(",", "")) for g in m.groups())
            assert together < apart, w
    assert any("it overlaps the steps before it (not step 2 alone: the two together +11,377, more than "
               "+10,714 apart)" in w for w in words), words
