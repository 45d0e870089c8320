"""Eligibility, answered once: may pot *p* fund area *a*, cohort *c* in year *t*, today and in a pool?

Every other part of the product asks this object (``case.eligibility``): the optimiser's
variables, the provision map, the validator, the agreement's Eligibility sheet and
``check``. The rules it applies (the contract's, with this project's decisions):

* **Today** a pot may fund a cell when the area is in its geography, the cohort among its
  cohorts, the year within its life (any of its days between ``start`` and ``end``), and
  the pot has money available that year (its budget plus what the previous
  ``carry_forward`` years' budgets may still give). It buys through its own programme:
  its unit cost and the cohort's outcome rate, after ``rates``.
* **In a pool** of two or more pots every member may fund any area and cohort that any
  member may fund, within its own years and money, buying the pool's best programme for
  the cohort (the member with the lowest cost per unit of the objective: per outcome,
  per £ of value or per participant; ties to the cheaper unit cost, then to the pot listed
  first) — and, where it could fund the cell today, also its own programme. Keeping the
  own programme keeps the aligned allocation feasible in the pool, so pooled ≥ aligned.
* Cells without need are eligible but buy nothing: the optimiser's view
  (``with_need_only``) leaves them out.

The object is explicit and belongs to its case (``case.eligibility``, made on first use,
like ``case.pot``). It keeps the tables it has worked out: today's cells (every level
starts there) and, when asked to (``keep=True``), the rows of one pool, which the
agreement's checks look up row by row. A copy of a case that changes only its pots
(:meth:`Case.with_changes`, as an ask does) carries today's cells over and works out only
the changed pots' cells again (:meth:`carried_to`).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from commissioning.case import years as fy
from commissioning.case.settlement import groups
from commissioning.case.tables import lookup

if TYPE_CHECKING:
    from commissioning.case.model import Case

KEY = ["pot_code", "area_code", "cohort_code", "year", "programme"]


class Eligibility:
    """Who may fund what in one case (see the module docstring)."""

    def __init__(self, case: "Case"):
        self.case = case
        self._cells: dict[bool, pd.DataFrame] = {}
        self._kept: tuple[frozenset[str], str | None, pd.DataFrame, set | None] | None = None
        self._across: dict[tuple[frozenset[str], str | None], set] = {}
        self._need_at: dict[tuple, np.ndarray] = {}  # table -> each row's need row (see _need_rows)

    # ---- today ----------------------------------------------------------------------------
    def may_fund(self, pot_code: str, area_code: str, cohort_code: str, year: str) -> bool:
        """Today's eligibility of one cell: geography, cohort, life, and money available in ``year``."""
        case = self.case
        pot = case.pot[pot_code]
        return (
            area_code in case.pot_areas[pot_code]
            and cohort_code in case.pot_cohorts[pot_code]
            and pot.in_life(year)
            and case.available(pot_code, year) > 0
        )

    def covers(self, pot_code: str, *, area: str | None = None, cohort: str | None = None) -> bool:
        """Whether a pot's geography takes in ``area`` and its cohorts take in ``cohort`` (years aside)."""
        case = self.case
        return ((area is None or area in case.pot_areas[pot_code])
                and (cohort is None or cohort in case.pot_cohorts[pot_code]))

    def reach(self, pot_code: str) -> tuple[frozenset[str], frozenset[str]]:
        """The areas and the cohorts a pot's geography and cohorts take in (years aside)."""
        return self.case.pot_areas[pot_code], self.case.pot_cohorts[pot_code]

    def cohorts_funded(self) -> frozenset[str]:
        """The cohorts some pot may fund somewhere (years aside)."""
        return frozenset().union(*self.case.pot_cohorts.values()) if self.case.pot_cohorts else frozenset()

    def pairs(self) -> tuple[set, set, set]:
        """The (pot, area), (pot, cohort) and (pot, year) pairs today's rules admit, each on its own."""
        case = self.case
        geo = {(p, a) for p, areas in case.pot_areas.items() for a in areas}
        coh = {(p, c) for p, cohorts in case.pot_cohorts.items() for c in cohorts}
        py = case.pot_year_frame
        timing = set(zip(py.loc[py["available"] > 0, "pot_code"], py.loc[py["available"] > 0, "year"]))
        return geo, coh, timing

    def cells(self, with_need_only: bool = True) -> pd.DataFrame:
        """Every cell a pot may fund today, in case order, with its unit cost and outcome rate.

        Columns: pot_code, area_code, cohort_code, year, unit_cost, outcome_rate,
        value_per_outcome, need. With ``with_need_only`` (the optimiser's view) only cells
        with need > 0 are kept: a variable there could buy nothing. A fresh copy each time.
        """
        if with_need_only not in self._cells:
            self._cells[with_need_only] = self._work_out_cells(with_need_only)
        return self._cells[with_need_only].copy()

    @property
    def cells_worked_out(self) -> frozenset[bool]:
        """Which views of today's cells this object holds (``True``: with need only)."""
        return frozenset(self._cells)

    def geography_frame(self) -> pd.DataFrame:
        """Every (pot, area, cohort) a pot's geography and cohorts admit — years aside."""
        case = self.case
        frames = []
        area_order = list(case.area)
        for p in case.pots:
            areas = sorted(case.pot_areas[p.code], key=area_order.index)
            cohorts = [c for c in case.cohort if c in case.pot_cohorts[p.code]]
            if not areas or not cohorts:
                continue
            a, c = np.meshgrid(np.arange(len(areas)), np.arange(len(cohorts)), indexing="ij")
            frames.append(pd.DataFrame({
                "pot_code": p.code,
                "area_code": np.array(areas, dtype=object)[a.ravel()],
                "cohort_code": np.array(cohorts, dtype=object)[c.ravel()],
            }))
        if not frames:
            return pd.DataFrame(columns=["pot_code", "area_code", "cohort_code"])
        return pd.concat(frames, ignore_index=True)

    def _work_out_cells(self, with_need_only: bool, pots: set[str] | None = None) -> pd.DataFrame:
        case = self.case
        py = case.pot_year_frame
        py = py[py["available"] > 0][["pot_code", "year"]]
        elig = self._geography
        if pots is not None:
            py, elig = py[py["pot_code"].isin(pots)], elig[elig["pot_code"].isin(pots)]
        cells = elig.merge(py, on="pot_code", how="inner")
        cells = cells.merge(case.need_frame, on=["area_code", "cohort_code", "year"], how="left")
        cells["people"] = cells["people"].fillna(0.0)
        if with_need_only:
            cells = cells[cells["people"] > 0]
        cells = cells.rename(columns={"people": "need"})
        cells = self._attach_rates(cells)
        order = case_order(case, cells, ("pot_code", "area_code", "cohort_code", "year"))
        return cells.iloc[np.lexsort(order[::-1])].reset_index(drop=True)

    @property
    def _geography(self) -> pd.DataFrame:
        if not hasattr(self, "_geo"):
            self._geo = self.geography_frame()
        return self._geo

    def _attach_rates(self, cells: pd.DataFrame) -> pd.DataFrame:
        case = self.case
        cells = cells.copy()
        cells["unit_cost"] = lookup(cells["pot_code"], {p.code: p.unit_cost for p in case.pots})
        cells["outcome_rate"] = lookup(cells["cohort_code"], {c.code: c.outcome_rate for c in case.cohorts})
        cells["value_per_outcome"] = lookup(cells["cohort_code"],
                                            {c.code: (c.value_per_outcome or 0.0) for c in case.cohorts})
        if any(x.outcome is None for x in case.rates) and len(cells):
            r = pd.DataFrame(
                [(x.pot_code, x.cohort_code, x.unit_cost, x.outcome_rate) for x in case.rates
                 if x.outcome is None],  # a row naming an outcome sets only that outcome's rate (case.value)
                columns=["pot_code", "cohort_code", "_uc", "_or"],
            )
            cells = cells.merge(r, on=["pot_code", "cohort_code"], how="left")
            cells["unit_cost"] = cells["_uc"].astype(float).fillna(cells["unit_cost"])
            cells["outcome_rate"] = cells["_or"].astype(float).fillna(cells["outcome_rate"])
            cells = cells.drop(columns=["_uc", "_or"])
        return cells

    def carried_to(self, new: "Case") -> "Eligibility":
        """The eligibility of ``new``, a copy of this case that differs only in its pots:
        today's cells carried over, the changed pots' cells worked out again."""
        out = Eligibility(new)
        codes = [p.code for p in new.pots]
        if codes != [p.code for p in self.case.pots]:
            return out
        changed = {p.code for p, q in zip(new.pots, self.case.pots) if p != q}
        order = {code: i for i, code in enumerate(codes)}
        for flag, table in self._cells.items():
            kept = table[~table["pot_code"].isin(changed)]
            fresh = out._work_out_cells(flag, pots=changed) if changed else kept.iloc[:0]
            both = pd.concat([kept, fresh], ignore_index=True) if len(fresh) else kept
            # Both parts are in case order already; a stable sort on the pot puts the fresh
            # block where the old one was.
            rank = lookup(both["pot_code"], order, default=-1, dtype=np.int64)
            out._cells[flag] = both.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
        return out

    def rehomed(self, new: "Case") -> "Eligibility":
        """The eligibility of ``new``, a copy of this case whose every input that eligibility reads
        is the same (only its protection floors differ): everything worked out is shared."""
        out = copy.copy(self)
        out.case = new
        return out

    def renewed(self, new: "Case") -> "Eligibility":
        """The eligibility of ``new``, a copy of this case that differs only in how many people are
        in need (a sensitivity or robust draw): when every need row keeps its cell, its place and
        whether it is above zero, the same cells are eligible, so the tables worked out are carried
        over with only their ``need`` column read again (at national size 0.05 s instead of 1.1 s
        a draw). Otherwise nothing is carried."""
        out = Eligibility(new)
        if not same_need_cells(self.case, new):
            return out
        people = np.append(new.need_frame["people"].to_numpy(dtype=float), 0.0)  # position -1: no need row
        if hasattr(self, "_geo"):
            out._geo = self._geo
        out._need_at = self._need_at
        out._across = dict(self._across)
        for flag, table in self._cells.items():
            out._cells[flag] = table.assign(need=people[self._need_rows(("cells", flag), table)])
        if self._kept is not None:
            pool, objective, frame, keys = self._kept
            out._kept = (pool, objective, frame.assign(need=people[self._need_rows(("rows", pool, objective), frame)]),
                         keys)
        return out

    def _need_rows(self, key, table: pd.DataFrame) -> np.ndarray:
        """Each row's position among the case's need rows (-1: none), worked out once per table and
        shared with every draw's eligibility (:meth:`renewed`)."""
        if key not in self._need_at:
            nf = self.case.need_frame
            index = pd.MultiIndex.from_frame(nf[["area_code", "cohort_code", "year"]])
            self._need_at[key] = index.get_indexer(pd.MultiIndex.from_frame(table[["area_code", "cohort_code", "year"]]))
        return self._need_at[key]

    # ---- in a pool ------------------------------------------------------------------------
    def best_programmes(self, pool: frozenset[str], objective: str | None = None) -> pd.DataFrame:
        """For each cohort some pool member may fund: the member with the lowest cost per unit
        of the objective (``objective`` defaults to the case's).

        Columns: cohort_code, programme, unit_cost, outcome_rate. Ties go to the cheaper unit
        cost, then to the pot listed first in the case.
        """
        case = self.case
        objective = objective or case.settings.objective
        rows = []
        order = {p: i for i, p in enumerate(case.pot)}
        for c in case.cohort:
            value = case.cohort[c].value_per_outcome or 0.0
            best = None
            for p in case.pot:
                if p not in pool or c not in case.pot_cohorts[p]:
                    continue
                uc, rate = case.unit_cost(p, c), case.outcome_rate(p, c)
                if objective in ("value", "fiscal", "economic", "social") and case.valuation.valued:
                    # present value per head in year 0: the ranking is the same in every year
                    per_head = case.valuation.per_head(p, c, case.valuation.first_year, objective)
                else:
                    per_head = {"outcomes": rate, "value": rate * value, "coverage": 1.0}[objective]
                cost = uc / per_head if per_head > 0 else np.inf
                key = (cost, uc, order[p])
                if best is None or key < best[0]:
                    best = (key, p, uc, rate)
            if best is not None:
                rows.append((c, best[1], best[2], best[3]))
        return pd.DataFrame(rows, columns=["cohort_code", "programme", "unit_cost", "outcome_rate"])

    def rows(self, pool: frozenset[str] = frozenset(), objective: str | None = None,
             keep: bool = False) -> pd.DataFrame:
        """Every (pot, area, cohort, year, programme) a level may fund, with need > 0, in case order.

        ``pool`` empty (or of one pot): today's rules, the pot's own programme. Otherwise the
        pool's rules (see the module docstring). Columns: pot_code, area_code, cohort_code,
        year, programme, unit_cost, outcome_rate, value_per_outcome, need. With ``keep`` the
        frame is kept for the next call with the same pool and objective (one at a time).
        """
        pool = frozenset(pool)
        if self._kept is not None and self._kept[:2] == (pool, objective):
            return self._kept[2]
        frame = self._work_out_rows(pool, objective)
        if keep:
            self._kept = (pool, objective, frame, None)
        return frame

    def _work_out_rows(self, pool: frozenset[str], objective: str | None) -> pd.DataFrame:
        case = self.case
        own = self.cells(with_need_only=True)
        own = own.assign(programme=own["pot_code"])
        plain, within, across = groups(case, pool)
        plain = [g for g in plain if len(g) >= 2]
        within = [g for g in within if len(g) >= 2]
        if not (plain or within or across):
            self._across[(pool, objective)] = set()
            return own.reindex(columns=ROW_COLUMNS).reset_index(drop=True)
        members = {p for g in plain + within + across for p in g}
        # Own programmes first, then the pooled groups (plain, then within a theme): a key
        # the cross-theme groups add beyond them is a move between themes.
        inside = [own[~own["pot_code"].isin(members)]]
        inside += [self._pooled(g, objective) for g in plain + within] + [own[own["pot_code"].isin(members)]]
        inside = pd.concat(inside, ignore_index=True).drop_duplicates(subset=KEY)
        if across:
            moved = pd.concat([self._pooled(g, objective) for g in across], ignore_index=True)
            moved = moved.merge(inside[KEY], on=KEY, how="left", indicator=True)
            moved = moved[moved["_merge"] == "left_only"].drop(columns="_merge").drop_duplicates(subset=KEY)
            self._across[(pool, objective)] = set(moved[KEY].itertuples(index=False, name=None))
            merged = pd.concat([inside, moved], ignore_index=True)
        else:
            self._across[(pool, objective)] = set()
            merged = inside
        order = case_order(case, merged, ("pot_code", "area_code", "cohort_code", "year", "programme"))
        merged = merged.iloc[np.lexsort(order[::-1])].reset_index(drop=True)
        return merged.reindex(columns=ROW_COLUMNS)

    def _pooled(self, group: list[str], objective: str | None) -> pd.DataFrame:
        """The columns a group of pots pooling together adds: each member, within its own years,
        may fund any area and cohort some member may fund, through the group's best programme."""
        case = self.case
        areas = set().union(*(case.pot_areas[p] for p in group))
        best = self.best_programmes(frozenset(group), objective)
        need = case.need_frame[case.need_frame["people"] > 0]
        need = need[need["area_code"].isin(areas) & need["cohort_code"].isin(best["cohort_code"])]
        py = case.pot_year_frame
        py = py[py["pot_code"].isin(group) & (py["available"] > 0)][["pot_code", "year"]]
        pooled = py.merge(need, on="year").merge(best, on="cohort_code")
        pooled = pooled.rename(columns={"people": "need"})
        vpo = {c.code: (c.value_per_outcome or 0.0) for c in case.cohorts}
        pooled["value_per_outcome"] = pooled["cohort_code"].map(vpo).astype(float)
        return pooled

    def across(self, pool: frozenset[str], objective: str | None = None) -> set:
        """The (pot, area, cohort, year, programme) keys of ``pool``'s level that move a settlement
        theme's money to another theme (commissioning.case.settlement): limited by ``theme_flex``."""
        pool = frozenset(pool)
        if (pool, objective) not in self._across:
            self._work_out_rows(pool, objective)
        return self._across[(pool, objective)]

    def keys(self, pool: frozenset[str]) -> pd.DataFrame:
        """The distinct (pot, area, cohort, year, programme) of :meth:`rows` for ``pool``."""
        return self.rows(pool, keep=True)[KEY].drop_duplicates().reset_index(drop=True)

    def _key_set(self, pool: frozenset[str]) -> set:
        self.rows(pool, keep=True)
        pool_, objective, frame, keys = self._kept
        if keys is None:
            keys = set(frame[KEY].drop_duplicates().itertuples(index=False, name=None))
            self._kept = (pool_, objective, frame, keys)
        return keys

    def default_programme(self, pool: frozenset[str], pot_code: str, cohort_code: str) -> str:
        """The programme a row without one buys: the pot's own where it may fund the cohort,
        else (for a pool member) the pool's best programme for the cohort."""
        case = self.case
        if pot_code in case.pot and cohort_code in case.pot_cohorts.get(pot_code, ()):
            return pot_code
        if pot_code in pool:
            # The pot's own pooling first: its plain or within-theme group, then (a settlement pot) its
            # cross-theme group — the same groups the level's columns come from.
            plain, within, across = groups(case, frozenset(pool))
            for g in [*(g for g in plain + within if len(g) >= 2), *across]:
                if pot_code not in g:
                    continue
                best = self.best_programmes(frozenset(g))
                hit = best[best["cohort_code"] == cohort_code]
                if len(hit):
                    return str(hit["programme"].iloc[0])
        return pot_code

    def why_not(self, pool: frozenset[str], pot: str, area: str, cohort: str, year: str,
                programme: str) -> str | None:
        """None when the row is an allocation the level of ``pool`` allows; else the reason in words."""
        case = self.case
        if pot not in case.pot:
            return f"'{pot}' is not a pot of the case"
        if area not in case.area:
            return f"'{area}' is not an area of the case"
        if cohort not in case.cohort:
            return f"'{cohort}' is not a cohort of the case"
        try:
            fy.parse_year(year)
        except ValueError as e:
            return str(e)
        if programme not in case.pot:
            return f"programme '{programme}' is not a pot of the case"
        keys = self._key_set(pool)
        if (pot, area, cohort, year, programme) in keys:
            return None
        p = case.pot[pot]
        members = [q for q in case.pot if q in pool]
        pooled = pot in pool and len(members) >= 2
        if not p.in_life(year):
            return f"pot {pot} may not spend in {year}: its life is {p.start:%d %b %Y} to {p.end:%d %b %Y}"
        if case.available(pot, year) <= 0:
            return f"pot {pot} has no money available in {year}"
        if pooled:
            areas = set().union(*(case.pot_areas[q] for q in members))
            cohorts = set().union(*(case.pot_cohorts[q] for q in members))
            if area not in areas:
                return f"no pot of the pool may fund area {area}, so pooled pot {pot} may not either"
            if cohort not in cohorts:
                return f"no pot of the pool may fund cohort {cohort}, so pooled pot {pot} may not either"
        else:
            if area not in case.pot_areas[pot]:
                return f"pot {pot} may not fund area {area} (its geography is {';'.join(p.geography)})"
            if cohort not in case.pot_cohorts[pot]:
                return f"pot {pot} may not fund cohort {cohort} (its cohorts are {';'.join(p.cohorts)})"
        need = {(n.area_code, n.cohort_code, n.year): n.people for n in case.need}.get((area, cohort, year), 0.0)
        if need <= 0:
            return f"there is no evidenced need in {area} / {cohort} / {year}"
        allowed = sorted({k[4] for k in keys if k[:4] == (pot, area, cohort, year)})
        if allowed:
            return (f"pot {pot} funds {cohort} in {area} {year} through programme {' or '.join(allowed)}, "
                    f"not {programme}")
        return f"pot {pot} may not fund {area} / {cohort} / {year}"


def same_need_cells(base: "Case", drawn: "Case") -> bool:
    """Whether ``drawn`` has ``base``'s need rows, in order, each above zero where it was (so the
    same cells are eligible with need: a draw of need that moved no figure across zero)."""
    a, b = base.need, drawn.need
    return len(a) == len(b) and all(
        (x.area_code, x.cohort_code, x.year) == (y.area_code, y.cohort_code, y.year) and (x.people > 0) == (y.people > 0)
        for x, y in zip(a, b))


ROW_COLUMNS = ["pot_code", "area_code", "cohort_code", "year", "programme", "unit_cost", "outcome_rate",
               "value_per_outcome", "need"]


def case_order(case: "Case", cells: pd.DataFrame, columns) -> list[np.ndarray]:
    """Sort keys that put rows in case order: pots, areas, cohorts and years as the case lists
    them (``programme`` sorts as a pot). ``np.lexsort(keys[::-1])`` gives the order."""
    listed = {"pot_code": list(case.pot), "programme": list(case.pot), "area_code": list(case.area),
              "cohort_code": list(case.cohort), "year": list(case.years)}
    return [pd.Categorical(cells[c], categories=listed[c]).codes for c in columns]
