"""Protection of the people served today.

``protect:`` in case.yaml sets floors under today's participants, per cohort and per
area, as shares (``cohorts: 0.5``, or ``{LTU: 0.9, ALL: 0.5}``; ``ALL`` covers every code
not named). With ``P0[c,t]`` today's participants in cohort *c* in year *t* (the
baseline's, :func:`optimiser.baseline.today_cells`) and floor share ``s_c`` — family
``protect``, one row per cohort and year with ``P0 > 0``, and likewise per area::

    Σ_{p,a,q} 1000 · x[p,a,c,t,q] / u[q,c] >= s_c · P0[c,t]

Floors apply per year. Today's participants never exceed need (the baseline scales a
duplicated cell down to its need), so a floor of at most 1 asks for no more people than
there are; it may still collide with a cut budget or a rule, and the diagnosis then names
it. Without a floor nothing is forced, and a cohort or area whose participants fall by
more than half over the term is flagged ``dropped`` (:mod:`commissioning.analysis.dropped`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commissioning.case.model import Case

from optimiser.baseline import today_cells
from optimiser.families.base import BuildContext, Family, Limit, scope_sum
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame

BY = {"cohorts": "cohort_code", "areas": "area_code"}


def floors(case: Case) -> list[tuple[str, str, str, float, float]]:
    """Every floor: (kind, code, year, share, people) — kind ``cohorts`` or ``areas``."""
    protect = case.settings.protect
    if not protect.cohorts and not protect.areas:
        return []
    t = today_cells(case)
    out = []
    for kind, by in BY.items():
        if not getattr(protect, kind):
            continue
        today = t.groupby([by, "year"], sort=False)["participants"].sum()
        for (code, year), people in today.items():
            share = protect.share(kind, code)
            if share and people > 0:
                out.append((kind, code, year, share, share * float(people)))
    return out


def _name(case: Case, kind: str, code: str) -> str:
    return case.cohort[code].name if kind == "cohorts" else case.area[code].name


def define_protect(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``protect`` rows (see the module docstring)."""
    fl = floors(case)
    if not fl:
        return
    v = lp.variables
    alloc = np.flatnonzero((v["kind"] == "alloc").to_numpy())
    per = MONEY_SCALE / v.loc[alloc, "unit_cost"].to_numpy(dtype=float)
    rows, cols, coefs, rhs, meaning = [], [], [], [], []
    for kind, by in BY.items():
        mine = [f for f in fl if f[0] == kind]
        if not mine:
            continue
        index = pd.MultiIndex.from_tuples([(code, year) for _, code, year, _, _ in mine])
        at = index.get_indexer(pd.MultiIndex.from_frame(v.loc[alloc, [by, "year"]].astype(object)))
        inside = at >= 0
        rows.append(at[inside] + len(rhs))
        cols.append(alloc[inside])
        coefs.append(per[inside])
        for _, code, year, share, people in mine:
            rhs.append(people)
            meaning.append({by: code, "year": year, "description": f"{_name(case, kind, code)} keeps at least "
                                                                   f"{share:.0%} of today's participants in {year}"})
    frame = pd.DataFrame(meaning)
    lp.add("protect", meaning_frame(len(frame), **{k: frame[k].where(frame[k].notna(), None).tolist()
                                                   for k in frame.columns}),
           np.concatenate(rows), np.concatenate(cols), np.concatenate(coefs), np.array(rhs), np.inf)


def protect_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``protect`` in closed form: participants in the cohort (or area) and year at least the floor."""
    out = []
    for kind, code, year, share, people in floors(case):
        scope = {"cohorts": (code,), "cohort_code": code} if kind == "cohorts" else {"areas": (code,),
                                                                                   "area_code": code}
        out.append(Limit("protect", "min", f"{_name(case, kind, code)} keeps at least {share:.0%} of today's "
                         f"participants in {year}", unit="people", year=year, years=(year,),
                         measure="participants", bound=people, **scope))
    return out


PROTECT = Family(
    "protect", reads_need=True, title="protection of the people served today", words="protection floor",
    define=define_protect, demands=True, check_rank=11, row_unit="people",
    noun="protection floor (protect:)", shadow_unit="per person the floor keeps",
    binding_words=lambda case, r: f"the protection floor holds: {r.description}",
    limits=protect_limits, check_formulas=lambda m, cells: scope_sum(m, cells, "participants"),
    breach_words=lambda m, money: f"{m.limit.words}: {m.value:,.1f} participants against at least {m.bound:,.1f}",
)
