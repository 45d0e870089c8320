"""The domain model: typed, frozen objects a case is made of.

Everything after the readers works on these, never on sheet rows. Eligibility is a
question the case answers once, in :mod:`commissioning.case.eligibility` (``case.eligibility``),
so that no constraint builder, map or check reasons about geography, cohorts or dates itself.

Decisions where the contract is silent (also in the README):

* A pot's *available money* in year t is its budget for t plus the budgets of the
  previous ``carry_forward`` years; money never arrives before its budget year.
* A year is within a pot's life when any of its days falls between ``start`` and ``end``.
* ``ALL`` in a pot's ``geography`` or ``cohorts`` means every area or cohort of the case.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from commissioning.case import years as fy
from commissioning.case.eligibility import Eligibility
from commissioning.case.settlement import DEFAULT_THEME_FLEX
from commissioning.case.value import Valuation

ALL = "ALL"




class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Area(_Frozen):
    """An area the case plans for (a district, usually), with its population."""

    code: str
    name: str
    population: int | None = None


class Cohort(_Frozen):
    """A group of residents with a need: ages, journey stage, outcome and its rate and value."""

    code: str
    name: str
    age_min: int | None = None
    age_max: int | None = None
    journey_stage: int | None = None
    outcome: str
    outcome_rate: float
    value_per_outcome: float | None = None
    weight: float | None = None  # distributional weight on the cohort's benefits in a value objective (None: 1)


class Outcome(_Frozen):
    """One outcome of a cohort, valued the Green Book's way (the ``outcomes`` table; see
    :mod:`commissioning.case.value` for how it is counted)."""

    cohort_code: str
    outcome: str
    rate: float
    fiscal_value: float = 0.0
    economic_value: float = 0.0
    social_value: float = 0.0
    persistence_years: int = 1
    price_year: str | None = None  # None: the case's price base
    deadweight: float = 0.0
    displacement: float = 0.0
    source: str | None = None


class Department(_Frozen):
    """A pot's owning department from a date (``departments``): the pot changed hands then."""

    pot_code: str
    department: str
    start: date  # the contract's ``from``
    source: str | None = None


class Deflator(_Frozen):
    """A price index for one financial year (``deflators``)."""

    year: str
    index: float


class Pot(_Frozen):
    """A funding stream: who runs it, whom and where it may fund, its dates, cost per head and conditions."""

    code: str
    name: str
    department: str
    geography: tuple[str, ...]
    cohorts: tuple[str, ...]
    start: date
    end: date
    unit_cost: float
    carry_forward: int = 0
    match_rate: float = 0.0
    can_match: bool = False
    poolable: bool = False
    basis: str
    source: str | None = None
    capacity: float | None = None  # participants a year the pot's programme can serve (any level)
    pool_areas: Literal["own", "pool"] | None = None  # None: "own" for a local budget, else "pool"
    min_award: float | None = None  # £: spend in an area and year is nothing or at least this
    # The integrated settlement (commissioning.case.settlement): inside it or not, its spending
    # theme, revenue (RDEL) or capital (CDEL), and whether it keeps its own conditions.
    settlement: bool = False
    theme: str | None = None
    budget_type: Literal["revenue", "capital"] = "revenue"
    ring_fenced: bool = False

    @property
    def stays_home(self) -> bool:
        """Whether, in the pool, the pot funds only its own geography (``pool_areas``; a
        council's own ``local`` budget stays home unless it says ``pool``)."""
        if self.pool_areas is not None:
            return self.pool_areas == "own"
        return self.basis == "local"

    def in_life(self, year: str) -> bool:
        """Whether any day of financial ``year`` falls within the pot's start–end."""
        return fy.overlaps(year, self.start, self.end)


_SETTLEMENT_DEFAULTS = {"settlement": False, "theme": None, "budget_type": "revenue", "ring_fenced": False}


class Budget(_Frozen):
    """A pot's money for one financial year (£)."""

    pot_code: str
    year: str
    amount: float


class Need(_Frozen):
    """People in need in one area, cohort and year, with the evidence's source."""

    area_code: str
    cohort_code: str
    year: str
    people: float
    source: str | None = None
    as_of: date | None = None
    # The evidence's stated interval (both or neither): robust and sensitivity draw need within it.
    people_low: float | None = None
    people_high: float | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        """``(people_low, people_high)`` when the evidence states an interval, else None."""
        if self.people_low is None or self.people_high is None:
            return None
        return float(self.people_low), float(self.people_high)


class FootprintMember(_Frozen):
    """One area of a named footprint (a contract package area, say)."""

    footprint_code: str
    footprint_name: str
    area_code: str


class Rate(_Frozen):
    """A pot's own unit cost or outcome rate for one cohort, overriding the defaults."""

    pot_code: str
    cohort_code: str
    unit_cost: float | None = None
    outcome_rate: float | None = None
    outcome: str | None = None  # set: the row overrides this outcome's rate (the outcomes table) for the pot


class Provision(_Frozen):
    """Today's provision: money a pot spends on a cohort in an area and year."""

    pot_code: str
    area_code: str
    cohort_code: str
    year: str
    amount: float
    provider: str | None = None
    contract_end: date | None = None  # the signed contract's last day; None: not contracted

    def contracted(self) -> bool:
        """Whether this year's money is under contract: the year starts on or before ``contract_end``."""
        return self.contract_end is not None and fy.year_start(self.year) <= self.contract_end


class Rule(_Frozen):
    """A local or national rule: a minimum or maximum share or amount over a scope."""

    rule: Literal["min_share", "max_share", "min_amount", "max_amount"]
    pot_code: str = ALL
    area_code: str = ALL
    cohort_code: str = ALL
    year: str = ALL
    value: float
    note: str | None = None
    origin: str = "rules"  # where the rule came from: "rules" row n, or a scenario

    def describe(self) -> str:
        """The rule in words, with its note."""
        what = {
            "min_share": f"at least {self.value:.0%} of the pot's money",
            "max_share": f"at most {self.value:.0%} of the pot's money",
            "min_amount": f"at least £{self.value:,.0f}",
            "max_amount": f"at most £{self.value:,.0f}",
        }[self.rule]
        scope = ", ".join(
            f"{label} {v}" for label, v in
            (("pot", self.pot_code), ("area", self.area_code), ("cohort", self.cohort_code), ("year", self.year))
            if v != ALL
        ) or "everything"
        text = f"{self.rule} ({what}) for {scope}"
        return f"{text} — {self.note}" if self.note else text


class Transition(_Frozen):
    """How far a level may move from today's provision (``transition:`` in case.yaml).

    ``max_change``: each area's and each cohort's funding in a year stays within ± this share
    of today's (an area or cohort with no funding today is not limited); ``max_moved``: the
    money taken from today's cells over the term, Σ max(0, today − plan) over pot, area,
    cohort and year, is at most this share of today's money.
    """

    max_change: float | None = Field(None, ge=0.0)
    max_moved: float | None = Field(None, ge=0.0, le=1.0)


class Settlement(_Frozen):
    """The integrated settlement's rules (``settlement:`` in case.yaml): ``theme_flex``, the share of
    each theme's money in a year that may be spent on another theme (the grant letters' 10%)."""

    theme_flex: float = Field(DEFAULT_THEME_FLEX, ge=0.0, le=1.0)


class Protect(_Frozen):
    """Floors under the people served today (``protect:`` in case.yaml): per cohort and per
    area, a share of today's participants kept in each year. ``ALL`` is the share for every
    cohort (or area) not named."""

    cohorts: dict[str, float] = Field(default_factory=dict)
    areas: dict[str, float] = Field(default_factory=dict)

    def share(self, kind: str, code: str) -> float | None:
        """The floor for a cohort (``kind="cohorts"``) or area, as a share; None when there is none."""
        shares = getattr(self, kind)
        value = shares.get(code, shares.get(ALL))
        return None if value is None else float(value)


PROGRAMME_SCALE = 2.0  # see commissioning.case.model.Settings and optimiser.families.capacity


class Settings(_Frozen):
    """The case's settings (case.yaml): name, objective, equity floor, term and agreement details,
    and how far a plan may move from today's (transition, protection, programme scale)."""

    name: str = "case"
    objective: Literal["outcomes", "value", "fiscal", "economic", "social", "coverage"] = "outcomes"
    objective_why: str | None = None  # set when the objective was chosen by default, not stated
    equity_floor: float = Field(0.0, ge=0.0, le=1.0)
    parties: tuple[str, ...] = ()
    lead_body: str | None = None
    term_years: int = 5
    start_year: str | None = None
    transition: Transition = Transition()
    near_optimal: float = Field(0.0, ge=0.0, le=1.0)
    programme_scale: float = Field(PROGRAMME_SCALE, ge=1.0)
    protect: Protect = Protect()
    least_disruption: bool = True
    package_share: float = Field(0.05, ge=0.0, le=1.0)  # the package stops below this share of its gain
    price_base: str | None = None  # None: the case's first year (commissioning.case.value)
    discount_rate: float = Field(0.035, ge=0.0, le=1.0)
    optimism_bias: float = Field(0.0, ge=0.0)
    settlement: Settlement = Settlement()
    gss_vintage: date | None = None  # None: the first day of the case's first year


class Case(_Frozen):
    """A whole case. Lists are kept in input order; lookups are derived and cached."""

    areas: tuple[Area, ...]
    cohorts: tuple[Cohort, ...]
    pots: tuple[Pot, ...]
    budgets: tuple[Budget, ...]
    need: tuple[Need, ...]
    footprints: tuple[FootprintMember, ...] = ()
    rates: tuple[Rate, ...] = ()
    provision: tuple[Provision, ...] | None = None  # None: not supplied (unknown, not zero)
    rules: tuple[Rule, ...] = ()
    outcomes: tuple[Outcome, ...] = ()  # outcomes by type; empty: each cohort's one outcome
    deflators: tuple[Deflator, ...] = ()
    departments: tuple[Department, ...] = ()  # owners by date; empty: pots.department throughout
    settings: Settings = Settings()
    # Set by a scenario (commissioning.inputs.scenario); a plain case has none of them.
    scenario: str | None = None  # the scenario's name, used as the `scenario` column
    pool: tuple[str, ...] | None = None  # pots forming the pool; None: every poolable pot
    locks: tuple[Provision, ...] = ()  # today's provision kept exactly as it is
    rules_changed: bool = False  # whether the scenario changes today's rules (scenario.changes_rules)
    # The files the case (and its scenario) was read from, as (file name, SHA-256): the run
    # record's; like ``rules_changed``, a label of the inputs, not one of them.
    sources: tuple[tuple[str, str], ...] = ()

    # ---- lookups -----------------------------------------------------------------
    @cached_property
    def area(self) -> dict[str, Area]:
        """Areas by code."""
        return {a.code: a for a in self.areas}

    @cached_property
    def cohort(self) -> dict[str, Cohort]:
        """Cohorts by code."""
        return {c.code: c for c in self.cohorts}

    @cached_property
    def pot(self) -> dict[str, Pot]:
        """Pots by code."""
        return {p.code: p for p in self.pots}

    @cached_property
    def footprint_members(self) -> dict[str, tuple[str, ...]]:
        """The areas of each footprint, by footprint code."""
        out: dict[str, list[str]] = {}
        for m in self.footprints:
            out.setdefault(m.footprint_code, []).append(m.area_code)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def footprint_names(self) -> dict[str, str]:
        """Each footprint's name, by code."""
        return {m.footprint_code: m.footprint_name for m in self.footprints}

    @cached_property
    def years(self) -> tuple[str, ...]:
        """Every financial year the case speaks of (budgets and need), in order."""
        labels = {b.year for b in self.budgets} | {n.year for n in self.need}
        if not labels:
            return ()
        return tuple(fy.years_between(min(labels), max(labels)))

    def resolve_areas(self, codes: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
        """Area codes named by a list of area codes, footprint codes or ``ALL``, in case order."""
        if isinstance(codes, str):
            codes = (codes,)
        wanted: set[str] = set()
        for code in codes:
            if code == ALL:
                return tuple(self.area)
            if code in self.area:
                wanted.add(code)
            else:
                wanted.update(self.footprint_members.get(code, ()))
        return tuple(a for a in self.area if a in wanted)

    def resolve_cohorts(self, codes: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
        """Cohort codes named by a list of codes or ``ALL``, in case order."""
        if isinstance(codes, str):
            codes = (codes,)
        if ALL in codes:
            return tuple(self.cohort)
        wanted = set(codes)
        return tuple(c for c in self.cohort if c in wanted)

    @cached_property
    def pot_areas(self) -> dict[str, frozenset[str]]:
        """The areas each pot's geography takes in (footprints and ``ALL`` resolved)."""
        return {p.code: frozenset(self.resolve_areas(p.geography)) for p in self.pots}

    @cached_property
    def pot_cohorts(self) -> dict[str, frozenset[str]]:
        """The cohorts each pot may fund (``ALL`` resolved)."""
        return {p.code: frozenset(self.resolve_cohorts(p.cohorts)) for p in self.pots}

    @cached_property
    def budget(self) -> dict[tuple[str, str], float]:
        """£ by (pot, budget year)."""
        return {(b.pot_code, b.year): b.amount for b in self.budgets}

    def available(self, pot_code: str, year: str) -> float:
        """Money that may be spent in ``year``: its budget plus the carry-forward window."""
        pot = self.pot[pot_code]
        return sum(
            self.budget.get((pot_code, fy.shift(year, -k)), 0.0) for k in range(pot.carry_forward + 1)
        )

    def spend_years(self, pot_code: str, budget_year: str) -> tuple[str, ...]:
        """The years in which money from ``budget_year`` may be spent (within the pot's life)."""
        pot = self.pot[pot_code]
        return tuple(
            y for y in (fy.shift(budget_year, k) for k in range(pot.carry_forward + 1)) if pot.in_life(y)
        )

    def unit_cost(self, pot_code: str, cohort_code: str) -> float:
        """£ per participant of a pot's programme for a cohort, after ``rates``."""
        r = self.rate.get((pot_code, cohort_code))
        return r.unit_cost if r is not None and r.unit_cost is not None else self.pot[pot_code].unit_cost

    def outcome_rate(self, pot_code: str, cohort_code: str) -> float:
        """Outcomes per participant of a pot's programme for a cohort, after ``rates``."""
        r = self.rate.get((pot_code, cohort_code))
        if r is not None and r.outcome_rate is not None:
            return r.outcome_rate
        return self.cohort[cohort_code].outcome_rate

    @cached_property
    def rate(self) -> dict[tuple[str, str], Rate]:
        """The ``rates`` rows by (pot, cohort) (the rows naming no outcome)."""
        return {(r.pot_code, r.cohort_code): r for r in self.rates if r.outcome is None}

    @cached_property
    def valuation(self) -> "Valuation":
        """The case's values, the Green Book's way (:class:`~commissioning.case.value.Valuation`)."""
        return Valuation(self)

    # ---- tables for vectorised work ----------------------------------------------
    # (the cached lookups that read no need figure: a draw of need carries them over, with_changes)
    @cached_property
    def need_frame(self) -> pd.DataFrame:
        """area_code, cohort_code, year, people — one row per need cell (people may be 0)."""
        return pd.DataFrame(
            {
                "area_code": [n.area_code for n in self.need],
                "cohort_code": [n.cohort_code for n in self.need],
                "year": [n.year for n in self.need],
                "people": np.array([n.people for n in self.need], dtype=float),
            }
        )

    @cached_property
    def pot_year_frame(self) -> pd.DataFrame:
        """pot_code, year, budget, available — every pot × case year within the pot's life."""
        rows = []
        for p in self.pots:
            for y in self.years:
                if p.in_life(y):
                    rows.append((p.code, y, self.budget.get((p.code, y), 0.0), self.available(p.code, y)))
        return pd.DataFrame(rows, columns=["pot_code", "year", "budget", "available"])

    @cached_property
    def eligibility(self) -> "Eligibility":
        """The one answer to "may pot p fund this cell?" (:class:`~commissioning.case.eligibility.Eligibility`)."""
        return Eligibility(self)

    @cached_property
    def total_budget(self) -> float:
        """£ of every budget together."""
        return float(sum(b.amount for b in self.budgets))

    @cached_property
    def total_need(self) -> float:
        """People in need across every cell."""
        return float(sum(n.people for n in self.need))

    def fingerprint(self) -> str:
        """A short hash of the inputs: which case (and scenario) produced an output.

        Where each rule came from (file or sheet) is left out, so the two forms of the same
        case share a fingerprint; so are ``rules_changed`` and ``sources``, labels of the
        inputs rather than inputs.
        """
        import hashlib

        data = self.model_dump(mode="json")
        data.pop("rules_changed", None)
        data.pop("sources", None)
        for r in data.get("rules", []):
            r.pop("origin", None)
        # The settlement's fields at their defaults are left out, so a case that does not use them keeps
        # the fingerprint it had before they existed (and its earlier results stay usable with --from).
        for p in data.get("pots", []):
            for key, default in _SETTLEMENT_DEFAULTS.items():
                if p.get(key) == default:
                    p.pop(key, None)
        for n in data.get("need", []):  # a need figure without an interval hashes as it did before intervals
            for key in ("people_low", "people_high"):
                if n.get(key) is None:
                    n.pop(key, None)
        if not data.get("departments"):
            data.pop("departments", None)
        settings = data.get("settings", {})
        if settings.get("settlement") == Settlement().model_dump(mode="json"):
            settings.pop("settlement", None)
        if settings.get("gss_vintage") is None:
            settings.pop("gss_vintage", None)
        text = __import__("json").dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def model_copy(self, *, update: dict | None = None, deep: bool = False) -> "Case":
        """A copy through :meth:`with_changes`: pydantic's own copy would share (and keep stale)
        the tables cached on this case."""
        return self.with_changes(**(update or {}))

    def with_changes(self, **changes) -> "Case":
        """A copy with some fields replaced (derived lookups are rebuilt).

        When only ``pots`` change and the pot codes and their order stay the same (an ask
        lets one pot fund another area or cohort, or for longer), the eligible-cell tables
        already worked out are carried over and only the changed pots' cells are worked out
        again: at national size that is 0.05 s instead of 0.35 s per ask. When only the
        settings' ``protect`` floors change, every derived table carries over (none reads them).
        """
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(changes)
        new = Case(**data)
        if set(changes) == {"pots"} and "eligibility" in self.__dict__:
            new.__dict__["eligibility"] = self.eligibility.carried_to(new)
        if set(changes) == {"need"}:
            # Only the people in need moved (a sensitivity or robust draw): the lookups that do not
            # read need are the same objects, and the eligible cells keep their rows.
            for name in _NEED_FREE:
                if name in self.__dict__:
                    new.__dict__[name] = self.__dict__[name]
            if "eligibility" in self.__dict__:
                new.__dict__["eligibility"] = self.eligibility.renewed(new)
        if set(changes) == {"settings"} and _only_protect_differs(self.settings, new.settings):
            # Only the protection floors moved (what protecting a dropped cohort or area costs,
            # commissioning.analysis.dropped): no derived table reads them, so every one carries over.
            for name, value in self.__dict__.items():
                if name not in type(self).model_fields:
                    new.__dict__[name] = value
            if "eligibility" in self.__dict__:
                new.__dict__["eligibility"] = self.eligibility.rehomed(new)
        return new


def _only_protect_differs(old: "Settings", new: "Settings") -> bool:
    """Whether two settings are the same but for their ``protect`` floors."""
    return old.model_copy(update={"protect": new.protect}) == new


def same_but_floors(a: "Case", b: "Case") -> bool:
    """Whether two cases are the same but for the settings' protection floors (``protect``): every
    other input the same object or equal."""
    fields = [f for f in type(a).model_fields if f != "settings"]
    return all(getattr(a, f) is getattr(b, f) or getattr(a, f) == getattr(b, f) for f in fields) and \
        _only_protect_differs(a.settings, b.settings)


_NEED_FREE = ("area", "cohort", "pot", "footprint_members", "footprint_names", "pot_areas", "pot_cohorts",
              "budget", "rate", "pot_year_frame", "total_budget")
