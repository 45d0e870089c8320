"""``rules`` rows: minimum and maximum shares and amounts over any scope.

Each row's scope is a pot, an area (or footprint), a cohort and a year, any of which may
be ``ALL``. Decisions where the contract is silent:

* ``year = ALL`` means *each* year (one constraint per year of the case).
* A **share** is of the pot's money **spent in that year, whatever year it arrived in**
  (its own budget or money carried forward): ``max_share 0.3`` on a pot with
  carry-forward caps the capped cohort at 30% of what the pot spends in its second year
  too, even when no new budget arrives that year.
* ``pot_code = ALL`` on a share rule means each pot separately (a share of each pot's
  own spending), applied to **each pot that may fund the scope** that year (has an
  allocation variable in it); pots that may not are skipped and the skip is said
  (``lp.skipped_rules``), rather than forcing them to spend nothing. On an amount rule
  ``ALL`` means the total over all pots.
* A ``min_share`` naming one pot that may fund nothing in its scope in a year (no
  eligible cell with need) is skipped for that year and said: met literally, it would
  stop the pot spending at all that year. (A rule naming a pot that can *never* fund its
  scope is a validation error.)
* Area and cohort ``ALL`` sum over every area and cohort.

Family ``rule``, for scope *S* (the allocation variables the row covers), pot *p*, year
*t* and ``T`` all of *p*'s allocation variables in *t* (S ⊆ T)::

    min_share:   Σ_S x − v · Σ_T x >= 0        max_share:   Σ_S x − v · Σ_T x <= 0
    min_amount:  Σ_S x >= v / 1000             max_amount:  Σ_S x <= v / 1000

A minimum amount whose scope holds no variable at all cannot be met by any allocation;
it is recorded in ``lp.infeasible_rules`` so that the diagnosis names it without a solve.

:func:`expand_rules` is the one expansion: the LP rows here and the agreement's closed-form
checks (:mod:`commissioning.analysis.limits`) are both built from it, so they can never disagree
on which instances exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from commissioning.case.model import ALL, Case, Rule

from optimiser.families.base import PENNY, RELATIVE, CheckCells, Family, Limit, Measured
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame

SHARES = ("min_share", "max_share")


def rule_instances(case: Case, rule: Rule) -> list[tuple[str, str]]:
    """The (pot, year) instances a rule may expand into; pot ``ALL`` stays ``ALL`` for amounts."""
    years = list(case.years) if rule.year == ALL else [rule.year]
    if rule.rule in SHARES:
        pots = list(case.pot) if rule.pot_code == ALL else [rule.pot_code]
    else:
        pots = [rule.pot_code]
    return [(p, t) for p in pots for t in years]


@dataclass(frozen=True)
class RuleInstance:
    """One row of the ``rule`` family: rule ``index`` applied to pot ``pot_code`` in ``year``.

    ``scope`` are the positions of the allocation variables it sums; ``spend`` (shares
    only) the positions of all the pot's allocation variables that year.
    """

    index: int
    rule: Rule
    pot_code: str
    year: str
    scope: np.ndarray
    spend: np.ndarray | None

    @property
    def words(self) -> str:
        return f"{self.rule.describe()} in {self.year}"


@dataclass
class RuleExpansion:
    instances: list[RuleInstance]
    skipped: list[str]  # instances left out, in words
    impossible: list[str]  # minimum amounts with nothing in scope, in words


def expand_rules(case: Case, variables: pd.DataFrame, rules: tuple[Rule, ...] | None = None) -> RuleExpansion:
    """Every instance of every rule over ``variables`` (see the module docstring)."""
    rules = case.rules if rules is None else rules
    out = RuleExpansion([], [], [])
    if not rules:
        return out
    v = variables
    alloc = (v["kind"] == "alloc").to_numpy() if "kind" in v.columns else np.ones(len(v), dtype=bool)
    # Pots and years as integer codes: each rule instance compares whole columns, and
    # comparing integers is ~10x quicker than comparing strings at national size.
    pot_codes, year_codes = list(case.pot), list(case.years)
    pot = pd.Index(pot_codes, dtype=object).get_indexer(v["pot_code"].to_numpy(dtype=object))
    year = pd.Index(year_codes, dtype=object).get_indexer(v["year"].to_numpy(dtype=object))
    area = v["area_code"].to_numpy()
    cohort = v["cohort_code"].to_numpy()
    for i, rule in enumerate(rules):
        mask = alloc.copy()
        if rule.area_code != ALL:
            mask &= np.isin(area, list(case.resolve_areas(rule.area_code)))
        if rule.cohort_code != ALL:
            mask &= cohort == rule.cohort_code
        share = rule.rule in SHARES
        skipped_pots: dict[str, list[str]] = {}
        for p, t in rule_instances(case, rule):
            in_year = alloc & (year == (year_codes.index(t) if t in year_codes else -2))
            if p != ALL:
                in_year &= pot == (pot_codes.index(p) if p in pot_codes else -2)
            idx = np.flatnonzero(mask & in_year)
            if share:
                spend = np.flatnonzero(in_year)
                if not len(spend):
                    continue  # the pot may spend nothing that year: no share to hold
                if not len(idx):
                    if rule.rule == "min_share":
                        skipped_pots.setdefault(t, []).append(p)
                    continue  # a maximum of nothing holds; a minimum would stop all spending
                out.instances.append(RuleInstance(i, rule, p, t, idx, spend))
                continue
            if not len(idx):
                if rule.rule == "min_amount" and rule.value > 0:
                    out.impossible.append(f"{rule.describe()} [{rule.origin}] in {t}: no eligible pot, area and "
                                          "cohort with need falls within its scope")
                continue
            out.instances.append(RuleInstance(i, rule, p, t, idx, None))
        for t, pots in skipped_pots.items():
            out.skipped.append(f"{rule.describe()} [{rule.origin}] in {t}: not applied to {', '.join(pots)} — "
                               f"{'it' if len(pots) == 1 else 'they'} may fund nothing with need in its scope "
                               "that year")
    return out


def define_rules(lp: LinearProgram, case: Case, rules: tuple[Rule, ...] | None = None) -> None:
    """Add the ``rule`` family (see the module docstring)."""
    found = expand_rules(case, lp.variables, rules)
    lp.infeasible_rules.extend(found.impossible)
    lp.skipped_rules.extend(found.skipped)
    if not found.instances:
        return
    rows, cols, coefs, lower, upper, meaning = [], [], [], [], [], []
    for r, inst in enumerate(found.instances):
        rule = inst.rule
        if inst.spend is not None:  # a share of the pot's spending that year: S ⊆ T
            c = np.full(len(inst.spend), -rule.value)
            c[np.isin(inst.spend, inst.scope)] += 1.0
            cols.append(inst.spend)
            coefs.append(c)
            bound = 0.0
        else:
            cols.append(inst.scope)
            coefs.append(np.ones(len(inst.scope)))
            bound = rule.value / MONEY_SCALE
        rows.append(np.full(len(cols[-1]), r))
        lo, up = (bound, np.inf) if rule.rule.startswith("min") else (-np.inf, bound)
        lower.append(lo)
        upper.append(up)
        meaning.append((inst.pot_code, rule.area_code, rule.cohort_code, inst.year, inst.index, inst.words))
    pots, areas, cohorts, years, index, desc = zip(*meaning)
    lp.add("rule", meaning_frame(len(meaning), pot_code=pots, area_code=areas, cohort_code=cohorts, year=years,
                                 rule_index=index, description=desc),
           np.concatenate(rows), np.concatenate(cols), np.concatenate(coefs), np.array(lower), np.array(upper))


def rule_limits(case: Case, pool: frozenset[str]) -> list[Limit]:
    """``rule`` in closed form: one per instance of each rules row, exactly as
    :func:`expand_rules` expands it over the level of ``pool`` (a share is of the pot's
    spending that year, measured on the rows themselves; footprints resolve to their areas)."""
    out: list[Limit] = []
    for inst in expand_rules(case, case.eligibility.rows(pool)).instances:
        rule, p, t = inst.rule, inst.pot_code, inst.year
        share = inst.spend is not None
        areas = None if rule.area_code == ALL else tuple(case.resolve_areas(rule.area_code))
        cohorts = None if rule.cohort_code == ALL else (rule.cohort_code,)
        words = rule.describe() if rule.year != ALL else f"{rule.describe()}, in {t}"
        out.append(Limit("rule", "min" if rule.rule.startswith("min") else "max", words,
                         pot_code=p, area_code=rule.area_code, cohort_code=rule.cohort_code, year=t,
                         pots=None if p == ALL else (p,), areas=areas, cohorts=cohorts, years=(t,),
                         measure="share" if share else "amount", bound=0.0 if share else float(rule.value),
                         rule_index=inst.index, rule_value=float(rule.value)))
    return out


def _rule_breach(m: Measured, money) -> str:
    kind = "minimum" if m.limit.sense == "min" else "maximum"
    return f"{m.limit.words}: {money(m.value)} against a {kind} of {money(m.bound)}"

def _demand_allowance(cells: CheckCells, counted: str) -> str:
    """A minimum's or an exact amount's allowance: a penny per row in scope, plus the solver's tolerance."""
    return f"={PENNY}*MAX(1,SUMPRODUCT({counted}*(alloc_amount>0)))+{RELATIVE:.7f}*ABS({cells.col('limit')})"


def _rule_formulas(m: Measured, cells: CheckCells) -> dict:
    lim = m.limit
    terms = cells.scope_terms(lim)
    scope = "*".join(terms) if terms else '--(alloc_pot<>"")'
    out = {"value_f": f"=SUMPRODUCT({scope},alloc_amount)", "factor": lim.rule_value}
    counted = scope
    if lim.measure == "share":  # of the pot's spending that year (Pooled budget, planned spend)
        out["limit_f"] = f"={cells.col('factor')}*{cells.pooled_cell('spend', lim.pot_code, lim.year)}"
        counted = "*".join(cells.scope_terms(Limit("rule", "max", "", pots=lim.pots, years=lim.years)))
    else:
        out["limit_f"] = f"={cells.col('factor')}"
    if lim.sense != "max":
        out["allowance_f"] = _demand_allowance(cells, counted)
    return out


RULE = Family(
    "rule", title="rules", words="rule",
    define=lambda lp, case, ctx: define_rules(lp, case),
    demands=True, settle_rank=10, check_rank=2, noun="rule",
    shadow_scale=MONEY_SCALE, shadow_unit="per extra £1m",
    binding_words=lambda case, r: f"the rule binds: {r.description}",
    limits=rule_limits, breach_words=_rule_breach, check_formulas=_rule_formulas,
)
