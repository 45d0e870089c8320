"""Pot budgets by year, with carry-forward.

Rule: money from a pot's budget for year *s* may be spent in *s* and in the next
``carry_forward`` years, within the pot's life, and never before it arrives.

Symbols: ``x[p,a,c,t,q]`` money (£k) pot *p* spends on area *a*, cohort *c*, year *t*
through programme *q*; ``B[p,s]`` the budget of *p* for year *s* (£k);
``y[p,s,t]`` money of *p*'s year-*s* budget spent in year *t* (carry-forward flows).

* A pot without carry-forward (``carry_forward = 0``) — family ``pot_budget``, one row
  per pot and year::

      Σ_{a,c,q} x[p,a,c,t,q] <= B[p,t]

* A pot with carry-forward ``k > 0`` — family ``pot_budget``, one row per pot and
  budget year *s* (its dual is the value of one more pound of that year's money)::

      Σ_{t = s..s+k, t in life} y[p,s,t] <= B[p,s]

  and family ``carry_forward``, one row per pot and spending year *t*::

      Σ_{a,c,q} x[p,a,c,t,q] - Σ_{s = t-k..t} y[p,s,t] = 0

  An equality, not ≤: the flows then say exactly whose money was spent, so unspent money
  of each budget year can be named (idle flags) and the tie-break can prefer the
  soonest-expiring year's money.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.case.tables import lookup

from optimiser.families.base import CheckCells, Family, Limit, Measured
from optimiser.lp import MONEY_SCALE, LinearProgram, group_rows, meaning_frame


def carry_forward_flows(case: Case) -> pd.DataFrame:
    """One flow variable per pot with carry-forward, budget year with money, and spending year."""
    rows = []
    years = set(case.years)
    for b in case.budgets:
        pot = case.pot[b.pot_code]
        if pot.carry_forward <= 0 or b.amount <= 0:
            continue
        for t in case.spend_years(pot.code, b.year):
            if t in years:
                rows.append(("flow", pot.code, None, None, t, None, b.year))
    return pd.DataFrame(rows, columns=["kind", "pot_code", "area_code", "cohort_code", "year", "programme",
                                       "budget_year"])


def define_pot_budget(lp: LinearProgram, case: Case) -> None:
    """Add the ``pot_budget`` and ``carry_forward`` families (see the module docstring)."""
    v = lp.variables
    cf = lookup(v["pot_code"], {p.code: p.carry_forward for p in case.pots}, default=0.0)
    alloc = (v["kind"] == "alloc").to_numpy()
    flow = (v["kind"] == "flow").to_numpy()
    budget = case.budget

    # Pots that use it or lose it: one row per pot and year with allocation variables.
    idx = np.flatnonzero(alloc & (cf == 0))
    if len(idx):
        codes, keys = group_rows(v.loc[idx, ["pot_code", "year"]])
        rhs = np.array([budget.get((p, t), 0.0) for p, t in zip(keys["pot_code"], keys["year"])]) / MONEY_SCALE
        lp.add("pot_budget", meaning_frame(len(keys), pot_code=keys["pot_code"], year=keys["year"],
                                           description=[f"{p} {t} budget" for p, t in
                                                        zip(keys["pot_code"], keys["year"])]),
               codes, idx, np.ones(len(idx)), -np.inf, rhs)

    # Pots with carry-forward: supply rows per budget year, balance rows per spending year.
    fidx = np.flatnonzero(flow)
    if len(fidx):
        codes, keys = group_rows(v.loc[fidx, ["pot_code", "budget_year"]])
        rhs = np.array([budget.get((p, s), 0.0) for p, s in zip(keys["pot_code"], keys["budget_year"])]) / MONEY_SCALE
        lp.add("pot_budget", meaning_frame(len(keys), pot_code=keys["pot_code"], year=keys["budget_year"],
                                           description=[f"{p} {s} budget (spendable for {case.pot[p].carry_forward} "
                                                        "more year(s))" for p, s in
                                                        zip(keys["pot_code"], keys["budget_year"])]),
               codes, fidx, np.ones(len(fidx)), -np.inf, rhs)

        aidx = np.flatnonzero(alloc & (cf > 0))
        both = np.concatenate([aidx, fidx])
        coef = np.concatenate([np.ones(len(aidx)), -np.ones(len(fidx))])
        codes, keys = group_rows(v.loc[both, ["pot_code", "year"]])
        lp.add("carry_forward", meaning_frame(len(keys), pot_code=keys["pot_code"], year=keys["year"],
                                              description=[f"{p} spending in {t} within money carried forward"
                                                           for p, t in zip(keys["pot_code"], keys["year"])]),
               codes, both, coef, 0.0, 0.0)


# ---- what else the product knows about pot budgets ------------------------------------------
def life_years(case: Case, pot_code: str) -> list[str]:
    """The case's years within a pot's life, in order."""
    pot = case.pot[pot_code]
    return [y for y in case.years if pot.in_life(y)]


def budget_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``pot_budget`` in closed form: per year of a pot's life, or per window of years where
    money carries forward (``Σ_{t∈W} spend[p,t] ≤ Σ_{s reaching W} B[p,s]``: budget intervals
    against spending years form a convex bipartite graph, so these window conditions — Hall's
    condition on intervals — are exactly what the carry-forward flows allow)."""
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


def _budget_breach(m: Measured, money) -> str:
    lim = m.limit
    if len(lim.years or ()) == 1:
        return (f"pot {lim.pot_code} {lim.year} spends {money(m.value)} of {money(m.bound)} "
                f"(over by {money(m.value - m.bound)})")
    return (f"pot {lim.pot_code} spends {money(m.value)} in {lim.year} against {money(m.bound)} of budgets "
            f"that can reach those years (over by {money(m.value - m.bound)})")


def _budget_formulas(m: Measured, cells: CheckCells) -> dict:
    lim = m.limit
    out = {"value_f": f"=SUM({cells.pooled_span('spend', lim.pot_code, lim.years)})"}
    out["limit_f"] = f"=SUM({cells.pooled_span('budget', lim.pot_code, lim.budget_years)})" \
        if lim.budget_years else 0.0
    return out


def _budget_words(case: Case, r) -> str:
    pot = case.pot[r.pot_code]
    return f"the {pot.name} ({pot.code}) {r.year} budget is exhausted"


def money_left(case: Case, level) -> dict[tuple[str, str], float]:
    """£ each pot could still spend in each year at a solved level: the unspent money of the
    budget years that may be spent then (the slack of its ``pot_budget`` rows)."""
    cons = level.constraints
    b = cons[cons["family"] == "pot_budget"]
    out: dict[tuple[str, str], float] = {}
    for p, s, slack in zip(b["pot_code"], b["year"], (b["upper"] - b["activity"]).to_numpy() * MONEY_SCALE):
        if slack <= 0:
            continue
        for t in case.spend_years(p, s):
            out[(p, t)] = out.get((p, t), 0.0) + float(slack)
    return out


POT_BUDGET = Family(
    "pot_budget", title="pot budgets and carry-forward", words="pot budget",
    define=lambda lp, case, ctx: define_pot_budget(lp, case),
    variables=lambda case, ctx: carry_forward_flows(case),
    settle_rank=30, check_rank=0, key_columns=("pot_code", "year"), is_budget=True,
    shadow_scale=MONEY_SCALE, shadow_unit="per extra £1m", narrate="price",
    binding_words=_budget_words, limits=budget_limits, breach_words=_budget_breach,
    check_formulas=_budget_formulas,
)

CARRY_FORWARD = Family(  # its rows are added by POT_BUDGET's define
    "carry_forward", settle_rank=40, key_columns=("pot_code", "year"),
    shadow_scale=MONEY_SCALE, shadow_unit="per extra £1m", narrate="none",
    binding_words=lambda case, r: f"all the {r.pot_code} money that may be spent in {r.year} is spent",
)
