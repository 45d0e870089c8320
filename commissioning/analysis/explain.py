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
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from commissioning.case import years as fy
from commissioning.analysis.flags import FLAG_COLUMNS, Flag, flags_frame
from commissioning.case.model import Case

from commissioning.analysis.asks import UNIT, UNMEASURED_COLUMNS
from optimiser.families.registry import REGISTRY, family
from optimiser.levels import LevelResult, RunResult
from optimiser.lp import MONEY_SCALE

BINDING_COLUMNS = ["level", "family", "pot_code", "area_code", "cohort_code", "year", "description", "words",
                   "dual", "shadow_price_per_million"]
CELL = ["area_code", "cohort_code", "year"]
IDLE_THRESHOLD = 1.0  # £: less than this left in a pot-year is rounding, not stranded money
GAP_PEOPLE = 0.01  # people: less than this unmet in a cell is penny rounding, not a gap


SHADOW_COLUMNS = ["level", "pot_code", "year", "budget", "spent", "per_million", "binding", "unit"]


@dataclass
class Explanation:
    flags: pd.DataFrame  # FLAG_COLUMNS, map stage then optimise stage
    asks: pd.DataFrame  # ASK_COLUMNS (see commissioning.analysis.asks)
    binding: pd.DataFrame  # BINDING_COLUMNS
    shadow_prices: pd.DataFrame  # SHADOW_COLUMNS: every pot-year budget, binding or not
    # Pool joins worth measuring but left out at this size (commissioning.analysis.asks.pool_join_limit).
    unmeasured: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMEASURED_COLUMNS))
    # Rule instances left out of a level, in words (optimiser.families.rules), per level.
    skipped_rules: dict[str, list[str]] = field(default_factory=dict)


def shadow_prices(case: Case, level: LevelResult) -> pd.DataFrame:
    """Every pot-year budget of a level with its shadow price per extra £1m (0 when slack)."""
    cons = level.constraints
    b = cons[cons["family"] == "pot_budget"]
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
def gap_flags(case: Case, level: LevelResult, holding: frozenset[int]) -> list[Flag]:
    """Unmet need at one level with its reason. ``holding``: the rules rows measured to hold
    the level back (:func:`rules_holding_back`)."""
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
        tight_rules = _rule_scopes(case, cons[(cons["family"] == "rule") & cons["tight"]], holding)
        tight_match = cons[(cons["family"] == "match") & cons["tight"]]
        match_keys = set(zip(tight_match["area_code"], tight_match["year"]))
        needs_match = {p.code for p in case.pots if p.match_rate > 0}
        left = _money_left(case, level)
        cell_pots = v.groupby(CELL, sort=False)["pot_code"].agg(lambda s: sorted(set(s))).rename("pots").reset_index()
        reached = reached.merge(cell_pots, on=CELL, how="left")
        cheapest = v.groupby(CELL, sort=False)["unit_cost"].min().rename("cheapest").reset_index()
        reached = reached.merge(cheapest, on=CELL, how="left")
        for r in reached.itertuples(index=False):
            rule_hit = _rule_covering(case, tight_rules, r.pots, r.area_code, r.cohort_code, r.year)
            # Match holds the cell back only where a pot needing it still has money to spend.
            short_of_match = sorted(p for p in needs_match & set(r.pots) if left.get((p, r.year), 0.0) >= IDLE_THRESHOLD)
            if rule_hit is not None:
                reason, detail = "rule", f"a rule holds it back: {rule_hit}"
            elif (r.area_code, r.year) in match_keys and short_of_match:
                pots = ", ".join(short_of_match)
                reason, detail = "match", (f"{pots} could fund it and {'has' if len(short_of_match) == 1 else 'have'} "
                                           f"money left, but the match funding in "
                                           f"{case.area[r.area_code].name} {r.year} is used up")
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


def _money_left(case: Case, level: LevelResult) -> dict[tuple[str, str], float]:
    """£ each pot could still spend in each year at this level: the unspent money of the
    budget years that may be spent then (slack of its ``pot_budget`` rows)."""
    cons = level.constraints
    b = cons[cons["family"] == "pot_budget"]
    out: dict[tuple[str, str], float] = {}
    for p, s, slack in zip(b["pot_code"], b["year"], (b["upper"] - b["activity"]).to_numpy() * MONEY_SCALE):
        if slack <= 0:
            continue
        for t in case.spend_years(p, s):
            out[(p, t)] = out.get((p, t), 0.0) + float(slack)
    return out


def rules_holding_back(case: Case, level: LevelResult, solver: str) -> frozenset[int]:
    """The ``rules`` rows (positions in ``case.rules``) whose removal raises the level's optimum.

    Only rows that could be named as a reason are tried — tight at the level, and either
    covering a gap cell the way :func:`gap_flags` reads a rule, or (a maximum) capping a pot
    with money left that year, as :func:`idle_flags` reads it — each by one warm re-solve of
    the level without it. A rule no flag could name is not measured: it would change nothing.
    """
    from optimiser.solve import solve

    cons = level.constraints
    if cons is None or level.solution is None:
        return frozenset()
    tight = cons[(cons["family"] == "rule") & cons["tight"]]
    if tight.empty:
        return frozenset()
    every = frozenset(int(i) for i in tight["rule_index"].dropna())
    worth = _rules_that_could_be_named(case, level, tight, every)
    base = level.solution.objective
    out = set()
    for i in sorted(worth):
        # The level's own LP with that rule's rows opened: the same rows and columns, so the
        # level's basis maps whole and nothing is built again.
        sol = solve(_without_rule(level.lp, i), solver=solver, lexicographic=False, warm=level.solution.warm)
        if sol.status == "optimal" and sol.objective - base > 1e-7 * max(1.0, abs(base)):
            out.add(i)
    return frozenset(out)


def _without_rule(lp, index: int):
    """``lp`` with every row of rules row ``index`` unbounded (a copy; ``lp`` is unchanged)."""
    blocks = []
    for b in lp.blocks:
        if b.family == "rule":
            off = (b.meaning["rule_index"] == index).to_numpy()
            b = replace(b, lower=np.where(off, -np.inf, b.lower), upper=np.where(off, np.inf, b.upper))
        blocks.append(b)
    return replace(lp, blocks=blocks)


def _rules_that_could_be_named(case: Case, level: LevelResult, tight: pd.DataFrame, every: frozenset[int]) -> set[int]:
    """The tight rules rows a gap or an idle flag of this level could name (see above)."""
    v = level.lp.variables
    v = v[v["kind"] == "alloc"]
    need = case.need_frame[case.need_frame["people"] > 0]
    served = level.allocations.groupby(CELL, sort=False)["participants"].sum().rename("served").reset_index()
    cells = need.merge(served, on=CELL, how="left")
    cells = cells[cells["people"] - cells["served"].fillna(0.0) >= GAP_PEOPLE][CELL]
    reach = v[CELL + ["pot_code"]].drop_duplicates().merge(cells, on=CELL, how="inner")
    gaps = reach.groupby(CELL, sort=False)["pot_code"].agg(list).rename("pots").reset_index()  # unmet cells some pot reaches
    left = _money_left(case, level)
    out = set()
    for r in tight.itertuples(index=False):
        if r.rule_index is None or pd.isna(r.rule_index):
            continue
        i = int(r.rule_index)
        scope = _rule_scopes(case, tight[tight["rule_index"] == r.rule_index], every)
        if any(_rule_covering(case, scope, g.pots, g.area_code, g.cohort_code, g.year) is not None
               for g in gaps[gaps["year"] == r.year].itertuples(index=False)):
            out.add(i)
        elif np.isfinite(r.upper) and r.pot_code in case.pot and left.get((r.pot_code, r.year), 0.0) >= IDLE_THRESHOLD:
            out.add(i)
    return out


def _rule_scopes(case: Case, tight: pd.DataFrame, holding: frozenset[int]) -> list[tuple]:
    """Each tight rule row that holds the level back, as (year, pot or None, cohort or None,
    areas or None, words). A minimum's scope is its pot's cells (it pulls money away)."""
    out = []
    for r in tight.itertuples(index=False):
        if r.rule_index is None or pd.isna(r.rule_index) or int(r.rule_index) not in holding:
            continue
        rule = case.rules[int(r.rule_index)]
        pot = None if r.pot_code in ("ALL", None) else r.pot_code
        if rule.rule.startswith("min"):
            out.append((r.year, pot, None, None, r.description))
            continue
        out.append((r.year, pot, None if rule.cohort_code == "ALL" else rule.cohort_code,
                    None if rule.area_code == "ALL" else frozenset(case.resolve_areas(rule.area_code)),
                    r.description))
    return out


def _rule_covering(case: Case, scopes: list[tuple], pots: list[str], area: str, cohort: str, year: str):
    """The words of a tight max-rule whose scope covers this cell and one of its pots."""
    for y, pot, coh, areas, words in scopes:
        if y == year and (pot is None or pot in pots) and (coh is None or coh == cohort) \
                and (areas is None or area in areas):
            return words
    return None


# ---- idle money --------------------------------------------------------------------------------
def idle_flags(case: Case, level: LevelResult, holding: frozenset[int]) -> list[Flag]:
    """Money left unspent per pot and budget year, with the rule that strands it. A rule is
    named only when it is among ``holding``, the rules rows measured to hold the level back
    (:func:`rules_holding_back`)."""
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
    tight = cons[cons["tight"]]
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
        elif pot.match_rate > 0 and any((a, t) in set(zip(tight[tight["family"] == "match"]["area_code"],
                                                            tight[tight["family"] == "match"]["year"]))
                                        for a, t in zip(mine["area_code"], mine["year"])):
            reason = "match"
            detail = f"{pot.name} needs £{pot.match_rate:.2f} of match per £1 and the match is used up"
        elif len(capping := tight[(tight["family"] == "rule") & (tight["pot_code"] == pot.code) &
                                  tight["year"].isin(window) & np.isfinite(tight["upper"]) &
                                  tight["rule_index"].isin(list(holding))]):
            reason = "rule"
            detail = f"a rule caps it: {capping['description'].iloc[0]}"
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
                pool_joins: int | None = None, workers=None) -> Explanation:
    """Flags, binding rows, shadow prices and (with ``asks``) the measured asks of a run.

    ``pool_joins`` caps the pool-join asks measured (default: all below
    :data:`commissioning.analysis.asks.LARGE_POOLED_MODEL` variables, none above). ``workers`` (see
    :mod:`commissioning.analysis.workers`) measures every other ask in a second process.
    """
    from commissioning.analysis.mapping import provision_map

    from commissioning.analysis.asks import ASK_COLUMNS, choose_candidates, measured_asks, unmeasured_frame

    case = run.case
    flags: list[Flag] = []
    pm = provision_map(case, baseline=run.levels["baseline"].allocations)
    map_flags = pm.flags_frame
    for name in ("aligned", "pooled"):
        lv = run.levels[name]
        holding = rules_holding_back(case, lv, run.solver)
        flags.extend(gap_flags(case, lv, holding))
        flags.extend(idle_flags(case, lv, holding))
    opt = flags_frame(flags)
    all_flags = pd.concat([map_flags, opt], ignore_index=True) if len(map_flags) else opt
    binding = pd.concat([binding_constraints(case, run.levels[n]) for n in ("aligned", "pooled")],
                        ignore_index=True)
    if asks:
        chosen, skipped = choose_candidates(run, max_measured, pool_joins)
        asks_frame = measured_asks(run, progress=progress, chosen=chosen, workers=workers)
        unmeasured = unmeasured_frame(run, skipped)
        if len(unmeasured) and progress:
            progress(f"{len(unmeasured)} pool-join ask(s) estimated, not measured: each re-solves the whole "
                     f"{run.levels['pooled'].lp.n:,}-variable pooled model (--pool-join-asks N to measure)")
    else:
        asks_frame, unmeasured = pd.DataFrame(columns=ASK_COLUMNS), unmeasured_frame(run, [])
    prices = pd.concat([shadow_prices(case, run.levels[n]) for n in ("aligned", "pooled")], ignore_index=True)
    skipped = {n: list(run.levels[n].lp.skipped_rules) for n in ("aligned", "pooled") if run.levels[n].lp.skipped_rules}
    return Explanation(all_flags.reindex(columns=FLAG_COLUMNS), asks_frame, binding, prices, unmeasured, skipped)
