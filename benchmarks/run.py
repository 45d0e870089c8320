"""Time every phase of optimise in one process, against the floor.

``python -m benchmarks.run SIZE [--solver highs|cbc] [--case DIR] [--skip-floor] [--asks N]``

Without ``--case`` the case is generated (``benchmarks.generate``, in a subprocess so
that its memory is not counted) into a temporary folder. Then, in this one process:

1. **read + validate** — ``validate_path``;
2. **optimise** — ``optimise_case`` (baseline, aligned, pooled), with the build
   (``create_model``) and solve (``solve``: matrix transfer, phase one, the lexicographic
   phase two) of each level timed by wrapping the names ``optimiser.levels`` calls — the
   modules themselves are not changed;
3. **interpret** — ``explain_run`` without asks (flags, gaps, idle money, binding rows),
   then ``measure_asks`` with ``--asks N`` measured candidates (each one a build and a
   solve, timed the same way), then the package built from them (its solves counted apart),
   then what the CLI's explanation also measures: one re-solve per dropped cohort or area
   (``dropped_analysis``) and the price of each realism rule — all of it in "whole optimise"
   (until 3 December 2026 the package, the dropped cohorts and the realism prices were left
   out of it, so "end to end" here was shorter than the command's);
4. **write** — ``write_run_outputs`` into a temporary folder (CSV, JSON and
   ``results.xlsx`` when ``commissioning.writers.resultsbook`` exists);
5. **the floor** — the aligned LP built straight from the case with numpy/scipy
   (:mod:`benchmarks.floor`) and solved by highspy with our HiGHS options; its objective
   must equal ours (relative 1e-6).

Every phase reports wall-clock and CPU seconds (the machine is shared: CPU seconds are
the steadier figure when it is busy) and the peak resident memory so far (``ru_maxrss``).
The floor runs last, so the peak before it is ours alone. The load average at the start
and end is printed: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import commissioning  # noqa: F401  (before numpy, as in the CLI: one BLAS thread, see its __init__)
import numpy as np

RECORDS: list[dict] = []  # every timed call: phase, name, wall, cpu, extra


def cpu_seconds() -> float:
    """CPU seconds of this process and of finished child processes (CBC runs as a child)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextmanager
def timed(name: str, **extra):
    rec = {"name": name, **extra}
    w, c = time.perf_counter(), cpu_seconds()
    try:
        yield rec
    finally:
        rec["wall"] = time.perf_counter() - w
        rec["cpu"] = cpu_seconds() - c
        rec["peak_mb"] = peak_mb()
        RECORDS.append(rec)


def _wrap(module, attr: str, label):
    """Replace ``module.attr`` with a timing wrapper; ``label(args, kwargs, result)`` names each call."""
    orig = getattr(module, attr)

    def wrapper(*args, **kwargs):
        w, c = time.perf_counter(), cpu_seconds()
        out = orig(*args, **kwargs)
        rec = {"name": attr, "wall": time.perf_counter() - w, "cpu": cpu_seconds() - c, "peak_mb": peak_mb()}
        rec.update(label(args, kwargs, out))
        RECORDS.append(rec)
        return out

    setattr(module, attr, wrapper)
    return orig


def _instrument():
    import commissioning.analysis.asks as asks_mod
    import optimiser.levels as levels_mod

    def build_label(args, kwargs, lp):
        pool = kwargs.get("pool", args[1] if len(args) > 1 else frozenset())
        return {"level": "pooled" if pool and len(pool) >= 2 else "aligned", "size": lp.size}

    def solve_label(args, kwargs, sol):
        return {"timings": dict(sol.timings), "status": sol.status, "objective": sol.objective,
                "lexicographic": kwargs.get("lexicographic", True),
                "warm_started": getattr(sol, "warm_started", False)}

    for mod, where in ((levels_mod, "optimise"), (asks_mod, "asks")):
        _wrap(mod, "create_model", lambda a, k, out, where=where: {"where": where, **build_label(a, k, out)})
        _wrap(mod, "solve", lambda a, k, out, where=where: {"where": where, **solve_label(a, k, out)})


def machine() -> dict[str, str]:
    import pandas
    import pulp
    import scipy

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, StopIteration):
        pass
    from importlib.metadata import version

    return {"cpu": f"{cpu} × {os.cpu_count()}", "ram": mem, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pandas.__version__,
            "pulp": pulp.__version__, "highspy": version("highspy")}


def _fmt(rec) -> str:
    return f"{rec['wall']:9.2f} {rec['cpu']:9.2f} {rec['peak_mb']:9.0f}"


def main(argv: list[str] | None = None) -> int:
    from benchmarks.generate import ALIASES, SIZES

    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("size", help="district, ca (combined-authority) or national")
    ap.add_argument("--solver", choices=("highs", "cbc", "auto"), default="highs",
                    help="highs (default here), cbc, or auto (the product's choice by size)")
    ap.add_argument("--case", type=Path, help="an existing case folder or workbook (default: generate SIZE)")
    ap.add_argument("--skip-floor", action="store_true", help="do not build and solve the floor")
    ap.add_argument("--asks", type=int, default=12, help="asks to measure (the product's default is 12)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="processes for the asks (default: the product's, 2 above 10,000 cells on 2+ cores)")
    ap.add_argument("--pool-join-asks", type=int, default=None,
                    help="pool-join asks to measure (default: the product's, none above 100,000 pooled variables)")
    ap.add_argument("--aligned-only", action="store_true",
                    help="only read, build and solve the aligned LP (create_model + solve) and the floor, back to "
                         "back: the build+solve ratio without the rest of the run in between")
    ap.add_argument("--save-run", type=Path, help="pickle the RunResult here (for benchmarks.profile_build --run)")
    args = ap.parse_args(argv)
    size = ALIASES.get(args.size, args.size)
    if size not in SIZES:
        ap.error(f"unknown size {args.size}")
    load0 = os.getloadavg()
    info = machine()
    print(f"machine: {info['cpu']}, {info['ram']} RAM; Python {info['python']}, numpy {info['numpy']}, "
          f"scipy {info['scipy']}, pandas {info['pandas']}, PuLP {info['pulp']}, highspy {info['highspy']}")
    print(f"load average at start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")

    tmp = tempfile.TemporaryDirectory(prefix="bench-")
    case_path = args.case
    if case_path is None:
        case_path = Path(tmp.name) / f"{size}-case"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "benchmarks.generate", size, str(case_path)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"generated {size} case in {time.perf_counter() - t:.1f} s (subprocess) → {case_path}")

    _instrument()
    from commissioning.writers.results import write_run_outputs
    from commissioning.inputs.validate import validate_path
    from commissioning.analysis.asks import measure_asks
    from commissioning.analysis.explain import explain_run
    from commissioning.analysis.package import build_package
    from optimiser.levels import optimise_case

    base_mb = peak_mb()
    with timed("read+validate", phase="read"):
        v = validate_path(case_path)
    if not v.ok:
        print("the case is not valid:", *v.errors, sep="\n  ")
        return 2
    case = v.case
    if args.aligned_only:
        return aligned_only(case, args.solver, args.skip_floor, tmp)
    from commissioning.analysis.workers import for_case

    # As the CLI does: the asks' second process starts once the case is read.
    workers = for_case(args.jobs, len(case.eligibility.cells()))
    print(f"asks, dropped-cohort and realism re-solves made in {1 + workers.extra} process(es)")
    from commissioning.analysis.dropped import AlignedAhead, dropped_analysis
    from commissioning.analysis.explain import _realism

    # As the CLI does: the aligned level's dropped-cohort re-solves begin in the second process
    # while this one solves the pooled level, and are gathered first among the explanation's re-solves.
    ahead = AlignedAhead(workers)
    with timed("optimise_case", phase="optimise") as r_opt:
        run = optimise_case(case, solver=args.solver, after_level=ahead)
    begun = len(ahead.items)
    with timed("flags (explain_run without asks)", phase="interpret"):
        ex = explain_run(run, asks=False)
    # What the CLI's explanation measures besides the asks (until 3 December 2026 left out here,
    # so "end to end" was short of the CLI's): one re-solve per dropped cohort or area, and the
    # price of each realism rule (not measured above LARGE_POOLED_MODEL variables).
    with timed("dropped cohorts and areas, measured", phase="interpret") as r_drop:
        finished = sum(f.done() for f in ahead.early.futures.values()) if ahead.early is not None else 0
        dropped = dropped_analysis(run, measured=True, workers=workers, ahead=ahead)
    if begun:
        print(f"dropped: the aligned level's {begun} re-solve(s) handed to the second process as that level was "
              f"solved; {finished} finished when this process came to them, {len(ahead.early.taken)} taken back")
    with timed(f"measured asks (max {args.asks})", phase="interpret"):
        asks, cands = measure_asks(run, max_measured=args.asks, pool_joins=args.pool_join_asks, workers=workers) \
            if args.asks > 0 else (ex.asks, [])
    asked = len(RECORDS)  # the package's builds and solves come after
    with timed("package (asks one at a time)", phase="interpret"):
        package = build_package(run, asks, cands) if cands else None
    if package is not None:
        print(f"package: {len(package.steps)} steps in {package.solves} solves; {package.stopped}")
    with timed("price of realism", phase="interpret") as r_real:
        realism, realism_why = _realism(run, True, workers=workers)
    print(f"dropped: {sum(d.status == 'measured' for d in dropped)} of {len(dropped)} measured; "
          f"realism: {len(realism)} row(s){' (' + realism_why + ')' if realism_why else ''}")
    n_workers = workers.extra
    explanation = dataclasses.replace(ex, asks=asks, package=package, dropped=dropped, realism=realism,
                                      realism_not_measured=realism_why)
    out_dir = Path(tmp.name) / "out"
    out_dir.mkdir()
    with timed("write outputs", phase="write"):
        write_run_outputs(run, out_dir, explanation=explanation, workers=workers)
    workers.close()
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0 if n_workers else 0.0
    written = sorted(p.name for p in out_dir.iterdir())
    ours_peak = peak_mb()
    if args.save_run:
        import pickle

        with open(args.save_run, "wb") as fh:
            pickle.dump(run, fh)

    builds = [r for r in RECORDS if r["name"] == "create_model"]
    solves = [r for r in RECORDS if r["name"] == "solve"]
    a_build = next(r for r in builds if r["where"] == "optimise" and r["level"] == "aligned")
    a_solve = next(r for r in solves if r["where"] == "optimise")
    p_build = next((r for r in builds if r["where"] == "optimise" and r["level"] == "pooled"), None)
    p_solve = [r for r in solves if r["where"] == "optimise"][1:2]
    ask_builds = [r for r in RECORDS[:asked] if r["name"] == "create_model" and r["where"] == "asks"]
    ask_solves = [r for r in RECORDS[:asked] if r["name"] == "solve" and r["where"] == "asks"]
    z_ours = run.levels["aligned"].solution.objective

    print()
    s = a_build["size"]
    print(f"case: {len(case.areas)} areas, {len(case.pots)} pots, {len(case.cohorts)} cohorts, {len(case.years)} "
          f"years; aligned LP {s['variables']:,} variables, {s['rows']:,} rows, {s['nonzeros']:,} nonzeros"
          + (f"; pooled LP {p_build['size']['variables']:,} variables, {p_build['size']['rows']:,} rows"
             if p_build else ""))
    print(f"solver: {getattr(run, 'solver_reason', '') or run.solver}; objective {run.objective}: aligned {z_ours:,.6f}, "
          f"pooled {run.levels['pooled'].solution.objective:,.6f}")
    print()
    print(f"{'phase':<52} {'wall s':>9} {'cpu s':>9} {'peak MB':>9}")
    by = {r["name"]: r for r in RECORDS}
    print(f"{'read + validate':<52} {_fmt(by['read+validate'])}")
    print(f"{'optimise_case (baseline + aligned + pooled)':<52} {_fmt(r_opt)}")
    print(f"{'  baseline':<52} {run.timings['baseline']:9.2f}")
    for lvl, b, sv in (("aligned", a_build, a_solve), ("pooled", p_build, p_solve[0] if p_solve else None)):
        if b is None or sv is None:
            continue
        tm = sv["timings"]
        print(f"{'  ' + lvl + ': build (create_model)':<52} {_fmt(b)}")
        it = tm.get("iterations")
        how = f" ({it:,.0f} simplex iterations in phase 1{', warm' if sv.get('warm_started') else ''})" if it else ""
        print(f"{'  ' + lvl + ': solve' + how:<52} {_fmt(sv)}")
        print(f"{'    transfer (matrix + model to solver)':<52} {tm.get('transfer', 0):9.2f}")
        print(f"{'    phase 1 (primary objective)':<52} {tm.get('phase1', 0):9.2f}")
        print(f"{'    phase 2 (lexicographic tie-break)':<52} {tm.get('phase2', 0):9.2f}")
        rest = run.timings[lvl] - b["wall"] - sv["wall"]
        print(f"{'  ' + lvl + ': results (settle, constraint table, totals)':<52} {rest:9.2f}")
    flags_rec = next(r for r in RECORDS if r["name"].startswith("flags"))
    asks_rec = next(r for r in RECORDS if r["name"].startswith("measured asks"))
    print(f"{'interpret: flags, gaps, idle money, binding':<52} {_fmt(flags_rec)}")
    print(f"{'interpret: measured asks':<52} {_fmt(asks_rec)}")
    if ask_solves:
        bw, bc = sum(r["wall"] for r in ask_builds), sum(r["cpu"] for r in ask_builds)
        sw, sc = sum(r["wall"] for r in ask_solves), sum(r["cpu"] for r in ask_solves)
        if n_workers:
            print("  (the asks below ran in this process; the worker's share is in the total above, "
                  "not itemised)")
        print(f"{'  ' + str(len(ask_builds)) + ' asks built (create_model, sum)':<52} {bw:9.2f} {bc:9.2f}")
        print(f"{'  ' + str(len(ask_solves)) + ' asks solved (solve, sum)':<52} {sw:9.2f} {sc:9.2f}")
        for i, r in enumerate(ask_solves, 1):
            it = r["timings"].get("iterations")
            label = f"    ask {i} {'warm' if r.get('warm_started') else 'cold'}" + (f", {it:,.0f} iterations" if it else "")
            print(f"{label:<52} {r['wall']:9.2f} {r['cpu']:9.2f}")
        print(f"{'  candidates, settle and the rest':<52} {asks_rec['wall'] - bw - sw:9.2f} "
              f"{asks_rec['cpu'] - bc - sc:9.2f}")
    pkg_rec = by["package (asks one at a time)"]
    print(f"{'interpret: the package (asks together)':<52} {_fmt(pkg_rec)}")
    print(f"{'interpret: dropped cohorts and areas, measured':<52} {_fmt(r_drop)}")
    print(f"{'interpret: price of realism':<52} {_fmt(r_real)}")
    print(f"{'write outputs (' + ', '.join(written) + ')':<52} {_fmt(by['write outputs'])}")
    extra = (pkg_rec, r_drop, r_real)
    whole = r_opt["wall"] + flags_rec["wall"] + asks_rec["wall"] + sum(r["wall"] for r in extra)
    whole_cpu = r_opt["cpu"] + flags_rec["cpu"] + asks_rec["cpu"] + sum(r["cpu"] for r in extra)
    end_to_end = whole + by["read+validate"]["wall"] + by["write outputs"]["wall"]
    end_cpu = whole_cpu + by["read+validate"]["cpu"] + by["write outputs"]["cpu"]
    print(f"{'whole optimise (optimise_case + the whole explanation)':<52} {whole:9.2f} {whole_cpu:9.2f}")
    print(f"{'end to end (read … write)':<52} {end_to_end:9.2f} {end_cpu:9.2f}")
    print(f"{'peak memory, ours (ru_maxrss; interpreter ' + format(base_mb, '.0f') + ' MB)':<52} "
          f"{'':9} {'':9} {ours_peak:9.0f}")
    if n_workers:
        print(f"{'peak memory, the asks worker process':<52} {'':9} {'':9} {worker_mb:9.0f}")

    if not args.skip_floor:
        from benchmarks.floor import build_floor, floor_highs

        with timed("floor build", phase="floor") as fb:
            f = build_floor(case)
        with timed("floor transfer", phase="floor") as ft:
            h = floor_highs(f)
        with timed("floor solve", phase="floor") as fs:
            h.run()
        info_h = h.getInfo()
        from benchmarks.floor import ours_options

        floor_opts = ", ".join(f"{k}={v}" for k, v in ours_options(f.A.shape[1]).items()) or "HiGHS defaults"
        z_floor = float(f.cost @ np.asarray(h.getSolution().col_value)) * (1000.0 if run.objective == "value" else 1.0)
        floor_bs = fb["wall"] + ft["wall"] + fs["wall"]
        print()
        print(f"{'floor: build (numpy/scipy from the Case)':<52} {_fmt(fb)}")
        print(f"{'floor: passModel':<52} {_fmt(ft)}")
        its = (f"{info_h.ipm_iteration_count} IPM + {info_h.crossover_iteration_count:,} crossover iterations"
               if info_h.ipm_iteration_count else f"{info_h.simplex_iteration_count:,} simplex iterations")
        print(f"{'floor: solve (' + its + ')':<52} {_fmt(fs)}")
        print(f"  (floor options: {floor_opts}, as ours for a cold solve of this size)")
        rel = abs(z_floor - z_ours) / max(1.0, abs(z_floor))
        verdict = "equal" if rel <= 1e-6 else "DIFFERENT — THE FLOOR IS NOT THE SAME LP AS OURS"
        print(f"floor objective {z_floor:,.6f} vs ours {z_ours:,.6f}: relative difference {rel:.1e} → {verdict}")
        if rel > 1e-6:
            print("!" * 78)
        floor_bs_cpu = fb["cpu"] + ft["cpu"] + fs["cpu"]
        ours_bs = a_build["wall"] + a_solve["wall"]
        ours_bs_cpu = a_build["cpu"] + a_solve["cpu"]
        ours_p1 = a_build["wall"] + a_solve["timings"].get("transfer", 0) + a_solve["timings"].get("phase1", 0)

        def line(label, a, b, ac, bc):
            print(f"  {label:<46} {a:9.2f} / {b:9.2f} = {a / b:6.2f}×   {ac:9.2f} / {bc:9.2f} = {ac / bc:6.2f}×")

        print()
        print(f"  {'ratios':<46} {'wall clock':^30}   {'CPU':^30}")
        line("ours build+solve / floor build+solve", ours_bs, floor_bs, ours_bs_cpu, floor_bs_cpu)
        print(f"  {'ours build+solve, phase 1 only / floor':<46} {ours_p1:9.2f} / {floor_bs:9.2f} = "
              f"{ours_p1 / floor_bs:6.2f}×")
        line("ours build / floor build", a_build["wall"], fb["wall"], a_build["cpu"], fb["cpu"])
        line("whole optimise / one floor solve", whole, fs["wall"], whole_cpu, fs["cpu"])
        n_asks = len(ask_solves)
        if args.asks and n_asks and n_asks < 12 and not n_workers:  # with a worker, the count is its share only
            per = (sum(r["wall"] for r in ask_builds) + sum(r["wall"] for r in ask_solves)) / n_asks
            per_c = (sum(r["cpu"] for r in ask_builds) + sum(r["cpu"] for r in ask_solves)) / n_asks
            line("… with 12 measured asks (extrapolated)", whole + per * (12 - n_asks), fs["wall"],
                 whole_cpu + per_c * (12 - n_asks), fs["cpu"])
        print(f"  peak memory, ours                                  {ours_peak:8.0f} MB "
              f"(with the floor: {peak_mb():.0f} MB)")
    load1 = os.getloadavg()
    print(f"load average at end: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    tmp.cleanup()
    return 0


def aligned_only(case, solver: str, skip_floor: bool, tmp) -> int:
    """Ours (create_model + solve, both phases) then the floor, back to back."""
    import optimiser.build as build_mod
    from optimiser.solve import solve

    with timed("create_model") as b:
        lp = build_mod.create_model(case)
    if solver == "auto":
        from optimiser.solve import choose_solver

        solver, reason = choose_solver(solver, lp.n)
        print(f"solver: {reason}")
    with timed("solve") as sv:
        sol = solve(lp, solver=solver)
    s = lp.size
    print(f"aligned LP {s['variables']:,} variables, {s['rows']:,} rows, {s['nonzeros']:,} nonzeros; "
          f"objective {sol.objective:,.6f} ({sol.status})")
    print(f"{'phase':<52} {'wall s':>9} {'cpu s':>9} {'peak MB':>9}")
    print(f"{'ours: build (create_model)':<52} {_fmt(b)}")
    print(f"{'ours: solve':<52} {_fmt(sv)}")
    for k, label in (("transfer", "transfer (matrix + model to solver)"), ("phase1", "phase 1 (primary objective)"),
                     ("phase2", "phase 2 (lexicographic tie-break)")):
        print(f"{'    ' + label:<52} {sol.timings.get(k, 0.0):9.2f}")
    if not skip_floor:
        from benchmarks.floor import build_floor, floor_highs

        with timed("floor build") as fb:
            f = build_floor(case)
        with timed("floor transfer") as ft:
            h = floor_highs(f)
        with timed("floor solve") as fs:
            h.run()
        z = float(f.cost @ np.asarray(h.getSolution().col_value)) * (1000.0 if case.settings.objective == "value"
                                                                      else 1.0)
        info_h = h.getInfo()
        its = (f"{info_h.ipm_iteration_count} IPM + {info_h.crossover_iteration_count:,} crossover iterations"
               if info_h.ipm_iteration_count else f"{info_h.simplex_iteration_count:,} simplex iterations")
        print(f"{'floor: build':<52} {_fmt(fb)}")
        print(f"{'floor: passModel':<52} {_fmt(ft)}")
        print(f"{'floor: solve (' + its + ')':<52} {_fmt(fs)}")
        rel = abs(z - sol.objective) / max(1.0, abs(z))
        print(f"floor objective {z:,.6f} vs ours {sol.objective:,.6f}: relative difference {rel:.1e} → "
              + ("equal" if rel <= 1e-6 else "DIFFERENT — THE FLOOR IS NOT THE SAME LP AS OURS"))
        ow, oc = b["wall"] + sv["wall"], b["cpu"] + sv["cpu"]
        fw, fc = fb["wall"] + ft["wall"] + fs["wall"], fb["cpu"] + ft["cpu"] + fs["cpu"]
        p1 = b["wall"] + sol.timings.get("transfer", 0.0) + sol.timings.get("phase1", 0.0)
        print(f"ours build+solve / floor build+solve: wall {ow:.2f} / {fw:.2f} = {ow / fw:.2f}×; "
              f"CPU {oc:.2f} / {fc:.2f} = {oc / fc:.2f}×; phase 1 only (wall) {p1 / fw:.2f}×")
        print(f"ours build / floor build: wall {b['wall'] / fb['wall']:.2f}×, CPU {b['cpu'] / fb['cpu']:.2f}×")
    print(f"peak memory {peak_mb():.0f} MB")
    load1 = os.getloadavg()
    print(f"load average at end: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
