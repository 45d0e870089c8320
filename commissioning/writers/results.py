"""Writing an optimisation run: ``allocations.csv``, ``summary.json``, ``results.xlsx``.

Writers lay out result objects; they compute nothing new. The summary is the contract's
(``outputs.md``): ``scenario``, ``status``, ``objective``, ``budget``, ``need_people``,
``levels`` (each with ``allocated``, ``participants``, ``outcomes``, ``value``,
``unmet_people``, ``idle_amount``) and ``dividends`` (``alignment`` = aligned − baseline,
``devolution`` = pooled − aligned). More keys follow them, among them
``pool_not_poolable`` (the pots a scenario pools although marked ``poolable = no``),
``scenario_applied`` and ``rules_changed`` (:func:`commissioning.inputs.scenario.changes_rules`),
which the labels of ``explain`` and ``compare`` read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimiser.levels import LEVELS, METRICS, RunResult
from optimiser.objective import unique_plan

from commissioning.writers.files import write_frame_csv, write_json
from commissioning.inputs.scenario import pool_not_poolable

# CSVs longer than this are written by the asks' worker process, when there is one, while
# this process writes the workbook (below it, sending the frame costs more than it saves).
AWAY_ABOVE_ROWS = 1000
ALLOCATION_CSV_COLUMNS = ["scenario", "level", "pot_code", "area_code", "cohort_code", "year", "amount",
                          "participants", "outcomes", "value", "programme", "unit_cost", "outcome_rate"]


def summary_dict(run: RunResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    case = run.case
    aligned = run.levels["aligned"].solution
    out: dict[str, Any] = {
        "scenario": run.scenario,
        "status": run.status,
        "objective": run.objective,
        "budget": case.total_budget,
        "need_people": case.total_need,
        "levels": {name: {k: run.levels[name].totals[k] for k in METRICS} for name in LEVELS},
        "dividends": run.dividends(),
        "proven_optimal": run.status == "optimal",
        "solver": run.solver,
        "solver_choice": run.solver_reason or run.solver,
        "pool": [p for p in case.pot if p in run.pool],
        "pool_not_poolable": pool_not_poolable(case),
        "scenario_applied": case.scenario is not None,
        "rules_changed": case.rules_changed,
        "case": {"name": case.settings.name, "fingerprint": case.fingerprint(),
                 "years": list(case.years), "areas": len(case.areas), "cohorts": len(case.cohorts),
                 "pots": len(case.pots), "provision_supplied": case.provision is not None},
        "model": {name: run.levels[name].lp.size for name in ("aligned", "pooled")},
        # One plan whatever the solver (optimiser.objective: the fixed preference), or, above
        # its size, the solver's own choice among equally good plans.
        "unique_plan": all(unique_plan(run.levels[name].lp.n) for name in ("aligned", "pooled")),
    }
    if aligned is not None and not aligned.proven_optimal:
        out["note"] = "the solver stopped at its time limit: figures are the best found, not proven optimal"
    if extra:
        out.update(extra)
    return out


def explanation_summary(explanation) -> dict[str, Any]:
    """The binding constraints and shadow prices, for summary.json."""
    b = explanation.binding
    binding = [
        {"level": r.level, "family": r.family, "words": r.words, "pot_code": _none(r.pot_code),
         "area_code": _none(r.area_code), "cohort_code": _none(r.cohort_code), "year": _none(r.year),
         "shadow_price": float(r.shadow_price_per_million),
         "shadow_price_unit": _price_unit(r.family, r.unit)}
        for r in b.itertuples(index=False)
    ]
    shadow = [
        {"level": r.level, "pot_code": r.pot_code, "year": r.year, "per_million": float(r.per_million),
         "binding": bool(r.binding), "unit": r.unit}
        for r in explanation.shadow_prices.itertuples(index=False)
    ]
    unmeasured = getattr(explanation, "unmeasured", None)
    out = {"binding": binding, "shadow_prices": shadow}
    # Rules today's provision breaks (map-stage breach flags): the alignment dividend includes
    # the cost of honouring them, and the summary says so.
    flags = explanation.flags
    broken = flags[(flags["stage"] == "map") & (flags["kind"] == "breach")]
    out["rules_broken_today"] = [{"pot_code": _none(r.pot_code), "year": _none(r.year), "amount": float(r.amount),
                                  "detail": r.detail} for r in broken.itertuples(index=False)]
    out["rules_skipped"] = dict(getattr(explanation, "skipped_rules", {}) or {})
    if unmeasured is not None and len(unmeasured):
        # Estimates, never mixed into asks.csv (whose gains are all measured).
        out["asks_not_measured"] = [
            {"pot_code": r.pot_code, "change": r.change, "estimated_gain": float(r.estimated_gain), "detail": r.detail}
            for r in unmeasured.itertuples(index=False)]
    return out


def _price_unit(family: str, unit: str) -> str:
    if family == "need_cap":
        return f"{unit} per extra person of need"
    if family in ("pot_budget", "carry_forward", "rule"):
        return f"{unit} per extra £1m"
    return f"{unit} per unit"


def _none(v):
    return None if v is None or (isinstance(v, float) and v != v) else v


def write_run_outputs(run: RunResult, folder: Path, extra_summary: dict[str, Any] | None = None,
                      explanation=None, progress=None, workers=None) -> None:
    """Write every output of a run into ``folder``.

    With ``workers`` (the asks' worker process, :mod:`commissioning.analysis.workers`), the two large
    CSVs are written there while this process writes the workbook: the same function on the
    same frames, so the same bytes. A worker that fails is said on standard error and its
    files are written here.
    """
    say = progress or (lambda _: None)
    # Every row carries the run's status, so a figure copied out of a run stopped by its time
    # limit still says it is the best found, not proven optimal.
    status = run.status
    csvs = [(folder / "allocations.csv", run.allocations_frame().assign(status=status),
             ALLOCATION_CSV_COLUMNS + ["status"])]
    extra = dict(extra_summary or {})
    if explanation is not None:
        from commissioning.analysis.asks import ASK_COLUMNS

        from commissioning.analysis.flags import FLAG_COLUMNS

        csvs.append((folder / "flags.csv", explanation.flags.assign(status=status), FLAG_COLUMNS + ["status"]))
        csvs.append((folder / "asks.csv", explanation.asks.assign(status=status), ASK_COLUMNS + ["status"]))
        extra.update(explanation_summary(explanation))
    away = []
    for job in csvs:
        if getattr(workers, "extra", 0) and len(job[1]) > AWAY_ABOVE_ROWS:
            try:
                away.append((job, workers.submit(write_frame_csv, *job)))
                continue
            except Exception as e:  # the worker is gone: write it here
                away.append((job, e))
                continue
        write_frame_csv(*job)
    write_json(folder / "summary.json", summary_dict(run, extra))
    say("writing the results workbook")
    from commissioning.writers.resultsbook import write_results_workbook

    write_results_workbook(run, folder / "results.xlsx", explanation=explanation)
    for job, pending in away:
        try:
            if isinstance(pending, Exception):
                raise pending
            pending.result()
        except Exception as e:
            import sys

            print(f"commissioning: the second process could not write {job[0].name} ({type(e).__name__}: {e}); "
                  "writing it here instead", file=sys.stderr)
            write_frame_csv(*job)
