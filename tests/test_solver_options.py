"""The interior-point path used for large models gives the simplex answer.

Above ``IPM_ABOVE`` variables HiGHS runs interior point with crossover (measured faster at
national size). No test case is that large, so the threshold is lowered here to exercise
the path on the example: same objective, same duals, same allocation totals.
"""

from pathlib import Path

import numpy as np
import pytest

from commissioning.validate import load_case
from optimiser import solve as solve_module
from optimiser.build import create_model
from optimiser.levels import default_pool

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "west-yorkshire"


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
