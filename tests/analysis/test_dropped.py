"""Dropped cohorts and areas, and the measured cost of protecting them, worked by hand.

The case (one year, 2025-26; one pot P, any area, any cohort, £1,000 a head, £40,000)::

    cohort  outcome rate  unit cost  outcomes per £1,000   need                today's provision
    F       0.6           £1,000     0.6                   A2: 25              A2: £10,000 (10 people)
    E       0.5           £1,000     0.5                   A1: 15              A1: £10,000 (10 people)
    H       0.5           £2,000     0.25 (rates row)      A1: 100             A1: £20,000 (10 people)

Today (the baseline: every row legal, no cell beyond its need, £40,000 = the budget):
H 10, E 10, F 10 participants; A1 20, A2 10.

The optimum buys the best outcomes per pound first, up to each cell's need: F 25 people
(£25,000, 15 outcomes), then E 15 (£15,000, 7.5 outcomes) — the money is gone, H gets
nothing. 22.5 outcomes, one plan (every pound is on a cell it cannot do better than).
So H falls from 10 to 0 (more than half: **dropped**, people 10, £20,000 gone elsewhere);
area A1 falls from 20 to 15 (a quarter: not flagged); A2 rises from 10 to 25.

Protecting H with a floor of half of today's 10 participants: H ≥ 5, at £2,000 a head
£10,000, buying 5 × 0.5 = 2.5 outcomes; the £30,000 left buys F 25 (£25,000, 15 outcomes)
and E 5 (£5,000, 2.5 outcomes): 20 outcomes. **Cost 22.5 − 20 = 2.5 outcomes**; 5 of H
kept. The pot is not poolable, so the pooled level is the aligned one: the same finding.
"""

from __future__ import annotations

import pytest

from lpcases import Y1, cohort, make_case, pot, rate, rule
from optimiser.levels import optimise_case

from commissioning.analysis.dropped import AlignedAhead, DroppedContext, dropped_analysis, find_dropped
from commissioning.analysis.explain import explain_run
from commissioning.analysis.summary import explanation_summary, summary_record

SOLVERS = ["cbc", "highs"]


def _case(tmp_path, **extra):
    return make_case(
        tmp_path / "case", areas=["A1", "A2"],
        cohorts=[cohort("F", 0.6), cohort("E", 0.5), cohort("H", 0.5)],
        pots=[pot("P")], budgets={("P", Y1): 40_000},
        need={("A2", "F", Y1): 25, ("A1", "E", Y1): 15, ("A1", "H", Y1): 100},
        rates=[rate("P", "H", unit_cost=2000)],
        provision={("P", "A1", "H", Y1): 20_000, ("P", "A1", "E", Y1): 10_000, ("P", "A2", "F", Y1): 10_000},
        **extra)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_expensive_cohort_is_flagged_with_its_measured_cost(tmp_path, solver):
    run = optimise_case(_case(tmp_path), solver=solver)
    assert run.levels["aligned"].totals["outcomes"] == pytest.approx(22.5, abs=1e-6)
    found = dropped_analysis(run)
    # H alone, at both levels; area A1 (20 → 15, a quarter) is not flagged.
    assert [(d.level, d.kind, d.code) for d in found] == [("aligned", "cohort", "H"), ("pooled", "cohort", "H")]
    for d in found:
        assert d.today == pytest.approx(10) and d.plan == pytest.approx(0, abs=1e-6)
        assert d.status == "measured"
        assert d.cost == pytest.approx(2.5, abs=1e-6) and d.cost_outcomes == pytest.approx(2.5, abs=1e-6)
        assert d.protected == pytest.approx(5, abs=1e-6) and d.people_kept == pytest.approx(5, abs=1e-6)
        assert d.words == (f"Cohort H: 10 supported today, 0 in the {d.level} plan. Keeping at least half of "
                           "them each year would cost 2.5 outcomes (measured) and keep 5 of them supported over "
                           "the term.")


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_flags_and_the_summary_carry_the_finding(tmp_path, solver):
    run = optimise_case(_case(tmp_path), solver=solver)
    ex = explain_run(run, asks=False, measure_dropped=True)
    flags = ex.flags[ex.flags["kind"] == "dropped"]
    assert list(zip(flags["level"], flags["cohort_code"])) == [("aligned", "H"), ("pooled", "H")]
    assert flags["area_code"].isna().all() and flags["year"].isna().all()
    # people: 10 today − 0 planned; amount: £20,000 today − £0 planned.
    assert flags["people"].tolist() == pytest.approx([10, 10], abs=1e-6)
    assert flags["amount"].tolist() == pytest.approx([20_000, 20_000], abs=0.01)
    summary = summary_record(run, explanation_summary(ex))
    (first, second) = summary.dropped
    assert (first.level, first.kind, first.code, first.status) == ("aligned", "cohort", "H", "measured")
    assert first.cost == pytest.approx(2.5, abs=1e-6) and first.people_kept == pytest.approx(5, abs=1e-6)
    assert first.words == flags["detail"].iloc[0]
    assert "dropped" in summary.to_json()


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_protected_cohort_is_not_flagged(tmp_path, solver):
    # A floor of 0.3 on H: H ≥ 3 (£6,000, 1.5 outcomes); the £34,000 left buys F 25 and E 9.
    # H falls from 10 to 3 (by more than half) but has its floor: not flagged. E 10 → 9 and
    # A1 20 → 12 (by 40%) are not flagged either.
    run = optimise_case(_case(tmp_path, settings={"protect": {"cohorts": {"H": 0.3}}}), solver=solver)
    h = run.levels["aligned"].allocations.query("cohort_code == 'H'")["participants"].sum()
    assert h == pytest.approx(3, abs=1e-6)
    assert find_dropped(run) == []


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_floor_no_allocation_can_keep_is_said_in_words(tmp_path, solver):
    # At most £4,000 of P on H (2 people): keeping half of today's 10 (5 people, £10,000)
    # cannot hold with that rule, so the cost is not a number but the collision.
    run = optimise_case(_case(tmp_path, rules=[rule("max_amount", 4000, pot="P", cohort="H")]), solver=solver)
    (d, _) = dropped_analysis(run)
    assert (d.code, d.status, d.cost) == ("H", "infeasible", None)
    assert "Keeping at least half of them each year is not possible under the aligned level's other rules" in d.words
    assert d.why


def test_without_measuring_the_flag_says_its_cost_was_not_measured(tmp_path):
    run = optimise_case(_case(tmp_path), solver="cbc")
    (d, _) = dropped_analysis(run, measured=False)
    assert d.status == "not_measured" and d.cost is None and "was not measured" in d.words


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_area_the_plan_leaves_is_flagged_with_its_measured_cost(tmp_path, solver):
    # A1 needs only H (100 people, £20,000 today: 10 people); A2 only F (40 people, £20,000
    # today: 20 people); £40,000. The optimum puts it all on F in A2 (40 people, 24 outcomes):
    # A1 falls from 10 to 0, and so does cohort H. Keeping half of A1's 10 (5 of H, £10,000,
    # 2.5 outcomes) leaves £30,000 for 30 of F (18 outcomes): 20.5, a cost of 24 − 20.5 = 3.5.
    case = make_case(
        tmp_path / "case", areas=["A1", "A2"], cohorts=[cohort("F", 0.6), cohort("H", 0.5)],
        pots=[pot("P")], budgets={("P", Y1): 40_000},
        need={("A2", "F", Y1): 40, ("A1", "H", Y1): 100}, rates=[rate("P", "H", unit_cost=2000)],
        provision={("P", "A1", "H", Y1): 20_000, ("P", "A2", "F", Y1): 20_000})
    run = optimise_case(case, solver=solver)
    assert run.levels["aligned"].totals["outcomes"] == pytest.approx(24, abs=1e-6)
    found = [d for d in dropped_analysis(run) if d.level == "aligned"]
    assert [(d.kind, d.code) for d in found] == [("cohort", "H"), ("area", "A1")]
    area = found[1]
    assert area.cost == pytest.approx(3.5, abs=1e-6) and area.people_kept == pytest.approx(5, abs=1e-6)
    assert area.words == ("Area A1: 10 people supported today, 0 in the aligned plan. Keeping at least half of "
                          "them each year would cost 3.5 outcomes (measured) and keep 5 of them supported over "
                          "the term.")


class _GoneWorker:
    """A second process that died before the re-solves were sent: submitting raises at once."""

    extra = 1

    def submit(self, fn, *args):
        from concurrent.futures.process import BrokenProcessPool

        raise BrokenProcessPool("the worker was killed")


def test_the_re_solves_shared_with_a_second_process_give_the_same_findings(tmp_path, capsys):
    """Every other re-solve made in a real second process (spawned, as the CLI starts it): the
    same records, in the same order; a worker that is gone is said, and its share made here."""
    from commissioning.analysis.workers import Workers

    run = optimise_case(_case(tmp_path), solver="highs")
    alone = dropped_analysis(run)
    assert len(alone) == 2 and all(d.status == "measured" for d in alone)
    with Workers(2) as w:
        shared = dropped_analysis(run, workers=w)
    assert shared == alone
    gone = dropped_analysis(run, workers=_GoneWorker())
    assert gone == alone
    assert ("the second process for the protection re-solves failed (BrokenProcessPool: the worker was killed); "
            "measuring its protection re-solves here instead") in capsys.readouterr().err


def test_the_aligned_re_solves_begun_while_the_pooled_level_is_solved_give_the_same_findings(tmp_path):
    """The aligned level's re-solve handed to a real second process as soon as that level is solved
    (:class:`AlignedAhead`, as the command line does), then gathered: the same records, in order."""
    from commissioning.analysis.workers import Workers

    case = _case(tmp_path)
    alone = dropped_analysis(optimise_case(case, solver="highs"))
    with Workers(2) as w:
        ahead = AlignedAhead(w)
        run = optimise_case(case, solver="highs", after_level=ahead)
        assert [(d.level, d.code) for d in ahead.items] == [("aligned", "H")]  # begun before pooled was solved
        got = dropped_analysis(run, workers=w, ahead=ahead)
    assert got == alone
    assert ahead.early.futures == {}  # every one gathered


def test_what_the_worker_began_is_not_made_again_here(tmp_path, monkeypatch):
    """The items handed ahead and not taken back are gathered, never given to this process's share
    (``share_out``) as well; those taken back are, once."""
    from commissioning.analysis import dropped as dropped_module

    case = _case(tmp_path)
    alone = dropped_analysis(optimise_case(case, solver="highs"))
    made = []
    real = dropped_module.share_out

    def spy(fn, shared, items, *args, **kw):
        made.extend((d.level, d.code) for d in items)
        return real(fn, shared, items, *args, **kw)

    monkeypatch.setattr(dropped_module, "share_out", spy)
    held = _HeldWorker(fail=False)  # begins nothing: the item comes back
    ahead = AlignedAhead(held)
    assert dropped_analysis(optimise_case(case, solver="highs", after_level=ahead), ahead=ahead) == alone
    assert made.count(("aligned", "H")) == 1 and ahead.early.taken == [0]
    made.clear()
    begun = _HeldWorker(fail=False, begin=True)  # begins it and makes it (in this process, for the test)
    ahead = AlignedAhead(begun)
    assert dropped_analysis(optimise_case(case, solver="highs", after_level=ahead), ahead=ahead) == alone
    assert ("aligned", "H") not in made and ahead.early.taken == []
    assert begun.made == 1


def test_an_aligned_ahead_serves_one_run_once(tmp_path):
    """Gathered a second time, or for another run, the items begun ahead would be missing (or
    another run's): refused. A run whose dropped cohorts are not measured lets them go."""
    case = _case(tmp_path)
    ahead = AlignedAhead(_HeldWorker(fail=False))
    run = optimise_case(case, solver="highs", after_level=ahead)
    other = optimise_case(case, solver="highs")
    with pytest.raises(ValueError, match="the run it was begun for, once"):
        dropped_analysis(other, ahead=ahead)
    unmeasured = dropped_analysis(run, measured=False, ahead=ahead)
    assert [d.status for d in unmeasured] == ["not_measured", "not_measured"]
    assert ahead.early.futures == {}  # cancelled: nothing waits on the worker
    with pytest.raises(ValueError, match="once"):
        dropped_analysis(run, ahead=ahead)


class _HeldWorker:
    """A second process that has not begun what it was given (so all of it can be taken back), or
    that begins it all and fails."""

    extra = 1

    def __init__(self, fail: bool, begin: bool = False):
        self.fail, self.begin, self.made = fail, begin, 0

    def submit(self, fn, *args):
        from concurrent.futures import Future

        f = Future()
        if self.fail:
            f.set_running_or_notify_cancel()
            f.set_exception(RuntimeError("lost"))
        elif self.begin:
            f.set_running_or_notify_cancel()
            f.set_result(fn(*args))
            self.made += 1
        return f


@pytest.mark.parametrize("fail", [False, True])
def test_aligned_re_solves_taken_back_or_lost_are_made_here(tmp_path, capsys, fail):
    case = _case(tmp_path)
    alone = dropped_analysis(optimise_case(case, solver="highs"))
    ahead = AlignedAhead(_HeldWorker(fail))
    run = optimise_case(case, solver="highs", after_level=ahead)
    got = dropped_analysis(run, ahead=ahead)  # no workers for the rest: this process makes them
    assert got == alone
    assert ahead.early.taken == ([] if fail else [0])
    assert ("measuring its protection re-solves here instead" in capsys.readouterr().err) == fail


def test_nothing_is_begun_ahead_without_a_second_process(tmp_path):
    from commissioning.analysis.workers import NoWorkers

    ahead = AlignedAhead(NoWorkers())
    run = optimise_case(_case(tmp_path), solver="highs", after_level=ahead)
    assert ahead.early is None and ahead.items == []
    assert dropped_analysis(run, ahead=ahead) == dropped_analysis(run)


def test_after_level_sees_each_level_as_it_is_solved(tmp_path):
    seen = []
    optimise_case(_case(tmp_path), solver="highs", after_level=lambda r, lv: seen.append((lv, r.level_names)))
    assert seen == [("aligned", ("baseline", "aligned")), ("pooled", ("baseline", "aligned", "pooled"))]


def test_a_level_is_re_solved_with_the_pool_it_was_built_with():
    """A settlement level whose settlement pots are all ring-fenced is built with no pool; its
    protection re-solves must be too, not with the run's (the pooled level's) pool."""
    from types import SimpleNamespace

    def level(pool):
        return SimpleNamespace(pool=pool, allocations=None, solution=None, lp=None)

    run = SimpleNamespace(case=None, solver="highs", time_limit=None, objective="outcomes", pool=frozenset({"P1", "P2"}),
                          levels={"aligned": level(frozenset()), "settlement": level(frozenset()),
                                  "pooled": level(frozenset({"P1", "P2"}))})
    ctx = DroppedContext.of(run, ["aligned", "settlement", "pooled"])
    assert ctx.pool_of("settlement") == frozenset() and ctx.pool_of("aligned") == frozenset()
    assert ctx.pool_of("pooled") == frozenset({"P1", "P2"})
    assert ctx.models == {}  # no model to share: each is built where it is re-solved
