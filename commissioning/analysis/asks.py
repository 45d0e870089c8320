"""Devolution asks: which flexibility would buy the most, measured.

Every candidate is one change to today's rules (or similar ones merged, below), judged
against the ``aligned`` level:

* ``add_cohort`` — let a pot fund a cohort it may not today (where it has money and the
  cohort has need in its areas);
* ``add_area`` — let a pot fund an area outside its geography;
* ``extend_years`` — let a pot's money be spent for one more year after its end date;
* ``carry_forward`` — one more year of carry-forward for a pot with money left idle;
* ``drop_match`` — remove a pot's match-funding requirement;
* ``relax_rule`` — remove a ``rules`` row that binds;
* ``pool`` — form the pool (all ``poolable`` pots; its gain is the devolution dividend),
  or add a pot that is not ``poolable`` to it (measured against the pooled level).

**Pricing.** Each candidate is first priced from the aligned duals: the reduced cost
``rc = c_j - Σ_i y_i a_ij`` of each variable the change would create (budget, carry-
forward, need-cap and match rows; equity rows are left out of the estimate), times the
money it could absorb (need × unit cost, capped at the pot's money); for a rule, a match
requirement or idle money, the dual times the amount it holds back.

**Measuring.** The most promising candidates (``max_measured``, best estimate first) are
solved again with that one change, lexicographically like the levels (so the allocation
reached is the same one whatever the solver). Each measured ask reports ``gain`` in the
objective's own measure (outcomes, £ of value or participants) and, whatever the
objective, ``gain_outcomes``, ``gain_participants`` and ``gain_value`` — each exactly what
its name says, from the allocations with and without the change (under ``value`` an ask
may add value and lose outcomes, and says so). Only asks with a positive ``gain`` are
listed, best first. ``gain_per_million`` is ``gain`` per £1m of money the change moves
(the larger of the money added to cells and the money taken from them), so that a small
targeted flexibility can be compared with a large one. Among an ask's optimal plans the one
measured takes the fewest people from the plan it is compared with (:mod:`optimiser.anchor`),
so the money moved and who receives less are what the ask needs.

**Merging** (:func:`merge_similar`): one pot's new areas are one ask, and one department's
pots widened to the same cohort are one ask (a pot whose department is not stated stays on
its own), each measured once with all its parts. Who grants an ask, its words, what it
assumes and who receives less are :mod:`commissioning.analysis.policy`'s; the asks taken
together are :mod:`commissioning.analysis.package`'s.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Each kind of ask relaxes one family's rule, so its estimate reads that family's duals.
from optimiser.families.budget import CARRY_FORWARD, POT_BUDGET
from optimiser.families.match import MATCH
from optimiser.families.need_cap import NEED_CAP
from optimiser.families.registry import budget_families, priced
from optimiser.families.rules import RULE

from optimiser.objective import MEASURE, UNIT
from commissioning.case import years as fy
from commissioning.analysis import policy
from commissioning.analysis.workers import share_out
from commissioning.case.model import ALL, Case, Rule

from optimiser.anchor import anchored
from optimiser.build import create_model
from optimiser.levels import RunResult, allocations_from, settle
from optimiser.lp import MONEY_SCALE
from optimiser.solve import finished, solve

# The contract's columns first, in its order; then the estimate and the gains in every measure.
ASK_COLUMNS = ["rank", "pot_code", "change", "area_code", "cohort_code", "year", "gain_outcomes",
               "gain_per_million", "detail", "estimated_gain", "gain", "gain_participants", "gain_value",
               "measured_against", "department", "group", "ask", "parts", "assumption", "warning",
               "loses_participants", "loses_outcomes", "receives_less"]
# objective -> the measure its gain is counted in. The fiscal, economic and social objectives' asks
# are counted in public value: an ask's plans are compared allocation by allocation, and an
# allocation carries the whole value, not its parts (a limitation stated in the README).
GAIN_OF = {**MEASURE, "fiscal": "value", "economic": "value", "social": "value"}
KEY = ["pot_code", "area_code", "cohort_code", "year", "programme"]
UNMEASURED_COLUMNS = ["pot_code", "change", "estimated_gain", "detail"]
# Above this many variables in the pooled model, pool-join asks are not measured by default
# (see pool_join_limit): each one is a re-solve of about a minute at national size.
LARGE_POOLED_MODEL = 100_000
ANCHOR_UP_TO = 100_000  # columns up to which an ask's plan is anchored (optimiser.anchor)
CANDIDATE = "_candidate"  # a measured row's candidate, kept beside it (never written)



def words_of(detail: str) -> str:
    """An ask's own words, from its ``detail`` (which adds ``: +gain …`` after them)."""
    return detail.rsplit(": +", 1)[0]


@dataclass
class Candidate:
    """A possible ask before it is measured: the change, where it applies, and its estimated gain."""

    change: str
    pot_code: str | None
    area_code: str | None = None
    cohort_code: str | None = None
    year: str | None = None
    estimate: float = 0.0
    words: str = ""
    rule_index: int | None = None  # the rule's place in the run's case (for its words)
    rule: Rule | None = None  # the rule itself: a case changed by earlier asks removes it by what it is
    pool_against: bool = False  # measured against the pooled level
    # The single changes a merged ask makes, as (pot, area, cohort); empty for other kinds.
    parts: tuple[tuple[str, str | None, str | None], ...] = ()

    @property
    def pots(self) -> list[str]:
        """The pots the ask changes (several for a merged eligibility ask)."""
        if self.parts:
            return list(dict.fromkeys(p for p, _, _ in self.parts))
        return [self.pot_code] if self.pot_code else []

    @property
    def areas(self) -> list[str]:
        return list(dict.fromkeys(a for _, a, _ in self.parts if a)) or ([self.area_code] if self.area_code else [])

    @property
    def cohorts(self) -> list[str]:
        return list(dict.fromkeys(c for _, _, c in self.parts if c)) or (
            [self.cohort_code] if self.cohort_code else [])


def _duals(run: RunResult):
    cons = run.levels["aligned"].constraints
    d = {}
    for fam in priced():  # each family names its rows by its own key columns
        sub = cons[cons["family"] == fam.name]
        keys = zip(*(sub[c] for c in fam.key_columns))
        # constraint_table reports duals in natural units per model unit
        d[fam.name] = dict(zip(keys, sub["dual"].to_numpy() / run.levels["aligned"].lp.objective_scale))
    return d


def _objective_per_k(case: Case, objective: str, cohorts: list[str], unit_cost: np.ndarray,
                     rate: np.ndarray) -> np.ndarray:
    """The objective bought by £1k of a programme with these unit costs and rates, per cohort."""
    per = MONEY_SCALE / unit_cost
    if objective == "outcomes":
        return per * rate
    if objective == "value":
        vpo = np.array([case.cohort[c].value_per_outcome or 0.0 for c in cohorts])
        return per * rate * vpo / 1000.0
    return per


class CellPricer:
    """Estimated gain of letting a pot fund cells it may not today, from the aligned duals.

    For pot ``p``, area ``a``, cohort ``c`` and year ``t`` (in ``p``'s life, with money):
    the reduced cost ``rc = c_pc - y_budget(p,t) - y_need(a,c,t)·1000/uc_pc - y_match(a,t)·m_p``
    of the variable the change would create, times the money it could absorb,
    ``min(need·uc, available) / 1000``, where positive. Worked out for a whole pot at once as
    an areas × cohorts × years array (cell by cell it took seconds at national size).
    """

    def __init__(self, run: RunResult, duals):
        case = run.case
        self.case, self.objective, self.d = case, run.objective, duals
        self.areas, self.cohorts, self.years = list(case.area), list(case.cohort), list(case.years)
        ai = {a: i for i, a in enumerate(self.areas)}
        ci = {c: i for i, c in enumerate(self.cohorts)}
        ti = {t: i for i, t in enumerate(self.years)}
        shape = (len(self.areas), len(self.cohorts), len(self.years))
        nf = case.need_frame
        nf = nf[nf["area_code"].isin(ai) & nf["cohort_code"].isin(ci) & nf["year"].isin(ti)]
        self.need = np.zeros(shape)
        self.need[nf["area_code"].map(ai).to_numpy(int), nf["cohort_code"].map(ci).to_numpy(int),
                  nf["year"].map(ti).to_numpy(int)] = nf["people"].to_numpy(float)
        self.y_need = np.zeros(shape)
        for (a, c, t), v in duals[NEED_CAP.name].items():
            if a in ai and c in ci and t in ti:
                self.y_need[ai[a], ci[c], ti[t]] = v
        self.y_match = np.zeros((len(self.areas), len(self.years)))
        for (a, t), v in duals[MATCH.name].items():
            if a in ai and t in ti:
                self.y_match[ai[a], ti[t]] = v
        self.available = {p: np.zeros(len(self.years)) for p in case.pot}
        py = case.pot_year_frame
        for p, t, v in zip(py["pot_code"], py["year"], py["available"]):
            if t in ti:
                self.available[p][ti[t]] = v

    def pot(self, pot: str) -> np.ndarray:
        """Estimated gain per (area, cohort, year) of ``pot`` funding that cell (0 where none)."""
        case, p = self.case, self.case.pot[pot]
        avail = np.where([p.in_life(t) for t in self.years], self.available[pot], 0.0)
        uc = np.array([case.unit_cost(pot, c) for c in self.cohorts])
        rate = np.array([case.outcome_rate(pot, c) for c in self.cohorts])
        gain = _objective_per_k(case, self.objective, self.cohorts, uc, rate)
        budget = self.d[CARRY_FORWARD.name] if p.carry_forward > 0 else self.d[POT_BUDGET.name]
        y_pot = np.array([budget.get((pot, t), 0.0) for t in self.years])
        rc = gain[None, :, None] - y_pot[None, None, :] - self.y_need * (MONEY_SCALE / uc)[None, :, None]
        if p.match_rate > 0:
            rc = rc - self.y_match[:, None, :] * p.match_rate
        money_k = np.minimum(self.need * uc[None, :, None], avail[None, None, :]) / MONEY_SCALE
        # A reduced cost within rounding of zero gains nothing: it is not a candidate.
        ok = (self.need > 0) & (avail[None, None, :] > 0) & (rc > 1e-9 * np.maximum(1.0, np.abs(gain))[None, :, None])
        return np.where(ok, rc * money_k, 0.0)


def candidates(run: RunResult) -> list[Candidate]:
    """Every ask worth considering for a run, each with its estimate from the aligned level's shadow prices."""
    case = run.case
    d = _duals(run)
    aligned = run.levels["aligned"]
    out: list[Candidate] = []
    pricer = CellPricer(run, d)
    has_need = pricer.need.sum(axis=2) > 0  # (area, cohort) with need in some year
    for p in case.pots:
        areas, cohorts = case.eligibility.reach(p.code)
        est = pricer.pot(p.code).sum(axis=2)  # (area, cohort)
        mine_a = np.array([a in areas for a in pricer.areas], dtype=bool)
        mine_c = np.array([c in cohorts for c in pricer.cohorts], dtype=bool)
        by_cohort = est[mine_a].sum(axis=0)
        reached = has_need[mine_a].any(axis=0)
        for j, c in enumerate(pricer.cohorts):
            if mine_c[j] or not reached[j] or by_cohort[j] <= 0:
                continue
            out.append(Candidate("add_cohort", p.code, cohort_code=c, estimate=float(by_cohort[j]),
                                 parts=((p.code, None, c),)))
        by_area = est[:, mine_c].sum(axis=1)
        for i, a in enumerate(pricer.areas):
            if mine_a[i] or by_area[i] <= 0:
                continue
            out.append(Candidate("add_area", p.code, area_code=a, estimate=float(by_area[i]),
                                 parts=((p.code, a, None),)))
    # Idle money: carry-forward and extended years.
    idle = _idle_by_pot(run)
    for p in case.pots:
        left = idle.get(p.code, 0.0)
        if left <= 1.0:
            continue
        later = [t for t in case.years if fy.parse_year(t) > fy.parse_year(fy.year_of(p.start))]
        best = max((d[POT_BUDGET.name].get((q.code, t), 0.0) for q in case.pots for t in later), default=0.0)
        if p.carry_forward < len(case.years) - 1:
            out.append(Candidate("carry_forward", p.code, estimate=left / MONEY_SCALE * best * 0.5))
        last = fy.year_of(p.end)
        if case.years and fy.parse_year(last) < fy.parse_year(case.years[-1]) and p.carry_forward > 0:
            nxt = fy.shift(last, 1)
            out.append(Candidate("extend_years", p.code, year=nxt, estimate=left / MONEY_SCALE * best * 0.5))
    # Match requirements.
    for p in case.pots:
        if p.match_rate <= 0:
            continue
        spend = aligned.allocations[aligned.allocations["pot_code"] == p.code]
        est = sum(d[MATCH.name].get((a, t), 0.0) * p.match_rate * amt / MONEY_SCALE
                  for a, t, amt in zip(spend["area_code"], spend["year"], spend["amount"]))
        est += idle.get(p.code, 0.0) / MONEY_SCALE * max(d[POT_BUDGET.name].values(), default=0.0) * 0.5
        if est > 0:
            out.append(Candidate("drop_match", p.code, estimate=est))
    # Rules that bind.
    cons = aligned.constraints
    rules = cons[(cons["family"] == RULE.name) & cons["binding"]]
    for idx, grp in rules.groupby("rule_index"):
        rule = case.rules[int(idx)]
        est = float((grp["dual"].abs() * np.abs(np.where(np.isfinite(grp["upper"]), grp["upper"],
                                                           grp["lower"]))).sum() / aligned.lp.objective_scale)
        out.append(Candidate("relax_rule", None if rule.pot_code == ALL else rule.pot_code,
                             area_code=None if rule.area_code == ALL else rule.area_code,
                             cohort_code=None if rule.cohort_code == ALL else rule.cohort_code,
                             year=None if rule.year == ALL else rule.year, estimate=est, rule_index=int(idx),
                             rule=rule))
    # Pooling beyond the agreed pool: pots that are not poolable today.
    pooled = run.levels["pooled"]
    pdual = pooled.constraints[pooled.constraints["family"].isin(budget_families())]["dual"]
    best_pool = float(pdual.max()) / pooled.lp.objective_scale if len(pdual) else 0.0
    for p in case.pots:
        if p.code in run.pool or len(run.pool) < 2:
            continue
        own = d[POT_BUDGET.name]
        mine = [v for (q, _), v in own.items() if q == p.code]
        gap = best_pool - (float(np.mean(mine)) if mine else 0.0)
        money = sum(b.amount for b in case.budgets if b.pot_code == p.code)
        if gap > 0 and money > 0:
            out.append(Candidate("pool", p.code, estimate=gap * money / MONEY_SCALE * 0.25, pool_against=True))
    out = merge_similar(case, out)
    for cand in out:
        cand.words = policy.ask_words(case, cand.change, cand.pots, cand.areas, cand.cohorts, cand.year,
                                      cand.rule_index)
    return out


def merge_similar(case: Case, cands: list[Candidate]) -> list[Candidate]:
    """Similar asks as one, with its parts: one pot's new areas together (``let P36 fund these 41
    areas``), and one department's pots widened to the same cohort together. Each merged ask is
    then measured once, with all its parts; its estimate is the sum of theirs."""
    groups: dict[tuple, list[Candidate]] = {}
    order: list[tuple] = []
    for c in cands:
        if c.change == "add_area":
            key = ("add_area", c.pot_code)
        elif c.change == "add_cohort":
            # One department's pots together; a pot whose department is not stated stays alone.
            dept = policy.department_of(case, c.pot_code)
            key = ("add_cohort", dept if dept != policy.UNSTATED else f"pot {c.pot_code}", c.cohort_code)
        else:
            key = ("single", id(c))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(c)
    out = []
    for key in order:
        grp = groups[key]
        if len(grp) == 1:
            out.append(grp[0])
            continue
        # One pot's areas in the case's order; one cohort's pots from the largest estimate.
        areas = {a: i for i, a in enumerate(case.area)}
        grp = sorted(grp, key=lambda c: areas.get(c.area_code, 0) if key[0] == "add_area" else -c.estimate)
        parts = tuple(pt for c in grp for pt in c.parts)
        merged = Candidate(key[0], ";".join(dict.fromkeys(c.pot_code for c in grp)),
                           area_code=";".join(c.area_code for c in grp) if key[0] == "add_area" else None,
                           cohort_code=grp[0].cohort_code if key[0] == "add_cohort" else None,
                           estimate=float(sum(c.estimate for c in grp)), parts=parts)
        out.append(merged)
    return out


def _idle_by_pot(run: RunResult) -> dict[str, float]:
    a = run.levels["aligned"].allocations.groupby("pot_code")["amount"].sum()
    budget: dict[str, float] = {}
    for b in run.case.budgets:
        budget[b.pot_code] = budget.get(b.pot_code, 0.0) + b.amount
    return {p: budget.get(p, 0.0) - float(a.get(p, 0.0)) for p in budget}


def apply_candidate(case: Case, cand: Candidate) -> Case:
    """The case with that one change made."""
    if cand.change == "relax_rule":
        # By what the rule is, not where: in a package the case has lost earlier steps' rules,
        # so the positions of the rest have moved.
        target = cand.rule if cand.rule is not None else case.rules[cand.rule_index]
        at = next((i for i, r in enumerate(case.rules) if r == target), None)
        rules = tuple(r for i, r in enumerate(case.rules) if i != at)
        return case.with_changes(rules=rules)
    if cand.change == "pool":
        pots = tuple(p.model_copy(update={"poolable": True}) if p.code == cand.pot_code else p for p in case.pots)
        return case.with_changes(pots=pots)
    if cand.change in ("add_cohort", "add_area") and len(cand.parts) > 1:
        # Every part at once: one new case (its eligibility worked out once, not per part).
        pots = dict(case.pot)
        for pot_code, area, cohort in cand.parts:
            p = pots[pot_code]
            pots[pot_code] = p.model_copy(update={"cohorts": tuple(p.cohorts) + (cohort,)}) \
                if cand.change == "add_cohort" else p.model_copy(update={"geography": tuple(p.geography) + (area,)})
        return case.with_changes(pots=tuple(pots[p.code] for p in case.pots))
    pot = case.pot[cand.pot_code]
    if cand.change == "add_cohort":
        new = pot.model_copy(update={"cohorts": tuple(pot.cohorts) + (cand.cohort_code,)})
    elif cand.change == "add_area":
        new = pot.model_copy(update={"geography": tuple(pot.geography) + (cand.area_code,)})
    elif cand.change == "carry_forward":
        new = pot.model_copy(update={"carry_forward": pot.carry_forward + 1})
    elif cand.change == "extend_years":
        new = pot.model_copy(update={"end": fy.year_end(cand.year)})
    elif cand.change == "drop_match":
        new = pot.model_copy(update={"match_rate": 0.0})
    else:
        raise ValueError(cand.change)
    return case.with_changes(pots=tuple(new if p.code == pot.code else p for p in case.pots))


def _moved(before: pd.DataFrame, after: pd.DataFrame) -> float:
    a = before.groupby(KEY)["amount"].sum()
    b = after.groupby(KEY)["amount"].sum()
    diff = b.sub(a, fill_value=0.0)
    return float(max(diff.clip(lower=0).sum(), -diff.clip(upper=0).sum()))


def pool_join_limit(run: RunResult, pool_joins: int | None, cluster: bool = False) -> int | None:
    """How many pool-join asks to measure: ``None`` means no limit.

    A pool-join ask re-solves the whole pooled model with one more pot in the pool, and the
    optimum moves far (at national size +10%): about a minute each there even from the
    pooled basis, against 0.5-5 s for the other kinds. So above :data:`LARGE_POOLED_MODEL`
    variables none is measured unless asked for (``--pool-join-asks N``) or the asks run on a
    cluster (``cluster``: each ask is a task of its own, so the minutes are spread over the
    workers); otherwise they are reported as estimates (:func:`unmeasured_asks`).
    """
    if pool_joins is not None:
        return max(0, int(pool_joins))
    return 0 if run.levels["pooled"].lp.n > LARGE_POOLED_MODEL and not cluster else None


def choose_candidates(run: RunResult, max_measured: int = 12, pool_joins: int | None = None,
                      cluster: bool = False) -> tuple[list[Candidate], list[Candidate]]:
    """The candidates to measure (best estimate first) and the pool joins left out by the limit
    (none on a cluster, :func:`pool_join_limit`)."""
    # Estimates rounded to 12 significant figures for the order: equal prices summed in a
    # different order differ in the last bits, and must still tie (then the codes decide).
    cands = sorted(candidates(run), key=lambda c: (-float(f"{c.estimate:.12g}"), c.change, c.pot_code or "",
                                                   c.area_code or "", c.cohort_code or ""))
    limit = pool_join_limit(run, pool_joins, cluster)
    chosen: list[Candidate] = []
    skipped: list[Candidate] = []
    joins = 0
    for cand in cands:
        if len(chosen) >= max_measured:
            break
        if cand.change == "pool" and limit is not None and joins >= limit:
            skipped.append(cand)
            continue
        joins += cand.change == "pool"
        chosen.append(cand)
    return chosen, skipped


def unmeasured_frame(run: RunResult, skipped: list[Candidate]) -> pd.DataFrame:
    """Pool joins ranked high enough to be measured but left out by :func:`pool_join_limit`,
    with their estimated gains (priced from shadow prices, not solved)."""
    scale = run.levels["aligned"].lp.objective_scale
    return pd.DataFrame([dict(pot_code=c.pot_code, change=c.change, estimated_gain=c.estimate * scale,
                              detail=f"{c.words}: about +{c.estimate * scale:,.0f} (estimated, not measured)")
                         for c in skipped], columns=UNMEASURED_COLUMNS)


@dataclass
class BaseLevel:
    """What an ask is measured against: a level's objective, allocations and optimal basis."""

    objective: float
    allocations: pd.DataFrame
    warm: object | None


def gains(before: pd.DataFrame, after: pd.DataFrame, objective: str) -> dict[str, float]:
    """``gain`` (in the objective's measure) and the gains in outcomes, participants and value
    from one allocation to another (ALLOCATION_COLUMNS frames)."""
    # Both allocations are floored to the penny cell by cell, so a gain that is really zero
    # (an ask that moves money between cohorts at one unit cost gains no participants) reads
    # as a few hundred-thousandths of a person: below ROUNDING it is 0, and never a signed zero.
    d = {}
    for k in ("outcomes", "participants", "value"):
        x = float(after[k].sum() - before[k].sum())
        d[f"gain_{k}"] = 0.0 if abs(x) < ROUNDING[k] else x
    return {"gain": d[f"gain_{GAIN_OF[objective]}"], **d}


# Below these a gain is penny rounding: a hundredth of a person or an outcome, £1 of value.
ROUNDING = {"outcomes": 0.01, "participants": 0.01, "value": 1.0}


@dataclass
class AskContext:
    """Everything :func:`_measure` reads: small enough to send to a worker process once."""

    case: Case
    pool: frozenset[str]
    solver: str
    objective: str
    scale: float  # the aligned LP's objective scale (estimates are in its units)
    aligned: BaseLevel
    pooled: BaseLevel

    @classmethod
    def of(cls, run: RunResult) -> "AskContext":
        """What measuring an ask needs of a run, without the run's models (so it can go to a worker)."""
        def base(name: str) -> BaseLevel:
            lv = run.levels[name]
            return BaseLevel(lv.solution.objective, lv.allocations, lv.solution.warm)

        return cls(run.case, run.pool, run.solver, run.objective, run.levels["aligned"].lp.objective_scale,
                   base("aligned"), base("pooled"))


def measure_asks(run: RunResult, max_measured: int = 12, progress=None, pool_joins: int | None = None,
                 chosen: list[Candidate] | None = None,
                 workers=None, runner=None) -> tuple[pd.DataFrame, list[Candidate]]:
    """asks.csv: the pool as a whole, then each chosen candidate measured (see the module
    docstring), and the candidate of each row in its order. ``chosen`` defaults to :func:`choose_candidates`; with ``workers`` (an
    :class:`commissioning.analysis.workers.Workers`) every other candidate is measured in the worker;
    with a ``runner`` on a cluster (:mod:`commissioning.analysis.cluster`) each candidate is a task there."""
    case = run.case
    rows = []
    aligned, pooled = run.levels["aligned"], run.levels["pooled"]
    z_aligned = aligned.solution.objective
    # The pool as a whole: its gain is the devolution dividend, already measured (against aligned, as the
    # package measures it). In a settlement case the ask names only the pots outside the settlement (whose
    # funds pool by its own rules without an ask), says how much of the gain the settlement allows
    # already, and is not made when fewer than two pots outside the settlement are in the pool.
    if len(pool_members(run)) >= 2:
        g = gains(aligned.allocations, pooled.allocations, run.objective)
        if g["gain"] > 1e-6 * max(1.0, abs(z_aligned)):
            moved = _moved(aligned.allocations, pooled.allocations)
            whole = whole_pool(run)
            already = ""
            if "settlement" in run.levels:
                s = gains(aligned.allocations, run.levels["settlement"].allocations, run.objective)["gain"]
                already = f"; +{s:,.0f} of it the integrated settlement allows already"
            rows.append(dict(pot_code=None, change="pool", area_code=None, cohort_code=None, year=None, **g,
                             gain_per_million=g["gain"] / (moved / 1e6) if moved > 0 else None,
                             detail=f"{whole.words}: +{g['gain']:,.0f} {UNIT[run.objective]} (measured{already})",
                             estimated_gain=g["gain"],
                             **described(case, whole, aligned.allocations, pooled.allocations,
                                         frozenset(pool_members(run)))))
    if chosen is None:
        chosen, _ = choose_candidates(run, max_measured, pool_joins)
    rows.extend(r for r in _measure_all(AskContext.of(run), chosen, progress, workers, runner) if r is not None)
    if not rows:
        return pd.DataFrame(columns=ASK_COLUMNS), []
    for r in rows:
        if CANDIDATE not in r:  # the pool as a whole, listed first
            r[CANDIDATE] = whole_pool(run)
    out = pd.DataFrame(rows)
    out = out.sort_values(["gain", "change", "pot_code"], ascending=[False, True, True],
                          na_position="first", kind="mergesort").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    cands = list(out[CANDIDATE])
    out = out.reindex(columns=ASK_COLUMNS)
    out["parts"] = pd.to_numeric(out["parts"], errors="coerce").astype("Int64")
    return out, cands


def measured_asks(run: RunResult, max_measured: int = 12, progress=None, pool_joins: int | None = None,
                  chosen: list[Candidate] | None = None, workers=None) -> pd.DataFrame:
    """asks.csv (see :func:`measure_asks`)."""
    return measure_asks(run, max_measured, progress, pool_joins, chosen, workers)[0]


def _measure_all(ctx: AskContext, chosen: list[Candidate], progress=None, workers=None,
                 runner=None) -> list[dict | None]:
    """Each candidate measured, in order; with ``k`` worker processes, candidate ``i`` goes to
    process ``i mod (k + 1)`` (0 is this one); on a cluster (``runner`` with an address), each
    candidate is one task there, the context sent to every worker once."""
    counted = getattr(progress, "counted", None)
    bar = counted("measuring asks", total=len(chosen), unit="re-solves") if counted and chosen else \
        contextlib.nullcontext(lambda steps=1, what=None: None)
    with bar as advance:
        return share_out(_measure, ctx, chosen, workers, runner, advance, words=lambda c: c.words, what="asks")


def solve_with(case: Case, pool: frozenset[str], solver: str, warm=None, lexicographic: bool = True,
               reference: pd.DataFrame | None = None) -> BaseLevel | None:
    """The case solved with this pool (from ``warm``), as an ask's base: its objective, its
    allocations and its basis; None when it cannot be solved to optimality. With
    ``lexicographic`` off only the primary objective is solved (its optimum is the same; the
    allocation reached is then not the levels' one, so its allocations are left out). With a
    ``reference`` plan, the plan reached among the optimal ones is the one taking the fewest
    people from it (:mod:`optimiser.anchor`)."""
    lp = create_model(case, pool=pool)
    if lp.infeasible_rules:
        return None
    # Above ANCHOR_UP_TO columns the anchor is off: measured at national size (468,486
    # columns) its phase made an ask 30-180 s instead of 0.4-5 s, and there the engine fixes
    # no single plan anyway (optimiser.objective.unique_plan).
    anchor = reference is not None and lexicographic and lp.n <= ANCHOR_UP_TO
    if anchor:
        lp = anchored(lp, reference)
    # Solved like the levels (primary, then the tie-breaks), so the allocation reached, and
    # with it the money moved, is the same whatever the solver or its path. Anchored to the
    # plan its bases come from, its tie-break starts from that plan's (optimiser.solve.WARM_SIMPLEX).
    sol = solve(lp, solver=solver, warm=warm, lexicographic=lexicographic, tiebreak_warm=anchor)
    if sol.status != "optimal":
        return None
    finished(sol, "an ask's re-solve")
    alloc = allocations_from(lp.variables, settle(lp, sol.x), case) if lexicographic else None
    return BaseLevel(sol.objective, alloc, sol.warm)


def _measure(ctx: AskContext, cand: Candidate) -> dict | None:
    """Solve again with one change (from the previous optimal basis) and measure the gain.

    Returns the asks.csv row, or None when the change gains nothing (or cannot be solved).
    """
    # Joining the pool changes only which pots the pooled model opens up (``pool``), not the
    # case: the case's cached tables (eligibility, need) then serve the build unchanged.
    changed = ctx.case if cand.change == "pool" and cand.pool_against else apply_candidate(ctx.case, cand)
    base = ctx.pooled if cand.pool_against else ctx.aligned
    pool = frozenset(ctx.pool | {cand.pot_code}) if cand.pool_against else frozenset()
    solved = solve_with(changed, pool, ctx.solver, base.warm, reference=base.allocations)
    if solved is None or solved.objective - base.objective <= 1e-6 * max(1.0, abs(base.objective)):
        return None
    alloc = solved.allocations
    g = gains(base.allocations, alloc, ctx.objective)
    if g["gain"] <= 1e-6 * max(1.0, abs(base.objective)):
        return None
    moved = _moved(base.allocations, alloc)
    return dict(pot_code=cand.pot_code, change=cand.change, area_code=cand.area_code,
                cohort_code=cand.cohort_code, year=cand.year, **g,
                gain_per_million=g["gain"] / (moved / 1e6) if moved > 0 else None,
                detail=f"{cand.words}: +{g['gain']:,.0f} {UNIT[ctx.objective]} (measured"
                       f"{' against the pooled level' if cand.pool_against else ''})",
                estimated_gain=cand.estimate * ctx.scale,
                **described(ctx.case, cand, base.allocations, alloc, ctx.pool), **{CANDIDATE: cand})


def pool_members(run: RunResult) -> list[str]:
    """The pots the agreement's pool asks for: the pool, less (in a settlement case) the settlement's
    pots, which pool by the settlement's rules without any ask."""
    return sorted(p for p in run.pool if not run.case.pot[p].settlement)


def whole_pool(run: RunResult) -> Candidate:
    """The pool as a whole as an ask (its gain is the devolution dividend), naming the pots outside any
    settlement."""
    return Candidate("pool", None, words=policy.ask_words(run.case, "pool", [], [], [], pool=pool_members(run)))


def described(case: Case, cand: Candidate, before: pd.DataFrame, after: pd.DataFrame,
              pool: frozenset[str]) -> dict:
    """The columns that say who grants an ask, what it was measured against, what it assumes
    and who receives less (:mod:`commissioning.analysis.policy`)."""
    said, warning = policy.assumption(case, cand.change, cand.pots, cand.cohorts)
    lost_p, lost_o, who = policy.givers(case, before, after)
    return dict(measured_against="pooled" if cand.pool_against else "aligned",
                department=policy.department_for(case, cand.change, cand.pots, cand.rule_index, sorted(pool)),
                group=policy.GROUPS.get(cand.change, cand.change), ask=cand.words,
                parts=len(cand.parts) if len(cand.parts) > 1 else None, assumption=said, warning=warning or None,
                loses_participants=lost_p, loses_outcomes=lost_o, receives_less=who or None)
