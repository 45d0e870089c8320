"""``summary.json``: a run's figures, settings and explanation as one record.

The contract's keys (``outputs.md``): ``scenario``, ``status``, ``objective``, ``budget``,
``need_people``, ``levels`` (each with ``allocated``, ``participants``, ``outcomes``,
``value``, ``unmet_people``, ``idle_amount``) and ``dividends`` (``alignment`` = aligned −
baseline, ``devolution`` = pooled − aligned). More keys follow them, among them
``pool_not_poolable`` (the pots a scenario pools although marked ``poolable = no``),
``scenario_applied`` and ``rules_changed`` (:func:`commissioning.inputs.scenario.changes_rules`),
which the labels of ``explain`` and ``compare`` read. Written by
:mod:`commissioning.writers.results`, read by ``compare``, ``explain`` and ``agree``.

The record is a typed model, :class:`Summary`: :func:`summary_record` builds it from a
run (and the explanation's keys from :func:`explanation_summary`), ``Summary.to_json()``
gives the dict ``summary.json`` holds, in the contract's key order, and
:func:`read_summary` reads a file back into the model, so every reader sees the same
fields with the same types. Keys a newer engine adds are kept (``extra="allow"``); keys an
older one did not write take their defaults.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from optimiser.families.registry import family
from optimiser.levels import METRICS, RunResult
from optimiser.objective import unique_plan

from commissioning.analysis.record import record_of_run
from commissioning.analysis.transition import contracts_by_year
from commissioning.inputs.scenario import pool_not_poolable


class LevelFigures(BaseModel):
    """One level's totals: £ allocated, participants, outcomes, £ of value, people unmet, £ idle."""

    allocated: float
    participants: float
    outcomes: float
    value: float
    unmet_people: float
    idle_amount: float


class MixedInteger(BaseModel):
    """A level solved as a mixed-integer programme (``min_award``): the LP relaxation's optimum
    (the bound kept), the plan's gap below it, the solver's own proven gap and the method."""

    lp_bound: float
    mip_gap: float
    solver_gap: float | None = None
    method: str = ""


class CaseFacts(BaseModel):
    """Which case produced the run: its name, the inputs' fingerprint, years and sizes."""

    name: str = ""
    fingerprint: str | None = None
    years: list[str] = []
    areas: int = 0
    cohorts: int = 0
    pots: int = 0
    provision_supplied: bool = False


class ContractYear(BaseModel):
    """One year's money: ``contracted`` £ (kept where it is by signed contracts) and ``free`` £ (the
    year's budgets − contracted), :func:`commissioning.analysis.transition.contracts_by_year`."""

    contracted: float = 0.0
    free: float = 0.0


class BindingRecord(BaseModel):
    """A constraint row binding at a level, in words, with its shadow price and that price's unit."""

    level: str
    family: str
    words: str
    pot_code: str | None = None
    area_code: str | None = None
    cohort_code: str | None = None
    year: str | None = None
    shadow_price: float = 0.0
    shadow_price_unit: str = ""


class ShadowPrice(BaseModel):
    """A pot-year budget's shadow price: the objective bought per extra £1m (0 when slack)."""

    level: str
    pot_code: str
    year: str
    per_million: float
    binding: bool
    unit: str


class BrokenRule(BaseModel):
    """A rule instance today's provision breaks (a map-stage breach flag)."""

    pot_code: str | None = None
    year: str | None = None
    amount: float = 0.0
    detail: str = ""


class UnmeasuredAsk(BaseModel):
    """A pool-join ask estimated from shadow prices only, not measured at this size."""

    pot_code: str | None = None
    change: str = ""
    estimated_gain: float = 0.0
    detail: str = ""


class PackageRecord(BaseModel):
    """The asks' package (:mod:`commissioning.analysis.package`): its steps, each measured given
    the steps before, the total measured by one solve, and the overlaps."""

    measured_against: str = "aligned"
    share: float = 0.05
    steps: list[dict[str, Any]] = []
    total: dict[str, float] = {}
    sum_of_gains_alone: float = 0.0
    overlaps: list[dict[str, Any]] = []
    stopped: str = ""
    left_out: str | None = None
    solves: int = 0


class DroppedRecord(BaseModel):
    """A cohort or area with no protection floor that a level stops supporting (over half of
    today's participants gone over the term), with the measured cost of keeping half of them
    (:mod:`commissioning.analysis.dropped`)."""

    level: str
    kind: str  # cohort | area
    code: str
    name: str = ""
    today: float = 0.0  # participants over the term, today
    plan: float = 0.0  # at the level
    status: str = ""  # measured | infeasible | not_measured
    cost: float | None = None  # the objective lost by the floor, in its measure
    cost_outcomes: float | None = None
    people_kept: float | None = None
    words: str = ""


class RealismRecord(BaseModel):
    """What one realism rule costs one level, measured by solving it again without the rule
    (:mod:`commissioning.analysis.realism`, its ``REALISM_COLUMNS``); ``None`` where the level
    could not be solved without it."""

    rule: str
    level: str
    objective_with: float | None = None  # the objective's measure
    objective_without: float | None = None
    cost: float | None = None  # objective_without − objective_with
    cost_share: float | None = None  # cost ÷ objective_without
    note: str = ""


class Summary(BaseModel):
    """``summary.json`` (see the module docstring); fields in the order the file lists them."""

    model_config = ConfigDict(extra="allow")

    scenario: str | None = None
    status: str = ""
    objective: str = "outcomes"
    budget: float = 0.0
    need_people: float = 0.0
    levels: dict[str, LevelFigures] = {}
    dividends: dict[str, dict[str, float]] = {}
    proven_optimal: bool = False
    solver: str = ""
    solver_choice: str = ""
    pool: list[str] = []
    pool_not_poolable: list[str] = []
    scenario_applied: bool = False
    rules_changed: bool = False
    case: CaseFacts = CaseFacts()
    contracts: dict[str, ContractYear] = {}  # per year: contracted and free money
    model: dict[str, dict[str, int]] = {}
    unique_plan: bool | None = None
    mixed_integer: dict[str, MixedInteger] = {}  # per level solved as a MIP (min_award); empty: none
    note: str | None = None  # only when the solver stopped at its time limit
    binding: list[BindingRecord] = []
    shadow_prices: list[ShadowPrice] = []
    rules_broken_today: list[BrokenRule] = []
    rules_skipped: dict[str, list[str]] = {}
    asks_not_measured: list[UnmeasuredAsk] = []
    package: PackageRecord | None = None  # the asks chosen one at a time (only when asks were measured)
    dropped: list[DroppedRecord] = []  # cohorts and areas a level stops supporting
    realism: list[RealismRecord] = []  # what each realism rule costs each level
    realism_not_measured: str | None = None  # only when it was not measured: why
    objective_why: str | None = None  # only when the objective was the default chosen for a valued case
    settlement: dict[str, Any] | None = None  # the integrated settlement (commissioning.analysis.settlement)
    settlement_rules: list[dict[str, Any]] = []  # what each settlement rule costs, measured (with asks)
    value: dict[str, Any] | None = None  # the Green Book's figures (commissioning.analysis.value), valued cases
    run_record: dict[str, Any] | None = None  # what produced the run (commissioning.analysis.record)

    def to_json(self) -> dict[str, Any]:
        """The dict ``summary.json`` holds: the keys that were set, in the contract's order."""
        return self.model_dump(exclude_unset=True)


def read_summary(data: Any) -> Summary | None:
    """``summary.json``'s contents as a :class:`Summary`, or None when they are not a run's summary."""
    if not isinstance(data, dict):
        return None
    try:
        return Summary.model_validate(data)
    except ValidationError:
        return None


def summary_record(run: RunResult, extra: dict[str, Any] | None = None) -> Summary:
    """The typed ``summary.json`` record of a run (:func:`summary_dict` gives it as the file's dict)."""
    return Summary(**summary_dict(run, extra))


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
        "levels": {name: {k: run.levels[name].totals[k] for k in METRICS} for name in run.level_names},
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
        "contracts": contracts_by_year(case),
        "model": {name: run.levels[name].lp.size for name in run.solved_levels},
        # One plan whatever the solver (optimiser.objective: the fixed preference), or, above
        # its size, the solver's own choice among equally good plans.
        "unique_plan": all(unique_plan(run.levels[name].lp.n) for name in run.solved_levels),
        "mixed_integer": {name: {"lp_bound": sol.lp_bound, "mip_gap": sol.mip_gap, "solver_gap": sol.solver_gap,
                                 "method": sol.mip_method}
                          for name in run.solved_levels
                          if (sol := run.levels[name].solution) is not None and sol.lp_bound is not None},
    }
    if run.objective_why:
        out["objective_why"] = run.objective_why
    if "settlement" in run.levels:
        from commissioning.analysis.settlement import settlement_record

        out["settlement"] = settlement_record(run)
    if case.valuation.valued:
        from commissioning.analysis.value import run_value_frame, value_record

        out["value"] = value_record(case, run_value_frame(run))
    if aligned is not None and not aligned.proven_optimal:
        out["note"] = "the solver stopped at its time limit: figures are the best found, not proven optimal"
    if extra:
        out.update(extra)
    out["run_record"] = record_of_run(run)
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
    if getattr(explanation, "package", None) is not None:
        out["package"] = explanation.package.as_json()
    out["dropped"] = [d.record() for d in getattr(explanation, "dropped", None) or []]
    out["realism"] = [{k: _none(v) for k, v in r.items()} for r in getattr(explanation, "realism", None) or []]
    costs = getattr(explanation, "settlement", None)
    if costs:
        out["settlement_rules"] = [c.record() for c in costs]
    if getattr(explanation, "realism_not_measured", ""):
        out["realism_not_measured"] = explanation.realism_not_measured
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
