"""The baseline: today's provision, or each pot spread blind over its own eligible need.

Rules (the contract's, and the decisions where it is silent):

1. **Source.** With a ``provision`` table, the baseline is that provision — only rows the
   pot may legally fund (an ineligible row is an eligibility breach, flagged by the map,
   and buys nothing). Without one, each pot's budget for a year is spread over its
   eligible cells with need in proportion to that need, blind to the other pots, never
   more than the cell's need at the pot's own unit cost.
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

from commissioning.model import Case

from .variables import VAR_COLUMNS


def baseline_allocation(case: Case) -> pd.DataFrame:
    """Money by pot, area, cohort and year, in £, with the variable columns of the LP."""
    cells = case.eligible_cells(with_need_only=False)
    keys = ["pot_code", "area_code", "cohort_code", "year"]
    if case.provision is not None:
        prov = pd.DataFrame([(p.pot_code, p.area_code, p.cohort_code, p.year, p.amount) for p in case.provision],
                            columns=keys + ["amount"])
        prov = prov.groupby(keys, sort=False, as_index=False)["amount"].sum()
        alloc = cells.merge(prov, on=keys, how="inner")  # only what the pot may legally fund
    else:
        alloc = cells[cells["need"] > 0].copy()
        share = alloc["need"] / alloc.groupby(["pot_code", "year"])["need"].transform("sum")
        alloc["amount"] = [case.budget.get((p, t), 0.0) for p, t in zip(alloc["pot_code"], alloc["year"])] * share
        alloc["amount"] = np.minimum(alloc["amount"], alloc["need"] * alloc["unit_cost"])
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
    """Per row, the factor that scales each pot-year's spending down to money really left."""
    spend = alloc.groupby(["pot_code", "year"])["amount"].sum()
    factor: dict[tuple[str, str], float] = {}
    for pot_code in spend.index.get_level_values(0).unique():
        left = {b.year: b.amount for b in case.budgets if b.pot_code == pot_code}  # per budget year
        for t in case.years:
            want = float(spend.get((pot_code, t), 0.0))
            if want <= 0:
                continue
            sources = [s for s in sorted(left) if t in case.spend_years(pot_code, s) and left[s] > 0]
            have = sum(left[s] for s in sources)
            used = min(want, have)
            factor[(pot_code, t)] = used / want
            for s in sources:  # oldest first
                take = min(left[s], used)
                left[s] -= take
                used -= take
    return np.array([factor.get(k, 1.0) for k in zip(alloc["pot_code"], alloc["year"])])


def _frame(alloc: pd.DataFrame) -> pd.DataFrame:
    out = alloc.assign(kind="alloc", programme=alloc["pot_code"], budget_year=None)
    return out.reindex(columns=VAR_COLUMNS + ["amount"]).reset_index(drop=True)
