"""Devolution asks: every single-rule relaxation, priced from the duals, then measured.

Each case is a tiny CSV folder (local helper below) loaded through the validator and
optimised in-process, so that each listed ask can be re-solved here, independently, with
``commissioning.analysis.asks.apply_candidate`` + ``create_model`` + ``solve``: every ``gain_outcomes``
must equal that re-solve, and the hand arithmetic in each case's docstring.
Unless said: one area A1 "Northtown", year 2025-26, £1,000 a head, every rate 0.5,
no carry-forward, no match, not poolable; objective outcomes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from commissioning.cli import main
from commissioning.inputs.validate import load_case
from commissioning.analysis.asks import ASK_COLUMNS, Candidate, apply_candidate, measured_asks
from optimiser.build import create_model
from optimiser.levels import optimise_case
from optimiser.solve import solve

from explaincases import SOLVERS, UNLIMITED_PROGRAMMES, Y1, Y2, pot, rule, write_case


# ---- cases ---------------------------------------------------------------------------------------
def cohort_and_area_case(folder: Path) -> Path:
    """P (Northtown only, cohort X) has £10,000; X's need there is 4 → £6,000 idle.

    * Y (rate 0.5) has need 10 in Northtown and no pot: **add_cohort P/Y** lets P's £6,000
      buy 6 of them → 6 × 0.5 = **+3.0** outcomes.
    * X has need 2 in Southvale, outside P's area: **add_area P/A2** buys them with £2,000 →
      2 × 0.5 = **+1.0**.
    Ranked: add_cohort (3.0) first, add_area (1.0) second; nothing else helps.
    """
    return write_case(folder, areas=("A1", "A2"), cohorts={"X": 0.5, "Y": 0.5},
                      pots=[pot("P", "X", name="Idle pot", geography="A1")], budgets={("P", Y1): 10000},
                      need={("A1", "X", Y1): 4, ("A1", "Y", Y1): 10, ("A2", "X", Y1): 2})


def match_case(folder: Path) -> Path:
    """M (£10,000, needs £0.50 of match per £1) and L (£2,000, can match) both fund E (need 100).

    Aligned: L spends £2,000, M at most £4,000 → 6 people, 3 outcomes.
    **drop_match M**: M spends all £10,000 → 12 people, 6 outcomes → **+3.0**.
    """
    return write_case(folder, cohorts={"E": 0.5},
                      pots=[pot("M", "E", match_rate=0.5), pot("L", "E", can_match=True)],
                      budgets={("M", Y1): 10000, ("L", Y1): 2000}, need={("A1", "E", Y1): 100})


def rule_case(folder: Path) -> Path:
    """R (£10,000) funds F (need 100) under max_amount £3,000 → 3 people, 1.5 outcomes.

    **relax_rule** (remove it): R spends £10,000 → 10 people, 5 outcomes → **+3.5**, for
    £7,000 newly spent: 3.5 / 0.007 = **500 outcomes per £1m**.
    """
    return write_case(folder, cohorts={"F": 0.5}, pots=[pot("R", "F")], budgets={("R", Y1): 10000},
                      need={("A1", "F", Y1): 100},
                      rules=[rule("max_amount", 3000, "R capped at three thousand pounds", pot="R")])


def carry_case(folder: Path) -> Path:
    """CF (cohort C, life 2025-26 to 2026-27, no carry-forward): £10,000 in Y1, £5,000 in Y2.

    Need 4 in Y1 and 20 in Y2. Aligned: Y1 4 people (£6,000 idle), Y2 5 people → 4.5 outcomes.
    **carry_forward CF** (1 year): Y1's £6,000 buys 6 more in Y2 (11 ≤ 20) → **+3.0**.
    """
    return write_case(folder, cohorts={"C": 0.5}, pots=[pot("CF", "C", last=Y2)],
                      budgets={("CF", Y1): 10000, ("CF", Y2): 5000},
                      need={("A1", "C", Y1): 4, ("A1", "C", Y2): 20})


def extend_case(folder: Path) -> Path:
    """EX may carry money forward one year but its life ends 31 March 2026: £10,000 in Y1.

    Need 4 in Y1 and 20 in Y2 → £6,000 idle at aligned. **extend_years EX to 2026-27** lets
    the carried £6,000 buy 6 in Y2 → **+3.0**. (One more year of carry-forward alone buys
    nothing: the pot's life still ends in Y1.)
    """
    return write_case(folder, cohorts={"C": 0.5}, pots=[pot("EX", "C", carry_forward=1)],
                      budgets={("EX", Y1): 10000}, need={("A1", "C", Y1): 4, ("A1", "C", Y2): 20})


def pool_case(folder: Path) -> Path:
    """Poolable P1 (C, £20,000, need 4) and P2 (D, £2,000, need 10).

    Aligned 3 outcomes ((4 + 2) × 0.5); pooled 7 ((4 + 10) × 0.5): the **pool** ask is the
    devolution dividend, **+4.0**. add_cohort P1/D (8 of D from P1's idle money) is also +4.0.
    """
    return write_case(folder, cohorts={"C": 0.5, "D": 0.5},
                      pots=[pot("P1", "C", poolable=True), pot("P2", "D", poolable=True)],
                      budgets={("P1", Y1): 20000, ("P2", Y1): 2000}, need={("A1", "C", Y1): 4, ("A1", "D", Y1): 10},
                      settings=UNLIMITED_PROGRAMMES)


def mixed_case(folder: Path) -> Path:
    """The cases above side by side (separate cohorts), for the ranking and re-measuring checks."""
    return write_case(
        folder, areas=("A1", "A2"), cohorts={"X": 0.5, "Y": 0.5, "E": 0.5, "F": 0.5},
        pots=[pot("P", "X", geography="A1"), pot("M", "E", match_rate=0.5), pot("L", "E", can_match=True),
              pot("R", "F")],
        budgets={("P", Y1): 10000, ("M", Y1): 10000, ("L", Y1): 2000, ("R", Y1): 10000},
        need={("A1", "X", Y1): 4, ("A1", "Y", Y1): 10, ("A2", "X", Y1): 2, ("A1", "E", Y1): 100,
              ("A1", "F", Y1): 100},
        rules=[rule("max_amount", 3000, "R capped", pot="R")])


# ---- helpers ---------------------------------------------------------------------------------------
def run_and_ask(tmp_path: Path, make, solver: str):
    run = optimise_case(load_case(make(tmp_path / make.__name__)), solver=solver)
    return run, measured_asks(run)


def listed(asks: pd.DataFrame) -> list[tuple]:
    """(change, pot, area, cohort, year, gain) per ask, best first; empty cells as None."""
    out = []
    for r in asks.itertuples(index=False):
        cell = [None if pd.isna(v) else v for v in (r.change, r.pot_code, r.area_code, r.cohort_code, r.year)]
        out.append((*cell, round(float(r.gain_outcomes), 6)))
    return out


def _none(v):
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def remeasure(run, row) -> float:
    """The ask's gain, solved again here from the changed case (independently of measured_asks)."""
    aligned = run.levels["aligned"].solution.objective
    change, pot_code = row.change, _none(row.pot_code)
    if change == "pool" and pot_code is None:
        return run.levels["pooled"].solution.objective - aligned
    rule_index = None
    if change == "relax_rule":
        scope = tuple(_none(v) or "ALL" for v in (row.pot_code, row.area_code, row.cohort_code, row.year))
        matches = [i for i, r in enumerate(run.case.rules)
                   if (r.pot_code, r.area_code, r.cohort_code, r.year) == scope]
        assert len(matches) == 1, (scope, run.case.rules)
        rule_index = matches[0]
    area, cohort = _none(row.area_code), _none(row.cohort_code)
    # A merged ask lists its parts in its codes: several pots (one cohort) or several areas (one pot).
    parts = ()
    if change == "add_cohort" and ";" in pot_code:
        parts = tuple((p, None, cohort) for p in pot_code.split(";"))
    elif change == "add_area" and ";" in (area or ""):
        parts = tuple((pot_code, a, None) for a in area.split(";"))
    cand = Candidate(change, pot_code, area_code=area, cohort_code=cohort, year=_none(row.year),
                     rule_index=rule_index, parts=parts)
    # A pot joining the pool is measured against the pooled level, with the pool widened.
    joins = change == "pool"
    pool = frozenset(run.pool | {pot_code}) if joins else frozenset()
    lp = create_model(apply_candidate(run.case, cand), pool=pool)
    sol = solve(lp, solver=run.solver, lexicographic=False)
    assert sol.status == "optimal"
    return sol.objective - (run.levels["pooled"].solution.objective if joins else aligned)


def assert_measured_and_ranked(run, asks: pd.DataFrame) -> None:
    assert list(asks["rank"]) == list(range(1, len(asks) + 1))
    gains = list(asks["gain_outcomes"])
    assert gains == sorted(gains, reverse=True)
    assert all(g > 0 for g in gains)
    for row in asks.itertuples(index=False):
        assert float(row.gain_outcomes) == pytest.approx(remeasure(run, row), abs=1e-6), row


# ---- 4. asks, by hand -------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_add_cohort_outranks_add_area(tmp_path, solver):
    run, asks = run_and_ask(tmp_path, cohort_and_area_case, solver)
    assert listed(asks) == [("add_cohort", "P", None, "Y", None, 3.0), ("add_area", "P", "A2", None, None, 1.0)]
    # Priced first from the duals: P's budget has slack (dual 0) and the new cells have no
    # need-cap row, so each £1k is worth 1000 / 1000 × 0.5 = 0.5; times the money each could
    # absorb: Y 10 × £1,000 = £10k → 5.0; Southvale's X 2 × £1,000 = £2k → 1.0.
    assert list(asks["estimated_gain"]) == pytest.approx([5.0, 1.0])
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_drop_match(tmp_path, solver):
    run, asks = run_and_ask(tmp_path, match_case, solver)
    assert listed(asks) == [("drop_match", "M", None, None, None, 3.0)]
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_relax_rule(tmp_path, solver):
    run, asks = run_and_ask(tmp_path, rule_case, solver)
    assert listed(asks) == [("relax_rule", "R", None, None, None, 3.5)]
    assert "R capped at three thousand pounds" in asks["detail"].iloc[0]
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_relax_a_min_share(tmp_path, solver):
    # P (£10,000) funds C (rate 0.25) and D (rate 0.5), need 50 each; at least 50% must go on C.
    # With the rule: £5,000 on C → 5 × 0.25 = 1.25, £5,000 on D → 5 × 0.5 = 2.5; total 3.75.
    # Without it: all £10,000 on D → 10 × 0.5 = 5.0. Gain +1.25.
    case = write_case(tmp_path / "case", cohorts={"C": 0.25, "D": 0.5}, pots=[pot("P", "C;D")],
                      budgets={("P", Y1): 10000}, need={("A1", "C", Y1): 50, ("A1", "D", Y1): 50},
                      rules=[rule("min_share", 0.5, "Half on C", pot="P", cohort="C")])
    run = optimise_case(load_case(case), solver=solver)
    asks = measured_asks(run)
    assert listed(asks) == [("relax_rule", "P", None, "C", None, 1.25)]
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_carry_forward(tmp_path, solver):
    run, asks = run_and_ask(tmp_path, carry_case, solver)
    assert listed(asks) == [("carry_forward", "CF", None, None, None, 3.0)]
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_extend_years(tmp_path, solver):
    run, asks = run_and_ask(tmp_path, extend_case, solver)
    assert listed(asks) == [("extend_years", "EX", None, None, Y2, 3.0)]
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_pool_ask_is_the_devolution_dividend(tmp_path, solver):
    run, asks = run_and_ask(tmp_path, pool_case, solver)
    dividend = run.dividends()["devolution"]["outcomes"]
    assert dividend == pytest.approx(4.0)
    pool = asks[asks["change"] == "pool"]
    assert len(pool) == 1 and pd.isna(pool["pot_code"].iloc[0])
    assert pool["gain_outcomes"].iloc[0] == pytest.approx(dividend)
    assert sorted(listed(asks)) == [("add_cohort", "P1", None, "D", None, 4.0), ("pool", None, None, None, None, 4.0)]
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_pot_joining_the_pool(tmp_path, solver):
    # P1 (C, £20,000, need 4) and P2 (D, £2,000, need 30) are poolable; P3 (E, £5,000, need 1)
    # is not. Aligned: 4 + 2 + 1 = 7 people → 3.5 outcomes. Pooled: P1's spare £16,000 buys
    # 16 of D → 23 people → 11.5: the pool ask is +8.0. P3 joining the pool (measured against
    # pooled) lets its spare £4,000 buy 4 more of D (22 ≤ 30) → +2.0. Against aligned,
    # add_cohort P1/D is +8.0 (16 of D) and add_cohort P3/D +2.0 (4 of D). P3 is DWP's, P1
    # DfE's: the two eligibility asks go to different departments, so they are not merged.
    case = write_case(tmp_path / "case", cohorts={"C": 0.5, "D": 0.5, "E": 0.5},
                      pots=[pot("P1", "C", poolable=True), pot("P2", "D", poolable=True),
                            pot("P3", "E", department="DWP")],
                      budgets={("P1", Y1): 20000, ("P2", Y1): 2000, ("P3", Y1): 5000},
                      need={("A1", "C", Y1): 4, ("A1", "D", Y1): 30, ("A1", "E", Y1): 1},
                      settings=UNLIMITED_PROGRAMMES)
    run = optimise_case(load_case(case), solver=solver)
    asks = measured_asks(run)
    assert sorted(listed(asks), key=str) == sorted([
        ("pool", None, None, None, None, 8.0), ("add_cohort", "P1", None, "D", None, 8.0),
        ("pool", "P3", None, None, None, 2.0), ("add_cohort", "P3", None, "D", None, 2.0)], key=str)
    assert "(measured against the pooled level)" in asks.loc[asks["pot_code"].eq("P3") & asks["change"].eq("pool"),
                                                           "detail"].iloc[0]
    assert_measured_and_ranked(run, asks)


@pytest.mark.parametrize("solver", SOLVERS)
def test_many_asks_are_ranked_by_measured_gain(tmp_path, solver):
    # Hand gains of the single changes in mixed_case (each against aligned):
    #   relax_rule R: +3.5; add_cohort P/Y: P's £6,000 → 6 of Y: +3.0; drop_match M: +3.0;
    #   add_cohort P/E, P/F: P's £6,000 → 6 of E or F: +3.0 each; add_area P/A2: +1.0.
    run, asks = run_and_ask(tmp_path, mixed_case, solver)
    got = {(c, p, a, k): g for c, p, a, k, _, g in listed(asks)}
    assert got[("relax_rule", "R", None, None)] == 3.5
    # P and R are both DfE's, so widening both to Y is one ask; R's £3,000 cap binds already, so
    # the gain is still P's £6,000 → 6 of Y: +3.0.
    assert got[("add_cohort", "P;R", None, "Y")] == 3.0
    assert got[("drop_match", "M", None, None)] == 3.0
    assert got[("add_area", "P", "A2", None)] == 1.0
    assert listed(asks)[0][0] == "relax_rule"
    assert_measured_and_ranked(run, asks)


# ---- pool joins at large sizes --------------------------------------------------------------------
def joining_case(folder: Path) -> Path:
    """P1, P2 poolable; P3 (DWP's) not: P3 joining the pool is +2.0 (see test_a_pot_joining_the_pool)."""
    return write_case(folder, cohorts={"C": 0.5, "D": 0.5, "E": 0.5},
                      pots=[pot("P1", "C", poolable=True), pot("P2", "D", poolable=True),
                            pot("P3", "E", department="DWP")],
                      budgets={("P1", Y1): 20000, ("P2", Y1): 2000, ("P3", Y1): 5000},
                      need={("A1", "C", Y1): 4, ("A1", "D", Y1): 30, ("A1", "E", Y1): 1},
                      settings=UNLIMITED_PROGRAMMES)


def test_pool_joins_are_estimated_not_measured_above_the_size(tmp_path, monkeypatch):
    import commissioning.analysis.asks as asks_module
    from commissioning.analysis.explain import explain_run

    run = optimise_case(load_case(joining_case(tmp_path / "case")), solver="highs")
    assert asks_module.pool_join_limit(run, None) is None  # a small pooled model: every join measured
    monkeypatch.setattr(asks_module, "LARGE_POOLED_MODEL", 0)
    assert asks_module.pool_join_limit(run, None) == 0
    ex = explain_run(run)
    # The other asks are all still measured; P3's join is left out, with its estimate.
    assert sorted(listed(ex.asks), key=str) == sorted([
        ("pool", None, None, None, None, 8.0), ("add_cohort", "P1", None, "D", None, 8.0),
        ("add_cohort", "P3", None, "D", None, 2.0)], key=str)
    assert list(ex.unmeasured["pot_code"]) == ["P3"] and list(ex.unmeasured["change"]) == ["pool"]
    assert ex.unmeasured["estimated_gain"].iloc[0] > 0
    assert "estimated, not measured" in ex.unmeasured["detail"].iloc[0]
    # Asked for explicitly, it is measured: +2.0 against the pooled level.
    ex1 = explain_run(run, pool_joins=1)
    assert ("pool", "P3", None, None, None, 2.0) in listed(ex1.asks) and not len(ex1.unmeasured)


def test_pool_join_limit_through_the_command_line(tmp_path, monkeypatch):
    import json

    import commissioning.analysis.asks as asks_module

    monkeypatch.setattr(asks_module, "LARGE_POOLED_MODEL", 0)
    case = joining_case(tmp_path / "case")
    result = CliRunner().invoke(main, ["--quiet", "optimise", str(case), "--out", str(tmp_path / "out"),
                                       "--solver", "highs"])
    assert result.exit_code == 0, result.output
    assert "1 pool-join ask(s) estimated, not measured" in result.output and "--pool-join-asks" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [(a["pot_code"], a["change"]) for a in summary["asks_not_measured"]] == [("P3", "pool")]
    asks = pd.read_csv(tmp_path / "out" / "asks.csv")
    assert not (asks["change"].eq("pool") & asks["pot_code"].eq("P3")).any()  # asks.csv: measured only
    told = CliRunner().invoke(main, ["explain", str(tmp_path / "out")])
    assert told.exit_code == 0 and "Not measured at this size (1 pool-join ask," in told.output
    again = CliRunner().invoke(main, ["--quiet", "optimise", str(case), "--out", str(tmp_path / "out2"),
                                      "--solver", "highs", "--pool-join-asks", "1"])
    assert again.exit_code == 0, again.output
    asks = pd.read_csv(tmp_path / "out2" / "asks.csv")
    assert float(asks.loc[asks["change"].eq("pool") & asks["pot_code"].eq("P3"), "gain_outcomes"].iloc[0]) == \
        pytest.approx(2.0)
    assert "asks_not_measured" not in json.loads((tmp_path / "out2" / "summary.json").read_text())


# ---- asks.csv through the command line -----------------------------------------------------------
def test_asks_csv_columns_and_rows(tmp_path):
    case = cohort_and_area_case(tmp_path / "case")
    result = CliRunner().invoke(main, ["--quiet", "optimise", str(case), "--out", str(tmp_path / "out"),
                                       "--solver", "highs"])
    assert result.exit_code == 0, result.output
    asks = pd.read_csv(tmp_path / "out" / "asks.csv", dtype={"year": str})
    contract = ["rank", "pot_code", "change", "area_code", "cohort_code", "year", "gain_outcomes",
                "gain_per_million", "detail"]
    assert list(asks.columns[:len(contract)]) == contract
    assert list(asks.columns) == ASK_COLUMNS + ["status"]  # the run status follows on every row
    assert listed(asks) == [("add_cohort", "P", None, "Y", None, 3.0), ("add_area", "P", "A2", None, None, 1.0)]
    # In the grantor's words, led by the department, each measured against the aligned level.
    assert asks["ask"].tolist() == ["DfE: widen Idle pot eligibility to cohort Y",
                                    "DfE: let Idle pot be spent on residents of Southvale"]
    assert asks["detail"].iloc[0] == "DfE: widen Idle pot eligibility to cohort Y: +3 outcomes (measured)"
    assert asks["measured_against"].tolist() == ["aligned", "aligned"]
    assert asks["department"].tolist() == ["DfE", "DfE"]
    assert asks["group"].tolist() == ["eligibility", "geography"]
    # Nobody receives less: among the optimal plans, each ask's takes the fewest people from the
    # aligned plan's (optimiser.anchor), and both asks spend P's idle money (£6,000 and £2,000).
    assert asks["loses_participants"].tolist() == [0.0, 0.0] and asks["receives_less"].isna().all()
    assert asks["assumption"].iloc[0] == ("Idle pot: £1,000 a head at the cohort's own 50% job entry rate "
                                          "(£2,000 an outcome); no programme serves cohort Y today to compare with")


# ---- gain per £1m --------------------------------------------------------------------------------
@pytest.mark.parametrize("make, per_million", [
    # relax_rule R: +3.5 outcomes for £7,000 newly spent on F (nothing else moves) → 3.5 / 0.007 = 500.
    (rule_case, 500.0),
    # drop_match M: +3.0 outcomes for £6,000 more of M on E (L's £2,000 stays put) → 3.0 / 0.006 = 500.
    (match_case, 500.0),
])
def test_gain_per_million_counts_money_newly_spent(tmp_path, make, per_million):
    # The money an ask moves includes idle money it brings into use. Counting only half the
    # sum of the allocation differences halves it when nothing is taken from another cell,
    # and makes such asks look twice as good per £1m as a pure reallocation.
    run, asks = run_and_ask(tmp_path, make, "highs")
    assert asks["gain_per_million"].iloc[0] == pytest.approx(per_million)


def test_gain_per_million_of_a_pure_reallocation(tmp_path):
    # Story: B (£2,000 a head, £200,000) may take Y (rate 0.5) instead of C (0.25): the whole
    # £200,000 moves from C to Y for +25 outcomes → 25 / 0.2 = 125 per £1m.
    case = write_case(tmp_path / "case", cohorts={"C": 0.25, "Y": 0.5},
                      pots=[pot("B", "C", unit_cost=2000)], budgets={("B", Y1): 200000},
                      need={("A1", "C", Y1): 1000, ("A1", "Y", Y1): 100})
    run = optimise_case(load_case(case), solver="highs")
    asks = measured_asks(run)
    assert listed(asks) == [("add_cohort", "B", None, "Y", None, 25.0)]
    assert asks["gain_per_million"].iloc[0] == pytest.approx(125.0)


def test_equal_estimates_tie_whatever_the_rounding(tmp_path, monkeypatch):
    # Equal prices summed in a different order differ in the last bits (7008.1 against
    # 7008.099999999999); they must still tie, and the pot codes decide the order.
    import commissioning.analysis.asks as asks_module

    run = optimise_case(load_case(cohort_and_area_case(tmp_path / "case")), solver="highs")
    cands = [Candidate("add_cohort", "NCS", cohort_code="Y", estimate=7008.1),
             Candidate("add_cohort", "FSF", cohort_code="Y", estimate=7008.099999999999),
             Candidate("add_cohort", "ASF", cohort_code="Y", estimate=7008.1),
             Candidate("add_area", "ZZZ", area_code="A2", estimate=9000.0)]
    monkeypatch.setattr(asks_module, "candidates", lambda run: cands)
    chosen, _ = asks_module.choose_candidates(run, 3, None)
    assert [(c.change, c.pot_code) for c in chosen] == [("add_area", "ZZZ"), ("add_cohort", "ASF"),
                                                       ("add_cohort", "FSF")]


def test_an_asks_tie_break_from_the_levels_basis_reaches_the_plan_of_the_phase_before():
    """An ask's model is anchored to the level it is measured against, so its fixed-preference
    tie-break starts from that level's tie-break basis with the dual simplex (optimiser.solve's
    WARM_SIMPLEX) rather than from the phase before with the primal: the same plan either way, to
    the solver's tolerance, on the example's four best asks."""
    import numpy as np

    from commissioning.analysis.asks import AskContext, choose_candidates
    from optimiser.anchor import anchored
    from optimiser.levels import allocations_from, settle

    example = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    run = optimise_case(load_case(example), solver="highs")
    ctx = AskContext.of(run)
    chosen, _ = choose_candidates(run, max_measured=4)
    assert len(chosen) == 4
    for cand in chosen:
        base = ctx.pooled if cand.pool_against else ctx.aligned
        changed = ctx.case if cand.pool_against else apply_candidate(ctx.case, cand)
        pool = frozenset(ctx.pool | {cand.pot_code}) if cand.pool_against else frozenset()
        lp = anchored(create_model(changed, pool=pool), base.allocations)
        warm = solve(lp, solver="highs", warm=base.warm, tiebreak_warm=True)
        before = solve(lp, solver="highs", warm=base.warm)
        assert warm.timings["tiebreak_from_old"] == 1.0 and before.timings["tiebreak_from_old"] == 0.0
        assert warm.objective == pytest.approx(before.objective, rel=1e-9)
        a = allocations_from(lp.variables, settle(lp, warm.x), changed)
        b = allocations_from(lp.variables, settle(lp, before.x), changed)
        key = ["pot_code", "area_code", "cohort_code", "year", "programme"]
        merged = a.merge(b, on=key, how="outer", suffixes=("_warm", "_before")).fillna(0.0)
        # The plan: every allocation within £1 (the held objectives' 1e-9 slack on ~£1bn).
        assert np.abs(merged["amount_warm"] - merged["amount_before"]).max() < 1.0


def _ask_model(run, cand):
    """An ask's anchored model as ``asks._measure`` builds it, the level it is measured against (its
    allocations and bases) and the case with the ask's change."""
    from commissioning.analysis.asks import AskContext
    from optimiser.anchor import anchored

    ctx = AskContext.of(run)
    base = ctx.pooled if cand.pool_against else ctx.aligned
    changed = ctx.case if cand.pool_against else apply_candidate(ctx.case, cand)
    pool = frozenset(ctx.pool | {cand.pot_code}) if cand.pool_against else frozenset()
    return anchored(create_model(changed, pool=pool), base.allocations), base, changed


def _best_ask_model():
    """The example's best-estimated ask (HiGHS), as :func:`_ask_model` gives it."""
    from commissioning.analysis.asks import choose_candidates

    example = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    run = optimise_case(load_case(example), solver="highs")
    return _ask_model(run, choose_candidates(run, max_measured=1)[0][0])


@pytest.mark.parametrize("recovers", [True, False])
def test_a_warm_later_phase_that_fails_takes_the_cold_path_or_is_said(monkeypatch, recovers):
    """A later phase started from the old model's basis that ends without an optimum (forced here:
    one pivot allowed) is solved again the way a phase not started warm is, from the phase before's
    basis with the primal simplex: the same plan as that path gives. When that fails too the plan is
    not handed on as the tie-broken one: ``unfinished`` says which phase, and ``finished`` raises."""
    import numpy as np

    from commissioning.errors import SolverError
    from optimiser import solve as solve_module
    from optimiser.levels import allocations_from, settle

    lp, base, changed = _best_ask_model()
    cold = solve(lp, solver="highs", warm=base.warm)  # the tie-break from the phase before, as usual

    real_apply, real_cold = solve_module.WarmStart.apply_phase, solve_module._cold_phase

    def one_pivot(self, k, h, mapped):
        h.setOptionValue("simplex_iteration_limit", 1)
        return real_apply(self, k, h, mapped)

    def cold_path(h, *args, **kw):
        if recovers:
            h.setOptionValue("simplex_iteration_limit", solve_module._NO_LIMIT)
        return real_cold(h, *args, **kw)

    monkeypatch.setattr(solve_module.WarmStart, "apply_phase", one_pivot)
    monkeypatch.setattr(solve_module, "_cold_phase", cold_path)
    sol = solve(lp, solver="highs", warm=base.warm, tiebreak_warm=True)
    assert sol.timings["disruption_warm_failed"] == 1.0  # the one pivot allowed, then the cold path
    if recovers:
        assert sol.timings["tiebreak_warm_failed"] == 1.0 and sol.unfinished == ""
        assert solve_module.finished(sol, "the ask") is sol
        assert sol.objective == pytest.approx(cold.objective, rel=1e-9)
        # The same plan (allocations within £1; money's flows between years, outside every
        # preference, may take another of their equal paths).
        a = allocations_from(lp.variables, settle(lp, sol.x), changed)
        b = allocations_from(lp.variables, settle(lp, cold.x), changed)
        key = ["pot_code", "area_code", "cohort_code", "year", "programme"]
        merged = a.merge(b, on=key, how="outer", suffixes=("_new", "_cold")).fillna(0.0)
        assert len(merged) > 100 and np.abs(merged["amount_new"] - merged["amount_cold"]).max() < 1.0
    else:
        assert sol.unfinished.startswith("least-disruption phase ended time_limit")
        with pytest.raises(SolverError, match="the ask: its least-disruption phase ended time_limit"):
            solve_module.finished(sol, "the ask")


def test_a_cbc_phase_held_too_tightly_for_its_rounded_plan_is_held_again(monkeypatch):
    """With the anchor held at 1e-9 (as until December 2026), CBC's tie-break on the example's
    best asks was infeasible more often than not: the plan PuLP hands back is rounded, so the anchor
    worked out from it lies above what any plan reaches. The phase is then held at CBC_HOLD_RETRY
    and solved; what the tie-break reaches is the plan HiGHS reaches (the money moved to £1,000)."""
    from commissioning.analysis.asks import AskContext, _moved, choose_candidates
    from optimiser import anchor as anchor_module
    from optimiser import solve as solve_module
    from optimiser.anchor import anchored
    from optimiser.levels import allocations_from, settle

    example = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    case = load_case(example)
    runs = {s: optimise_case(case, solver=s) for s in ("cbc", "highs")}
    monkeypatch.setattr(anchor_module, "ANCHOR_SLACK", solve_module.OPTIMALITY_SLACK)
    chosen, _ = choose_candidates(runs["highs"], max_measured=4)
    widened = 0
    for cand in chosen:
        moved = {}
        for s, r in runs.items():
            ctx = AskContext.of(r)
            base = ctx.pooled if cand.pool_against else ctx.aligned
            changed = ctx.case if cand.pool_against else apply_candidate(ctx.case, cand)
            pool = frozenset(ctx.pool | {cand.pot_code}) if cand.pool_against else frozenset()
            lp = anchored(create_model(changed, pool=pool), base.allocations)
            sol = solve(lp, solver=s, warm=base.warm)
            assert sol.unfinished == ""
            widened += sol.timings.get("tiebreak_hold_widened", 0.0) == 1.0  # the anchor's hold alone
            moved[s] = _moved(base.allocations, allocations_from(lp.variables, settle(lp, sol.x), changed))
        assert moved["cbc"] == pytest.approx(moved["highs"], abs=1000.0)
    assert widened >= 2  # at least two of the four were held again (measured: ranks 1, 2 and 4 of 12)


def test_the_example_s_asks_move_the_same_money_with_either_solver():
    """One answer whatever the solver, for the asks too: each ask's gain, the money it moves (its
    gain per £1m moved) and who gains and loses are the same with CBC and HiGHS. Until the anchor
    was held at ANCHOR_SLACK (and CBC's tie-break held again when its rounded plan made it
    infeasible) nine of the fifteen rows differed, by up to 10 outcomes per £1m."""
    example = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    case = load_case(example)
    got = {s: measured_asks(optimise_case(case, solver=s)) for s in ("cbc", "highs")}
    cbc, highs = got["cbc"], got["highs"]
    assert len(cbc) == len(highs) >= 12
    assert list(cbc["pot_code"].fillna("")) == list(highs["pot_code"].fillna(""))
    assert (cbc["gain"] - highs["gain"]).abs().max() < 0.01
    assert (cbc["gain_per_million"].fillna(0) - highs["gain_per_million"].fillna(0)).abs().max() < 0.01
    assert (cbc["gain_participants"] - highs["gain_participants"]).abs().max() < 0.05


def test_a_later_phase_stopped_by_the_time_limit_is_the_run_s_time_limit_not_an_error(monkeypatch):
    """The user's time limit reached in a later phase (forced here: the limit set to nothing as the
    warm phase begins) makes the solve's status ``time_limit`` (the best found, said as when phase one
    is stopped), not an unfinished phase and not a solver error."""
    from optimiser import solve as solve_module

    lp, base, changed = _best_ask_model()
    real_apply = solve_module.WarmStart.apply_phase

    def out_of_time(self, k, h, mapped):
        h.setOptionValue("time_limit", 1e-9)
        return real_apply(self, k, h, mapped)

    monkeypatch.setattr(solve_module.WarmStart, "apply_phase", out_of_time)
    sol = solve(lp, solver="highs", warm=base.warm, tiebreak_warm=True, time_limit=600)
    assert sol.status == "time_limit" and not sol.proven_optimal and sol.unfinished == ""
    assert solve_module.finished(sol, "the ask") is sol
