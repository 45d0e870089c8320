"""The price of realism: the case's objective against the money moved from today's provision.

``commissioning frontier`` traces, for the aligned and the pooled level, how much of the
level's dividend over today a commissioner buys for each pound of today's provision moved.

**Money moved** is the contract's reading (issue 16, :mod:`optimiser.families.transition`):
the money taken from today's cells, ``Σ max(0, today − plan)`` over pot, area, cohort and
year, with "today" the baseline's money per cell (:func:`optimiser.baseline.today_cells`).

Method, per level:

1. solve the level with no limit on money moved (a ``transition.max_moved`` the case sets is
   lifted; every other rule stays) and measure the money its plan moves, ``M*``. Least
   disruption is turned on for the frontier (whatever ``least_disruption`` says), so where
   the case states today's provision, the optimal plan closest to today is taken (the L1
   distance ``Σ |plan − today|``, which also counts new money: an optimum that moves less may
   exist, in which case the frontier reaches the optimum before its last step). Without a
   provision table least disruption cannot apply (:mod:`optimiser.families.transition`):
   today is the baseline's computed spread and ``M*`` is what the solver's optimum moves;
   the frontier may then reach the optimum well before its last step;
2. solve it again with ``max_moved = s_k`` for ``s_k = k/N × M*/Σ today``, ``k = 0..N``
   (``N`` is ``--steps``, default 10). Step 0 is "nothing of today's moves": today's
   provision is kept in full and only money no provision uses may be added (so it can
   already beat the baseline where money is uncommitted). Step ``N`` is the unconstrained
   optimum itself: its plan moves exactly ``M*``, so it is feasible under that limit and
   optimal for it (and, with least disruption, it is the closest to today there too), and it
   is not solved again.

Each point's ``share_of_dividend`` is ``(objective − baseline) / (unconstrained −
baseline)`` for its level: 0 at today, 1 at the level's optimum (empty when the level adds
nothing over today).

The steps do not depend on one another: each is the level's model with one more row, the
limit on money moved, so each starts (HiGHS) from the level's unconstrained optimum — every
phase from its own basis — with the dual simplex (adding a row leaves that basis dual
feasible). So ``--cluster ADDRESS`` solves them as tasks on a Dask cluster
(:mod:`commissioning.analysis.cluster`), each worker building the level's model once, and the
figures are the same as here, where the same tasks run one after another. (Until issue 20 the
steps were chained, each from the previous step's basis with the primal simplex; measured on
the example, the independent steps take no longer.)

A step may have no feasible plan: where today's provision breaks a ``rules`` row, keeping
all of it breaks the rule too. Such a point is kept, with status ``infeasible`` and no
figures, and the frontier starts at the first share that can be met.

Nothing here writes a file (:mod:`commissioning.writers.frontier` lays it out).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.errors import CaseError, SolverError
from optimiser.baseline import today_cells
from optimiser.build import create_model
from optimiser.families.transition import MAX_MOVED
from optimiser.levels import LevelResult, allocations_from, default_pool, level_totals, optimise_case, settle
from optimiser.lp import LinearProgram
from optimiser.objective import MEASURE, UNIT_LONG
from optimiser.solve import finished, solve

FRONTIER_COLUMNS = ["level", "step", "max_moved_share", "money_moved", "money_moved_share", "objective_value",
                    "outcomes", "participants", "value", "share_of_dividend", "status"]
FRONTIER_LEVELS = ("aligned", "pooled")
DEFAULT_STEPS = 10
CELL_KEYS = ["pot_code", "area_code", "cohort_code", "year"]
Progress = Callable[[str], None]


def money_moved(case: Case, allocations: pd.DataFrame) -> float:
    """``Σ max(0, today − plan)`` over pot, area, cohort and year, in £ (every programme of a pot summed)."""
    today = today_cells(case)
    if today.empty:
        return 0.0
    plan = allocations.groupby(CELL_KEYS, sort=False)["amount"].sum() if len(allocations) else pd.Series(dtype=float)
    at = today.set_index(CELL_KEYS)["amount"]
    planned = plan.reindex(at.index).fillna(0.0).to_numpy() if len(plan) else np.zeros(len(at))
    return float(np.clip(at.to_numpy() - planned, 0.0, None).sum())


@dataclass
class FrontierPoint:
    """One point of the frontier: a level solved with at most ``max_moved_share`` of today's money moving.

    The baseline's point has ``step`` and ``max_moved_share`` None. ``status`` is ``optimal``,
    ``time_limit`` (the best found within ``--time-limit``), ``infeasible`` (no plan keeps
    that much of today's provision: no figures) or ``computed`` (the baseline)."""

    level: str
    step: int | None
    max_moved_share: float | None
    status: str
    money_moved: float = float("nan")
    totals: dict[str, float] = field(default_factory=dict)
    objective_value: float = float("nan")
    share_of_dividend: float = float("nan")
    allocations: pd.DataFrame | None = None

    @property
    def solved(self) -> bool:
        """Whether the point has a plan (and so figures)."""
        return self.status != "infeasible"


@dataclass
class Frontier:
    """The frontier of one case: the baseline's point, then each level's ``steps + 1`` points."""

    case: Case
    objective: str  # outcomes | value | coverage
    steps: int
    today_money: float  # £, Σ today over every cell
    points: list[FrontierPoint]
    solver: str
    solver_reason: str = ""
    time_limit: float | None = None

    @property
    def measure(self) -> str:
        """The totals' column the objective is (``outcomes``, ``value``, ``participants``)."""
        return MEASURE[self.objective]

    @property
    def unit(self) -> str:
        """The objective's unit in words ("outcomes", "£ of public value", "participants")."""
        return UNIT_LONG[self.objective]

    @property
    def baseline(self) -> FrontierPoint:
        """Today's point."""
        return next(p for p in self.points if p.level == "baseline")

    def level_points(self, level: str) -> list[FrontierPoint]:
        """A level's points in step order."""
        return [p for p in self.points if p.level == level]

    def optimum(self, level: str) -> FrontierPoint:
        """A level's unconstrained optimum (its last step)."""
        return self.level_points(level)[-1]

    @property
    def status(self) -> str:
        """``optimal`` unless a solve stopped at its time limit."""
        return "time_limit" if any(p.status == "time_limit" for p in self.points) else "optimal"

    def frame(self) -> pd.DataFrame:
        """frontier.csv: one row per point (:data:`FRONTIER_COLUMNS`), the baseline first."""
        rows = []
        for p in self.points:
            t = p.totals
            rows.append({
                "level": p.level, "step": p.step, "max_moved_share": p.max_moved_share,
                "money_moved": p.money_moved,
                "money_moved_share": p.money_moved / self.today_money if self.today_money > 0 else float("nan"),
                "objective_value": p.objective_value, "outcomes": t.get("outcomes", float("nan")),
                "participants": t.get("participants", float("nan")), "value": t.get("value", float("nan")),
                "share_of_dividend": p.share_of_dividend, "status": p.status,
            })
        out = pd.DataFrame(rows, columns=FRONTIER_COLUMNS)
        out["step"] = out["step"].astype("Int64")
        for c in FRONTIER_COLUMNS:
            if c not in ("level", "step", "status"):
                out[c] = out[c].astype(float)
        return out

    def dividend_at(self, level: str, share_of_today: float) -> float | None:
        """The share of the level's dividend captured when ``share_of_today`` of today's money moves,
        read off the frontier by straight lines between its points (the frontier is concave, so this
        is at most what an exact solve would find). None where no point moves that little."""
        pts = sorted(((p.money_moved, p.share_of_dividend) for p in self.level_points(level)
                      if p.solved and np.isfinite(p.share_of_dividend)), key=lambda xy: xy[0])
        if not pts:
            return None
        money = share_of_today * self.today_money
        xs = np.array([x for x, _ in pts])
        ys = np.array([y for _, y in pts])
        if money >= xs[-1]:
            return float(ys[-1])
        if money < xs[0] - 1.0:  # (a step's plan may move pennies more than its limit: settlement)
            return None
        return float(np.interp(money, xs, ys))


def _point(case: Case, result: LevelResult, level: str, step: int | None, share: float | None,
           measure: str) -> FrontierPoint:
    alloc = result.allocations
    return FrontierPoint(level, step, share, result.status, money_moved(case, alloc), dict(result.totals),
                         float(result.totals[measure]), allocations=alloc)


def _model_at(lp: LinearProgram, share: float) -> LinearProgram:
    """``lp`` — built with ``max_moved = 1`` — with its limit on money moved at ``share`` of today's
    money instead: the one right-hand side changes, every other row is shared."""
    # The row is written −Σ d ≥ −share × today's money (optimiser.families.transition).
    blocks = [replace(b, lower=b.lower * share) if b.family == MAX_MOVED.name else b for b in lp.blocks]
    return replace(lp, blocks=blocks)


def _solve_step(case: Case, lp: LinearProgram, level: str, solver: str, time_limit: float | None,
                warm) -> LevelResult | None:
    """``lp`` solved as :func:`optimiser.levels.solve_level` solves a level, or None when no plan meets
    its limit on money moved. (No diagnosis: the unconstrained level was feasible, so the limit is
    what collides, with today's provision where that breaks a rule.)"""
    sol = solve(lp, solver=solver, time_limit=time_limit, warm=warm, warm_method="dual")
    if sol.status == "infeasible":
        return None
    if sol.status not in ("optimal", "time_limit"):
        raise SolverError(f"a step of the {level} level's frontier could not be solved: {sol.status} "
                          f"{sol.message}".strip())
    finished(sol, f"a step of the {level} level's frontier")
    alloc = allocations_from(lp.variables, settle(lp, sol.x), case)
    return LevelResult(level, sol.status, alloc, level_totals(case, alloc), lp, sol)


@dataclass
class StepJob:
    """What every step of a frontier shares: sent to each worker once. Each worker builds a
    level's model (the limit on money moved at all of today's money) the first time it needs it."""

    case: Case  # the case with no limit on money moved and least disruption on
    full: Case  # the same with the limit at all of today's money (one model per level, every step)
    pool: frozenset[str]
    solver: str
    time_limit: float | None
    warm: dict  # level -> the unconstrained optimum's basis (HiGHS), or None
    measure: str
    _models: dict = field(default_factory=dict, repr=False)

    def model(self, level: str) -> LinearProgram:
        """The level's model, built once in this process."""
        if level not in self._models:
            self._models[level] = create_model(self.full, pool=self.pool if level == "pooled" else frozenset())
        return self._models[level]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_models": {}}  # a model is built where it is solved


def solve_frontier_step(job: StepJob, item: tuple[str, int, float]) -> FrontierPoint:
    """One step of one level: its point, or an ``infeasible`` one when no plan meets its limit."""
    level, k, share = item
    result = _solve_step(job.case, _model_at(job.model(level), share), level, job.solver, job.time_limit,
                         job.warm.get(level))
    if result is None:
        return FrontierPoint(level, k, share, "infeasible")
    return _point(job.case, result, level, k, share, job.measure)


def trace_frontier(case: Case, solver: str = "auto", steps: int = DEFAULT_STEPS, time_limit: float | None = None,
                   progress: Progress | None = None, runner=None, on_step: Callable | None = None) -> Frontier:
    """The frontier of ``case`` (see the module docstring). ``runner``
    (:func:`commissioning.analysis.cluster.runner`) says where the steps are solved: here by
    default, or on a Dask cluster — the same figures either way; ``on_step`` is called as each ends."""
    from commissioning.analysis.cluster import Here

    if steps < 1:
        raise CaseError("--steps must be at least 1")
    say = progress or (lambda _: None)
    free = case.with_changes(settings=case.settings.model_copy(
        update={"transition": case.settings.transition.model_copy(update={"max_moved": None}),
                "least_disruption": True}))
    today = float(today_cells(free)["amount"].sum())
    if today <= 0:
        raise CaseError("the frontier measures money moved from today's provision, and today's baseline spends "
                        "nothing: add a provision table (or budgets the baseline can spread) to the case")
    say("the unconstrained levels (no limit on money moved)")
    run = optimise_case(free, solver=solver, time_limit=time_limit, progress=progress)
    measure = MEASURE[case.settings.objective]
    base = run.levels["baseline"]
    points = [FrontierPoint("baseline", None, None, "computed", money_moved(free, base.allocations),
                            dict(base.totals), float(base.totals[measure]), 0.0, base.allocations)]
    # One model per level, built with the limit at all of today's money; each step scales that
    # one right-hand side (the rows, columns and objectives are the same at every step).
    full = free.with_changes(settings=free.settings.model_copy(
        update={"transition": free.settings.transition.model_copy(update={"max_moved": 1.0})}))
    optima, items = {}, []
    for level in FRONTIER_LEVELS:
        optimum = _point(free, run.levels[level], level, steps, None, measure)
        optimum.max_moved_share = min(1.0, optimum.money_moved / today)
        optima[level] = optimum
        items += [(level, k, k / steps * optimum.max_moved_share) for k in range(steps)]
    job = StepJob(free, full, default_pool(case), run.solver, time_limit,
                  {lv: run.levels[lv].solution.warm for lv in FRONTIER_LEVELS}, measure)
    say(f"frontier: {len(items)} steps, each at most a share of today's money moved")
    solved = (runner or Here()).map(solve_frontier_step, job, items, on_step)
    for level in FRONTIER_LEVELS:
        optimum = optima[level]
        level_points = [p for p in solved if p.level == level] + [optimum]
        span = optimum.objective_value - points[0].objective_value
        for p in level_points:
            if p.solved and abs(span) > 1e-9 * max(1.0, abs(optimum.objective_value)):
                p.share_of_dividend = (p.objective_value - points[0].objective_value) / span
        points += level_points
    return Frontier(case, case.settings.objective, steps, today, points, run.solver, run.solver_reason, time_limit)


def frontier_lines(fr: Frontier) -> list[str]:
    """What ``commissioning frontier`` prints: per level, the money its optimum moves, what a fifth
    of today's money moved captures, and each step."""
    from commissioning.case.labels import run_label

    unit = fr.unit
    base = fr.baseline
    lines = [f"{run_label(fr.case.settings.name, fr.case.scenario)}: frontier, {fr.status} "
             f"(solver {fr.solver_reason or fr.solver}; objective {fr.objective})",
             f"  today's money £{fr.today_money:,.0f}; today (baseline) {_fmt(base.objective_value, fr)} {unit}"]
    for level in FRONTIER_LEVELS:
        opt = fr.optimum(level)
        lines.append(f"  {level}: the optimum {_fmt(opt.objective_value, fr)} {unit} moves "
                     f"£{opt.money_moved:,.0f} ({opt.money_moved / fr.today_money:.1%} of today's money)")
        fifth = fr.dividend_at(level, 0.2)
        if fifth is not None:
            lines.append(f"    moving a fifth of today's money captures {fifth:.0%} of the {level} level's dividend "
                         "over today")
        for p in fr.level_points(level):
            moved = "" if not p.solved else f"£{p.money_moved:>14,.0f} moved"
            figure = "no plan keeps that much of today's provision" if not p.solved else \
                f"{_fmt(p.objective_value, fr):>12} {unit}" + \
                (f" ({p.share_of_dividend:.0%} of the dividend)" if np.isfinite(p.share_of_dividend) else "")
            lines.append(f"    step {p.step:>2}: at most {p.max_moved_share:6.1%} moved  {moved:<22} {figure}")
    return lines


def _fmt(v: float, fr: Frontier) -> str:
    return f"£{v:,.0f}" if fr.objective == "value" else f"{v:,.0f}"
