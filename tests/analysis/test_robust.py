"""robust: one plan before need is known, the value of the stochastic solution and of perfect information.

The hand-worked case (``two_cells``): one pot P, £100,000 in 2025-26, £1,000 a head, one area.
Cohort A's outcome rate is 0.5 and its need is estimated at 100 (stated interval 50–150);
cohort B's rate is 0.4 and its need is 100, known (interval 100–100).

On the point estimate the plan is plain: A's 0.5 beats B's 0.4, A's 100 places take all the money.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from lpcases import Y1, cohort, pot, write_case

from commissioning.analysis.robust import RobustSettings, robust_frame, robust_summary, run_robust, tail_mean
from commissioning.analysis.sensitivity import need_draws
from commissioning.cli import main
from commissioning.inputs.validate import load_case, validate_path

SOLVERS = ["cbc", "highs"]


def two_cells(folder, rate_b=0.4, need_a=(100, 50, 150)):
    write_case(folder, areas=["A1"], cohorts=[cohort("A", 0.5), cohort("B", rate_b)],
               pots=[pot("P", end="2026-03-31")], budgets={("P", Y1): 100_000},
               need={("A1", "A", Y1): need_a[0], ("A1", "B", Y1): 100})
    with open(folder / "need.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["area_code", "cohort_code", "year", "people", "people_low", "people_high"])
        w.writerow(["A1", "A", Y1, *need_a])
        w.writerow(["A1", "B", Y1, 100, 100, 100])
    return folder


def plan_money(result) -> dict[str, float]:
    frame = robust_frame(result)
    return {r.cohort_code: r.amount for r in frame.itertuples()}


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_draws_by_hand_vss_and_evpi(tmp_path, solver):
    # Two draws of A's need, 50 and 150 (B's is 100 in both), used both to choose and to judge.
    # Point-estimate plan: £100,000 on A. Draw 1 serves 50 of its 100 places (25 outcomes), draw 2
    # all 100 (50 outcomes): 37.5 on average.
    # Robust plan: the first 50 places on A earn 0.5 in both draws; beyond 50 a place on A is filled
    # in one draw of two (0.5 × ½ = 0.25 a place), less than B's sure 0.4. So £50,000 on A and
    # £50,000 on B: 25 + 20 = 45 in both draws.
    # VSS = 45 − 37.5 = 7.5.
    # With need known: draw 1 puts 50 on A and 50 on B (25 + 20 = 45); draw 2 all 100 on A (50).
    # Mean 47.5; EVPI = 47.5 − 45 = 2.5.
    case = load_case(two_cells(tmp_path / "case"))
    draws = np.array([[50.0, 100.0], [150.0, 100.0]])
    r = run_robust(case, RobustSettings(level="aligned", solver=solver), draws=draws, test=draws)
    s = robust_summary(r)
    assert plan_money(r) == pytest.approx({"A": 50_000, "B": 50_000})
    assert s["expected_objective"]["robust_in_sample"] == pytest.approx(45)
    assert s["expected_objective"]["point_in_sample"] == pytest.approx(37.5)
    assert s["expected_objective"]["robust_out_of_sample"] == pytest.approx(45)
    assert s["expected_objective"]["point_out_of_sample"] == pytest.approx(37.5)
    assert s["vss"] == pytest.approx(7.5)
    assert s["evpi"] == pytest.approx(2.5)
    assert s["point_estimate"]["out_of_sample"]["min"] == pytest.approx(25)
    frame = robust_frame(r)
    a = frame[frame["cohort_code"] == "A"].iloc[0]
    # A's £50,000 buys 50 places, filled in both draws; the point plan put £100,000 there.
    assert (a.point_amount, a.participants, a.expected_served, a.expected_outcomes) == \
        pytest.approx((100_000, 50, 50, 25))


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_worst_tail_changes_the_plan(tmp_path, solver):
    # B's rate is 0.2; A's need is 20 or 150. On average a place on A beyond 20 earns 0.25 > 0.2,
    # so the mean puts everything on A: draw 1 gives 10 outcomes, draw 2 50 (mean 30).
    # Weight 1 on the worst half (one draw of two) maximises draw 1: Z1 = 0.5·min(x,20) + 0.2·(100 − x)
    # is best at x = 20 places on A: 10 + 16 = 26, and draw 2 gives 10 + 16 = 26 too.
    # (Between, (1 − λ)(25 + 0.05x) + λ(30 − 0.2x) turns at λ = 0.2.)
    case = load_case(two_cells(tmp_path / "case", rate_b=0.2, need_a=(100, 20, 150)))
    draws = np.array([[20.0, 100.0], [150.0, 100.0]])
    mean = run_robust(case, RobustSettings(level="aligned", solver=solver), draws=draws, test=draws)
    assert plan_money(mean) == pytest.approx({"A": 100_000})
    assert robust_summary(mean)["expected_objective"]["robust_in_sample"] == pytest.approx(30)
    tail = run_robust(case, RobustSettings(level="aligned", solver=solver, tail_weight=1.0, tail_share=0.5),
                      draws=draws, test=draws)
    assert plan_money(tail) == pytest.approx({"A": 20_000, "B": 80_000})
    s = robust_summary(tail)
    assert s["robust"]["in_sample"]["cvar"] == pytest.approx(26)
    assert s["robust"]["in_sample"]["mean"] == pytest.approx(26)
    leaning = run_robust(case, RobustSettings(level="aligned", solver=solver, tail_weight=0.1, tail_share=0.5),
                         draws=draws, test=draws)
    assert plan_money(leaning) == pytest.approx({"A": 100_000})


def test_many_draws_from_the_interval_approach_the_analytic_answer(tmp_path):
    # A's need uniform on [50, 150]. The robust x (places on A) has 0.5 · P(N > x) = 0.4, so
    # P(N > x) = 0.8 and x = 70. E[min(70, N)] = 70 − ∫_50^70 (70 − n)/100 dn = 70 − 2 = 68,
    # so 0.5 · 68 + 0.4 · 30 = 46. Point plan x = 100: E[min(100, N)] = 100 − 12.5 = 87.5 → 43.75.
    # VSS = 2.25. With need known: N < 100 puts N on A (40 + 0.1 N, mean 47.5 over [50, 100)),
    # N ≥ 100 puts 100 on A (50): E = ½ · 47.5 + ½ · 50 = 48.75; EVPI = 48.75 − 46 = 2.75.
    case = load_case(two_cells(tmp_path / "case"))
    r = run_robust(case, RobustSettings(level="aligned", solver="highs", draws=2000, test_draws=1000, seed=3))
    s = robust_summary(r)
    x = plan_money(r)["A"] / 1000
    assert x == pytest.approx(70, abs=3)
    # The engine's judgement of both plans on the fresh draws, worked out here independently.
    fresh = need_draws(case, 0.1, 1000, seed=3, stream=1)[:, 0]
    robust_by_hand = 0.5 * np.minimum(x, fresh) + 0.4 * (100 - x)
    point_by_hand = 0.5 * np.minimum(100, fresh)
    e = s["expected_objective"]
    assert e["robust_out_of_sample"] == pytest.approx(robust_by_hand.mean())
    assert e["point_out_of_sample"] == pytest.approx(point_by_hand.mean())
    # Within four standard errors of the analytic figures (a sample of 1,000 draws).
    def close(value, exact, sample):
        return abs(value - exact) <= 4 * np.std(sample, ddof=1) / np.sqrt(len(sample)) + 0.2

    assert close(e["robust_out_of_sample"], 46, robust_by_hand)
    assert close(e["point_out_of_sample"], 43.75, point_by_hand)
    assert close(s["vss"], 2.25, robust_by_hand - point_by_hand)
    assert s["evpi"] == pytest.approx(2.75, abs=0.5)
    assert s["vss"] > 0 and s["evpi"] > 0


def test_draws_come_from_the_stated_interval_and_are_seeded(tmp_path):
    case = load_case(two_cells(tmp_path / "case"))
    d = need_draws(case, 0.1, 500, seed=4)
    assert d.shape == (500, 2)
    assert d[:, 0].min() >= 50 and d[:, 0].max() <= 150 and d[:, 0].max() - d[:, 0].min() > 90
    assert (d[:, 1] == 100).all()  # B's interval is one point: its --need-spread is not used
    np.testing.assert_array_equal(d, need_draws(case, 0.1, 500, seed=4))
    fresh = need_draws(case, 0.1, 500, seed=4, stream=1)
    assert not np.allclose(fresh, d)


def test_tail_mean():
    assert tail_mean(np.array([50.0, 10.0]), 0.5) == pytest.approx(10)
    # worst 25% of four draws is the lowest one; of 30% it is the lowest plus a fifth of the next
    assert tail_mean(np.array([4.0, 1.0, 3.0, 2.0]), 0.25) == pytest.approx(1)
    assert tail_mean(np.array([4.0, 1.0, 3.0, 2.0]), 0.3) == pytest.approx((1 + 0.2 * 2) / 1.2)


def test_cli_writes_the_plan_and_the_measures(tmp_path):
    case_dir = two_cells(tmp_path / "case")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["robust", str(case_dir), "--out", str(out), "--level", "aligned",
                                       "--draws", "40", "--test-draws", "30", "--seed", "2"])
    assert result.exit_code == 0, result.output
    s = json.loads((out / "robust.json").read_text(encoding="utf-8"))
    assert s["settings"]["draws"] == 40 and s["settings"]["test_draws"] == 30
    for key in ("vss", "evpi", "expected_objective"):
        assert key in s
    assert set(s["expected_objective"]) == {"robust_in_sample", "robust_out_of_sample", "point_in_sample",
                                            "point_out_of_sample"}
    with open(out / "robust.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sum(float(r["amount"]) for r in rows) == pytest.approx(100_000, abs=0.01)
    assert "value of the stochastic solution" in result.output
    again = tmp_path / "again"
    CliRunner().invoke(main, ["robust", str(case_dir), "--out", str(again), "--level", "aligned",
                              "--draws", "40", "--test-draws", "30", "--seed", "2"])
    assert (again / "robust.csv").read_text() == (out / "robust.csv").read_text()


def test_a_settlement_level_without_a_settlement_is_refused(tmp_path):
    case_dir = two_cells(tmp_path / "case")
    result = CliRunner().invoke(main, ["robust", str(case_dir), "--out", str(tmp_path / "o"), "--level", "settlement"])
    assert result.exit_code == 2
    assert "settlement = yes" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("low,high,column", [(120, 150, "people_low"), (50, 80, "people_high"), ("", 150, "people_low")])
def test_a_bad_interval_names_its_row_and_column(tmp_path, low, high, column):
    folder = two_cells(tmp_path / "case", need_a=(100, low, high))
    v = validate_path(folder)
    assert not v.ok
    assert any(p.where == "need.csv" and p.row == 2 and p.column == column for p in v.errors), v.errors
