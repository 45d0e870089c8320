"""Independent solves, run here or on a Dask distributed cluster.

``compare``, ``sensitivity``, ``robust`` (its perfect-information draws), ``frontier`` and the
asks each make many solves that do not depend on one another. :func:`runner` gives them
one way to run those, whatever the machine:

* :class:`Here` (no ``--cluster``): one after another in this process, as before;
* :class:`commissioning.analysis.workers.Processes` (no ``--cluster``, a second process started
  where it pays): shared round-robin between this process and the second, in small batches;
* :class:`Cluster` (``--cluster tcp://HOST:8786``): on the workers of a running Dask
  scheduler. What every task shares (the case, a basis) is sent to each worker once
  (scattered, broadcast); each task is one top-level function and its own small
  arguments; tasks that fail because a worker died are retried (:data:`RETRIES`); the
  results come back in the order given, whatever order they finish in, so the figures
  are the same figure for figure as a run here (tested with a two-worker ``LocalCluster``).

A task that raises (an infeasible draw, say) raises here as it would locally: the
cluster changes where solves run, never what they give. The workers must have the same
version of this package installed (``pip install commissioning`` on each); the client
says so if the scheduler cannot be reached, and exits 4 (:class:`ClusterError`).

Decisions: one solve per worker process at a time (start workers with
``--nthreads 1``, as HiGHS advises: its own threads would otherwise contend); a task is
handed over as a function and arguments, never as a pickled model, so the worker builds
the model itself from the case — the same code path as here.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from commissioning.errors import CommissioningError

RETRIES = 2  # a task lost with its worker is run again this many times
CONNECT_TIMEOUT = "10s"


class ClusterError(CommissioningError):
    """The cluster could not be reached or used."""

    exit_code = 4


class Here:
    """Run the tasks one after another in this process."""

    address = None
    workers = 1

    def map(self, fn: Callable, shared: Any, items: Sequence, on_done: Callable[[Any], None] | None = None) -> list:
        """``[fn(shared, item) for item in items]``, calling ``on_done(result)`` as each finishes."""
        out = []
        for item in items:
            out.append(fn(shared, item))
            if on_done:
                on_done(out[-1])
        return out

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> "Here":
        return self

    def __exit__(self, *exc) -> None:
        pass


class Cluster:
    """Run the tasks on a Dask distributed cluster (see the module docstring)."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as e:  # a dependency of the package: only a broken install lacks it
            raise ClusterError(f"--cluster needs Dask distributed ({e}); pip install 'dask[distributed]'") from e
        self.address = address
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise ClusterError(f"could not reach the Dask scheduler at {address}: {e}. Start one with "
                               "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1` "
                               "(README, 'Running on a cluster').") from e

    @property
    def workers(self) -> int:
        """How many workers the scheduler has now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def map(self, fn: Callable, shared: Any, items: Sequence, on_done: Callable[[Any], None] | None = None) -> list:
        """``[fn(shared, item) for item in items]`` on the cluster, in the order given."""
        from distributed import as_completed

        if not items:
            return []
        shared_f = self.client.scatter(shared, broadcast=True, hash=False)
        futures = [self.client.submit(fn, shared_f, item, retries=RETRIES, pure=False) for item in items]
        position = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(futures)
        try:
            for fut in as_completed(futures, loop=self.client.loop):
                i = position[fut.key]
                out[i] = fut.result()  # a task's own exception is raised here, as it would be locally
                if on_done:
                    on_done(out[i])
        finally:
            self.client.cancel(futures)
        return out

    def close(self) -> None:
        """Leave the cluster (it keeps running for others)."""
        self.client.close()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def runner(address: str | None, workers=None):
    """:class:`Cluster` on ``address`` when one is given; else, with ``workers`` that have a process
    besides this one, :class:`commissioning.analysis.workers.Processes` over them; else :class:`Here`."""
    if address:
        return Cluster(address)
    if getattr(workers, "extra", 0):
        from commissioning.analysis.workers import Processes

        return Processes(workers, what="draws")
    return Here()
