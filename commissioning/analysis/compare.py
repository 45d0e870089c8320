"""Comparing scenarios: every scenario solved, side by side, figure for figure.

``commissioning compare CASE S1.yaml S2.yaml … --out DIR`` runs each scenario as
``optimise --scenario`` would (the same loading, the same solve, the same
:func:`~commissioning.analysis.summary.summary_dict`) and lays the results out together:

* ``comparison.csv`` — one row per scenario: ``scenario, budget, need_people``, then for
  each level L of ``baseline``, ``aligned``, ``pooled`` the columns ``L_allocated,
  L_participants, L_outcomes, L_value, L_unmet_people, L_idle_amount``, then the
  dividends (``alignment_participants`` … ``devolution_value``); more columns follow
  (``status``, ``objective``, ``solver``, ``pool``, ``file``, ``description``,
  ``detail`` — the collision when a scenario is infeasible);
* ``comparison.json`` — each scenario's summary, exactly as ``summary.json`` would hold it;
* ``allocations.csv`` — every scenario's allocations (the contract's columns, with the
  ``scenario`` column telling them apart);
* ``comparison.xlsx`` — see :mod:`commissioning.writers.comparebook`.

Decisions (also in the README):

* Several scenarios are solved in parallel worker processes (``spawn``, so a worker is
  as fresh as a separate ``optimise`` run). Each worker loads the case and its scenario
  from the paths itself and hands back plain data; results keep the order given.
* Every scenario file is checked against the case before anything is solved, and every
  problem in every file is reported at once (exit 2). Two scenarios with the same
  ``name`` are an error: the name is the ``scenario`` column.
* A scenario whose rules cannot all hold is not fatal to the comparison: its row says
  ``infeasible`` (figures empty) and names the collision; the others are still compared.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from optimiser.levels import LEVELS, METRICS

from commissioning.errors import CaseError, Problem

DIVIDEND_KEYS = ("participants", "outcomes", "value")
COMPARISON_COLUMNS = (
    ["scenario", "budget", "need_people"]
    + [f"{level}_{m}" for level in LEVELS for m in METRICS]
    + [f"{d}_{k}" for d in ("alignment", "devolution") for k in DIVIDEND_KEYS]
)
EXTRA_COLUMNS = ["status", "objective", "solver", "pool", "file", "description", "detail"]
ALLOCATION_COLUMNS = ["scenario", "level", "pot_code", "area_code", "cohort_code", "year", "amount",
                      "participants", "outcomes", "value", "programme", "unit_cost", "outcome_rate"]


@dataclass
class ScenarioRun:
    """One scenario's results as plain data (what a worker process hands back)."""

    file: str
    name: str
    description: str
    status: str  # optimal | time_limit | infeasible
    summary: dict[str, Any] | None = None  # summary_dict of the run (None when infeasible)
    allocations: list[dict[str, Any]] = field(default_factory=list)  # every level's allocation rows
    error: str = ""  # the collision, when infeasible

    @property
    def solved(self) -> bool:
        """Whether the scenario has figures (it was not infeasible)."""
        return self.summary is not None


def check_scenarios(case_path: Path, scenario_paths: list[Path]):
    """Validate the case and every scenario against it; return the case, the warnings (the case's,
    then each scenario's) and the scenarios.

    Problems in every scenario file are collected and raised together; so are clashing names.
    """
    from commissioning.inputs.scenario import load_case_with_scenario, load_scenario

    case, warnings = load_case_with_scenario(case_path, None)
    problems: list[Problem] = []
    scenarios = []
    for path in scenario_paths:
        try:
            scenarios.append(load_scenario(path, case))
        except CaseError as e:
            problems.extend(e.problems)
    if problems:
        raise CaseError(problems)
    warnings = list(warnings) + [w for sc in scenarios for w in sc.warnings]
    seen: dict[str, Path] = {}
    for path, sc in zip(scenario_paths, scenarios):
        if sc.name in seen:
            problems.append(Problem(Path(path).name, None, "name",
                                    f"the name '{sc.name}' is already used by {seen[sc.name].name}",
                                    "a different name for each scenario compared", line=sc.lines.get("name", 1)))
        seen.setdefault(sc.name, Path(path))
    if problems:
        raise CaseError(problems)
    return case, warnings, scenarios


def run_one(case_path: str, scenario_path: str, solver: str = "cbc",
            time_limit: float | None = None) -> ScenarioRun:
    """Solve one scenario as ``optimise --scenario`` does, returning plain data.

    Runs in a worker process: it loads the case and the scenario from their paths itself.
    """
    from optimiser.levels import optimise_case

    from commissioning.errors import InfeasibleError
    from commissioning.analysis.summary import summary_dict
    from commissioning.inputs.scenario import apply_scenario, load_scenario
    from commissioning.inputs.validate import validate_path

    # What load_case_with_scenario does, keeping the scenario for its name and description.
    v = validate_path(Path(case_path))
    if not v.ok:
        raise CaseError(v.errors)
    sc = load_scenario(Path(scenario_path), v.case)
    case = apply_scenario(v.case, sc)
    try:
        run = optimise_case(case, solver=solver, time_limit=time_limit)
    except InfeasibleError as e:
        return ScenarioRun(str(scenario_path), sc.name, sc.description, "infeasible", error=str(e))
    alloc = run.allocations_frame()
    alloc = alloc.astype(object).where(alloc.notna(), None)
    return ScenarioRun(str(scenario_path), sc.name, sc.description, run.status, summary_dict(run),
                       alloc.to_dict("records"))


def _run_one_args(args: tuple) -> ScenarioRun:
    return run_one(*args)


def solve_scenario(job: tuple, item: tuple) -> ScenarioRun:
    """One scenario on a cluster's worker: ``job`` is (the validated case, solver, time limit), sent
    to each worker once; ``item`` is (the scenario's file name, the loaded scenario). The same solve
    and the same plain data as :func:`run_one`, with nothing read from disk on the worker."""
    from optimiser.levels import optimise_case

    from commissioning.errors import InfeasibleError
    from commissioning.analysis.summary import summary_dict
    from commissioning.inputs.scenario import apply_scenario

    case, solver, time_limit = job
    path, sc = item
    try:
        run = optimise_case(apply_scenario(case, sc), solver=solver, time_limit=time_limit)
    except InfeasibleError as e:
        return ScenarioRun(str(path), sc.name, sc.description, "infeasible", error=str(e))
    alloc = run.allocations_frame()
    alloc = alloc.astype(object).where(alloc.notna(), None)
    return ScenarioRun(str(path), sc.name, sc.description, run.status, summary_dict(run), alloc.to_dict("records"))


def run_scenarios(case_path: Path, scenario_paths: list[Path], solver: str = "cbc", workers: int | None = None,
                  time_limit: float | None = None,
                  on_done: Callable[[ScenarioRun], None] | None = None, runner=None) -> list[ScenarioRun]:
    """Solve every scenario (in parallel worker processes when there are several); keep the order given.

    ``workers`` caps the processes (default: one per scenario, at most one per CPU);
    ``on_done`` is called as each scenario finishes (for a progress bar). With a cluster
    ``runner`` (:class:`commissioning.analysis.cluster.Cluster`) the validated case goes to each
    worker once and each scenario is one task (:func:`solve_scenario`).
    """
    if runner is not None and runner.address is not None:
        case, _, scenarios = check_scenarios(case_path, scenario_paths)
        return runner.map(solve_scenario, (case, solver, time_limit), list(zip(map(str, scenario_paths), scenarios)),
                          on_done)
    jobs = [(str(case_path), str(p), solver, time_limit) for p in scenario_paths]
    n = min(len(jobs), os.cpu_count() or 1, workers or len(jobs))
    results: list[ScenarioRun | None] = [None] * len(jobs)
    if n <= 1:
        for i, job in enumerate(jobs):
            results[i] = _run_one_args(job)
            if on_done:
                on_done(results[i])
        return results  # type: ignore[return-value]
    import multiprocessing

    # spawn: each worker starts as fresh as a separate `optimise` process, and no lock held
    # by a thread of this one (a progress bar's) can be copied into it.
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_run_one_args, job): i for i, job in enumerate(jobs)}
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            if on_done:
                on_done(results[i])
    return results  # type: ignore[return-value]


# ---- laying the results out ----------------------------------------------------------------
def comparison_rows(runs: list[ScenarioRun]) -> list[dict[str, Any]]:
    """One dict per scenario with :data:`COMPARISON_COLUMNS` and :data:`EXTRA_COLUMNS`."""
    rows = []
    for r in runs:
        row: dict[str, Any] = {c: None for c in COMPARISON_COLUMNS + EXTRA_COLUMNS}
        row.update(scenario=r.name, status=r.status, file=Path(r.file).name, description=r.description)
        s = r.summary
        if s is not None:
            row.update(budget=s["budget"], need_people=s["need_people"], objective=s["objective"],
                       solver=s["solver"], pool=";".join(s["pool"]))
            for level in LEVELS:
                for m in METRICS:
                    row[f"{level}_{m}"] = s["levels"][level][m]
            for d in ("alignment", "devolution"):
                for k in DIVIDEND_KEYS:
                    row[f"{d}_{k}"] = s["dividends"][d][k]
        else:
            row["detail"] = " ".join(line.strip() for line in r.error.splitlines())
        rows.append(row)
    return rows


def comparison_frame(runs: list[ScenarioRun]) -> pd.DataFrame:
    """comparison.csv as a table: one row per scenario, in the order given."""
    return pd.DataFrame(comparison_rows(runs), columns=COMPARISON_COLUMNS + EXTRA_COLUMNS)


def allocations_frame(runs: list[ScenarioRun]) -> pd.DataFrame:
    """Every scenario's allocation rows, in scenario order."""
    rows = [a for r in runs for a in r.allocations]
    return pd.DataFrame(rows, columns=ALLOCATION_COLUMNS)


def allocation_by_pot_area(runs: list[ScenarioRun], level: str, case) -> pd.DataFrame:
    """Money by pot and area (summed over cohorts and years) at one level: one column per scenario.

    Rows are every pot–area pairing any scenario funds, in the case's pot and area order;
    a scenario that does not fund a pairing has 0 there (and an infeasible one, empty).
    """
    frames = {}
    for r in runs:
        if not r.solved:
            continue
        a = pd.DataFrame(r.allocations, columns=ALLOCATION_COLUMNS)
        a = a[a["level"] == level]
        frames[r.name] = a.groupby(["pot_code", "area_code"])["amount"].sum()
    table = pd.DataFrame(frames)
    if table.empty:
        return pd.DataFrame(columns=["pot_code", "area_code"] + [r.name for r in runs])
    table = table.fillna(0.0).reset_index()
    table.columns = ["pot_code", "area_code"] + list(frames)
    pot_order = {p.code: i for i, p in enumerate(case.pots)}
    area_order = {a.code: i for i, a in enumerate(case.areas)}
    table = table.assign(_p=table["pot_code"].map(pot_order), _a=table["area_code"].map(area_order))
    table = table.sort_values(["_p", "_a"]).drop(columns=["_p", "_a"]).reset_index(drop=True)
    for r in runs:
        if r.name not in table:
            table[r.name] = None
    return table[["pot_code", "area_code"] + [r.name for r in runs]]


def comparison_record(runs: list[ScenarioRun], case) -> dict[str, Any]:
    """What ``comparison.json`` holds: the case, the reference scenario, and each run's summary or error."""
    return {
        "case": case.settings.name,
        "reference": runs[0].name if runs else None,
        "scenarios": [
            {"scenario": r.name, "file": Path(r.file).name, "description": r.description, "status": r.status,
             **({"summary": r.summary} if r.summary is not None else {"error": r.error})}
            for r in runs
        ],
    }


def comparison_lines(runs: list[ScenarioRun]) -> list[str]:
    """A short table for the terminal: outcomes by level, and the change against the first scenario."""
    ref = runs[0].summary if runs and runs[0].solved else None
    width = max([len("scenario")] + [len(r.name) for r in runs])
    head = (f"  {'scenario':<{width}} {'today':>10} {'aligned':>10} {'pooled':>10} {'Δ pooled':>10} "
            f"{'unmet (pooled)':>15} {'idle (aligned)':>15}")
    lines = [f"Outcomes by scenario (Δ against '{runs[0].name}'):" if runs else "No scenarios.", head]
    for r in runs:
        s = r.summary
        if s is None:
            lines.append(f"  {r.name:<{width}} {r.status}: {r.error.splitlines()[0]}")
            continue
        L = s["levels"]
        d = None if ref is None else L["pooled"]["outcomes"] - ref["levels"]["pooled"]["outcomes"]
        delta = "" if d is None else ("0" if abs(d) < 0.5 else f"{d:+,.0f}")
        lines.append(f"  {r.name:<{width}} {L['baseline']['outcomes']:>10,.0f} {L['aligned']['outcomes']:>10,.0f} "
                     f"{L['pooled']['outcomes']:>10,.0f} {delta:>10} {L['pooled']['unmet_people']:>15,.0f} "
                     f"{'£' + format(L['aligned']['idle_amount'], ',.0f'):>15}")
    return lines
