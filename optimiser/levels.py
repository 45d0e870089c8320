"""The levels of one case, and the comparison between them.

* ``baseline`` — today (see :mod:`optimiser.baseline`);
* ``aligned`` — the optimum under today's rules;
* ``settlement`` — present when a pot is paid inside an integrated settlement
  (:mod:`commissioning.case.settlement`): the optimum under the settlement's rules, its
  flexible pots pooling within their theme and moving at most ``theme_flex`` of a theme's
  money to another theme, revenue and capital kept apart, ring-fenced pots as today;
* ``pooled`` — the optimum once the pool (by default every ``poolable`` pot) is opened to
  the pool's combined eligibility (see :mod:`optimiser.variables`). In a settlement case
  the pool also holds the settlement's flexible pots, which pool by the settlement's rules
  only: each level's columns hold the one below's, so pooled ≥ settlement ≥ aligned.

Results are plain objects (:class:`LevelResult`, :class:`RunResult`) that keep the LP, the
solution and the constraint registry, so that explanation (flags, shadow prices, asks)
and writers work from them without solving again.

Money in results is in pounds, floored to the penny: rounding never overspends a pot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from commissioning.case.tables import bought
from commissioning.errors import Collision, InfeasibleError
from commissioning.case.model import Case
from commissioning.case.settlement import flexible_pots, settles

from optimiser.baseline import baseline_allocation, penny_floor
from optimiser.families.registry import demanding as demanding_families, pinning as pinning_families, settle_order
from optimiser.build import create_model
from optimiser.lp import MONEY_SCALE, LinearProgram
from optimiser.solve import Solution, finished, solve

LEVELS = ("baseline", "aligned", "pooled")  # every run's; a settlement case adds SETTLEMENT
ORDER = ("baseline", "aligned", "settlement", "pooled")
ALLOCATION_COLUMNS = ["pot_code", "area_code", "cohort_code", "year", "amount", "participants", "outcomes",
                      "value", "programme", "unit_cost", "outcome_rate"]
METRICS = ("allocated", "participants", "outcomes", "value", "unmet_people", "idle_amount")
Progress = Callable[[str], None]


@dataclass
class LevelResult:
    """One level solved (or, for the baseline, computed): its allocations, totals, model and constraint rows."""

    level: str
    status: str  # optimal | time_limit | computed (baseline)
    allocations: pd.DataFrame  # ALLOCATION_COLUMNS
    totals: dict[str, float]
    lp: LinearProgram | None = None
    solution: Solution | None = None
    constraints: pd.DataFrame | None = None  # registry + activity, lower, upper, dual, binding
    pool: frozenset[str] = frozenset()


@dataclass
class RunResult:
    """The three levels of one run, with the solver and objective used."""

    scenario: str
    case: Case
    levels: dict[str, LevelResult]
    solver: str
    objective: str
    pool: frozenset[str]
    timings: dict[str, float] = field(default_factory=dict)
    solver_reason: str = ""  # e.g. "highs (auto: 21,415 variables, …)"
    time_limit: float | None = None  # seconds per solve, as asked

    @property
    def objective_why(self) -> str | None:
        """Why the objective is the case's default one, when the case did not state it (a valued case)."""
        s = self.case.settings
        return s.objective_why if self.objective == s.objective else None

    @property
    def status(self) -> str:
        """``optimal`` unless a level stopped at its time limit."""
        statuses = {lv.status for lv in self.levels.values() if lv.level != "baseline"}
        if "time_limit" in statuses:
            return "time_limit"
        return "optimal" if statuses <= {"optimal"} else sorted(statuses)[0]

    @property
    def level_names(self) -> tuple[str, ...]:
        """The run's levels in order: baseline, aligned, settlement (in a settlement case), pooled."""
        return tuple(n for n in ORDER if n in self.levels)

    @property
    def solved_levels(self) -> tuple[str, ...]:
        """The levels solved as linear programmes (all but the baseline)."""
        return tuple(n for n in self.level_names if n != "baseline")

    def dividends(self) -> dict[str, dict[str, float]]:
        """Alignment (aligned − baseline) and devolution (pooled − aligned) in participants, outcomes and
        value; in a settlement case also ``settlement`` (settlement − aligned)."""
        L = {k: v.totals for k, v in self.levels.items()}
        keys = ("participants", "outcomes", "value")
        out = {
            "alignment": {k: L["aligned"][k] - L["baseline"][k] for k in keys},
            "devolution": {k: L["pooled"][k] - L["aligned"][k] for k in keys},
        }
        if "settlement" in L:
            out["settlement"] = {k: L["settlement"][k] - L["aligned"][k] for k in keys}
        return out

    def allocations_frame(self) -> pd.DataFrame:
        """allocations.csv: one row per level, pot, area, cohort, year (and programme)."""
        frames = []
        for name in self.level_names:
            a = self.levels[name].allocations
            frames.append(a.assign(scenario=self.scenario, level=name))
        out = pd.concat(frames, ignore_index=True)
        cols = ["scenario", "level"] + ALLOCATION_COLUMNS
        return out[cols]




MIN_LINE = 1.0  # £: an allocation line below this is noise, not provision (see settle)


# Rounds of the penny settlement: one is enough unless taking pence from one row's terms puts
# another row over (a share rule's out-of-scope lines, a match row's matching pot): then again.
SETTLE_ROUNDS = 10


def settle(lp: LinearProgram, x_model: np.ndarray) -> np.ndarray:
    """The solver's answer in whole pence, inside every ceiling of the model.

    Solvers meet constraints to a tolerance relative to the row (CBC's answers overspend a
    £65m budget by a few pence). Finance needs exact reconciliation, so: round each amount
    to the penny; then, family by family in the registry's settle order (:func:`~optimiser.families.registry.settle_order`), take the excess of any ≤
    row still over its bound — rounded up to the penny — from as few of its terms as
    possible: the largest first, those that a minimum rule or floor also counts only when
    nothing else is left, and money a lock or a contract holds in its cell last of all. Each step only lowers spending, so rows settled earlier
    stay settled, and locks and minimums keep their exact amounts wherever they can.
    Last, an allocation line below :data:`MIN_LINE` (£1) that no minimum, lock or equity
    floor counts is settled to nothing: a commissioner cannot let a contract for pennies.
    Lowering one line can put another row over, though: a ``max_share`` row counts the pot's
    lines outside its scope negatively, and a match row its matching pot's; so the whole
    settlement is repeated until a round changes nothing (at most :data:`SETTLE_ROUNDS`).
    (The carry-forward flows are left as solved, so idle money may be understated by
    less than £1 a line.)
    """
    x = np.round(np.asarray(x_model, dtype=float) * MONEY_SCALE, 2)
    A, lo, up, registry = lp.matrix()
    A = A.tocsr()
    fam = registry["family"].to_numpy()
    demanding = np.flatnonzero(np.isin(fam, demanding_families()) & np.isfinite(lo))
    protected = np.zeros(lp.n, dtype=bool)
    if len(demanding):
        protected[A[demanding].indices] = True
    # Money a lock or a contract holds in its cell is taken last of all (a floor in people
    # counts every column of its cohort, so "protected" alone would not spare it).
    pinned = np.zeros(lp.n, dtype=bool)
    held = np.flatnonzero(np.isin(fam, pinning_families()) & np.isfinite(lo))
    if len(held):
        pinned[A[held].indices] = True
    alloc = (lp.variables["kind"] == "alloc").to_numpy()
    for _ in range(SETTLE_ROUNDS):
        before = x.copy()
        for name in settle_order():
            rows = np.flatnonzero((fam == name) & np.isfinite(up))
            if not len(rows):
                continue
            act = A[rows] @ x / MONEY_SCALE
            over = rows[act > up[rows] + 1e-12 * np.maximum(1.0, np.abs(up[rows]))]
            for r in over:
                cols = A.indices[A.indptr[r]:A.indptr[r + 1]]
                coef = A.data[A.indptr[r]:A.indptr[r + 1]]
                excess = float(coef @ x[cols]) / MONEY_SCALE - up[r]
                order = sorted((j for j in range(len(cols)) if coef[j] > 0 and x[cols[j]] > 0),
                               key=lambda j: (pinned[cols[j]], protected[cols[j]], -coef[j] * x[cols[j]], cols[j]))
                for j in order:
                    if excess <= 1e-12 * max(1.0, abs(up[r])):
                        break
                    c = cols[j]
                    pounds = np.ceil(excess * MONEY_SCALE / coef[j] * 100 - 1e-6) / 100
                    take = min(x[c], max(pounds, 0.01))
                    x[c] = round(x[c] - take, 2)
                    excess -= coef[j] * take / MONEY_SCALE
        # Lines too small to commission are solver noise: settled to nothing, unless a minimum,
        # a lock or the equity floor counts them (taking them could break that floor).
        x[alloc & ~protected & (x > 0) & (x < MIN_LINE)] = 0.0
        if np.array_equal(before, x):
            break
    return x


def allocations_from(variables: pd.DataFrame, amount: np.ndarray, case: Case | None = None) -> pd.DataFrame:
    """Allocation rows (money > 0) with participants, outcomes and value worked out (value as
    :func:`valued` has it when the case is given)."""
    alloc = variables.assign(amount=amount)
    alloc = alloc[(alloc["kind"] == "alloc") & (alloc["amount"] > 0)].copy()
    alloc["participants"], alloc["outcomes"], alloc["value"] = bought(
        alloc["amount"], alloc["unit_cost"], alloc["outcome_rate"], alloc["value_per_outcome"])
    alloc = valued(case, alloc) if case is not None else alloc
    return alloc[ALLOCATION_COLUMNS].reset_index(drop=True)


def valued(case: Case, alloc: pd.DataFrame) -> pd.DataFrame:
    """In a valued case (commissioning.case.value), ``value`` is the present value of the row's net
    additional benefits (unweighted); otherwise as :func:`bought` gave it."""
    if case.valuation.valued and len(alloc):
        alloc = alloc.assign(value=alloc["participants"].to_numpy() * case.valuation.per_head_column(alloc))
    return alloc


def level_totals(case: Case, alloc: pd.DataFrame) -> dict[str, float]:
    """The headline figures of one allocation (``allocated + idle_amount = budget``)."""
    need = case.need_frame
    served = alloc.groupby(["area_code", "cohort_code", "year"], sort=False)["participants"].sum()
    served = served.rename("served").reset_index()
    m = need.merge(served, on=["area_code", "cohort_code", "year"], how="left")
    unmet = np.clip(m["people"] - m["served"].fillna(0.0), 0, None).sum()
    allocated = float(alloc["amount"].sum())
    measures = {}
    if case.valuation.valued:  # the fiscal, economic and social objectives' measures (unweighted)
        for component in ("fiscal", "economic", "social"):
            per_head = case.valuation.per_head_column(alloc, component) if len(alloc) else np.zeros(0)
            measures[component] = float((alloc["participants"].to_numpy() * per_head).sum())
    return measures | {
        "allocated": allocated,
        "participants": float(alloc["participants"].sum()),
        "outcomes": float(alloc["outcomes"].sum()),
        "value": float(alloc["value"].sum()),
        "unmet_people": float(unmet),
        "idle_amount": float(case.total_budget - allocated),
    }


def constraint_table(lp: LinearProgram, sol: Solution) -> pd.DataFrame:
    """The registry of every row with its activity, bounds, dual and whether it binds."""
    A, lo, up, registry = lp.matrix()
    t = registry.copy()
    t["lower"], t["upper"] = lo, up
    t["activity"] = sol.row_activity[: len(t)] if len(sol.row_activity) >= len(t) else A @ sol.x
    t["dual"] = sol.row_dual[: len(t)] * lp.objective_scale if len(sol.row_dual) >= len(t) else 0.0
    tol = 1e-6 * np.maximum(1.0, np.abs(np.where(np.isfinite(up), up, np.where(np.isfinite(lo), lo, 0.0))))
    at_upper = np.isfinite(up) & (np.abs(t["activity"] - up) <= tol)
    at_lower = np.isfinite(lo) & (np.abs(t["activity"] - lo) <= tol)
    # A row with a shadow price binds at the optimum (complementary slackness), whatever the
    # later phases' tolerance leaves of its activity: CBC left the example's maths share £0.09
    # under its bound of 0 after the tie-break, HiGHS on it, and their gap reasons differed.
    priced = np.abs(t["dual"]) > 1e-9
    t["binding"] = (at_upper | at_lower | priced) & priced
    t["tight"] = at_upper | at_lower | priced
    return t


def solve_level(case: Case, level: str, pool: frozenset[str], solver: str, time_limit: float | None,
                progress: Progress | None = None, warm=None, warm_method: str = "primal") -> LevelResult:
    """Build and solve one level. ``warm`` is an optimal basis of a model this one only
    adds columns to (the aligned level's, for the pooled one), or (``warm_method="dual"``) of
    the same model with other right-hand sides (a need draw's): HiGHS starts from it."""
    say = progress or (lambda _: None)
    say(f"building the {level} model")
    lp = create_model(case, pool=pool if level != "aligned" else frozenset(), progress=progress)
    return solve_built(case, level, lp, pool, solver, time_limit, progress, warm, warm_method)


def solve_built(case: Case, level: str, lp: LinearProgram, pool: frozenset[str], solver: str,
                time_limit: float | None, progress: Progress | None = None, warm=None,
                warm_method: str = "primal", kept=None, constraints: bool = True) -> LevelResult:
    """Solve one level's model ``lp`` of ``case`` as :func:`solve_level` does (built elsewhere: a need
    draw's, :func:`optimiser.redraw.redraw`); ``kept`` is the HiGHS instance kept for the level's
    draws (:class:`optimiser.solve.KeptHighs`). ``constraints=False`` leaves the constraint table out
    (a need draw reports totals and money only)."""
    say = progress or (lambda _: None)
    if lp.infeasible_rules:
        # Name every collision at once: the rules with nothing in scope, and whatever the
        # elastic diagnosis finds among the rest.
        from optimiser.diagnose import diagnose_infeasible

        found = [Collision("rule", r, "relax or remove this rule") for r in lp.infeasible_rules]
        sol = solve(lp, solver=solver, time_limit=time_limit, lexicographic=False)
        if sol.status == "infeasible":
            found += diagnose_infeasible(case, lp, solver)
        raise InfeasibleError(level, found)
    say(f"solving the {level} model ({lp.size['variables']:,} variables, {lp.size['rows']:,} rows) with {solver}")
    sol = solve(lp, solver=solver, time_limit=time_limit, warm=warm, warm_method=warm_method, kept=kept)
    if sol.status == "infeasible":
        from optimiser.diagnose import diagnose_infeasible

        collisions = diagnose_infeasible(case, lp, solver)
        if not collisions:
            from commissioning.errors import SolverError

            other = "highs" if solver == "cbc" else "cbc"
            raise SolverError(f"{solver} reported the {level} model infeasible, but every rule can be met when "
                              f"checked one by one: this is numerical trouble in the solver, not colliding rules. "
                              f"Try --solver {other}.")
        raise InfeasibleError(level, collisions)
    if sol.status not in ("optimal", "time_limit"):
        from commissioning.errors import SolverError

        raise SolverError(f"the {level} model could not be solved: {sol.status} {sol.message}".strip())
    finished(sol, f"the {level} model")
    alloc = allocations_from(lp.variables, settle(lp, sol.x), case)
    return LevelResult(level, sol.status, alloc, level_totals(case, alloc), lp, sol,
                       constraint_table(lp, sol) if constraints else None, pool if level != "aligned" else frozenset())


def default_pool(case: Case) -> frozenset[str]:
    """The pool of a case: the scenario's choice, else every ``poolable`` pot — and, in a settlement
    case, the settlement's flexible pots (their flexibility is the settlement's, not the partners')."""
    chosen = frozenset(case.pool) if case.pool is not None else frozenset(p.code for p in case.pots if p.poolable)
    return chosen | flexible_pots(case)


def settlement_pool(case: Case) -> frozenset[str] | None:
    """The pool of the settlement level: the flexible settlement pots; None when the case has no settlement."""
    return flexible_pots(case) if settles(case) else None


def optimise_case(case: Case, solver: str = "auto", time_limit: float | None = None,
                  pool: frozenset[str] | None = None, scenario: str | None = None,
                  progress: Progress | None = None,
                  after_level: Callable[[RunResult, str], None] | None = None) -> RunResult:
    """Compute baseline, aligned, settlement (in a settlement case) and pooled for a case.

    ``after_level(run_so_far, level)`` is called as each level is solved, with the run of the
    levels solved so far: the command line begins there what needs only those levels (the
    aligned level's dropped-cohort re-solves, in its second process) while the next is solved."""
    pool = default_pool(case) if pool is None else frozenset(pool) | flexible_pots(case)
    settled = settlement_pool(case)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    base = baseline_allocation(case)
    base_alloc = base.assign(participants=base["amount"] / base["unit_cost"])
    base_alloc["amount"] = penny_floor(base_alloc["amount"])
    base_alloc["participants"], base_alloc["outcomes"], base_alloc["value"] = bought(
        base_alloc["amount"], base_alloc["unit_cost"], base_alloc["outcome_rate"], base_alloc["value_per_outcome"])
    base_alloc = valued(case, base_alloc[base_alloc["amount"] > 0])[ALLOCATION_COLUMNS].reset_index(drop=True)
    levels = {"baseline": LevelResult("baseline", "computed", base_alloc, level_totals(case, base_alloc))}
    timings["baseline"] = time.perf_counter() - t
    # The size decides `auto`: the pooled model is the larger of the two.
    from optimiser.solve import choose_solver

    size = len(case.eligibility.cells(with_need_only=True))
    solver, reason = choose_solver(solver, size)
    if progress:
        progress(f"solver: {reason}")
    def result(levels: dict, timings: dict) -> RunResult:
        return RunResult(scenario or case.scenario or case.settings.name, case, levels, solver,
                         case.settings.objective, pool, timings, solver_reason=reason, time_limit=time_limit)

    below = None
    for level in ("aligned", "settlement", "pooled"):
        if level == "settlement" and settled is None:
            continue
        t = time.perf_counter()
        # Each model is the one below plus columns (and, above aligned, the cross-theme rows), so
        # the basis below stays feasible for it and the primal simplex carries on from there (HiGHS only).
        warm = levels[below].solution.warm if below else None
        levels[level] = solve_level(case, level, settled if level == "settlement" else pool, solver, time_limit,
                                    progress, warm=warm)
        timings[level] = time.perf_counter() - t
        below = level
        if after_level is not None:
            after_level(result(dict(levels), dict(timings)), level)
    return result(levels, timings)
