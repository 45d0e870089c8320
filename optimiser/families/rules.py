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

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from commissioning.case.model import ALL, Case, Rule

from optimiser.families.base import (CELL, GAP_PEOPLE, IDLE_THRESHOLD, CheckCells, Family, Limit, Measured,
                                     Reasons, demand_allowance)
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
        """The rule and the year of this instance, in words."""
        return f"{self.rule.describe()} in {self.year}"


@dataclass
class RuleExpansion:
    """A case's rules expanded over a level's variables: the instances, those skipped, those impossible."""

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
    for inst in expand_rules(case, case.eligibility.rows(pool, keep=True)).instances:
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
        out["allowance_f"] = demand_allowance(cells, counted)
    return out


# ---- the explanation: which rules hold a level back, and where ------------------------------
def rules_holding_back(case: Case, level, solver: str) -> frozenset[int]:
    """The ``rules`` rows (positions in ``case.rules``) whose removal raises the level's optimum.

    Only rows that could be named as a reason are tried — tight at the level, and either
    covering a gap cell the way :func:`~commissioning.analysis.explain.gap_flags` reads a rule, or (a maximum) capping a pot
    with money left that year, as :func:`~commissioning.analysis.explain.idle_flags` reads it — each by one warm re-solve of
    the level without it. A rule no flag could name is not measured: it would change nothing.
    """
    from optimiser.solve import solve

    cons = level.constraints
    if cons is None or level.solution is None:
        return frozenset()
    tight = cons[(cons["family"] == "rule") & cons["tight"]]
    if tight.empty:
        return frozenset()
    every = frozenset(int(i) for i in tight["rule_index"].dropna())
    worth = _rules_that_could_be_named(case, level, tight, every)
    base = level.solution.objective
    out = set()
    for i in sorted(worth):
        # The level's own LP with that rule's rows opened: the same rows and columns, so the
        # level's basis maps whole and nothing is built again.
        sol = solve(_without_rule(level.lp, i), solver=solver, lexicographic=False, warm=level.solution.warm)
        if sol.status == "optimal" and sol.objective - base > 1e-7 * max(1.0, abs(base)):
            out.add(i)
    return frozenset(out)


def _without_rule(lp, index: int):
    """``lp`` with every row of rules row ``index`` unbounded (a copy; ``lp`` is unchanged)."""
    blocks = []
    for b in lp.blocks:
        if b.family == "rule":
            off = (b.meaning["rule_index"] == index).to_numpy()
            b = replace(b, lower=np.where(off, -np.inf, b.lower), upper=np.where(off, np.inf, b.upper))
        blocks.append(b)
    return replace(lp, blocks=blocks)


def _rules_that_could_be_named(case: Case, level, tight: pd.DataFrame, every: frozenset[int]) -> set[int]:
    """The tight rules rows a gap or an idle flag of this level could name (see above)."""
    v = level.lp.variables
    v = v[v["kind"] == "alloc"]
    need = case.need_frame[case.need_frame["people"] > 0]
    served = level.allocations.groupby(CELL, sort=False)["participants"].sum().rename("served").reset_index()
    cells = need.merge(served, on=CELL, how="left")
    cells = cells[cells["people"] - cells["served"].fillna(0.0) >= GAP_PEOPLE][CELL]
    reach = v[CELL + ["pot_code"]].drop_duplicates().merge(cells, on=CELL, how="inner")
    gaps = reach.groupby(CELL, sort=False)["pot_code"].agg(list).rename("pots").reset_index()  # unmet cells some pot reaches
    from optimiser.families.budget import money_left

    left = money_left(case, level)
    out = set()
    for r in tight.itertuples(index=False):
        if r.rule_index is None or pd.isna(r.rule_index):
            continue
        i = int(r.rule_index)
        scope = _rule_scopes(case, tight[tight["rule_index"] == r.rule_index], every)
        if any(_rule_covering(case, scope, g.pots, g.area_code, g.cohort_code, g.year) is not None
               for g in gaps[gaps["year"] == r.year].itertuples(index=False)):
            out.add(i)
        elif np.isfinite(r.upper) and r.pot_code in case.pot and left.get((r.pot_code, r.year), 0.0) >= IDLE_THRESHOLD:
            out.add(i)
    return out


def _rule_scopes(case: Case, tight: pd.DataFrame, holding: frozenset[int]) -> list[tuple]:
    """Each tight rule row that holds the level back, as (year, pot or None, cohort or None,
    areas or None, words). A minimum's scope is its pot's cells (it pulls money away)."""
    out = []
    for r in tight.itertuples(index=False):
        if r.rule_index is None or pd.isna(r.rule_index) or int(r.rule_index) not in holding:
            continue
        rule = case.rules[int(r.rule_index)]
        pot = None if r.pot_code in ("ALL", None) else r.pot_code
        if rule.rule.startswith("min"):
            out.append((r.year, pot, None, None, r.description))
            continue
        out.append((r.year, pot, None if rule.cohort_code == "ALL" else rule.cohort_code,
                    None if rule.area_code == "ALL" else frozenset(case.resolve_areas(rule.area_code)),
                    r.description))
    return out


def _rule_covering(case: Case, scopes: list[tuple], pots: list[str], area: str, cohort: str, year: str):
    """The words of a tight max-rule whose scope covers this cell and one of its pots."""
    for y, pot, coh, areas, words in scopes:
        if y == year and (pot is None or pot in pots) and (coh is None or coh == cohort) \
                and (areas is None or area in areas):
            return words
    return None


def _rule_gap(ctx: Reasons):
    tight = ctx.tight[ctx.tight["family"] == "rule"]
    scopes = _rule_scopes(ctx.case, tight, ctx.holding.get("rule", frozenset()))

    def reason(r):
        hit = _rule_covering(ctx.case, scopes, r.pots, r.area_code, r.cohort_code, r.year)
        return None if hit is None else ("rule", f"a rule holds it back: {hit}")
    return reason


def _rule_idle(ctx: Reasons):
    tight, holding = ctx.tight, list(ctx.holding.get("rule", frozenset()))

    def reason(pot, budget, window, mine):
        capping = tight[(tight["family"] == "rule") & (tight["pot_code"] == pot.code) &
                        tight["year"].isin(window) & np.isfinite(tight["upper"]) & tight["rule_index"].isin(holding)]
        return ("rule", f"a rule caps it: {capping['description'].iloc[0]}") if len(capping) else None
    return reason


RULE = Family(
    "rule", title="rules", words="rule",
    define=lambda lp, case, ctx: define_rules(lp, case),
    demands=True, settle_rank=10, check_rank=2, noun="rule",
    shadow_scale=MONEY_SCALE, shadow_unit="per extra £1m",
    binding_words=lambda case, r: f"the rule binds: {r.description}",
    limits=rule_limits, breach_words=_rule_breach, check_formulas=_rule_formulas,
    holding=rules_holding_back, gap_reason=_rule_gap, idle_reason=_rule_idle, reason_rank=1, idle_rank=2,
)
