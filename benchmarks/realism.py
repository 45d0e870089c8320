"""What issue 16's realism costs in time: least disruption, and the minimum-award MIP.

``python -m benchmarks.realism SIZE [--solver highs] [--min-award £] [--case DIR]``

In one process, on the generated case of SIZE (``benchmarks.generate``; district, ca or
national) or ``--case``:

1. **floor** — ``optimise_case`` with ``least_disruption: false`` (the plain lexicographic
   solve: primary, then the expiry tie-break);
2. **least disruption** — the same with least disruption on: a third phase, the L1
   distance to today's provision held before the tie-break. The ratio to (1) is the figure
   issue 16 targets (within 1.3× at national size);
3. **minimum award** — every pot given ``min_award`` (default £50,000): the levels become
   mixed-integer programmes. Printed per level: seconds, the plan's gap below the LP
   relaxation (the bound kept), the solver's own proven gap, and the method used.

Wall-clock and CPU seconds are printed; the machine is shared, so read the ratios, which
are measured against a floor solved in the same run. Nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import commissioning  # noqa: F401  (before numpy: one BLAS thread, as in the CLI)


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(label: str, fn):
    w, c = time.perf_counter(), _cpu()
    out = fn()
    wall, cpu = time.perf_counter() - w, _cpu() - c
    print(f"  {label:<34} {wall:8.2f} s wall {cpu:8.2f} s CPU")
    return out, wall, cpu


def main(argv: list[str] | None = None) -> int:
    from commissioning.inputs.validate import load_case
    from optimiser.levels import optimise_case

    ap = argparse.ArgumentParser(prog="python -m benchmarks.realism", description=__doc__.split("\n\n")[0])
    ap.add_argument("size", help="district, ca or national")
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--min-award", type=float, default=50_000.0)
    ap.add_argument("--case", type=Path)
    ap.add_argument("--skip-mip", action="store_true", help="measure least disruption only")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="realism-") as tmp:
        path = args.case
        if path is None:
            path = Path(tmp) / "case"
            subprocess.run([sys.executable, "-m", "benchmarks.generate", args.size, str(path)], check=True,
                           stdout=subprocess.DEVNULL)
        case = load_case(path)
    if case.provision is None:
        print("the case has no provision table: least disruption is off for it, nothing to measure")
        return 1
    print(f"{args.size}: {len(case.eligibility.cells()):,} eligible cells, solver {args.solver}")

    def with_settings(**upd):
        return case.with_changes(settings=case.settings.model_copy(update=upd))

    off, w0, c0 = _timed("least disruption off (floor)", lambda: optimise_case(
        with_settings(least_disruption=False), solver=args.solver))
    on, w1, c1 = _timed("least disruption on", lambda: optimise_case(
        with_settings(least_disruption=True), solver=args.solver))
    print(f"  ratio on/off: {w1 / w0:.2f}× wall, {c1 / c0:.2f}× CPU")
    for level in ("aligned", "pooled"):
        a, b = off.levels[level].totals["outcomes"], on.levels[level].totals["outcomes"]
        ph = on.levels[level].solution.timings.get("phase2", 0.0)
        tm = on.levels[level].solution.timings
        fixed = tm.get("fixed_off_face", 0.0)
        print(f"  {level}: phase one {tm.get('phase1', 0.0):.2f} s, least disruption {tm.get('disruption', 0.0):.2f} s, "
              f"tie-break {tm.get('tiebreak', 0.0):.2f} s")
        print(f"  {level}: outcomes {a:,.1f} off, {b:,.1f} on (relative {abs(a - b) / max(1.0, a):.1e}); "
              f"later phases {ph:.2f} s with it on ({fixed:,.0f} of {on.levels[level].lp.n:,} columns fixed "
              "off the optimal face)")
    if args.skip_mip:
        return 0
    pots = tuple(p.model_copy(update={"min_award": args.min_award}) for p in case.pots)
    mip_case = case.with_changes(pots=pots)
    mip, wm, cm = _timed(f"minimum award £{args.min_award:,.0f} (MIP)",
                         lambda: optimise_case(mip_case, solver=args.solver))
    print(f"  ratio MIP/floor: {wm / w0:.2f}× wall")
    for level in ("aligned", "pooled"):
        s = mip.levels[level].solution
        solver_gap = "n/a" if s.solver_gap is None else f"{s.solver_gap:.3%}"
        print(f"  {level}: {s.timings.get('mip', 0.0):.2f} s in the integer step; gap below the LP bound "
              f"{s.mip_gap:.3%}; solver's proven gap {solver_gap}; {s.mip_method}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
