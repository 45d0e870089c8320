"""The price of realism: what each rule that makes a plan commissionable costs, measured.

A pure optimum moves every pound at once, to whatever buys outcomes cheapest. Issue 16's
families make the plan one a commissioner could adopt — signed contracts kept, change
limited, the people served today protected, programmes that cannot grow without limit,
councils' money kept at home, no awards for pennies. Each costs some of the objective,
and a board should see how much. For every such rule the case (or scenario) sets, each
solved level is solved again with **that rule alone** lifted; the cost is the objective
without it minus the objective with it (never negative for a level's optimum, since
lifting a rule only widens the choice — up to the stated MIP gap where a level is
mixed-integer). The costs do not add up: rules overlap (a contract may also be what
protects a cohort), and the table says so.

What "lifted" means, rule by rule:

* ``contract`` — every ``contract_end`` cleared (the money free in every year);
* ``transition`` — no ``max_change`` and no ``max_moved``;
* ``protect`` — no floors;
* ``capacity`` — no stated capacity and no ``programme_scale`` (a programme may grow
  without limit, as before issue 16);
* ``pool_areas`` — every pot's money may go anywhere in the pool (pooled level only);
* ``min_award`` — no minimum awards (the level an LP again);
* ``least_disruption`` — only where ``near_optimal`` > 0 (otherwise it costs nothing by
  construction): the objective given up within the tolerance.

A rule the case does not set is left out. Each lifted level is one more solve of the
same size: ``explain_run`` measures them with the asks, and not above the size at which
pool-join asks are estimated rather than measured (at national size each is minutes; it
says so). ``frontier`` gives the fuller picture for money moved.

Only the lifted level's objective is read, so only its primary objective is solved: the
later phases (least disruption, the tie-breaks) hold it within 1e-9 of its optimum and would
change nothing but the plan, which is not reported. Where the model's ``near_optimal`` lets
them give some of it up (least disruption on, ``near_optimal`` above 0), they are solved too,
so that the rule is priced by the objective of the plan the engine would make. Lifting a rule
only widens the choice, so the re-solve starts from the level's own optimal basis with the
primal simplex (HiGHS): the combined-authority benchmark case's two rules take 0.9 s instead
of 2.9 s. The cost then carries the 1e-9 of the optimum the level's own later phases may give
up (a ten-thousandth of an outcome in the example), well below the hundredth that reads 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import pandas as pd

from commissioning.case.model import Case, Protect, Transition
from commissioning.errors import InfeasibleError, SolverError

REALISM_COLUMNS = ["rule", "level", "objective_with", "objective_without", "cost", "cost_share", "note"]
UNLIMITED_SCALE = 1e12  # a programme_scale no real budget reaches: growth without limit


@dataclass(frozen=True)
class Relaxation:
    """One rule lifted: its name, when the case sets it, the case without it, and the levels it touches."""

    rule: str
    words: str
    applies: Callable[[Case], bool]
    lift: Callable[[Case], Case]
    levels: tuple[str, ...] = ("aligned", "pooled")


def _settings(case: Case, **upd) -> Case:
    return case.with_changes(settings=case.settings.model_copy(update=upd))


def _pots(case: Case, **upd) -> Case:
    return case.with_changes(pots=tuple(p.model_copy(update=upd) for p in case.pots))


RELAXATIONS: tuple[Relaxation, ...] = (
    Relaxation("contract", "signed contracts kept until they end",
               lambda c: any(pr.contract_end is not None for pr in (c.provision or ())),
               lambda c: c.with_changes(provision=tuple(pr.model_copy(update={"contract_end": None})
                                                        for pr in c.provision))),
    Relaxation("transition", "limits on change from today",
               lambda c: c.settings.transition != Transition(),
               lambda c: _settings(c, transition=Transition())),
    Relaxation("protect", "floors under today's participants",
               lambda c: c.settings.protect != Protect(),
               lambda c: _settings(c, protect=Protect())),
    Relaxation("capacity", "programme capacity and programme_scale",
               lambda c: True,
               lambda c: _settings(_pots(c, capacity=None), programme_scale=UNLIMITED_SCALE)),
    Relaxation("pool_areas", "pots that keep their money in their own areas",
               lambda c: any(p.stays_home for p in c.pots),
               lambda c: _pots(c, pool_areas="pool"), levels=("pooled",)),
    Relaxation("min_award", "minimum awards",
               lambda c: any(p.min_award for p in c.pots),
               lambda c: _pots(c, min_award=None)),
    Relaxation("least_disruption", "least disruption within near_optimal",
               lambda c: c.settings.least_disruption and c.settings.near_optimal > 0 and c.provision is not None,
               lambda c: _settings(c, least_disruption=False, near_optimal=0.0)),
)


def realism_frame(explanation) -> "pd.DataFrame":
    """The explanation's price-of-realism rows as a table (``realism.csv``; none when not measured)."""
    import pandas as pd

    return pd.DataFrame(list(getattr(explanation, "realism", None) or []), columns=REALISM_COLUMNS)


@dataclass(frozen=True)
class RealismContext:
    """What pricing a rule needs of a run, without its models (sent to a worker process once)."""

    case: Case
    pool: frozenset
    solver: str
    time_limit: float | None
    with_it: dict  # level -> its objective with every rule
    warm: dict | None = None  # level -> its optimal basis of the primary objective (HiGHS), or None


def realism_jobs(case: Case, levels) -> list[tuple[str, str]]:
    """The (rule, level) pairs to price: each rule the case sets, at each solved level it touches."""
    jobs = []
    for r in RELAXATIONS:
        if not r.applies(case):
            continue
        for level in r.levels:
            if level not in levels or (r.rule == "capacity" and level == "aligned"
                                       and not any(p.capacity is not None for p in case.pots)):
                continue  # the multiple applies in the pool only; stated capacities at every level
            jobs.append((r.rule, level))
    return jobs


def price_rule(ctx: RealismContext, job: tuple[str, str]) -> dict:
    """One row of :data:`REALISM_COLUMNS`: the ``job``'s level solved again with its rule lifted."""
    from optimiser.build import create_model
    from optimiser.levels import solve_level
    from optimiser.solve import finished, solve

    rule, level = job
    r = next(x for x in RELAXATIONS if x.rule == rule)
    with_it = ctx.with_it[level]
    lifted = r.lift(ctx.case)
    lp = create_model(lifted, pool=ctx.pool if level != "aligned" else frozenset())
    # Only the objective is read: the later phases (least disruption, the tie-breaks) hold it to
    # 1e-9 of the optimum, so they are solved only where near_optimal lets them give some of it up
    # (the plan's objective is then what the rule is priced by). Lifting a rule only widens the
    # choice, so the level's own optimal basis stays primal feasible: the primal simplex starts there.
    sol = None if lp.infeasible_rules else solve(
        lp, solver=ctx.solver, time_limit=ctx.time_limit, lexicographic=lp.near_optimal > 0,
        warm=(ctx.warm or {}).get(level), warm_method="primal")
    if sol is not None and sol.status not in ("optimal", "time_limit", "infeasible"):
        raise SolverError(f"the {level} model without {r.words} could not be solved: {sol.status} "
                          f"{sol.message}".strip())
    if sol is not None and sol.status == "optimal":
        finished(sol, f"the {level} model without {r.words}")  # the plan's objective is what is read
    note = ""
    if sol is not None and sol.status != "infeasible":
        without = sol.objective
    else:
        # Lifting a rule cannot make a solved level infeasible, so this is numerical trouble or a
        # collision: the level's own path names the colliding rules (NaN, said) or says it is the
        # solver's trouble (SolverError), and a cold solve that succeeds is taken. Never hidden.
        try:
            without = solve_level(lifted, level, ctx.pool, ctx.solver, ctx.time_limit).solution.objective
        except InfeasibleError:
            without, note = float("nan"), "infeasible without it"
    cost = without - with_it
    if abs(cost) <= 1e-6 * max(1.0, abs(with_it)):
        cost = 0.0  # the solvers' tolerance, not a cost (and never a "-0" in a table)
    return {"rule": rule, "level": level, "objective_with": with_it, "objective_without": without,
            "cost": cost, "cost_share": cost / without if without else 0.0, "note": note or r.words}


def price_of_realism(run, solver: str | None = None, progress=None, workers=None) -> list[dict]:
    """One row per rule the run's case sets and level it touches (:data:`REALISM_COLUMNS`); with
    ``workers`` (:mod:`commissioning.analysis.workers`) every other re-solve is made in the second
    process, with the same figures."""
    from commissioning.analysis.workers import deal

    with_it = {name: lv.solution.objective if lv.solution is not None else 0.0
               for name, lv in run.levels.items() if name != "baseline"}
    solver = solver or run.solver
    warm = {name: lv.solution.warm for name, lv in run.levels.items()
            if name != "baseline" and lv.solution is not None and solver == run.solver}
    ctx = RealismContext(run.case, run.pool, solver, run.time_limit, with_it, warm)
    words = {r.rule: r.words for r in RELAXATIONS}

    def advance(steps=1, what=None):
        if progress and what:
            progress(what)

    return deal(price_rule, ctx, realism_jobs(run.case, with_it), workers, advance,
                words=lambda job: f"measuring the price of {words[job[0]]} ({job[1]})",
                what="realism re-solves")
