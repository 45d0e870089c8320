"""Need caps: participants in a cell never exceed its need.

Rule: for every area *a*, cohort *c* and year *t* with need ``N[a,c,t]`` — family
``need_cap``, one row per cell that some variable can reach::

    Σ_{p,q} 1000 · x[p,a,c,t,q] / u[p,c,q] <= N[a,c,t]

where ``u`` is the unit cost (£ per participant, after ``rates``) of programme *q* for
cohort *c*, and ``x`` is in £ thousands.
"""

from __future__ import annotations

import numpy as np

from commissioning.case.model import Case

from optimiser.lp import MONEY_SCALE, LinearProgram, group_rows, meaning_frame


def define_need_cap(lp: LinearProgram, case: Case) -> None:
    v = lp.variables
    idx = np.flatnonzero((v["kind"] == "alloc").to_numpy())
    if not len(idx):
        return
    codes, keys = group_rows(v.loc[idx, ["area_code", "cohort_code", "year"]])
    need = v.loc[idx, "need"].to_numpy()
    rhs = np.zeros(len(keys))
    rhs[codes] = need  # every variable of a cell carries the same need
    coef = MONEY_SCALE / v.loc[idx, "unit_cost"].to_numpy()
    lp.add("need_cap", meaning_frame(len(keys), area_code=keys["area_code"], cohort_code=keys["cohort_code"],
                                     year=keys["year"],
                                     description=[f"{a} {c} {t} need" for a, c, t in
                                                  zip(keys["area_code"], keys["cohort_code"], keys["year"])]),
           codes, idx, coef, -np.inf, rhs)
