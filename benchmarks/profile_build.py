"""Where the time of building (and interpreting) goes, function by function.

``python -m benchmarks.profile_build SIZE [--case DIR] [--run PICKLE] [--top N]``

* **build**: each step of :func:`optimiser.build.create_model` timed by wrapping the names
  it calls (``allocation_variables``, ``carry_forward_flows``, ``define_pot_budget`` …) —
  the module is not edited — then ``lp.matrix()`` and ``highs_model(lp)``, then a cProfile
  of one more ``create_model`` (top functions by own time).
* **write** (with ``--run`` and ``--write``): ``write_run_outputs`` cProfiled, file sizes.
* **interpret** (with ``--run``, a pickled ``RunResult`` from ``benchmarks.run --save-run``):
  the pieces of ``explain_run`` (provision map, gap flags, idle flags, binding rows) and
  the ask candidates (pricing every add-cohort and add-area change), each timed and
  cProfiled.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pickle
import pstats
import sys
import time
from pathlib import Path


def _timer(store: list, name: str, fn):
    def wrapper(*args, **kwargs):
        t, c = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        store.append((name, time.perf_counter() - t, time.process_time() - c))
        return out

    return wrapper


def _top(prof: cProfile.Profile, n: int, key: str = "tottime") -> str:
    s = io.StringIO()
    pstats.Stats(prof, stream=s).strip_dirs().sort_stats(key).print_stats(n)
    lines = s.getvalue().splitlines()
    start = next(i for i, x in enumerate(lines) if x.strip().startswith("ncalls"))
    return "\n".join(lines[start:start + n + 1])


def profile_build(case, top: int) -> None:
    import optimiser.build as build
    from optimiser.solve import highs_model

    steps: list = []
    names = ["allocation_variables", "carry_forward_flows", "equity_variables", "primary", "expiry_weights",
             "define_pot_budget", "define_need_cap", "define_match", "define_rules", "define_equity", "define_lock"]
    names = [n for n in names if hasattr(build, n)]
    saved = {n: getattr(build, n) for n in names}
    families = getattr(build, "FAMILIES", None)  # create_model may loop over a table of families
    try:
        for n in names:
            setattr(build, n, _timer(steps, n, saved[n]))
        if families is not None:
            build.FAMILIES = tuple((label, _timer(steps, fn.__name__, fn) if fn is not None else None)
                                   for label, fn in families)
        t, c = time.perf_counter(), time.process_time()
        lp = build.create_model(case)
        total, total_cpu = time.perf_counter() - t, time.process_time() - c
    finally:
        for n in names:
            setattr(build, n, saved[n])
        if families is not None:
            build.FAMILIES = families
    s = lp.size
    print(f"create_model: {s['variables']:,} variables, {s['rows']:,} rows, {s['nonzeros']:,} nonzeros — "
          f"{total:.2f} s wall, {total_cpu:.2f} s CPU")
    print(f"  {'step':<24} {'wall s':>8} {'cpu s':>8} {'share':>6}")
    for name, w, c in sorted(steps, key=lambda x: -x[1]):
        print(f"  {name:<24} {w:8.2f} {c:8.2f} {w / total:6.0%}")
    rest = total - sum(w for _, w, _ in steps)
    print(f"  {'(the rest: concat, sizes)':<24} {rest:8.2f}")
    t = time.perf_counter()
    lp.matrix()
    print(f"lp.matrix(): {time.perf_counter() - t:.2f} s (called again by settle and constraint_table, per level)")
    t = time.perf_counter()
    highs_model(lp)
    print(f"highs_model(lp) (matrix + passModel): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    case.eligibility.cells(with_need_only=True)
    print(f"case.eligibility.cells() (cached lookups warm): {time.perf_counter() - t:.2f} s")
    prof = cProfile.Profile()
    prof.enable()
    build.create_model(case)
    prof.disable()
    print(f"\ncProfile of create_model, top {top} by own time:")
    print(_top(prof, top))
    print(f"\ncProfile of create_model, top {top} by cumulative time:")
    print(_top(prof, top, "cumulative"))


def profile_interpret(run, top: int) -> None:
    from commissioning.analysis.mapping import provision_map
    from commissioning.analysis import explain
    from commissioning.analysis.asks import candidates

    case = run.case
    holding = {n: explain.holding_back(case, run.levels[n], run.solver) for n in ("aligned", "pooled")}
    pieces = [
        ("explain_run(asks=False)", lambda: explain.explain_run(run, asks=False).flags),
        ("provision_map", lambda: provision_map(case)),
        ("rules_holding_back x2", lambda: [explain.holding_back(case, run.levels[n], run.solver)
                                           for n in ("aligned", "pooled")]),
        ("gap_flags aligned", lambda: explain.gap_flags(case, run.levels["aligned"], holding["aligned"])),
        ("gap_flags pooled", lambda: explain.gap_flags(case, run.levels["pooled"], holding["pooled"])),
        ("idle_flags aligned", lambda: explain.idle_flags(case, run.levels["aligned"], holding["aligned"])),
        ("idle_flags pooled", lambda: explain.idle_flags(case, run.levels["pooled"], holding["pooled"])),
        ("binding_constraints x2", lambda: [explain.binding_constraints(case, run.levels[n])
                                            for n in ("aligned", "pooled")]),
        ("asks.candidates", lambda: candidates(run)),
    ]
    print(f"  {'piece':<26} {'wall s':>8} {'cpu s':>8}")
    for name, fn in pieces:
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        extra = f"  ({len(out)} items)" if hasattr(out, "__len__") else ""
        print(f"  {name:<26} {time.perf_counter() - t:8.2f} {time.process_time() - c:8.2f}{extra}")
    for name, fn in pieces:
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        print(f"\ncProfile of {name}, top {top} by own time:")
        print(_top(prof, top))


def profile_write(run, top: int) -> None:
    """``write_run_outputs`` (CSV, JSON, results.xlsx) of a pickled run, with its explanation (no asks)."""
    import tempfile

    from commissioning.writers.results import write_run_outputs
    from commissioning.analysis.explain import explain_run

    ex = explain_run(run, asks=False)
    with tempfile.TemporaryDirectory() as d:
        prof = cProfile.Profile()
        t, c = time.perf_counter(), time.process_time()
        prof.enable()
        write_run_outputs(run, Path(d), explanation=ex)
        prof.disable()
        print(f"write_run_outputs: {time.perf_counter() - t:.2f} s wall, {time.process_time() - c:.2f} s CPU")
        for f in sorted(Path(d).iterdir()):
            print(f"  {f.name:<20} {f.stat().st_size / 1e6:8.1f} MB")
    print(f"\ncProfile of write_run_outputs, top {top} by cumulative time:")
    print(_top(prof, top, "cumulative"))
    print(f"\ncProfile of write_run_outputs, top {top} by own time:")
    print(_top(prof, top))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile_build")
    ap.add_argument("size", nargs="?", default="national")
    ap.add_argument("--case", type=Path)
    ap.add_argument("--run", type=Path, help="a pickled RunResult (benchmarks.run --save-run) to profile interpret")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--write", action="store_true", help="with --run: profile writing the outputs instead")
    args = ap.parse_args(argv)
    if args.run:
        with open(args.run, "rb") as fh:
            run = pickle.load(fh)
        if args.write:
            profile_write(run, args.top)
        else:
            profile_interpret(run, args.top)
        return 0
    from benchmarks.generate import generate
    from commissioning.inputs.validate import load_case

    case = load_case(args.case) if args.case else generate(args.size)
    profile_build(case, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
