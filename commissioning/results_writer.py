"""Writing an optimisation run: ``allocations.csv``, ``summary.json``, ``results.xlsx``.

Writers lay out result objects; they compute nothing new. The summary is the contract's
(``outputs.md``): ``scenario``, ``status``, ``objective``, ``budget``, ``need_people``,
``levels`` (each with ``allocated``, ``participants``, ``outcomes``, ``value``,
``unmet_people``, ``idle_amount``) and ``dividends`` (``alignment`` = aligned − baseline,
``devolution`` = pooled − aligned). More keys follow them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimiser.levels import LEVELS, METRICS, RunResult

from .outputs import write_frame_csv, write_json

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
        "pool": [p for p in case.pot if p in run.pool],
        "case": {"name": case.settings.name, "fingerprint": case.fingerprint(),
                 "years": list(case.years), "areas": len(case.areas), "cohorts": len(case.cohorts),
                 "pots": len(case.pots), "provision_supplied": case.provision is not None},
        "model": {name: run.levels[name].lp.size for name in ("aligned", "pooled")},
    }
    if aligned is not None and not aligned.proven_optimal:
        out["note"] = "the solver stopped at its time limit: figures are the best found, not proven optimal"
    if extra:
        out.update(extra)
    return out


def write_run_outputs(run: RunResult, folder: Path, extra_summary: dict[str, Any] | None = None) -> None:
    write_frame_csv(folder / "allocations.csv", run.allocations_frame(), ALLOCATION_CSV_COLUMNS)
    write_json(folder / "summary.json", summary_dict(run, extra_summary))
    try:
        from .resultsbook import write_results_workbook
    except ImportError:  # pragma: no cover - the workbook writer is optional while it is built
        return
    write_results_workbook(run, folder / "results.xlsx")
