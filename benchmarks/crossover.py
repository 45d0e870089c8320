"""CBC or HiGHS: where does CBC become measurably slower?

``python -m benchmarks.crossover [--case DIR] [--areas 1,3,10,20,40] [--cbc-limit S]``

Takes the national case (generated, or ``--case``) restricted to its first *k* areas
(need, provision and footprints cut to match, budgets scaled to the areas kept, rules dropped), builds the aligned LP and solves it
as the product does (``optimiser.solve.solve``, lexicographic: two phases) with each
solver. CPU seconds include CBC's child process.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def restrict(case, k: int):
    """The case cut to its first ``k`` areas; each pot's budgets scaled by the share of its
    areas kept (so money stays short of need); rules dropped (their shares and amounts were
    sized for the whole country)."""
    keep = {a.code for a in case.areas[:k]}
    share = {p: len(case.pot_areas[p] & keep) / max(1, len(case.pot_areas[p])) for p in case.pot}
    budgets = tuple(b.model_copy(update={"amount": float(round(b.amount * share[b.pot_code], -3))})
                    for b in case.budgets)
    return case.with_changes(
        areas=case.areas[:k],
        budgets=budgets,
        need=tuple(n for n in case.need if n.area_code in keep),
        footprints=tuple(m for m in case.footprints if m.area_code in keep),
        provision=tuple(p for p in (case.provision or ()) if p.area_code in keep),
        rules=(),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.crossover")
    ap.add_argument("--case", type=Path, help="a national-size case (default: generate it)")
    ap.add_argument("--areas", default="1,3,10,20,40")
    ap.add_argument("--cbc-limit", type=float, default=600.0, help="time limit for CBC per phase")
    args = ap.parse_args(argv)
    from benchmarks.generate import generate
    from commissioning.inputs.validate import load_case
    from optimiser.build import create_model
    from optimiser.solve import solve

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    case = load_case(args.case) if args.case else generate("national")
    print(f"{'areas':>5} {'variables':>10} {'rows':>7} {'build s':>8} {'cbc wall':>9} {'cbc cpu':>8} "
          f"{'highs wall':>10} {'highs cpu':>9} {'cpu ratio':>9}  objectives agree")
    for k in (int(x) for x in args.areas.split(",")):
        sub = restrict(case, k)
        t = time.perf_counter()
        lp = create_model(sub)
        tb = time.perf_counter() - t
        res = {}
        for solver in ("highs", "cbc"):
            w, c = time.perf_counter(), cpu()
            sol = solve(lp, solver=solver, time_limit=args.cbc_limit if solver == "cbc" else None)
            res[solver] = (time.perf_counter() - w, cpu() - c, sol.objective, sol.status)
        agree = abs(res["cbc"][2] - res["highs"][2]) / max(1.0, abs(res["highs"][2]))
        s = lp.size
        print(f"{k:>5} {s['variables']:>10,} {s['rows']:>7,} {tb:8.2f} {res['cbc'][0]:9.2f} {res['cbc'][1]:8.2f} "
              f"{res['highs'][0]:10.2f} {res['highs'][1]:9.2f} {res['cbc'][1] / max(res['highs'][1], 1e-3):8.1f}×  "
              f"{agree:.1e} ({res['cbc'][3]}/{res['highs'][3]})", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
