"""Equity floor: no area is left far behind.

Rule: each area's share of its need served is at least ``equity_floor`` × the overall
share served, over the whole period. With ``P_a`` participants in area *a*, ``N_a`` its
need (people, all cohorts and years), ``P = Σ_a P_a`` and ``N = Σ_a N_a``::

    P_a / N_a >= e · P / N

Decisions beyond the contract:

* ``N_a`` counts only need that some pot may fund **under today's rules** (the aligned
  level's cells), at every level. Need no pot can reach cannot be lifted by any
  allocation; counting it would force every area's service to zero whenever one area has
  such need (it is reported as a gap with its reason instead). And the pooled level
  measures the floor against the same need as the aligned level: were each level to use
  the need its own variables reach, pooling would open new need in one area, raise that
  area's floor and could force a *worse* plan than alignment (a negative devolution
  dividend). With one yardstick the aligned allocation stays feasible in the pool, so
  pooled ≥ aligned holds with the floor on. ``P_a`` counts every participant in the area.

To keep rows sparse (every variable would otherwise sit in every area's row), an
auxiliary variable ``S`` carries total participants — family ``equity_total``::

    S - Σ_all 1000 · x / u = 0

and family ``equity``, one row per area with need::

    Σ_{x in a} 1000 · x / u  -  e · (N_a / N) · S >= 0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case

from optimiser.families.base import CheckCells, Family, Limit, Measured, people_allowance
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame


def equity_variables(case: Case, floor: float) -> pd.DataFrame:
    """The auxiliary column ``S`` (total participants), when the case sets an equity floor."""
    if floor <= 0:
        return pd.DataFrame(columns=["kind", "pot_code"])
    return pd.DataFrame([{"kind": "aux", "pot_code": None, "description": "total participants"}])


def reachable_need(case: Case) -> pd.Series:
    """``N_a``: people in need, per area, in cells some pot may fund under today's rules."""
    cells = case.eligibility.cells(with_need_only=True)
    cells = cells.drop_duplicates(subset=["area_code", "cohort_code", "year"])
    return cells.groupby("area_code", sort=False)["need"].sum()


def define_equity(lp: LinearProgram, case: Case, floor: float) -> None:
    """Add the ``equity_total`` and ``equity`` rows (see the module docstring)."""
    if floor <= 0:
        return
    v = lp.variables
    aux = np.flatnonzero((v["kind"] == "aux").to_numpy())
    alloc = np.flatnonzero((v["kind"] == "alloc").to_numpy())
    if not len(aux) or not len(alloc):
        return
    s = aux[0]
    per = MONEY_SCALE / v.loc[alloc, "unit_cost"].to_numpy()
    lp.add("equity_total", meaning_frame(1, description="total participants"),
           np.zeros(len(alloc) + 1, dtype=np.int64), np.append(alloc, s), np.append(-per, 1.0), 0.0, 0.0)

    need = reachable_need(case)
    total = float(need.sum())
    if total <= 0:
        return
    areas = [a for a in case.area if need.get(a, 0.0) > 0]
    row_of = {a: i for i, a in enumerate(areas)}
    var_area = v.loc[alloc, "area_code"].map(row_of)
    keep = var_area.notna().to_numpy()
    rows = np.concatenate([var_area[keep].to_numpy(dtype=np.int64), np.arange(len(areas))])
    cols = np.concatenate([alloc[keep], np.full(len(areas), s)])
    coefs = np.concatenate([per[keep], [-floor * need[a] / total for a in areas]])
    lp.add("equity", meaning_frame(len(areas), area_code=areas,
                                   description=[f"equity floor for {case.area[a].name}" for a in areas]),
           rows, cols, coefs, 0.0, np.inf)


def equity_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``equity`` in closed form: one per area with reachable need, when the case sets a floor
    (participants ≥ floor × the area's share of reachable need × all participants)."""
    floor = case.settings.equity_floor
    if floor <= 0:
        return []
    need = reachable_need(case)  # today's reach, at every level
    total = float(need.sum())
    if total <= 0:
        return []
    return [
        Limit("equity", "min", f"equity floor: {case.area[a].name} serves at least {floor:.0%} of the overall "
              "share of need served", unit="people", area_code=a, areas=(a,), measure="equity",
              equity_share=floor * float(need[a]) / total)
        for a in case.area if need.get(a, 0.0) > 0
    ]


def _equity_formulas(m: Measured, cells: CheckCells) -> dict:
    area = f"EXACT(alloc_area,{cells.col('area', absolute=True)})"
    return {"factor": m.limit.equity_share,
            "value_f": f"=SUMPRODUCT({area},alloc_participants)",
            "limit_f": f"={cells.col('factor')}*total_participants",
            "allowance_f": people_allowance(cells, area)}


EQUITY = Family(
    "equity", reads_need=True, title="equity floor", words="equity floor",
    define=lambda lp, case, ctx: define_equity(lp, case, ctx.equity_floor),
    variables=lambda case, ctx: equity_variables(case, ctx.equity_floor),
    demands=True, check_rank=4, row_unit="people",
    binding_words=lambda case, r: (f"the equity floor holds {case.area[r.area_code].name} at its minimum share "
                                   "of need served"),
    limits=equity_limits, check_formulas=_equity_formulas,
    breach_words=lambda m, money: f"{m.limit.words}: {m.value:,.1f} participants against at least {m.bound:,.1f}",
)

EQUITY_TOTAL = Family("equity_total", reported=False, row_unit="people")  # rows added by EQUITY's define
