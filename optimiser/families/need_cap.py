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

from optimiser.families.base import CheckCells, Family, Limit, Measured
from optimiser.lp import MONEY_SCALE, LinearProgram, group_rows, meaning_frame


def define_need_cap(lp: LinearProgram, case: Case) -> None:
    """Add the ``need_cap`` rows (see the module docstring)."""
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


def rebound_need_cap(block, lp: LinearProgram, case: Case, ctx) -> tuple:
    """A need draw's bounds for a ``need_cap`` block (its rows and coefficients do not read need): each
    row's need, as :func:`define_need_cap` sets it, from the drawn model's columns."""
    need = lp.variables["need"].to_numpy(dtype=float)
    rhs = np.zeros(len(block.upper))
    rhs[block.rows] = need[block.cols]
    return block.lower, rhs


def need_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``need_cap`` in closed form: one per need cell of the case (participants ≤ people in need)."""
    return [
        Limit("need_cap", "max", f"participants in {n.area_code} / {n.cohort_code} / {n.year} within need",
              unit="people", area_code=n.area_code, cohort_code=n.cohort_code, year=n.year,
              areas=(n.area_code,), cohorts=(n.cohort_code,), years=(n.year,), measure="participants",
              bound=float(n.people))
        for n in case.need
    ]


def _need_breach(m: Measured, money) -> str:
    lim = m.limit
    return (f"{lim.area_code} / {lim.cohort_code} / {lim.year} serves {m.value:,.1f} participants against a "
            f"need of {m.bound:,.1f} (over by {m.value - m.bound:,.1f})")


def _need_formulas(m: Measured, cells: CheckCells) -> dict:
    lim = m.limit
    return {"value_f": f"=SUMPRODUCT({'*'.join(cells.scope_terms(lim))},alloc_participants)",
            "limit_f": f"={cells.need_cell(lim.area_code, lim.cohort_code, lim.year)}"}


def _binding_words(case: Case, r) -> str:
    return f"{case.area[r.area_code].name} {case.cohort[r.cohort_code].name} {r.year} need is fully met"


def cell_of(words: str) -> str:
    """The cell a binding need cap's words name (its words without " is fully met")."""
    return words.replace(" is fully met", "")


NEED_CAP = Family(
    "need_cap", reads_need=True, title="need caps", words="need cap",
    define=lambda lp, case, ctx: define_need_cap(lp, case), rebound=rebound_need_cap,
    settle_rank=20, check_rank=1, key_columns=("area_code", "cohort_code", "year"),
    shadow_unit="per extra person of need", narrate="cap", counts_unmet=True,
    binding_words=_binding_words,
    limits=need_limits, breach_words=_need_breach, check_formulas=_need_formulas,
)
