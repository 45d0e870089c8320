"""The integrated settlement: which pots are in it, their themes, and who owns a pot when.

An **integrated settlement** (MHCLG's policy document of June 2025) pays an established
mayoral strategic authority a few grants under **spending themes** (functional
responsibilities such as adult skills or employment support), split into revenue (RDEL) and
capital (CDEL), not ring-fenced, with a limit on how much may move between themes (the
grant determination letters' 10%). A case says which of its pots are paid that way
(``pots.settlement``), under which theme (``pots.theme``), revenue or capital
(``pots.budget_type``) and whether a pot keeps its own conditions inside it
(``pots.ring_fenced``); ``case.yaml`` ``settlement: {theme_flex: 0.10}`` sets the limit.

The rules this module states, and every level applies (:mod:`commissioning.case.eligibility`
builds the columns, :mod:`optimiser.families.theme_flex` the limit):

* A settlement pot that is **not ring-fenced** is *flexible*: in any pool that holds it, it
  pools with the flexible pots of **its own theme and budget type** as pooled pots do (any
  area and cohort one of them may fund, the best programme among them).
* It may also fund what a flexible pot of **another theme** (of the same budget type) may
  fund — a *cross-theme* move — but at most ``theme_flex`` of each theme's money in a year
  (what that theme's flexible pots may spend that year: the year's budgets and any money
  carried forward into it) is spent that way.
* **Revenue never pays for capital, nor capital for revenue**: pots pool only with pots of
  their own budget type, inside the settlement and out of it.
* A **ring-fenced** settlement pot keeps its conditions: it funds only what it may fund
  today, through its own programme, as in the aligned level.

A settlement pot's flexibility is the settlement's, not the partners': it is in the pool of
every level above ``aligned`` whatever the scenario's pool says, and it pools only by the
rules above (lifting them is an ask of government, measured by ``optimise``).

**Owners by date.** A pot's owning department may change during the term (adult skills
moved from DfE to DWP: the devolution guidance moved on 1 April 2026). The ``departments``
table gives one row per change (pot, department, from); before a pot's earliest row, and
for a pot without rows, ``pots.department`` owns it. :func:`department_in` names the owner
as it stood in a financial year — both, in order, when it changed during the year.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from commissioning.case import years as fy

if TYPE_CHECKING:
    from commissioning.case.model import Case, Pot

DEFAULT_THEME_FLEX = 0.10  # the grant determination letters' limit (April 2025)


def settles(case: "Case") -> bool:
    """Whether any pot of the case is paid inside an integrated settlement."""
    return any(p.settlement for p in case.pots)


def flexible(pot: "Pot") -> bool:
    """Whether a pot pools inside the settlement: a settlement pot that is not ring-fenced."""
    return bool(pot.settlement and not pot.ring_fenced)


def flexible_pots(case: "Case") -> frozenset[str]:
    """The case's flexible settlement pots (see :func:`flexible`)."""
    return frozenset(p.code for p in case.pots if flexible(p))


def themes(case: "Case") -> list[str]:
    """The settlement's spending themes, in the order their first pot is listed."""
    out: list[str] = []
    for p in case.pots:
        if p.settlement and p.theme and p.theme not in out:
            out.append(p.theme)
    return out


def groups(case: "Case", pool: frozenset[str]) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """How the members of ``pool`` pool, each group in case order:

    * ``plain``: the pool's pots outside the settlement, one group per budget type;
    * ``within``: its flexible settlement pots, one group per theme and budget type;
    * ``across``: its flexible settlement pots, one group per budget type that spans two or
      more themes (the cross-theme moves, limited by ``theme_flex``).

    Ring-fenced settlement pots are in none of them: they keep today's rules."""
    members = [p for p in case.pots if p.code in pool]
    plain: dict[str, list[str]] = {}
    within: dict[tuple[str, str], list[str]] = {}
    across: dict[str, list[str]] = {}
    for p in members:
        if not p.settlement:
            plain.setdefault(p.budget_type, []).append(p.code)
        elif flexible(p):
            within.setdefault((p.theme or "", p.budget_type), []).append(p.code)
            across.setdefault(p.budget_type, []).append(p.code)
    spans = [g for g in across.values() if len({case.pot[c].theme for c in g}) >= 2]
    return list(plain.values()), list(within.values()), spans


def theme_money(case: "Case", pool: frozenset[str]) -> dict[tuple[str, str], float]:
    """£ of each theme's money in each year of the case: what the theme's flexible pots in ``pool``
    may spend that year — their budgets for the year and any money carried forward into it
    (``Case.available``) — within their lives (the base of the cross-theme limit). Every year in
    which a flexible pot may spend is listed, with 0 when it has no money then."""
    out: dict[tuple[str, str], float] = {}
    for p in case.pots:
        if p.code in pool and flexible(p):
            for y in case.years:
                if p.in_life(y):
                    key = (p.theme or "", y)
                    out[key] = out.get(key, 0.0) + case.available(p.code, y)
    return out


def theme_flex(case: "Case") -> float:
    """The share of a theme's money in a year that may move to another theme."""
    return float(case.settings.settlement.theme_flex)


# ---- owners by date ---------------------------------------------------------------------------
def owners(case: "Case", pot_code: str) -> list[tuple[date | None, str]]:
    """A pot's owners in order, as (from, department): the first from ``None`` (pots.department),
    then each ``departments`` row by date. A row repeating the owner before it is not a change."""
    out: list[tuple[date | None, str]] = [(None, case.pot[pot_code].department)]
    for d in sorted((d for d in case.departments if d.pot_code == pot_code), key=lambda d: d.start):
        if d.department != out[-1][1]:
            out.append((d.start, d.department))
    return out


def department_on(case: "Case", pot_code: str, day: date) -> str:
    """The department that owns a pot on ``day``."""
    current = case.pot[pot_code].department
    for start, dept in owners(case, pot_code):
        if start is None or start <= day:
            current = dept
    return current


def department_in(case: "Case", pot_code: str, year: str) -> str:
    """The owner as it stood in financial ``year``: one department, or, when the pot changed hands
    during the year, each in order with the day it took over (``DfE; DWP from 16 Sep 2025``)."""
    first, last = fy.year_start(year), fy.year_end(year)
    held = [department_on(case, pot_code, first)]
    for start, dept in owners(case, pot_code):
        if start is not None and first < start <= last and dept != held[-1].split(" from ")[0]:
            held.append(f"{dept} from {start.day} {start:%b %Y}")
    return "; ".join(held)

