"""Sensitivity: how robust is the allocation when need is only roughly known?

Need figures are estimates. ``commissioning sensitivity CASE --need-spread s --draws N``
re-solves the ``aligned`` and ``pooled`` levels ``N`` times, each time with every need
cell drawn independently around its evidence::

    need'[a,c,t] = need[a,c,t] × (1 + u),   u ~ Uniform(−s, +s)

or, where the need row states an interval (``people_low``, ``people_high``), uniformly
within it (numpy's ``default_rng(seed)``; the draws are made up front, so a seed gives the
same figures every time), and reports:

* ``sensitivity.csv`` — for each level and pot–area pairing that any draw (or the
  undisturbed case) funds: ``level, pot_code, area_code, draws_used`` (how many draws
  put money there), ``share_used`` (``draws_used`` / draws solved), ``mean_amount``,
  ``p10_amount``, ``p90_amount`` (over every draw, a draw that does not fund the pairing
  counting £0), then ``base_amount`` (the undisturbed optimum);
* ``sensitivity.json`` — per level, the spread of outcomes over the draws (``mean``,
  ``sd`` (sample), ``p5``, ``p50``, ``p95``, ``min``, ``max``; also of participants and
  unmet need), the undisturbed figures, and the settings (``need_spread``, ``draws``,
  ``seed``, ``solver``), and ``run``: what was run, ``Case 'NAME'`` or ``Scenario 'X' on
  case 'NAME'``.

Each draw is solved exactly as ``optimise`` solves a level, so with a spread of 0 every
draw equals the undisturbed optimum. Two things make a draw cheap without changing what it
gives: its model is built from the undisturbed one, only the families that read need adding
their rows again (:mod:`optimiser.redraw`; the model built from the case where that cannot be
promised), and with HiGHS every phase starts from the undisturbed optimum's basis of that
phase with the dual simplex (a draw moves right-hand sides only, so those bases stay dual
feasible). Each process also keeps one HiGHS instance per level for its draws
(:class:`optimiser.solve.KeptHighs`): the matrix is handed over once, and each draw sets its bounds
on it, in the same starting state as a new instance, so the same path and the same figures
(tested). ``benchmarks/uncertainty.py`` measures it: at national size a draw of both levels
took 7.1 s against 166 s from scratch on the first machine measured, and 100 draws shared by two
processes take 9.6–10.2× one floor solve on the current one (``benchmarks/README.md``). The draws are independent, so ``--cluster ADDRESS``
solves them on a Dask cluster (:mod:`commissioning.analysis.cluster`), with the same figures.
A draw whose rules cannot all hold (a ``min_`` rule or a lock that the drawn need cannot
absorb) is counted as infeasible and left out of the statistics; if every draw is infeasible
the command fails (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from commissioning.errors import InfeasibleError
from commissioning.case.model import Case

SOLVED_LEVELS = ("aligned", "pooled")
SENSITIVITY_COLUMNS = ["level", "pot_code", "area_code", "draws_used", "share_used", "mean_amount", "p10_amount",
                       "p90_amount", "base_amount"]
SPREAD_METRICS = ("outcomes", "participants", "unmet_people")


@dataclass
class SensitivityResult:
    """The undisturbed optimum and every draw's totals and money by pot and area."""

    scenario: str
    need_spread: float
    draws: int
    seed: int
    solver: str
    base: dict[str, dict[str, float]]  # level -> totals of the undisturbed case (baseline too)
    totals: dict[str, list[dict[str, float]]]  # level -> totals of each solved draw
    amounts: pd.DataFrame  # level, draw, pot_code, area_code, amount (draw -1: the undisturbed case)
    infeasible: list[int] = field(default_factory=list)  # draws whose rules could not all hold
    run: str = ""  # what was run, in words (commissioning.inputs.scenario.run_label)

    @property
    def solved(self) -> int:
        """How many draws could be solved."""
        return self.draws - len(self.infeasible)


def _uniforms(n_cells: int, draws: int, seed: int, stream: int = 0) -> np.ndarray:
    """``draws × n_cells`` uniforms on [0, 1) from ``default_rng(seed)`` (stream 0) or
    ``default_rng([seed, stream])`` (another stream of the same seed: robust's fresh draws)."""
    rng = np.random.default_rng(seed if stream == 0 else [seed, stream])
    return rng.random(size=(draws, n_cells))


def need_factors(n_cells: int, spread: float, draws: int, seed: int, stream: int = 0) -> np.ndarray:
    """``draws × n_cells`` multipliers ``1 + u``, ``u ~ U(−spread, +spread)``, independent per cell
    (bit for bit numpy's ``uniform(−spread, spread)`` of the same generator)."""
    v = _uniforms(n_cells, draws, seed, stream)
    return 1.0 + (-spread + (spread - (-spread)) * v)


def need_draws(case: Case, spread: float, draws: int, seed: int, stream: int = 0) -> np.ndarray:
    """``draws × len(case.need)`` people in need, drawn from the evidence (in ``case.need`` order).

    A row with a stated interval (``people_low``, ``people_high``) is drawn uniformly within it;
    any other within ``± spread`` of ``people``. Both come from the same uniforms, so a case
    without intervals draws exactly the need it drew before intervals existed.
    """
    v = _uniforms(len(case.need), draws, seed, stream)
    point = np.array([float(n.people) for n in case.need])
    out = point * (1.0 + (-spread + (spread - (-spread)) * v))
    for i, n in enumerate(case.need):
        if n.interval is not None:
            low, high = n.interval
            out[:, i] = low + (high - low) * v[:, i]
    return out


def drawn_case(case: Case, factors: np.ndarray) -> Case:
    """The case with each need cell multiplied by its factor (in ``case.need`` order)."""
    return case_with_need(case, [n.people * float(f) for n, f in zip(case.need, factors)])


def case_with_need(case: Case, people: np.ndarray) -> Case:
    """The case with need ``people`` (one figure per ``case.need`` row, in order)."""
    need = tuple(n.model_copy(update={"people": float(p)}) for n, p in zip(case.need, people))
    return case.with_changes(need=need)


def _pot_area(alloc: pd.DataFrame) -> pd.DataFrame:
    return alloc.groupby(["pot_code", "area_code"], sort=False, as_index=False)["amount"].sum()


@dataclass
class DrawJob:
    """What every draw shares: sent to each worker once. Each process keeps the undisturbed model
    of each level (built there the first time, or handed over here), which every draw's model is
    built from (:func:`optimiser.redraw.redraw`)."""

    case: Case
    pool: frozenset[str]
    solver: str
    warm: dict[str, Any]  # level -> the undisturbed optimum's basis (HiGHS), or None
    levels: tuple[str, ...] = SOLVED_LEVELS
    models: dict[str, Any] = field(default_factory=dict, repr=False)  # level -> the undisturbed model
    redraw: bool = True  # False: every draw's model built from the case (the benchmarks' cold draws)
    kept: dict[str, Any] = field(default_factory=dict, repr=False)  # level -> its HiGHS instance, this process's

    def instance(self, level: str):
        """The HiGHS instance kept for ``level``'s draws in this process (warm draws only)."""
        if not self.redraw or self.solver != "highs":
            return None
        if level not in self.kept:
            from optimiser.solve import KeptHighs

            self.kept[level] = KeptHighs()
        return self.kept[level]

    def pool_of(self, level: str) -> frozenset[str]:
        """The pool a level's model opens: none for the aligned level."""
        return self.pool if level != "aligned" else frozenset()

    def model(self, level: str):
        """The undisturbed model of ``level``, built once in this process."""
        if level not in self.models:
            from optimiser.build import create_model

            self.models[level] = create_model(self.case, pool=self.pool_of(level))
        return self.models[level]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "models": {}, "kept": {}}  # a model is built where it is solved


def solve_draw(job: DrawJob, item: tuple[int, np.ndarray]) -> tuple[int, dict | None]:
    """One draw at every level: ``(draw, {level: (totals, pot–area money)})``, None when its rules
    cannot all hold. The model is the drawn case's own — built from the undisturbed one where only
    need figures differ (:func:`optimiser.redraw.redraw`), else from the case — started from the
    undisturbed optimum's bases with the dual simplex (HiGHS): a draw moves right-hand sides, so those
    bases stay dual feasible."""
    from optimiser.build import create_model
    from optimiser.levels import solve_built
    from optimiser.redraw import redraw

    d, people = item
    c = case_with_need(job.case, people)
    solved = {}
    try:
        for lv in job.levels:
            lp = redraw(job.model(lv), job.case, c, job.pool_of(lv)) if job.redraw else None
            lp = lp or create_model(c, pool=job.pool_of(lv))
            solved[lv] = solve_built(c, lv, lp, job.pool, job.solver, None, warm=job.warm.get(lv),
                                     warm_method="dual", kept=job.instance(lv), constraints=False)
    except InfeasibleError:
        return d, None
    return d, {lv: (dict(res.totals), _pot_area(res.allocations)) for lv, res in solved.items()}


def run_sensitivity(case: Case, need_spread: float, draws: int, seed: int = 0, solver: str = "cbc",
                    on_draw: Callable[[int], None] | None = None, runner=None, warm: bool = True) -> SensitivityResult:
    """Solve the undisturbed case, then ``draws`` cases with need drawn around it (see the module).

    ``runner`` (:func:`commissioning.analysis.cluster.runner`) says where the draws are solved:
    here by default, or on a Dask cluster — the same figures either way. ``warm=False`` builds
    every draw's model from the case and solves it from scratch (the benchmarks' comparison).
    """
    from optimiser.levels import default_pool, optimise_case

    from commissioning.analysis.cluster import Here
    from commissioning.case.labels import run_label

    base_run = optimise_case(case, solver=solver)
    solver = base_run.solver  # `auto` resolved once, by the base case's size
    pool = default_pool(case)
    base = {name: dict(lv.totals) for name, lv in base_run.levels.items()}
    frames = [_pot_area(base_run.levels[lv].allocations).assign(level=lv, draw=-1) for lv in SOLVED_LEVELS]
    totals: dict[str, list[dict[str, float]]] = {lv: [] for lv in SOLVED_LEVELS}
    infeasible: list[int] = []
    people = need_draws(case, need_spread, draws, seed)
    bases = {lv: base_run.levels[lv].solution.warm if warm else None for lv in SOLVED_LEVELS}
    job = DrawJob(case, pool, solver, bases, models={lv: base_run.levels[lv].lp for lv in SOLVED_LEVELS},
                  redraw=warm)
    results = (runner or Here()).map(solve_draw, job, [(d, people[d]) for d in range(draws)], on_draw)
    for d, solved in results:
        if solved is None:
            infeasible.append(d)
            continue
        for lv, (t, money) in solved.items():
            totals[lv].append(t)
            frames.append(money.assign(level=lv, draw=d))
    if draws and len(infeasible) == draws:
        raise InfeasibleError("aligned or pooled", [])
    amounts = pd.concat(frames, ignore_index=True)[["level", "draw", "pot_code", "area_code", "amount"]]
    return SensitivityResult(base_run.scenario, need_spread, draws, seed, solver, base, totals, amounts,
                             infeasible, run_label(case.settings.name, case.scenario))


def sensitivity_frame(result: SensitivityResult, case: Case) -> pd.DataFrame:
    """sensitivity.csv: how often, and how much, each pot–area pairing is funded across the draws."""
    a = result.amounts
    key = ["level", "pot_code", "area_code"]
    keys = a[key].drop_duplicates()
    base = a[a["draw"] < 0].groupby(key)["amount"].sum()
    solved_draws = [d for d in range(result.draws) if d not in set(result.infeasible)]
    # One row per pairing, one column per solved draw; a draw that does not fund it is £0.
    drawn = a[a["draw"] >= 0]
    if len(drawn) and len(keys):
        per_draw = (drawn.pivot_table(index=key, columns="draw", values="amount", aggfunc="sum")
                    .reindex(index=pd.MultiIndex.from_frame(keys), columns=solved_draws).fillna(0.0))
        m = per_draw.to_numpy()
    else:
        m = np.zeros((len(keys), len(solved_draws)))
    n = len(solved_draws)
    rows = []
    for i, (level, pot, area) in enumerate(keys.itertuples(index=False)):
        v = m[i]
        used = int((v > 0).sum())
        rows.append({
            "level": level, "pot_code": pot, "area_code": area, "draws_used": used,
            "share_used": used / n if n else 0.0,
            "mean_amount": float(v.mean()) if n else 0.0,
            "p10_amount": float(np.percentile(v, 10)) if n else 0.0,
            "p90_amount": float(np.percentile(v, 90)) if n else 0.0,
            "base_amount": float(base.get((level, pot, area), 0.0)),
        })
    out = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    pot_order = {p.code: i for i, p in enumerate(case.pots)}
    area_order = {ar.code: i for i, ar in enumerate(case.areas)}
    level_order = {lv: i for i, lv in enumerate(SOLVED_LEVELS)}
    out = out.assign(_l=out["level"].map(level_order), _p=out["pot_code"].map(pot_order),
                     _a=out["area_code"].map(area_order))
    return out.sort_values(["_l", "_p", "_a"]).drop(columns=["_l", "_p", "_a"]).reset_index(drop=True)


def spread(values: list[float]) -> dict[str, float | None]:
    """mean, sample sd, p5, p50, p95, min and max of a list of figures."""
    if not values:
        return {k: None for k in ("mean", "sd", "p5", "p50", "p95", "min", "max")}
    v = np.asarray(values, dtype=float)
    return {
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "p5": float(np.percentile(v, 5)),
        "p50": float(np.percentile(v, 50)),
        "p95": float(np.percentile(v, 95)),
        "min": float(v.min()),
        "max": float(v.max()),
    }


def sensitivity_summary(result: SensitivityResult, frame: pd.DataFrame) -> dict[str, Any]:
    """sensitivity.json: the settings, and per level the spread of outcomes over the draws."""
    levels = {}
    for lv in SOLVED_LEVELS:
        t = result.totals[lv]
        f = frame[frame["level"] == lv]
        levels[lv] = {
            **{m: spread([x[m] for x in t]) for m in SPREAD_METRICS},
            "base": {m: result.base[lv][m] for m in ("allocated", "participants", "outcomes", "value",
                                                     "unmet_people", "idle_amount")},
            "pairings": int(len(f)),
            "pairings_always_used": int((f["share_used"] >= 1.0).sum()),
            "pairings_sometimes_used": int(((f["share_used"] > 0) & (f["share_used"] < 1.0)).sum()),
        }
    dividend = [p["outcomes"] - a["outcomes"] for a, p in zip(result.totals["aligned"], result.totals["pooled"])]
    return {
        "scenario": result.scenario,
        "run": result.run,
        "settings": {"need_spread": result.need_spread, "draws": result.draws, "seed": result.seed,
                     "solver": result.solver},
        "draws_solved": result.solved,
        "draws_infeasible": list(result.infeasible),
        "levels": levels,
        "devolution_dividend_outcomes": spread(dividend),
        "baseline": {m: result.base["baseline"][m] for m in ("allocated", "participants", "outcomes", "value",
                                                              "unmet_people", "idle_amount")},
    }


def sensitivity_lines(summary: dict, frame: pd.DataFrame, top: int = 5,
                      area_names: dict[str, str] | None = None) -> list[str]:
    """A short report for the terminal: the spread of outcomes, and the least settled pairings."""
    names = area_names or {}
    s = summary["settings"]
    lines = [f"{summary['run']}: need drawn within ±{s['need_spread']:.0%} of its evidence, "
             f"{summary['draws_solved']} of {s['draws']} draws solved (seed {s['seed']}).",
             f"  {'level':<8} {'base':>10} {'mean':>10} {'p5':>10} {'p95':>10} {'sd':>8}   pot–area pairings"]
    for lv in SOLVED_LEVELS:
        L = summary["levels"][lv]
        o = L["outcomes"]
        if o["mean"] is None:
            lines.append(f"  {lv:<8} {L['base']['outcomes']:>10,.0f}   (no draw solved)")
            continue
        lines.append(f"  {lv:<8} {L['base']['outcomes']:>10,.0f} {o['mean']:>10,.0f} {o['p5']:>10,.0f} "
                     f"{o['p95']:>10,.0f} {o['sd']:>8,.0f}   {L['pairings_always_used']} in every draw, "
                     f"{L['pairings_sometimes_used']} in some")
    shaky = frame[(frame["level"] == "pooled") & (frame["share_used"] > 0) & (frame["share_used"] < 1)]
    shaky = shaky.sort_values("mean_amount", ascending=False).head(top)
    if len(shaky):
        lines.append("  Least settled pooled pairings (funded in some draws only), largest first:")
        for r in shaky.itertuples(index=False):
            where = f"{names[r.area_code]} ({r.area_code})" if r.area_code in names else r.area_code
            lines.append(f"    {r.pot_code} in {where}: {r.share_used:.0%} of draws, "
                         f"mean £{r.mean_amount:,.0f} (p10 £{r.p10_amount:,.0f}, p90 £{r.p90_amount:,.0f})")
    return lines


def progress_bar(total: int, quiet: bool, label: str):
    """A rich progress bar on standard error; silent with ``--quiet`` or when stderr is not a terminal."""
    import sys

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    enabled = not quiet and sys.stderr.isatty()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), disable=not enabled, transient=False)
    task = bar.add_task(label, total=total)
    return bar, task
