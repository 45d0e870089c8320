"""A plan to commit to before need is known: the robust allocation, and what it is worth.

``commissioning robust CASE --draws N --out DIR`` makes one allocation of a level
(``--level``, default pooled) that does best on average over ``N`` draws of need — the
sample-average approximation of a two-stage stochastic programme
(:mod:`optimiser.robust`, :mod:`optimiser.families.recourse`): the money is committed
first, then in each draw the people served in a cell are the lesser of what the money
buys there and that draw's need. With ``--tail-weight λ`` the objective is
``(1 − λ) × mean + λ × CVaR``, the mean of the worst ``--tail-share`` of draws.

Need is drawn as ``sensitivity`` draws it (:func:`~commissioning.analysis.sensitivity.need_draws`):
within a need row's stated interval, else within ``± --need-spread`` of its figure, seeded.

What is reported (``robust.json``), in the objective's units:

* the **robust** plan and the **point-estimate** plan (the level as ``optimise`` solves it,
  on the need as estimated), each judged *in sample* (on the ``N`` draws the robust plan
  was chosen on) and *out of sample* (on ``--test-draws`` fresh draws, another stream of
  the same seed, not used to choose either plan): the mean, spread and CVaR;
* ``vss``, the **value of the stochastic solution**: robust minus point-estimate, out of
  sample (the textbook's RP − EEV, on fresh draws);
* ``evpi``, the **expected value of perfect information**: the mean over the fresh draws
  of the level's optimum with that draw's need known (a solve per draw: "wait and see"),
  minus the robust plan's out-of-sample mean. It is what better evidence of need could
  buy at most.

``robust.csv`` is the plan: one row per allocation line, with the point-estimate plan's
money beside it and the people each line serves on average out of sample.

Decisions (README "Decisions"): the point-estimate plan is the one ``optimise`` makes on
``people`` (not on the draws' mean), since that is the plan a commissioner would
otherwise adopt; the out-of-sample judgement is exact and needs no solver
(:class:`optimiser.robust.Judge`); the wait-and-see solves are the only many solves, and
run here or on a Dask cluster (``--cluster``) with the same figures; a draw whose rules
cannot all hold with its need known is left out of the EVPI and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.errors import InfeasibleError

ROBUST_COLUMNS = ["level", "pot_code", "area_code", "cohort_code", "year", "programme", "amount", "participants",
                  "point_amount", "expected_served", "expected_outcomes"]
TEST_STREAM = 1  # the fresh draws: default_rng([seed, 1])


@dataclass
class RobustSettings:
    """The run's settings, as robust.json states them."""

    level: str = "pooled"
    draws: int = 50
    test_draws: int = 200
    need_spread: float = 0.1
    seed: int = 0
    tail_weight: float = 0.0
    tail_share: float = 0.1
    solver: str = "highs"

    def record(self) -> dict[str, Any]:
        """The settings as plain data."""
        return dict(self.__dict__)


@dataclass
class RobustResult:
    """Both plans, judged in and out of sample, and the perfect-information optima of the fresh draws."""

    settings: RobustSettings
    run: str
    objective: str
    plan: pd.DataFrame  # the robust plan's allocation rows
    point_plan: pd.DataFrame  # the point-estimate plan's
    robust_in: np.ndarray
    point_in: np.ndarray
    robust_out: np.ndarray
    point_out: np.ndarray
    wait_and_see: np.ndarray  # per fresh draw (NaN: its rules could not all hold)
    served: np.ndarray  # mean people served per allocation column of the robust plan, out of sample
    columns: pd.DataFrame  # the allocation columns (pot, area, cohort, year, programme, unit_cost, rate)
    robust_amounts: np.ndarray
    point_amounts: np.ndarray
    size: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def tail_mean(values: np.ndarray, share: float) -> float:
    """CVaR: the mean of the worst ``share`` of ``values`` (the lowest), the boundary draw in part,
    as the Rockafellar–Uryasev programme has it."""
    v = np.sort(np.asarray(values, dtype=float))
    if not len(v):
        return float("nan")
    k = share * len(v)  # how many draws' worth make up the tail
    whole = int(np.floor(k))
    total = v[:whole].sum() + (k - whole) * (v[whole] if whole < len(v) else 0.0)
    return float(total / k)


@dataclass
class WaitAndSee:
    """What every perfect-information draw shares (sent to each worker once)."""

    case: Case
    level: str
    pool: frozenset[str]
    solver: str
    warm: Any
    model: Any = field(default=None, repr=False)  # the undisturbed model, built once in each process

    def undisturbed(self):
        """The level's undisturbed model (each draw's is built from it, optimiser.redraw)."""
        if self.model is None:
            from optimiser.build import create_model
            from optimiser.robust import level_pool

            self.model = create_model(self.case, pool=level_pool(self.case, self.level, self.pool))
        return self.model

    def __getstate__(self) -> dict:
        return {**self.__dict__, "model": None}  # a model is built where it is solved


def solve_known(job: WaitAndSee, people: np.ndarray) -> float:
    """The level's optimum with this draw's need known; NaN when its rules cannot all hold."""
    from optimiser.robust import wait_and_see

    from commissioning.analysis.sensitivity import case_with_need

    try:
        return wait_and_see(case_with_need(job.case, people), job.level, job.pool, job.solver, job.warm,
                            like=(job.undisturbed(), job.case))
    except InfeasibleError:
        return float("nan")


def run_robust(case: Case, settings: RobustSettings, runner=None,
               progress: Callable[[str], None] | None = None,
               on_draw: Callable[[int], None] | None = None,
               draws: np.ndarray | None = None, test: np.ndarray | None = None) -> RobustResult:
    """The robust plan of ``settings.level`` and its measures (see the module docstring).

    ``draws`` and ``test`` (draws × need rows) replace the seeded draws when given: a hand-worked
    case states its draws.
    """
    import time

    from optimiser.families.recourse import alloc_columns
    from optimiser.levels import default_pool, solve_level
    from optimiser.robust import level_pool, robust_plan
    from optimiser.solve import choose_solver

    from commissioning.analysis.cluster import Here
    from commissioning.analysis.sensitivity import need_draws
    from commissioning.case.labels import run_label

    say = progress or (lambda _: None)
    s = settings
    solver, _ = choose_solver(s.solver, len(case.eligibility.cells(with_need_only=True)))
    s.solver = solver
    pool = default_pool(case)
    level_pool(case, s.level, pool)  # a settlement level without a settlement says so now
    train = need_draws(case, s.need_spread, s.draws, s.seed) if draws is None else np.atleast_2d(draws)
    fresh = need_draws(case, s.need_spread, s.test_draws, s.seed, TEST_STREAM) if test is None else np.atleast_2d(test)
    s.draws, s.test_draws = len(train), len(fresh)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    say(f"solving the {s.level} level on the need as estimated")
    point = solve_level(case, s.level, level_pool(case, s.level, pool), solver, None)
    seconds["point"] = time.perf_counter() - t
    t = time.perf_counter()
    say(f"solving the robust {s.level} model over {len(train)} draws of need")
    plan = robust_plan(case, s.level, pool, train, solver, tail_weight=s.tail_weight, tail_share=s.tail_share)
    seconds["robust"] = time.perf_counter() - t
    judge = plan.judge
    cols = alloc_columns(point.lp)
    point_amounts = np.clip(point.solution.x[cols], 0.0, None)
    t = time.perf_counter()
    robust_in, point_in = plan.in_sample, judge.outcomes(point_amounts, train)
    robust_out, point_out = judge.outcomes(plan.amounts, fresh), judge.outcomes(point_amounts, fresh)
    served = judge.served(plan.amounts, fresh)
    seconds["judge"] = time.perf_counter() - t
    t = time.perf_counter()
    say(f"solving {len(fresh)} fresh draws with their need known")
    job = WaitAndSee(case, s.level, pool, solver, point.solution.warm, model=point.lp)
    ws = np.array((runner or Here()).map(solve_known, job, list(fresh), on_draw), dtype=float)
    seconds["wait_and_see"] = time.perf_counter() - t
    v = point.lp.variables.iloc[cols]
    columns = v[["pot_code", "area_code", "cohort_code", "year", "programme", "unit_cost", "outcome_rate"]]
    return RobustResult(s, run_label(case.settings.name, case.scenario), case.settings.objective, plan.allocations,
                        point.allocations, robust_in, point_in, robust_out, point_out, ws, served,
                        columns.reset_index(drop=True), plan.amounts, point_amounts, plan.size, seconds)


def _spread(values: np.ndarray, share: float) -> dict[str, float | None]:
    from commissioning.analysis.sensitivity import spread

    return spread(list(values)) | {"cvar": tail_mean(values, share) if len(values) else None}


def robust_summary(r: RobustResult) -> dict[str, Any]:
    """robust.json: the settings, both plans in and out of sample, the VSS and the EVPI."""
    s = r.settings
    known = r.wait_and_see[np.isfinite(r.wait_and_see)]
    ok = np.isfinite(r.wait_and_see)
    robust_mean = float(r.robust_out.mean())
    point_mean = float(r.point_out.mean())
    evpi = float(known.mean() - r.robust_out[ok].mean()) if len(known) else None
    return {
        "run": r.run,
        "objective": r.objective,
        "settings": s.record(),
        "robust": {"in_sample": _spread(r.robust_in, s.tail_share), "out_of_sample": _spread(r.robust_out,
                                                                                           s.tail_share),
                   "allocated": float(r.plan["amount"].sum())},
        "point_estimate": {"in_sample": _spread(r.point_in, s.tail_share),
                           "out_of_sample": _spread(r.point_out, s.tail_share),
                           "allocated": float(r.point_plan["amount"].sum())},
        "expected_objective": {"robust_in_sample": float(r.robust_in.mean()), "robust_out_of_sample": robust_mean,
                               "point_in_sample": float(r.point_in.mean()), "point_out_of_sample": point_mean},
        "vss": robust_mean - point_mean,
        "vss_in_sample": float(r.robust_in.mean() - r.point_in.mean()),
        "evpi": evpi,
        "wait_and_see": _spread(known, s.tail_share) if len(known) else None,
        "wait_and_see_infeasible": [int(i) for i in np.flatnonzero(~ok)],
        "vss_share": (robust_mean - point_mean) / point_mean if point_mean else None,
        "model": r.size,
        "seconds": {k: round(v, 3) for k, v in r.seconds.items()},
    }


def robust_frame(r: RobustResult) -> pd.DataFrame:
    """robust.csv: the robust plan line by line, the point-estimate plan's money beside it."""
    c = r.columns.assign(level=r.settings.level)
    c["amount"] = r.robust_amounts * 1000.0
    c["point_amount"] = r.point_amounts * 1000.0
    c["participants"] = c["amount"] / c["unit_cost"]
    c["expected_served"] = r.served
    c["expected_outcomes"] = r.served * c["outcome_rate"]
    keep = (c["amount"] > 0.005) | (c["point_amount"] > 0.005)
    out = c[keep].copy()
    out["point_amount"] = out["point_amount"].round(2)
    # the plan's money to the penny, as settled (allocations_from)
    settled = r.plan.groupby(["pot_code", "area_code", "cohort_code", "year", "programme"])["amount"].sum()
    key = pd.MultiIndex.from_frame(out[["pot_code", "area_code", "cohort_code", "year", "programme"]])
    out["amount"] = settled.reindex(key).fillna(0.0).to_numpy()
    out["participants"] = out["amount"] / out["unit_cost"]
    return out[ROBUST_COLUMNS].reset_index(drop=True)


def robust_lines(summary: dict) -> list[str]:
    """The terminal's report: both plans out of sample, the VSS and the EVPI, in plain words."""
    s = summary["settings"]
    unit = summary["objective"]
    e = summary["expected_objective"]
    ro, po = summary["robust"]["out_of_sample"], summary["point_estimate"]["out_of_sample"]
    lines = [f"{summary['run']}: one {s['level']} plan chosen over {s['draws']} draws of need, judged on "
             f"{s['test_draws']} fresh draws (seed {s['seed']}).",
             f"  {'plan':<16} {'in sample':>12} {'fresh draws':>12} {'p5':>10} {'p95':>10} "
             f"{'worst ' + format(s['tail_share'], '.0%'):>10}",
             f"  {'robust':<16} {e['robust_in_sample']:>12,.1f} {e['robust_out_of_sample']:>12,.1f} "
             f"{ro['p5']:>10,.1f} {ro['p95']:>10,.1f} {ro['cvar']:>10,.1f}",
             f"  {'point estimate':<16} {e['point_in_sample']:>12,.1f} {e['point_out_of_sample']:>12,.1f} "
             f"{po['p5']:>10,.1f} {po['p95']:>10,.1f} {po['cvar']:>10,.1f}",
             f"  Planning for uncertain need buys {summary['vss']:,.1f} {unit} on fresh draws (the value of the "
             f"stochastic solution).",
             ]
    if summary["evpi"] is not None:
        lines.append(f"  Knowing need exactly would buy at most {summary['evpi']:,.1f} more (the expected value of "
                     "perfect information).")
    if summary["wait_and_see_infeasible"]:
        lines.append(f"  {len(summary['wait_and_see_infeasible'])} fresh draws break a rule with their need known and "
                     "are left out of that figure.")
    return lines
