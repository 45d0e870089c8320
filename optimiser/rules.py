"""``rules`` rows: minimum and maximum shares and amounts over any scope.

Each row's scope is a pot, an area (or footprint), a cohort and a year, any of which may
be ``ALL``. Decisions where the contract is silent:

* ``year = ALL`` means *each* year (one constraint per year of the case), because the
  contract defines a share as "of the pot's money in that year".
* ``pot_code = ALL`` on a share rule means each pot separately (a share of each pot's
  own money); on an amount rule it means the total over all pots.
* "The pot's money in that year" is its budget for that year (newly available money).
* Area and cohort ``ALL`` sum over every area and cohort.

Family ``rule``, for scope *S* (the allocation variables the row covers), pot *p* and
year *t*::

    min_share:   Σ_S x >= v · B[p,t]        max_share:   Σ_S x <= v · B[p,t]
    min_amount:  Σ_S x >= v / 1000          max_amount:  Σ_S x <= v / 1000

A minimum whose scope holds no variable at all cannot be met by any allocation; it is
recorded in ``lp.infeasible_rules`` so that the diagnosis names it without a solve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.model import ALL, Case, Rule

from .lp import MONEY_SCALE, LinearProgram, meaning_frame


def rule_instances(case: Case, rule: Rule) -> list[tuple[str, str]]:
    """The (pot, year) instances a rule expands into; pot ``ALL`` stays ``ALL`` for amounts."""
    years = list(case.years) if rule.year == ALL else [rule.year]
    if rule.rule in ("min_share", "max_share"):
        pots = list(case.pot) if rule.pot_code == ALL else [rule.pot_code]
    else:
        pots = [rule.pot_code]
    return [(p, t) for p in pots for t in years]


def define_rules(lp: LinearProgram, case: Case, rules: tuple[Rule, ...] | None = None) -> None:
    rules = case.rules if rules is None else rules
    if not rules:
        return
    v = lp.variables
    alloc = (v["kind"] == "alloc").to_numpy()
    # Pots and years as integer codes: each rule instance compares whole columns, and
    # comparing integers is ~10x quicker than comparing strings at national size.
    pot_codes, year_codes = list(case.pot), list(case.years)
    pot = pd.Index(pot_codes, dtype=object).get_indexer(v["pot_code"].to_numpy(dtype=object))
    year = pd.Index(year_codes, dtype=object).get_indexer(v["year"].to_numpy(dtype=object))
    area = v["area_code"].to_numpy()
    cohort = v["cohort_code"].to_numpy()
    rows, cols, lower, upper, meaning = [], [], [], [], []
    r = 0
    for i, rule in enumerate(rules):
        mask = alloc.copy()
        if rule.area_code != ALL:
            mask &= np.isin(area, list(case.resolve_areas(rule.area_code)))
        if rule.cohort_code != ALL:
            mask &= cohort == rule.cohort_code
        for p, t in rule_instances(case, rule):
            m = mask & (year == (year_codes.index(t) if t in year_codes else -2))
            if p != ALL:
                m &= pot == (pot_codes.index(p) if p in pot_codes else -2)
            idx = np.flatnonzero(m)
            if rule.rule in ("min_share", "max_share"):
                base = case.budget.get((p, t), 0.0)
                if base <= 0:
                    continue  # no money that year: a share of nothing binds nothing
                bound = rule.value * base / MONEY_SCALE
            else:
                bound = rule.value / MONEY_SCALE
            lo, up = (bound, np.inf) if rule.rule.startswith("min") else (-np.inf, bound)
            if len(idx) == 0:
                if lo > 0:
                    lp.infeasible_rules.append(
                        f"{rule.describe()} [{rule.origin}] in {t}: no eligible pot, area and cohort "
                        "with need falls within its scope")
                continue
            rows.append(np.full(len(idx), r))
            cols.append(idx)
            lower.append(lo)
            upper.append(up)
            meaning.append((p, rule.area_code, rule.cohort_code, t, i, f"{rule.describe()} in {t}"))
            r += 1
    if not r:
        return
    pots, areas, cohorts, years, index, desc = zip(*meaning)
    lp.add("rule", meaning_frame(r, pot_code=pots, area_code=areas, cohort_code=cohorts, year=years,
                                 rule_index=index, description=desc),
           np.concatenate(rows), np.concatenate(cols), np.ones(sum(len(c) for c in cols)),
           np.array(lower), np.array(upper))
