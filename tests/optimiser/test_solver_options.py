"""The interior-point path used for large models gives the simplex answer.

Above ``IPM_ABOVE`` variables HiGHS runs interior point with crossover (measured faster at
national size). No test case is that large, so the threshold is lowered here to exercise
the path on the example: same objective, same duals, same allocation totals.
"""

from pathlib import Path

import numpy as np
import pytest

from commissioning.inputs.validate import load_case
from optimiser import solve as solve_module
from optimiser.build import create_model
from optimiser.levels import default_pool

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


@pytest.mark.parametrize("pooled", [False, True], ids=["aligned", "pooled"])
def test_interior_point_with_crossover_matches_simplex(monkeypatch, pooled):
    case = load_case(EXAMPLE)
    lp = create_model(case, pool=default_pool(case) if pooled else frozenset())
    simplex = solve_module.solve(lp, "highs")
    monkeypatch.setattr(solve_module, "IPM_ABOVE", 0)
    ipm = solve_module.solve(lp, "highs")
    assert ipm.status == "optimal" and ipm.proven_optimal
    assert ipm.objective == pytest.approx(simplex.objective, rel=1e-9)
    # Crossover gives a basic solution, so shadow prices are exact, not interior estimates.
    assert np.allclose(ipm.row_dual, simplex.row_dual, atol=1e-7)
    assert ipm.warm is not None  # a basis, so asks can start from it


# ---- warm starts -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def example_lps():
    case = load_case(EXAMPLE)
    aligned = create_model(case)
    pooled = create_model(case, pool=default_pool(case))
    return aligned, pooled, solve_module.solve(aligned, "highs"), solve_module.solve(pooled, "highs")


@pytest.mark.parametrize("method", ["primal", "dual"])
def test_warm_start_from_the_aligned_basis_reaches_the_cold_optimum(example_lps, method):
    aligned, pooled, a, cold = example_lps
    warm = solve_module.solve(pooled, "highs", warm=a.warm, warm_method=method)
    assert warm.warm_started and warm.timings["warm_share"] > 0.9
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert cold.objective > a.objective  # the pool gains on the example: a real re-solve


def test_primal_continues_from_a_basis_that_stays_feasible(example_lps):
    """Adding columns keeps the old basis primal feasible: the primal simplex needs far fewer
    iterations than a cold solve (the dual simplex throws most of the basis away)."""
    aligned, pooled, a, cold = example_lps
    primal = solve_module.solve(pooled, "highs", warm=a.warm, warm_method="primal")
    assert primal.timings["iterations"] < cold.timings["iterations"]


def test_a_basis_that_names_too_little_is_not_used(example_lps):
    aligned, pooled, a, cold = example_lps
    # A basis under keys of another form (as one pickled by older code would have) names nothing.
    stale = solve_module.WarmStart(a.warm.columns.assign(kind="gone"), a.warm.rows.assign(family="gone"),
                                   col_status=a.warm.col_status, row_status=a.warm.row_status)
    sol = solve_module.solve(pooled, "highs", warm=stale)
    assert not sol.warm_started and sol.timings["warm_share"] == 0.0
    assert sol.objective == pytest.approx(cold.objective, rel=1e-9)


def test_an_unknown_warm_method_is_refused(example_lps):
    with pytest.raises(ValueError, match="warm_method"):
        solve_module.solve(example_lps[0], "highs", warm_method="barrier")


def test_the_pooled_level_starts_from_the_aligned_basis():
    from optimiser.levels import optimise_case

    run = optimise_case(load_case(EXAMPLE), solver="highs")
    assert not run.levels["aligned"].solution.warm_started
    assert run.levels["pooled"].solution.warm_started
    cold = solve_module.solve(run.levels["pooled"].lp, "highs")
    assert run.levels["pooled"].solution.objective == pytest.approx(cold.objective, rel=1e-9)


def test_a_captured_basis_survives_pickling(example_lps):
    import pickle

    aligned, pooled, a, cold = example_lps
    back = pickle.loads(pickle.dumps(a.warm))
    assert np.array_equal(back.col_status, a.warm.col_status) and np.array_equal(back.row_status, a.warm.row_status)
    sol = solve_module.solve(pooled, "highs", warm=back)
    assert sol.warm_started and sol.objective == pytest.approx(cold.objective, rel=1e-9)


# ---- need draws: the same model, other right-hand sides -----------------------------------------
@pytest.fixture(scope="module")
def drawn_levels():
    """The example's aligned level, a need draw of it solved cold, and the same draw started from
    the undisturbed optimum's bases (as ``sensitivity`` does)."""
    from commissioning.analysis.sensitivity import case_with_need, need_draws
    from optimiser.levels import solve_level

    case = load_case(EXAMPLE)
    base = solve_level(case, "aligned", frozenset(), "highs", None)
    drawn = case_with_need(case, need_draws(case, 0.1, 1, seed=3)[0])
    cold = solve_level(drawn, "aligned", frozenset(), "highs", None)
    warm = solve_level(drawn, "aligned", frozenset(), "highs", None, warm=base.solution.warm, warm_method="dual")
    return base, cold, warm


def test_a_solve_keeps_the_basis_of_every_later_phase(drawn_levels):
    import pickle

    base = drawn_levels[0]
    later = solve_module._later_objectives(base.lp)
    assert len(later) == 2  # least disruption (the example states today's provision), then the tie-break
    assert len(base.solution.warm.phases) == 2
    cols, rows = base.solution.warm.phases[1].statuses()
    # The tie-break phase's basis has the model's rows and one held-objective row per earlier phase.
    assert len(cols) == base.lp.n and len(rows) == len(base.constraints) + 2
    back = pickle.loads(pickle.dumps(base.solution.warm))
    assert all(np.array_equal(a.statuses()[1], b.statuses()[1])
               for a, b in zip(back.phases, base.solution.warm.phases))


def test_a_need_draw_started_from_the_undisturbed_bases_gives_the_cold_plan(drawn_levels):
    base, cold, warm = drawn_levels
    assert base.solution.warm.same_model(cold.lp, cold.constraints)
    assert warm.solution.warm_started and warm.solution.timings["warm_share"] == 1.0
    assert warm.totals == pytest.approx(cold.totals, rel=1e-9)
    # The fixed preference makes the plan unique: the same lines, to the penny.
    assert warm.allocations[["pot_code", "area_code", "cohort_code", "year"]].equals(
        cold.allocations[["pot_code", "area_code", "cohort_code", "year"]])
    assert np.abs(warm.allocations["amount"].to_numpy() - cold.allocations["amount"].to_numpy()).max() <= 0.01
    # Every phase started next to its answer: far fewer pivots than from scratch.
    for phase in ("iterations", "disruption_iterations", "tiebreak_iterations"):
        assert warm.solution.timings[phase] < cold.solution.timings[phase] / 2, phase


def test_another_model_is_not_matched_by_position(example_lps):
    aligned, pooled, a, _ = example_lps
    _, _, _, registry = pooled.matrix()
    assert not a.warm.same_model(pooled, registry)


def test_a_warm_phase_that_runs_long_is_solved_afresh_with_the_same_plan(monkeypatch, drawn_levels):
    """Above IPM_ABOVE columns a later phase started from its old basis stops at WARM_PHASE_PIVOTS
    pivots and is solved by interior point instead (the pooled re-solve with one more floor made
    28,378 pivots from its old basis at national size). Both thresholds lowered so that the
    example's draw takes that path: least disruption and the tie-break each give up after one
    pivot and takes the cold path instead (least disruption by interior point, the tie-break by the
    primal simplex from least disruption's basis), so the plan is the one a cold solve at the same
    thresholds reaches."""
    from commissioning.analysis.sensitivity import case_with_need, need_draws
    from optimiser.levels import solve_level

    base = drawn_levels[0]
    case = load_case(EXAMPLE)
    drawn = case_with_need(case, need_draws(case, 0.1, 1, seed=3)[0])
    monkeypatch.setattr(solve_module, "IPM_ABOVE", 0)
    cold = solve_level(drawn, "aligned", frozenset(), "highs", None)
    monkeypatch.setattr(solve_module, "WARM_PHASE_PIVOTS", 1)
    again = solve_level(drawn, "aligned", frozenset(), "highs", None, warm=base.solution.warm, warm_method="dual")
    t = again.solution.timings
    assert t["disruption_warm_abandoned"] == 1 and t["tiebreak_warm_abandoned"] == 1
    assert again.totals == pytest.approx(cold.totals, rel=1e-9)
    keys = ["pot_code", "area_code", "cohort_code", "year"]
    assert again.allocations[keys].equals(cold.allocations[keys])
    assert np.abs(again.allocations["amount"].to_numpy() - cold.allocations["amount"].to_numpy()).max() <= 0.01
    # With room to finish, the warm phases are kept, and the optimum is the same.
    monkeypatch.setattr(solve_module, "WARM_PHASE_PIVOTS", 1_000_000)
    kept = solve_level(drawn, "aligned", frozenset(), "highs", None, warm=base.solution.warm, warm_method="dual")
    assert not any(k.endswith("_warm_abandoned") for k in kept.solution.timings)
    assert kept.solution.objective == pytest.approx(cold.solution.objective, rel=1e-9)


# ---- one HiGHS instance kept for a level's draws ---------------------------------------------
@pytest.mark.parametrize("large", [False, True], ids=["small", "as-if-above-IPM_ABOVE"])
def test_draws_on_a_kept_instance_are_the_draws_on_new_instances(monkeypatch, large):
    """A sensitivity run keeps one HiGHS instance per level (KeptHighs): the matrix handed over once,
    each draw's bounds set on it. Each draw there must be exactly the draw solved on a new instance:
    the same pivots in every phase and the same plan bit for bit — whichever draw came before (so the
    figures do not depend on which process solved which draws). As if above IPM_ABOVE columns, each
    solve also fixes the columns off the optimal face, which the next draw must free again."""
    from commissioning.analysis.sensitivity import case_with_need, need_draws
    from optimiser.levels import solve_built, solve_level
    from optimiser.redraw import redraw

    if large:
        monkeypatch.setattr(solve_module, "IPM_ABOVE", 0)
    case = load_case(EXAMPLE)
    base = solve_level(case, "aligned", frozenset(), "highs", None)
    draws = need_draws(case, 0.2, 3, seed=11)
    kept = solve_module.KeptHighs()
    rows = len(base.constraints)
    for order in ([0, 1, 2], [2, 0, 1]):
        for d in order:
            drawn = case_with_need(case, draws[d])
            lp = redraw(base.lp, case, drawn)
            new = solve_built(drawn, "aligned", lp, frozenset(), "highs", None, warm=base.solution.warm,
                              warm_method="dual")
            again = solve_built(drawn, "aligned", lp, frozenset(), "highs", None, warm=base.solution.warm,
                                warm_method="dual", kept=kept)
            assert np.array_equal(new.solution.x, again.solution.x)
            for phase in ("iterations", "disruption_iterations", "tiebreak_iterations"):
                assert new.solution.timings[phase] == again.solution.timings[phase], phase
            # The held-objective rows of the solve before were deleted: the model's rows and the
            # two this solve added.
            assert kept.h.getNumRow() == rows + 2
            assert (len(kept.fixed) > 0) == large and new.solution.timings.get("fixed_off_face", 0) == len(kept.fixed)
    # The instance was made once, by the first draw; a model with another matrix is not taken.
    assert kept.lp is not None and kept.take(create_model(case, pool=default_pool(case))) is None


def test_a_model_with_other_coefficients_is_not_taken():
    case = load_case(EXAMPLE)
    lp = create_model(case)
    kept = solve_module.KeptHighs()
    solve_module.solve(lp, "highs", kept=kept)
    assert kept.take(lp) is not None
    from dataclasses import replace

    block = lp.blocks[0]
    other = replace(lp, blocks=[replace(block, coefs=block.coefs * 2.0), *lp.blocks[1:]])
    assert not kept.same_matrix(other) and kept.take(other) is None
