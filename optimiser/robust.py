"""The robust allocation: one plan chosen before need is known, best on average over its draws.

``robust_plan`` builds a level's model exactly as ``optimise`` does, then adds the second
stage of :mod:`optimiser.families.recourse` for every draw of need and solves the whole
sample-average approximation at once (the extensive form). ``Judge`` evaluates any plan
of that level — the robust one, the one made on point estimates — under any draws, in
closed form, so the plans are compared on fresh draws without another solve.

``wait_and_see`` solves one draw with its need known (the perfect-information optimum
that the expected value of perfect information is measured against): the level's model
built for the drawn case, started from the undisturbed optimum's basis with the dual
simplex, since a draw moves need — right-hand sides, and the equity floor's shares —
and nothing else.

Measured on the example's pooled level (``benchmarks/uncertainty.py`` times the same at
``ca`` size): with 50 draws the robust model has 269,779 columns and 285,559
rows; HiGHS's simplex solves it in 40 s, its interior point (chosen by size elsewhere, above
``IPM_ABOVE`` columns) took 5× longer at 10 draws (9.8 s against 2.0 s), and the tie-break
phases (soonest-expiring money first) added 78 s to the 40. So the robust model is solved with
the simplex, on its primary objective only: among equally good robust plans it does not prefer
the soonest-expiring money (the point-estimate plan beside it does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.errors import CaseError, InfeasibleError, Problem, SolverError

from optimiser.build import create_model
from optimiser.diagnose import Collision
from optimiser.families.recourse import (alloc_columns, cell_index, define_recourse, judge, people_bought,
                                         per_person)
from optimiser.levels import allocations_from, settle
from optimiser.lp import LinearProgram
from optimiser.solve import Solution, solve


def level_pool(case: Case, level: str, pool: frozenset[str]) -> frozenset[str]:
    """The pool a level's model is built with: none for aligned, the settlement's flexible pots for
    the settlement level, ``pool`` for pooled."""
    from optimiser.levels import settlement_pool

    if level == "aligned":
        return frozenset()
    if level == "settlement":
        settled = settlement_pool(case)
        if settled is None:
            raise CaseError(Problem("--level", None, "level", "settlement, but no pot of the case has settlement = yes",
                                    "aligned or pooled, or a case with an integrated settlement"))
        return settled
    return frozenset(pool)


def _need_keys(case: Case) -> pd.DataFrame:
    return pd.DataFrame([(n.area_code, n.cohort_code, n.year) for n in case.need],
                        columns=["area_code", "cohort_code", "year"])


@dataclass
class Judge:
    """Everything needed to judge a plan of one level under draws of need, in closed form."""

    people: np.ndarray  # participants per model unit of each allocation column
    weight: np.ndarray  # objective (model units) per person served through each column
    cell: np.ndarray  # each column's need cell (0..K-1)
    reached: np.ndarray  # each cell's position among the case's need rows
    scale: float  # natural objective = scale × model objective

    @classmethod
    def of(cls, lp: LinearProgram, case: Case) -> "Judge":
        """The judge of ``lp``'s allocation columns (a level's model, or its robust form)."""
        cols = alloc_columns(lp)
        cell, reached = cell_index(lp.variables, cols, _need_keys(case))
        return cls(people_bought(lp, cols), per_person(lp, cols), cell, reached, lp.objective_scale)

    def outcomes(self, amounts: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """The objective (natural units) the plan ``amounts`` (model units, per allocation column)
        achieves in each draw (draws × the case's need rows)."""
        need = np.atleast_2d(draws)[:, self.reached]
        return self.scale * judge(amounts * self.people, self.weight, self.cell, need)

    def served(self, amounts: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """The mean over ``draws`` of the people each allocation column serves."""
        need = np.atleast_2d(draws)[:, self.reached]
        return judge(amounts * self.people, self.weight, self.cell, need, per_column=True)


@dataclass
class RobustPlan:
    """The robust allocation of one level."""

    level: str
    allocations: pd.DataFrame  # the plan's rows (optimiser.levels.ALLOCATION_COLUMNS), to the penny
    amounts: np.ndarray  # model units per allocation column (the solver's, unrounded)
    objective: float  # the SAA's objective (natural units): (1 − λ) mean + λ CVaR
    in_sample: np.ndarray  # the objective in each draw it was chosen on (natural units)
    solution: Solution
    size: dict[str, int]
    judge: Judge


def _infeasible(lp: LinearProgram, case: Case, level: str, solver: str) -> InfeasibleError:
    from optimiser.diagnose import diagnose_infeasible

    found = [Collision("rule", r, "relax or remove this rule") for r in lp.infeasible_rules]
    return InfeasibleError(level, found or diagnose_infeasible(case, lp, solver))


def robust_plan(case: Case, level: str, pool: frozenset[str], draws: np.ndarray, solver: str = "highs",
                time_limit: float | None = None, tail_weight: float = 0.0, tail_share: float = 0.1) -> RobustPlan:
    """Solve the robust model of ``level`` over ``draws`` (draws × the case's need rows)."""
    point = np.array([float(n.people) for n in case.need])
    lp = create_model(case, pool=level_pool(case, level, pool))
    if lp.infeasible_rules:
        raise _infeasible(lp, case, level, solver)
    judge_ = Judge.of(lp, case)
    cols = alloc_columns(lp)
    define_recourse(lp, np.asarray(draws, dtype=float), point, _need_keys(case), tail_weight, tail_share)
    lp.prefer_simplex = True
    sol = solve(lp, solver=solver, time_limit=time_limit, lexicographic=False)
    if sol.status == "infeasible":
        raise _infeasible(lp, case, level, solver)
    if sol.status not in ("optimal", "time_limit"):
        raise SolverError(f"the robust {level} model could not be solved: {sol.status} {sol.message}".strip())
    amounts = np.clip(sol.x[cols], 0.0, None)
    alloc = allocations_from(lp.variables, settle(lp, sol.x), case)
    return RobustPlan(level, alloc, amounts, float(sol.objective), judge_.outcomes(amounts, draws), sol, lp.size,
                      judge_)


def wait_and_see(case: Case, level: str, pool: frozenset[str], solver: str, warm=None,
                 like: tuple[LinearProgram, Case] | None = None) -> float:
    """The level's optimum (natural units) for ``case`` with its need known: the perfect-information
    objective of one draw. ``warm`` is the undisturbed optimum's basis (HiGHS: dual simplex from it);
    ``like`` the undisturbed model and case, which the draw's model is built from (:mod:`optimiser.redraw`)."""
    from optimiser.redraw import redraw

    lp = redraw(like[0], like[1], case, level_pool(case, level, pool)) if like is not None else None
    lp = lp or create_model(case, pool=level_pool(case, level, pool))
    if lp.infeasible_rules:
        raise _infeasible(lp, case, level, solver)
    sol = solve(lp, solver=solver, lexicographic=False, warm=warm, warm_method="dual")
    if sol.status == "infeasible":
        raise _infeasible(lp, case, level, solver)
    if sol.status not in ("optimal", "time_limit"):
        raise SolverError(f"the {level} model could not be solved: {sol.status} {sol.message}".strip())
    return float(sol.objective)
