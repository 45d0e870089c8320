"""Where pooled money may go: a pot that stays in its own areas.

In the pool a member may fund any area some member may fund (:mod:`optimiser.variables`).
A pot states whether that holds for it: ``pool_areas = pool`` (it may), or ``own`` (its
money stays in its own geography, in the pool as today). A council's own budget
(``basis = local``) stays home unless it says ``pool``: Leeds City Council's money is
Leeds's, whatever the combined authority pools.

Rule — family ``pool_areas``, pooled level only, one row per pool member *p* that stays
home and year *t* in which it has columns outside its geography ``G_p``::

    Σ_{a ∉ G_p, c, q} x[p,a,c,t,q] <= 0

The columns stay in the model (rather than not being made), so that the row's shadow
price measures what letting the pot spend across the pool would buy.
"""

from __future__ import annotations

import numpy as np

from commissioning.case.model import Case

from optimiser.families.base import BuildContext, Family, Limit, scope_sum
from optimiser.lp import LinearProgram, group_rows, meaning_frame


def home_pots(case: Case, pool: frozenset[str]) -> list[str]:
    """The pool members that stay in their own areas, in case order."""
    return [p.code for p in case.pots if p.code in pool and p.stays_home] if len(pool) >= 2 else []


def define_pool_areas(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``pool_areas`` rows (see the module docstring)."""
    home = home_pots(case, ctx.pool)
    if not home:
        return
    v = lp.variables
    alloc = v[(v["kind"] == "alloc") & v["pot_code"].isin(home)]
    away = np.array([a not in case.eligibility.reach(p)[0] for p, a in zip(alloc["pot_code"], alloc["area_code"])],
                    dtype=bool)
    idx = alloc.index.to_numpy()[away]
    if not len(idx):
        return
    codes, rows = group_rows(v.loc[idx, ["pot_code", "year"]])
    lp.add("pool_areas", meaning_frame(len(rows), pot_code=rows["pot_code"], year=rows["year"],
                                       description=[f"{case.pot[p].name} stays in its own areas in {t}"
                                                    for p, t in zip(rows["pot_code"], rows["year"])]),
           codes, idx, np.ones(len(idx)), -np.inf, 0.0)


def pool_area_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``pool_areas`` in closed form: a pot that stays home spends nothing outside its geography."""
    out = []
    for p in home_pots(case, pool):
        outside = tuple(a for a in case.area if a not in case.eligibility.reach(p)[0])
        if outside:
            out.append(Limit("pool_areas", "max", f"{p} spends only in its own areas", pot_code=p,
                             area_code="outside its geography", pots=(p,), areas=outside, bound=0.0))
    return out


POOL_AREAS = Family(
    "pool_areas", title="pots that stay in their own areas", words="own areas only",
    define=define_pool_areas, settle_rank=15, check_rank=10,
    key_columns=("pot_code", "year"), shadow_unit="per £1,000 it could spend across the pool",
    binding_words=lambda case, r: f"{case.pot[r.pot_code].name} stays in its own areas in {r.year}",
    limits=pool_area_limits, check_formulas=scope_sum,
    breach_words=lambda m, money: f"{m.limit.words}: the sheet spends {money(m.value)} elsewhere",
)
