"""The Get Working plan annex: today's provision aligned against need, and what the optimum implies.

DWP's guidance (3 April 2025) asks each area for a local *Get Britain Working* plan, drawn up by
the strategic authority (or a group of councils) with Jobcentre Plus and the integrated care
board, that **aligns current provision** against local need and monitors progress with
outcome indicators. ``commissioning map CASE --out DIR --get-working`` writes the annex such a
plan needs (``get-working-annex.md``), in four parts:

1. **Provision aligned against need** — by customer-journey stage and by cohort: the people in
   need over the case's years, the people today's provision serves, the share.
2. **Duplication and gaps** — the map's flags (:mod:`commissioning.analysis.mapping`): where
   funding stacks beyond need, and the gaps with their reasons, largest first.
3. **Commissioning intentions** — what the optimum implies, pot by pot and cohort by cohort:
   the money today and in the plan, and the intention in one word (grow, reduce, hold, start,
   stop). The plan is the best the area can do **without asking government for anything**:
   the ``aligned`` level (today's rules, coordinated), or the ``settlement`` level in a
   settlement case (what its integrated settlement already allows). Pooling beyond that
   needs asks, which the agreement's Flexibilities sheet measures.
4. **Outcome indicators** — per cohort, its headline outcome today and in the plan, for the
   plan's monitoring.

A pot's money "holds" when the plan is within 5% (:data:`HOLD`) of today's. This module
computes; :mod:`commissioning.writers.annex` writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from commissioning.analysis.mapping import ALL_YEARS, STAGE_NAMES, ProvisionMap
from commissioning.case.model import Case
from commissioning.case.settlement import department_in
from optimiser.levels import RunResult

HOLD = 0.05  # within ±5% of today's money, a pot's intention is to hold it
TOP = 12  # the largest flags of each kind named in the annex


@dataclass(frozen=True)
class Annex:
    """What the annex says (see the module docstring); every frame in the case's order."""

    case_name: str
    level: str  # the plan's level: aligned, or settlement in a settlement case
    years: tuple[str, ...]
    provision_supplied: bool
    stages: pd.DataFrame  # journey_stage, name, need_people, provision_people, coverage
    cohorts: pd.DataFrame  # cohort_code, name, stage, need_people, today_people, plan_people
    duplication: pd.DataFrame  # the map's duplication flags, largest first (at most TOP)
    gaps: pd.DataFrame  # reason, cells, people, amount — and the largest gaps (detail)
    largest_gaps: pd.DataFrame
    pots: pd.DataFrame  # pot_code, name, department, today, plan, change, intention
    indicators: pd.DataFrame  # cohort_code, name, outcome, today, plan
    totals: dict[str, float]  # need, today_people, plan_people, today_money, plan_money, today_outcomes, plan_outcomes


def intention(today: float, plan: float) -> str:
    """One word for a pot's or cohort's money: start, stop, grow, reduce or hold (within :data:`HOLD`)."""
    if today <= 0:
        return "start" if plan > 0 else "none"
    if plan <= 0:
        return "stop"
    change = plan / today - 1
    return "hold" if abs(change) <= HOLD + 1e-12 else ("grow" if change > 0 else "reduce")


def get_working_annex(case: Case, pm: ProvisionMap, run: RunResult) -> Annex:
    """The annex of a case: its map and a run (whose settlement level, else aligned level, is the plan)."""
    level = "settlement" if "settlement" in run.levels else "aligned"
    today = run.levels["baseline"].allocations
    plan = run.levels[level].allocations
    stages = pm.stage_totals[pm.stage_totals["year"] == ALL_YEARS]
    stages = stages.assign(name=[STAGE_NAMES.get(s, "no stage") if s else "no stage" for s in stages["journey_stage"]])
    need = case.need_frame.groupby("cohort_code")["people"].sum()
    t_people = today.groupby("cohort_code")["participants"].sum()
    p_people = plan.groupby("cohort_code")["participants"].sum()
    cohorts = pd.DataFrame([(c.code, c.name, c.journey_stage, float(need.get(c.code, 0.0)),
                             float(t_people.get(c.code, 0.0)), float(p_people.get(c.code, 0.0)))
                            for c in case.cohorts],
                           columns=["cohort_code", "name", "stage", "need_people", "today_people", "plan_people"])
    flags = pm.flags_frame
    dup = flags[flags["kind"] == "duplication"].sort_values("amount", ascending=False, kind="mergesort").head(TOP)
    gap = flags[flags["kind"] == "gap"]
    gaps = (gap.groupby("reason", sort=False).agg(cells=("people", "size"), people=("people", "sum"),
                                                  amount=("amount", "sum")).reset_index())
    largest = gap.sort_values("people", ascending=False, kind="mergesort").head(TOP)
    t_money = today.groupby("pot_code")["amount"].sum()
    p_money = plan.groupby("pot_code")["amount"].sum()
    last = case.years[-1] if case.years else None  # the owner as it stands at the plan's end (departments)
    pots = pd.DataFrame([(p.code, p.name, department_in(case, p.code, last).split("; ")[-1].split(" from ")[0]
                          if last else p.department, float(t_money.get(p.code, 0.0)),
                          float(p_money.get(p.code, 0.0))) for p in case.pots],
                        columns=["pot_code", "name", "department", "today", "plan"])
    pots["change"] = pots["plan"] - pots["today"]
    pots["intention"] = [intention(t, p) for t, p in zip(pots["today"], pots["plan"])]
    t_out = today.groupby("cohort_code")["outcomes"].sum()
    p_out = plan.groupby("cohort_code")["outcomes"].sum()
    indicators = pd.DataFrame([(c.code, c.name, c.outcome, float(t_out.get(c.code, 0.0)),
                                float(p_out.get(c.code, 0.0))) for c in case.cohorts],
                              columns=["cohort_code", "name", "outcome", "today", "plan"])
    totals = {"need": float(need.sum()), "today_people": float(today["participants"].sum()),
              "plan_people": float(plan["participants"].sum()), "today_money": float(today["amount"].sum()),
              "plan_money": float(plan["amount"].sum()), "today_outcomes": float(today["outcomes"].sum()),
              "plan_outcomes": float(plan["outcomes"].sum())}
    return Annex(case.settings.name, level, tuple(case.years), pm.provision_supplied, stages, cohorts, dup, gaps,
                 largest, pots, indicators, totals)
