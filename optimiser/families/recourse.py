"""Recourse: the people a plan serves when need turns out other than estimated.

The robust model (:mod:`optimiser.robust`) chooses the allocation ``x`` once, before need
is known, and judges it under ``S`` draws of need ``N^s`` (the sample-average
approximation of a two-stage stochastic programme). In draw *s* the people served
through column *j* (pot, area, cohort, year, programme) are ``y[s,j]``:

* ``recourse_buy``, one row per draw and column — no more people than the money buys::

      y[s,j] - 1000 · x[j] / u[j] <= 0

* ``recourse_need``, one row per draw and need cell *k* — no more people than that draw's
  need::

      Σ_{j in k} y[s,j] <= N^s[k]

and the objective counts what the people served achieve, ``w[j]`` per person (the
objective's outcomes, value or participants per participant of column *j*)::

      Z_s = Σ_j w[j] · y[s,j]
      max (1 - λ) · (1/S) Σ_s Z_s + λ · CVaR_α(Z)

With ``λ > 0`` the worst tail counts too: ``CVaR_α`` is the mean of the worst ``α``
share of draws, written as Rockafellar and Uryasev's linear programme — family
``recourse_tail``, one row per draw, with ``η`` (the tail's threshold, the α-quantile at
the optimum) and ``t_s ≥ 0``::

      η - Z_s - t_s <= 0,        CVaR_α = η - (1/(α S)) Σ_s t_s

The first stage keeps every rule of the level (budgets, match, rules, locks, equity) on
the planned participants. Its need cap becomes the most any draw (or the point
estimate) could use — a place no draw could fill is never bought — so the plan made on
the point estimate stays feasible, and the robust plan does at least as well as it on the
draws it was chosen on.

Decisions beyond the issue: in a cell, the people served are the best-rewarded first
(the second stage is solved, not apportioned pro rata); the recourse is exact for a fixed
plan in closed form (:func:`judge`), so any plan is judged on any number of fresh draws
without a solver.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.families.base import Family
from optimiser.lp import MONEY_SCALE, LinearProgram, group_rows, meaning_frame

CELL = ["area_code", "cohort_code", "year"]
# Draws are judged this many at a time, so a national plan on a thousand draws stays within memory.
JUDGE_CHUNK = 16


def alloc_columns(lp: LinearProgram) -> np.ndarray:
    """Positions of the allocation columns (money for a pot, area, cohort, year and programme)."""
    return np.flatnonzero((lp.variables["kind"] == "alloc").to_numpy())


def per_person(lp: LinearProgram, cols: np.ndarray) -> np.ndarray:
    """``w``: the objective (model units) per person served through each of ``cols``."""
    unit_cost = lp.variables["unit_cost"].to_numpy(dtype=float)[cols]
    return lp.objective[cols] * unit_cost / MONEY_SCALE


def people_bought(lp: LinearProgram, cols: np.ndarray) -> np.ndarray:
    """Participants per model unit (£1,000) of each of ``cols``."""
    return MONEY_SCALE / lp.variables["unit_cost"].to_numpy(dtype=float)[cols]


def cell_index(variables: pd.DataFrame, cols: np.ndarray, need_keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The need cells ``cols`` reach: for each column its cell, numbered 0.. in first-appearance
    order, and for each such cell its position among ``need_keys`` (the case's need rows, in order)."""
    codes, keys = group_rows(variables.loc[cols, CELL])
    where = pd.MultiIndex.from_frame(need_keys[CELL].astype(object))
    reached = where.get_indexer(pd.MultiIndex.from_frame(keys[CELL].astype(object)))
    if (reached < 0).any():  # every column is made for a cell with need (optimiser.variables)
        raise ValueError("an allocation column has no need row")
    return codes, reached


def _queue(people: np.ndarray, weight: np.ndarray, cell: np.ndarray):
    """Columns in serving order (by cell, best-rewarded first) and, for each, the people its cell's
    better-rewarded columns buy before it."""
    order = np.lexsort((-weight, cell))
    p, k = people[order], cell[order]
    before = np.cumsum(p) - p  # people bought by every column up to here, of all cells ...
    if len(p):
        first = np.r_[True, k[1:] != k[:-1]]
        before = before - np.maximum.accumulate(np.where(first, before, 0.0))  # ... of the same cell only
    return order, before


def judge(people: np.ndarray, weight: np.ndarray, cell: np.ndarray, need: np.ndarray,
          per_column: bool = False) -> np.ndarray:
    """The objective (model units) a fixed plan achieves in each draw: the second stage in closed form.

    ``people`` are the participants each column buys, ``weight`` its reward per person, ``cell`` its
    need cell (a column of ``need``), ``need`` a draws × cells matrix. In each cell the best-rewarded
    columns are filled first, up to the draw's need — the optimum of the recourse rows above, since
    in a cell every person takes the same one place of need (a fractional knapsack of equal sizes).
    With ``per_column``, the mean over the draws of the people each column serves instead.
    """
    need = np.atleast_2d(np.asarray(need, dtype=float))
    order, before = _queue(people, weight, cell)
    p, w, k = people[order], weight[order], cell[order]
    out = np.empty(len(need))
    mean = np.zeros(len(p))
    for lo in range(0, len(need), JUDGE_CHUNK):
        served = np.clip(need[lo:lo + JUDGE_CHUNK][:, k] - before, 0.0, p)
        out[lo:lo + JUDGE_CHUNK] = served @ w
        mean += served.sum(axis=0)
    if per_column:
        back = np.empty(len(p))
        back[order] = mean / max(1, len(need))
        return back
    return out


def define_recourse(lp: LinearProgram, draws: np.ndarray, point: np.ndarray, need_keys: pd.DataFrame,
                    tail_weight: float = 0.0, alpha: float = 0.1) -> dict[str, np.ndarray]:
    """Turn a level's model into the robust one, in place (see the module docstring).

    ``draws`` is draws × need rows (the case's need order), ``point`` the need as estimated.
    Returns the positions of the new columns: ``served`` (draws × allocation columns),
    ``eta`` and ``tail``.
    """
    S = len(draws)
    cols = alloc_columns(lp)
    cell, reached = cell_index(lp.variables, cols, need_keys)
    w = per_person(lp, cols)
    buys = people_bought(lp, cols)
    # The first stage's need cap: the most any draw, or the estimate, could fill.
    most = np.maximum(point, draws.max(axis=0)) if S else point
    where = pd.MultiIndex.from_frame(need_keys[CELL].astype(object))
    for b in lp.blocks:
        if b.family == "need_cap":
            rows = where.get_indexer(pd.MultiIndex.from_frame(b.meaning[CELL].astype(object)))
            b.upper = most[rows].astype(float)
    n0, m = lp.n, len(cols)
    served = n0 + np.arange(S * m).reshape(S, m)
    eta = n0 + S * m
    tail = eta + 1 + np.arange(S)
    new = [pd.DataFrame({"kind": "served", "pot_code": np.tile(lp.variables["pot_code"].to_numpy()[cols], S),
                         "area_code": np.tile(lp.variables["area_code"].to_numpy()[cols], S),
                         "cohort_code": np.tile(lp.variables["cohort_code"].to_numpy()[cols], S),
                         "year": np.tile(lp.variables["year"].to_numpy()[cols], S),
                         "programme": np.tile(lp.variables["programme"].to_numpy()[cols], S),
                         "draw": np.repeat(np.arange(S), m)})]
    new.append(pd.DataFrame({"kind": ["eta"] + ["tail"] * S, "draw": [None] + list(range(S))}))
    lp.variables = pd.concat([lp.variables] + new, ignore_index=True)
    extra = lp.n - n0
    mean_weight = (1.0 - tail_weight) / S if S else 0.0
    objective = np.zeros(lp.n)
    objective[served] = mean_weight * w  # (1 − λ) × the mean of Z_s
    if tail_weight > 0:
        objective[eta] = tail_weight
        objective[tail] = -tail_weight / (alpha * S)
    lp.objective = objective
    lp.tiebreak = np.append(lp.tiebreak, np.zeros(extra))
    lp.upper = np.append(lp.upper, np.full(extra, np.inf))
    if lp.integer is not None:
        lp.integer = np.append(lp.integer, np.zeros(extra, dtype=bool))
    if lp.disruption is not None:
        lp.disruption = np.append(lp.disruption, np.zeros(extra))

    draw_of = np.repeat(np.arange(S), m)
    r = np.arange(S * m)
    lp.add("recourse_buy", meaning_frame(S * m, description="people served within what the money buys"),
           np.concatenate([r, r]), np.concatenate([served.ravel(), np.tile(cols, S)]),
           np.concatenate([np.ones(S * m), -np.tile(buys, S)]), -np.inf, 0.0)
    K = len(reached)
    need_rhs = draws[:, reached].ravel()  # draw-major, cell order as reached
    lp.add("recourse_need", meaning_frame(S * K, description="people served within the draw's need"),
           (draw_of * K + np.tile(cell, S)), served.ravel(), np.ones(S * m), -np.inf, need_rhs)
    if tail_weight > 0:
        z_rows = np.repeat(np.arange(S), m)
        lp.add("recourse_tail", meaning_frame(S, description="the tail's threshold, less the draw's objective"),
               np.concatenate([np.arange(S), z_rows, np.arange(S)]),
               np.concatenate([np.full(S, eta), served.ravel(), tail]),
               np.concatenate([np.ones(S), -np.tile(w, S), -np.ones(S)]), -np.inf, 0.0)
    return {"served": served, "eta": np.array([eta]), "tail": tail}


RECOURSE_BUY = Family("recourse_buy", title="people served within what the money buys", reported=False)
RECOURSE_NEED = Family("recourse_need", title="people served within each draw's need", reported=False)
RECOURSE_TAIL = Family("recourse_tail", title="the worst tail of the draws", reported=False)
