"""Transition: how far a level moves from today's provision, and least disruption.

"Today" is the baseline (:func:`optimiser.baseline.today_cells`): ``T[p,a,c,t]``, the
money pot *p* spends on cohort *c* in area *a* in year *t* today (£k below). A level's
plan in that cell is ``P[p,a,c,t] = Σ_q x[p,a,c,t,q]`` (every programme the pot buys).

**Money moved** is the money taken from today's cells: ``Σ max(0, T − P)`` over pot, area,
cohort and year. Each cell with ``T > 0`` gets a column ``d ≥ 0`` — family ``moved``, one
row per such cell::

    P[p,a,c,t] + d[p,a,c,t] >= T[p,a,c,t]

so ``d ≥ T − P``; wherever something presses ``d`` down (the limit below, or least
disruption) it equals ``max(0, T − P)``.

* ``transition.max_moved = M`` — family ``max_moved``, one row: ``Σ d <= M · Σ T``, written
  ``−Σ d >= −M · Σ T``: it demands that money stay where it is, so when it collides with
  a rule today's provision breaks, the infeasibility diagnosis relaxes it and names it.
* ``transition.max_change = m`` — family ``transition``, one row per area and year, and
  per cohort and year, whose funding today ``F = Σ T`` is above zero::

      (1 − m) · F <= Σ P <= (1 + m) · F

  An area or cohort with no funding today is not limited (a share of nothing is nothing).
  The lower side demands money, so a diagnosis relaxes it when rules collide.

**Least disruption** (on whenever today's provision is stated: ``least_disruption``,
default true). Among the plans within ``near_optimal`` of the primary optimum (a share:
0.01 = within 1%; 0 = exactly optimal), the solver takes the one closest to today in the
L1 distance ``D = Σ |P − T|`` over every cell, before the soonest-expiring tie-break. With
``|P − T| = P − T + 2·max(0, T − P)``::

    D = Σ_all x + 2 · Σ d − Σ T

so the second objective is ``max −(Σ x + 2 Σ d)`` (the constant dropped), linear in the
same columns ``d``. A cell with ``T = 0`` counts its whole plan. The solver holds each
objective at its optimum before the next (:mod:`optimiser.solve`).

Decisions beyond the contract: the distance is over (pot, area, cohort, year), summing a
pot's programmes in the pool, as "money moved" is; cells are today's cells as the baseline
pays them; a case without provision has a computed baseline, and least disruption then
stays off (it would pull the plan towards an arbitrary spread, not towards contracts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case

from optimiser.baseline import today_cells
from optimiser.families.base import BuildContext, CheckCells, Family, Limit, Measured, scope_sum
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame

KEYS = ["pot_code", "area_code", "cohort_code", "year"]


def least_disruption_on(case: Case) -> bool:
    """Whether the levels of ``case`` take the plan closest to today (see the module docstring)."""
    return bool(case.settings.least_disruption) and case.provision is not None


def _wants_moved(case: Case) -> bool:
    return least_disruption_on(case) or case.settings.transition.max_moved is not None


def _today(case: Case) -> pd.DataFrame:
    t = today_cells(case)
    return t[t["amount"] > 0].reset_index(drop=True)


def moved_variables(case: Case, ctx: BuildContext) -> pd.DataFrame:
    """One column ``d`` per today's cell, when money moved is limited or least disruption is on."""
    if not _wants_moved(case):
        return pd.DataFrame(columns=["kind"])
    t = _today(case)
    return t[KEYS].assign(kind="moved")


def define_moved(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``moved`` rows, the ``max_moved`` row, and least disruption's objective."""
    v = lp.variables
    d_idx = np.flatnonzero((v["kind"] == "moved").to_numpy())
    alloc = np.flatnonzero((v["kind"] == "alloc").to_numpy())
    if len(d_idx):
        d_keys = v.loc[d_idx, KEYS].reset_index(drop=True)
        # Row r is today's cell r; an allocation column joins the row of its cell.
        pos = pd.MultiIndex.from_frame(d_keys.astype(object))
        at = pos.get_indexer(pd.MultiIndex.from_frame(v.loc[alloc, KEYS].astype(object)))
        inside = at >= 0
        amount = _today_amount(case, pos)
        rows = np.concatenate([at[inside], np.arange(len(d_idx))])
        cols = np.concatenate([alloc[inside], d_idx])
        lp.add("moved", meaning_frame(len(d_idx), pot_code=d_keys["pot_code"], area_code=d_keys["area_code"],
                                      cohort_code=d_keys["cohort_code"], year=d_keys["year"],
                                      description=[f"money moved from today's {p} {a} {c} {y}" for p, a, c, y in
                                                   d_keys.itertuples(index=False)]),
               rows, cols, np.ones(len(rows)), amount, np.inf)
        share = case.settings.transition.max_moved
        if share is not None:
            total = float(amount.sum())
            # Written −Σ d ≥ −M·ΣT: it demands that money stay, so a diagnosis may relax it.
            lp.add("max_moved", meaning_frame(1, description=f"at most {share:.0%} of today's money moves"),
                   np.zeros(len(d_idx), dtype=np.int64), d_idx, -np.ones(len(d_idx)), -share * total, np.inf)
    if least_disruption_on(case):
        c = np.zeros(lp.n)
        c[alloc] = -1.0
        c[d_idx] = -2.0
        lp.disruption = c
        lp.near_optimal = float(case.settings.near_optimal)


def _today_amount(case: Case, cells: pd.MultiIndex) -> np.ndarray:
    """Today's money (£k) in each of ``cells`` (pot, area, cohort, year)."""
    return _today(case).set_index(KEYS)["amount"].reindex(cells).to_numpy() / MONEY_SCALE


def rebound_moved(block, lp: LinearProgram, case: Case, ctx: BuildContext) -> tuple | None:
    """A need draw's bounds for the ``moved`` and ``max_moved`` blocks: today's money per cell (the
    baseline spreads it over need) and the limit on the total, as :func:`define_moved` sets them; the
    coefficients do not read need. The drawn model's ``moved`` columns are today's cells (checked by
    :func:`optimiser.redraw.redraw`)."""
    v = lp.variables
    d_keys = v.loc[(v["kind"] == "moved").to_numpy(), KEYS].reset_index(drop=True)
    amount = _today_amount(case, pd.MultiIndex.from_frame(d_keys.astype(object)))
    if np.isnan(amount).any():
        return None
    if block.family == "moved":
        return amount, block.upper
    share = case.settings.transition.max_moved
    if block.family != "max_moved" or share is None:
        return None
    return np.broadcast_to(np.asarray(-share * float(amount.sum()), dtype=float), (len(block.lower),)).copy(), \
        block.upper


def define_change(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``transition`` rows: each area's and cohort's funding within ± max_change of today's."""
    m = case.settings.transition.max_change
    if m is None:
        return
    t = _today(case)
    v = lp.variables
    alloc = np.flatnonzero((v["kind"] == "alloc").to_numpy())
    meaning, rows, cols, lo, up = [], [], [], [], []
    for by, what in (("area_code", "area"), ("cohort_code", "cohort")):
        today = t.groupby([by, "year"], sort=False)["amount"].sum()
        today = today[today > 0]
        if today.empty:
            continue
        index = pd.MultiIndex.from_tuples(list(today.index))
        at = index.get_indexer(pd.MultiIndex.from_frame(v.loc[alloc, [by, "year"]].astype(object)))
        inside = at >= 0
        base = len(meaning)
        rows.append(at[inside] + base)
        cols.append(alloc[inside])
        F = today.to_numpy() / MONEY_SCALE
        lo.append(np.maximum(0.0, 1 - m) * F)
        up.append((1 + m) * F)
        for (code, year) in today.index:
            name = case.area[code].name if what == "area" else case.cohort[code].name
            meaning.append({by: code, "year": year,
                            "description": f"{name}'s funding in {year} within ±{m:.0%} of today's"})
    if not meaning:
        return
    frame = pd.DataFrame(meaning)
    lp.add("transition", meaning_frame(len(frame), **{k: frame[k].where(frame[k].notna(), None).tolist()
                                                      for k in frame.columns}),
           np.concatenate(rows), np.concatenate(cols), np.ones(sum(len(r) for r in rows)),
           np.concatenate(lo), np.concatenate(up))


# ---- closed forms ------------------------------------------------------------------------------
def change_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``transition`` in closed form: per area-year and cohort-year funded today, a minimum and a maximum."""
    m = case.settings.transition.max_change
    if m is None:
        return []
    t = _today(case)
    out = []
    for by, what in (("area_code", "area"), ("cohort_code", "cohort")):
        today = t.groupby([by, "year"], sort=False)["amount"].sum()
        for (code, year), F in today[today > 0].items():
            scope = {"areas": (code,)} if what == "area" else {"cohorts": (code,)}
            shown = {by: code}
            for sense, bound in (("min", max(0.0, 1 - m) * F), ("max", (1 + m) * F)):
                out.append(Limit("transition", sense,
                                 f"{what} {code}'s funding in {year} {'at least' if sense == 'min' else 'at most'} "
                                 f"{'−' if sense == 'min' else '+'}{m:.0%} of today's £{F:,.2f}",
                                 year=year, years=(year,), bound=float(bound), **shown, **scope))
    return out


def moved_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``max_moved`` in closed form: Σ max(0, today − plan) over today's cells ≤ share × today's money."""
    share = case.settings.transition.max_moved
    if share is None:
        return []
    t = _today(case)
    today = tuple((p, a, c, y, float(amt)) for p, a, c, y, amt in t[KEYS + ["amount"]].itertuples(index=False))
    total = float(t["amount"].sum())
    return [Limit("max_moved", "max", f"money moved from today's provision at most {share:.0%} of £{total:,.2f}",
                  measure="moved", bound=share * total, today=today)]


def _moved_formulas(m: Measured, cells: CheckCells) -> dict:
    """Money moved, Σ max(0, today − plan) over today's cells: the *Provision today* sheet lists each
    cell with its live ``max(0, today − plan)`` (the names ``today_moved`` and ``today_amount``); the
    limit is the share (``factor``) of today's money there."""
    total = float(sum(t[4] for t in m.limit.today))
    return {"value_f": "=SUM(today_moved)", "factor": m.limit.bound / total if total > 0 else 0.0,
            "limit_f": f"={cells.col('factor')}*SUM(today_amount)"}


def _binding_change(case: Case, r) -> str:
    return str(r.description).replace(" within ", " held at the edge of ")


TRANSITION = Family(
    "transition", reads_need=True, title="transition limits", words="transition limit",
    define=define_change, demands=True, settle_rank=22, check_rank=7,
    noun="transition limit (transition.max_change)", shadow_unit="per £1,000 more change allowed",
    binding_words=_binding_change, limits=change_limits, check_formulas=scope_sum,
    breach_words=lambda m, money: f"{m.limit.words}: the sheet holds {money(m.value)}",
)

MOVED = Family(
    "moved", reads_need=True, title="money moved from today", reported=False,
    variables=moved_variables, define=define_moved, rebound=rebound_moved,
)

MAX_MOVED = Family(
    "max_moved", reads_need=True, words="money moved", check_rank=8, limits=moved_limits, demands=True,
    noun="limit on money moved (transition.max_moved)", check_formulas=_moved_formulas,
    binding_words=lambda case, r: f"the limit on money moved from today's provision ({r.description})",
    breach_words=lambda m, money: f"{m.limit.words}: the sheet moves {money(m.value)}",
)
