"""Training on a Dask cluster (cluster.py): a LocalCluster of two worker processes, one thread
each, on the quick profile's Boston runs (the cheapest real training)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from distributed import LocalCluster

from nnlab import cluster, devices, models, parallel, pipeline, runfiles, runs
from nnlab.errors import NnlabError

BOSTON = [models.SPECS["boston-cnn"], models.SPECS["boston-rnn"]]


@pytest.fixture
def quick_env(data_dir, monkeypatch):
    """The fixture data, offline, in this process and in the workers it starts."""
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")


def local_cluster(workers: int = 2) -> LocalCluster:
    return LocalCluster(
        n_workers=workers, processes=True, threads_per_worker=1, resources={"cores": 1},
        dashboard_address=None,
    )  # fmt: skip


def plan(build: Path, seeds: list[int], specs=BOSTON) -> list:
    return pipeline.plan(build, "quick", specs, seeds).plans


def prices(folder: Path) -> list[float]:
    return json.loads((folder / "handmade.json").read_text(encoding="utf-8"))["prices_k"]


def history_without_times(folder: Path) -> list[dict]:
    with open(folder / runfiles.HISTORY, newline="", encoding="utf-8") as handle:
        return [
            {key: value for key, value in row.items() if key != "epoch_seconds"}
            for row in csv.DictReader(handle)
        ]


@pytest.mark.slow
def test_runs_on_the_cluster_match_the_local_pools_bit_for_bit(tmp_path, quick_env, monkeypatch):
    monkeypatch.setattr(devices, "cores", lambda: 2)  # two local workers on 1 thread each
    here, there = tmp_path / "local", tmp_path / "cluster"
    parallel.train_parallel(plan(here, [42]), "quick", 2, echo=lambda line: None, quiet=True)
    lines = []
    with local_cluster() as dask:
        parallel.train_parallel(
            plan(there, [42]), "quick", 2, echo=lines.append, quiet=True,
            cluster=dask.scheduler_address,
        )  # fmt: skip
    assert any("connected to the Dask scheduler" in line for line in lines)
    for spec in BOSTON:
        mine = runs.run_path(here / "runs", "quick", spec.name, 42)
        theirs = runs.run_path(there / "runs", "quick", spec.name, 42)
        local_record, remote_record = runs.read_record(mine), runs.read_record(theirs)
        assert remote_record["status"] == "done"
        assert remote_record["inputs"] == local_record["inputs"]
        assert local_record["machine"]["tensorflow_threads"] == 1
        assert remote_record["machine"]["tensorflow_threads"] == 1
        with np.load(mine / runfiles.PREDICTIONS) as a, np.load(theirs / runfiles.PREDICTIONS) as b:
            assert sorted(a.files) == sorted(b.files)
            for name in a.files:
                assert np.array_equal(a[name], b[name]), (spec.name, name)
        assert history_without_times(mine) == history_without_times(theirs)
        # measured on the worker, as a local worker does: the same hand-made prices (the
        # model files' checksums differ: a .keras archive records when it was written)
        assert prices(mine) == prices(theirs)
    # planned again, every run is done: nothing left to send
    assert all(item.status.state == "done" for item in plan(there, [42]))


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_no_finished_run_and_its_run_is_retried_once(
    tmp_path, quick_env, monkeypatch
):
    """The first worker to finish training a run pauses before sending it back
    (NNLAB_FAULT_PAUSE, once: NNLAB_FAULT_ONCE) and is killed there once another run is
    committed; the scheduler gives the run to a worker again."""
    paused = tmp_path / "paused.pid"
    monkeypatch.setenv("NNLAB_FAULT_PAUSE", "cluster run")
    monkeypatch.setenv("NNLAB_FAULT_ONCE", str(paused))
    build = tmp_path / "build"
    todo = plan(build, [42, 43], [models.SPECS["boston-cnn"]]) + plan(
        build, [42], [models.SPECS["boston-rnn"]]
    )
    committed: dict[Path, int] = {}
    sealed_then: dict[Path, dict] = {}
    receive = runs.receive

    def counted(files, final):
        receive(files, final)
        committed[final] = committed.get(final, 0) + 1
        sealed_then[final] = runs.read_record(final)

    monkeypatch.setattr(runs, "receive", counted)
    killed = {}

    def kill_the_paused_worker():
        pid = int(wait_for(lambda: paused.exists() and paused.read_text().strip(), 300, "a pause"))
        wait_for(lambda: committed, 300, "a run committed while the worker is paused")
        killed["before"] = dict(committed)
        os.kill(pid, signal.SIGKILL)
        killed["pid"] = pid

    killer = threading.Thread(target=kill_the_paused_worker, daemon=True)
    lines = []
    with local_cluster() as dask:
        killer.start()
        parallel.train_parallel(
            todo, "quick", 2, echo=lines.append, quiet=True, cluster=dask.scheduler_address
        )
    killer.join(timeout=5)
    assert "pid" in killed, lines
    with pytest.raises(ProcessLookupError):
        os.kill(killed["pid"], 0)  # the paused worker is gone
    assert set(committed) == {item.path for item in todo}
    assert all(count == 1 for count in committed.values())  # each run committed exactly once
    for item in todo:
        record = runs.read_record(item.path)
        assert record["status"] == "done"
        assert record == sealed_then[item.path]  # a run finished first was not touched again
    assert len(killed["before"]) < len(todo)  # one run was still out when the worker died
    leftovers = [p.name for p in (build / "runs").rglob(".*")]
    assert leftovers == []  # nothing half-written in the store


@pytest.mark.slow
def test_a_worker_at_another_version_is_refused_in_one_line(tmp_path, quick_env, capsys):
    """A worker whose nnlab code differs (a copy with one more line) is refused when the
    client connects; the command says so in one line and exits with 2."""
    other = tmp_path / "other" / "nnlab"
    shutil.copytree(REPO / "src" / "nnlab", other, ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "runs.py", "a", encoding="utf-8") as handle:
        handle.write("\n# another version of nnlab\n")
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None) as dask:
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", dask.scheduler_address,
             "--nthreads", "1", "--resources", "cores=1", "--no-nanny", "--no-dashboard"],
            env={**os.environ, "PYTHONPATH": str(other.parent)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            args = ["train", "--profile", "quick", "--seeds", "1", "--dataset", "boston",
                    "--model", "cnn", "--quiet"]  # fmt: skip
            result = run_cli(args, tmp_path, capsys, NNLAB_CLUSTER=dask.scheduler_address)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    code, err = result
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("nnlab: error: cluster worker tcp://")
    assert "refused: its nnlab code" in last and "the client's" in last
    assert "Traceback" not in err
    assert not (tmp_path / "build" / "runs" / "quick" / "boston-cnn" / "seed-42").exists()


def run_cli(args: list[str], tmp_path: Path, capsys, **env) -> tuple[int, str]:
    """The command in this process (its one-line errors); (exit code, stderr)."""
    from nnlab.cli import main

    saved = dict(os.environ)
    os.environ.update(NNLAB_BUILD_DIR=str(tmp_path / "build"), **env)
    argv = sys.argv
    sys.argv = ["nnlab", *args]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = argv
        os.environ.clear()
        os.environ.update(saved)
    return exit_info.value.code, capsys.readouterr().err


def test_without_distributed_the_cluster_option_names_the_install(
    tmp_path, quick_env, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, err = run_cli(
        ["train", "--profile", "quick", "--seeds", "1", "--dataset", "boston", "--cluster",
         "tcp://127.0.0.1:8786"], tmp_path, capsys,
    )  # fmt: skip
    assert code == 2
    assert err.strip().splitlines() == [
        "nnlab: error: --cluster needs Dask's distributed, which is not installed; install it "
        "with: pip install -e '.[cluster]'"
    ]


def test_an_unreachable_scheduler_is_one_line(tmp_path, quick_env, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    code, err = run_cli(
        ["train", "--profile", "quick", "--seeds", "1", "--dataset", "boston", "--model", "cnn",
         "--cluster", "tcp://127.0.0.1:9"], tmp_path, capsys,
    )  # fmt: skip
    assert code == 2
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("nnlab: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    )


@pytest.fixture
def full_plans(data_dir, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    chosen = pipeline.plan(Path("/nonexistent"), "full", list(models.SPECS.values()), [42])
    return {item.spec.name: item for item in chosen.plans}


def test_the_lanes_become_resource_requests(full_plans):
    imdb_lstm, mnist_cnn, boston_lstm = (
        full_plans[name] for name in ("imdb-rnn", "mnist-cnn", "boston-rnn")
    )
    # CPU workers, one with more cores: the IMDB LSTM takes it, the rest any worker with a core
    room = cluster.ClusterLayout(cores=(1, 1, 4))
    assert room.lanes == {"shared": (3, 1), "all-cores": (1, 4)}
    assert room.resources(imdb_lstm) == {"cores": 4}
    assert room.resources(mnist_cnn) == room.resources(boston_lstm) == {"cores": 1}
    # all alike: one lane, every run on any worker
    alike = cluster.ClusterLayout(cores=(2, 2))
    assert alike.lanes == {"shared": (2, 2)}
    assert alike.resources(imdb_lstm) == {"cores": 2}
    # a GPU worker beside CPU workers: the LSTMs on the GPU, the lighter runs on the CPUs
    mixed = cluster.ClusterLayout(cores=(1, 1), gpu_workers=1)
    assert mixed.resources(imdb_lstm) == mixed.resources(boston_lstm) == {"gpus": 1}
    assert mixed.resources(mnist_cnn) == {"cores": 1}
    assert mixed.workers == 3 and mixed.lanes_at_once
    # GPU workers only: every run on them (one GPU pool, as on one machine)
    assert cluster.ClusterLayout(cores=(), gpu_workers=2).resources(mnist_cnn) == {"gpus": 1}


def test_the_layout_is_read_from_the_workers_resources():
    workers = {
        "tcp://10.0.0.2:4000": {"resources": {"cores": 4}},
        "tcp://10.0.0.3:4000": {"resources": {"gpus": 1, "cores": 8}},
        "tcp://10.0.0.4:4000": {"resources": {"cores": 1}},
    }
    assert cluster.layout_of(workers) == cluster.ClusterLayout(cores=(4, 1), gpu_workers=1)
    workers["tcp://10.0.0.5:4000"] = {"resources": {}}
    with pytest.raises(NnlabError, match=r"worker tcp://10.0.0.5:4000 advertises no resources"):
        cluster.layout_of(workers)


def test_a_cluster_estimate_runs_its_lanes_at_once(full_plans):
    from nnlab import estimate

    todo = [full_plans["imdb-rnn"], full_plans["mnist-cnn"]]
    model = estimate.CostModel()
    mixed = cluster.ClusterLayout(cores=(1,), gpu_workers=1)
    low, high = estimate.Estimate(todo, mixed, model, "x").left(todo, [])
    alone = [estimate.Estimate([item], mixed, model, "x").left([item], []) for item in todo]
    assert high == pytest.approx(max(bounds[1] for bounds in alone))
    assert low == pytest.approx(max(bounds[0] for bounds in alone))


def test_a_worker_with_other_libraries_is_named_with_what_differs():
    expected = {**cluster.fingerprint(), "tensorflow": "2.20.0"}
    line = cluster.refusal(expected, "tcp://10.0.0.9:4000")
    mine = cluster.fingerprint()["tensorflow"]
    assert line == (
        f"cluster worker tcp://10.0.0.9:4000 refused: its tensorflow {mine} (the client's: "
        "2.20.0); install the client's nnlab (same commit) and libraries on it: "
        "pip install -e '.[cpu,cluster]'"
    )
    assert cluster.refusal(cluster.fingerprint(), "tcp://10.0.0.9:4000") is None
