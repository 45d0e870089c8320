"""A second process for the independent re-solves, on machines with more than one core.

The measured asks (a dozen by default), the re-solves that measure what protecting each
dropped cohort or area would cost (:mod:`commissioning.analysis.dropped`) and the price of
each realism rule (:mod:`commissioning.analysis.realism`) are independent re-solves of one
run, and ``sensitivity``'s draws independent solves (:class:`Processes`); :func:`deal` shares
any of them out. A second *process*, not a thread: HiGHS releases Python's GIL while it
solves (highspy 1.16), but building each model and reading its plan is Python work that holds
it, a third or more of a re-solve at combined-authority size, so threads would wait on each
other there. The
worker is started with ``spawn`` — a fresh interpreter, never a fork of a process whose
solver threads are running — as soon as the case is read, so that its imports overlap the
optimisation; by the time the re-solves begin it is ready, and it takes every other one — or,
where the caller can say what each will cost (the dropped-cohort re-solves, by the people lost),
a share balanced by those weights (:func:`split`).

Each re-solve is made by the same code, from the same basis, in either process, so the
results are identical with or without the worker (tested). If the worker fails, the re-solves
it held are made in the main process and the failure is said on standard error: slower, never
different.

Used only where it pays (``worth_it``): a combined authority's re-solves take seconds, a
district's well under one, and starting an interpreter costs about one CPU second.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from commissioning.errors import CommissioningError

# Below this many eligible cells (the aligned model's size) the re-solves take under a second
# and a second interpreter is not worth starting. The same size at which `auto` picks HiGHS.
PARALLEL_ABOVE = 10_000


def default_jobs() -> int:
    """Processes for the re-solves: 2 on a machine with two or more cores, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def worth_it(jobs: int | None, cells: int) -> bool:
    """Whether a worker process pays: more than one job (default :func:`default_jobs`) and more
    than :data:`PARALLEL_ABOVE` eligible cells."""
    jobs = default_jobs() if jobs is None else jobs
    return jobs > 1 and cells > PARALLEL_ABOVE


def _ready(parent: int) -> None:
    """In the worker: ignore Ctrl-C (the main process handles it and stops the worker), leave
    when the main process is gone, and import what the re-solves need while it optimises."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:  # a killed parent cannot shut its pool down: do not linger
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    # The heavy imports (pandas, scipy, highspy, the model layers); the analysis module whose
    # function is sent is light on top of them, and imported when the first task names it.
    import optimiser.levels  # noqa: F401
    import optimiser.solve  # noqa: F401


def _nothing() -> None:
    return None


class Workers:
    """``jobs - 1`` extra processes kept for the re-solves (one on a 2-core machine); a context
    manager. The re-solves are dealt round-robin between this process and the workers (:func:`deal`)."""

    def __init__(self, jobs: int = 2):
        self.jobs = max(1, int(jobs))
        self._pool: ProcessPoolExecutor | None = None
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(self.jobs - 1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_ready, initargs=(os.getpid(),))
            self._pool.submit(_nothing)  # start the interpreter now, not when the asks begin

    @property
    def extra(self) -> int:
        """How many processes besides this one."""
        return self.jobs - 1 if self._pool is not None else 0

    def submit(self, fn, *args) -> Future:
        """Run ``fn(*args)`` in a worker process and return its future; RuntimeError when there is none."""
        if self._pool is None:
            raise RuntimeError("no worker process")
        return self._pool.submit(fn, *args)

    def close(self, stop: bool = False) -> None:
        """Shut the workers down; with ``stop`` (an error or Ctrl-C in the main process), end
        them at once rather than wait for an ask they are solving (up to a minute at scale)."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if stop:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=not stop, cancel_futures=True)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(stop=exc_type is not None)


class NoWorkers:
    """Stands in for :class:`Workers` when the re-solves are made in this process alone."""

    extra = 0

    def close(self, stop: bool = False) -> None:
        """Nothing to shut down."""

    def __enter__(self) -> "NoWorkers":
        return self

    def __exit__(self, *exc) -> None:
        pass


def split(n: int, procs: int, weights: list[float] | None = None,
          loads: list[float] | None = None) -> list[list[int]]:
    """Which of ``n`` items each of ``procs`` processes makes (0 is this one), each list in item
    order: every ``procs``-th item (``0, procs, 2·procs, …`` here), or with ``weights`` (each
    item's expected cost) the dearest first, each to the process with the least so far (the
    longest-processing-time rule; between equal loads, the one with fewer items, then the
    lowest-numbered, so the split is fixed and weights of zero still go round). ``loads`` (with
    ``weights``, in their units) is what each process has still to make before these: work
    started early (:class:`Early`) that a worker has not finished."""
    if weights is None:
        return [list(range(w, n, procs)) for w in range(procs)]
    load, out = [0.0] * procs, [[] for _ in range(procs)]
    for w, already in enumerate((loads or [])[:procs]):
        load[w] = float(already)
    for i in sorted(range(n), key=lambda i: (-float(weights[i]), i)):
        w = min(range(procs), key=lambda w: (load[w], len(out[w]), w))
        out[w].append(i)
        load[w] += float(weights[i])
    return [sorted(x) for x in out]


def said_failed(what: str, e: BaseException) -> None:
    """Say on standard error that a worker failed and its ``what`` are made in this process."""
    import sys

    print(f"commissioning: the second process for the {what} failed ({type(e).__name__}: {e}); "
          f"measuring its {what} here instead", file=sys.stderr)


def deal(fn, shared, items: list, workers=None, advance=None, words=None, what: str = "asks",
         chunk: int | None = None, on_done=None, weights: list[float] | None = None,
         loads: list[float] | None = None) -> list:
    """``[fn(shared, item) for item in items]``, the results in order. With ``k`` extra processes
    (``workers.extra``) this process makes items ``0, k + 1, 2(k + 1), …`` and the rest go to the
    workers' pool (share ``j`` holds items ``j, j + k + 1, …``; with more than one worker the pool
    gives each batch to whichever process is free); with ``weights``, each item's expected cost,
    the shares are :func:`split` by them instead, so that one process is not left waiting for a
    share of the dear ones (``loads``: each process's unfinished early work, as there).

    ``fn`` must be a module-level function (it is sent by name); ``shared`` is pickled once, here,
    before anything is solved, sent once to a single worker process (with every batch when there
    are several) and unpickled only once in each however many batches of the deal it makes. A worker's items go in one batch, or in batches of ``chunk`` (so that progress is
    seen as they finish: a hundred draws, not a dozen asks). ``advance(steps, words)`` reports
    progress (``words(item)`` names the item being made here) and ``on_done(result)`` is called as
    each item is finished; ``what`` names the items in what is said when a worker fails."""
    advance = advance or (lambda steps=1, what=None: None)
    results: list = [None] * len(items)
    procs = 1 + min(getattr(workers, "extra", 0), max(0, len(items) - 1))
    parts = split(len(items), procs, weights, loads)
    shares = {w: parts[w] for w in range(1, procs) if parts[w]}
    pending, failed = [], {}  # pending: (worker, indices, future); failed: worker -> (error, indices)

    def finished(idx, rows):
        for i, row in zip(idx, rows):
            results[i] = row
            if on_done:
                on_done(row)
        advance(len(idx))

    def collect(block: bool) -> None:
        for entry in list(pending):
            w, idx, future = entry
            if not (block or future.done()):
                continue
            pending.remove(entry)
            try:
                rows = future.result()
            except Exception as e:  # the worker died or failed: make its share here, and say so
                failed.setdefault(w, (e, []))[1].extend(idx)
                continue
            finished(idx, rows)  # outside the try: an error here is this process's, not the worker's

    if shares:
        import pickle
        import uuid

        # Pickled here, once: not in the executor's feeder thread while this one fills
        # caches on the case it is pickling.
        blob = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
        token = uuid.uuid4().hex
        for w, idx in shares.items():
            size = chunk or len(idx)
            for start in range(0, len(idx), size):
                part = idx[start:start + size]
                try:
                    # One worker process takes its batches in order: the first carries the shared
                    # object, the rest only its token. Several take them as they come: each carries it.
                    sent = blob if start == 0 or procs > 2 else None
                    pending.append((w, part, workers.submit(_batch, fn, sent, [items[i] for i in part], token)))
                except Exception as e:  # the worker is gone already (killed, failed to start)
                    failed.setdefault(w, (e, []))[1].extend(part)
    for i in parts[0]:
        advance(0, words(items[i]) if words else None)
        row = fn(shared, items[i])
        finished([i], [row])
        collect(block=False)
    if pending:
        advance(0, f"waiting for the {sum(len(idx) for _, idx, _ in pending)} {what} made in another process")
    collect(block=True)
    for e, idx in failed.values():
        if not isinstance(e, CommissioningError):  # the case's own trouble is raised again below, not blamed
            said_failed(what, e)                   # on the worker (a solver error, a collision)
        for i in sorted(idx):
            finished([i], [fn(shared, items[i])])
    return results


def share_out(fn, shared, items: list, workers=None, runner=None, advance=None, words=None,
              what: str = "asks", weights: list[float] | None = None,
              loads: list[float] | None = None) -> list:
    """:func:`deal` (``weights`` and ``loads`` as there), or each item a task on the cluster when
    ``runner`` has an address (:class:`commissioning.analysis.cluster.Cluster`, ``shared`` sent to
    each worker once; the scheduler gives each task to whichever worker is free)."""
    if runner is not None and getattr(runner, "address", None):
        return runner.map(fn, shared, items, on_done=(lambda _: advance(1)) if advance else None)
    return deal(fn, shared, items, workers, advance, words=words, what=what, weights=weights, loads=loads)


class Early:
    """Items handed to the worker processes before this process is free to share them.

    While this process solves the levels above the aligned one, the second process would
    otherwise wait; what needs only the aligned level (its dropped-cohort re-solves,
    :mod:`commissioning.analysis.dropped`) can begin there. Each item is a task of its own, the
    dearest first (by ``weights``), so that when this process comes to them it can
    :meth:`take_back` those no worker has begun (from the cheapest end, where the queue is last
    reached) and make them itself with the rest, while what the workers have begun counts against
    their share of the next deal (:meth:`busy`). The same function on the same object either way,
    so the same results (tested); a worker that fails is said and its items are made here, as in
    :func:`deal`.
    """

    def __init__(self, fn, shared, items: list, workers, weights: list[float], what: str = "re-solves"):
        import pickle
        import uuid

        self.fn, self.shared, self.items, self.what = fn, shared, list(items), what
        self.weights = [float(w) for w in weights]
        self.order = sorted(range(len(self.items)), key=lambda i: (-self.weights[i], i))
        self.futures: dict[int, Future] = {}
        self.failed: dict[int, Exception] = {}
        self.taken: list[int] = []  # what take_back returned (for the benchmarks to report)
        blob = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
        token = uuid.uuid4().hex
        several = getattr(workers, "extra", 0) > 1
        for k, i in enumerate(self.order):
            try:
                # One worker process takes the tasks in order: the first carries the shared object
                # (and is never taken back while a later one is not), the rest only its token.
                sent = blob if k == 0 or several else None
                self.futures[i] = workers.submit(_batch, fn, sent, [self.items[i]], token)
            except Exception as e:  # the worker is gone already: made here when taken back
                self.failed[i] = e

    def take_back(self) -> list[int]:
        """The items (their positions, in order) this process makes: those no worker has begun,
        cancelled there from the cheapest up to the first one begun, and any that could not be sent."""
        back = set(self.failed)
        if self.failed:
            said_failed(self.what, next(iter(self.failed.values())))
        self.failed = {}
        for i in reversed(self.order):
            future = self.futures.get(i)
            if future is None:
                continue
            if not future.cancel():
                break
            del self.futures[i]
            back.add(i)
        self.taken = sorted(back)
        return self.taken

    def cancel(self) -> None:
        """Nothing more is wanted of these items: those no worker has begun are cancelled, and what
        the begun ones give is let go (the worker finishes them, no one waits)."""
        for future in self.futures.values():
            future.cancel()
        self.futures, self.failed = {}, {}

    def busy(self) -> float:
        """The weights of the items a worker holds and has not finished."""
        return float(sum(self.weights[i] for i, f in self.futures.items() if not f.done()))

    def loads(self, extra: int) -> list[float] | None:
        """The ``loads`` of the next deal among this process and ``extra`` workers (see :func:`split`):
        the unfinished work spread evenly over the workers, as their pool hands each task to
        whichever is free; None when there is none."""
        busy = self.busy()
        return [0.0] + [busy / extra] * extra if busy and extra else None

    def results(self, advance=None) -> dict[int, object]:
        """Each item a worker holds, by position, waiting for it; an item whose worker failed is
        made here and said (on standard error)."""
        advance = advance or (lambda steps=1, what=None: None)
        out, lost = {}, {}
        for i in sorted(self.futures):
            try:
                out[i] = self.futures[i].result()[0]
            except Exception as e:  # the worker died or failed: made here below
                lost[i] = e
                continue
            advance(1)
        self.futures = {}
        first = lost[next(i for i in self.order if i in lost)] if lost else None
        if lost and not isinstance(first, CommissioningError):
            # The first failure in the order sent: a later task's may only follow from it (the
            # first carries the shared object, and a worker that could not read it fails the rest).
            said_failed(self.what, first)
        for i in sorted(lost):  # made here: the case's own trouble is raised again, here
            out[i] = self.fn(self.shared, self.items[i])
            advance(1)
        return out


_SHARED: dict[str, object] = {}  # in a worker process: the shared object of the current deal, by its token


def _batch(fn, blob: bytes | None, items: list, token: str) -> list:
    """In a worker process: ``fn(shared, item)`` for these items, in order, ``shared`` unpickled
    once per deal (its ``token``) and kept for the deal's later batches, which may then come
    without it (``blob`` None)."""
    import pickle

    if token not in _SHARED:
        if blob is None:  # never expected (see deal); the batch is then made in the main process
            raise RuntimeError("a batch came before the object its deal shares")
        _SHARED.clear()  # one deal at a time: the last one's case is let go
        _SHARED[token] = pickle.loads(blob)
    shared = _SHARED[token]
    return [fn(shared, item) for item in items]


class Processes:
    """Runs independent tasks in this process and the ``workers``' processes (:func:`deal`), with
    the interface of :class:`commissioning.analysis.cluster.Here`: used for a sweep on one
    machine with two or more cores."""

    address = None

    def __init__(self, workers, chunk: int = 4, what: str = "solves"):
        self.workers, self.chunk, self.what = workers, chunk, what

    def map(self, fn, shared, items, on_done=None) -> list:
        """``[fn(shared, item) for item in items]``, shared out, calling ``on_done(result)`` as each finishes."""
        return deal(fn, shared, list(items), self.workers, what=self.what, chunk=self.chunk, on_done=on_done)

    def close(self) -> None:
        """The workers are closed by whoever started them."""

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc) -> None:
        pass


def for_case(jobs: int | None, cells: int) -> "Workers | NoWorkers":
    """A worker for a case of ``cells`` eligible cells, when it pays (see the module docstring)."""
    return Workers(default_jobs() if jobs is None else jobs) if worth_it(jobs, cells) else NoWorkers()
