"""The package: asks chosen one at a time, each measured given the ones already in.

Single asks are each measured against the aligned level on their own, and several of them
chase the same people: two eligibility asks for one cohort may each be worth thousands of
outcomes and together little more than one. A board that adds up the list counts those
people twice. The package answers "what is the set worth?":

1. Start from the aligned level (today's rules, coordinated).
2. Among the measured asks not yet in, take the one whose gain *given the asks already in*
   is largest; that gain is its ``marginal_gain``. Each candidate's gain is re-measured
   (one solve with every change so far plus its own) only when it could be the largest:
   a candidate's last measured gain stands for it until then (the lazy greedy of Minoux,
   1978). When gains only shrink as asks are added (the usual case: asks compete for the
   same need and money) this takes exactly the ask the full greedy would; when two asks
   complement each other, the second's gain may be under-rated until it is re-measured.
3. Stop when the best next ask would add less than ``package_share`` (case.yaml, default
   5%) of the package's gain so far, or nothing at all.

The marginal gains add up *exactly* to the package's measured total: step ``k``'s marginal
gain is the objective of the case with steps 1 … k solved, minus that with steps 1 … k−1,
so the sum telescopes to the last solve (every change at once) minus the aligned level.
The last solve *is* the package measured by one solve. ``cumulative_gain`` is that running
total; ``overlap`` is what an ask's gain alone exceeds its marginal gain by.

**The pool in a package.** Pooling (``change = pool``, the devolution dividend) is an ask
like the others; once it is in, the package's later steps are solved with the pool, and a
pot may then join it (a pool-join ask). A pool-join ask is never taken before the pool.
Above :data:`commissioning.analysis.asks.LARGE_POOLED_MODEL` variables in the pooled model,
neither the pool nor pool joins enter the package (each step would re-solve the whole
pooled model), and the package says so.

**Overlaps.** For every step whose marginal gain is below its gain alone (by more than
penny rounding and 1% of it), the earlier steps it shares people with — the same cohort,
the same pot, or the pool when it names a pooled pot — are named, and the pair is measured
together on its own, once (at most :data:`MAX_PAIRS` pairs):
"together +6,120, not +10,379". A step with no such partner says how much less it adds
inside the package than alone.

Nothing here writes a file; :mod:`commissioning.writers.results` writes ``package.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from commissioning.analysis import asks as A
from commissioning.analysis.asks import GAIN_OF, ROUNDING, Candidate, apply_candidate, solve_with
from commissioning.case.model import Case
from optimiser.levels import RunResult

# The package's columns: its step, the ask (as asks.csv has it), and what it adds.
PACKAGE_COLUMNS = ["step", "rank", "pot_code", "change", "area_code", "cohort_code", "year", "measured_against",
                   "department", "group", "ask", "parts", "alone_gain", "marginal_gain", "cumulative_gain",
                   "marginal_outcomes", "marginal_participants", "marginal_value", "overlap", "warning"]
PACKAGE_SHARE = 0.05
MAX_PAIRS = 4
MEASURES = ("outcomes", "participants", "value")


@dataclass
class Package:
    """The package of one run (see the module docstring)."""

    steps: pd.DataFrame  # PACKAGE_COLUMNS
    total: dict[str, float]  # gain (objective's measure), outcomes, participants, value: the last solve
    sum_alone: float  # the steps' gains alone, added up (what a board adding the list would count)
    overlaps: list[dict] = field(default_factory=list)
    stopped: str = ""
    share: float = PACKAGE_SHARE
    measured_against: str = "aligned"
    left_out: str = ""  # the pool left out at this size, and why
    solves: int = 0

    def as_json(self) -> dict:
        """``summary.json``'s ``package``."""
        return {"measured_against": self.measured_against, "share": self.share,
                "steps": [{k: _plain(v) for k, v in r.items()} for r in self.steps.to_dict("records")],
                "total": self.total, "sum_of_gains_alone": self.sum_alone, "overlaps": self.overlaps,
                "stopped": self.stopped, "left_out": self.left_out or None, "solves": self.solves}


def _plain(v):
    if isinstance(v, float) and v != v:
        return None
    return v.item() if hasattr(v, "item") else v


@dataclass
class _State:
    case: Case
    pool: frozenset[str]
    base: A.BaseLevel

    def totals(self) -> dict[str, float]:
        return {k: float(self.base.allocations[k].sum()) for k in MEASURES}


def _with(run: RunResult, state: _State, cand: Candidate) -> tuple[Case, frozenset[str]]:
    """The case and pool of ``state`` with ``cand`` made too."""
    if cand.change == "pool" and not cand.pot_code:
        return state.case, frozenset(run.pool)
    if cand.change == "pool":
        return state.case, frozenset(state.pool | {cand.pot_code})
    return apply_candidate(state.case, cand), state.pool


def _eligible(cand: Candidate, state: _State, allow_pool: bool) -> bool:
    if cand.change != "pool":
        return True
    if not allow_pool:
        return False
    return not state.pool if not cand.pot_code else bool(state.pool) and cand.pot_code not in state.pool


def _shares_people(a: Candidate, b: Candidate, pool: frozenset[str]) -> bool:
    """Whether two asks chase the same people or money: a cohort or a pot in common, or the
    pool and a pot it takes."""
    if any(x.change == "pool" and x.pot_code for x in (a, b)):
        return False  # a pool join is measured from the pooled level: never paired from aligned
    if set(a.cohorts) & set(b.cohorts) or set(a.pots) & set(b.pots):
        return True
    for x, y in ((a, b), (b, a)):
        if x.change == "pool" and not x.pot_code and set(y.pots) & pool:
            return True
    return False


def build_package(run: RunResult, asks: pd.DataFrame, cands: list[Candidate], share: float | None = None,
                  progress=None, max_pairs: int = MAX_PAIRS) -> Package:
    """The package of a run's measured asks (``asks`` as :func:`asks.measure_asks` returns it,
    with the candidate of each row in ``cands``)."""
    share = run.case.settings.package_share if share is None else share
    measure = GAIN_OF[run.objective]
    zero = ROUNDING[measure]
    say = progress or (lambda _: None)
    aligned = run.levels["aligned"]
    start = _State(run.case, frozenset(), A.BaseLevel(aligned.solution.objective, aligned.allocations,
                                                       aligned.solution.warm))
    allow_pool = run.levels["pooled"].lp is not None and run.levels["pooled"].lp.n <= A.LARGE_POOLED_MODEL
    left_out = "" if allow_pool or not any(c.change == "pool" for c in cands) else (
        f"the pool and pool joins are left out: the pooled model has {run.levels['pooled'].lp.n:,} variables "
        f"(above {A.LARGE_POOLED_MODEL:,}), and each step with the pool would re-solve it")
    rows = list(asks.to_dict("records"))
    alone = [float(r["gain"]) for r in rows]
    bound = list(alone)  # the last measured gain of each, an upper bound while gains only shrink
    fresh: dict[int, _State] = {}  # candidates measured at the current state
    state, taken, steps, solves, failed = start, [], [], 0, set()
    t0 = state.totals()
    stopped = "no ask was measured"
    while True:
        open_ = [i for i in range(len(rows))
                 if i not in taken and i not in failed and _eligible(cands[i], state, allow_pool)]
        if not open_:
            stopped = _why_empty(rows, cands, taken, failed, allow_pool)
            break
        open_.sort(key=lambda i: (-bound[i], i))
        i = open_[0]
        if i not in fresh:
            # Its gain given the steps so far: the primary objective alone decides the order.
            say(f"package step {len(steps) + 1}: measuring {cands[i].words} given the steps before")
            case, pool = _with(run, state, cands[i])
            solved = solve_with(case, pool, run.solver, state.base.warm, lexicographic=False)
            solves += 1
            fresh[i] = (case, pool)
            if solved is None:
                failed.add(i)
                continue
            bound[i] = solved.objective - state.base.objective
            continue
        gain = bound[i]
        so_far = sum(s["marginal_gain"] for s in steps)
        if gain <= zero or (steps and gain < share * so_far):
            stopped = (f"the next best ask ({cands[i].words}) would add +{max(gain, 0):,.0f}, less than "
                       f"{share:.0%} of the package's +{so_far:,.0f}") if steps else "no ask gains anything"
            break
        # Taken: solved again like the levels, for the allocation its figures are counted from
        # (the pool taken first is the pooled level itself, solved already).
        case, pool = fresh.pop(i)
        if not taken and cands[i].change == "pool" and not cands[i].pot_code:
            lv = run.levels["pooled"]
            solved = A.BaseLevel(lv.solution.objective, lv.allocations, lv.solution.warm)
        else:
            solved = solve_with(case, pool, run.solver, state.base.warm, reference=state.base.allocations)
            solves += 1
        if solved is None:  # solved once already, so not expected; left out if it happens
            failed.add(i)
            continue
        new = _State(case, pool, solved)
        marg = {k: new.totals()[k] - state.totals()[k] for k in MEASURES}
        steps.append(dict(step=len(steps) + 1, **{c: rows[i].get(c) for c in PACKAGE_COLUMNS
                                                  if c in rows[i] and c not in ("step",)},
                          alone_gain=alone[i], marginal_gain=marg[measure],
                          cumulative_gain=new.totals()[measure] - t0[measure],
                          marginal_outcomes=marg["outcomes"], marginal_participants=marg["participants"],
                          marginal_value=marg["value"], overlap=alone[i] - marg[measure]))
        taken.append(i)
        state = new
        fresh.clear()  # every other candidate's gain was measured at the state before
    frame = pd.DataFrame(steps).reindex(columns=PACKAGE_COLUMNS) if steps else pd.DataFrame(columns=PACKAGE_COLUMNS)
    frame["parts"] = pd.to_numeric(frame["parts"], errors="coerce").astype("Int64")
    end = state.totals()
    total = {"gain": end[measure] - t0[measure], **{k: end[k] - t0[k] for k in MEASURES}}
    overlaps, solves = _overlaps(run, start, cands, taken, frame, measure, zero, max_pairs, solves, say)
    return Package(frame, total, float(sum(alone[i] for i in taken)), overlaps, stopped, share, "aligned",
                   left_out, solves)


def _why_empty(rows, cands, taken, failed, allow_pool: bool) -> str:
    """Why no ask is left to consider, in words."""
    if not rows:
        return "no ask was measured"
    left = [i for i in range(len(rows)) if i not in taken and i not in failed]
    if not left and not failed:
        return "every measured ask is in the package"
    if left and all(cands[i].change == "pool" for i in left):
        return (f"the {len(left)} pooling ask(s) left are outside the package: the pool is too large to "
                "re-solve step by step" if not allow_pool else
                f"the {len(left)} pool join(s) left need the pool itself, which is not in the package")
    return f"{len(failed)} ask(s) could not be solved with the steps taken, and every other is in"


def _gain(before: _State, after: _State, measure: str) -> float:
    return float(after.base.allocations[measure].sum() - before.base.allocations[measure].sum())


def _pair(cj: Candidate, ck: Candidate, sj: int, sk: int, a: float, b: float, together: float) -> dict:
    return dict(steps=[sj, sk], asks=[cj.words, ck.words], alone=[a, b], together=together,
                overlap=a + b - together,
                words=f"steps {sj} and {sk} together +{together:,.0f}, not +{a + b:,.0f} (+{a:,.0f} and "
                      f"+{b:,.0f} alone): they reach the same people or money")


def _overlaps(run, start, cands, taken, frame, measure, zero, max_pairs, solves, say):
    """The overlaps of a package's steps (see the module docstring)."""
    out, pairs = [], 0
    for k in range(1, len(taken)):
        row = frame.iloc[k]
        lost = float(row["overlap"])
        if lost <= max(zero, 0.01 * abs(float(row["alone_gain"]))):
            continue
        ck = cands[taken[k]]
        partners = [j for j in range(k) if _shares_people(cands[taken[j]], ck, run.pool)]
        if partners and k == 1:  # the first two steps together are the package's second solve
            a, b = float(frame.iloc[0]["alone_gain"]), float(row["alone_gain"])
            together = float(row["cumulative_gain"])
            out.append(_pair(cands[taken[0]], ck, 1, 2, a, b, together))
            continue
        not_this = ""
        if partners and pairs < max_pairs:
            j = partners[0]
            cj = cands[taken[j]]
            say(f"measuring the overlap of package steps {j + 1} and {k + 1}")
            case, pool = _with(run, start, cj)
            mid = _State(case, pool, start.base)
            case, pool = _with(run, mid, ck)
            solved = solve_with(case, pool, run.solver, start.base.warm, reference=start.base.allocations)
            solves += 1
            pairs += 1
            if solved is not None:
                together = _gain(start, _State(case, pool, solved), measure)
                a, b = float(frame.iloc[j]["alone_gain"]), float(row["alone_gain"])
                if a + b - together > max(zero, 0.01 * abs(b)):
                    out.append(_pair(cj, ck, j + 1, k + 1, a, b, together))
                    continue
                # The pair measured does not overlap (together it gains as much as apart, or more):
                # the step's overlap is with the others before it, and the pair is not named as one.
                not_this = (f" (not step {j + 1} alone: the two together +{together:,.0f}, "
                            f"{'more than' if together > a + b else 'as much as'} +{a + b:,.0f} apart)")
        out.append(dict(steps=[k + 1], asks=[ck.words], alone=[float(row["alone_gain"])],
                        together=None, overlap=lost,
                        words=f"step {k + 1} adds +{float(row['marginal_gain']):,.0f} in the package, "
                              f"+{float(row['alone_gain']):,.0f} alone: it overlaps the steps before it{not_this}"))
    return out, solves
