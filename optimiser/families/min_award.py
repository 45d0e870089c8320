"""Minimum award: a pot's money in an area and year is nothing, or at least a stated sum.

A pot may state ``min_award`` (£): a commissioner does not let a contract for £140. For
each such pot *p*, area *a* and year *t* in which it has columns, a switch ``y ∈ {0, 1}``
(column kind ``award``) and two rows, spend ``S = Σ_{c,q} x[p,a,c,t,q]`` (£k; summed over
cohorts and programmes)::

    S − (m / 1000) · y >= 0        family min_award: at least m when on
    S − (A / 1000) · y <= 0        family award_on: nothing when off

with ``A`` the pot's money available in the year (budget plus carry-forward window),
which no spend can exceed. This makes the level a mixed-integer programme; the solver
module solves it to a stated gap (:data:`optimiser.solve.MIP_GAP`), keeps the LP
relaxation's optimum as the bound, reports the gap, and reports shadow prices of the LP
with the switches fixed as the plan has them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case

from optimiser.families.base import BuildContext, Family, Limit, scope_sum
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame


def _awarding(case: Case) -> dict[str, float]:
    return {p.code: float(p.min_award) for p in case.pots if p.min_award}


def _cells(case: Case, variables: pd.DataFrame) -> pd.DataFrame:
    mins = _awarding(case)
    a = variables[(variables["kind"] == "alloc") & variables["pot_code"].isin(list(mins))]
    return a[["pot_code", "area_code", "year"]].drop_duplicates().reset_index(drop=True)


def award_variables(case: Case, ctx: BuildContext) -> pd.DataFrame:
    """One switch per pot with a minimum award, area and year it may fund at this level."""
    if not _awarding(case):
        return pd.DataFrame(columns=["kind"])
    rows = case.eligibility.rows(ctx.pool, ctx.objective)
    return _cells(case, rows.assign(kind="alloc")).assign(kind="award")


def define_award(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``min_award`` and ``award_on`` rows and make the switches whole (see the module docstring)."""
    mins = _awarding(case)
    v = lp.variables
    y_idx = np.flatnonzero((v["kind"] == "award").to_numpy())
    if not len(y_idx):
        return
    keys = v.loc[y_idx, ["pot_code", "area_code", "year"]].reset_index(drop=True)
    pos = pd.MultiIndex.from_frame(keys.astype(object))
    alloc = np.flatnonzero(((v["kind"] == "alloc") & v["pot_code"].isin(list(mins))).to_numpy())
    at = pos.get_indexer(pd.MultiIndex.from_frame(v.loc[alloc, ["pot_code", "area_code", "year"]].astype(object)))
    inside = at >= 0
    rows = np.concatenate([at[inside], np.arange(len(y_idx))])
    cols = np.concatenate([alloc[inside], y_idx])
    m = keys["pot_code"].map(mins).to_numpy(dtype=float) / MONEY_SCALE
    big = np.array([case.available(p, t) for p, t in zip(keys["pot_code"], keys["year"])]) / MONEY_SCALE
    ones = np.ones(int(inside.sum()))
    words = [f"{case.pot[p].name} in {case.area[a].name} {t}" for p, a, t in keys.itertuples(index=False)]
    frame = dict(pot_code=keys["pot_code"], area_code=keys["area_code"], year=keys["year"])
    lp.add("min_award", meaning_frame(len(keys), **frame,
                                      description=[f"{w}: nothing or at least £{mins[p]:,.0f}"
                                                   for w, p in zip(words, keys["pot_code"])]),
           rows, cols, np.concatenate([ones, -m]), 0.0, np.inf)
    lp.add("award_on", meaning_frame(len(keys), **frame, description=[f"{w}: nothing unless awarded" for w in words]),
           rows, cols, np.concatenate([ones, -big]), -np.inf, 0.0)
    lp.upper[y_idx] = 1.0
    lp.mark_integer(y_idx)


def award_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``min_award`` in closed form: per pot with a minimum, area and year it may fund, nothing or at least it."""
    mins = _awarding(case)
    if not mins:
        return []
    cells = _cells(case, case.eligibility.rows(pool if len(pool) >= 2 else frozenset()).assign(kind="alloc"))
    return [
        Limit("min_award", "zero_or_min", f"{p} in {a} {t}: nothing or at least £{mins[p]:,.2f}", pot_code=p,
              area_code=a, year=t, pots=(p,), areas=(a,), years=(t,), bound=mins[p])
        for p, a, t in cells.itertuples(index=False)
    ]


MIN_AWARD = Family(
    "min_award", title="minimum awards", words="minimum award",
    variables=award_variables, define=define_award, demands=True, check_rank=12,
    noun="minimum award (pots.min_award)",
    binding_words=lambda case, r: f"the minimum award binds: {r.description}",
    limits=award_limits, check_formulas=scope_sum,
    breach_words=lambda m, money: f"{m.limit.words}: the sheet holds {money(m.value)}",
)

AWARD_ON = Family("award_on", reported=False, settle_rank=45)  # rows added by MIN_AWARD's define
