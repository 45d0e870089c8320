"""``summary.json``: a run's figures, settings and explanation as one record.

The contract's keys (``outputs.md``): ``scenario``, ``status``, ``objective``, ``budget``,
``need_people``, ``levels`` (each with ``allocated``, ``participants``, ``outcomes``,
``value``, ``unmet_people``, ``idle_amount``) and ``dividends`` (``alignment`` = aligned −
baseline, ``devolution`` = pooled − aligned). More keys follow them, among them
``pool_not_poolable`` (the pots a scenario pools although marked ``poolable = no``),
``scenario_applied`` and ``rules_changed`` (:func:`commissioning.inputs.scenario.changes_rules`),
which the labels of ``explain`` and ``compare`` read. Written by
:mod:`commissioning.writers.results`, read by ``compare``, ``explain`` and ``agree``.
"""

from __future__ import annotations

from typing import Any

from optimiser.families.registry import family
from optimiser.levels import LEVELS, METRICS, RunResult
from optimiser.objective import unique_plan

from commissioning.inputs.scenario import pool_not_poolable


def summary_dict(run: RunResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``summary.json`` record of a run: the contract's keys (budget in £, need in people,
    each level's totals, the dividends), then the solver, pool, case and model facts, a note
    when the solver stopped at its time limit, and last the ``extra`` keys (which win)."""
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


def _price_unit(name: str, unit: str) -> str:
    return f"{unit} {family(name).shadow_unit}"


def _none(v):
    return None if v is None or (isinstance(v, float) and v != v) else v
