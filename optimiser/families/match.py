"""Match funding, aggregated per area and year.

Rule: each £1 a pot with ``match_rate m > 0`` spends in an area and year needs £m spent
there that year from pots with ``can_match = yes``. Match is pooled across the pots that
need it (one pound of match is not counted twice) — family ``match``, one row per area
*a* and year *t* where a match-needing pot can spend::

    Σ_{p: m_p > 0} m_p · X[p,a,t]  -  Σ_{q: can_match, m_q = 0} X[q,a,t]  <= 0

with ``X[p,a,t] = Σ_{c,prog} x[p,a,c,t,prog]``. A pot that itself needs match does not
count as match, even if marked ``can_match`` (its spend cannot match itself; the validator
warns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.case.tables import lookup

from optimiser.families.base import IDLE_THRESHOLD, CheckCells, Family, Limit, Measured, Reasons
from optimiser.lp import LinearProgram, group_rows, meaning_frame


def define_match(lp: LinearProgram, case: Case) -> None:
    """Add the ``match`` rows (see the module docstring)."""
    v = lp.variables
    rate = lookup(v["pot_code"], {p.code: p.match_rate for p in case.pots}, default=0.0)
    can = lookup(v["pot_code"], {p.code: (p.can_match and p.match_rate == 0) for p in case.pots}, default=False,
                 dtype=bool)
    alloc = (v["kind"] == "alloc").to_numpy()
    needs = alloc & (rate > 0)
    if not needs.any():
        return
    gives = alloc & can
    keyed = pd.MultiIndex.from_frame(v.loc[needs, ["area_code", "year"]].drop_duplicates())
    in_scope = pd.MultiIndex.from_frame(v[["area_code", "year"]]).isin(keyed)
    idx = np.flatnonzero((needs | gives) & in_scope)
    coef = np.where(needs[idx], rate[idx], -1.0)
    codes, keys = group_rows(v.loc[idx, ["area_code", "year"]])
    lp.add("match", meaning_frame(len(keys), area_code=keys["area_code"], year=keys["year"],
                                  description=[f"match funding in {a} {t}" for a, t in
                                               zip(keys["area_code"], keys["year"])]),
           codes, idx, coef, -np.inf, 0.0)


def match_limits(case: Case, pool: frozenset[str]) -> list[Limit]:
    """``match`` in closed form: one per area and year where a match-needing pot may spend at
    the level of ``pool``: ``Σ m_p · spend[p] ≤ Σ spend[q]`` over pots that may count as match."""
    needers = tuple((p.code, p.match_rate) for p in case.pots if p.match_rate > 0)
    if not needers:
        return []
    givers = tuple(p.code for p in case.pots if p.can_match and p.match_rate == 0)
    v = case.eligibility.rows(pool, keep=True)
    spend = v[v["pot_code"].isin([p for p, _ in needers])][["area_code", "year"]].drop_duplicates()
    keys = set(zip(spend["area_code"], spend["year"]))
    rates = ", ".join(f"{p} £{m:g}" for p, m in needers)
    return [
        Limit("match", "max", f"match funding in {a} {t}: each £1 of {rates} needs that much spent from pots "
              "that count as match", area_code=a, year=t, areas=(a,), years=(t,), measure="match",
              needers=needers, givers=givers)
        for a in case.area for t in case.years if (a, t) in keys
    ]


def _match_breach(m: Measured, money) -> str:
    lim = m.limit
    return (f"match funding in {lim.area_code} {lim.year}: {money(m.value)} of match needed, "
            f"{money(m.bound)} spent by pots that count as match")


def _match_formulas(m: Measured, cells: CheckCells) -> dict:
    lim = m.limit
    where = "*".join(cells.scope_terms(lim))
    needs = "+".join(f"EXACT(alloc_pot,{cells.pot_cell(p)})*{cells.match_rate_cell(p)}" for p, _ in lim.needers)
    out = {"value_f": f"=SUMPRODUCT({where}*({needs}),alloc_amount)"}
    if lim.givers:
        gives = "+".join(f"EXACT(alloc_pot,{cells.pot_cell(p)})" for p in lim.givers)
        out["limit_f"] = f"=SUMPRODUCT({where}*({gives}),alloc_amount)"
    else:
        out["limit_f"] = 0.0
    return out


def _tight_keys(ctx: Reasons) -> set:
    tight = ctx.tight[ctx.tight["family"] == "match"]
    return set(zip(tight["area_code"], tight["year"]))


def _match_gap(ctx: Reasons):
    case, keys = ctx.case, _tight_keys(ctx)
    needs = {p.code for p in case.pots if p.match_rate > 0}

    def reason(r):
        # Match holds the cell back only where a pot needing it still has money to spend.
        short = sorted(p for p in needs & set(r.pots) if ctx.money_left.get((p, r.year), 0.0) >= IDLE_THRESHOLD)
        if (r.area_code, r.year) not in keys or not short:
            return None
        return "match", (f"{', '.join(short)} could fund it and {'has' if len(short) == 1 else 'have'} "
                         f"money left, but the match funding in {case.area[r.area_code].name} {r.year} is used up")
    return reason


def _match_idle(ctx: Reasons):
    keys = _tight_keys(ctx)

    def reason(pot, budget, window, mine):
        if pot.match_rate > 0 and any((a, t) in keys for a, t in zip(mine["area_code"], mine["year"])):
            return "match", f"{pot.name} needs £{pot.match_rate:.2f} of match per £1 and the match is used up"
        return None
    return reason


MATCH = Family(
    "match", title="match funding", words="match funding",
    define=lambda lp, case, ctx: define_match(lp, case),
    settle_rank=50, check_rank=3, key_columns=("area_code", "year"),
    binding_words=lambda case, r: f"the match funding in {case.area[r.area_code].name} {r.year} is fully used",
    limits=match_limits, breach_words=_match_breach, check_formulas=_match_formulas,
    gap_reason=_match_gap, idle_reason=_match_idle, reason_rank=2, idle_rank=1,
)
