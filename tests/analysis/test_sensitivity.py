"""sensitivity: need drawn around its evidence, re-solved; robustness of each pot–area pairing."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from scenariocases import write_case, write_scenario

from commissioning.cli import main
from commissioning.analysis.sensitivity import SENSITIVITY_COLUMNS, drawn_case, need_factors, run_sensitivity
from commissioning.inputs.validate import load_case
from optimiser.levels import optimise_case


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    return write_case(tmp_path_factory.mktemp("sens"))


def run(case_dir, out, *args):
    result = CliRunner().invoke(main, ["sensitivity", str(case_dir), "--out", str(out), *map(str, args)])
    return result


def read(out):
    with open(out / "sensitivity.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return rows, json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))


def test_five_draws_spread_of_outcomes_and_share_used(case_dir, tmp_path):
    result = run(case_dir, tmp_path / "out", "--need-spread", 0.3, "--draws", 5)
    assert result.exit_code == 0, result.output
    rows, summary = read(tmp_path / "out")
    with open(tmp_path / "out" / "sensitivity.csv", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == SENSITIVITY_COLUMNS
    assert summary["settings"] == {"need_spread": 0.3, "draws": 5, "seed": 0, "solver": "highs"}  # auto: HiGHS whenever installed
    assert summary["draws_solved"] == 5
    for level in ("aligned", "pooled"):
        o = summary["levels"][level]["outcomes"]
        assert o["min"] <= o["p5"] <= o["p50"] <= o["p95"] <= o["max"]
        assert o["min"] <= o["mean"] <= o["max"] and o["sd"] >= 0
        assert o["max"] > o["min"]  # need moved, so did the optimum
    for r in rows:
        assert 0 <= float(r["share_used"]) <= 1
        assert int(r["draws_used"]) <= 5 and float(r["share_used"]) == int(r["draws_used"]) / 5
        assert float(r["p10_amount"]) <= float(r["mean_amount"]) <= float(r["p90_amount"]) + 1e-6
    assert {r["level"] for r in rows} == {"aligned", "pooled"}
    # Every pairing the undisturbed optimum funds is reported.
    base = optimise_case(load_case(case_dir))
    for level in ("aligned", "pooled"):
        pairs = set(zip(base.levels[level].allocations["pot_code"], base.levels[level].allocations["area_code"]))
        assert pairs <= {(r["pot_code"], r["area_code"]) for r in rows if r["level"] == level}
    assert "aligned" in result.output and "pooled" in result.output


def test_spread_zero_gives_the_base_optimum_in_every_draw(case_dir, tmp_path):
    result = run(case_dir, tmp_path / "out", "--need-spread", 0, "--draws", 3)
    assert result.exit_code == 0, result.output
    rows, summary = read(tmp_path / "out")
    base = optimise_case(load_case(case_dir))
    for level in ("aligned", "pooled"):
        o = summary["levels"][level]["outcomes"]
        want = round(base.levels[level].totals["outcomes"], 6)
        assert o["min"] == o["max"] == o["mean"] == o["p5"] == o["p95"] == want
        assert o["sd"] == 0
        assert summary["levels"][level]["base"]["outcomes"] == want
    for r in rows:
        assert float(r["share_used"]) == 1.0
        assert float(r["p10_amount"]) == float(r["p90_amount"]) == float(r["mean_amount"]) == float(r["base_amount"])


def test_draws_are_the_same_for_a_seed(case_dir, tmp_path):
    assert run(case_dir, tmp_path / "a", "--draws", 3, "--seed", 7).exit_code == 0
    assert run(case_dir, tmp_path / "b", "--draws", 3, "--seed", 7).exit_code == 0
    assert run(case_dir, tmp_path / "c", "--draws", 3, "--seed", 8).exit_code == 0
    a, b, c = (tmp_path / x / "sensitivity.json" for x in "abc")
    assert a.read_text() == b.read_text()
    assert (tmp_path / "a" / "sensitivity.csv").read_text() == (tmp_path / "b" / "sensitivity.csv").read_text()
    assert json.loads(a.read_text())["levels"] != json.loads(c.read_text())["levels"]


def test_need_is_drawn_within_the_spread_independently_per_cell(case_dir):
    f = need_factors(8, 0.1, 200, seed=0)
    assert f.shape == (200, 8)
    assert f.min() >= 0.9 and f.max() <= 1.1
    assert len(np.unique(f.round(12))) == f.size  # every cell and draw its own
    np.testing.assert_array_equal(f, need_factors(8, 0.1, 200, seed=0))
    case = load_case(case_dir)
    drawn = drawn_case(case, f[0])
    assert [n.people for n in drawn.need] == [n.people * x for n, x in zip(case.need, f[0])]
    assert drawn.budgets == case.budgets and drawn.pots == case.pots


def test_scenario_is_applied_before_drawing(case_dir, tmp_path):
    sc = write_scenario(tmp_path, "cut.yaml", "name: skills-cut\nbudgets:\n  SKILLS: {multiply: 0.8}\n")
    result = run(case_dir, tmp_path / "out", "--scenario", sc, "--need-spread", 0, "--draws", 1)
    assert result.exit_code == 0, result.output
    _, summary = read(tmp_path / "out")
    assert summary["scenario"] == "skills-cut"
    # SKILLS cut to £48,000 a year: 78 aligned outcomes (see test_compare).
    assert summary["levels"]["aligned"]["outcomes"]["mean"] == pytest.approx(78, abs=1e-6)


@pytest.mark.parametrize("args", [("--need-spread", "1.5"), ("--need-spread", "-0.1"), ("--draws", "0")])
def test_bad_settings_are_refused(case_dir, tmp_path, args):
    result = run(case_dir, tmp_path / "out", *args)
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_no_progress_bar_off_a_terminal(case_dir, tmp_path):
    result = run(case_dir, tmp_path / "out", "--draws", 2)
    assert result.exit_code == 0
    assert "Solving need draws" not in result.stderr


def test_infeasible_draws_are_counted_and_left_out(tmp_path):
    # A rule that needs £25,000 of SKILLS on A1 OLDER in 2025-26: 25 people, but need is 30,
    # so draws that cut that cell below 25 people (factor < 5/6) are infeasible.
    case_dir = write_case(tmp_path / "case", rules=[{"rule": "min_amount", "pot_code": "SKILLS", "area_code": "A1",
                                                     "cohort_code": "OLDER", "year": "2025-26", "value": 25000}])
    case = load_case(case_dir)
    result = run_sensitivity(case, need_spread=0.5, draws=12, seed=1)
    f = need_factors(len(case.need), 0.5, 12, seed=1)
    cell = [i for i, n in enumerate(case.need) if (n.area_code, n.cohort_code, n.year) == ("A1", "OLDER", "2025-26")][0]
    expected = [d for d in range(12) if 30 * f[d, cell] < 25]
    assert expected and result.infeasible == expected
    assert result.solved == 12 - len(expected)
    assert len(result.totals["aligned"]) == result.solved


@pytest.mark.parametrize("pooled", [False, True], ids=["aligned", "pooled"])
def test_a_draw_carries_the_eligible_cells_over_and_builds_the_model_a_fresh_case_builds(pooled):
    """A draw's case keeps its eligible cells (only their need is read again); its model is the one
    the same case builds from nothing, number for number."""
    from pathlib import Path

    from commissioning.analysis.sensitivity import case_with_need, need_draws
    from commissioning.case.model import Case
    from optimiser.build import create_model
    from optimiser.levels import default_pool

    case = load_case(Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire")
    pool = default_pool(case) if pooled else frozenset()
    create_model(case, pool=pool)  # the undisturbed model: its cells worked out
    drawn = case_with_need(case, need_draws(case, 0.2, 1, seed=1)[0])
    assert drawn.eligibility.cells_worked_out == case.eligibility.cells_worked_out  # carried, not worked out
    fresh = Case(**{name: getattr(drawn, name) for name in type(drawn).model_fields})
    assert not fresh.eligibility.cells_worked_out
    a, b = create_model(drawn, pool=pool), create_model(fresh, pool=pool)
    A, lo, up, reg = a.matrix()
    B, lo2, up2, reg2 = b.matrix()
    assert (A != B).nnz == 0 and np.array_equal(lo, lo2) and np.array_equal(up, up2) and reg.equals(reg2)
    assert a.variables.equals(b.variables)
    for vec in ("objective", "tiebreak", "disruption", "upper"):
        assert np.array_equal(getattr(a, vec), getattr(b, vec)), vec
    # The need caps moved with the draw (the carried cells read the drawn need, not the old).
    caps = reg["family"].to_numpy() == "need_cap"
    _, _, up0, _ = create_model(case, pool=pool).matrix()
    assert not np.allclose(up[caps], up0[caps])


def test_a_draw_that_empties_a_cell_works_its_cells_out_afresh(case_dir):
    from commissioning.analysis.sensitivity import case_with_need

    case = load_case(case_dir)
    case.eligibility.cells()
    people = np.array([float(n.people) for n in case.need])
    people[0] = 0.0  # a cell with need loses it all: other cells are eligible with need
    drawn = case_with_need(case, people)
    assert not drawn.eligibility.cells_worked_out
    assert len(drawn.eligibility.cells()) < len(case.eligibility.cells())


def test_draws_shared_with_a_second_process_give_the_same_files(case_dir, tmp_path, monkeypatch):
    """Above 10,000 eligible cells (here: forced) on two cores the draws are dealt between this
    process and a spawned second one, in small batches: the files are the same, byte for byte, as
    with --jobs 1, and the second process really made some of the draws."""
    from commissioning.analysis import workers as workers_module

    monkeypatch.setattr(workers_module, "PARALLEL_ABOVE", 0)
    monkeypatch.setattr(workers_module.os, "cpu_count", lambda: 2)
    sent = []
    real = workers_module.deal

    def counted(fn, shared, items, workers=None, *args, **kw):
        sent.append((len(items), getattr(workers, "extra", 0), kw.get("chunk")))
        return real(fn, shared, items, workers, *args, **kw)

    monkeypatch.setattr(workers_module, "deal", counted)
    one, two = tmp_path / "one", tmp_path / "two"
    assert run(case_dir, one, "--draws", 9, "--need-spread", 0.3, "--jobs", 1).exit_code == 0
    assert not sent  # one process: the draws run here, one after another
    result = run(case_dir, two, "--draws", 9, "--need-spread", 0.3)
    assert result.exit_code == 0, result.output
    assert sent == [(9, 1, 4)]  # nine draws, one extra process, batches of four
    for name in ("sensitivity.csv", "sensitivity.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
