"""Explaining an answer in commissioners' words: gaps, stranded money, binding rules.

Everything here reads the solved levels (allocations, the constraint registry with
activities and duals) and the case; nothing is solved again except by :mod:`commissioning.analysis.asks`.

**Unmet need** (``kind = gap``, ``stage = optimise``), one row per cell and level where
need exceeds participants:

* cells no variable reaches at that level: the map's reason (``no_eligible_pot`` or the
  single rule — ``geography``, ``cohort``, ``timing`` — that keeps the nearest pot out);
* cells some pot may fund: ``rule`` when a ``rules`` row really holds the cell back,
  else ``match`` when the area-year's match is used up *and* a match-needing pot that
  may fund the cell still has money it could spend that year, else ``funding`` (the
  eligible pots' money is exhausted or buys more elsewhere).

  A rule "really holds it back" when it is tight at that level, covers the cell (a
  maximum whose scope holds the cell and one of its pots; a minimum on one of its pots,
  which pulls that pot's money elsewhere), **and** removing it raises the level's optimum
  — measured by solving the level again without it (warm, from the level's basis), once
  per rules row. A rule that is merely tight at the vertex the solver happened to land on
  is not a reason; and a measured gain does not depend on the solver or its path, so two
  identical cells get the same reason with CBC and HiGHS, primal or dual simplex.
  Need left unmet by less than :data:`GAP_PEOPLE` is pennies of rounding, not a gap.

**Idle money** (``kind = idle``), one row per pot and budget year whose money is not all
spent (more than £1 left), with the rule that strands it: ``eligibility`` (the pot may
fund no cell with need in the years its money lasts), ``match`` (its match is used up),
``rule`` (a ``max_`` rule on it is tight), ``timing`` (the pot's end date cuts off years
its carried-forward money could otherwise be spent in, and the years left are fully
served), else ``need_met`` (every cell it may fund is already fully served).

**Binding constraints** are rows that are tight with a non-zero dual, put into words
("the ASF 2026-27 budget is exhausted"), with the shadow price: the gain in the objective
per extra £1m of a budget (or per extra person of need, per £1m of a rule's amount).

**Dropped cohorts and areas** (``kind = dropped``): those with no protection floor that a
level stops supporting (over half of today's participants gone over the term), each with
what keeping half of them would cost, measured by one more solve of the level
(:mod:`commissioning.analysis.dropped`).

**The price of realism**: what each realism rule the case sets costs each level, measured by
solving the level again with that rule alone lifted (:mod:`commissioning.analysis.realism`);
measured with the asks, and not above the pooled-model size at which pool joins are not
measured either (:data:`commissioning.analysis.asks.LARGE_POOLED_MODEL`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from commissioning.case import years as fy
from commissioning.analysis.flags import FLAG_COLUMNS, Flag, flags_frame
from commissioning.case.model import Case

from commissioning.analysis.asks import UNMEASURED_COLUMNS
from commissioning.analysis.dropped import Dropped, dropped_analysis, dropped_flags
from commissioning.analysis.package import Package
from commissioning.analysis.settlement import RuleCost, rule_costs, settlement_asks
from optimiser.objective import UNIT
from optimiser.families.base import CELL, GAP_PEOPLE, IDLE_THRESHOLD, Reasons
from optimiser.families.registry import REGISTRY, budget_families, family, money_left
from optimiser.levels import LevelResult, RunResult
from optimiser.lp import MONEY_SCALE

BINDING_COLUMNS = ["level", "family", "pot_code", "area_code", "cohort_code", "year", "description", "words",
                   "dual", "shadow_price_per_million"]


SHADOW_COLUMNS = ["level", "pot_code", "year", "budget", "spent", "per_million", "binding", "unit"]


@dataclass
class Explanation:
    """A run's explanation: flags (map and optimise stages), measured asks, binding rows and shadow prices."""

    flags: pd.DataFrame  # FLAG_COLUMNS, map stage then optimise stage
    asks: pd.DataFrame  # ASK_COLUMNS (see commissioning.analysis.asks)
    binding: pd.DataFrame  # BINDING_COLUMNS
    shadow_prices: pd.DataFrame  # SHADOW_COLUMNS: every pot-year budget, binding or not
    # Pool joins worth measuring but left out at this size (commissioning.analysis.asks.pool_join_limit).
    unmeasured: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMEASURED_COLUMNS))
    # Rule instances left out of a level, in words (optimiser.families.rules), per level.
    skipped_rules: dict[str, list[str]] = field(default_factory=dict)
    # Cohorts and areas a level stops supporting, with the measured cost of protecting each.
    dropped: list[Dropped] = field(default_factory=list)
    # What each realism rule costs each level (REALISM_COLUMNS rows, commissioning.analysis.realism),
    # and, when that was not measured, why.
    realism: list[dict] = field(default_factory=list)
    realism_not_measured: str = ""
    # The asks chosen one at a time, each measured given those before (commissioning.analysis.package).
    package: Package | None = None
    # What each integrated-settlement rule costs, measured (commissioning.analysis.settlement); [] without one.
    settlement: list[RuleCost] = field(default_factory=list)


def holding_back(case: Case, level: LevelResult, solver: str) -> dict[str, frozenset]:
    """Per family that measures it, the rows whose removal raises the level's optimum."""
    return {f.name: f.holding(case, level, solver) for f in REGISTRY if f.holding}


def shadow_prices(case: Case, level: LevelResult) -> pd.DataFrame:
    """Every pot-year budget of a level with its shadow price per extra £1m (0 when slack)."""
    cons = level.constraints
    b = cons[cons["family"].isin(budget_families())]
    unit = UNIT[case.settings.objective]
    return pd.DataFrame({
        "level": level.level,
        "pot_code": b["pot_code"].to_numpy(),
        "year": b["year"].to_numpy(),
        "budget": b["upper"].to_numpy() * MONEY_SCALE,
        "spent": b["activity"].to_numpy() * MONEY_SCALE,
        "per_million": b["dual"].to_numpy() * MONEY_SCALE,
        "binding": b["binding"].to_numpy(),
        "unit": f"{unit} per extra £1m",
    }, columns=SHADOW_COLUMNS)


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _people(x: float) -> str:
    return f"{x:,.0f}"


# ---- unmet need ---------------------------------------------------------------------------------
def gap_flags(case: Case, level: LevelResult, holding: dict[str, frozenset]) -> list[Flag]:
    """Unmet need at one level with its reason: each family's reason in its rank order
    (a rule, then match funding), else the pots' money. ``holding``: per family, the rows
    measured to hold the level back (:func:`holding_back`)."""
    from commissioning.analysis.mapping import unreachable_gap_flags, CaseOrder

    alloc = level.allocations
    need = case.need_frame[case.need_frame["people"] > 0]
    served = alloc.groupby(CELL, sort=False)["participants"].sum().rename("served").reset_index()
    cells = need.merge(served, on=CELL, how="left")
    cells["served"] = cells["served"].fillna(0.0)
    cells["unmet"] = cells["people"] - cells["served"]
    cells = cells[cells["unmet"] >= GAP_PEOPLE]
    if cells.empty:
        return []
    v = level.lp.variables
    v = v[v["kind"] == "alloc"]
    reach = v[CELL].drop_duplicates()
    cells = cells.merge(reach.assign(reached=True), on=CELL, how="left")
    cells["reached"] = cells["reached"].fillna(False).astype(bool)

    flags: list[Flag] = []
    unreached = cells[~cells["reached"]].rename(columns={"people": "need"})
    if len(unreached):
        for f in unreachable_gap_flags(case, CaseOrder(case), unreached.rename(columns={"unmet": "people"})[CELL + ["people"]]):
            flags.append(replace(f, stage="optimise", level=level.level))

    reached = cells[cells["reached"]]
    if len(reached):
        cons = level.constraints
        reasons = Reasons(case, level, cons[cons["tight"]], holding, money_left(case, level))
        hooks = [f.gap_reason(reasons) for f in sorted((f for f in REGISTRY if f.gap_reason),
                                                          key=lambda f: f.reason_rank)]
        cell_pots = v.groupby(CELL, sort=False)["pot_code"].agg(lambda s: sorted(set(s))).rename("pots").reset_index()
        reached = reached.merge(cell_pots, on=CELL, how="left")
        cheapest = v.groupby(CELL, sort=False)["unit_cost"].min().rename("cheapest").reset_index()
        reached = reached.merge(cheapest, on=CELL, how="left")
        for r in reached.itertuples(index=False):
            for hook in hooks:
                if (hit := hook(r)) is not None:
                    reason, detail = hit
                    break
            else:
                reason, detail = "funding", (f"the eligible pots ({', '.join(r.pots)}) are spent or buy more "
                                             "elsewhere")
            amount = float(r.unmet * r.cheapest)
            flags.append(Flag(stage="optimise", level=level.level, kind="gap", reason=reason,
                              area_code=r.area_code, cohort_code=r.cohort_code, year=r.year,
                              people=float(r.unmet), amount=amount,
                              detail=f"{_people(r.unmet)} of {_people(r.people)} people unmet: {detail}; "
                                     f"closing it would cost {_money(amount)} at the cheapest eligible rate"))
    return flags


# ---- idle money --------------------------------------------------------------------------------
def idle_flags(case: Case, level: LevelResult, holding: dict[str, frozenset]) -> list[Flag]:
    """Money left unspent per pot and budget year, with what strands it: no cell to fund,
    then each family's reason in its rank order (match funding, then a rule, named only when
    among ``holding``, see :func:`holding_back`), then the pot's end date, else need met."""
    lp, sol = level.lp, level.solution
    v = lp.variables
    x = sol.x * MONEY_SCALE
    spent: dict[tuple[str, str], float] = {}
    alloc = level.allocations
    by_pot_year = alloc.groupby(["pot_code", "year"])["amount"].sum().to_dict()
    # Money of each budget year that was used: flows for carry-forward pots, spend otherwise.
    flow = v["kind"] == "flow"
    for (p, s), amount in pd.Series(x[flow.to_numpy()], index=pd.MultiIndex.from_frame(
            v.loc[flow, ["pot_code", "budget_year"]])).groupby(level=[0, 1]).sum().items():
        spent[(p, s)] = amount
    cons = level.constraints
    reasons = Reasons(case, level, cons[cons["tight"]], holding, money_left(case, level))
    hooks = [f.idle_reason(reasons) for f in sorted((f for f in REGISTRY if f.idle_reason), key=lambda f: f.idle_rank)]
    flags: list[Flag] = []
    for b in case.budgets:
        if b.amount <= 0:
            continue
        pot = case.pot[b.pot_code]
        used = spent.get((b.pot_code, b.year)) if pot.carry_forward > 0 else by_pot_year.get((b.pot_code, b.year), 0.0)
        used = used or 0.0
        left = b.amount - used
        if left < IDLE_THRESHOLD:
            continue
        window = set(case.spend_years(pot.code, b.year))
        mine = v[(v["kind"] == "alloc") & (v["pot_code"] == pot.code) & v["year"].isin(window)]
        if mine.empty:
            reason = "eligibility"
            detail = (f"{pot.name} may fund no cell with need in {', '.join(sorted(window)) or 'its life'} "
                      "(its geography, cohorts and dates reach none)")
        elif (hit := next((h for h in (hook(pot, b, window, mine) for hook in hooks) if h is not None), None)):
            reason, detail = hit
        elif _cut_by_end(case, pot, b.year):
            reason = "timing"
            detail = (f"{pot.name} ends on {pot.end:%-d %B %Y}, which cuts off "
                      f"{pot.carry_forward + 1 - len(window)} of the {pot.carry_forward} year(s) its "
                      f"{b.year} money could otherwise be carried into; the years left are fully served")
        else:
            reason = "need_met"
            detail = (f"every cell {pot.name} may fund in {', '.join(sorted(window))} is already fully served; "
                      "it needs a wider cohort, area or time limit to be used")
        flags.append(Flag(stage="optimise", level=level.level, kind="idle", reason=reason, pot_code=pot.code,
                          year=b.year, amount=float(left),
                          detail=f"{_money(left)} of {pot.code}'s {b.year} money is left unspent: {detail}"))
    return flags


def _cut_by_end(case: Case, pot, budget_year: str) -> bool:
    """Whether the pot's end date shortens the years ``budget_year``'s money may be spent in."""
    later = [fy.shift(budget_year, k) for k in range(1, pot.carry_forward + 1)]
    return any(fy.year_start(t) > pot.end for t in later)


# ---- binding constraints --------------------------------------------------------------------------
def binding_constraints(case: Case, level: LevelResult) -> pd.DataFrame:
    """The rows binding at a level, in words, with their shadow prices in each family's reporting unit."""
    cons = level.constraints
    reported = [f.name for f in REGISTRY if f.reported]
    b = cons[cons["binding"] & cons["family"].isin(reported)].copy()
    if b.empty:
        return pd.DataFrame(columns=BINDING_COLUMNS)
    words, per_million = [], []
    unit = UNIT[case.settings.objective]
    for r in b.itertuples(index=False):
        fam = family(r.family)
        words.append(fam.words_for(case, r))
        per_million.append(float(r.dual) * fam.shadow_scale)  # per £k → per £1m, or per person, as the family says
    b["words"] = words
    b["shadow_price_per_million"] = per_million
    b["level"] = level.level
    b["unit"] = unit
    return b.reindex(columns=BINDING_COLUMNS + ["unit"]).reset_index(drop=True)


# ---- everything --------------------------------------------------------------------------------
def explain_run(run: RunResult, asks: bool = True, max_measured: int = 12, progress=None,
                pool_joins: int | None = None, workers=None, measure_dropped: bool | None = None,
                measure_realism: bool | None = None, runner=None, ahead=None) -> Explanation:
    """Flags, binding rows, shadow prices, dropped cohorts and areas and (with ``asks``) the
    measured asks of a run.

    ``pool_joins`` caps the pool-join asks measured (default: all below
    :data:`commissioning.analysis.asks.LARGE_POOLED_MODEL` variables, none above). ``workers`` (see
    :mod:`commissioning.analysis.workers`) measures every other ask in a second process; a
    ``runner`` on a Dask cluster (:mod:`commissioning.analysis.cluster`) measures each ask as a task
    there instead, and then every pool-join ask among them, whatever the model's size.
    ``measure_dropped`` (default: as ``asks``) measures what protecting each dropped cohort or
    area would cost, one re-solve each, shared with the ``workers`` or the ``runner``'s cluster as
    the asks are (those of the aligned level begun ``ahead`` while the levels above it were solved,
    :class:`commissioning.analysis.dropped.AlignedAhead`, gathered); without it they are flagged,
    their cost not measured.
    ``measure_realism`` (default: as ``asks``) measures the price of each realism rule, one
    re-solve per rule and level, unless the pooled model is above ``LARGE_POOLED_MODEL``
    variables (then ``realism_not_measured`` says so).
    """
    from commissioning.analysis.mapping import provision_map
    from commissioning.analysis.asks import ASK_COLUMNS, choose_candidates, measure_asks, unmeasured_frame
    from commissioning.analysis.package import build_package

    case = run.case
    flags: list[Flag] = []
    pm = provision_map(case, baseline=run.levels["baseline"].allocations)
    map_flags = pm.flags_frame
    dropped = dropped_analysis(run, progress=progress, measured=asks if measure_dropped is None else measure_dropped,
                               workers=workers, runner=runner, ahead=ahead)
    for name in run.solved_levels:
        lv = run.levels[name]
        holding = holding_back(case, lv, run.solver)
        flags.extend(gap_flags(case, lv, holding))
        flags.extend(idle_flags(case, lv, holding))
        flags.extend(dropped_flags(dropped, name))
    opt = flags_frame(flags)
    all_flags = pd.concat([map_flags, opt], ignore_index=True) if len(map_flags) else opt
    binding = pd.concat([binding_constraints(case, run.levels[n]) for n in run.solved_levels],
                        ignore_index=True)
    if asks:
        on_cluster = runner is not None and getattr(runner, "address", None) is not None
        chosen, skipped = choose_candidates(run, max_measured, pool_joins, cluster=on_cluster)
        asks_frame, cands = measure_asks(run, progress=progress, chosen=chosen, workers=workers, runner=runner)
        package = build_package(run, asks_frame, cands, progress=progress)
        unmeasured = unmeasured_frame(run, skipped)
        if len(unmeasured) and progress:
            progress(f"{len(unmeasured)} pool-join ask(s) estimated, not measured: each re-solves the whole "
                     f"{run.levels['pooled'].lp.n:,}-variable pooled model (--pool-join-asks N to measure)")
    else:
        asks_frame, unmeasured = pd.DataFrame(columns=ASK_COLUMNS), unmeasured_frame(run, [])
        package = None
    prices = pd.concat([shadow_prices(case, run.levels[n]) for n in run.solved_levels], ignore_index=True)
    skipped = {n: list(run.levels[n].lp.skipped_rules) for n in run.solved_levels if run.levels[n].lp.skipped_rules}
    realism, realism_not_measured = _realism(run, asks if measure_realism is None else measure_realism, progress,
                                             workers)
    settlement = rule_costs(run) if asks else []
    extra = settlement_asks(run, settlement, len(asks_frame) + 1)
    if extra:
        asks_frame = pd.concat([asks_frame, pd.DataFrame(extra).reindex(columns=asks_frame.columns)],
                               ignore_index=True)
    return Explanation(all_flags.reindex(columns=FLAG_COLUMNS), asks_frame, binding, prices, unmeasured, skipped,
                       dropped, realism, realism_not_measured, package, settlement)


def _realism(run: RunResult, measured: bool, progress=None, workers=None) -> tuple[list[dict], str]:
    """The price of realism's rows, or none and why (not asked for, or the pooled model too large)."""
    from commissioning.analysis import asks as asks_module  # read at call time (tests lower the limit)
    from commissioning.analysis.realism import price_of_realism

    if not measured:
        return [], "not asked for in this run"
    n = run.levels["pooled"].lp.n
    if n > asks_module.LARGE_POOLED_MODEL:
        why = (f"the pooled model has {n:,} variables (above {asks_module.LARGE_POOLED_MODEL:,}): each rule "
               "lifted would be one more solve of that size")
        if progress:
            progress(f"the price of realism not measured: {why}")
        return [], why
    # A cost below rounding (a hundredth of an outcome or person, £1 of value) is the solver's noise: 0.
    zero = asks_module.ROUNDING[asks_module.GAIN_OF[run.objective]]
    rows = price_of_realism(run, progress=progress, workers=workers)
    return [{**r, "cost": 0.0, "cost_share": 0.0} if abs(r["cost"]) < zero else r for r in rows], ""
