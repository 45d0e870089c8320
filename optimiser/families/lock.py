"""Locks: parts of today's provision kept exactly as they are (contracts already signed).

Rule: for every locked provision cell — pot *p*, area *a*, cohort *c*, year *t* with
committed amount ``L`` (£) — family ``lock``, one row per cell::

    x[p,a,c,t,p] = L / 1000        and  x[p,a,c,t,q] <= 0 for every other programme q

A signed contract buys what it buys: locked money keeps **its own programme's** unit
cost and outcome rate at every level. In the pool the pot may otherwise buy the pool's
cheaper programme for the cohort; counting the lock at that price would buy phantom
outcomes (a "join the pool" ask once measured its whole gain from it). So the lock holds
the pot's own-programme column, and its other columns in the locked cell are closed.

A locked cell the pot may not fund under the level's rules (no variable exists, or no
need there) cannot be kept: it is recorded in ``lp.infeasible_rules`` so the diagnosis
names the lock. A lock that overspends a pot or exceeds need collides with those rows
and the elastic diagnosis names it.
"""

from __future__ import annotations

import numpy as np

from commissioning.case.model import Case

from optimiser.families.base import Family, Limit, scope_sum
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame


CANNOT_KEEP = " — the pot may not fund that cell (or it has no need) under this scenario's rules"


def define_lock(lp: LinearProgram, case: Case) -> None:
    """Add the ``lock`` rows (see the module docstring)."""
    if not case.locks:
        return
    totals: dict[tuple[str, str, str, str], float] = {}
    for pr in case.locks:
        key = (pr.pot_code, pr.area_code, pr.cohort_code, pr.year)
        totals[key] = totals.get(key, 0.0) + pr.amount
    v = lp.variables
    alloc = v[v["kind"] == "alloc"]
    index: dict[tuple, list[int]] = {}
    others: dict[tuple, list[int]] = {}
    for i, key, own in zip(alloc.index, zip(alloc["pot_code"], alloc["area_code"], alloc["cohort_code"], alloc["year"]),
                           (alloc["programme"] == alloc["pot_code"]).to_numpy()):
        (index if own else others).setdefault(key, []).append(i)
    rows, cols, rhs, meaning = [], [], [], []
    for key, amount in totals.items():
        p, a, c, t = key
        idx = index.get(key)
        label = f"lock: {p} keeps £{amount:,.0f} for {c} in {case.area[a].name if a in case.area else a} {t}"
        if not idx:
            if amount > 0:
                lp.infeasible_rules.append(label + CANNOT_KEEP)
            continue
        lp.upper[others.get(key, [])] = 0.0  # the pool's other programmes stay closed here
        r = len(rhs)
        rows.extend([r] * len(idx))
        cols.extend(idx)
        rhs.append(amount / MONEY_SCALE)
        meaning.append((p, a, c, t, label))
    if not rhs:
        return
    pots, areas, cohorts, years, desc = zip(*meaning)
    rhs_arr = np.array(rhs)
    lp.add("lock", meaning_frame(len(rhs), pot_code=pots, area_code=areas, cohort_code=cohorts, year=years,
                                 description=desc),
           np.array(rows), np.array(cols), np.ones(len(cols)), rhs_arr, rhs_arr)


def lock_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``lock`` in closed form: one per locked provision cell (spend equals the committed amount)."""
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


LOCK = Family(
    "lock", title="locks", words="locked provision",
    define=lambda lp, case, ctx: define_lock(lp, case),
    demands=True, pins=True, check_rank=5,
    limits=lock_limits, check_formulas=scope_sum,
    breach_words=lambda m, money: f"{m.limit.words}: the sheet holds {money(m.value)}",
)
