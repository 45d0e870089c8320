"""What an outcome is worth, the Green Book's way: everything known about the value rule.

A case with an ``outcomes`` table is *valued*: each cohort may have several outcomes, each
with a rate per participant and a fiscal, economic and social value per outcome per year.
The convention, one place for the objective, the figures and the agreement's formulas:

* **Net additional.** net = gross × (1 − deadweight) × (1 − displacement). A case that
  states neither for any outcome is *gross*, and every output says so (:attr:`Valuation.gross`).
* **One price base.** A value in ``price_year`` p is uprated to the case's ``price_base`` b
  by ``index[b] ÷ index[p]`` from the ``deflators`` table (validation requires both years
  there whenever p ≠ b). ``price_base`` defaults to the case's first year. Budgets, unit
  costs and provision are taken to be in the price base already: the engine deflates values,
  never money.
* **Years and discounting.** The term's first year (``start_year``, else the case's first
  year) is year 0 and is not discounted; an amount accruing in year t is divided by
  (1 + r)^t, r = ``discount_rate`` (default 3.5%, the Green Book's). An outcome achieved in
  year t yields its yearly value in each of years t … t + persistence − 1, so one outcome is
  worth V × Σ_{k<P} (1 + r)^−(t+k) in present value. Yearly fiscal, economic and social
  figures are undiscounted amounts in the price base; present values are discounted.
* **Costs.** pv_costs = Σ_t spend_t × (1 + ``optimism_bias``) ÷ (1 + r)^t: optimism bias is
  an uplift on costs, as the Green Book applies it.
* **Rates.** An outcome's rate is the ``outcomes`` row's, or a ``rates`` row naming that
  pot, cohort and outcome. A pot's ``rates`` row without an outcome sets the unit cost and
  the cohort's headline outcome rate (which the ``outcomes`` objective counts), and so also
  the rate of the ``outcomes`` row named as the cohort's headline ``outcome``.
* **A cohort with no outcomes rows**, in a valued case, keeps its one headline outcome at
  its ``value_per_outcome``, one year, in the price base, gross, counted as economic value
  (the unit-cost database's figures are fiscal and economic together, not split).
* **Distributional weights** (``cohorts.weight``, default 1) multiply a cohort's benefits in
  the objective only; the reported figures are unweighted.

A case without an ``outcomes`` table is not valued: ``value`` is the cohort's outcomes ×
``value_per_outcome`` as before (undiscounted, gross), and the fiscal, economic and social
objectives are not available (validation says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from commissioning.case import years as fy

if TYPE_CHECKING:
    from commissioning.case.model import Case

COMPONENTS = ("fiscal", "economic", "social")
GREEN_BOOK_RATE = 0.035


@dataclass(frozen=True)
class OutcomeType:
    """One outcome of a programme for a cohort, resolved: its rate, net share and yearly values in the price base."""

    outcome: str
    rate: float
    net: float  # (1 − deadweight)(1 − displacement)
    fiscal: float  # £ a year per outcome, uprated to the price base
    economic: float
    social: float
    persistence: int

    def yearly(self, component: str) -> float:
        """£ a year per outcome of one component, or of all three (``value``)."""
        if component == "value":
            return self.fiscal + self.economic + self.social
        return getattr(self, component)


class Valuation:
    """The case's value convention (see the module docstring), answered once per case."""

    def __init__(self, case: "Case") -> None:
        self.case = case

    @cached_property
    def valued(self) -> bool:
        """Whether the case has an ``outcomes`` table (the Green Book's figures apply)."""
        return bool(self.case.outcomes)

    @cached_property
    def gross(self) -> bool:
        """Whether no outcome states deadweight or displacement (figures are gross)."""
        return not any(o.deadweight or o.displacement for o in self.case.outcomes)

    @cached_property
    def price_base(self) -> str | None:
        s = self.case.settings
        return s.price_base or (self.case.years[0] if self.case.years else None)

    @cached_property
    def first_year(self) -> str | None:
        """Year 0 of discounting: the term's first year."""
        s = self.case.settings
        return s.start_year or (self.case.years[0] if self.case.years else None)

    @property
    def rate(self) -> float:
        return self.case.settings.discount_rate

    @cached_property
    def _index(self) -> dict[str, float]:
        return {d.year: d.index for d in self.case.deflators}

    def uprating(self, price_year: str | None) -> float:
        """index[price base] ÷ index[price year]; 1 when they are the same year."""
        if price_year is None or price_year == self.price_base:
            return 1.0
        return self._index[self.price_base] / self._index[price_year]

    def t(self, year: str) -> int:
        """Years from the term's first year (year 0)."""
        return fy.parse_year(year) - fy.parse_year(self.first_year)

    def discount(self, t: int | np.ndarray) -> float | np.ndarray:
        """1 ÷ (1 + r)^t."""
        return 1.0 / (1.0 + self.rate) ** t

    def pv_factor(self, t: int, persistence: int) -> float:
        """Σ_{k<P} (1 + r)^−(t+k): the present value of £1 a year from year t for P years."""
        return float(sum(self.discount(t + k) for k in range(persistence)))

    @cached_property
    def _rows(self) -> dict[str, list]:
        out: dict[str, list] = {}
        for o in self.case.outcomes:
            out.setdefault(o.cohort_code, []).append(o)
        return out

    @cached_property
    def _overrides(self) -> dict[tuple[str, str, str], float]:
        return {(r.pot_code, r.cohort_code, r.outcome): r.outcome_rate for r in self.case.rates
                if r.outcome is not None and r.outcome_rate is not None}

    def types(self, programme: str, cohort: str) -> tuple[OutcomeType, ...]:
        """The outcomes participants of ``programme`` in ``cohort`` reach, resolved."""
        key = (programme, cohort)
        cache = self.__dict__.setdefault("_types", {})
        if key in cache:
            return cache[key]
        rows = self._rows.get(cohort)
        if rows:
            headline = self.case.rate.get((programme, cohort))
            headline_rate = headline.outcome_rate if headline is not None else None
            c = self.case.cohort[cohort]

            def rate_of(o) -> float:
                found = self._overrides.get((programme, cohort, o.outcome))
                if found is None and o.outcome == c.outcome and headline_rate is not None:
                    found = headline_rate  # the pot's rates row for the cohort's headline outcome
                return o.rate if found is None else found

            found = tuple(
                OutcomeType(o.outcome, rate_of(o),
                            (1 - o.deadweight) * (1 - o.displacement),
                            *(v * self.uprating(o.price_year) for v in (o.fiscal_value, o.economic_value,
                                                                          o.social_value)),
                            o.persistence_years)
                for o in rows)
        else:
            c = self.case.cohort[cohort]
            rate = self.case.outcome_rate(programme, cohort) if programme in self.case.pot else c.outcome_rate
            found = (OutcomeType(c.outcome, rate, 1.0, 0.0, c.value_per_outcome or 0.0, 0.0, 1),)
        cache[key] = found
        return found

    def per_head(self, programme: str, cohort: str, year: str, component: str = "value",
                 weighted: bool = False) -> float:
        """£ present value of net additional benefits (one component, or all) per participant."""
        t = self.t(year)
        pv = sum(o.rate * o.net * o.yearly(component) * self.pv_factor(t, o.persistence)
                 for o in self.types(programme, cohort))
        weight = self.case.cohort[cohort].weight
        return pv * (weight if weighted and weight is not None else 1.0)

    def per_head_column(self, frame: pd.DataFrame, component: str = "value", weighted: bool = False) -> np.ndarray:
        """:meth:`per_head` for each row of a frame with programme (or pot_code), cohort_code and year."""
        prog = frame["programme"] if "programme" in frame else frame["pot_code"]
        prog = prog.where(prog.notna(), frame["pot_code"]).astype(str)
        keys = pd.DataFrame({"p": prog.to_numpy(), "c": frame["cohort_code"].astype(str).to_numpy(),
                             "y": frame["year"].astype(str).to_numpy()})
        unique = keys.drop_duplicates()
        unique = unique.assign(v=[self.per_head(p, c, y, component, weighted)
                                  for p, c, y in unique.itertuples(index=False)])
        return keys.merge(unique, on=["p", "c", "y"], how="left")["v"].to_numpy(dtype=float)
