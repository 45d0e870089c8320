"""Who a plan stops supporting: cohorts and areas that lose more than half of today's people.

The optimum of the aligned and pooled levels may move money away from the hardest (and
dearest) to help. Without a ``protect:`` floor nothing stops it, so every cohort and every
area with no floor set is checked at each optimised level, **over the term**:

    dropped  ⇔  P_level < (1 − DROP_SHARE) · P_today,    P_today ≥ MIN_PEOPLE

where ``P_today`` is the cohort's (or area's) participants summed over the case's years
today (the baseline's, :func:`optimiser.baseline.today_cells`, as the protection floors
read them) and ``P_level`` the same sum at the level. A cohort or area with a floor is
never checked: the floor already says how far it may fall (``protect.share`` is set for
it, directly or through ``ALL``).

**What protecting it would cost is measured**, not estimated: the level is solved again
with one more floor, a share :data:`FLOOR_SHARE` of today's participants in each year for
that cohort (or area) alone, added to the case's own floors (per year, as every
``protect`` floor is). The cost is the level's objective less the re-solved one (in the
objective's measure, and in outcomes); the people kept are the cohort's participants in
the re-solved plan less those in the level's plan. When no allocation meets the floor
with the other rules, the cost is not a number but the colliding rules, in words.

Each re-solve's model is the level's with the protection rows defined again (the rest shared,
:func:`optimiser.redraw.refloored`), started from the level's optimal bases with the dual
simplex. Each is one more solve of the level's model, so at most :data:`MAX_MEASURED`
are measured per level, those losing the most people first; the rest are flagged with
their cost "not measured" (and said so in progress). The re-solves are independent of each
other: with the second process of :mod:`commissioning.analysis.workers` some are made
there, and on a cluster each is a task (the same figures either way, tested). Their
costs differ by twenty times (national: 2 s for a cohort of 40,000 people lost, 50 s for one of
2 million), and grow with how many people the floor must bring back, so the two processes
share them by that count, the dearest first (:func:`commissioning.analysis.workers.split`): at
national size the busier process's share fell from 218 s to 204 s of re-solving (alone, the
fifteen take 397 s), where every other one had left one process waiting for the other.
And the second process need not wait for the levels above the aligned one: the aligned level's
re-solves need only that level, so they are handed to it as soon as it is solved (:class:`AlignedAhead`)
and run beside the pooled solve; those it has not begun when the main process comes to them are
taken back and shared with the rest, and what it holds counts against its share.

Nothing here writes files: the results are :class:`Dropped` records, turned into
``flags.csv`` rows (``kind = dropped``) by :func:`dropped_flags` and into ``summary.json``'s
``dropped`` by :meth:`Dropped.record`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace

from commissioning.analysis.asks import gains
from commissioning.analysis.flags import Flag
from commissioning.analysis.workers import Early, share_out
from commissioning.case.model import Case, Protect
from commissioning.errors import InfeasibleError, SolverError

from optimiser.baseline import today_cells
from optimiser.build import create_model
from optimiser.levels import RunResult, solve_built
from optimiser.redraw import refloored
from optimiser.objective import UNIT

DROP_SHARE = 0.5  # flagged when participants fall by more than this share of today's
FLOOR_SHARE = 0.5  # the floor the cost is measured with: half of today's participants, each year
MIN_PEOPLE = 1.0  # a cohort or area supporting fewer people than this today is not checked
MAX_MEASURED = 12  # re-solves per level; the rest are flagged "not measured"
LEVELS = ("aligned", "pooled")  # every run's; a settlement case adds its settlement level (run.solved_levels)
KINDS = {"cohort": ("cohorts", "cohort_code"), "area": ("areas", "area_code")}  # kind -> (protect key, column)


@dataclass(frozen=True)
class Dropped:
    """One cohort or area that a level stops supporting, with what protecting it costs.

    ``status``: ``measured`` (``cost``, ``cost_outcomes`` and ``people_kept`` are set),
    ``infeasible`` (no allocation keeps the floor with the other rules; ``why`` names the
    colliding rules), or ``not_measured`` (beyond :data:`MAX_MEASURED`, or the solver
    failed; ``why`` says which).
    """

    level: str
    kind: str  # cohort | area
    code: str
    name: str
    today: float  # participants over the term, today
    plan: float  # participants over the term at the level
    today_amount: float  # £ spent on them over the term, today
    plan_amount: float  # £ at the level
    objective: str
    status: str = "not_measured"
    cost: float | None = None  # the objective lost by keeping the floor, in its measure
    cost_outcomes: float | None = None  # the outcomes lost
    protected: float | None = None  # their participants over the term with the floor
    why: str = ""

    @property
    def people_kept(self) -> float | None:
        """How many more of them the floor keeps supported than the level's plan (over the term)."""
        return None if self.protected is None else max(0.0, self.protected - self.plan)

    @property
    def words(self) -> str:
        """The finding in a board member's words, with the measured cost."""
        who = f"{_n(self.today)} supported today" if self.kind == "cohort" else \
            f"{_n(self.today)} people supported today"
        head = f"{self.name}: {who}, {_n(self.plan)} in the {self.level} plan."
        keep = f"Keeping at least {_share(FLOOR_SHARE)} of them each year"
        if self.status == "measured":
            cost = _cost_words(self.cost or 0.0, self.objective)
            if self.objective != "outcomes":
                cost += f" ({_n(self.cost_outcomes or 0.0)} outcomes)"
            more = "" if self.plan < 0.5 else f", {_n(self.people_kept or 0.0)} more than the plan"
            return (f"{head} {keep} would cost {cost} (measured) and keep {_n(self.protected or 0.0)} of them "
                    f"supported over the term{more}.")
        if self.status == "infeasible":
            return f"{head} {keep} is not possible under the {self.level} level's other rules: {self.why}."
        return f"{head} What keeping at least {_share(FLOOR_SHARE)} of them would cost was not measured ({self.why})."

    def record(self) -> dict:
        """The entry of ``summary.json``'s ``dropped`` list."""
        return {"level": self.level, "kind": self.kind, "code": self.code, "name": self.name,
                "today": self.today, "plan": self.plan, "status": self.status, "cost": self.cost,
                "cost_outcomes": self.cost_outcomes, "people_kept": self.people_kept, "words": self.words}


def _share(x: float) -> str:
    return "half" if x == 0.5 else f"{x:.0%}"


def _n(x: float) -> str:
    """Whole numbers, but a tenth kept below 10 (a tiny case's 2.5 outcomes is not "2")."""
    tenth = round(x, 1)
    return f"{tenth:,.1f}" if abs(x) < 10 and tenth != round(x) else f"{round(x) + 0:,.0f}"


def _cost_words(x: float, objective: str) -> str:
    if objective == "value":
        return f"£{x:,.0f} of public value"
    return f"no {UNIT[objective]}" if abs(x) < 0.05 else f"{_n(x)} {UNIT[objective]}"


def _name(case: Case, kind: str, code: str) -> str:
    return case.cohort[code].name if kind == "cohort" else case.area[code].name


def find_dropped(run: RunResult) -> list[Dropped]:
    """Every cohort and area without a floor that a level stops supporting (not yet measured):
    per level (aligned, pooled), cohorts then areas, each in case order."""
    case = run.case
    today = today_cells(case)
    protect = case.settings.protect
    out = []
    for level in run.solved_levels:  # aligned, settlement (a settlement case), pooled
        alloc = run.levels[level].allocations
        for kind, (key, col) in KINDS.items():
            codes = list(case.cohort) if kind == "cohort" else list(case.area)
            t = today.groupby(col, sort=False)[["participants", "amount"]].sum().reindex(codes, fill_value=0.0)
            p = alloc.groupby(col, sort=False)[["participants", "amount"]].sum().reindex(codes, fill_value=0.0)
            for code in codes:
                before, after = float(t.at[code, "participants"]), float(p.at[code, "participants"])
                if protect.share(key, code) or before < MIN_PEOPLE:
                    continue
                if after < (1.0 - DROP_SHARE) * before * (1.0 - 1e-9):
                    out.append(Dropped(level, kind, code, _name(case, kind, code), before, after,
                                       float(t.at[code, "amount"]), float(p.at[code, "amount"]), run.objective,
                                       why="not measured in this run"))
    return out


def protected_case(case: Case, kind: str, code: str, share: float = FLOOR_SHARE) -> Case:
    """The case with one more floor: ``share`` of today's participants each year for the cohort
    (``kind = "cohort"``) or area ``code``, on top of the case's own floors."""
    p = case.settings.protect
    key = KINDS[kind][0]
    shares = {**getattr(p, key), code: share}
    floors = Protect(cohorts=shares if key == "cohorts" else dict(p.cohorts),
                     areas=shares if key == "areas" else dict(p.areas))
    return case.with_changes(settings=case.settings.model_copy(update={"protect": floors}))


@dataclass(frozen=True)
class LevelBase:
    """What re-solving one level needs of it: its pool, its plan and its optimal bases."""

    pool: frozenset[str]
    allocations: object  # pd.DataFrame
    warm: object  # optimiser.solve.WarmStart | None


@dataclass(frozen=True)
class DroppedContext:
    """Everything :func:`measure` reads of a run, without its models: small enough to send to a
    worker process (:mod:`commissioning.analysis.workers`) or a cluster once."""

    case: Case
    solver: str
    time_limit: float | None
    objective: str
    levels: dict  # level -> LevelBase
    models: dict = field(default_factory=dict, repr=False, compare=False)  # level -> its model, this process's

    @classmethod
    def of(cls, run: RunResult, levels) -> "DroppedContext":
        """The context of ``run`` for re-solving these ``levels`` (with the run's models, kept here)."""
        def base(name: str) -> LevelBase:
            lv = run.levels[name]
            # The pool the level was built with (a settlement level's may be empty: never the run's).
            return LevelBase(lv.pool, lv.allocations, lv.solution.warm if lv.solution else None)

        models = {n: run.levels[n].lp for n in levels if run.levels[n].lp is not None}
        return cls(run.case, run.solver, run.time_limit, run.objective, {n: base(n) for n in levels}, models)

    def pool_of(self, level: str) -> frozenset[str]:
        """The pool ``level``'s model opens: none for the aligned level."""
        return frozenset() if level == "aligned" else frozenset(self.levels[level].pool)

    def model(self, level: str):
        """The level's model: the run's own, or (a worker is sent the context without them) built in
        this process, one level at a time (the re-solves come level by level)."""
        if level not in self.models:
            self.models.clear()
            self.models[level] = create_model(self.case, pool=self.pool_of(level))
        return self.models[level]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "models": {}}  # a model is built where it is solved


def measure(ctx: DroppedContext, d: Dropped) -> Dropped:
    """``d`` with its cost measured by solving its level again with its floor (see the module docstring)."""
    level = ctx.levels[d.level]
    changed = protected_case(ctx.case, d.kind, d.code)
    try:
        # One more floor adds rows only: the model is the level's with the protection rows defined
        # again (optimiser.redraw.refloored), and the level's optimal bases stay dual feasible, so
        # the re-solve starts from them with the dual simplex (HiGHS; CBC starts cold).
        pool = ctx.pool_of(d.level)
        lp = refloored(ctx.model(d.level), ctx.case, changed, pool) or create_model(changed, pool=pool)
        solved = solve_built(changed, d.level, lp, level.pool, ctx.solver, ctx.time_limit,
                             warm=level.warm, warm_method="dual", constraints=False)
    except InfeasibleError as e:
        said = [c.description for c in e.collisions][:3]
        more = len(e.collisions) - len(said)
        why = "; ".join(said) + (f" (and {more} more)" if more > 0 else "") if said else \
            "no allocation satisfies every rule with this floor"
        return replace(d, status="infeasible", why=why)
    except SolverError as e:
        return replace(d, status="not_measured", why=f"the solver failed: {e}")
    g = gains(level.allocations, solved.allocations, ctx.objective)
    col = KINDS[d.kind][1]
    protected = float(solved.allocations.loc[solved.allocations[col] == d.code, "participants"].sum())
    return replace(d, status="measured", cost=max(0.0, -g["gain"]) + 0.0,
                   cost_outcomes=-g["gain_outcomes"] + 0.0, protected=protected, why="")


def _chosen(found: list[Dropped], levels, max_measured: int) -> list[int]:
    """The positions in ``found`` measured: per level, the ``max_measured`` losing the most people."""
    chosen = []
    for level in levels:
        mine = [i for i, d in enumerate(found) if d.level == level]
        mine.sort(key=lambda i: -(found[i].today - found[i].plan))
        chosen.extend(sorted(mine[:max_measured]))
    return chosen


class AlignedAhead:
    """The aligned level's protection re-solves, begun in the second process as soon as that level
    is solved, while this process solves the levels above it and reads the flags.

    Passed to :func:`optimiser.levels.optimise_case` as ``after_level`` and then to
    :func:`dropped_analysis` (through :func:`commissioning.analysis.explain.explain_run`): the
    re-solves are those :func:`dropped_analysis` would choose for the aligned level (they need
    nothing of the levels above), each a task of its own (:class:`commissioning.analysis.workers.Early`).
    What the worker has not begun by then is taken back and shared out with the other levels'
    re-solves; what it has begun counts against its share. Nothing is begun without a second
    process (``workers.extra``), and the figures are the same either way (tested).
    """

    def __init__(self, workers, max_measured: int = MAX_MEASURED):
        self.workers, self.max_measured = workers, max_measured
        self.early: Early | None = None
        self.items: list[Dropped] = []
        self.level = None  # the aligned level the items were chosen at (its run is the one served)
        self.gathered = False

    def __call__(self, run: RunResult, level: str) -> None:
        if level != "aligned" or self.level is not None or not getattr(self.workers, "extra", 0):
            return
        self.level = run.levels["aligned"]
        found = find_dropped(run)
        self.items = [found[i] for i in _chosen(found, ["aligned"], self.max_measured)]
        if self.items:
            self.early = Early(measure, DroppedContext.of(run, ["aligned"]), self.items, self.workers,
                               [d.today - d.plan for d in self.items], what="protection re-solves")


def dropped_analysis(run: RunResult, progress=None, measured: bool = True,
                     max_measured: int = MAX_MEASURED, workers=None, runner=None,
                     ahead: AlignedAhead | None = None) -> list[Dropped]:
    """Every dropped cohort and area of a run (:func:`find_dropped`), the ``max_measured`` per
    level losing the most people measured (:func:`measure`: one re-solve each) when ``measured``.

    The re-solves are independent: with ``workers`` (:mod:`commissioning.analysis.workers`) they
    are shared with the second process by their expected cost; with a ``runner`` on a cluster
    (:mod:`commissioning.analysis.cluster`) each is a task there; those begun ``ahead``
    (:class:`AlignedAhead`) are gathered. The same figures either way."""
    if ahead is not None and ahead.level is not None:
        # One run's re-solves, gathered once: another run's (or a second gathering) would find
        # them gone, or worse, the first run's results for items that compare equal.
        if ahead.gathered or run.levels["aligned"] is not ahead.level:
            raise ValueError("an AlignedAhead serves the dropped_analysis of the run it was begun for, once")
        ahead.gathered = True
    found = find_dropped(run)
    if not measured or not found:
        if ahead is not None and ahead.early is not None:
            ahead.early.cancel()  # not measured after all: nothing waits for the worker's share
        return found
    chosen = _chosen(found, run.solved_levels, max_measured)
    left = len(found) - len(chosen)
    if left:
        beyond = f"more than {max_measured} at this level: those losing the most people were measured"
        found = [d if i in chosen else replace(d, why=beyond) for i, d in enumerate(found)]
    say = progress or (lambda _: None)
    counted = getattr(progress, "counted", None)
    say(f"{len(found)} dropped cohort(s) or area(s) at the aligned and pooled levels (no protection floor, over "
        f"half of today's people gone): measuring what protecting {len(chosen)} would cost, one more solve each"
        + (f" ({left} not measured)" if left else ""))
    bar = counted("protecting dropped cohorts and areas", total=len(chosen), unit="re-solves") if counted and chosen \
        else contextlib.nullcontext(lambda steps=1, what=None: None)
    early = ahead.early if ahead is not None else None
    # Begun ahead: found's position of each early item (the same choice, made on the aligned level alone).
    at = {j: found.index(d) for j, d in enumerate(ahead.items) if d in found} if early is not None else {}
    begun = set(at.values()) & set(chosen)
    taken = {at[j] for j in early.take_back() if j in at} if early is not None else set()
    here = [i for i in chosen if i not in begun or i in taken]
    loads = early.loads(getattr(workers, "extra", 0)) if early is not None else None
    items = [found[i] for i in here]
    out = list(found)
    with bar as advance:
        if items:
            ctx = DroppedContext.of(run, sorted({d.level for d in items}))
            done = share_out(measure, ctx, items, workers, runner, advance, words=lambda d: f"{d.name} ({d.level})",
                             what="protection re-solves", weights=[d.today - d.plan for d in items],
                             loads=loads)
            for i, d in zip(here, done):
                out[i] = d
        if early is not None:
            for j, d in early.results(advance).items():
                if at.get(j) in begun:
                    out[at[j]] = d
    return out


def dropped_flags(items: list[Dropped], level: str | None = None) -> list[Flag]:
    """``flags.csv`` rows (``kind = dropped``) of the items (of one ``level``, when given):
    ``people`` the participants lost over the term, ``amount`` the £ that went elsewhere."""
    return [Flag(stage="optimise", level=d.level, kind="dropped",
                 cohort_code=d.code if d.kind == "cohort" else None,
                 area_code=d.code if d.kind == "area" else None,
                 people=d.today - d.plan, amount=d.today_amount - d.plan_amount, detail=d.words)
            for d in items if level is None or d.level == level]

