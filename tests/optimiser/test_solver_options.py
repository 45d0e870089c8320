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
