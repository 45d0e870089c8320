"""Programme capacity: a programme cannot grow without limit.

Rule — family ``capacity``, one row per programme *q* and year *t* with a cap::

    Σ_{p,a,c} 1000 · x[p,a,c,t,q] / u[q,c] <= K[q,t]

participants served through *q*'s programme in year *t*, whichever pot pays (``x`` in £k,
``u`` the programme's unit cost for the cohort, after ``rates``). The cap:

* a pot that states ``capacity`` (participants a year) has ``K[q,t] = capacity`` at every
  level — a provider's real limit;
* otherwise, in the **pooled** level only, a programme that other members' money may buy
  serves at most ``programme_scale`` (case.yaml, default 2) times what its own budget
  buys: ``K[q,t] = s · A[q,t] / min_c u[q,c]``, with ``A`` its money available in *t*
  (budget plus carry-forward window) and the cheapest of its unit costs, so that the pot's
  own spending alone never breaks the cap and the aligned plan stays feasible in the pool
  (pooled ≥ aligned). A programme with no money of its own in a year cannot be bought
  that year. In the aligned level each pot buys only its own programme with its own
  money, so the multiple cannot bind and no row is added.

Why 2 by default (a decision beyond the contract): doubling a programme within a year is
the most growth we would put before a board without a provider's word for it — employment
programmes are contracted by provider capacity, caseloads per adviser and premises — while
a cap of 1 would forbid the pool from buying a better programme at all. It is a judgement,
stated as one: set ``programme_scale`` or a pot's ``capacity`` from evidence.
"""

from __future__ import annotations

import numpy as np

from commissioning.case.model import Case

from optimiser.families.base import BuildContext, Family, Limit, scope_sum
from optimiser.lp import MONEY_SCALE, LinearProgram, group_rows, meaning_frame


def caps(case: Case, pool: frozenset[str], bought: set[str] | None = None) -> dict[tuple[str, str], float]:
    """``K[q,t]`` per (programme, year) with a cap, in participants (see the module docstring).

    ``bought``: the programmes other pots may buy at this level (the pooled level's; empty
    at the aligned level, where only stated capacities apply)."""
    out: dict[tuple[str, str], float] = {}
    scale = float(case.settings.programme_scale)
    for p in case.pots:
        stated = p.capacity is not None
        if not stated and p.code not in (bought or set()):
            continue
        cheapest = min((case.unit_cost(p.code, c) for c in case.eligibility.reach(p.code)[1]), default=p.unit_cost)
        for t in case.years:
            out[(p.code, t)] = float(p.capacity) if stated else scale * case.available(p.code, t) / cheapest
    return out


def _bought(v, pool: frozenset[str]) -> set[str]:
    if not pool:
        return set()
    a = v[v["kind"] == "alloc"]
    return set(a.loc[a["programme"] != a["pot_code"], "programme"])


def define_capacity(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``capacity`` rows (see the module docstring)."""
    v = lp.variables
    cap = caps(case, ctx.pool, _bought(v, ctx.pool))
    if not cap:
        return
    alloc = np.flatnonzero((v["kind"] == "alloc").to_numpy())
    keys = list(zip(v.loc[alloc, "programme"], v.loc[alloc, "year"]))
    inside = np.array([k in cap for k in keys], dtype=bool)
    if not inside.any():
        return
    idx = alloc[inside]
    codes, rows = group_rows(v.loc[idx, ["programme", "year"]])
    rhs = np.array([cap[(q, t)] for q, t in zip(rows["programme"], rows["year"])])
    coef = MONEY_SCALE / v.loc[idx, "unit_cost"].to_numpy(dtype=float)
    lp.add("capacity", meaning_frame(len(rows), pot_code=rows["programme"], year=rows["year"],
                                     description=[f"{q}'s programme serves at most {k:,.0f} participants in {t}"
                                                  for q, t, k in zip(rows["programme"], rows["year"], rhs)]),
           codes, idx, coef, -np.inf, rhs)


def capacity_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``capacity`` in closed form: participants through each capped programme in a year (the pooled level's caps)."""
    bought = case.eligibility.rows(frozenset(pool)) if pool else None
    others = set(bought.loc[bought["programme"] != bought["pot_code"], "programme"]) if bought is not None else set()
    return [
        Limit("capacity", "max", f"{q}'s programme serves at most {k:,.1f} participants in {t}", unit="people",
              pot_code=q, year=t, programmes=(q,), years=(t,), measure="participants", bound=k)
        for (q, t), k in caps(case, pool, others).items()
    ]


CAPACITY = Family(
    "capacity", title="programme capacity", words="programme capacity",
    define=define_capacity, settle_rank=25, check_rank=9, row_unit="people",
    key_columns=("pot_code", "year"), shadow_unit="per extra participant of capacity",
    binding_words=lambda case, r: f"{case.pot[r.pot_code].name}'s programme is at its capacity in {r.year}",
    limits=capacity_limits, check_formulas=lambda m, cells: scope_sum(m, cells, "participants"),
    breach_words=lambda m, money: f"{m.limit.words}: the sheet serves {m.value:,.1f}",
)
