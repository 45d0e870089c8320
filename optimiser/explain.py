"""Explaining an answer in commissioners' words: gaps, stranded money, binding rules.

Everything here reads the solved levels (allocations, the constraint registry with
activities and duals) and the case; nothing is solved again except by :mod:`optimiser.asks`.

**Unmet need** (``kind = gap``, ``stage = optimise``), one row per cell and level where
need exceeds participants:

* cells no variable reaches at that level: the map's reason (``no_eligible_pot`` or the
  single rule — ``geography``, ``cohort``, ``timing`` — that keeps the nearest pot out);
* cells some pot may fund: ``rule`` when a ``rules`` row that covers the cell is tight,
  else ``match`` when a match-needing pot could fund it and the area-year's match is
  used up, else ``funding`` (the eligible pots' money is exhausted or buys more elsewhere).

**Idle money** (``kind = idle``), one row per pot and budget year whose money is not all
spent (more than £1 left), with the rule that strands it: ``eligibility`` (the pot may
fund no cell with need in the years its money lasts), ``match`` (its match is used up),
``rule`` (a ``max_`` rule on it is tight), else ``need_met`` (every cell it may fund is
already fully served).

**Binding constraints** are rows that are tight with a non-zero dual, put into words
("the ASF 2026-27 budget is exhausted"), with the shadow price: the gain in the objective
per extra £1m of a budget (or per extra person of need, per £1m of a rule's amount).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from commissioning.flags import FLAG_COLUMNS, Flag, flags_frame
from commissioning.model import Case

from .asks import UNMEASURED_COLUMNS
from .levels import LevelResult, RunResult
from .lp import MONEY_SCALE

BINDING_COLUMNS = ["level", "family", "pot_code", "area_code", "cohort_code", "year", "description", "words",
                   "dual", "shadow_price_per_million"]
CELL = ["area_code", "cohort_code", "year"]
IDLE_THRESHOLD = 1.0  # £: less than this left in a pot-year is rounding, not stranded money


SHADOW_COLUMNS = ["level", "pot_code", "year", "budget", "spent", "per_million", "binding", "unit"]


@dataclass
class Explanation:
    flags: pd.DataFrame  # FLAG_COLUMNS, map stage then optimise stage
    asks: pd.DataFrame  # ASK_COLUMNS (see optimiser.asks)
    binding: pd.DataFrame  # BINDING_COLUMNS
    shadow_prices: pd.DataFrame  # SHADOW_COLUMNS: every pot-year budget, binding or not
    # Pool joins worth measuring but left out at this size (optimiser.asks.pool_join_limit).
    unmeasured: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMEASURED_COLUMNS))


def shadow_prices(case: Case, level: LevelResult) -> pd.DataFrame:
    """Every pot-year budget of a level with its shadow price per extra £1m (0 when slack)."""
    cons = level.constraints
    b = cons[cons["family"] == "pot_budget"]
    unit = {"outcomes": "outcomes", "value": "£ of value", "coverage": "participants"}[case.settings.objective]
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
def gap_flags(case: Case, level: LevelResult) -> list[Flag]:
    from commissioning.mapping import unreachable_gap_flags, CaseOrder

    alloc = level.allocations
    need = case.need_frame[case.need_frame["people"] > 0]
    served = alloc.groupby(CELL, sort=False)["participants"].sum().rename("served").reset_index()
    cells = need.merge(served, on=CELL, how="left")
    cells["served"] = cells["served"].fillna(0.0)
    cells["unmet"] = cells["people"] - cells["served"]
    cells = cells[cells["unmet"] > 1e-6]
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
        tight_rules = _max_rule_scopes(case, cons[(cons["family"] == "rule") & cons["tight"]])
        tight_match = cons[(cons["family"] == "match") & cons["tight"]]
        match_keys = set(zip(tight_match["area_code"], tight_match["year"]))
        needs_match = {p.code for p in case.pots if p.match_rate > 0}
        cell_pots = v.groupby(CELL, sort=False)["pot_code"].agg(lambda s: sorted(set(s))).rename("pots").reset_index()
        reached = reached.merge(cell_pots, on=CELL, how="left")
        cheapest = v.groupby(CELL, sort=False)["unit_cost"].min().rename("cheapest").reset_index()
        reached = reached.merge(cheapest, on=CELL, how="left")
        for r in reached.itertuples(index=False):
            rule_hit = _rule_covering(case, tight_rules, r.pots, r.area_code, r.cohort_code, r.year)
            if rule_hit is not None:
                reason, detail = "rule", f"a rule holds it back: {rule_hit}"
            elif (r.area_code, r.year) in match_keys and needs_match & set(r.pots):
                pots = ", ".join(sorted(needs_match & set(r.pots)))
                reason, detail = "match", (f"{pots} could fund it, but the match funding in "
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


def _max_rule_scopes(case: Case, tight: pd.DataFrame) -> list[tuple]:
    """Each tight ``max_`` rule row as (year, pot or None, cohort or None, areas or None, words)."""
    out = []
    for r in tight.itertuples(index=False):
        if r.rule_index is None or pd.isna(r.rule_index):
            continue
        rule = case.rules[int(r.rule_index)]
        if not rule.rule.startswith("max"):
            continue
        out.append((r.year, None if r.pot_code in ("ALL", None) else r.pot_code,
                    None if rule.cohort_code == "ALL" else rule.cohort_code,
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
def idle_flags(case: Case, level: LevelResult) -> list[Flag]:
    """Money left unspent per pot and budget year, with the rule that strands it."""
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
        elif not tight[(tight["family"] == "rule") & (tight["pot_code"] == pot.code) &
                       tight["year"].isin(window) & np.isfinite(tight["upper"])].empty:
            reason = "rule"
            desc = tight[(tight["family"] == "rule") & (tight["pot_code"] == pot.code)]["description"].iloc[0]
            detail = f"a rule caps it: {desc}"
        else:
            reason = "need_met"
            detail = (f"every cell {pot.name} may fund in {', '.join(sorted(window))} is already fully served; "
                      "it needs a wider cohort, area or time limit to be used")
        flags.append(Flag(stage="optimise", level=level.level, kind="idle", reason=reason, pot_code=pot.code,
                          year=b.year, amount=float(left),
                          detail=f"{_money(left)} of {pot.code}'s {b.year} money is left unspent: {detail}"))
    return flags


# ---- binding constraints --------------------------------------------------------------------------
def binding_constraints(case: Case, level: LevelResult) -> pd.DataFrame:
    cons = level.constraints
    b = cons[cons["binding"] & (cons["family"] != "equity_total")].copy()
    if b.empty:
        return pd.DataFrame(columns=BINDING_COLUMNS)
    words, per_million = [], []
    unit = {"outcomes": "outcomes", "value": "£ of value", "coverage": "participants"}[case.settings.objective]
    for r in b.itertuples(index=False):
        words.append(_words(case, r))
        if r.family in ("pot_budget", "carry_forward", "rule") and r.family != "need_cap":
            per_million.append(float(r.dual) * MONEY_SCALE)  # dual per £k → per £1m
        elif r.family == "need_cap":
            per_million.append(float(r.dual))  # per extra person of need
        else:
            per_million.append(float(r.dual))
    b["words"] = words
    b["shadow_price_per_million"] = per_million
    b["level"] = level.level
    b["unit"] = unit
    return b.reindex(columns=BINDING_COLUMNS + ["unit"]).reset_index(drop=True)


def _words(case: Case, r) -> str:
    f = r.family
    if f == "pot_budget":
        pot = case.pot[r.pot_code]
        return f"the {pot.name} ({pot.code}) {r.year} budget is exhausted"
    if f == "carry_forward":
        return f"all the {r.pot_code} money that may be spent in {r.year} is spent"
    if f == "need_cap":
        return (f"{case.area[r.area_code].name} {case.cohort[r.cohort_code].name} {r.year} need is fully met")
    if f == "match":
        return f"the match funding in {case.area[r.area_code].name} {r.year} is fully used"
    if f == "rule":
        return f"the rule binds: {r.description}"
    if f == "equity":
        return f"the equity floor holds {case.area[r.area_code].name} at its minimum share of need served"
    return str(r.description)


# ---- everything --------------------------------------------------------------------------------
def explain_run(run: RunResult, asks: bool = True, max_measured: int = 12, progress=None,
                pool_joins: int | None = None, workers=None) -> Explanation:
    """Flags, binding rows, shadow prices and (with ``asks``) the measured asks of a run.

    ``pool_joins`` caps the pool-join asks measured (default: all below
    :data:`optimiser.asks.LARGE_POOLED_MODEL` variables, none above). ``workers`` (see
    :mod:`optimiser.workers`) measures every other ask in a second process.
    """
    from commissioning.mapping import provision_map

    from .asks import ASK_COLUMNS, choose_candidates, measured_asks, unmeasured_frame

    case = run.case
    flags: list[Flag] = []
    pm = provision_map(case)
    map_flags = pm.flags_frame
    for name in ("aligned", "pooled"):
        lv = run.levels[name]
        flags.extend(gap_flags(case, lv))
        flags.extend(idle_flags(case, lv))
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
    return Explanation(all_flags.reindex(columns=FLAG_COLUMNS), asks_frame, binding, prices, unmeasured)
