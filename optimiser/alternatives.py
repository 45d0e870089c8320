"""Near-optimal alternatives: other plans as good as the optimum, as different from it as they can be.

``optimise --alternatives N`` gives a commissioner N further allocations of the aligned and
the pooled level to choose among. The method is modelling-to-generate-alternatives in the
manner of PyPSA's, with the "hop-skip-jump" objective of Brill et al.: each alternative
minimises the money in the (pot, area) pairs the plans before it used, among the plans whose
objective is within the tolerance of the optimum::

    max  −Σ { x_j : allocation column j is of a (pot, area) pair used by the optimum or an earlier alternative }
    s.t. every row of the level's model, and (family ``near_optimal``, two rows)
         c·x      ≥ (1 − ε) · z*          the objective within the tolerance
         Σ_alloc x ≥ (1 − ε) · S*          the money allocated, likewise

where ``c`` is the level's objective, ``z*`` its optimum, ``S*`` the money the optimum
allocates and ``ε = max(near_optimal, 1e-9)``. With ``near_optimal = 0`` (the default) the
alternatives lie on the optimal face itself, with the relative slack of 1e-9 that the
lexicographic solve already allows (:data:`optimiser.solve.OPTIMALITY_SLACK`): an
alternative is exactly as good as the optimum, to solver tolerance. A pair counts as used
when any plan so far puts money in it (after the penny settlement).

Two decisions beyond plain hop-skip-jump, both because of what it does on the example:

* **Money is not left idle.** Without the second row, "less money in the pairs used" is
  also met by spending less: with ``near_optimal = 0.01`` every alternative left £23m idle
  for 1% fewer outcomes. An alternative re-places the optimum's money instead.
* **Pairs used before are told apart.** The optimum of the example funds every one of the
  110 (pot, area) pairs its rules allow, so "money in the pairs used" is all the money and
  says nothing: the solver's tie-breaks then handed back the optimum itself. So, second
  (the slot least disruption takes in a level's model), each pair's money is weighted by
  its share of the money of each plan so far, summed over the plans (the SPORES weighting of
  Lombardi et al.): money moves from the pairs the earlier plans leaned on most towards the
  ones they used least. Where some pairs are unused, the first objective already sends
  money there, as plain hop-skip-jump does.

Last, the soonest-expiring tie-break chooses among what is left, so an alternative is the
same run after run and with either solver. Each is settled to the penny inside every
ceiling as the levels are (:func:`optimiser.levels.settle`).

How different an alternative is: ``share_outside_optimum``, the share of its money in
(pot, area) pairs the optimum did not use (0: the same pairs); ``share_outside_earlier``,
the same against every plan before it; ``share_reallocated``, the money in a different
pair from the optimum's, ``½ Σ |alternative − optimum|`` over (pot, area) pairs, as a share
of the optimum's money (0: the same amounts in every pair). An alternative that repeats the
optimum (all three 0) says the optimum is the only plan within the tolerance.

``z*`` is the primary optimum. With ``near_optimal > 0`` and least disruption on, the level's
own plan may sit below it (it is the closest to today within the tolerance), so the primary
alone is solved once more for ``z*``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from commissioning.case.model import Case
from commissioning.errors import SolverError

from optimiser.build import create_model
from optimiser.levels import LevelResult, RunResult, allocations_from, level_totals, settle
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame
from optimiser.objective import MEASURE
from optimiser.solve import OPTIMALITY_SLACK, finished, solve

ALTERNATIVE_LEVELS = ("aligned", "pooled")
PAIR = ["pot_code", "area_code"]
Progress = Callable[[str], None]


@dataclass
class Alternative:
    """One near-optimal alternative of a level: its plan and how it compares with the optimum."""

    level: str
    number: int  # 1..N
    status: str  # optimal | time_limit
    allocations: pd.DataFrame  # optimiser.levels.ALLOCATION_COLUMNS
    totals: dict[str, float]
    objective_value: float  # natural units (outcomes, £ of value, participants)
    share_of_optimum: float  # objective_value / the level's optimum
    share_outside_optimum: float  # share of its money in (pot, area) pairs the optimum did not use
    share_outside_earlier: float  # … that neither the optimum nor an earlier alternative used
    share_reallocated: float  # ½ Σ |alternative − optimum| over (pot, area) pairs ÷ the optimum's money


def tolerance(case: Case) -> float:
    """ε: how far below the optimum an alternative's objective may be, as a share of it."""
    return max(float(case.settings.near_optimal), OPTIMALITY_SLACK)


def _pairs(alloc: pd.DataFrame) -> set[tuple[str, str]]:
    if alloc.empty:
        return set()
    used = alloc[alloc["amount"] > 0]
    return set(zip(used["pot_code"], used["area_code"]))


def _share_outside(alloc: pd.DataFrame, pairs: set[tuple[str, str]]) -> float:
    total = float(alloc["amount"].sum())
    if total <= 0:
        return 0.0
    inside = np.fromiter(((p, a) in pairs for p, a in zip(alloc["pot_code"], alloc["area_code"])), dtype=bool,
                         count=len(alloc))
    return float(alloc["amount"].to_numpy()[~inside].sum()) / total


def mga_model(lp: LinearProgram, objective: np.ndarray, second: np.ndarray | None, floor: float, spend: float,
              epsilon: float) -> LinearProgram:
    """A copy of ``lp`` (its blocks shared, not changed) that maximises ``objective`` and then ``second``
    subject to ``lp``'s rows, ``c·x ≥ floor`` (``c`` being ``lp``'s own objective) and the money
    allocated ``≥ spend`` (family ``near_optimal``, two rows)."""
    copy = replace(lp, objective=np.asarray(objective, dtype=float), objective_scale=1.0, blocks=list(lp.blocks),
                   near_optimal=0.0, disruption=second)
    nz = np.flatnonzero(lp.objective)
    money = np.flatnonzero((lp.variables["kind"] == "alloc").to_numpy())
    copy.add("near_optimal", meaning_frame(2, description=[f"the objective within {epsilon:g} of the optimum",
                                                           f"money allocated within {epsilon:g} of the optimum's"]),
             np.concatenate([np.zeros(len(nz), dtype=np.int64), np.ones(len(money), dtype=np.int64)]),
             np.concatenate([nz, money]), np.concatenate([lp.objective[nz], np.ones(len(money))]),
             np.array([floor, spend]), np.inf)
    return copy


def _pair_money(alloc: pd.DataFrame) -> pd.Series:
    return alloc.groupby(PAIR, sort=False)["amount"].sum() if len(alloc) else pd.Series(dtype=float)


def _share_reallocated(alloc: pd.DataFrame, optimum: pd.Series) -> float:
    """½ Σ |alternative − optimum| over (pot, area) pairs, as a share of the optimum's money."""
    mine = _pair_money(alloc)
    index = optimum.index.union(mine.index)
    gap = (mine.reindex(index).fillna(0.0) - optimum.reindex(index).fillna(0.0)).abs().sum() / 2
    total = float(optimum.sum())
    return float(gap) / total if total > 0 else 0.0


def level_alternatives(case: Case, result: LevelResult, n: int, solver: str, time_limit: float | None = None,
                       progress: Progress | None = None) -> list[Alternative]:
    """``n`` alternatives of one solved level (see the module docstring)."""
    if n <= 0:
        return []
    say = progress or (lambda _: None)
    lp = result.lp if result.lp is not None else create_model(case, pool=result.pool)
    measure = MEASURE[lp.objective_name]
    x_opt = result.solution.x if result.solution is not None else np.zeros(lp.n)
    z_star = float(lp.objective @ x_opt)
    if lp.near_optimal > 0:
        primary = solve(lp, solver=solver, time_limit=time_limit, lexicographic=False)
        if primary.status in ("optimal", "time_limit"):
            z_star = max(z_star, float(lp.objective @ primary.x))
    epsilon = tolerance(case)
    floor = z_star - epsilon * abs(z_star)
    optimum_natural = z_star * lp.objective_scale
    spend = float(result.allocations["amount"].sum()) / MONEY_SCALE
    spend -= epsilon * abs(spend)
    alloc_cols = (lp.variables["kind"] == "alloc").to_numpy()
    pair_of = pd.MultiIndex.from_frame(lp.variables[PAIR].astype(object))
    optimum_pairs = _pairs(result.allocations)
    optimum_money = _pair_money(result.allocations)
    used = set(optimum_pairs)
    weight = pd.Series(0.0, index=pd.MultiIndex.from_tuples([], names=PAIR))
    weight = _add_shares(weight, result.allocations)
    warm = result.solution.warm if result.solution is not None else None
    out: list[Alternative] = []
    for k in range(1, n + 1):
        say(f"alternative {k} of {n} for the {result.level} level")
        in_used = np.fromiter((pair in used for pair in pair_of), dtype=bool, count=lp.n) & alloc_cols
        c = np.where(in_used, -1.0, 0.0)  # maximise −(money in the pairs used so far)
        w = weight.reindex(pair_of).fillna(0.0).to_numpy()
        second = np.where(alloc_cols, -w, 0.0)
        model = mga_model(lp, c, second if np.any(second) else None, floor, spend, epsilon)
        sol = solve(model, solver=solver, time_limit=time_limit, warm=warm)
        if sol.status not in ("optimal", "time_limit"):
            other = "highs" if solver == "cbc" else "cbc"
            raise SolverError(f"alternative {k} of the {result.level} level could not be solved ({sol.status} "
                              f"{sol.message}".strip() + "); the optimum itself meets every row, so this is numerical "
                              f"trouble in the solver: try --solver {other}")
        finished(sol, f"alternative {k} of the {result.level} level")
        alloc = allocations_from(lp.variables, settle(lp, sol.x), case)
        totals = level_totals(case, alloc)
        value = float(totals[measure])
        out.append(Alternative(
            result.level, k, sol.status, alloc, totals, value,
            value / optimum_natural if abs(optimum_natural) > 1e-12 else 1.0,
            _share_outside(alloc, optimum_pairs), _share_outside(alloc, used),
            _share_reallocated(alloc, optimum_money)))
        used |= _pairs(alloc)
        weight = _add_shares(weight, alloc)
        warm = sol.warm or warm
    return out


def _add_shares(weight: pd.Series, alloc: pd.DataFrame) -> pd.Series:
    """``weight`` plus each (pot, area) pair's share of ``alloc``'s money."""
    money = _pair_money(alloc)
    total = float(money.sum())
    if total <= 0:
        return weight
    return weight.add(money / total, fill_value=0.0)


def run_alternatives(run: RunResult, n: int, progress: Progress | None = None) -> dict[str, list[Alternative]]:
    """``n`` alternatives of each solved level of ``run`` (aligned, then pooled)."""
    return {level: level_alternatives(run.case, run.levels[level], n, run.solver, run.time_limit, progress)
            for level in ALTERNATIVE_LEVELS}


ALTERNATIVE_COLUMNS = ["level", "alternative", "pot_code", "area_code", "cohort_code", "year", "programme", "amount",
                       "participants", "outcomes", "value", "objective_value", "share_of_optimum",
                       "share_outside_optimum", "share_reallocated", "status"]


def alternatives_frame(alternatives: dict[str, list[Alternative]]) -> pd.DataFrame:
    """alternatives.csv: one row per level, alternative, pot, area, cohort, year and programme with money."""
    frames = []
    for level in ALTERNATIVE_LEVELS:
        for a in alternatives.get(level, []):
            frames.append(a.allocations.assign(level=level, alternative=a.number, objective_value=a.objective_value,
                                               share_of_optimum=a.share_of_optimum,
                                               share_outside_optimum=a.share_outside_optimum,
                                               share_reallocated=a.share_reallocated, status=a.status))
    if not frames:
        return pd.DataFrame(columns=ALTERNATIVE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[ALTERNATIVE_COLUMNS]
