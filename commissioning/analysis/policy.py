"""An ask as its grantor would read it: who owns the rule, the rule in their words, what the
gain assumes, and who receives less.

Every function here reads the case (and, for the giver, two allocations); nothing is solved.
:mod:`commissioning.analysis.asks` calls them for each ask it lists.

**Who grants it** (``department``). A change to one pot's rules (cohorts, geography, years,
carry-forward, match funding) is granted by the pot's owning department, as ``pots.csv``
names it. A ``rules`` row on one pot is that pot's department's; a row over every pot is the
case's own (``local``). The pool is granted by every department whose pots it takes, so its
``department`` lists them (``DfE; DWP; MHCLG``). A pot whose department is ``local`` (or
``LA``, ``council``) is the partners' own money: its asks are local decisions, not asks of
government, and every output says so (:func:`is_local`).

**Which kind** (``group``): eligibility, geography, spending period, carry-forward, match
funding, a funding condition, or pooling: the heading a briefing files an ask under inside
its department.

**In the owner's words** (:func:`ask_words`): ``DWP: widen Jobcentre Flexible Support Fund
eligibility to recent entrants to work from benefits (first six months)``, not
``add_cohort FSF NEW_STARTERS``. The department's abbreviation leads, as a minister's
briefing has it; the full name is :data:`DEPARTMENTS`'s.

**What the gain assumes** (:func:`assumption`). A newly eligible cohort is served by the
pot's own programme at ``case.unit_cost(pot, cohort)`` a head and ``case.outcome_rate(pot,
cohort)``: a ``rates`` row when there is one, else the pot's unit cost and the cohort's own
rate. The assumption is *doubtful* — and the ask carries a ``warning`` — when the programme's
cost per outcome (unit cost ÷ rate) is below :data:`DOUBTFUL_SHARE` (one half) of the
cheapest cost per outcome among the programmes serving that cohort today (today's
provision where the case states it; else the pots eligible for it today). A cheap careers
contact credited with a job-support programme's sustained-job rate is the example: the
engine cannot know the contact would not reach it, so it says the gain rests on it.

**Who receives less** (:func:`givers`): an ask moves money, and some cohorts or areas may
end with fewer participants than without it. ``loses_participants`` and
``loses_outcomes`` are the decreases summed over (area, cohort, year) cells, never netted
against a gain elsewhere; ``receives_less`` names the cohorts whose cells lose most and the
areas whose own total falls most (at most three of each). The plan compared is the optimal
one taking the fewest people from the reference (:mod:`optimiser.anchor`), so the losses
are those the ask needs, not the solver's choice among equally good plans.
"""

from __future__ import annotations

import re

import pandas as pd

from commissioning.case import years as fy
from commissioning.case.model import ALL, Case

# The departments that own the national streams, by the abbreviation pots.csv uses.
DEPARTMENTS = {
    "DWP": "Department for Work and Pensions",
    "DfE": "Department for Education",
    "MHCLG": "Ministry of Housing, Communities and Local Government",
    "DHSC": "Department of Health and Social Care",
    "DSIT": "Department for Science, Innovation and Technology",
    "DBT": "Department for Business and Trade",
    "DCMS": "Department for Culture, Media and Sport",
    "DESNZ": "Department for Energy Security and Net Zero",
    "HO": "Home Office",
    "MoJ": "Ministry of Justice",
    "HMT": "HM Treasury",
    "NHSE": "NHS England",
}
LOCAL = "local"
LOCAL_OWNERS = {"local", "la", "council", "local authority", "combined authority", "ca"}
UNSTATED = "unstated"
# An assumed cost per outcome below this share of the cheapest serving the cohort today is doubtful.
DOUBTFUL_SHARE = 0.5
GROUPS = {
    "add_cohort": "eligibility",
    "add_area": "geography",
    "extend_years": "spending period",
    "carry_forward": "carry-forward",
    "drop_match": "match funding",
    "relax_rule": "funding condition",
    "pool": "pooling",
}
# How many givers (cohorts, areas) receives_less names of each.
GIVERS_NAMED = 3


def is_local(department: str | None) -> bool:
    """Whether a department is the partners' own (a local decision, not an ask of government)."""
    return (department or "").strip().lower() in LOCAL_OWNERS


def department_of(case: Case, pot_code: str | None) -> str:
    """The department that owns a pot's rules (``local`` for the partners' own money)."""
    if pot_code is None or pot_code not in case.pot:
        return LOCAL
    d = (case.pot[pot_code].department or "").strip()
    if not d:
        return UNSTATED
    return LOCAL if is_local(d) else d


def departments_of(case: Case, pots) -> str:
    """The departments of several pots, ``; ``-joined, national ones first then ``local``."""
    found = {department_of(case, p) for p in pots}
    national = sorted((d for d in found if d not in (LOCAL, UNSTATED)), key=str.lower)
    return "; ".join(national + [d for d in (UNSTATED, LOCAL) if d in found])


def department_name(department: str) -> str:
    """A department in full, as a briefing's heading names it."""
    if department == LOCAL:
        return "Local partners (a local decision, not an ask of government)"
    if department == UNSTATED:
        return "Department not stated in pots.csv"
    if ";" in department:
        names = [d.strip() for d in department.split(";")]
        names = [("local partners" if d == LOCAL else d) for d in names]
        return "Several departments together (" + _listed(names, 12) + ")"
    full = DEPARTMENTS.get(department)
    return f"{department} — {full}" if full else department


def short_name(name: str) -> str:
    """A pot's name without a closing aside: ``Connect to Work (supported employment)`` is
    ``Connect to Work`` in an ask's sentence (the codes columns keep which pot)."""
    short = re.sub(r"\s*\([^()]*\)$", "", name).strip()
    return short or name


def _lower_first(name: str) -> str:
    """``Recent entrants …`` as it reads mid-sentence; ``NEET young people`` kept as it is."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def _listed(names: list[str], most: int = 5) -> str:
    if not names:
        return ""
    if len(names) > most:
        names = names[:most] + [f"{len(names) - most} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _owner(department: str) -> str:
    return "Local partners" if department == LOCAL else department


def ask_words(case: Case, change: str, pots: list[str], areas: list[str], cohorts: list[str],
              year: str | None = None, rule_index: int | None = None, pool: list[str] | None = None) -> str:
    """One ask in its grantor's words, led by the department that would grant it."""
    pot_names = [short_name(case.pot[p].name) if p in case.pot else p for p in pots]
    dept = departments_of(case, pool if change == "pool" and not pots else pots) if (pots or pool) else LOCAL
    who = _owner(dept) if ";" not in dept else dept.replace("; ", ", ")
    if change == "add_cohort":
        cohort = _lower_first(case.cohort[cohorts[0]].name) if cohorts and cohorts[0] in case.cohort else "a cohort"
        if len(pot_names) == 1:
            return f"{who}: widen {pot_names[0]} eligibility to {cohort}"
        return f"{who}: widen the eligibility of {_listed(pot_names, 8)} to {cohort}"
    if change == "add_area":
        names = [case.area[a].name if a in case.area else a for a in areas]
        if len(names) == 1:
            return f"{who}: let {pot_names[0]} be spent on residents of {names[0]}"
        return f"{who}: let {pot_names[0]} be spent on residents of {len(names)} more areas ({_listed(names)})"
    p = case.pot.get(pots[0]) if pots else None
    if change == "carry_forward" and p is not None:
        return (f"{who}: let {short_name(p.name)} carry unspent money forward {p.carry_forward + 1} year(s) "
                f"instead of {p.carry_forward}")
    if change == "extend_years" and p is not None:
        when = f" to {fy.year_end(year):%-d %B %Y}" if year else " by a year"
        return f"{who}: extend {short_name(p.name)}'s spending period{when}, so money carried forward can still be spent"
    if change == "drop_match" and p is not None:
        return f"{who}: drop the {p.match_rate:.0%} match-funding condition on {short_name(p.name)}"
    if change == "relax_rule" and rule_index is not None and rule_index < len(case.rules):
        rule = case.rules[rule_index]
        owner = department_of(case, None if rule.pot_code == ALL else rule.pot_code)
        return f"{_owner(owner)}: relax the condition {rule.describe()}"
    if change == "pool":
        if pots:
            return f"{who}: let {pot_names[0]} join the local pooled budget"
        names = [short_name(case.pot[q].name) for q in case.pot if q in (pool or ())]
        return (f"{who}: let {len(names)} funds be pooled in one local budget under the agreement "
                f"({_listed(names, 4)})")
    return f"{who}: {change}"


def department_for(case: Case, change: str, pots: list[str], rule_index: int | None = None,
                   pool: list[str] | None = None) -> str:
    """The ``department`` column of an ask (see the module docstring)."""
    if change == "relax_rule" and rule_index is not None and rule_index < len(case.rules):
        rule = case.rules[rule_index]
        return department_of(case, None if rule.pot_code == ALL else rule.pot_code)
    if change == "pool" and not pots:
        return departments_of(case, pool or ())
    return departments_of(case, pots) if pots else LOCAL


# ---- what the gain assumes -------------------------------------------------------------------------
def _cost_per_outcome(case: Case, pot: str, cohort: str) -> float:
    rate = case.outcome_rate(pot, cohort)
    return case.unit_cost(pot, cohort) / rate if rate > 0 else float("inf")


def serving_today(case: Case, cohort: str) -> list[str]:
    """The pots serving a cohort today: those with provision for it (when the case states
    provision), else those eligible for it under today's rules."""
    if case.provision is not None:
        pots = sorted({r.pot_code for r in case.provision if r.cohort_code == cohort and r.amount > 0})
        if pots:
            return pots
    return sorted(p for p in case.pot if cohort in case.eligibility.reach(p)[1])


def _rate_source(case: Case, pot: str, cohort: str) -> str:
    r = case.rate.get((pot, cohort))
    if r is not None and r.outcome_rate is not None:
        return f"the rates row {pot}/{cohort}'s"
    return "the cohort's own"


def assumption(case: Case, change: str, pots: list[str], cohorts: list[str]) -> tuple[str, str]:
    """What an ask's gain assumes of newly eligible people, and a warning where it is doubtful
    (empty text when there is nothing to warn of)."""
    if change == "add_area":
        p = case.pot[pots[0]]
        return (f"{short_name(p.name)}'s own unit costs and rates for its cohorts, in the new areas", "")
    if change != "add_cohort":
        return ("the case's own unit costs and rates; no newly eligible people", "")
    said, doubtful = [], []
    cohort = cohorts[0]
    cname = _lower_first(case.cohort[cohort].name)
    today = [q for q in serving_today(case, cohort) if q not in pots]
    best = min(today, key=lambda q: _cost_per_outcome(case, q, cohort)) if today else None
    ref = _cost_per_outcome(case, best, cohort) if best is not None else None
    for p in pots:
        uc, rate = case.unit_cost(p, cohort), case.outcome_rate(p, cohort)
        cpo = _cost_per_outcome(case, p, cohort)
        said.append(f"{case.pot[p].name}: £{uc:,.0f} a head at {_rate_source(case, p, cohort)} "
                    f"{rate:.0%} {case.cohort[cohort].outcome or 'outcome'} rate (£{cpo:,.0f} an outcome)")
        if ref is not None and cpo < DOUBTFUL_SHARE * ref:
            doubtful.append(f"{case.pot[p].name} (£{cpo:,.0f})")
    if best is None:
        said.append(f"no programme serves {cname} today to compare with")
    warning = ""
    if doubtful:
        warning = (f"Doubtful: {_listed(doubtful, 8)} {'is' if len(doubtful) == 1 else 'are'} assumed to reach "
                   f"{cname} at under half the £{ref:,.0f} an outcome of the cheapest programme serving them "
                   f"today ({case.pot[best].name}, £{case.unit_cost(best, cohort):,.0f} a head at "
                   f"{case.outcome_rate(best, cohort):.0%}); check that {'it' if len(doubtful) == 1 else 'they'} "
                   "can reach them at that rate before asking")
    return "; ".join(said), warning


# ---- who receives less ----------------------------------------------------------------------------
def givers(case: Case, before: pd.DataFrame, after: pd.DataFrame) -> tuple[float, float, str]:
    """(participants lost, outcomes lost, the words naming who receives less) from one
    allocation to another (``ALLOCATION_COLUMNS`` frames).

    A loss is counted per (area, cohort, year) — the cells :mod:`optimiser.anchor` keeps whole
    where it can — and never netted against a gain in another cell: a cohort served less in
    one district and more in another still has residents who receive less. The cohorts named
    are those whose cells lose most; the areas, those whose own total falls most."""
    cols = ["participants", "outcomes"]
    cell = ["area_code", "cohort_code", "year"]
    b = before.groupby(cell)[cols].sum()
    a = after.groupby(cell)[cols].sum()
    diff = a.sub(b, fill_value=0.0)
    lost = diff[diff["participants"] < 0]
    loses_p, loses_o = float(-lost["participants"].sum()), float(-lost["outcomes"].sum())
    if loses_p < 0.5:
        return 0.0, 0.0, ""
    # A cohort is named by its cells' losses; an area by the fall in its own total each year
    # (an area whose residents of one cohort lose what another cohort gains receives no less).
    area = diff.groupby(level=["area_code", "year"]).sum()
    parts = []
    for level, names, frame in (("cohort_code", {c: x.name for c, x in case.cohort.items()}, lost),
                                ("area_code", {c: x.name for c, x in case.area.items()},
                                 area[area["participants"] < 0])):
        by = frame.groupby(level=level).sum()
        by = by[by["participants"] <= -0.5].sort_values("participants")
        parts += [f"{names.get(k, k)}: {-r.participants:,.0f} fewer people ("
                  f"{abs(r.outcomes):,.0f} {'fewer' if r.outcomes <= 0 else 'more'} outcomes)"
                  for k, r in by.head(GIVERS_NAMED).iterrows()]
    return loses_p, loses_o, "; ".join(parts)
