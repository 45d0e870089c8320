"""What the integrated settlement's rules cost, measured: summary.json's ``settlement``.

A settlement case (:mod:`commissioning.case.settlement`) has a ``settlement`` level between
``aligned`` and ``pooled``. A board needs to know what its rules hold back, and a combined
authority which of them to ask government to relax, so each rule is **measured**, not
estimated: the settlement level is solved again with the rule lifted, and the rule's cost is
the difference in the objective's measure (a linear programme's dual prices only the next
pound; a limit of 10% can bind by far more than a pound).

* **the cross-theme limit** — solved with ``theme_flex = 1`` (any share of a theme's money
  may move): what the whole limit costs;
* **raise the cross-theme limit to 20%** (or, when the limit is already 20% or more, to twice
  it, capped at 100%) — the ask a combined authority would put to MHCLG;
* **revenue and capital kept apart** — solved with every settlement pot as revenue: what the
  RDEL/CDEL split costs (present only when the settlement has both);
* **ring-fenced pots** — solved with no settlement pot ring-fenced: what the ring-fences cost
  (present only when one is).

Each record names the department that would grant the change: MHCLG for the settlement's
own rules (its grant determination letters set them), the home departments of the
ring-fenced pots for their ring-fences. Gains are counted against the settlement level, in
the run's objective (outcomes, £ of value or participants), and the figures are re-solves
of the same model with the same solver, so each one can be reproduced.

This module computes; :mod:`commissioning.writers` writes (summary.json, the explanation,
the agreement's Settlement sheet).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from commissioning.case.model import Case
from commissioning.case.settlement import department_in, flexible_pots, theme_flex, theme_money, themes
from optimiser.levels import RunResult, solve_level
from optimiser.objective import MEASURE

GRANTOR = "MHCLG"  # the settlement's rules are set in its grant determination letters


@dataclass(frozen=True)
class RuleCost:
    """One settlement rule, lifted: what the settlement level reaches without it and what it costs."""

    rule: str  # theme_flex | theme_flex_ask | revenue_capital | ring_fence
    words: str
    department: str
    with_rule: float
    without_rule: float
    cost: float  # without − with, in the objective's measure
    gains: dict[str, float]  # without − with in participants, outcomes and value

    def record(self) -> dict:
        return asdict(self)


def _totals(run: RunResult, case: Case, solver: str) -> dict[str, float]:
    return solve_level(case, "settlement", flexible_pots(case), solver, run.time_limit).totals


def _with_flex(case: Case, share: float) -> Case:
    settings = case.settings.model_copy(update={"settlement": case.settings.settlement.model_copy(
        update={"theme_flex": share})})
    return case.with_changes(settings=settings)


def rule_costs(run: RunResult) -> list[RuleCost]:
    """Each settlement rule of a run, lifted and measured (see the module docstring); [] without a settlement level."""
    if "settlement" not in run.levels:
        return []
    case, solver = run.case, run.solver
    measure = MEASURE[run.objective]
    base = float(run.levels["settlement"].totals[measure])
    flex = theme_flex(case)
    out: list[RuleCost] = []

    have = run.levels["settlement"].totals

    def add(rule: str, words: str, department: str, lifted: Case) -> None:
        t = _totals(run, lifted, solver)
        without = float(t[measure])
        out.append(RuleCost(rule, words, department, base, without, without - base,
                            {k: float(t[k] - have[k]) for k in ("participants", "outcomes", "value")}))

    if case.eligibility.across(flexible_pots(case)):  # some money can move between themes
        add("theme_flex", f"the {flex:.0%} cross-theme limit", GRANTOR, _with_flex(case, 1.0))
        ask = 0.20 if flex < 0.20 else min(1.0, 2 * flex)
        if ask > flex:
            add("theme_flex_ask", f"raise the cross-theme limit to {ask:.0%}", GRANTOR, _with_flex(case, ask))
    settled = [p for p in case.pots if p.settlement]
    if len({p.budget_type for p in settled}) > 1:
        add("revenue_capital", "revenue and capital kept apart (RDEL and CDEL)", "HM Treasury; " + GRANTOR,
            case.with_changes(pots=tuple(p.model_copy(update={"budget_type": "revenue"}) if p.settlement else p
                                         for p in case.pots)))
    fenced = [p for p in settled if p.ring_fenced]
    if fenced:
        first = case.years[0]
        depts = "; ".join(dict.fromkeys(department_in(case, p.code, first) for p in fenced))
        add("ring_fence", "lift the ring-fence" + ("s" if len(fenced) > 1 else "") + " on "
            + ", ".join(f"{p.name} ({p.code})" for p in fenced), depts,
            case.with_changes(pots=tuple(p.model_copy(update={"ring_fenced": False}) if p.ring_fenced else p
                                         for p in case.pots)))
    return out


def settlement_record(run: RunResult) -> dict | None:
    """summary.json's ``settlement``: the limit, each theme's money by year and the level's dividend over
    aligned in every measure (None without a settlement level). Each rule's measured cost is
    ``settlement_rules`` (:func:`rule_costs`, measured with the asks)."""
    if "settlement" not in run.levels:
        return None
    case = run.case
    L = {k: v.totals for k, v in run.levels.items()}
    money = theme_money(case, flexible_pots(case))
    return {
        "theme_flex": theme_flex(case),
        "themes": [{"theme": t, "money": {y: money.get((t, y), 0.0) for y in case.years if (t, y) in money}}
                   for t in themes(case)],
        "dividend": {k: L["settlement"][k] - L["aligned"][k] for k in ("participants", "outcomes", "value")},
        "measure": MEASURE[run.objective],
    }


# ---- as asks -------------------------------------------------------------------------------------
ASKED = ("theme_flex_ask", "ring_fence")  # the rule changes a combined authority would put to government


def settlement_asks(run: RunResult, costs: list[RuleCost], first_rank: int) -> list[dict]:
    """asks.csv rows for the settlement's asks (raise the cross-theme limit; lift the ring-fences),
    measured against the settlement level. Only those that gain are asked; they are not in the
    package (whose asks are measured against the aligned level, one after another)."""
    from optimiser.objective import UNIT

    rows = []
    for c in costs:
        if c.rule not in ASKED or c.cost <= 1e-9 * max(1.0, abs(c.with_rule)):
            continue
        pots = [p.code for p in run.case.pots if p.ring_fenced and p.settlement] if c.rule == "ring_fence" else []
        ask = f"{c.department}: {c.words}"
        rows.append(dict(rank=first_rank + len(rows), pot_code=";".join(pots) or None,
                         change="theme_flex" if c.rule == "theme_flex_ask" else "ring_fence",
                         gain_outcomes=c.gains["outcomes"], gain=c.cost, gain_participants=c.gains["participants"],
                         gain_value=c.gains["value"],
                         detail=f"{ask}: +{c.cost:,.0f} {UNIT[run.objective]} (measured against the settlement level)",
                         measured_against="settlement", department=c.department, group="settlement", ask=ask,
                         assumption="the settlement's own budgets, unit costs and rates; only the rule changes"))
    return rows


# ---- the agreement's Settlement and Outcomes framework sheets -------------------------------------
# How a fund is allocated, in the words of the published settlement tables, from the pot's ``basis``.
MECHANISM = {"formula": "National formula", "competitive": "Competition", "devolved": "Devolved allocation",
             "national": "National programme", "local": "Local allocation"}
TABLE_COLUMNS = ["year", "theme", "pot_code", "fund", "department", "mechanism", "rdel", "cdel", "ring_fenced"]


def settlement_table(case: Case, years: list[str]) -> pd.DataFrame:
    """The settlement table in its published layout, one row per settlement pot with money in a year:
    functional responsibility (theme), fund, home department as it stood that year, allocation
    mechanism, revenue (RDEL) and capital (CDEL) £; themes in the case's order, then pots."""
    order = {t: i for i, t in enumerate(themes(case))}
    rows = []
    for y in years:
        for i, p in enumerate(case.pots):
            amount = case.budget.get((p.code, y), 0.0)
            if not p.settlement or amount <= 0:
                continue
            rows.append((order.get(p.theme or "", len(order)), i, y, p.theme or "", p.code, p.name,
                         department_in(case, p.code, y), MECHANISM.get(p.basis, p.basis),
                         amount if p.budget_type == "revenue" else 0.0,
                         amount if p.budget_type == "capital" else 0.0, p.ring_fenced))
    rows.sort(key=lambda r: (years.index(r[2]), r[0], r[1]))
    return pd.DataFrame([r[2:] for r in rows], columns=TABLE_COLUMNS)


FRAMEWORK_COLUMNS = ["theme", "cohort_code", "indicator", "year", "baseline", "target"]
INDICATORS = ("participants", "outcomes")  # participants starting; the cohort's headline outcome achieved


def framework(case: Case, baseline: pd.DataFrame, plan: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    """The outcomes framework: for each theme and each cohort its money funds (today or in the plan),
    participants starting and headline outcomes achieved per year — today's (``baseline``, the
    engine's baseline allocation) and this plan's (``plan``), counted by the theme whose money pays."""
    theme_of = {p.code: p.theme for p in case.pots if p.settlement}

    def by(frame) -> dict:
        f = frame[frame["pot_code"].isin(theme_of)].assign(theme=lambda d: d["pot_code"].map(theme_of))
        return f.groupby(["theme", "cohort_code", "year"])[list(INDICATORS)].sum().to_dict("index")

    today, planned = by(baseline), by(plan)
    cells = {(t, c) for t, c, _ in (*today, *planned)}
    cohort_rank = {c: i for i, c in enumerate(case.cohort)}
    theme_rank = {t: i for i, t in enumerate(themes(case))}
    rows = []
    for t, c in sorted(cells, key=lambda k: (theme_rank.get(k[0], 99), cohort_rank.get(k[1], 99))):
        for ind in INDICATORS:
            for y in years:
                rows.append((t, c, ind, y, float(today.get((t, c, y), {}).get(ind, 0.0)),
                             float(planned.get((t, c, y), {}).get(ind, 0.0))))
    return pd.DataFrame(rows, columns=FRAMEWORK_COLUMNS)
