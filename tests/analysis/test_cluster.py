"""--cluster: compare and sensitivity on a Dask LocalCluster of two workers give the local run's figures.

The cluster changes where the independent solves run, never what they give: the files written
with ``--cluster`` are compared byte for byte with those written without it, on the shipped example.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from commissioning.analysis.cluster import ClusterError, Cluster
from commissioning.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
SCENARIOS = [EXAMPLE / "scenarios" / name for name in ("01-todays-rules.yaml", "03-dwp-cut.yaml",
                                                         "06-unemployment-up.yaml")]


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield lc.scheduler_address
    lc.close()


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_compare_on_a_cluster_equals_the_local_run(cluster, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    invoke("compare", EXAMPLE, *SCENARIOS, "--out", here, "--solver", "highs", "--workers", "1")
    invoke("compare", EXAMPLE, *SCENARIOS, "--out", there, "--solver", "highs", "--cluster", cluster)
    for name in ("comparison.csv", "allocations.csv", "comparison.json"):
        assert (here / name).read_text(encoding="utf-8") == (there / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_sensitivity_on_a_cluster_equals_the_local_run(cluster, tmp_path, solver):
    here, there = tmp_path / "here", tmp_path / "there"
    common = ("--draws", 4, "--need-spread", 0.2, "--seed", 5, "--solver", solver)
    invoke("sensitivity", EXAMPLE, "--out", here, *common)
    invoke("sensitivity", EXAMPLE, "--out", there, *common, "--cluster", cluster)
    for name in ("sensitivity.csv", "sensitivity.json"):
        assert (here / name).read_text(encoding="utf-8") == (there / name).read_text(encoding="utf-8"), name


def test_robust_on_a_cluster_equals_the_local_run(cluster, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    common = ("--draws", 5, "--test-draws", 6, "--level", "aligned", "--solver", "highs")
    invoke("robust", EXAMPLE, "--out", here, *common)
    invoke("robust", EXAMPLE, "--out", there, *common, "--cluster", cluster)
    assert (here / "robust.csv").read_text(encoding="utf-8") == (there / "robust.csv").read_text(encoding="utf-8")
    import json

    a, b = (json.loads((d / "robust.json").read_text(encoding="utf-8")) for d in (here, there))
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_a_task_error_on_a_worker_is_raised_here(cluster):
    with Cluster(cluster) as c:
        assert c.workers == 2
        assert c.map(_double, 10, [1, 2, 3]) == [12, 14, 16]
        with pytest.raises(ZeroDivisionError):
            c.map(_divide, 1, [1, 0])


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    with pytest.raises(ClusterError, match="could not reach the Dask scheduler"):
        Cluster("tcp://127.0.0.1:1")
    result = CliRunner().invoke(main, ["sensitivity", str(EXAMPLE), "--out", str(tmp_path / "o"), "--draws", "1",
                                       "--cluster", "tcp://127.0.0.1:1"])
    assert result.exit_code == 4
    assert "could not reach the Dask scheduler" in result.output
    assert not (tmp_path / "o").exists()


def _double(shared, item):
    return shared + 2 * item


def _divide(shared, item):
    return shared / item


def test_optimise_on_a_cluster_measures_the_same_asks(cluster, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    invoke("optimise", EXAMPLE, "--out", here, "--solver", "highs", "--jobs", "1")
    invoke("optimise", EXAMPLE, "--out", there, "--solver", "highs", "--cluster", cluster)
    for name in ("asks.csv", "allocations.csv", "flags.csv"):
        assert (here / name).read_text(encoding="utf-8") == (there / name).read_text(encoding="utf-8"), name


def test_on_a_cluster_every_pool_join_ask_is_measured(monkeypatch):
    """Above LARGE_POOLED_MODEL variables the pool-join asks are estimated here (a minute each at
    national size), but measured on a cluster, where each is a task of its own."""
    from commissioning.analysis import asks
    from commissioning.inputs.validate import load_case
    from optimiser.levels import optimise_case

    run = optimise_case(load_case(EXAMPLE), solver="highs")
    monkeypatch.setattr(asks, "LARGE_POOLED_MODEL", 10)  # the example's pooled model counts as large
    every = len(asks.candidates(run))  # measure them all: the example's pool joins rank below its top 12
    here, skipped = asks.choose_candidates(run, every)
    there, none = asks.choose_candidates(run, every, cluster=True)
    joins = [c for c in there if c.change == "pool"]
    assert skipped and not none and joins
    assert not [c for c in here if c.change == "pool"]
    assert [c.pot_code for c in joins] == [c.pot_code for c in skipped]  # the same joins, in the same order
    assert len(there) == len(here) + len(skipped)


def test_frontier_on_a_cluster_equals_the_local_run(cluster, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    invoke("frontier", EXAMPLE, "--out", here, "--solver", "highs", "--steps", 4)
    invoke("frontier", EXAMPLE, "--out", there, "--solver", "highs", "--steps", 4, "--cluster", cluster)
    assert (here / "frontier.csv").read_text(encoding="utf-8") == (there / "frontier.csv").read_text(encoding="utf-8")
