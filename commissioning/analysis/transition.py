"""From today's provision to the proposal: money kept, re-commissioned and under contract, year by year.

What the agreement's *Transition* and *Provision today* sheets show, and summary.json's
``contracts``. "Today" is what the transition limits measure a plan against: the baseline's
money per pot, area, cohort and year (:func:`optimiser.baseline.today_cells`: the
``provision`` table as the baseline pays it, or the computed spread of a case without one),
the cells with money today being exactly those of the ``max_moved`` check. Per today's cell
(pot *p*, area *a*, cohort *c*, year *t*), with ``T`` today's money and ``P`` the proposal's
(every programme the pot buys in the cell)::

    kept            = min(T, P)            today's money that stays in its cell
    re-commissioned = T − kept = max(0, T − P)     money moved, as max_moved measures it
    contracted K    (optimiser.families.contract.contracted)
    ending E        = K × (contracted provision whose contract_end falls in t ÷ contracted provision)

``E`` is the contracted money in the last year of its contract: from the next year it is free
to move. By year, with ``B`` the year's budgets (newly available money, every pot)::

    contracted = Σ K        free = B − Σ K
    proposed   = Σ the proposal's money that year
    newly commissioned = proposed − kept

Nothing here writes a file: the writers lay these figures out (their live formulas recompute
kept, moved and the totals from the Allocations sheet), and summary.json records
:func:`contracts_by_year`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimiser.baseline import today_cells
from optimiser.families.contract import contracted

from commissioning.case import years as fy
from commissioning.case.model import Case

KEYS = ["pot_code", "area_code", "cohort_code", "year"]
CELL_COLUMNS = KEYS + ["today", "contracted", "ending", "plan", "kept", "moved"]
MEASURES = ["today", "contracted", "ending", "kept", "moved"]
YEAR_COLUMNS = ["budget", "contracted", "free", "today", "kept", "moved", "ending", "proposed", "new"]


@dataclass(frozen=True)
class TransitionFigures:
    """The transition from today's provision to a proposal (see the module docstring).

    ``cells``: one row per today's cell (:data:`CELL_COLUMNS`, £), in today's order;
    ``by_year``: one row per case year (:data:`YEAR_COLUMNS`, £); ``by_pot`` and ``by_area``:
    :data:`MEASURES` summed by (pot, year) and (area, year)."""

    years: list[str]
    cells: pd.DataFrame
    by_year: pd.DataFrame
    by_pot: pd.DataFrame
    by_area: pd.DataFrame

    @property
    def contracted_total(self) -> float:
        """Contracted money over the term, £."""
        return float(self.by_year["contracted"].sum())

    @property
    def free_total(self) -> float:
        """Free money over the term (budgets − contracted), £."""
        return float(self.by_year["free"].sum())

    def moved_share(self, year: str | None = None) -> float:
        """Money re-commissioned as a share of today's money, in ``year`` (None: over the term); 0 without any."""
        rows = self.by_year if year is None else self.by_year.loc[[year]]
        today = float(rows["today"].sum())
        return float(rows["moved"].sum()) / today if today > 0 else 0.0

    def grid(self, by: str, measure: str) -> dict[tuple[str, str], float]:
        """``{(code, year): £}`` of ``measure`` by pot (``by="pot"``) or area (``by="area"``)."""
        frame = self.by_pot if by == "pot" else self.by_area
        return {k: float(v) for k, v in frame[measure].items()}


def year_budgets(case: Case) -> dict[str, float]:
    """The money newly available in each case year, every pot's budget together, £."""
    out = {y: 0.0 for y in case.years}
    for (_, y), amount in case.budget.items():
        if y in out:
            out[y] += float(amount)
    return out


def contracts_by_year(case: Case) -> dict[str, dict[str, float]]:
    """summary.json's ``contracts``: per case year, ``contracted`` £ (kept where it is by signed
    contracts) and ``free`` £ (the year's budgets − contracted)."""
    signed: dict[str, float] = {y: 0.0 for y in case.years}
    for (_, _, _, y), amount in contracted(case).items():
        if y in signed:
            signed[y] += float(amount)
    return {y: {"contracted": signed[y], "free": b - signed[y]} for y, b in year_budgets(case).items()}


def ending(case: Case) -> dict[tuple[str, str, str, str], float]:
    """``E`` per contracted cell (see the module docstring), £."""
    cells = contracted(case)
    if not cells:
        return {}
    signed: dict[tuple, float] = {}
    last: dict[tuple, float] = {}
    for pr in case.provision or ():
        if not pr.contracted():
            continue
        key = (pr.pot_code, pr.area_code, pr.cohort_code, pr.year)
        signed[key] = signed.get(key, 0.0) + pr.amount
        if fy.year_of(pr.contract_end) == pr.year:
            last[key] = last.get(key, 0.0) + pr.amount
    return {k: v * last.get(k, 0.0) / signed[k] for k, v in cells.items() if signed.get(k, 0.0) > 0}


def transition(case: Case, rows: pd.DataFrame) -> TransitionFigures:
    """The transition from today's provision to ``rows`` (the proposal: pot, area, cohort, year, amount)."""
    t = today_cells(case)
    t = t[t["amount"] > 0].reset_index(drop=True)  # the cells the max_moved check measures
    cells = t[KEYS].astype(object).copy()
    cells["today"] = t["amount"].to_numpy(dtype=float)
    index = pd.MultiIndex.from_frame(cells[KEYS])
    k = contracted(case)
    e = ending(case)
    cells["contracted"] = [float(k.get(key, 0.0)) for key in index]
    cells["ending"] = [float(e.get(key, 0.0)) for key in index]
    if len(rows):
        plan = rows.groupby(KEYS, sort=False)["amount"].sum()
        cells["plan"] = plan.reindex(index).fillna(0.0).to_numpy(dtype=float)
    else:
        cells["plan"] = 0.0
    cells["kept"] = np.minimum(cells["today"], cells["plan"])
    cells["moved"] = cells["today"] - cells["kept"]
    years = list(case.years)
    per_year = cells.groupby("year")[["today", "contracted", "kept", "moved", "ending"]].sum()
    per_year = per_year.reindex(years).fillna(0.0)
    proposed = rows.groupby("year")["amount"].sum() if len(rows) else pd.Series(dtype=float)
    proposed = proposed.reindex(years).fillna(0.0)
    budgets, contracts = year_budgets(case), contracts_by_year(case)
    by_year = pd.DataFrame({
        "budget": [budgets[y] for y in years],
        "contracted": [contracts[y]["contracted"] for y in years],
        "free": [contracts[y]["free"] for y in years],
        "today": per_year["today"].to_numpy(dtype=float),
        "kept": per_year["kept"].to_numpy(dtype=float),
        "moved": per_year["moved"].to_numpy(dtype=float),
        "ending": per_year["ending"].to_numpy(dtype=float),
        "proposed": proposed.to_numpy(dtype=float),
    }, index=pd.Index(years, name="year"))
    by_year["new"] = by_year["proposed"] - by_year["kept"]
    return TransitionFigures(years=years, cells=cells[CELL_COLUMNS],
                             by_year=by_year,
                             by_pot=cells.groupby(["pot_code", "year"])[MEASURES].sum(),
                             by_area=cells.groupby(["area_code", "year"])[MEASURES].sum())
