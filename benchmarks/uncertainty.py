"""Uncertain need: warm draws, the robust model, and draws on a cluster, against a floor solve.

    python -m benchmarks.uncertainty SIZE [--case DIR] [--draws N] [--cold-draws N] [--robust-draws N]
                                          [--process-draws N] [--workers 1,2] [--skip-robust] [--skip-cluster]

``python -m benchmarks.uncertainty national`` alone measures the issue's target as it is stated:
100 real draws in two processes against a floor solved in the same run (about 10 minutes here);
``python -m benchmarks.uncertainty ca`` the robust model's (50 draws, under a minute).

Prints, each measured in this run beside one **floor** solve (benchmarks/floor.py, the aligned
LP built straight from the case and solved with ours' cold options):

* **sensitivity draws, warm and cold**: ``N`` draws solved as ``sensitivity`` solves them (the
  aligned and pooled levels of each), warm — each draw's model built from the undisturbed one
  (:mod:`optimiser.redraw`), every phase started from its undisturbed basis with the dual
  simplex — then ``--cold-draws`` of them built from the case and solved from scratch; seconds
  per draw, and 100 warm draws as a multiple of the floor (the issue's target: under 10×);
* **sensitivity draws in two processes**: ``--process-draws`` warm draws shared between this
  process and a spawned second one (:class:`commissioning.analysis.workers.Processes`), as
  ``sensitivity`` shares them on a machine of two or more cores without ``--cluster``; the
  second process's start, imports and undisturbed models are inside the time (in the command
  they overlap the undisturbed solve), and 100 draws as a multiple of the floor;
* **the robust model**: ``commissioning robust``'s whole run at the aligned level with
  ``--robust-draws`` draws and as many fresh draws (its model size, seconds by phase);
* **draws on a cluster**: the same warm draws on a ``LocalCluster`` of 1, 2, … workers
  (``--workers``), seconds and the speed-up per added worker. On this 2-core machine two
  workers are the most that can help; a multi-machine plan is in the README.

Nothing here is asserted: the figures are printed (benchmarks/README.md records them).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import commissioning  # noqa: F401  (before numpy: one BLAS thread, as in the CLI)
import numpy as np


def _case(size: str, given: Path | None, tmp: Path):
    from commissioning.inputs.validate import load_case

    path = given
    if path is None:
        path = tmp / size
        subprocess.run([sys.executable, "-m", "benchmarks.generate", size, str(path)], check=True,
                       stdout=subprocess.DEVNULL)
    return load_case(path)


def _floor(case) -> float:
    from benchmarks.floor import build_floor, floor_highs

    f = build_floor(case)
    h = floor_highs(f)
    t = time.perf_counter()
    h.run()
    return time.perf_counter() - t


def _base(case):
    """The undisturbed run, as ``sensitivity`` solves it first (every level, HiGHS)."""
    from optimiser.levels import optimise_case

    t = time.perf_counter()
    run = optimise_case(case, solver="highs")
    return run, time.perf_counter() - t


def _draws(case, run, n: int, warm: bool, runner=None, first: int = 0) -> float:
    """Seconds for draws ``first .. first + n - 1`` solved as ``sensitivity`` solves them (the aligned and
    pooled levels of each draw): warm — the undisturbed models kept, each draw's built from them, every
    phase started from its undisturbed basis with the dual simplex — or cold (built from the case, solved
    from scratch, as before issue 20)."""
    from commissioning.analysis.cluster import Here
    from commissioning.analysis.sensitivity import SOLVED_LEVELS, DrawJob, need_draws, solve_draw
    from optimiser.levels import default_pool

    job = DrawJob(case, default_pool(case), "highs",
                  {lv: run.levels[lv].solution.warm if warm else None for lv in SOLVED_LEVELS},
                  models={lv: run.levels[lv].lp for lv in SOLVED_LEVELS}, redraw=warm)
    people = need_draws(case, 0.1, first + n, seed=0)
    t = time.perf_counter()
    (runner or Here()).map(solve_draw, job, [(d, people[d]) for d in range(first, first + n)])
    return time.perf_counter() - t


def _defaults(a) -> None:
    """What is not given, by size: at national size the target's own measurement (100 real draws in
    two processes, a few in one for the per-draw figure) and nothing that takes an hour (cold draws,
    166 s each; the robust model, whose target is at combined-authority size)."""
    national = a.size == "national"
    a.draws = (4 if national else 10) if a.draws is None else a.draws
    a.cold_draws = (0 if national else a.draws) if a.cold_draws is None else a.cold_draws
    a.process_draws = (100 if national else a.draws) if a.process_draws is None else a.process_draws
    if a.robust_draws is None:
        a.robust_draws = 50
        a.skip_robust = a.skip_robust or national


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size", choices=["district", "ca", "national"])
    ap.add_argument("--case", type=Path)
    ap.add_argument("--draws", type=int, default=None,
                    help="warm sensitivity draws in one process (default 10; national 4)")
    ap.add_argument("--cold-draws", type=int, default=None,
                    help="cold draws to compare with (default: --draws; national 0, each is minutes)")
    ap.add_argument("--robust-draws", type=int, default=None,
                    help="draws of the robust model (default 50; national: not run unless given)")
    ap.add_argument("--process-draws", type=int, default=None,
                    help="warm draws shared with a second process (default: --draws; national 100, the "
                         "target's own count; 0 skips them)")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--skip-robust", action="store_true")
    ap.add_argument("--skip-cluster", action="store_true")
    a = ap.parse_args(argv)
    _defaults(a)
    with tempfile.TemporaryDirectory() as tmp:
        case = _case(a.size, a.case, Path(tmp))
        print(f"{a.size}: {len(case.eligibility.cells(with_need_only=True)):,} eligible cells with need")
        floor = _floor(case)
        print(f"floor solve (aligned LP, HiGHS, cold): {floor:.2f} s")
        run, base = _base(case)
        print(f"the undisturbed run (baseline, aligned, pooled): {base:.1f} s")
        warm = _draws(case, run, a.draws, warm=True)
        print(f"sensitivity, {a.draws} draws (aligned and pooled each): warm {warm / a.draws:.2f} s a draw "
              f"(the undisturbed models kept, every phase from its undisturbed basis, dual simplex)")
        if a.cold_draws:
            cold = _draws(case, run, a.cold_draws, warm=False)
            print(f"  cold (each draw built from the case and solved from scratch): {cold / a.cold_draws:.2f} s "
                  f"a draw, {cold / a.cold_draws / (warm / a.draws):.1f}× the warm draw")
        print(f"  100 warm draws ≈ {100 * warm / a.draws:.1f} s = {100 * warm / a.draws / floor:.1f}× the floor "
              f"(target: under 10×); with the undisturbed run, {(base + 100 * warm / a.draws) / floor:.1f}×")
        procs = a.process_draws
        if procs:
            from commissioning.analysis.workers import Processes, Workers

            t = time.perf_counter()
            with Workers(2) as w:
                _draws(case, run, procs, warm=True, runner=Processes(w, what="draws"))
            both = time.perf_counter() - t
            print(f"sensitivity, {procs} warm draws in two processes: {both:.1f} s, {both / procs:.2f} s a draw "
                  f"({warm / a.draws / (both / procs):.2f}× one process; the second process started inside the time)")
            print(f"  100 warm draws in two processes ≈ {100 * both / procs:.1f} s = "
                  f"{100 * both / procs / floor:.1f}× the floor (target: under 10×); with the undisturbed run, "
                  f"{(base + 100 * both / procs) / floor:.1f}×")
        if not a.skip_robust:
            from commissioning.analysis.robust import RobustSettings, run_robust

            t = time.perf_counter()
            r = run_robust(case, RobustSettings(level="aligned", draws=a.robust_draws, test_draws=a.robust_draws,
                                                solver="highs"))
            total = time.perf_counter() - t
            phases = ", ".join(f"{k} {v:.1f} s" for k, v in r.seconds.items())
            print(f"robust, aligned, {a.robust_draws} draws + {a.robust_draws} fresh: {total:.1f} s "
                  f"({phases}); model {r.size['variables']:,} variables, {r.size['rows']:,} rows; "
                  f"{total / floor:.1f}× the floor")
            print(f"  vss {float(r.robust_out.mean() - r.point_out.mean()):,.1f}, "
                  f"evpi {float(np.nanmean(r.wait_and_see) - r.robust_out.mean()):,.1f}")
        if not a.skip_cluster:
            import distributed

            from commissioning.analysis.cluster import Cluster

            first = None
            for n in [int(x) for x in a.workers.split(",")]:
                with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                              dashboard_address=None) as lc, Cluster(lc.scheduler_address) as c:
                    # Each worker imports, builds the undisturbed models once and solves a draw first.
                    _draws(case, run, n, warm=True, runner=c)
                    s = _draws(case, run, a.draws, warm=True, runner=c, first=n)
                first = first or s
                print(f"cluster, {n} worker(s): {a.draws} warm draws in {s:.1f} s ({first / s:.2f}× one worker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
