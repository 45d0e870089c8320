"""The limits an agreement's allocation must respect, as data — and measuring rows against them.

An agreement proposes the ``pooled`` allocation; a finance team may change its amounts.
Whatever they hold, these are the conditions it must meet (the same rules the optimiser
builds, stated in closed form so a spreadsheet can check them without flow variables):

Each family states its own closed form, in its module (:mod:`optimiser.families`);
this module asks every family of the registry for its limits and measures them:

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

Eligibility (which pot may fund which area, cohort, year and programme) is the case's
answer at the pooled level (:meth:`Eligibility.rows <commissioning.case.eligibility.Eligibility.rows>`);
:func:`why_ineligible` words a miss.

**Allowances** (decisions beyond the contract, stated on the Checks sheet): the engine
rounds every allocation *down* to whole pence and scales down any row the solver left a
hair over a ceiling, so a ceiling holds to the penny — a maximum allows £0.01 — while a
minimum or an exact amount may fall a little short: it allows £0.01 per allocation row in
its scope (at least one) plus one ten-millionth of the amount (the solver's feasibility
tolerance: £0.27 on a £2.7m lock). People are compared to a millionth of a person; a minimum in people (a protection or
equity floor) also allows a penny per allocation row in its scope, in people (£0.01 ÷ the
row's unit cost), since each amount is rounded to the penny. Comparisons round to 6 decimal places, so
floating-point noise never decides a check.

This module knows nothing of Excel: :mod:`commissioning.writers.agreementbook` writes each limit
as a live formula, :mod:`commissioning.analysis.audit` measures an edited workbook with it.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from optimiser.families.base import MONEY_ALLOWANCE, PEOPLE_ALLOWANCE, PENNY, RELATIVE, Limit, Measured
from optimiser.families.registry import REGISTRY, checked
from optimiser.levels import default_pool

from commissioning.case.model import Case
from commissioning.case.tables import bought

__all__ = ["Limit", "Measured", "MONEY_ALLOWANCE", "PEOPLE_ALLOWANCE", "PENNY", "RELATIVE", "FAMILY_WORDS",
           "case_limits", "measure", "measure_all"]

ROUND_DP = 6

# The Checks sheet's words for each family with limits (each family states its own).
FAMILY_WORDS = {f.name: f.words for f in REGISTRY if f.limits is not None}
ROW_COLUMNS = ["pot_code", "area_code", "cohort_code", "year", "programme", "amount"]


# ---- which limits a case sets ---------------------------------------------------------------
def agreement_pool(case: Case) -> frozenset[str]:
    """The pool the agreement proposes: the scenario's, else every poolable pot."""
    return default_pool(case)


def case_limits(case: Case, pool: frozenset[str] | None = None) -> list[Limit]:
    """Every limit of the pooled level, family by family (each family's own closed form), in case order."""
    pool = agreement_pool(case) if pool is None else pool
    return [lim for fam in checked() for lim in fam.limits(case, pool)]


# ---- eligibility: the case's answer ---------------------------------------------------------------
def eligible_keys(case: Case, pool: frozenset[str]) -> pd.DataFrame:
    """Every (pot, area, cohort, year, programme) the pooled level may fund, with need > 0 — and, in a
    settlement case, ``across``: ``yes`` for a key that moves a theme's money to another theme."""
    keys = case.eligibility.keys(pool)
    across = case.eligibility.across(frozenset(pool))
    if across:
        keys = keys.assign(across=["yes" if k in across else "no" for k in keys.itertuples(index=False, name=None)])
    return keys


def default_programme(case: Case, pool: frozenset[str], pot_code: str, cohort_code: str) -> str:
    """The programme a row without one buys (:meth:`Eligibility.default_programme`)."""
    return case.eligibility.default_programme(pool, pot_code, cohort_code)


def why_ineligible(case: Case, pool: frozenset[str], pot: str, area: str, cohort: str, year: str,
                   programme: str) -> str | None:
    """None when the row is an allocation the pooled level allows; else the reason in words."""
    return case.eligibility.why_not(pool, pot, area, cohort, year, programme)


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
    if case.valuation.valued and len(out):
        # In a valued case a row's value is the present value of its net additional benefits: written as a
        # value per headline outcome, so that outcomes × value per outcome (the agreement's formula) is it.
        known = np.array([q in case.pot and c in case.cohort for q, c in zip(out["programme"], out["cohort_code"])])
        per_head = np.zeros(len(out))
        if known.any():
            per_head[known] = case.valuation.per_head_column(out[known])
        rate = out["outcome_rate"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["value_per_outcome"] = np.where(known & (rate > 0), per_head / rate, np.where(known, 0.0, np.nan))
    out["participants"], out["outcomes"], out["value"] = bought(
        out["amount"].astype(float), out["unit_cost"], out["outcome_rate"], out["value_per_outcome"])
    return out


def theme_columns(case: Case, pool: frozenset[str], rows: pd.DataFrame) -> tuple[list[str], list[bool]]:
    """Each row's settlement theme (the paying pot's; "" outside a settlement) and whether it moves
    that theme's money to another theme at the level of ``pool`` (:meth:`Eligibility.across`)."""
    across = case.eligibility.across(frozenset(pool))
    keys = rows[["pot_code", "area_code", "cohort_code", "year", "programme"]].astype(object)
    themes = [(case.pot[p].theme or "") if p in case.pot and case.pot[p].settlement else "" for p in rows["pot_code"]]
    return themes, [k in across for k in keys.itertuples(index=False, name=None)]


class _Masks:
    """Boolean masks of rows by column value, computed once per value (scopes repeat values)."""

    def __init__(self, rows: pd.DataFrame):
        self.n = len(rows)
        self.cols = {c: rows[c].astype(object).to_numpy() for c in ("pot_code", "area_code", "cohort_code", "year",
                                                                     "programme") if c in rows.columns}
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
                         ("year", limit.years), ("programme", limit.programmes)):
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
    if limit.measure == "match":  # measures are kinds of sum, not families
        m = _scope(limit, rows, masks)
        rate = rows["pot_code"].map(dict(limit.needers)).fillna(0.0).to_numpy(dtype=float)
        gives = rows["pot_code"].isin(limit.givers).to_numpy()
        value = float((amount * rate)[m].sum())
        bound = float(amount[m & gives].sum())
        scope = m & ((rate > 0) | gives)
    elif limit.measure == "share":  # rule_value × the pot's whole spending that year
        m = _scope(limit, rows, masks)
        pot_year = _scope(Limit(limit.family, "max", "", pots=limit.pots, years=limit.years), rows, masks)
        value = float(amount[m].sum())
        bound = (limit.rule_value or 0.0) * float(amount[pot_year].sum())
        scope = pot_year
    elif limit.measure == "moved":  # Σ max(0, today − plan) over today's cells
        keys = ["pot_code", "area_code", "cohort_code", "year"]
        plan = rows.groupby(keys, sort=False)["amount"].sum()
        today = pd.DataFrame(list(limit.today), columns=keys + ["today"])
        got = plan.reindex(pd.MultiIndex.from_frame(today[keys])).fillna(0.0).to_numpy(dtype=float)
        value = float(np.clip(today["today"].to_numpy(dtype=float) - got, 0.0, None).sum())
        bound = limit.bound
        scope = np.ones(len(rows), dtype=bool)
    elif limit.measure == "across":  # the amount on rows that move a theme's money to another theme
        keys = rows[["pot_code", "area_code", "cohort_code", "year", "programme"]].astype(object)
        moving = set(limit.moves)
        scope = np.fromiter((k in moving for k in keys.itertuples(index=False, name=None)), dtype=bool,
                            count=len(rows))
        value = float(amount[scope].sum())
        bound = limit.bound
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
    if limit.unit == "people" and limit.sense in ("min", "zero_or_min", "equal") and "unit_cost" in rows.columns:
        # Amounts are rounded to the penny: a floor in people allows a penny a row, in people.
        uc = rows["unit_cost"].to_numpy(dtype=float)
        lines = m & (amount > 0) & np.isfinite(uc) & (uc > 0)
        allowance += PENNY * float((1.0 / uc[lines]).sum())
    return Measured(limit, value, bound, allowance, holds(limit.sense, value, bound, allowance), positions)


def allowance_for(limit: Limit, rows_in_scope: int, bound: float) -> float:
    """The stated allowance of a limit (see the module docstring)."""
    if limit.unit == "people":
        return PEOPLE_ALLOWANCE
    if limit.measure == "moved":  # each of today's cells rounded down to the penny may move a penny more
        return PENNY * max(1, len(limit.today))
    if limit.sense == "max":
        return MONEY_ALLOWANCE
    return PENNY * max(1, rows_in_scope) + RELATIVE * abs(bound)


def holds(sense: str, value: float, bound: float, allowance: float) -> bool:
    """The comparison every engine makes the same way: rounded to 6 decimal places."""
    if sense == "max":
        return round(bound + allowance - value, ROUND_DP) >= 0
    if sense == "min":
        return round(value - bound + allowance, ROUND_DP) >= 0
    if sense == "zero_or_min":  # nothing (to the allowance), or at least the bound
        return round(allowance - abs(value), ROUND_DP) >= 0 or round(value - bound + allowance, ROUND_DP) >= 0
    return round(allowance - abs(value - bound), ROUND_DP) >= 0


def measure_all(case: Case, limits: list[Limit], rows: pd.DataFrame) -> list[Measured]:
    """Measure every limit over allocation rows (ROW_COLUMNS; participants are added from the case)."""
    rows = rows if "participants" in rows.columns else with_participants(case, rows)
    masks = _Masks(rows)
    return [measure(lim, rows, masks) for lim in limits]
