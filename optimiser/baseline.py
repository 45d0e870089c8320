"""The baseline: today's provision, or each pot spread blind over its own eligible need.

Rules (the contract's, and the decisions where it is silent):

1. **Source.** With a ``provision`` table, the baseline is that provision — only rows the
   pot may legally fund (an ineligible row is an eligibility breach, flagged by the map,
   and buys nothing). Without one, each pot's money is spread blind to the other pots
   over its own eligible need **in every year that money may be spent**: budget years are
   taken oldest first, and budget year *s*'s money ``B_s`` is shared over the need its
   window ``W_s`` (*s* and the next ``carry_forward`` years of the pot's life) still leaves
   unpaid, in proportion to it. With ``r_t`` the cost of year *t*'s unpaid eligible need
   (Σ need × unit cost over the pot's cells)::

       f_s = min(1, B_s / Σ_{t∈W_s} r_t);   spend_t += f_s · r_t;   r_t -= f_s · r_t

   and year *t*'s spend is shared over its cells so that each serves the same fraction of
   its need (spend ∝ need × unit cost). So a pot with ``carry_forward = 1``, £70,000 in
   2025-26 only, £1,000 a head and need of 20 then 50 serves 20 and then 50 people — the
   money today would carry — rather than 20 and £50,000 idle. (Decision beyond the
   contract, so that the alignment dividend is not an artefact of a blind baseline.)
2. **Budgets.** A pot whose provision in a year exceeds the money left to it is scaled
   down to that money (the validator warns). Years are taken in order and the oldest
   money (the soonest to expire) is spent first, so money carried forward is never
   counted twice.
3. **Duplication buys nothing.** Where the pots stacked on a cell serve more people than
   its need, every pot's spend there is scaled down pro rata to the need; the excess is
   not an allocation (it is counted with the idle money, and the map flags it).
4. **Match.** A pot that needs match draws only as much as the matching pots' baseline
   spend in that area and year allows: all match-needing pots in an area and year are
   scaled by one factor so that ``Σ m_p X_p <= Σ X_q (can_match)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.case.money import walk

from optimiser.variables import VAR_COLUMNS


def penny_floor(pounds: np.ndarray) -> np.ndarray:
    """Floor to the penny, never rounding up past a bound.

    The 1e-3 of a penny forgives solver noise (CBC and HiGHS are accurate to ~1e-6 £ at
    the tolerances set here), so £11,999.999999 reads as £12,000.00, while anything a full
    penny over a budget could only come from a real violation.
    """
    return np.floor(np.asarray(pounds) * 100 + 1e-3) / 100


def baseline_allocation(case: Case) -> pd.DataFrame:
    """Money by pot, area, cohort and year, in £, with the variable columns of the LP."""
    cells = case.eligibility.cells(with_need_only=False)
    keys = ["pot_code", "area_code", "cohort_code", "year"]
    if case.provision is not None:
        prov = pd.DataFrame([(p.pot_code, p.area_code, p.cohort_code, p.year, p.amount) for p in case.provision],
                            columns=keys + ["amount"])
        prov = prov.groupby(keys, sort=False, as_index=False)["amount"].sum()
        alloc = cells.merge(prov, on=keys, how="inner")  # only what the pot may legally fund
    else:
        alloc = _spread(case, cells[cells["need"] > 0].copy())
    alloc = alloc[alloc["amount"] > 0].copy()
    if alloc.empty:
        return _frame(alloc)

    # 2. No pot spends more than it has: walk each pot's years in order, spending the
    #    oldest (soonest-expiring) money first, so carried money is never spent twice.
    alloc["amount"] *= _money_limits(case, alloc)

    # 3. Duplication buys nothing: scale a cell's pots down to its need.
    people = alloc["amount"] / alloc["unit_cost"]
    served = people.groupby([alloc["area_code"], alloc["cohort_code"], alloc["year"]]).transform("sum")
    factor = np.where(served > alloc["need"], alloc["need"] / served.where(served > 0, 1.0), 1.0)
    alloc["amount"] *= factor

    # 4. Match: scale match-needing pots by area and year to the match available.
    rate = alloc["pot_code"].map({p.code: p.match_rate for p in case.pots})
    gives = alloc["pot_code"].map({p.code: p.can_match and p.match_rate == 0 for p in case.pots}).astype(bool)
    if (rate > 0).any():
        grp = [alloc["area_code"], alloc["year"]]
        wanted = (rate * alloc["amount"]).groupby(grp).transform("sum")
        match = alloc["amount"].where(gives, 0.0).groupby(grp).transform("sum")
        scale = np.where(wanted > match, match / wanted.where(wanted > 0, 1.0), 1.0)
        alloc["amount"] *= np.where(rate > 0, scale, 1.0)
    alloc = alloc[alloc["amount"] > 1e-9]
    return _frame(alloc)


def _money_limits(case: Case, alloc: pd.DataFrame) -> np.ndarray:
    """Per row, the factor that scales each pot-year's spending down to money really left
    (:func:`commissioning.case.money.walk`: the oldest money first)."""
    spend = alloc.groupby(["pot_code", "year"])["amount"].sum()
    factor: dict[tuple[str, str], float] = {}
    for pot_code in spend.index.get_level_values(0).unique():
        wanted = {t: float(v) for t, v in spend[pot_code].items()}
        w = walk(case, pot_code, wanted)
        for t, want in wanted.items():
            if want > 0:
                factor[(pot_code, t)] = w.paid.get(t, 0.0) / want
    return np.array([factor.get(k, 1.0) for k in zip(alloc["pot_code"], alloc["year"])])


def _spread(case: Case, cells: pd.DataFrame) -> pd.DataFrame:
    """Each pot's money spread over its own eligible need in every year it may be spent
    (rule 1 of the module docstring). ``cells``: the pot's eligible cells with need > 0."""
    cells["cost"] = cells["need"] * cells["unit_cost"]
    demand = cells.groupby(["pot_code", "year"], sort=False)["cost"].sum()
    spend: dict[tuple[str, str], float] = {}
    for b in sorted(case.budgets, key=lambda b: b.year):  # oldest money first
        if b.amount <= 0 or b.pot_code not in demand.index.get_level_values(0):
            continue
        mine = demand[b.pot_code]
        window = [t for t in case.spend_years(b.pot_code, b.year) if t in mine.index]
        unpaid = {t: float(mine[t]) - spend.get((b.pot_code, t), 0.0) for t in window}
        total = sum(unpaid.values())
        if total <= 0:
            continue
        f = min(1.0, b.amount / total)
        for t, r in unpaid.items():
            spend[(b.pot_code, t)] = spend.get((b.pot_code, t), 0.0) + f * r
    key = list(zip(cells["pot_code"], cells["year"]))
    paid = np.array([spend.get(k, 0.0) for k in key])
    cost = np.array([float(demand[k]) for k in key])
    cells["amount"] = np.where(cost > 0, cells["cost"].to_numpy() * paid / np.where(cost > 0, cost, 1.0), 0.0)
    return cells.drop(columns=["cost"])


def _frame(alloc: pd.DataFrame) -> pd.DataFrame:
    out = alloc.assign(kind="alloc", programme=alloc["pot_code"], budget_year=None)
    return out.reindex(columns=VAR_COLUMNS + ["amount"]).reset_index(drop=True)


_TODAY: dict[int, tuple[object, pd.DataFrame]] = {}


def share_today(case: Case, other: Case) -> None:
    """Let ``other``, a case with today's provision, need, pots and years all those of ``case``
    (only its protection floors differ), share ``case``'s today's cells (worked out once)."""
    hit = _TODAY.get(id(other))
    if hit is not None and hit[0] is other:
        return
    cells = today_cells(case)
    _remember(other, cells, keep=case)


def today_cells(case: Case) -> pd.DataFrame:
    """Today's money per pot, area, cohort and year — the baseline's — with its participants:
    columns ``pot_code, area_code, cohort_code, year, amount`` (£) and ``participants``.

    "Today" for the transition limits, least disruption, protection and contracts is the
    baseline, so a plan is measured against what today's provision really buys (over-spent
    pots and duplicated cells scaled as the baseline scales them). Worked out once per case.
    """
    hit = _TODAY.get(id(case))
    if hit is not None and hit[0] is case:
        return hit[1]
    base = baseline_allocation(case)
    base = base.assign(amount=penny_floor(base["amount"]))  # as the baseline level reports it
    keys = ["pot_code", "area_code", "cohort_code", "year"]
    out = base.assign(participants=base["amount"] / base["unit_cost"])[keys + ["amount", "participants"]]
    out = out.groupby(keys, sort=False, as_index=False)[["amount", "participants"]].sum()
    _remember(case, out)
    return out


def _remember(case: Case, cells: pd.DataFrame, keep: Case | None = None) -> None:
    """Keep ``case``'s today's cells, a few cases at a time (a sweep makes many); ``keep``'s stay."""
    if len(_TODAY) >= 4:
        kept = _TODAY.get(id(keep)) if keep is not None else None
        _TODAY.clear()
        if kept is not None:
            _TODAY[id(keep)] = kept
    _TODAY[id(case)] = (case, cells)
