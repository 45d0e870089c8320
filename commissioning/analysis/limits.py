"""The limits an agreement's allocation must respect, as data — and measuring rows against them.

An agreement proposes the ``pooled`` allocation; a finance team may change its amounts.
Whatever they hold, these are the conditions it must meet (the same rules the optimiser
builds, stated in closed form so a spreadsheet can check them without flow variables):

* ``pot_budget`` — a pot spends no more than its money. For a pot without carry-forward,
  one limit per year of its life: ``spend[p,t] ≤ B[p,t]``. For a pot whose money may be
  carried forward ``k`` years, one limit per *window* of consecutive years ``W`` of its
  life: ``Σ_{t∈W} spend[p,t] ≤ Σ_{s: s can reach W} B[p,s]`` — money of budget year ``s``
  reaches years ``s … s+k`` (within the pot's life). Budget intervals against spending
  years form a convex bipartite graph, so these window conditions (Hall's condition on
  intervals) are exactly what the optimiser's carry-forward flows allow.
* ``need_cap`` — one per need cell: ``Σ participants ≤ need``, participants being
  ``amount ÷ unit cost`` of the row's programme for the cohort (after ``rates``).
* ``rule`` — one per ``rules`` row instance, as :mod:`optimiser.families.rules` expands it (a
  share is of the pot's spending in that year, whatever year its money arrived in, so
  the bound is ``share × Σ amount of the pot that year`` measured on the rows;
  footprints resolve to their areas).
* ``match`` — per area and year where a match-needing pot may spend:
  ``Σ m_p · spend[p] ≤ Σ spend[q]`` over pots that may count as match.
* ``equity`` — with an ``equity_floor``: per area, participants ≥ floor × (area's
  reachable need ÷ all reachable need) × all participants, need being reachable under
  today's rules (:func:`optimiser.families.equity.reachable_need`, the same at every level).
* ``lock`` — with a scenario's locks: the locked cell's spend equals the committed amount.

Eligibility (which pot may fund which area, cohort, year and programme) is the set of
allocation variables the optimiser creates at the pooled level
(:func:`optimiser.variables.allocation_variables`); :func:`why_ineligible` words a miss.

**Allowances** (decisions beyond the contract, stated on the Checks sheet): the engine
rounds every allocation *down* to whole pence and scales down any row the solver left a
hair over a ceiling, so a ceiling holds to the penny — a maximum allows £0.01 — while a
minimum or an exact amount may fall a little short: it allows £0.01 per allocation row in
its scope (at least one) plus one ten-millionth of the amount (the solver's feasibility
tolerance: £0.27 on a £2.7m lock). People are compared to a millionth of a person. Comparisons round to 6 decimal places, so
floating-point noise never decides a check.

This module knows nothing of Excel: :mod:`commissioning.writers.agreementbook` writes each limit
as a live formula, :mod:`commissioning.analysis.audit` measures an edited workbook with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimiser.families.equity import reachable_need
from optimiser.levels import default_pool
from optimiser.families.rules import expand_rules
from optimiser.variables import allocation_variables, best_programmes

from commissioning.case import years as fy
from commissioning.case.model import ALL, Case

MONEY_ALLOWANCE = 0.01  # £: a maximum holds to the penny
PENNY = 0.01  # £ per row in scope that a minimum or an exact amount may fall short by
RELATIVE = 1e-7  # of a minimum or an exact amount: the solver's feasibility tolerance
PEOPLE_ALLOWANCE = 1e-6  # people
ROUND_DP = 6

FAMILY_WORDS = {
    "pot_budget": "pot budget",
    "need_cap": "need cap",
    "rule": "rule",
    "match": "match funding",
    "equity": "equity floor",
    "lock": "locked provision",
}
ROW_COLUMNS = ["pot_code", "area_code", "cohort_code", "year", "programme", "amount"]


@dataclass(frozen=True)
class Limit:
    """One condition on the allocation: ``value (sense) bound`` over a scope of rows."""

    family: str
    sense: str  # "max", "min" or "equal"
    words: str  # what it says, in commissioners' words
    unit: str = "£"  # "£" or "people"
    pot_code: str = ""  # the scope as shown (a code, ALL or a footprint); "" when not a scope
    area_code: str = ""
    cohort_code: str = ""
    year: str = ""  # one year, or "2025-26 to 2026-27" for a window
    pots: tuple[str, ...] | None = None  # scope for measuring; None: any
    areas: tuple[str, ...] | None = None
    cohorts: tuple[str, ...] | None = None
    years: tuple[str, ...] | None = None
    measure: str = "amount"  # "amount", "participants", "match", "equity", "share"
    bound: float = 0.0  # the constant side (£ or people)
    budget_years: tuple[str, ...] = ()  # pot_budget: the budget years summed into the bound
    rule_index: int | None = None  # rule: position in case.rules
    rule_value: float | None = None  # rule: the share (0–1) or amount from the rules row
    needers: tuple[tuple[str, float], ...] = ()  # match: (pot, match rate)
    givers: tuple[str, ...] = ()  # match: pots whose spend counts as match
    equity_share: float = 0.0  # equity: floor × area need ÷ all need


@dataclass
class Measured:
    limit: Limit
    value: float
    bound: float
    allowance: float
    holds: bool
    rows: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))  # positions in scope

    @property
    def shortfall(self) -> float:
        """How far the value is on the wrong side of the bound (0 when it holds)."""
        if self.limit.sense == "max":
            return max(0.0, self.value - self.bound)
        if self.limit.sense == "min":
            return max(0.0, self.bound - self.value)
        return abs(self.value - self.bound)


# ---- which limits a case sets ---------------------------------------------------------------
def agreement_pool(case: Case) -> frozenset[str]:
    """The pool the agreement proposes: the scenario's, else every poolable pot."""
    return default_pool(case)


def case_limits(case: Case, pool: frozenset[str] | None = None) -> list[Limit]:
    """Every limit of the pooled level, family by family, in case order."""
    pool = agreement_pool(case) if pool is None else pool
    return [*budget_limits(case), *need_limits(case), *rule_limits(case, pool), *match_limits(case, pool),
            *equity_limits(case, pool), *lock_limits(case)]


def life_years(case: Case, pot_code: str) -> list[str]:
    """The case's years within a pot's life, in order."""
    pot = case.pot[pot_code]
    return [y for y in case.years if pot.in_life(y)]


def budget_limits(case: Case) -> list[Limit]:
    """``pot_budget``: per year of a pot's life, or per window of years where money carries forward."""
    out: list[Limit] = []
    for pot in case.pots:
        years = life_years(case, pot.code)
        if pot.carry_forward <= 0:
            for t in years:
                b = case.budget.get((pot.code, t), 0.0)
                out.append(Limit("pot_budget", "max", f"{pot.code} spends no more than its {t} budget",
                                 pot_code=pot.code, year=t, pots=(pot.code,), years=(t,), bound=b,
                                 budget_years=(t,)))
            continue
        budget_years = [s for s in case.years if case.budget.get((pot.code, s), 0.0) > 0]
        for i in range(len(years)):
            for j in range(i, len(years)):
                window = tuple(years[i:j + 1])
                reach = tuple(s for s in budget_years if set(case.spend_years(pot.code, s)) & set(window))
                bound = float(sum(case.budget[(pot.code, s)] for s in reach))
                shown = window[0] if len(window) == 1 else f"{window[0]} to {window[-1]}"
                src = (reach[0] if len(reach) == 1 else f"{reach[0]} to {reach[-1]}") if reach else "none"
                out.append(Limit("pot_budget", "max",
                                 f"{pot.code} spends in {shown} no more than the budgets that can reach it "
                                 f"(budget years {src}; carry-forward {pot.carry_forward} year(s))",
                                 pot_code=pot.code, year=shown, pots=(pot.code,), years=window, bound=bound,
                                 budget_years=reach))
    return out


def need_limits(case: Case) -> list[Limit]:
    """``need_cap``: one per need cell of the case (participants ≤ people in need)."""
    return [
        Limit("need_cap", "max", f"participants in {n.area_code} / {n.cohort_code} / {n.year} within need",
              unit="people", area_code=n.area_code, cohort_code=n.cohort_code, year=n.year,
              areas=(n.area_code,), cohorts=(n.cohort_code,), years=(n.year,), measure="participants",
              bound=float(n.people))
        for n in case.need
    ]


def rule_limits(case: Case, pool: frozenset[str] | None = None) -> list[Limit]:
    """``rule``: one per instance of each rules row, exactly as :func:`optimiser.families.rules.expand_rules`
    expands it over the pooled level's allocations (a share is of the pot's spending that
    year, measured on the rows themselves; footprints resolve to their areas)."""
    pool = agreement_pool(case) if pool is None else pool
    out: list[Limit] = []
    for inst in expand_rules(case, _variables(case, pool)).instances:
        rule, p, t = inst.rule, inst.pot_code, inst.year
        share = inst.spend is not None
        areas = None if rule.area_code == ALL else tuple(case.resolve_areas(rule.area_code))
        cohorts = None if rule.cohort_code == ALL else (rule.cohort_code,)
        words = rule.describe() if rule.year != ALL else f"{rule.describe()}, in {t}"
        out.append(Limit("rule", "min" if rule.rule.startswith("min") else "max", words,
                         pot_code=p, area_code=rule.area_code, cohort_code=rule.cohort_code, year=t,
                         pots=None if p == ALL else (p,), areas=areas, cohorts=cohorts, years=(t,),
                         measure="share" if share else "amount", bound=0.0 if share else float(rule.value),
                         rule_index=inst.index, rule_value=float(rule.value)))
    return out


def match_limits(case: Case, pool: frozenset[str]) -> list[Limit]:
    """``match``: one per area and year where a match-needing pot may spend at the pooled level."""
    needers = tuple((p.code, p.match_rate) for p in case.pots if p.match_rate > 0)
    if not needers:
        return []
    givers = tuple(p.code for p in case.pots if p.can_match and p.match_rate == 0)
    v = _variables(case, pool)
    spend = v[v["pot_code"].isin([p for p, _ in needers])][["area_code", "year"]].drop_duplicates()
    keys = set(zip(spend["area_code"], spend["year"]))
    rates = ", ".join(f"{p} £{m:g}" for p, m in needers)
    return [
        Limit("match", "max", f"match funding in {a} {t}: each £1 of {rates} needs that much spent from pots "
              "that count as match", area_code=a, year=t, areas=(a,), years=(t,), measure="match",
              needers=needers, givers=givers)
        for a in case.area for t in case.years if (a, t) in keys
    ]


def equity_limits(case: Case, pool: frozenset[str]) -> list[Limit]:
    """``equity``: one per area with reachable need, when the case sets an equity floor."""
    floor = case.settings.equity_floor
    if floor <= 0:
        return []
    need = reachable_need(case)  # today's reach, at every level (optimiser.families.equity)
    total = float(need.sum())
    if total <= 0:
        return []
    return [
        Limit("equity", "min", f"equity floor: {case.area[a].name} serves at least {floor:.0%} of the overall "
              "share of need served", unit="people", area_code=a, areas=(a,), measure="equity",
              equity_share=floor * float(need[a]) / total)
        for a in case.area if need.get(a, 0.0) > 0
    ]


def lock_limits(case: Case) -> list[Limit]:
    """``lock``: one per locked provision cell of a scenario (spend equals the committed amount)."""
    totals: dict[tuple[str, str, str, str], float] = {}
    for pr in case.locks:
        key = (pr.pot_code, pr.area_code, pr.cohort_code, pr.year)
        totals[key] = totals.get(key, 0.0) + pr.amount
    return [
        Limit("lock", "equal", f"locked provision: {p} keeps £{amount:,.2f} for {c} in {a} {t}",
              pot_code=p, area_code=a, cohort_code=c, year=t, pots=(p,), areas=(a,), cohorts=(c,), years=(t,),
              bound=amount)
        for (p, a, c, t), amount in totals.items()
    ]


# ---- eligibility ------------------------------------------------------------------------------
_VARIABLES: dict[str, object] = {}  # the last case's variables (one case at a time is plenty)


def _variables(case: Case, pool: frozenset[str]) -> pd.DataFrame:
    if _VARIABLES.get("case") is not case or _VARIABLES.get("pool") != frozenset(pool):
        v = allocation_variables(case, frozenset(pool))
        _VARIABLES.clear()
        _VARIABLES.update(case=case, pool=frozenset(pool), frame=v[v["kind"] == "alloc"].reset_index(drop=True),
                          keys=None)
    return _VARIABLES["frame"]


def eligible_keys(case: Case, pool: frozenset[str]) -> pd.DataFrame:
    """Every (pot, area, cohort, year, programme) the pooled level may fund, with need > 0."""
    v = _variables(case, pool)
    return v[["pot_code", "area_code", "cohort_code", "year", "programme"]].drop_duplicates().reset_index(drop=True)


def default_programme(case: Case, pool: frozenset[str], pot_code: str, cohort_code: str) -> str:
    """The programme a row without one buys: the pot's own where it may fund the cohort,
    else (for a pool member) the pool's best programme for the cohort."""
    if pot_code in case.pot and cohort_code in case.pot_cohorts.get(pot_code, ()):
        return pot_code
    if pot_code in pool:
        best = best_programmes(case, frozenset(p for p in case.pot if p in pool))
        hit = best[best["cohort_code"] == cohort_code]
        if len(hit):
            return str(hit["programme"].iloc[0])
    return pot_code


def why_ineligible(case: Case, pool: frozenset[str], pot: str, area: str, cohort: str, year: str,
                   programme: str) -> str | None:
    """None when the row is an allocation the pooled level allows; else the reason in words."""
    if pot not in case.pot:
        return f"'{pot}' is not a pot of the case"
    if area not in case.area:
        return f"'{area}' is not an area of the case"
    if cohort not in case.cohort:
        return f"'{cohort}' is not a cohort of the case"
    try:
        fy.parse_year(year)
    except ValueError as e:
        return str(e)
    if programme not in case.pot:
        return f"programme '{programme}' is not a pot of the case"
    keys = _key_set(case, pool)
    if (pot, area, cohort, year, programme) in keys:
        return None
    p = case.pot[pot]
    members = [q for q in case.pot if q in pool]
    pooled = pot in pool and len(members) >= 2
    if not p.in_life(year):
        return f"pot {pot} may not spend in {year}: its life is {p.start:%d %b %Y} to {p.end:%d %b %Y}"
    if case.available(pot, year) <= 0:
        return f"pot {pot} has no money available in {year}"
    if pooled:
        areas = set().union(*(case.pot_areas[q] for q in members))
        cohorts = set().union(*(case.pot_cohorts[q] for q in members))
        if area not in areas:
            return f"no pot of the pool may fund area {area}, so pooled pot {pot} may not either"
        if cohort not in cohorts:
            return f"no pot of the pool may fund cohort {cohort}, so pooled pot {pot} may not either"
    else:
        if area not in case.pot_areas[pot]:
            return f"pot {pot} may not fund area {area} (its geography is {';'.join(p.geography)})"
        if cohort not in case.pot_cohorts[pot]:
            return f"pot {pot} may not fund cohort {cohort} (its cohorts are {';'.join(p.cohorts)})"
    need = {(n.area_code, n.cohort_code, n.year): n.people for n in case.need}.get((area, cohort, year), 0.0)
    if need <= 0:
        return f"there is no evidenced need in {area} / {cohort} / {year}"
    allowed = sorted({k[4] for k in keys if k[:4] == (pot, area, cohort, year)})
    if allowed:
        return (f"pot {pot} funds {cohort} in {area} {year} through programme {' or '.join(allowed)}, "
                f"not {programme}")
    return f"pot {pot} may not fund {area} / {cohort} / {year}"


def _key_set(case: Case, pool: frozenset[str]) -> set:
    _variables(case, pool)
    if _VARIABLES["keys"] is None:
        _VARIABLES["keys"] = set(eligible_keys(case, pool).itertuples(index=False, name=None))
    return _VARIABLES["keys"]


# ---- measuring rows -------------------------------------------------------------------------------
def with_participants(case: Case, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (ROW_COLUMNS) with unit_cost, outcome_rate, value_per_outcome and participants
    from the case (a row whose programme or cohort the case does not know counts no people)."""
    out = rows.copy()
    uc, rate, vpo = [], [], []
    for q, c in zip(out["programme"], out["cohort_code"]):
        if q in case.pot and c in case.cohort:
            uc.append(case.unit_cost(q, c))
            rate.append(case.outcome_rate(q, c))
            vpo.append(case.cohort[c].value_per_outcome or 0.0)
        else:
            uc.append(np.nan)
            rate.append(np.nan)
            vpo.append(np.nan)
    out["unit_cost"] = np.array(uc, dtype=float)
    out["outcome_rate"] = np.array(rate, dtype=float)
    out["value_per_outcome"] = np.array(vpo, dtype=float)
    out["participants"] = (out["amount"].astype(float) / out["unit_cost"]).fillna(0.0)
    out["outcomes"] = out["participants"] * out["outcome_rate"].fillna(0.0)
    out["value"] = out["outcomes"] * out["value_per_outcome"].fillna(0.0)
    return out


class _Masks:
    """Boolean masks of rows by column value, computed once per value (scopes repeat values)."""

    def __init__(self, rows: pd.DataFrame):
        self.n = len(rows)
        self.cols = {c: rows[c].astype(object).to_numpy() for c in ("pot_code", "area_code", "cohort_code", "year")}
        self.cache: dict[tuple[str, str], np.ndarray] = {}

    def eq(self, col: str, value: str) -> np.ndarray:
        key = (col, value)
        if key not in self.cache:
            self.cache[key] = self.cols[col] == value
        return self.cache[key]


def _scope(limit: Limit, rows: pd.DataFrame, masks: _Masks | None = None) -> np.ndarray:
    masks = masks or _Masks(rows)
    m = np.ones(masks.n, dtype=bool)
    for col, allowed in (("pot_code", limit.pots), ("area_code", limit.areas), ("cohort_code", limit.cohorts),
                         ("year", limit.years)):
        if allowed is None:
            continue
        if len(allowed) == 1:
            m = m & masks.eq(col, allowed[0])
        else:
            any_of = np.zeros(masks.n, dtype=bool)
            for v in allowed:
                any_of |= masks.eq(col, v)
            m = m & any_of
    return m


def measure(limit: Limit, rows: pd.DataFrame, masks: _Masks | None = None) -> Measured:
    """Measure one limit over allocation rows (with participants, see :func:`with_participants`)."""
    masks = masks or _Masks(rows)
    amount = rows["amount"].to_numpy(dtype=float)
    if limit.measure == "match":
        m = _scope(limit, rows, masks)
        rate = rows["pot_code"].map(dict(limit.needers)).fillna(0.0).to_numpy(dtype=float)
        gives = rows["pot_code"].isin(limit.givers).to_numpy()
        value = float((amount * rate)[m].sum())
        bound = float(amount[m & gives].sum())
        scope = m & ((rate > 0) | gives)
    elif limit.measure == "share":  # rule_value × the pot's whole spending that year
        m = _scope(limit, rows, masks)
        pot_year = _scope(Limit("rule", "max", "", pots=limit.pots, years=limit.years), rows, masks)
        value = float(amount[m].sum())
        bound = (limit.rule_value or 0.0) * float(amount[pot_year].sum())
        scope = pot_year
    elif limit.measure == "equity":
        m = _scope(limit, rows, masks)
        people = rows["participants"].to_numpy(dtype=float)
        value = float(people[m].sum())
        bound = limit.equity_share * float(people.sum())
        scope = m
    else:
        m = _scope(limit, rows, masks)
        col = rows[limit.measure].to_numpy(dtype=float)
        value = float(col[m].sum())
        bound = limit.bound
        scope = m
    positions = np.flatnonzero(scope)
    allowance = allowance_for(limit, int(np.count_nonzero(scope & (amount > 0))), bound)
    return Measured(limit, value, bound, allowance, holds(limit.sense, value, bound, allowance), positions)


def allowance_for(limit: Limit, rows_in_scope: int, bound: float) -> float:
    """The stated allowance of a limit (see the module docstring)."""
    if limit.unit == "people":
        return PEOPLE_ALLOWANCE
    if limit.sense == "max":
        return MONEY_ALLOWANCE
    return PENNY * max(1, rows_in_scope) + RELATIVE * abs(bound)


def holds(sense: str, value: float, bound: float, allowance: float) -> bool:
    """The comparison every engine makes the same way: rounded to 6 decimal places."""
    if sense == "max":
        return round(bound + allowance - value, ROUND_DP) >= 0
    if sense == "min":
        return round(value - bound + allowance, ROUND_DP) >= 0
    return round(allowance - abs(value - bound), ROUND_DP) >= 0


def measure_all(case: Case, limits: list[Limit], rows: pd.DataFrame) -> list[Measured]:
    """Measure every limit over allocation rows (ROW_COLUMNS; participants are added from the case)."""
    rows = rows if "participants" in rows.columns else with_participants(case, rows)
    masks = _Masks(rows)
    return [measure(lim, rows, masks) for lim in limits]
