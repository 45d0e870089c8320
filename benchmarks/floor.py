"""The floor: the aligned LP built straight from the Case as one sparse matrix, for highspy.

No modelling layer at all — no variable table, no registry of meanings, no blocks: integer
codes (``pandas.factorize``, i.e. hashing), numpy arithmetic and one ``scipy.sparse``
matrix handed to ``highspy.Highs.passModel``. It is the same LP as
:func:`optimiser.build.create_model` (aligned level), written independently from the
case-format contract and the family docstrings:

* columns: one per eligible (pot, area, cohort, year) with need
  (``case.eligibility.cells()``), then one carry-forward flow per pot with carry-forward,
  budget year with money and spending year; one auxiliary column (total participants)
  only when ``equity_floor > 0``;
* objective: outcomes (``1000 · rate / unit cost`` per £k), value or coverage;
* rows, in the same family order as ours: pot budgets (use-it-or-lose-it pots), supply
  rows of carry-forward pots, carry-forward balance rows, need caps, match (per area and
  year), ``rules`` rows (min/max share and amount, ``ALL`` expanded as ours does), and the
  equity floor.

Columns and rows come in the same order as ours (groups numbered by first appearance), so
that both solves start from the same LP and the difference between the two is the cost of
the modelling layer, not luck in the simplex path. Only the first (primary) phase is
solved: the floor has no lexicographic tie-break. The HiGHS options are ours for a cold
solve of that size (:func:`ours_options`: interior point with crossover above
``optimiser.solve.IPM_ABOVE`` columns, else HiGHS's default dual simplex).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commissioning.case.model import ALL, Case

K = 1000.0  # model money unit: £ thousands, as ours


@dataclass
class FloorLP:
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    cost: np.ndarray
    n_alloc: int
    n_flow: int
    families: dict[str, int]  # rows per family, in order
    seconds: float = 0.0


def group(*arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number distinct key tuples by first appearance: (code of each line, first line of each group)."""
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for a in arrays:
        c, u = pd.factorize(a)
        key = key * (len(u) + 1) + c
    codes, u = pd.factorize(key)
    first = np.empty(len(u), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return codes.astype(np.int64), first


def build_floor(case: Case) -> FloorLP:
    t0 = time.perf_counter()
    cells = case.eligibility.cells(with_need_only=True)
    n = len(cells)
    pot = cells["pot_code"].to_numpy(dtype=object)
    area = cells["area_code"].to_numpy(dtype=object)
    cohort = cells["cohort_code"].to_numpy(dtype=object)
    year = cells["year"].to_numpy(dtype=object)
    uc = cells["unit_cost"].to_numpy(dtype=float)
    rate = cells["outcome_rate"].to_numpy(dtype=float)
    need = cells["need"].to_numpy(dtype=float)
    pots = case.pot
    cf_of = {p.code: p.carry_forward for p in case.pots}
    cf = np.fromiter((cf_of[p] for p in pot), dtype=np.int64, count=n)

    # Carry-forward flows y[p, s, t].
    fp, fs, ft = [], [], []
    years = set(case.years)
    for b in case.budgets:
        if cf_of[b.pot_code] <= 0 or b.amount <= 0:
            continue
        for t in case.spend_years(b.pot_code, b.year):
            if t in years:
                fp.append(b.pot_code)
                fs.append(b.year)
                ft.append(t)
    nf = len(fp)
    floor = case.settings.equity_floor
    naux = 1 if floor > 0 else 0
    ncol = n + nf + naux

    obj = case.settings.objective
    if obj == "outcomes":
        cost = K * rate / uc
    elif obj == "value":
        vpo = cells["value_per_outcome"].to_numpy(dtype=float)
        cost = K * rate * np.nan_to_num(vpo) / uc / 1000.0
    else:
        cost = K / uc
    cost = np.concatenate([cost, np.zeros(nf + naux)])

    R, Cc, V, lo, up = [], [], [], [], []
    fam: dict[str, int] = {}
    m = 0

    def add(name, rows, cols, vals, lower, upper, nrows):
        nonlocal m
        R.append(np.asarray(rows, dtype=np.int64) + m)
        Cc.append(np.asarray(cols, dtype=np.int64))
        V.append(np.asarray(vals, dtype=float))
        lo.append(np.broadcast_to(np.asarray(lower, dtype=float), (nrows,)))
        up.append(np.broadcast_to(np.asarray(upper, dtype=float), (nrows,)))
        fam[name] = fam.get(name, 0) + nrows
        m += nrows

    budget = case.budget
    # Use-it-or-lose-it pots: Σ x[p,·,·,t] <= B[p,t].
    idx = np.flatnonzero(cf == 0)
    if len(idx):
        codes, first = group(pot[idx], year[idx])
        rhs = np.array([budget.get((p, t), 0.0) for p, t in zip(pot[idx][first], year[idx][first])]) / K
        add("pot_budget", codes, idx, np.ones(len(idx)), -np.inf, rhs, len(first))
    if nf:
        fcols = n + np.arange(nf)
        fpa, fsa, fta = (np.array(x, dtype=object) for x in (fp, fs, ft))
        codes, first = group(fpa, fsa)
        rhs = np.array([budget.get((p, s), 0.0) for p, s in zip(fpa[first], fsa[first])]) / K
        add("pot_budget", codes, fcols, np.ones(nf), -np.inf, rhs, len(first))
        aidx = np.flatnonzero(cf > 0)
        codes, first = group(np.concatenate([pot[aidx], fpa]), np.concatenate([year[aidx], fta]))
        # An equality (optimiser.families.budget since 162ba1a): flows say exactly whose money is spent.
        add("carry_forward", codes, np.concatenate([aidx, fcols]),
            np.concatenate([np.ones(len(aidx)), -np.ones(nf)]), 0.0, 0.0, len(first))

    # Need caps: Σ 1000 x / u <= N per (area, cohort, year).
    codes, first = group(area, cohort, year)
    rhs = np.zeros(len(first))
    rhs[codes] = need
    per = K / uc
    add("need_cap", codes, np.arange(n), per, -np.inf, rhs, len(first))

    # Match per (area, year) where a match-needing pot can spend.
    m_of = {p.code: p.match_rate for p in case.pots}
    give_of = {p.code: p.can_match and p.match_rate == 0 for p in case.pots}
    mr = np.fromiter((m_of[p] for p in pot), dtype=float, count=n)
    gives = np.fromiter((give_of[p] for p in pot), dtype=bool, count=n)
    needs = mr > 0
    if needs.any():
        at, _ = group(area, year)
        in_scope = np.isin(at, at[needs])
        idx = np.flatnonzero((needs | gives) & in_scope)
        codes, first = group(at[idx])
        add("match", codes, idx, np.where(needs[idx], mr[idx], -1.0), -np.inf, 0.0, len(first))

    # Rules.
    rr, rc, rlo, rup = [], [], [], []
    for rule in case.rules:
        base = np.ones(n, dtype=bool)
        if rule.area_code != ALL:
            base &= np.isin(area, list(case.resolve_areas(rule.area_code)))
        if rule.cohort_code != ALL:
            base &= cohort == rule.cohort_code
        share = rule.rule in ("min_share", "max_share")
        for t in (case.years if rule.year == ALL else (rule.year,)):
            for p in (tuple(pots) if share and rule.pot_code == ALL else (rule.pot_code,)):
                mask = base & (year == t)
                if p != ALL:
                    mask &= pot == p
                if share:
                    b = budget.get((p, t), 0.0)
                    if b <= 0:
                        continue
                    bound = rule.value * b / K
                else:
                    bound = rule.value / K
                cols = np.flatnonzero(mask)
                if not len(cols):
                    continue
                rr.append(np.full(len(cols), len(rlo)))
                rc.append(cols)
                rlo.append(bound if rule.rule.startswith("min") else -np.inf)
                rup.append(np.inf if rule.rule.startswith("min") else bound)
    if rlo:
        add("rule", np.concatenate(rr), np.concatenate(rc), np.ones(sum(len(c) for c in rc)), np.array(rlo),
            np.array(rup), len(rlo))

    # Equity floor (only when asked for): S = Σ participants; each area >= e · N_a / N · S.
    if naux:
        s = n + nf
        add("equity_total", np.zeros(n + 1), np.append(np.arange(n), s), np.append(-per, 1.0), 0.0, 0.0, 1)
        _, first = group(area, cohort, year)
        na = pd.Series(need[first]).groupby(area[first], sort=False).sum()
        total = float(na.sum())
        if total > 0:
            order = [a for a in case.area if na.get(a, 0.0) > 0]
            row_of = {a: i for i, a in enumerate(order)}
            ar = np.array([row_of.get(a, -1) for a in area])
            keep = ar >= 0
            add("equity", np.concatenate([ar[keep], np.arange(len(order))]),
                np.concatenate([np.flatnonzero(keep), np.full(len(order), s)]),
                np.concatenate([per[keep], [-floor * na[a] / total for a in order]]), 0.0, np.inf, len(order))

    A = sp.csc_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(Cc))), shape=(m, ncol))
    A.sum_duplicates()
    return FloorLP(A, np.concatenate(lo), np.concatenate(up), cost, n, nf, fam, time.perf_counter() - t0)


def ours_options(n: int) -> dict:
    """The HiGHS options ``optimiser.solve`` uses for a cold solve of ``n`` columns.

    Interior point with crossover above ``optimiser.solve.IPM_ABOVE`` columns (when the
    product has that switch), HiGHS's default choice (dual simplex) below it.
    """
    try:
        from optimiser.solve import IPM_ABOVE
    except ImportError:
        return {}
    return {"solver": "ipm", "run_crossover": "on"} if n > IPM_ABOVE else {}


def floor_highs(f: FloorLP, options: dict | None = None):
    """A ``highspy.Highs`` holding the floor LP, with the options ours uses for a cold solve
    of this size (``ours_options``), then any given here."""
    import highspy

    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    for k, v in {**ours_options(f.A.shape[1]), **(options or {})}.items():
        h.setOptionValue(k, v)
    lp = highspy.HighsLp()
    ncol = f.A.shape[1]
    lp.num_col_ = ncol
    lp.num_row_ = f.A.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = f.cost
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.full(ncol, inf)
    lp.row_lower_ = np.where(np.isinf(f.row_lower), -inf, f.row_lower)
    lp.row_upper_ = np.where(np.isinf(f.row_upper), inf, f.row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = f.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = f.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = f.A.data
    lp.a_matrix_.num_col_ = ncol
    lp.a_matrix_.num_row_ = f.A.shape[0]
    h.passModel(lp)
    return h
