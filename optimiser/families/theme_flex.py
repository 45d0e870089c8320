"""The integrated settlement's cross-theme limit: at most a share of a theme's money moves.

Rule (:mod:`commissioning.case.settlement` states the settlement's rules in full): a
flexible settlement pot (``settlement = yes``, not ring-fenced) pools with its own theme's
flexible pots freely, and may fund what another theme's flexible pots may fund — a
*cross-theme move* — but, per theme *T* and year *t*, family ``theme_flex``::

    Σ_{p ∈ T, (p,a,c,t,q) a move} x[p,a,c,t,q] <= f · M[T,t]

with ``f`` the case's ``settlement.theme_flex`` (default 0.10, the grant determination
letters' 10%) and ``M[T,t]`` the theme's money in year *t*: what the theme's flexible pots
may spend in *t*, their budgets for *t* and any money carried forward into it (£k). Which columns are moves is the case's answer
(:meth:`Eligibility.across <commissioning.case.eligibility.Eligibility.across>`): a column
of the cross-theme groups that neither today's rules nor the theme's own pooling give.

Revenue never paying for capital (nor capital for revenue) and ring-fenced pots keeping
their rules add no rows: the columns that would break them are never created. Their cost
is measured by solving again without them (:mod:`commissioning.analysis.settlement`).

The dual of a row is what one more £ moved between themes in that year would buy; the
limit's whole cost is measured by solving the level again with ``theme_flex = 1``.
"""

from __future__ import annotations

import numpy as np

from commissioning.case.model import Case
from commissioning.case.settlement import theme_flex, theme_money, themes

from optimiser.families.base import BuildContext, CheckCells, Family, Limit, Measured, Reasons
from optimiser.lp import MONEY_SCALE, LinearProgram, group_rows, meaning_frame

KEY = ["pot_code", "area_code", "cohort_code", "year", "programme"]


def moves(case: Case, variables, pool: frozenset[str], objective: str | None = None) -> np.ndarray:
    """Positions of the allocation columns that move a theme's money to another theme."""
    across = case.eligibility.across(frozenset(pool), objective)
    if not across:
        return np.zeros(0, dtype=int)
    alloc = variables[variables["kind"] == "alloc"]
    hit = np.fromiter((k in across for k in alloc[KEY].itertuples(index=False, name=None)), dtype=bool,
                      count=len(alloc))
    return alloc.index.to_numpy()[hit]


def define_theme_flex(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``theme_flex`` rows (see the module docstring)."""
    v = lp.variables
    idx = moves(case, v, ctx.pool, ctx.objective)
    if not len(idx):
        return
    theme = {p.code: p.theme or "" for p in case.pots}
    frame = v.loc[idx, ["pot_code", "year"]].assign(theme=[theme[p] for p in v.loc[idx, "pot_code"]])
    codes, rows = group_rows(frame[["theme", "year"]])
    money = theme_money(case, ctx.pool)
    share = theme_flex(case)
    rhs = np.array([share * money.get((T, t), 0.0) for T, t in zip(rows["theme"], rows["year"])]) / MONEY_SCALE
    lp.add("theme_flex", meaning_frame(len(rows), year=rows["year"],
                                       theme=rows["theme"],
                                       description=[f"at most {share:.0%} of the {T} theme's {t} money moves "
                                                    "to another theme" for T, t in zip(rows["theme"], rows["year"])]),
           codes, idx, np.ones(len(idx)), -np.inf, rhs)


def theme_flex_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``theme_flex`` in closed form: per theme and year, the amount on cross-theme rows (the case's
    :meth:`~commissioning.case.eligibility.Eligibility.across` keys) is at most the share of its money."""
    across = case.eligibility.across(frozenset(pool))
    if not across:
        return []
    share = theme_flex(case)
    out = []
    money_of = theme_money(case, pool)
    # One limit per (theme, year) with moves — the optimiser's rows — whatever the theme's money then.
    year_at = {y: i for i, y in enumerate(case.years)}
    theme_at = {T: i for i, T in enumerate(themes(case))}
    pairs = sorted({(case.pot[k[0]].theme or "", k[3]) for k in across},
                   key=lambda tt: (year_at.get(tt[1], len(year_at)), theme_at.get(tt[0], len(theme_at))))
    for T, t in pairs:
        money = money_of.get((T, t), 0.0)
        keys = tuple(sorted(k for k in across if k[3] == t and (case.pot[k[0]].theme or "") == T))
        out.append(Limit("theme_flex", "max", f"at most {share:.0%} of the {T} theme's {t} money moves to "
                                              "another theme", year=t, cohort_code="", years=(t,),
                         pots=tuple(sorted({k[0] for k in keys})), measure="across", bound=share * money,
                         rule_value=share, moves=keys, theme=T))
    return out


def _breach(m: Measured, money) -> str:
    return (f"{m.limit.words}: the sheet moves {money(m.value)} against {money(m.bound)} "
            f"(over by {money(m.value - m.bound)})")


def _formulas(m: Measured, cells: CheckCells) -> dict:
    """The sum over the Allocations rows of the theme's pots in the year that are marked as moves
    between themes (the sheet's ``across`` column), against the constant limit."""
    pots = "(" + "+".join(f"EXACT(alloc_pot,{cells.pot_cell(p)})" for p in m.limit.pots) + ")"
    terms = [pots, f"EXACT(alloc_year,{cells.col('year', True)})", '(alloc_across="yes")']
    return {"value_f": f"=SUMPRODUCT({'*'.join(terms)},alloc_amount)", "limit_f": float(m.limit.bound)}


def _held(ctx: Reasons) -> tuple[set, set]:
    """The (theme, year) rows at their limit at this level, and the level's cross-theme keys."""
    tight = ctx.tight[ctx.tight["family"] == "theme_flex"]
    at_limit = set(zip(tight["theme"], tight["year"]))
    across = ctx.case.eligibility.across(frozenset(ctx.level.pool)) if at_limit else set()
    return at_limit, across


def _gap(ctx: Reasons):
    at_limit, across = _held(ctx)
    case = ctx.case
    held: dict[tuple[str, str, str], str] = {}
    for p, a, c, t, _q in across:
        T = case.pot[p].theme or ""
        if (T, t) in at_limit:
            held.setdefault((a, c, t), T)

    def reason(r):
        T = held.get((r.area_code, r.cohort_code, r.year))
        if T is None:
            return None
        return ("theme_flex", f"the {theme_flex(case):.0%} cross-theme limit holds it back: the {T} theme could "
                              f"fund it, but has moved all of its {r.year} money the settlement lets it move")
    return reason


def _idle(ctx: Reasons):
    at_limit, across = _held(ctx)
    case = ctx.case
    movers = {(p, t) for p, _a, _c, t, _q in across if ((case.pot[p].theme or ""), t) in at_limit}

    def reason(pot, budget, window, mine):
        years = sorted(t for t in window if (pot.code, t) in movers)
        if not years:
            return None
        return ("theme_flex", f"its own theme's cells are served and the {pot.theme} theme has moved the "
                              f"{theme_flex(case):.0%} of its {', '.join(years)} money the settlement lets it "
                              "spend on another theme")
    return reason


THEME_FLEX = Family(
    "theme_flex", title="the settlement's cross-theme limit", words="cross-theme limit",
    define=define_theme_flex, settle_rank=12, check_rank=13,
    key_columns=("theme", "year"), shadow_scale=MONEY_SCALE, shadow_unit="per extra £1m moved between themes",
    narrate="price",
    binding_words=lambda case, r: f"the {theme_flex(case):.0%} limit on moving the {r.theme} theme's {r.year} "
                                  "money to another theme binds",
    limits=theme_flex_limits, check_formulas=_formulas, breach_words=_breach,
    gap_reason=_gap, idle_reason=_idle, reason_rank=3, idle_rank=3,
)
