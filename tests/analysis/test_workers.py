"""The asks' second process: the same asks as one process, and a failure measured here.

``commissioning.analysis.workers`` measures every other ask in a spawned interpreter. Nothing about the
answer may depend on it: the asks frame must be identical, and when the worker fails its
asks are measured in the main process with a message on standard error.
"""

from concurrent.futures import Future
from pathlib import Path

import pandas as pd
import pytest

from commissioning.inputs.validate import load_case
from commissioning.analysis import workers as workers_module
from commissioning.analysis.asks import choose_candidates, measured_asks
from optimiser.levels import optimise_case

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


@pytest.fixture(scope="module")
def run():
    return optimise_case(load_case(EXAMPLE), solver="highs")


@pytest.fixture(scope="module")
def alone(run):
    return measured_asks(run, max_measured=6)


def test_a_second_process_measures_the_same_asks(run, alone):
    assert len(alone) >= 4  # enough asks that both processes measure some
    with workers_module.Workers(2) as w:
        assert w.extra == 1
        both = measured_asks(run, max_measured=6, workers=w)
    pd.testing.assert_frame_equal(both, alone)


class BrokenWorker:
    """Stands in for a worker process that died."""

    extra = 1

    def submit(self, fn, *args):
        f = Future()
        f.set_exception(RuntimeError("the worker process died"))
        return f


def test_a_failed_worker_is_measured_here_and_said(run, alone, capsys):
    got = measured_asks(run, max_measured=6, workers=BrokenWorker())
    pd.testing.assert_frame_equal(got, alone)
    err = capsys.readouterr().err
    assert "the second process for the asks failed (RuntimeError: the worker process died)" in err
    assert "measuring its asks here instead" in err


def test_the_worker_only_where_it_pays(monkeypatch):
    monkeypatch.setattr(workers_module.os, "cpu_count", lambda: 2)
    assert not workers_module.worth_it(None, workers_module.PARALLEL_ABOVE)  # small: one process
    assert workers_module.worth_it(None, workers_module.PARALLEL_ABOVE + 1)
    assert not workers_module.worth_it(1, 10 ** 6)  # --jobs 1
    monkeypatch.setattr(workers_module.os, "cpu_count", lambda: 1)
    assert not workers_module.worth_it(None, 10 ** 6)  # one core: no second process
    assert workers_module.for_case(None, 10 ** 6).extra == 0


class GoneWorker:
    """A worker that died before the asks were sent: submitting raises at once."""

    extra = 1

    def submit(self, fn, *args):
        from concurrent.futures.process import BrokenProcessPool

        raise BrokenProcessPool("the worker was killed")


def test_a_worker_gone_before_the_asks_is_measured_here_and_said(run, alone, capsys):
    got = measured_asks(run, max_measured=6, workers=GoneWorker())
    pd.testing.assert_frame_equal(got, alone)
    assert "(BrokenProcessPool: the worker was killed); measuring its asks here instead" in capsys.readouterr().err


class InlineWorkers:
    """``extra`` workers that run their batch at once, in this process, and record it."""

    def __init__(self, extra):
        self.extra, self.batches = extra, []

    def submit(self, fn, *args):
        if fn.__name__ == "_batch" and args[0].__name__ == "_measure":
            self.batches.append([c.words for c in args[2]])
        f = Future()
        f.set_result(fn(*args))
        return f


def test_asks_are_dealt_round_robin_between_the_processes(run, alone):
    chosen, _ = choose_candidates(run, 6, None)
    w = InlineWorkers(2)  # --jobs 3: this process takes 0 and 3, the workers 1, 4 and 2, 5
    got = measured_asks(run, chosen=chosen, workers=w)
    assert w.batches == [[chosen[1].words, chosen[4].words], [chosen[2].words, chosen[5].words]]
    pd.testing.assert_frame_equal(got, alone)


def test_one_candidate_is_not_sent_away(run):
    chosen, _ = choose_candidates(run, 1, None)
    got = measured_asks(run, chosen=chosen, workers=BrokenWorker())  # never submitted, so never fails
    assert len(got) >= 1


def test_through_the_command_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from commissioning.cli import main

    monkeypatch.setattr(workers_module, "PARALLEL_ABOVE", 0)  # the example is small: force the worker
    monkeypatch.setattr(workers_module.os, "cpu_count", lambda: 2)
    started = []
    real = workers_module.Workers

    class Counted(real):
        def __init__(self, jobs):
            super().__init__(jobs)
            started.append(self.extra)

    monkeypatch.setattr(workers_module, "Workers", Counted)
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        res = CliRunner().invoke(main, ["--quiet", "optimise", str(EXAMPLE), "--out", str(out), "--jobs", jobs])
        assert res.exit_code == 0, res.output
        outs[jobs] = (out / "asks.csv").read_bytes()
    assert started == [1]  # --jobs 2 started one worker; --jobs 1 none
    assert outs["1"] == outs["2"] and outs["1"].count(b"\n") > 3


@pytest.mark.parametrize("worker", ["inline", "gone"])
def test_outputs_written_with_a_worker_are_the_same_bytes(run, tmp_path, monkeypatch, capsys, worker):
    from commissioning.writers import results as results_writer
    from commissioning.analysis.explain import explain_run

    monkeypatch.setattr(results_writer, "AWAY_ABOVE_ROWS", 0)  # every CSV goes to the worker
    explanation = explain_run(run, max_measured=2)
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    results_writer.write_run_outputs(run, here, explanation=explanation)
    w = InlineWorkers(1) if worker == "inline" else GoneWorker()
    results_writer.write_run_outputs(run, there, explanation=explanation, workers=w)
    for name in ("allocations.csv", "flags.csv", "asks.csv", "summary.json"):
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    err = capsys.readouterr().err
    if worker == "inline":
        assert err == ""
    else:  # said, and written here instead
        assert "the second process could not write allocations.csv (BrokenProcessPool" in err


def _square_plus(shared, item):
    return item * item + shared


class HalfBrokenWorker:
    """A worker whose second batch fails (a task raising there, or the process dying mid-way)."""

    extra = 1

    def __init__(self):
        self.batches, self.carried = [], []

    def submit(self, fn, *args):
        f = Future()
        self.batches.append(list(args[2]))
        self.carried.append(args[1] is not None)
        if len(self.batches) == 2:
            f.set_exception(RuntimeError("lost"))
        else:
            f.set_result(fn(*args))
        return f


def test_deal_in_batches_keeps_the_order_and_remakes_only_a_failed_batch(capsys):
    # Items 0..9: this process makes 0, 2, 4, 6, 8; the worker 1, 3, 5, 7, 9 in batches of two:
    # [1, 3], [5, 7] (fails, made here instead), [9]. Every result is item² + 100, in order.
    w, seen = HalfBrokenWorker(), []
    got = workers_module.deal(_square_plus, 100, list(range(10)), w, chunk=2, on_done=seen.append, what="draws")
    assert got == [i * i + 100 for i in range(10)]
    assert w.batches == [[1, 3], [5, 7], [9]]
    assert w.carried == [True, False, False]  # one worker process: the shared object sent once
    assert sorted(seen) == sorted(got)  # on_done once per item
    err = capsys.readouterr().err
    assert "the second process for the draws failed (RuntimeError: lost); measuring its draws here instead" in err


def test_a_worker_unpickles_what_a_deal_shares_once():
    import pickle

    workers_module._SHARED.clear()
    blob = pickle.dumps(7)
    assert workers_module._batch(_square_plus, blob, [1, 2], "t1") == [8, 11]
    workers_module._SHARED["t1"] = 1000  # what the worker holds is used for the deal's later batches
    assert workers_module._batch(_square_plus, None, [3], "t1") == [1009]  # later batches: the token only
    with pytest.raises(RuntimeError, match="a batch came before the object its deal shares"):
        workers_module._batch(_square_plus, None, [3], "unknown")
    assert workers_module._batch(_square_plus, pickle.dumps(0), [3], "t2") == [9]  # a new deal: the old let go
    assert list(workers_module._SHARED) == ["t2"]


def test_an_error_in_this_process_is_not_blamed_on_the_worker(capsys):
    class Inline:
        extra = 1

        def submit(self, fn, *args):
            f = Future()
            f.set_result(fn(*args))
            return f

    def on_done(row):
        if row == 1 + 100:  # the worker's first result: this process's callback fails on it
            raise ValueError("the progress bar broke")

    with pytest.raises(ValueError, match="the progress bar broke"):
        workers_module.deal(_square_plus, 100, [0, 1, 2, 3], Inline(), on_done=on_done)
    assert "failed" not in capsys.readouterr().err


def test_weighted_shares_go_dearest_first_to_the_least_loaded_process():
    # Weights 5, 1, 1, 1, 4, 2 in two processes. Every other item: 0, 2, 4 here (5 + 1 + 4 = 10),
    # 1, 3, 5 there (1 + 1 + 2 = 4). Dearest first to the lighter: 0 (5) here; 4 (4) there; 5 (2)
    # there (6); 1 (1) here (6); 2 (1) here (tie, the lower process: 7); 3 (1) there (7).
    assert workers_module.split(6, 2) == [[0, 2, 4], [1, 3, 5]]
    assert workers_module.split(6, 2, [5, 1, 1, 1, 4, 2]) == [[0, 1, 2], [3, 4, 5]]
    assert workers_module.split(3, 1, [1, 2, 3]) == [[0, 1, 2]]
    assert workers_module.split(4, 3, [1, 1, 1, 1]) == [[0, 3], [1], [2]]
    # Equal loads go to the process with fewer items: weights of zero still go round.
    assert workers_module.split(4, 2, [0, 0, 0, 0]) == [[0, 2], [1, 3]]


def test_a_weighted_deal_keeps_the_order_and_sends_the_split_share(capsys):
    class Inline:
        extra, batches = 1, []

        def submit(self, fn, *args):
            self.batches.append(list(args[2]))
            f = Future()
            f.set_result(fn(*args))
            return f

    w = Inline()
    got = workers_module.deal(_square_plus, 100, list(range(6)), w, weights=[5, 1, 1, 1, 4, 2])
    assert got == [i * i + 100 for i in range(6)]
    assert w.batches == [[3, 4, 5]]  # this process made 0, 1, 2


def test_work_begun_early_is_counted_against_the_worker_in_the_split():
    # Weights 5, 1, 1, 1, 4, 2; the worker still holds work of weight 6 begun early. Dearest first to
    # the lighter: 0 (5) here (5 against 6); 4 (4) here (9); 5 (2) there (8); 1 (1) there (9); 2 (1)
    # here (9 = 9, two items each: the lower process, 10); 3 (1) there (10).
    assert workers_module.split(6, 2, [5, 1, 1, 1, 4, 2], loads=[0.0, 6.0]) == [[0, 2, 4], [1, 3, 5]]
    # Without the early work the same weights split [[0, 1, 2], [3, 4, 5]] (the test above).
    assert workers_module.split(6, 2, [5, 1, 1, 1, 4, 2], loads=[0.0, 0.0]) == [[0, 1, 2], [3, 4, 5]]
    # Loads mean nothing without weights: every other item, as always.
    assert workers_module.split(4, 2, None, loads=[0.0, 9.0]) == [[0, 2], [1, 3]]


class HeldWorker:
    """A worker process whose queue this test controls: ``begin(k)`` marks the first ``k`` tasks as
    begun (they can no longer be cancelled), ``finish()`` makes every begun task, here."""

    extra = 1

    def __init__(self, fail: bool = False):
        self.tasks, self.fail = [], fail

    def submit(self, fn, *args):
        f = Future()
        self.tasks.append((f, fn, args))
        return f

    def begin(self, k):
        for f, _, _ in self.tasks[:k]:
            assert f.set_running_or_notify_cancel()

    def finish(self):
        for f, fn, args in self.tasks:
            if f.running():
                if self.fail:
                    f.set_exception(RuntimeError("lost"))
                else:
                    f.set_result(fn(*args))


def test_early_items_go_dearest_first_and_those_not_begun_come_back():
    # Items 0..3 with weights 1, 4, 2, 3: sent dearest first, 1, 3, 2, 0 (the first with the shared
    # object, the rest its token only). The worker begins two (1 and 3); this process takes back
    # the cheapest not begun, 0 and 2, and the worker's unfinished share weighs 4 + 3 = 7.
    workers_module._SHARED.clear()
    w = HeldWorker()
    early = workers_module.Early(_square_plus, 100, [0, 1, 2, 3], w, [1, 4, 2, 3])
    assert [args[2] for _, _, args in w.tasks] == [[1], [3], [2], [0]]
    assert [args[1] is not None for _, _, args in w.tasks] == [True, False, False, False]
    w.begin(2)
    assert early.take_back() == [0, 2] == early.taken
    assert early.busy() == 7.0
    # The next deal counts it against the workers: one worker holds 7; two (--jobs 3), 3.5 each.
    assert early.loads(1) == [0.0, 7.0] and early.loads(2) == [0.0, 3.5, 3.5] and early.loads(0) is None
    w.finish()
    assert early.busy() == 0.0 and early.loads(1) is None
    assert early.results() == {1: 1 + 100, 3: 9 + 100}  # item² + 100, as made in the worker


def test_early_items_whose_worker_failed_are_made_here_and_said(capsys):
    workers_module._SHARED.clear()
    w = HeldWorker(fail=True)
    early = workers_module.Early(_square_plus, 100, [0, 1, 2], w, [3, 2, 1], what="protection re-solves")
    w.begin(3)  # all begun: none comes back
    assert early.take_back() == []
    w.finish()
    steps = []
    assert early.results(lambda n=1, what=None: steps.append(n)) == {0: 100, 1: 101, 2: 104}
    assert steps == [1, 1, 1]
    assert ("the second process for the protection re-solves failed (RuntimeError: lost); measuring its "
            "protection re-solves here instead") in capsys.readouterr().err


def test_early_items_that_could_not_be_sent_are_taken_back_and_said(capsys):
    early = workers_module.Early(_square_plus, 100, [0, 1], GoneWorker(), [1, 2])
    assert early.take_back() == [0, 1]
    assert early.busy() == 0.0 and early.results() == {}
    assert "(BrokenProcessPool: the worker was killed); measuring its re-solves here instead" in capsys.readouterr().err


def test_early_failures_are_said_in_the_order_sent(capsys):
    # Items 0, 1, 2 with weights 1, 3, 2 go in the order 1, 2, 0; the first sent (item 1, carrying
    # the shared object) fails for its own reason and the later ones only because of it. The message
    # names the first sent's failure, not item 0's (the first by position).
    workers_module._SHARED.clear()
    w = HeldWorker()
    early = workers_module.Early(_square_plus, 100, [0, 1, 2], w, [1, 3, 2], what="protection re-solves")
    w.begin(3)
    for k, (f, _, _) in enumerate(w.tasks):
        f.set_exception(ImportError("no module named x") if k == 0 else
                        RuntimeError("a batch came before the object its deal shares"))
    assert early.results() == {0: 100, 1: 101, 2: 104}  # all made here
    assert "failed (ImportError: no module named x)" in capsys.readouterr().err


def test_early_items_cancelled_are_let_go():
    # Three items, the worker begins one (the dearest, item 1): cancel() cancels the two not begun
    # and waits for nothing; nothing is taken back or held any longer.
    workers_module._SHARED.clear()
    w = HeldWorker()
    early = workers_module.Early(_square_plus, 100, [0, 1, 2], w, [1, 3, 2])
    w.begin(1)
    early.cancel()
    assert [f.cancelled() for f, _, _ in w.tasks] == [False, True, True]
    assert early.busy() == 0.0 and early.take_back() == [] and early.results() == {}


def _refuses_three(shared, item):
    from commissioning.errors import SolverError

    if item == 3:
        raise SolverError("the ask's re-solve: its tie-break phase ended infeasible")
    return item + shared


def test_the_case_s_own_error_in_a_worker_is_raised_not_blamed_on_the_worker(capsys):
    """A solver error or a collision met in the worker is the case's, not the worker's: it is raised
    (made again here, where it happens again), and nothing says the second process failed."""
    from commissioning.errors import SolverError

    class Inline:
        extra = 1

        def submit(self, fn, *args):
            f = Future()
            try:
                f.set_result(fn(*args))
            except Exception as e:
                f.set_exception(e)
            return f

    workers_module._SHARED.clear()
    with pytest.raises(SolverError, match="tie-break phase ended infeasible"):
        workers_module.deal(_refuses_three, 100, [0, 1, 2, 3], Inline())  # 1 and 3 go to the worker
    workers_module._SHARED.clear()
    early = workers_module.Early(_refuses_three, 100, [2, 3], Inline(), [1, 2])
    with pytest.raises(SolverError, match="tie-break phase ended infeasible"):
        early.results()
    assert "failed" not in capsys.readouterr().err
