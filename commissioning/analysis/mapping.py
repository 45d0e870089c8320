"""Map today's provision against evidenced need, and flag the gaps and the stacking.

"Map out local provision and cross reference with a detailed evidence base of need to
identify gaps": :func:`provision_map` does that in one pass, with no I/O. It answers, for
every need cell (area, cohort, year with need > 0), how many pots may fund it, how much
money they hold, what today's ``provision`` buys there, and what is wrong: duplication,
gaps with their reason, and provision committed where the pot may not fund it.

The rules (decisions taken for the ``map`` command):

*Provision people.* A provision row buys ``amount / unit_cost(pot, cohort)`` participants
(after ``rates``). Only rows the pot may legally fund (:meth:`Eligibility.may_fund`: geography,
cohort, year within the pot's life and money available that year) count towards a cell's
coverage, and only as much of them as the pot's money can pay for: each pot's eligible
provision is set against its budgets year by year, oldest money first
(:func:`commissioning.case.money.walk`, the same walk as the baseline's), and a year's rows
are scaled down by ``paid / wanted`` — so a scenario that cuts a budget cuts the
coverage and duplication counted on it::

    provision_people(a, c, t) = Σ_{rows r in (a, c, t), r eligible} amount_r / unit_cost(pot_r, c)
    coverage(a, c, t)         = provision_people / need

*coverage.csv.* One row per need cell with need > 0, in case order (areas, cohorts, years
as listed): ``eligible_pots`` counts the pots that may fund the cell, ``eligible_money``
is the upper bound ``Σ_{p eligible} available(p, t)`` (each pot once per cell, so the
same pound shows in every cell it could reach). ``provision_amount`` and
``provision_people`` are the eligible provision only; without a provision table they and
``coverage`` are empty (unknown, not zero).

*Flags* (``stage = map``, ``level`` empty), listed duplication, then gaps, then idle;
within a kind in case order (cells), idle in provision-row order:

* ``duplication`` — one per cell whose eligible provision people exceed its need:
  ``people = provision_people − need``, ``amount = provision_amount × excess /
  provision_people`` (the cost of the people beyond need). ``pot_code`` is filled only when
  one pot is involved; the detail lists each pot with its amount and providers. Provision
  on a cell with no evidenced need (need 0 or no need row) is all excess.
* ``gap`` — one per need cell whose need exceeds its eligible provision people:
  ``people = need − provision_people``. The reason:

  - ``uncommitted`` when at least one pot may fund the cell and one of them has money no
    provision uses that could be spent that year (:meth:`MoneyWalk.uncommitted`: what is
    left of the budget years reaching that year once all the pot's provision, every year,
    has drawn on it oldest first; at least £1): the gap sits next to money nobody has
    commissioned. ``pot_code`` is the eligible pot with the most such money (ties: pot
    order); ``amount`` as for ``funding``.
  - ``funding`` when at least one pot may fund the cell and all of them are committed
    (less than £1 uncommitted): ``amount = people × the lowest unit cost among the
    eligible pots`` (the cheapest cost of closing it); the detail names each eligible pot
    with its money uncommitted that year. ``pot_code`` is filled only when one pot is
    eligible.
  - ``no_eligible_pot`` when the cohort is in no pot's cohorts anywhere in the case
    (``amount`` empty).
  - otherwise the *nearest* pot: among the pots that fail exactly one of the three rules
    — ``geography`` (area not in the pot's areas), ``cohort`` (cohort not in its
    cohorts), ``timing`` (year outside its life, or no money available that year) — the
    one with the most money available in that year (money outside the pot's life counts
    as none; ties: pot order in the case). ``reason`` is its failing rule, ``pot_code`` that
    pot, ``amount = people × its unit cost for the cohort``. If no pot fails only one rule:
    ``no_eligible_pot``.

* ``idle`` — one per provision row the pot may not fund: ``people = amount /
  unit_cost``, ``amount`` the row's money, ``reason`` the first broken rule in the order
  geography, cohort, timing; the detail names every broken rule and the provider.
* ``over_committed`` — one per pot and year whose eligible provision exceeds the money
  the pot can pay it with that year (oldest money first): ``amount`` the excess,
  ``pot_code`` and ``year`` set. Only what the money pays for counts anywhere else.
* ``breach`` (``reason = rule``) — one per instance of a ``rules`` row that today's
  provision (the baseline, :func:`optimiser.baseline.baseline_allocation`) breaks, measured
  as the agreement's checks measure it (:mod:`commissioning.analysis.limits`); ``amount`` is how far
  it is on the wrong side, the detail quotes the rule with its note. Today's provision is
  what it is: the optimised levels honour the rule, so part of the alignment dividend may
  be the cost of honouring it (``explain`` says so).

*Without a provision table* today's provision is unknown, not zero: the only flags are
gaps on cells no pot may fund (``people`` = the whole need, reason as above), and the
result says :data:`PROVISION_NOT_SUPPLIED`.

*By journey stage.* Coverage by stage is ``Σ provision_people ÷ Σ need`` over the cells of
the cohorts at that stage (per area and year, and over all areas), so that the map shows
where support piles up and where it tapers off.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from commissioning.analysis.flags import ELIGIBILITY_RULES, Flag, flags_frame
from commissioning.case.model import Case
from commissioning.case.money import MoneyWalk, walk

CELL = ["area_code", "cohort_code", "year"]
COVERAGE_COLUMNS = [
    "area_code",
    "cohort_code",
    "year",
    "journey_stage",
    "need_people",
    "eligible_pots",
    "eligible_money",
    "provision_amount",
    "provision_people",
    "coverage",
]
STAGE_NAMES: dict[int, str] = {
    1: "severe complex needs",
    2: "complex needs",
    3: "looking for work",
    4: "self-able, looking for work",
    5: "in work: new entrants",
    6: "in work: ill health",
}
ALL_YEARS = "all years"
PROVISION_NOT_SUPPLIED = "provision was not supplied: today's coverage is unknown"
PEOPLE_TOLERANCE = 1e-6  # below this many people a surplus or shortfall is arithmetic noise
UNCOMMITTED_POUNDS = 1.0  # £: less uncommitted than this is rounding, not money left unused
OVER_POUNDS = 0.005  # £: provision beyond the money by less than half a penny is rounding


@dataclass(frozen=True, eq=False)
class ProvisionMap:
    """Coverage of need by today's provision, and the flags found (see the module rules).

    ``coverage`` has :data:`COVERAGE_COLUMNS`; ``stage_coverage`` holds, per area, year and
    journey stage, ``need_people``, ``provision_people`` and ``coverage``; ``stage_totals``
    the same over all areas, per year and for :data:`ALL_YEARS`. ``journey_stage`` is
    ``None`` for cohorts without a stage.
    """

    case_name: str
    provision_supplied: bool
    coverage: pd.DataFrame
    flags: tuple[Flag, ...]
    stage_coverage: pd.DataFrame
    stage_totals: pd.DataFrame

    @property
    def note(self) -> str | None:
        """What a reader must know before trusting the coverage figures, if anything."""
        return None if self.provision_supplied else PROVISION_NOT_SUPPLIED

    @cached_property
    def flags_frame(self) -> pd.DataFrame:
        """The map's flags as a table (FLAG_COLUMNS)."""
        return flags_frame(self.flags)

    @property
    def cells_with_need(self) -> int:
        """How many need cells the map covers."""
        return int(len(self.coverage))

    @property
    def need_people(self) -> float:
        """People in need across the case."""
        return float(self.coverage["need_people"].sum())

    @property
    def provision_people(self) -> float | None:
        """Eligible provision people in need cells; ``None`` when provision is unknown."""
        return float(self.coverage["provision_people"].sum()) if self.provision_supplied else None

    @property
    def provision_amount(self) -> float | None:
        """£ of today's provision the map reads."""
        return float(self.coverage["provision_amount"].sum()) if self.provision_supplied else None

    def totals(self, kind: str, reason: str | None = None) -> dict[str, float]:
        """Count, people and £ of the flags of one kind (and reason): Σ over those flags."""
        chosen = [f for f in self.flags if f.kind == kind and (reason is None or f.reason == reason)]
        return {
            "count": len(chosen),
            "people": float(sum(f.people or 0.0 for f in chosen)),
            "amount": float(sum(f.amount or 0.0 for f in chosen)),
        }

    @property
    def gap_reasons(self) -> list[str]:
        """The gap reasons present, in the order they are first found."""
        return list(dict.fromkeys(f.reason for f in self.flags if f.kind == "gap"))

    def summary(self) -> dict[str, Any]:
        """The headline figures (``map.json``): counts, people and £ by kind and reason."""
        gaps = self.totals("gap")
        gaps["by_reason"] = {r: self.totals("gap", r) for r in self.gap_reasons}
        overall = self.stage_totals[self.stage_totals["year"] == ALL_YEARS]
        need, prov = self.need_people, self.provision_people
        return {
            "case": self.case_name,
            "stage": "map",
            "provision_supplied": self.provision_supplied,
            "note": self.note,
            "cells_with_need": self.cells_with_need,
            "need_people": need,
            "provision_amount": self.provision_amount,
            "provision_people": prov,
            "coverage": (prov / need if need else None) if prov is not None else None,
            "flags": {
                "duplication": self.totals("duplication"),
                "gap": gaps,
                "idle": self.totals("idle"),
            },
            "journey_stages": [
                {
                    "journey_stage": r.journey_stage,
                    "name": STAGE_NAMES.get(r.journey_stage, "no stage") if r.journey_stage else "no stage",
                    "need_people": r.need_people,
                    "provision_people": None if pd.isna(r.provision_people) else r.provision_people,
                    "coverage": None if pd.isna(r.coverage) else r.coverage,
                }
                for r in overall.itertuples(index=False)
            ],
        }


# ---- the map ---------------------------------------------------------------------------------
def provision_map(case: Case, baseline: pd.DataFrame | None = None) -> ProvisionMap:
    """Cross-reference today's provision with need and eligibility; flag what is wrong.

    Pure: reads the case, returns a :class:`ProvisionMap`. ``baseline`` is today's
    allocation when the caller has it already (:func:`optimiser.baseline.baseline_allocation`,
    or a run's baseline level); otherwise it is worked out here for the breach flags.
    Vectorised over cells; only the search for the nearest pot of a cell no pot may fund
    crosses cells with pots, and only for those cells.
    """
    order = CaseOrder(case)
    supplied = case.provision is not None

    need_all = case.need_frame
    need = order.sort(need_all[need_all["people"] > 0]).rename(columns={"people": "need_people"})
    stage_of = {c.code: c.journey_stage for c in case.cohorts}

    elig = case.eligibility.cells(with_need_only=True)
    elig = elig.merge(case.pot_year_frame[["pot_code", "year", "available"]], on=["pot_code", "year"], how="left")
    per_cell = elig.groupby(CELL, sort=False).agg(
        eligible_pots=("pot_code", "size"), eligible_money=("available", "sum")
    ).reset_index()

    cov = need[CELL + ["need_people"]].merge(per_cell, on=CELL, how="left")
    cov["eligible_pots"] = cov["eligible_pots"].fillna(0).astype(int)
    cov["eligible_money"] = cov["eligible_money"].fillna(0.0).astype(float)
    cov["journey_stage"] = pd.Series([stage_of[c] for c in cov["cohort_code"]], index=cov.index, dtype=object)

    flags: list[Flag] = []
    if supplied:
        prov = _provision_rows(case)
        walks = _walks(case, prov[prov["eligible"]])
        paid, over = _paid_for(case, prov[prov["eligible"]], walks)
        prov.loc[paid.index, "amount"] = paid["amount"]
        prov.loc[paid.index, "people"] = paid["people"]
        eligible_rows = prov[prov["eligible"]]
        cell_prov = eligible_rows.groupby(CELL, sort=False).agg(
            provision_amount=("amount", "sum"), provision_people=("people", "sum")
        ).reset_index()
        cov = cov.merge(cell_prov, on=CELL, how="left")
        cov["provision_amount"] = cov["provision_amount"].fillna(0.0)
        cov["provision_people"] = cov["provision_people"].fillna(0.0)
        cov["coverage"] = cov["provision_people"] / cov["need_people"]

        flags += _duplication_flags(case, order, eligible_rows, cell_prov, need_all)
        short = cov.assign(people=cov["need_people"] - cov["provision_people"])
        short = short[short["people"] > PEOPLE_TOLERANCE]
        funding = short[short["eligible_pots"] > 0]
        no_pot = short[short["eligible_pots"] == 0]
        gap_flags = _funding_gap_flags(case, funding, elig, walks) + unreachable_gap_flags(case, order, no_pot)
        flags += _in_cell_order(gap_flags, order)
        flags += _idle_flags(case, prov[~prov["eligible"]])
        flags += over
    else:
        cov["provision_amount"] = np.nan
        cov["provision_people"] = np.nan
        cov["coverage"] = np.nan
        no_pot = cov[cov["eligible_pots"] == 0].assign(people=lambda f: f["need_people"])
        flags += unreachable_gap_flags(case, order, no_pot)

    flags += breach_flags(case, baseline)
    cov = cov[COVERAGE_COLUMNS].reset_index(drop=True)
    stage_cov, stage_tot = _stage_frames(case, cov, supplied)
    return ProvisionMap(
        case_name=case.settings.name,
        provision_supplied=supplied,
        coverage=cov,
        flags=tuple(flags),
        stage_coverage=stage_cov,
        stage_totals=stage_tot,
    )


# ---- helpers ---------------------------------------------------------------------------------
class CaseOrder:
    """Case order (areas, cohorts, years, pots as listed) as sort keys."""

    def __init__(self, case: Case):
        self.area = {k: i for i, k in enumerate(case.area)}
        self.cohort = {k: i for i, k in enumerate(case.cohort)}
        self.year = {k: i for i, k in enumerate(case.years)}
        self.pot = {k: i for i, k in enumerate(case.pot)}

    def keys(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Integer sort keys putting ``frame``'s rows in case order (areas, cohorts, years, pots as listed)."""
        return pd.DataFrame(
            {
                "_a": frame["area_code"].map(self.area).to_numpy(),
                "_c": frame["cohort_code"].map(self.cohort).to_numpy(),
                "_y": frame["year"].map(self.year).to_numpy(),
            },
            index=frame.index,
        )

    def sort(self, frame: pd.DataFrame, *extra: str, ascending: list[bool] | None = None) -> pd.DataFrame:
        """``frame`` in case cell order, then by ``extra`` columns (already in ``frame``)."""
        keyed = pd.concat([frame, self.keys(frame)], axis=1)
        by = ["_a", "_c", "_y", *extra]
        asc = [True, True, True, *(ascending or [True] * len(extra))]
        return keyed.sort_values(by, ascending=asc, kind="stable").drop(columns=["_a", "_c", "_y"]).reset_index(drop=True)


def _in_cell_order(flags: list[Flag], order: CaseOrder) -> list[Flag]:
    return sorted(flags, key=lambda f: (order.area[f.area_code], order.cohort[f.cohort_code], order.year[f.year]))


def _pairs_in(frame: pd.DataFrame, cols: list[str], pairs: set[tuple[str, str]]) -> np.ndarray:
    """Whether each row's (cols[0], cols[1]) is one of ``pairs`` — vectorised membership."""
    if not len(frame):
        return np.zeros(0, dtype=bool)
    index = pd.MultiIndex.from_tuples(sorted(pairs), names=cols) if pairs else None
    if index is None:
        return np.zeros(len(frame), dtype=bool)
    return pd.MultiIndex.from_frame(frame[cols]).isin(index)


def _rule_pairs(case: Case) -> tuple[set, set, set]:
    """(pot, area), (pot, cohort) and (pot, year) pairs each rule admits.

    A (pot, year) pair is admitted when the year is within the pot's life and the pot has
    money available in it — the timing half of :meth:`Eligibility.may_fund`.
    """
    return case.eligibility.pairs()


def _unit_costs(case: Case, frame: pd.DataFrame) -> np.ndarray:
    """unit_cost(pot, cohort) after rates for each row, looked up once per distinct pair."""
    keys = _keys(frame, ["pot_code", "cohort_code"])
    pairs = {k: case.unit_cost(*k) for k in set(keys)}
    return np.array([pairs[k] for k in keys], dtype=float)


def _provision_rows(case: Case) -> pd.DataFrame:
    """Today's provision, one row per input row, with people and which rules it keeps."""
    rows = case.provision or ()
    prov = pd.DataFrame(
        {
            "pot_code": [r.pot_code for r in rows],
            "area_code": [r.area_code for r in rows],
            "cohort_code": [r.cohort_code for r in rows],
            "year": [r.year for r in rows],
            "amount": np.array([r.amount for r in rows], dtype=float),
            "provider": [r.provider for r in rows],
        }
    )
    geo, coh, timing = _rule_pairs(case)
    prov["unit_cost"] = _unit_costs(case, prov)
    prov["people"] = prov["amount"] / prov["unit_cost"]
    prov["geography_ok"] = _pairs_in(prov, ["pot_code", "area_code"], geo)
    prov["cohort_ok"] = _pairs_in(prov, ["pot_code", "cohort_code"], coh)
    prov["timing_ok"] = _pairs_in(prov, ["pot_code", "year"], timing)
    prov["eligible"] = prov["geography_ok"] & prov["cohort_ok"] & prov["timing_ok"]
    return prov


def _keys(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Each row's values of ``columns`` as a tuple (plain lists: fast for text columns)."""
    return list(zip(*(frame[c].tolist() for c in columns))) if len(frame) else []


def _joined(frame: pd.DataFrame, keys: list[str], column: str, sep: str) -> dict[tuple, str]:
    """``column`` joined with ``sep`` per distinct ``keys``, in the frame's row order.

    A plain pass over the rows: pandas' Python-level group aggregation is far slower for
    joining text at national scale.
    """
    out: dict[tuple, list[str]] = {}
    for k, t in zip(_keys(frame, keys), frame[column].tolist()):
        out.setdefault(k, []).append(t)
    return {k: sep.join(v) for k, v in out.items()}


def _people(x: float) -> str:
    """People in words: whole numbers without decimals, others to one place."""
    return f"{x:,.0f}" if abs(x - round(x)) < 0.05 else f"{x:,.1f}"


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _timing_words(case: Case, pot_code: str, year: str) -> str:
    pot = case.pot[pot_code]
    if not pot.in_life(year):
        return f"{year} is outside its life, {pot.start.isoformat()} to {pot.end.isoformat()}"
    return f"it has no money available in {year}"


_RULE_NOUN = {"geography": "geography", "cohort": "cohorts", "timing": "timing"}


def _rule_words(case: Case, rule: str, pot_code: str, area_code: str, cohort_code: str, year: str) -> str:
    """Why a pot may not fund a cell under one rule, in words."""
    if rule == "geography":
        return f"its geography does not cover {case.area[area_code].name}"
    if rule == "cohort":
        return f"its cohorts do not include {case.cohort[cohort_code].name}"
    return _timing_words(case, pot_code, year)


def _walks(case: Case, rows: pd.DataFrame) -> dict[str, MoneyWalk]:
    """Every pot's eligible provision set against its budgets, oldest money first."""
    wanted = rows.groupby(["pot_code", "year"], sort=False)["amount"].sum()
    by_pot: dict[str, dict[str, float]] = {p: {} for p in case.pot}
    for (p, t), v in wanted.items():
        by_pot[p][t] = float(v)
    return {p: walk(case, p, w) for p, w in by_pot.items()}


def _paid_for(case: Case, rows: pd.DataFrame, walks: dict[str, MoneyWalk]) -> tuple[pd.DataFrame, list[Flag]]:
    """Eligible provision rows scaled to what the money pays for, and the over-commitments."""
    factor, flags = {}, []
    wanted = rows.groupby(["pot_code", "year"], sort=False)["amount"].sum()
    for (p, t), want in wanted.items():
        w = walks[p]
        factor[(p, t)] = w.paid.get(t, 0.0) / want if want > 0 else 1.0
        short = w.short.get(t, 0.0)
        if short > OVER_POUNDS:
            pot = case.pot[p]
            flags.append(Flag(stage="map", kind="over_committed", pot_code=p, year=t, amount=float(short),
                              detail=f"{pot.name} ({p}) has {_money(want)} of provision in {t} but its money pays for "
                                     f"only {_money(w.paid.get(t, 0.0))} (its budgets, oldest money first"
                                     f"{', with carry-forward' if pot.carry_forward else ''}): {_money(short)} is "
                                     "committed beyond the budget and counted nowhere else"))
    f = np.array([factor[k] for k in zip(rows["pot_code"], rows["year"])]) if len(rows) else np.zeros(0)
    return rows.assign(amount=rows["amount"] * f, people=rows["people"] * f), flags


def breach_flags(case: Case, baseline: pd.DataFrame | None = None) -> list[Flag]:
    """Rules rows that today's provision (the baseline) breaks: one flag per rule instance."""
    if not case.rules:
        return []
    from optimiser.baseline import baseline_allocation

    from optimiser.families.rules import rule_limits

    from commissioning.analysis.limits import measure_all

    base = baseline_allocation(case) if baseline is None else baseline
    rows = base[["pot_code", "area_code", "cohort_code", "year", "programme", "amount"]]
    flags = []
    for m in measure_all(case, rule_limits(case, frozenset()), rows):
        if m.holds:
            continue
        lim = m.limit
        kind = "at least" if lim.sense == "min" else "at most"
        flags.append(Flag(stage="map", kind="breach", reason="rule", pot_code=None if lim.pot_code == "ALL" else lim.pot_code,
                          area_code=None if lim.area_code in ("ALL", "") else lim.area_code,
                          cohort_code=None if lim.cohort_code in ("ALL", "") else lim.cohort_code,
                          year=lim.year or None, amount=float(m.shortfall),
                          detail=f"today's provision breaks {lim.words}: it holds {_money(m.value)} where the rule "
                                 f"allows {kind} {_money(m.bound)} ({_money(m.shortfall)} the wrong side); the optimised "
                                 "levels honour it, so the alignment dividend includes the cost of doing so"))
    return flags


# ---- duplication -----------------------------------------------------------------------------
def _duplication_flags(
    case: Case, order: CaseOrder, eligible_rows: pd.DataFrame, cell_prov: pd.DataFrame, need_all: pd.DataFrame
) -> list[Flag]:
    """Cells where eligible provision buys more people than the need: the excess and its cost.

    ``excess = provision_people − need``; ``amount = provision_amount × excess / provision_people``.
    """
    cells = cell_prov.merge(need_all.rename(columns={"people": "need"}), on=CELL, how="left")
    cells["need"] = cells["need"].fillna(0.0)
    cells["excess"] = cells["provision_people"] - cells["need"]
    dup = order.sort(cells[cells["excess"] > PEOPLE_TOLERANCE])
    if not len(dup):
        return []

    rows = eligible_rows.merge(dup[CELL], on=CELL, how="inner")
    rows = rows.assign(_p=rows["pot_code"].map(order.pot), provider=rows["provider"].fillna("provider not named"))
    rows = rows.sort_values("_p", kind="stable")
    by_pot = rows.groupby(CELL + ["pot_code"], sort=False)["amount"].sum().reset_index()
    providers = _joined(rows.drop_duplicates(CELL + ["pot_code", "provider"]), CELL + ["pot_code"], "provider", ", ")
    by_pot["text"] = [
        f"{k[-1]} {_money(a)} ({providers[k]})"
        for k, a in zip(_keys(by_pot, CELL + ["pot_code"]), by_pot["amount"].tolist())
    ]
    text = _joined(by_pot, CELL, "text", ", ")
    pots = _joined(by_pot, CELL, "pot_code", ";")  # ";" never occurs in a code
    keys = _keys(dup, CELL)
    dup["text"] = [text[k] for k in keys]
    dup["pots"] = [pots[k].count(";") + 1 for k in keys]
    dup["first_pot"] = [pots[k].split(";")[0] for k in keys]

    flags = []
    for r in dup.itertuples(index=False):
        stacked = f"{r.pots} pots stack on this cell" if r.pots > 1 else "One pot exceeds the need on this cell"
        against = f"against a need of {_people(r.need)}" if r.need > 0 else "where no need is evidenced"
        flags.append(
            Flag(
                stage="map",
                kind="duplication",
                pot_code=r.first_pot if r.pots == 1 else None,
                area_code=r.area_code,
                cohort_code=r.cohort_code,
                year=r.year,
                people=float(r.excess),
                amount=float(r.provision_amount * r.excess / r.provision_people),
                detail=f"{stacked}: {r.text}; {_people(r.provision_people)} people provided {against}, "
                f"{_people(r.excess)} people beyond need",
            )
        )
    return flags


# ---- gaps ------------------------------------------------------------------------------------
def _funding_gap_flags(case: Case, cells: pd.DataFrame, elig: pd.DataFrame,
                       walks: dict[str, MoneyWalk]) -> list[Flag]:
    """Gaps in cells some pot may fund: the eligible pots are committed elsewhere or short.

    ``amount = people × min_{p eligible} unit_cost(p, c)``; each eligible pot is named with
    its money uncommitted that year (:meth:`MoneyWalk.uncommitted`), and a gap beside at
    least :data:`UNCOMMITTED_POUNDS` of it is ``uncommitted`` rather than ``funding``.
    """
    if not len(cells):
        return []
    e = elig[CELL + ["pot_code", "unit_cost", "available"]].merge(cells[CELL], on=CELL, how="inner")
    pairs = list(zip(e["pot_code"].tolist(), e["year"].tolist()))
    unc = {k: walks[k[0]].uncommitted(case, k[1]) for k in set(pairs)}  # once per pot and year
    e["uncommitted"] = [unc[k] for k in pairs]
    e["text"] = [
        f"{p} {_money(u)} of {_money(a)} uncommitted"
        for p, u, a in zip(e["pot_code"].tolist(), e["uncommitted"].tolist(), e["available"].tolist())
    ]
    # The pot with the most uncommitted money names an "uncommitted" gap (ties: pot order).
    spare = e[e["uncommitted"] >= UNCOMMITTED_POUNDS].sort_values("uncommitted", ascending=False, kind="stable")
    spare = spare.drop_duplicates(CELL)[CELL + ["pot_code", "uncommitted"]].rename(
        columns={"pot_code": "spare_pot", "uncommitted": "spare"})
    cells = cells.merge(spare, on=CELL, how="left")
    # eligible_cells is in pot order within a cell: a stable sort on cost keeps the case's
    # first pot on ties.
    cheapest = e.sort_values("unit_cost", kind="stable").drop_duplicates(CELL)[CELL + ["pot_code", "unit_cost"]]
    cheapest = cheapest.rename(columns={"pot_code": "cheapest_pot", "unit_cost": "cheapest_cost"})
    cells = cells.merge(cheapest, on=CELL, how="left")
    text = _joined(e, CELL, "text", ", ")
    pots = _joined(e, CELL, "pot_code", ";")  # ";" never occurs in a code
    keys = _keys(cells, CELL)
    cells["text"] = [text[k] for k in keys]
    cells["pots"] = [pots[k].count(";") + 1 for k in keys]
    cells["only_pot"] = [pots[k] for k in keys]

    flags = []
    for r in cells.itertuples(index=False):
        amount = float(r.people * r.cheapest_cost)
        spare = isinstance(r.spare_pot, str)
        flags.append(
            Flag(
                stage="map",
                kind="gap",
                reason="uncommitted" if spare else "funding",
                pot_code=r.spare_pot if spare else (r.only_pot if r.pots == 1 else None),
                area_code=r.area_code,
                cohort_code=r.cohort_code,
                year=r.year,
                people=float(r.people),
                amount=amount,
                detail=f"{_people(r.people)} people unmet (need {_people(r.need_people)}, provision "
                f"{_people(r.provision_people)}); "
                + (f"{r.spare_pot} has {_money(r.spare)} no provision uses that could be spent in {r.year}: "
                   if spare else f"today's provision from the eligible pots falls short in {r.year}: ")
                + f"{r.text}; closing it costs {_money(amount)} at {r.cheapest_pot}'s {_money(r.cheapest_cost)} a head",
            )
        )
    return flags


def unreachable_gap_flags(case: Case, order: CaseOrder, cells: pd.DataFrame) -> list[Flag]:
    """Gaps in cells no pot may fund, with the single rule that keeps the nearest pot out.

    ``no_eligible_pot`` when no pot funds the cohort anywhere, or no pot fails exactly one
    of geography, cohort and timing; otherwise the failing rule of the nearest pot (most
    money available in the year, ties in pot order) and ``amount = people × its unit cost``.
    """
    if not len(cells):
        return []
    cells = order.sort(cells[CELL + ["people"]])
    funded = case.eligibility.cohorts_funded()
    unfunded = ~cells["cohort_code"].isin(funded)

    nearest = pd.DataFrame(columns=CELL + ["pot_code", "reason"])
    candidates = cells[~unfunded]
    if len(candidates) and case.pots:
        pots = pd.DataFrame({"pot_code": list(case.pot), "_p": range(len(case.pot))})
        x = candidates[CELL].merge(pots, how="cross")
        geo, coh, timing = _rule_pairs(case)
        x["geography"] = ~_pairs_in(x, ["pot_code", "area_code"], geo)
        x["cohort"] = ~_pairs_in(x, ["pot_code", "cohort_code"], coh)
        x["timing"] = ~_pairs_in(x, ["pot_code", "year"], timing)
        x = x[(x["geography"].astype(int) + x["cohort"].astype(int) + x["timing"].astype(int)) == 1]
        py = case.pot_year_frame[["pot_code", "year", "available"]]
        x = x.merge(py, on=["pot_code", "year"], how="left")
        x["available"] = x["available"].fillna(0.0)  # outside the pot's life: no money to spend
        x = order.sort(x, "available", "_p", ascending=[False, True]).drop_duplicates(CELL, keep="first")
        x["reason"] = np.select([x["geography"], x["cohort"]], ["geography", "cohort"], default="timing")
        nearest = x[CELL + ["pot_code", "reason"]]
    cells = cells.merge(nearest, on=CELL, how="left")
    cells["unfunded"] = ~cells["cohort_code"].isin(funded)

    flags = []
    for r in cells.itertuples(index=False):
        name = case.cohort[r.cohort_code].name
        if r.unfunded or pd.isna(r.pot_code):
            detail = (
                f"no pot in the case funds {name}" if r.unfunded
                else "no pot may fund this cell, and none would by relaxing one rule alone (geography, cohort or timing)"
            )
            flags.append(
                Flag(stage="map", kind="gap", reason="no_eligible_pot", area_code=r.area_code,
                     cohort_code=r.cohort_code, year=r.year, people=float(r.people),
                     detail=f"{_people(r.people)} people unmet: {detail}")
            )
            continue
        cost = case.unit_cost(r.pot_code, r.cohort_code)
        amount = float(r.people * cost)
        why = _rule_words(case, r.reason, r.pot_code, r.area_code, r.cohort_code, r.year)
        flags.append(
            Flag(
                stage="map", kind="gap", reason=r.reason, pot_code=r.pot_code, area_code=r.area_code,
                cohort_code=r.cohort_code, year=r.year, people=float(r.people), amount=amount,
                detail=f"{_people(r.people)} people unmet: no pot may fund this cell; {r.pot_code} would fit "
                f"but for its {_RULE_NOUN[r.reason]} ({why}); closing it would cost {_money(amount)} at {_money(cost)} a head",
            )
        )
    return flags


# ---- idle ------------------------------------------------------------------------------------
def _idle_flags(case: Case, rows: pd.DataFrame) -> list[Flag]:
    """Provision committed where its pot may not fund: one flag per provision row.

    ``people = amount / unit_cost``; ``reason`` is the first broken rule of geography,
    cohort, timing; the detail names them all.
    """
    flags = []
    for r in rows.itertuples(index=False):
        broken = [rule for rule, ok in zip(ELIGIBILITY_RULES, (r.geography_ok, r.cohort_ok, r.timing_ok)) if not ok]
        why = "; ".join(
            f"{rule}: {_rule_words(case, rule, r.pot_code, r.area_code, r.cohort_code, r.year)}" for rule in broken
        )
        provider = r.provider if isinstance(r.provider, str) and r.provider else "no provider named"
        flags.append(
            Flag(
                stage="map", kind="idle", reason=broken[0], pot_code=r.pot_code, area_code=r.area_code,
                cohort_code=r.cohort_code, year=r.year, people=float(r.people), amount=float(r.amount),
                detail=f"{_money(r.amount)} from {r.pot_code} ({provider}) for {case.cohort[r.cohort_code].name} in "
                f"{case.area[r.area_code].name}, {r.year}, is committed where the pot may not fund it — {why}",
            )
        )
    return flags


# ---- journey stages --------------------------------------------------------------------------
def _stage_frames(case: Case, cov: pd.DataFrame, supplied: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage by journey stage: Σ provision_people ÷ Σ need, per area and year, and overall."""
    f = cov[["area_code", "year", "journey_stage", "need_people", "provision_people"]].copy()
    f["_s"] = f["journey_stage"].map(lambda s: 99 if s is None else s)

    def agg(by: list[str]) -> pd.DataFrame:
        g = f.groupby(by + ["_s"], sort=False)[["need_people", "provision_people"]].sum().reset_index()
        if supplied:
            g["coverage"] = g["provision_people"] / g["need_people"]
        else:  # unknown, not zero
            g["provision_people"] = np.nan
            g["coverage"] = np.nan
        g["journey_stage"] = pd.Series([None if s == 99 else int(s) for s in g["_s"]], index=g.index, dtype=object)
        return g

    year_pos = {y: i for i, y in enumerate(case.years)}
    area_pos = {a: i for i, a in enumerate(case.area)}
    by_area = agg(["area_code", "year"])
    by_area = by_area.assign(_a=by_area["area_code"].map(area_pos), _y=by_area["year"].map(year_pos))
    by_area = by_area.sort_values(["_a", "_y", "_s"], kind="stable")
    by_year = agg(["year"])
    by_year = by_year.assign(_y=by_year["year"].map(year_pos)).sort_values(["_y", "_s"], kind="stable")
    overall = agg([]).assign(year=ALL_YEARS).sort_values("_s", kind="stable")
    cols = ["year", "journey_stage", "need_people", "provision_people", "coverage"]
    totals = pd.concat([by_year[cols], overall[cols]], ignore_index=True)
    return by_area[["area_code", *cols]].reset_index(drop=True), totals
