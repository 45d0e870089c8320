"""The price of realism, measured and said: ``explain_run`` → ``summary.json`` → ``explain``,
``realism.csv`` and the Realism sheet of ``results.xlsx``, worked by hand.

Every case has one area A1 and pots at £1,000 a head unless said otherwise.

**Contracts.** Cohorts C1 (rate 0.2) and C2 (rate 0.5), need 100 each in 2025-26 and
2026-27; pot P £10,000 a year in both; today £6,000 a year on C1 under a contract ending
2026-03-31 (so 2025-26 is contracted, 2026-27 free)::

    with the contract:  2025-26  6 on C1 (1.2) + £4,000 → 4 on C2 (2)  = 3.2
                        2026-27  £10,000 → 10 on C2 (5)               = 5      total 8.2
    without it:         10 on C2 (5) each year                                total 10
    cost 10 − 8.2 = 1.8 outcomes, 1.8 / 10 = 18% of what the level buys without it.

P is not poolable, so the pooled level is the aligned one: the same cost. The pool's
programme limit (``programme_scale``, always set) buys nothing here: cost 0.

**Protection.** One year (2025-26), the same cohorts and need 100 each, P £10,000; today
£10,000 on C1 (10 people); ``protect: {cohorts: 0.5}`` keeps at least 5 on C1::

    with the floor:  5 on C1 (1) + £5,000 → 5 on C2 (2.5) = 3.5
    without it:      10 on C2 (5)                          = 5
    cost 1.5 outcomes, 1.5 / 5 = 30%.

**Capacity in the pool.** One year, one cohort C (rate 0.5), need 100; P1 £500 a head,
£1,000; P2 £1,000 a head, £9,000; both poolable; ``programme_scale: 2``. Aligned, each pot on
its own programme: 2 + 9 = 11 people, 5.5 outcomes (the multiple applies in the pool only,
and no pot states a capacity: no aligned row). Pooled, P1's programme serves at most
2 × (£1,000 / £500) = 4 people::

    with the limit:  4 at £500 (£2,000) + £8,000 / £1,000 = 8 → 12 people = 6
    without it:      £10,000 / £500 = 20 people                           = 10
    cost 4 outcomes at the pooled level, 4 / 10 = 40%.
"""

from __future__ import annotations

import csv

import openpyxl
import pytest
from click.testing import CliRunner

from lpcases import Y1, Y2, cohort, make_case, pot, write_case
from optimiser.levels import optimise_case

from commissioning.analysis import asks as asks_module
from commissioning.analysis.explain import explain_run
from commissioning.analysis.narrative import realism_lines
from commissioning.analysis.realism import REALISM_COLUMNS
from commissioning.analysis.summary import explanation_summary, read_summary, summary_record
from commissioning.cli import main
from test_docs import read, section, spans

SOLVERS = ["cbc", "highs"]


def contract_tables() -> dict:
    return dict(areas=["A1"], cohorts={"C1": 0.2, "C2": 0.5}, pots=[pot("P")],
                budgets={("P", Y1): 10_000, ("P", Y2): 10_000},
                need={("A1", c, y): 100 for c in ("C1", "C2") for y in (Y1, Y2)},
                provision={("P", "A1", "C1", y): {"amount": 6_000, "contract_end": "2026-03-31"} for y in (Y1, Y2)})


def protect_tables() -> dict:
    return dict(areas=["A1"], cohorts={"C1": 0.2, "C2": 0.5}, pots=[pot("P")], budgets={("P", Y1): 10_000},
                need={("A1", "C1", Y1): 100, ("A1", "C2", Y1): 100}, provision={("P", "A1", "C1", Y1): 10_000},
                settings={"protect": {"cohorts": 0.5}})


def capacity_tables() -> dict:
    return dict(areas=["A1"], cohorts=[cohort("C", 0.5)],
                pots=[pot("P1", unit_cost=500, poolable=True), pot("P2", unit_cost=1000, poolable=True)],
                budgets={("P1", Y1): 1_000, ("P2", Y1): 9_000}, need={("A1", "C", Y1): 100},
                settings={"programme_scale": 2})


def _explained(tmp_path, tables, solver):
    run = optimise_case(make_case(tmp_path / "case", **tables), solver=solver)
    return run, explain_run(run)


def _costs(rows) -> dict:
    return {(r["rule"], r["level"]): (r["objective_with"], r["objective_without"], r["cost"], r["cost_share"])
            for r in rows}


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_signed_contract_costs_what_freeing_it_would_buy(tmp_path, solver):
    run, ex = _explained(tmp_path, contract_tables(), solver)
    costs = _costs(ex.realism)
    assert set(costs) == {("contract", "aligned"), ("contract", "pooled"), ("capacity", "pooled")}
    for level in ("aligned", "pooled"):
        assert costs[("contract", level)] == pytest.approx((8.2, 10, 1.8, 0.18), abs=1e-6)
    assert costs[("capacity", "pooled")] == pytest.approx((8.2, 8.2, 0, 0), abs=1e-6)
    assert list(ex.realism[0]) == REALISM_COLUMNS and ex.realism_not_measured == ""
    assert realism_lines(summary_record(run, explanation_summary(ex))) == [
        "",
        "What realism costs (each rule measured by solving again without it; the share is of what the plan "
        "would buy without it; the costs overlap and do not add up):",
        "  - Keeping signed contracts until they end costs 1.8 outcomes at the aligned level (18.0%) and 1.8 at "
        "the pooled level (18.0%).",
        "  - Cost nothing here: capping how far a programme the pool buys may grow (programme_scale, a "
        "judgement of 2× by default, or a pot's stated capacity).",
    ]


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_protection_floor_costs_what_the_dearer_cohort_gives_up(tmp_path, solver):
    run, ex = _explained(tmp_path, protect_tables(), solver)
    costs = _costs(ex.realism)
    assert set(costs) == {("protect", "aligned"), ("protect", "pooled"), ("capacity", "pooled")}
    for level in ("aligned", "pooled"):
        assert costs[("protect", level)] == pytest.approx((3.5, 5, 1.5, 0.3), abs=1e-6)
    summary = summary_record(run, explanation_summary(ex))
    assert [(r.rule, r.level) for r in summary.realism] == [(r["rule"], r["level"]) for r in ex.realism]
    assert "  - Protecting the people served today (the protection floors) costs 1.5 outcomes at the aligned " \
           "level (30.0%) and 1.5 at the pooled level (30.0%)." in realism_lines(summary)


@pytest.mark.parametrize("solver", SOLVERS)
def test_where_near_optimal_gives_some_objective_up_each_rule_is_priced_by_the_plans_objective(tmp_path, solver):
    """The contract case with least disruption and ``near_optimal: 0.1``: each level gives up 10% of
    its optimum to stay near today's £6,000 a year on C1, so a rule is priced by the objectives of
    the plans the engine makes (later phases solved too), not by the optima::

        with every rule:      optimum 8.2, the plan 0.9 × 8.2 = 7.38
        without the contract: optimum 10,  the plan 0.9 × 10  = 9       cost 9 − 7.38 = 1.62
        without the programme limit (pooled): the same plan, 7.38        cost 0 (an optimum would say 0.82)
        without least disruption (near_optimal 0): the optimum 8.2      cost 8.2 − 7.38 = 0.82
    """
    tables = contract_tables()
    tables["settings"] = {"least_disruption": True, "near_optimal": 0.1}
    run, ex = _explained(tmp_path, tables, solver)
    costs = _costs(ex.realism)
    assert set(costs) == {("contract", "aligned"), ("contract", "pooled"), ("capacity", "pooled"),
                          ("least_disruption", "aligned"), ("least_disruption", "pooled")}
    for level in ("aligned", "pooled"):
        assert costs[("contract", level)] == pytest.approx((7.38, 9, 1.62, 0.18), abs=1e-6)
        assert costs[("least_disruption", level)] == pytest.approx((7.38, 8.2, 0.82, 0.82 / 8.2), abs=1e-6)
    assert costs[("capacity", "pooled")] == pytest.approx((7.38, 7.38, 0, 0), abs=1e-6)


def test_a_warm_re_solve_reported_infeasible_is_solved_again_by_the_levels_path(tmp_path, monkeypatch):
    """Lifting a rule cannot make a level infeasible: a warm re-solve that says so (numerical
    trouble) is not written down as "infeasible without it" but solved again as a level is, which
    here gives the hand-worked 1.8 outcomes of the contract; where that path finds the level truly
    infeasible, the row says so (NaN) rather than a number."""
    import numpy as np

    import optimiser.solve as solve_module
    from commissioning.analysis.realism import price_of_realism
    from commissioning.errors import InfeasibleError

    run = optimise_case(make_case(tmp_path / "case", **contract_tables()), solver="highs")

    def says_infeasible(lp, **kw):
        return solve_module.Solution("infeasible", np.zeros(lp.n), 0.0, np.zeros(0), np.zeros(0), "highs", 0.0)

    monkeypatch.setattr(solve_module, "solve", says_infeasible)
    costs = _costs(price_of_realism(run))
    assert costs[("contract", "aligned")] == pytest.approx((8.2, 10, 1.8, 0.18), abs=1e-6)

    def collides(case, level, *a, **k):
        raise InfeasibleError(level, [])

    monkeypatch.setattr("optimiser.levels.solve_level", collides)
    rows = price_of_realism(run)
    assert all(r["note"] == "infeasible without it" and r["objective_without"] != r["objective_without"] for r in rows)


def test_the_re_solves_shared_with_a_second_process_give_the_same_prices(tmp_path):
    """Every other lifted level solved in a real second process (spawned, as the CLI starts it):
    the same rows, in the same order, as the contract case's hand-worked 1.8 outcomes above."""
    from commissioning.analysis.realism import price_of_realism
    from commissioning.analysis.workers import Workers

    run = optimise_case(make_case(tmp_path / "case", **contract_tables()), solver="highs")
    alone = price_of_realism(run)
    with Workers(2) as w:
        shared = price_of_realism(run, workers=w)
    assert shared == alone and len(alone) == 3
    assert _costs(shared)[("contract", "pooled")] == pytest.approx((8.2, 10, 1.8, 0.18), abs=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_programme_limit_costs_the_pool_what_the_cheap_programme_would_buy(tmp_path, solver):
    run, ex = _explained(tmp_path, capacity_tables(), solver)
    assert run.levels["aligned"].totals["outcomes"] == pytest.approx(5.5, abs=1e-6)
    assert _costs(ex.realism) == {("capacity", "pooled"): pytest.approx((6, 10, 4, 0.4), abs=1e-6)}
    lines = realism_lines(summary_record(run, explanation_summary(ex)))
    assert lines[2:] == ["  - Capping how far a programme the pool buys may grow (programme_scale, a judgement of 2× by default, or a pot's stated capacity) "
                         "costs 4.0 outcomes at the pooled level (40.0%)."]


def test_above_the_pool_join_size_it_is_not_measured_and_said(tmp_path, monkeypatch):
    monkeypatch.setattr(asks_module, "LARGE_POOLED_MODEL", 0)
    said = []
    run = optimise_case(make_case(tmp_path / "case", **contract_tables()), solver="highs")
    ex = explain_run(run, progress=said.append)
    assert ex.realism == [] and "variables (above 0)" in ex.realism_not_measured
    assert any(m.startswith("the price of realism not measured: the pooled model has") for m in said)
    summary = read_summary(summary_record(run, explanation_summary(ex)).to_json())
    assert summary.realism == [] and summary.realism_not_measured == ex.realism_not_measured
    assert realism_lines(summary) == ["", f"What realism costs was not measured: {ex.realism_not_measured}."]


def test_without_asks_nothing_is_solved_again(tmp_path):
    run = optimise_case(make_case(tmp_path / "case", **contract_tables()), solver="highs")
    ex = explain_run(run, asks=False)
    assert ex.realism == [] and ex.realism_not_measured == "not asked for in this run"


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("solver", SOLVERS)
def test_optimise_writes_realism_csv_and_explain_says_it(tmp_path, solver):
    case = write_case(tmp_path / "case", **contract_tables())
    out = tmp_path / "out"
    res = _invoke("--quiet", "optimise", case, "--out", out, "--solver", solver)
    assert res.exit_code == 0, res.output
    with open(out / "realism.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == REALISM_COLUMNS + ["status"]
        rows = list(reader)
    assert [(r["rule"], r["level"]) for r in rows] == [("contract", "aligned"), ("contract", "pooled"),
                                                      ("capacity", "pooled")]
    assert [float(r["cost"]) for r in rows] == pytest.approx([1.8, 1.8, 0], abs=1e-5)
    assert {r["status"] for r in rows} == {"optimal"}
    sheet = openpyxl.load_workbook(out / "results.xlsx")["Realism"]
    assert [c.value for c in sheet[4]][:3] == ["Rule", "Level", "Objective with"]
    assert [sheet.cell(5 + i, 5).value for i in range(3)] == pytest.approx([1.8, 1.8, 0], abs=1e-5)

    told = _invoke("explain", out)
    assert told.exit_code == 0, told.output
    lines = told.output.splitlines()
    at = lines.index("What realism costs (each rule measured by solving again without it; the share is of what "
                     "the plan would buy without it; the costs overlap and do not add up):")
    assert lines[at + 1] == ("  - Keeping signed contracts until they end costs 1.8 outcomes at the aligned level "
                             "(18.0%) and 1.8 at the pooled level (18.0%).")
    assert lines[at + 2].startswith("  - Cost nothing here: capping how far a programme the pool buys may grow")


def test_realism_csv_is_documented():
    text = section(read("outputs.md"), "## `realism.csv`")
    assert not [c for c in REALISM_COLUMNS + ["status"] if c not in spans(text)]
    assert "realism.csv" in section(read("outputs.md"), "## Which command writes what")
