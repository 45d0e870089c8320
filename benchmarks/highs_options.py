"""HiGHS options and warm starts, measured on our aligned LP.

``python -m benchmarks.highs_options [SIZE] [--case DIR] [--only NAME,...] [--time-limit S]``

Every experiment starts from ``optimiser.solve.highs_model(lp)`` — our matrix, our
options (no output, ``random_seed`` 0) — and changes one thing:

options (each a cold solve of the same LP):
  ``default``        HiGHS's choice (dual simplex here);
  ``dual``           ``solver=simplex``, ``simplex_strategy=1`` (serial dual);
  ``primal``         ``solver=simplex``, ``simplex_strategy=4``;
  ``dual-pami``      ``simplex_strategy=2`` (parallel dual, 2 threads) — not run by default;
  ``ipm``            ``solver=ipm`` (IPX) with crossover;
  ``ipm-nox``        ``solver=ipm``, ``run_crossover=off``;
  ``presolve-off``   default solver, ``presolve=off``;
  ``pounds``         default solver, money modelled in £ instead of £ thousands.

warm starts (each against a cold solve of the changed LP):
  ``budget``   after the default solve, one pot-year budget +10% (``changeRowBounds``);
  ``ask``      an add-cohort ask: new rows (``addRows``) and columns (``addCols``) added
               to the solved model in place;
  ``ask-basis`` the same ask built from scratch (``create_model``) with the old optimal
               basis mapped onto it by meaning (``setBasis``) — what ``commissioning.analysis.asks``
               could do without keeping a model around;
  ``pooled``   the pooled LP started from the aligned basis (``setBasis``), vs cold;
  ``ipm-warm`` a cold solve by interior point + crossover, then warm simplex re-solves
               (a budget +10%, and the lexicographic phase two) from its basis;
  ``asks-run`` (needs ``--run``) the product's path for the run's top candidates, pool asks
               included: cold through ``optimiser.solve.solve``, then warm through the
               level's own ``WarmStart`` with each simplex strategy — not run by default;
  ``asks-top`` (needs ``--run``) the run's best-priced candidates of any kind, each cold
               and warm from the mapped basis — not run by default.

Each line: wall and CPU seconds, iterations (simplex / IPM / crossover), status, the
objective's relative difference from ``default`` (or from the changed LP's cold solve)
and the largest primal infeasibility.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

OPTIONS = {
    "default": {},
    "dual": {"solver": "simplex", "simplex_strategy": 1},
    "primal": {"solver": "simplex", "simplex_strategy": 4},
    "dual-pami": {"solver": "simplex", "simplex_strategy": 2, "threads": 2, "parallel": "on"},
    "ipm": {"solver": "ipm", "run_crossover": "on"},
    "ipm-nox": {"solver": "ipm", "run_crossover": "off"},
    "presolve-off": {"presolve": "off"},
}
DEFAULT_RUN = ["default", "dual", "ipm", "ipm-nox", "presolve-off", "pounds", "budget", "ipm-warm", "ask",
               "ask-basis", "pooled", "primal"]
STRATEGY = {1: "dual", 4: "primal"}
COL_KEY = ["kind", "pot_code", "area_code", "cohort_code", "year", "programme", "budget_year"]
ROW_KEY = ["family", "pot_code", "area_code", "cohort_code", "year", "rule_index"]


def _keys(frame: pd.DataFrame, cols: list[str]) -> list[tuple]:
    f = frame[cols].astype(object)
    f = f.where(f.notna(), None)
    return list(f.itertuples(index=False, name=None))


def run_timed(h, time_limit: float | None) -> dict:
    if time_limit:
        h.setOptionValue("time_limit", float(time_limit))
    w, c = time.perf_counter(), time.process_time()
    h.run()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    info = h.getInfo()
    return {"wall": wall, "cpu": cpu, "status": h.modelStatusToString(h.getModelStatus()),
            "simplex": info.simplex_iteration_count, "ipm": info.ipm_iteration_count,
            "crossover": info.crossover_iteration_count, "objective": info.objective_function_value,
            "primal_inf": info.max_primal_infeasibility, "dual_inf": info.max_dual_infeasibility}


def report(name: str, r: dict, ref: float | None, note: str = "") -> None:
    rel = abs(r["objective"] - ref) / max(1.0, abs(ref)) if ref is not None else float("nan")
    print(f"{name:<28} {r['wall']:8.1f} {r['cpu']:8.1f} {r['simplex']:>8,} {r['ipm']:>5} {r['crossover']:>7,} "
          f"{r['status']:<10} {rel:9.1e} {r['primal_inf']:9.1e}  {note}", flush=True)


def pounds_model(lp):
    """The same LP with money in £: need-cap coefficients and the objective ÷1000, money rows' bounds ×1000."""
    import highspy

    from optimiser.lp import MONEY_SCALE

    A, lo, up, registry = lp.matrix()
    A = A.tocsr().astype(float)
    money_rows = registry["family"].isin(["pot_budget", "carry_forward", "match", "rule"]).to_numpy()
    scale_rows = np.where(money_rows, 1.0, 1.0 / MONEY_SCALE)  # need-cap coefficients per £, not per £k
    A = (sp_diag(scale_rows) @ A).tocsc()
    lo = np.where(money_rows, lo * MONEY_SCALE, lo)
    up = np.where(money_rows, up * MONEY_SCALE, up)
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    m = highspy.HighsLp()
    m.num_col_, m.num_row_ = lp.n, A.shape[0]
    m.sense_ = highspy.ObjSense.kMaximize
    m.col_cost_ = lp.objective / MONEY_SCALE
    m.col_lower_ = np.zeros(lp.n)
    m.col_upper_ = np.full(lp.n, inf)
    m.row_lower_ = np.where(np.isinf(lo), -inf, lo)
    m.row_upper_ = np.where(np.isinf(up), inf, up)
    m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    m.a_matrix_.start_ = A.indptr.astype(np.int32)
    m.a_matrix_.index_ = A.indices.astype(np.int32)
    m.a_matrix_.value_ = A.data
    m.a_matrix_.num_col_, m.a_matrix_.num_row_ = lp.n, A.shape[0]
    h.passModel(m)
    return h


def sp_diag(v):
    import scipy.sparse as sp

    return sp.diags(v)


def warm_runs(lp, base, lp2, strategies, time_limit):
    """``lp2`` solved from ``base``'s basis (mapped by domain keys) with each simplex strategy.

    Yields (strategy, run_timed result, basis consistent?, setBasis status, build+map seconds).
    """
    from optimiser.solve import highs_model

    for strategy in strategies:
        t = time.perf_counter()
        h2 = highs_model(lp2)
        h2.setOptionValue("simplex_strategy", strategy)
        b, ok = mapped_basis(lp, base.getBasis(), lp2)
        st = h2.setBasis(b)
        prep = time.perf_counter() - t
        yield strategy, run_timed(h2, time_limit), ok, st, prep
        del h2


def mapped_basis(old_lp, old_basis, new_lp):
    """The old optimal basis carried over to a new LP by meaning: new columns at 0, new rows' slacks basic."""
    import highspy

    S = highspy.HighsBasisStatus
    old_cols = {k: i for i, k in enumerate(_keys(old_lp.variables, COL_KEY))}
    _, _, _, old_reg = old_lp.matrix()
    _, _, _, new_reg = new_lp.matrix()
    old_rows = {k: i for i, k in enumerate(_keys(old_reg, ROW_KEY))}
    cs, rs = list(old_basis.col_status), list(old_basis.row_status)
    b = highspy.HighsBasis()
    b.col_status = [cs[old_cols[k]] if k in old_cols else S.kLower for k in _keys(new_lp.variables, COL_KEY)]
    b.row_status = [rs[old_rows[k]] if k in old_rows else S.kBasic for k in _keys(new_reg, ROW_KEY)]
    b.valid = True
    n_basic = sum(s == S.kBasic for s in b.col_status) + sum(s == S.kBasic for s in b.row_status)
    ok = n_basic == len(b.row_status)
    b.alien = not ok  # rows removed (a rule relaxed): let HiGHS complete the basis itself
    return b, ok


def pick_ask(case, lp, run=None):
    """The ask to re-solve: the best-priced add-cohort/add-area candidate of a solved run
    (``--run``), else the broadest pot that may not fund some cohort."""
    from commissioning.analysis.asks import Candidate, candidates

    if run is not None:
        cands = [c for c in candidates(run) if c.change in ("add_cohort", "add_area")]
        if cands:
            return max(cands, key=lambda c: c.estimate)

    best = None
    for p in case.pots:
        if p.match_rate > 0:
            continue
        missing = [c for c in case.cohort if c not in case.pot_cohorts[p.code]]
        if not missing:
            continue
        size = len(case.pot_areas[p.code])
        if best is None or size > best[0]:
            best = (size, p.code, missing[0])
    return Candidate("add_cohort", best[1], cohort_code=best[2])


def add_in_place(h, lp, lp2):
    """Add lp2's new rows and columns to h (which holds lp); return the seconds it took."""
    t = time.perf_counter()
    A2, lo2, up2, reg2 = lp2.matrix()
    _, lo1, up1, reg1 = lp.matrix()
    old_rows = {k: i for i, k in enumerate(_keys(reg1, ROW_KEY))}
    keys2 = _keys(reg2, ROW_KEY)
    row_map = np.empty(len(keys2), dtype=np.int64)
    new_rows = []
    m = h.getNumRow()
    for i, k in enumerate(keys2):
        j = old_rows.get(k)
        if j is None:
            row_map[i] = m + len(new_rows)
            new_rows.append(i)
        else:
            row_map[i] = j
            if lo1[j] != lo2[i] or up1[j] != up2[i]:
                h.changeRowBounds(int(j), _hinf(lo2[i]), _hinf(up2[i]))
    if new_rows:
        nr = np.array(new_rows)
        h.addRows(len(nr), np.array([_hinf(x) for x in lo2[nr]]), np.array([_hinf(x) for x in up2[nr]]), 0,
                  np.zeros(len(nr) + 1, dtype=np.int32)[:len(nr)], np.zeros(0, dtype=np.int32), np.zeros(0))
    old_cols = set(_keys(lp.variables, COL_KEY))
    new_cols = np.array([i for i, k in enumerate(_keys(lp2.variables, COL_KEY)) if k not in old_cols], dtype=np.int64)
    C = A2.tocsc()[:, new_cols]
    idx = row_map[C.indices].astype(np.int32)
    h.addCols(len(new_cols), lp2.objective[new_cols].astype(float), np.zeros(len(new_cols)),
              np.full(len(new_cols), _hinf(np.inf)), C.nnz, C.indptr[:-1].astype(np.int32), idx, C.data.astype(float))
    return time.perf_counter() - t, len(new_rows), len(new_cols)


def _hinf(x: float) -> float:
    import highspy

    if np.isposinf(x):
        return highspy.kHighsInf
    if np.isneginf(x):
        return -highspy.kHighsInf
    return float(x)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.highs_options")
    ap.add_argument("size", nargs="?", default="national")
    ap.add_argument("--case", type=Path)
    ap.add_argument("--only", help="comma-separated experiments (default: " + ",".join(DEFAULT_RUN) + ")")
    ap.add_argument("--time-limit", type=float, default=1200.0, help="seconds per solve")
    ap.add_argument("--warm-strategies", default="1,4",
                    help="simplex strategies for the warm re-solves (1 dual, 4 primal); default both")
    ap.add_argument("--top-asks", type=int, default=3, help="asks-top: how many candidates")
    ap.add_argument("--run", type=Path, help="a pickled RunResult of the same case: the ask is its best candidate")
    args = ap.parse_args(argv)
    from benchmarks.generate import generate
    from commissioning.inputs.validate import load_case
    from commissioning.analysis.asks import apply_candidate
    from optimiser.build import create_model
    from optimiser.levels import default_pool
    from optimiser.solve import highs_model

    import os

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    case = load_case(args.case) if args.case else generate(args.size)
    lp = create_model(case)
    s = lp.size
    print(f"aligned LP: {s['variables']:,} variables, {s['rows']:,} rows, {s['nonzeros']:,} nonzeros")
    wanted = args.only.split(",") if args.only else DEFAULT_RUN
    print(f"{'experiment':<28} {'wall s':>8} {'cpu s':>8} {'simplex':>8} {'ipm':>5} {'xover':>7} {'status':<10} "
          f"{'rel diff':>9} {'max pinf':>9}  note")
    ref = None
    base = None  # the solved default model, for warm starts
    tl = args.time_limit
    strategies = [int(x) for x in args.warm_strategies.split(",")]
    for name in wanted:
        if name in OPTIONS:
            h = highs_model(lp)
            for k, v in OPTIONS[name].items():
                h.setOptionValue(k, v)
            r = run_timed(h, tl)
            if name == "default":
                ref, base = r["objective"], h
            report(name, r, ref if ref is not None else r["objective"])
        elif name == "pounds":
            r = run_timed(pounds_model(lp), tl)
            report(name, r, ref, "money in £ (coefficients ~1e-3)")
        elif name in ("budget", "ask", "ask-basis", "pooled", "asks-top", "ipm-warm", "asks-run"):
            if base is None and name != "asks-run":
                base = highs_model(lp)
                r = run_timed(base, tl)
                ref = r["objective"]
                report("default (for warm starts)", r, ref)
            if name == "budget":
                _, lo, up, reg = lp.matrix()
                duals = np.asarray(base.getSolution().row_dual)
                rows = np.flatnonzero((reg["family"] == "pot_budget").to_numpy())
                r_ = int(rows[np.argmax(np.abs(duals[rows]))])
                new_up = up[r_] * 1.1
                base.changeRowBounds(r_, _hinf(lo[r_]), new_up)
                warm = run_timed(base, tl)
                cold_h = highs_model(lp)
                cold_h.changeRowBounds(r_, _hinf(lo[r_]), new_up)
                cold = run_timed(cold_h, tl)
                report("budget +10%: cold", cold, cold["objective"], reg.loc[r_, "description"])
                report("budget +10%: warm", warm, cold["objective"], "changeRowBounds on the solved model")
                base.changeRowBounds(r_, _hinf(lo[r_]), float(up[r_]))
                back = run_timed(base, tl)
                report("budget restored: warm", back, ref)
                del cold_h
            elif name in ("ask", "ask-basis"):
                run = None
                if args.run:
                    import pickle

                    with open(args.run, "rb") as fh:
                        run = pickle.load(fh)
                cand = pick_ask(case, lp, run)
                t = time.perf_counter()
                lp2 = create_model(apply_candidate(case, cand))
                t_build = time.perf_counter() - t
                cold_h = highs_model(lp2)
                cold = run_timed(cold_h, tl)
                note = (f"{cand.change} {cand.cohort_code or cand.area_code} to {cand.pot_code}: "
                        f"+{lp2.n - lp.n:,} columns; "
                        f"create_model {t_build:.1f} s")
                report(f"{name}: cold", cold, cold["objective"], note)
                del cold_h
                if name == "ask":
                    h2 = highs_model(lp)
                    h2.setBasis(base.getBasis())
                    seconds, nr, nc = add_in_place(h2, lp, lp2)
                    warm = run_timed(h2, tl)
                    report("ask: warm, addRows/addCols", warm, cold["objective"],
                           f"{nr} rows and {nc:,} columns added in {seconds:.1f} s")
                    del h2
                else:
                    t = time.perf_counter()
                    h2 = highs_model(lp2)
                    b, ok = mapped_basis(lp, base.getBasis(), lp2)
                    st = h2.setBasis(b)
                    prep = time.perf_counter() - t
                    warm = run_timed(h2, tl)
                    report("ask-basis: warm, setBasis", warm, cold["objective"],
                           f"basis mapped by meaning ({'consistent' if ok else 'INCONSISTENT'}, {st}); "
                           f"build+map {prep:.1f} s")
                    del h2
            elif name == "ipm-warm":
                # Cold solve by interior point + crossover (a basis comes out of crossover), then
                # warm re-solves by simplex: a budget +10%, and the lexicographic phase two.
                h = highs_model(lp)
                h.setOptionValue("solver", "ipm")
                cold = run_timed(h, tl)
                report("ipm + crossover: cold", cold, ref)
                h.setOptionValue("solver", "choose")
                _, lo, up, reg = lp.matrix()
                duals = np.asarray(h.getSolution().row_dual)
                rows = np.flatnonzero((reg["family"] == "pot_budget").to_numpy())
                r_ = int(rows[np.argmax(np.abs(duals[rows]))])
                h.changeRowBounds(r_, _hinf(lo[r_]), up[r_] * 1.1)
                warm = run_timed(h, tl)
                report("  then budget +10%: warm", warm, None, f"simplex from the crossover basis; {reg.loc[r_, 'description']}")
                h.changeRowBounds(r_, _hinf(lo[r_]), float(up[r_]))
                back = run_timed(h, tl)
                report("  budget restored: warm", back, ref)
                z = float(lp.objective @ np.asarray(h.getSolution().col_value))
                nz = np.flatnonzero(lp.objective)
                h.addRow(z - 1e-9 * max(1.0, abs(z)), _hinf(np.inf), len(nz), nz.astype(np.int32),
                         lp.objective[nz].astype(float))
                h.changeColsCost(lp.n, np.arange(lp.n, dtype=np.int32), lp.tiebreak.astype(float))
                p2 = run_timed(h, tl)
                report("  lexicographic phase 2", p2, None, "tie-break objective, primary held")
                del h
            elif name == "asks-top":
                # The run's best-priced candidates of any kind, each built afresh and solved cold,
                # then warm from the old basis mapped by meaning.
                import pickle

                from commissioning.analysis.asks import candidates

                with open(args.run, "rb") as fh:
                    run = pickle.load(fh)
                cands = sorted((c for c in candidates(run) if not c.pool_against), key=lambda c: -c.estimate)
                for cand in cands[:args.top_asks]:
                    t = time.perf_counter()
                    lp2 = create_model(apply_candidate(case, cand))
                    t_build = time.perf_counter() - t
                    cold = run_timed(highs_model(lp2), tl)
                    report(f"{cand.change} {cand.pot_code}: cold", cold, cold["objective"],
                           f"gain {cold['objective'] - ref:+,.1f}; {lp2.n - lp.n:+,} columns; "
                           f"create_model {t_build:.1f} s")
                    for strategy, warm, ok, st, prep in warm_runs(lp, base, lp2, strategies, tl):
                        report(f"{cand.change} {cand.pot_code}: warm {STRATEGY[strategy]}", warm, cold["objective"],
                               f"setBasis ({'consistent' if ok else 'alien'}, {st}); build+map {prep:.1f} s")
                    if cand.change == "relax_rule":
                        # Relaxing a rule in place: open its rows' bounds instead of removing them.
                        h3 = highs_model(lp)
                        h3.setOptionValue("simplex_strategy", strategies[-1])
                        h3.setBasis(base.getBasis())
                        _, _, _, reg = lp.matrix()
                        rows = np.flatnonzero(((reg["family"] == "rule") &
                                               (reg["rule_index"] == cand.rule_index)).to_numpy())
                        for r_ in rows:
                            h3.changeRowBounds(int(r_), -_hinf(np.inf), _hinf(np.inf))
                        warm = run_timed(h3, tl)
                        report(f"{cand.change} {cand.pot_code}: in place {STRATEGY[strategies[-1]]}", warm,
                               cold["objective"],
                               f"changeRowBounds(-inf, inf) on {len(rows)} rows of the solved model")
                        del h3
            elif name == "asks-run":
                # The product's own path: the run's top candidates (pool asks included), each
                # cold as ``optimiser.solve.solve`` does it, then warm from the level's own
                # ``WarmStart`` (the basis mapped by domain keys) with each simplex strategy.
                import pickle

                from commissioning.analysis.asks import candidates
                from optimiser.solve import solve

                with open(args.run, "rb") as fh:
                    run = pickle.load(fh)
                cands = sorted(candidates(run), key=lambda c: (-c.estimate, c.change, c.pot_code or "",
                                                               c.area_code or "", c.cohort_code or ""))
                for cand in cands[:args.top_asks]:
                    level = run.levels["pooled" if cand.pool_against else "aligned"]
                    pool = frozenset(run.pool | {cand.pot_code}) if cand.pool_against else frozenset()
                    lp2 = create_model(apply_candidate(case, cand), pool=pool)
                    w, c = time.perf_counter(), time.process_time()
                    sol = solve(lp2, solver="highs", lexicographic=False)
                    cold = {"wall": time.perf_counter() - w, "cpu": time.process_time() - c, "status": sol.status,
                            "simplex": int(sol.timings.get("iterations", 0)), "ipm": 0, "crossover": 0,
                            "objective": sol.objective / lp2.objective_scale, "primal_inf": 0.0}
                    report(f"{cand.change} {cand.pot_code}: cold (solve)", cold, cold["objective"],
                           f"{lp2.n:,} columns; gain {sol.objective - level.solution.objective:+,.1f}; "
                           "optimiser.solve.solve as the product runs it cold")
                    for strategy in strategies:
                        h2, reg = highs_model(lp2, with_registry=True)
                        h2.setOptionValue("simplex_strategy", strategy)
                        ok = level.solution.warm.apply(lp2, reg, h2)
                        warm = run_timed(h2, tl)
                        report(f"{cand.change} {cand.pot_code}: warm {STRATEGY[strategy]}", warm, cold["objective"],
                               f"the {level.level} level's WarmStart.apply ({ok})")
                        del h2
            elif name == "pooled":
                pool = default_pool(case)
                lp2 = create_model(case, pool=pool)
                cold = run_timed(highs_model(lp2), tl)
                report("pooled: cold", cold, cold["objective"],
                       f"{lp2.n:,} columns, {lp2.size['rows']:,} rows")
                for strategy, warm, ok, st, prep in warm_runs(lp, base, lp2, strategies, tl):
                    report(f"pooled: warm {STRATEGY[strategy]}", warm, cold["objective"],
                           f"from the aligned basis, setBasis ({'consistent' if ok else 'INCONSISTENT'}, {st}); "
                           f"map {prep:.1f} s")
        else:
            print(f"unknown experiment {name}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
