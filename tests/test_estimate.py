"""The time estimate (estimate.py): its cost model on recorded timings, the schedule, and the
refusal of plans that would take days.

Recorded timings are the frozen results' own histories (results/, run.json and history.csv):
each machine's runs are estimated from that machine's other seeds, as a build estimates from
the machine's earlier runs, and the estimate is compared with what the runs took. The errors
are printed (pytest -s shows them).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import REPO, nnlab_env

from nnlab import estimate, models, parallel, pipeline
from nnlab.fsutil import atomic_write_json

FROZEN = REPO / "results"


class OneLane:
    """A layout of one pool of `processes` workers on `threads` threads each: how the frozen
    runs were trained (two workers side by side on one thread each, every run in one pool)."""

    def __init__(self, processes: int = 1, threads: int = 1):
        self.lanes = {"pool": (processes, threads)}

    def lane_of(self, item) -> str:
        return "pool"


def frozen_runs() -> dict[str, list[tuple[Path, dict]]]:
    """The frozen runs with a recorded thread count (1: two side by side), by machine."""
    found = defaultdict(list)
    for path in sorted(FROZEN.glob(f"*/*/seed-*/{'run.json'}")):
        record = json.loads(path.read_text())
        machine = record.get("machine") or {}
        if machine.get("tensorflow_threads") == 1:
            found[estimate.device_of(machine)].append((path.parent, record))
    return found


def as_item(folder: Path, record: dict):
    """A stand-in for a pipeline.Plan: what the estimate reads of one (name, inputs, path)."""
    return SimpleNamespace(name=record["name"], inputs=record["inputs"], path=folder)


def copy_store(runs: list[tuple[Path, dict]], store: Path) -> Path:
    """A run store holding these runs' records and histories (as a build's earlier runs)."""
    for folder, _ in runs:
        target = store / folder.parent.parent.name / folder.parent.name / folder.name
        target.mkdir(parents=True)
        for name in ("run.json", "history.csv"):
            if (folder / name).exists():
                shutil.copy(folder / name, target / name)
    return store


def recorded_seconds(record: dict) -> float:
    return record["fit_seconds"] + (record.get("predict_seconds") or 0.0)


@pytest.mark.parametrize("device", sorted(frozen_runs()))
def test_each_seed_estimated_from_the_machines_other_seeds(device, tmp_path):
    """Per machine of the frozen results: each seed's runs, estimated before they start from
    the machine's other seeds (the run store's earlier runs on that CPU type and thread
    count), against the seconds they recorded."""
    machine_runs = frozen_runs()[device]
    seeds = sorted({record["seed"] for _, record in machine_runs})
    assert len(seeds) >= 2
    low = high = recorded = 0.0
    for seed in seeds:
        store = copy_store(
            [run for run in machine_runs if run[1]["seed"] != seed], tmp_path / f"store-{seed}"
        )
        held_out = [run for run in machine_runs if run[1]["seed"] == seed]
        items = [as_item(*run) for run in held_out]
        model = estimate.CostModel(estimate.earlier_observations(store, device))
        planned = estimate.Estimate(items, OneLane(), model, device)
        assert "earlier" in planned.sources(items)  # the other seeds are used
        # the runs' own seconds (a worker's start is not in a record)
        seed_low = sum(planned.cost(item)[0] for item in items)
        seed_high = sum(planned.cost(item)[1] for item in items)
        seed_recorded = sum(recorded_seconds(record) for _, record in held_out)
        print(f"{device} seed {seed}: {len(items)} runs, estimated {seed_low:.0f}-"
              f"{seed_high:.0f} s, recorded {seed_recorded:.0f} s")  # fmt: skip
        low, high, recorded = low + seed_low, high + seed_high, recorded + seed_recorded
    print(f"{device}: estimated {low:.0f}-{high:.0f} s, recorded {recorded:.0f} s "
          f"({low / recorded - 1:+.1%} to {high / recorded - 1:+.1%})")  # fmt: skip
    assert low <= high
    # Over all its seeds, what the machine took lies in (or near) the range: run-to-run
    # variation on a shared 2-core machine alone is ±30 % for one seed.
    assert low / 1.25 <= recorded <= high * 1.25


def test_the_issue_s_first_build_on_a_two_core_xeon(data_dir, monkeypatch):
    """The build of issue #21 on a fresh 2-core Intel Xeon, estimated at the start from the
    typical figures only (nothing was known of that machine): 3 seeds of each lab model, the 30
    experiment trials of the time (no protocol, BatchNormalization or split-protocol runs), two
    workers. It took 1 h 48 min 52 s of training (the old estimate said 68:17). The IMDB LSTMs
    train alone on both cores after the rest, so their time is not divided by the workers."""
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    build = Path("/nonexistent")
    lab = pipeline.plan(build, "full", list(models.SPECS.values()), [42, 43, 44], source="build")
    trials = pipeline.plan_experiments(build, "full", 42, "build")
    then = [p for p in trials.plans
            if p.trial.experiment not in ("protocol", "batchnorm", "kfold")]  # fmt: skip
    todo = lab.plans + then
    assert (len(lab.plans), len(then)) == (18, 30)
    layout = parallel.Layout(2, 2)
    planned = estimate.Estimate(todo, layout, estimate.CostModel(), "Intel Xeon")
    low, high = planned.left(todo, [])
    took = 108 * 60 + 52
    error = f"{low / took - 1:+.1%} to {high / took - 1:+.1%}"
    print(f"Xeon, at the start: {estimate.span(low, high)} estimated, took "
          f"{estimate.duration(took)} ({error})")  # fmt: skip
    assert set(planned.sources(todo)) == {"typical"}
    assert low / 1.5 <= took <= high * 1.5
    # The schedule: the shared pool's makespan, then the IMDB LSTMs one after another.
    light = [planned.cost(item)[1] for item in todo if layout.lane_of(item) == "shared"]
    heavy = [planned.cost(item)[1] for item in todo if layout.lane_of(item) == "all-cores"]
    assert len(heavy) == 3
    start = estimate.WORKER_START_SECONDS  # each pool's workers, before their first run
    assert high == pytest.approx(estimate.makespan([start] * 2, light, 2) + start + sum(heavy))
    assert high > (sum(light) + sum(heavy)) / 2  # not all of it divided by the two workers


def replay(runs: list[tuple[Path, dict]], processes: int, device: str) -> list[tuple]:
    """Train the recorded runs again on a simulated clock, `processes` side by side, each run
    taking its recorded epochs and seconds; at every epoch and run end, the estimate of the time
    left (from this build's epochs only) against the time that was in fact left.
    Returns (elapsed, low, high, actual left) at each event."""
    items = [as_item(*run) for run in runs]
    history = {
        id(item): estimate.read_epoch_seconds(folder / "history.csv")
        for item, (folder, _) in zip(items, runs, strict=True)
    }
    total = {id(item): recorded_seconds(run[1]) for item, run in zip(items, runs, strict=True)}
    planned = estimate.Estimate(items, OneLane(processes), estimate.CostModel(), device)
    waiting = sorted(items, key=lambda item: -planned.cost(item)[1])
    # The schedule as it happened on the simulated clock: first free worker takes the next run.
    free, start = [0.0] * processes, {}
    for item in waiting:
        worker = min(range(processes), key=free.__getitem__)
        start[id(item)] = free[worker]
        free[worker] += total[id(item)]
    end = max(free)
    ends = {start[id(i)] + total[id(i)] for i in items}
    for i in items:
        ends |= {start[id(i)] + sum(history[id(i)][: n + 1]) for n in range(len(history[id(i)]))}
    events = sorted(ends)
    seen = [(0.0, *planned.left(waiting, []), end)]
    finished = set()
    for now in events[:-1]:
        queued = [i for i in waiting if start[id(i)] > now]
        running = []
        for item in waiting:
            began = start[id(item)]
            if began <= now < began + total[id(item)]:
                done = [s for n, s in enumerate(history[id(item)])
                        if began + sum(history[id(item)][: n + 1]) <= now]  # fmt: skip
                planned.running(item, done, now - began)
                running.append((item, done, now - began))
            elif began + total[id(item)] <= now and id(item) not in finished:
                planned.finished(item)
                finished.add(id(item))
        seen.append((now, *planned.left(queued, running), end - now))
    return seen


@pytest.mark.parametrize("device", sorted(frozen_runs()))
def test_the_estimate_follows_this_builds_own_epochs(device):
    """The frozen runs of one machine trained again on a simulated clock from their recorded
    histories, two side by side, nothing known beforehand but the typical figures: the estimate
    moves with every epoch and run, and is closer once half the time has gone."""
    events = replay(frozen_runs()[device], 2, device)
    start, actual = events[0][1:3], events[0][3]

    def error(low, high, left):
        return 0.0 if low <= left <= high else min(abs(low - left), abs(high - left)) / left

    half = [e for e in events if e[0] >= actual / 2 and e[3] > 60]
    print(f"{device}: {len(events)} events; at the start {estimate.span(*start)} for "
          f"{estimate.duration(actual)}; at half time {estimate.span(*half[0][1:3])} for "
          f"{estimate.duration(half[0][3])}")  # fmt: skip
    # it moves with what the runs take, not only with the clock
    recalibrated = [e for e in events if abs(e[2] - (start[1] - e[0])) > 1.0]
    assert len(recalibrated) > len(events) / 2
    # What the machine's load did to the recorded runs: the widest spread of seconds per epoch
    # between seeds of one model. An estimate from earlier seeds cannot be closer than that.
    per_epoch = defaultdict(list)
    for folder, record in frozen_runs()[device]:
        seconds = estimate.read_epoch_seconds(folder / "history.csv")
        if seconds:
            per_epoch[record["name"]].append(statistics.median(seconds))
    load = max(max(v) / min(v) - 1 for v in per_epoch.values() if len(v) > 1)
    print(f"  error at the start {error(*start, actual):.1%}, at half time "
          f"{error(*half[0][1:]):.1%}; seeds' spread {load:.1%}")  # fmt: skip
    assert error(*half[0][1:]) <= max(0.25, error(*start, actual), load)


# --- the cost model, piece by piece -----------------------------------------------------------
def unit(name="mnist-cnn", epochs=5, patience=None, **settings):
    params = {
        "spec": {"name": name, "dataset": name.split("-")[0], "kind": name.split("-")[1]},
        "settings": {"epochs": epochs, "patience": patience, "batch_size": 64,
                     "validation_split": 0.1, "precision": "float32", **settings},
    }  # fmt: skip
    return {"params": params}


def seal_run(folder: Path, inputs: dict, epoch_seconds: list[float], machine: dict,
             predict: float = 1.0, name: str = "mnist-cnn") -> Path:  # fmt: skip
    folder.mkdir(parents=True)
    rows = ["epoch,epoch_seconds,loss"] + [f"{n},{s},0.5" for n, s in enumerate(epoch_seconds)]
    (folder / "history.csv").write_text("\n".join(rows) + "\n")
    atomic_write_json(folder / "run.json", {
        "name": name, "status": "done", "inputs": inputs, "fit_seconds": sum(epoch_seconds) + 2,
        "predict_seconds": predict, "epochs_run": len(epoch_seconds), "machine": machine,
    })  # fmt: skip
    return folder


ZEN = {"cpu": "AMD EPYC", "cpu_family": 26, "simd": ["avx2"], "tensorflow_threads": 1}


def test_seconds_per_epoch_from_the_machines_earlier_runs_on_the_same_cpu_and_threads(tmp_path):
    store = tmp_path / "runs"
    inputs = unit()
    seal_run(store / "full/mnist-cnn/seed-42", inputs, [9.0, 4.0, 4.0], ZEN)
    seal_run(store / "full/mnist-cnn/seed-43", inputs, [99.0, 40.0], {**ZEN, "cpu_family": 25})
    seal_run(
        store / "full/mnist-cnn/seed-44", inputs, [99.0, 40.0], {**ZEN, "tensorflow_threads": 2}
    )
    device = estimate.device_of(ZEN)
    model = estimate.CostModel(estimate.earlier_observations(store, device))
    the_unit = estimate.unit_of("mnist-cnn", inputs)
    # Zen 5 at one thread only; the first epoch (graph tracing) is the run's, not an epoch's.
    assert model.per_epoch(the_unit, 1) == (4.0, "earlier")
    # set-up and the first epoch's extra (19 s of fit less 3 steady epochs), and prediction
    assert model.overhead(the_unit, 1) == pytest.approx(7 + 1)
    assert model.run_seconds(the_unit, 1) == (pytest.approx(28.0), pytest.approx(28.0))
    # at 2 threads, its own; at 4, none: the best-known count's, as threads^-0.5
    assert model.per_epoch(the_unit, 2) == (40.0, "earlier")
    assert model.per_epoch(the_unit, 4)[0] == pytest.approx(4.0 * (1 / 4) ** 0.5)
    typical = estimate.TYPICAL_EPOCH_SECONDS["mnist-cnn"]
    # nothing known of the unit: the typical figure, scaled by the machine's measured speed
    other = estimate.unit_of("mnist-rnn", unit("mnist-rnn"))
    speed = 4.0 / typical[1]
    assert model.per_epoch(other, 1) == (
        pytest.approx(estimate.TYPICAL_EPOCH_SECONDS["mnist-rnn"][1] * speed),
        "typical",
    )


def test_this_builds_epochs_come_first_and_move_the_estimate(tmp_path):
    inputs = unit()
    runs = [SimpleNamespace(name="mnist-cnn", inputs=inputs, path=tmp_path / f"seed-{s}")
            for s in (42, 43, 44)]  # fmt: skip
    planned = estimate.Estimate(runs, OneLane(1), estimate.CostModel(), "somewhere")
    before = planned.left(runs[1:], [(runs[0], [], 0.0)])
    typical = estimate.TYPICAL_EPOCH_SECONDS["mnist-cnn"][1]
    planned.running(runs[0], [typical * 3, typical * 3], 2 * typical * 3)  # three times slower
    after = planned.left(runs[1:], [(runs[0], [typical * 3] * 2, 2 * typical * 3)])
    assert planned.model.per_epoch(planned.units[id(runs[0])], 1)[1] == "build"
    assert after[0] > 2 * before[0]
    # the finished run's record replaces its partial history
    seal_run(runs[0].path, inputs, [60.0, 30.0, 30.0, 30.0, 30.0], ZEN)
    planned.finished(runs[0])
    assert planned.model.per_epoch(planned.units[id(runs[0])], 1)[0] == 30.0


def test_early_stopping_makes_a_range_from_the_epochs_runs_like_it_took(tmp_path):
    store = tmp_path / "runs"
    inputs = unit("imdb-rnn", epochs=5, patience=2, batch_size=128)
    for seed, epochs in ((42, 3), (43, 4)):
        seal_run(store / f"full/imdb-rnn/seed-{seed}", inputs, [300.0] * epochs, ZEN,
                 name="imdb-rnn")  # fmt: skip
    model = estimate.CostModel(estimate.earlier_observations(store, estimate.device_of(ZEN)))
    the_unit = estimate.unit_of("imdb-rnn", inputs)
    assert model.expected_epochs(the_unit) == 3.5
    low, high = model.run_seconds(the_unit, 1)
    assert high - low == pytest.approx(1.5 * 300)
    # nothing known: the typical epochs at the notebook's budget, else the fewest possible
    fresh = estimate.CostModel()
    assert fresh.expected_epochs(the_unit) == estimate.TYPICAL_EPOCHS["imdb-rnn"][2]
    longer = estimate.unit_of("imdb-rnn", unit("imdb-rnn", epochs=50, patience=2))
    assert fresh.expected_epochs(longer) == 3
    # a run part-way, 4 epochs done and 50 s into its fifth: at least that one more epoch
    assert model.overhead(the_unit, 1) == pytest.approx(3.0)  # 2 s of set-up, 1 s predicting
    low, high = model.run_seconds(the_unit, 1, [300.0] * 4, 1250.0)
    assert low == high == pytest.approx(3 + 5 * 300 - 1250)


def test_the_quick_profile_costs_its_share_of_the_data():
    full = estimate.unit_of("imdb-rnn", unit("imdb-rnn", epochs=1))
    quick = estimate.unit_of("imdb-rnn", unit("imdb-rnn", epochs=1, train_limit=512,
                                             test_limit=256))  # fmt: skip
    model = estimate.CostModel()
    assert model.per_epoch(quick, 2)[0] == pytest.approx(model.per_epoch(full, 2)[0] * 512 / 25000)
    assert model.overhead(quick, 2) < model.overhead(full, 2)


def test_makespan_gives_each_run_to_the_first_free_worker():
    assert estimate.makespan([], [5, 4, 3, 3], 2) == 8  # 5+3 | 4+3
    assert estimate.makespan([10], [1, 1], 2) == 10
    assert estimate.makespan([], [], 3) == 0


def test_durations_print_as_minutes_hours_or_days():
    assert estimate.duration(4097) == "1:08:17"
    assert estimate.duration(68 * 60 + 17) == "1:08:17"
    assert estimate.duration(49 * 60 + 40) == "49:40"
    assert estimate.duration(3 * 86400 + 5 * 3600 + 7) == "3 d 5 h"
    assert estimate.span(60, 60.2) == "1:00"
    assert estimate.span(60, 120) == "1:00 to 2:00"


def test_the_plan_line_names_the_runs_the_time_and_where_it_comes_from(data_dir, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    chosen = pipeline.plan(Path("/nonexistent"), "full", models.select("imdb"), [42])
    planned = estimate.Estimate(chosen.plans, parallel.Layout(2, 2), estimate.CostModel(), "x")
    line = planned.plan_line(chosen.plans)
    low, high = planned.left(chosen.plans, [])
    assert line.startswith(f"2 run(s) to train, about {estimate.span(low, high)} (")
    assert "2 typical figures of a 2-core AMD EPYC (Zen 4)" in line
    gpu = estimate.Estimate(chosen.plans, parallel.Layout(1, 16, ("gpu",)), estimate.CostModel(),
                            "NVIDIA H200 (GPU)")  # fmt: skip
    assert "a GPU is likely faster" in gpu.plan_line(chosen.plans)


# --- plans that would take days --------------------------------------------------------------
def run_cli_without_tensorflow(args: list[str], data_dir: Path, build: Path, cwd: Path):
    """nnlab ARGS in a fresh interpreter that reports whether TensorFlow was imported."""
    program = (
        "import sys\n"
        "from nnlab import cli\n"
        f"sys.argv = ['nnlab', *{args!r}]\n"
        "try:\n    cli.main()\n    code = 0\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print('tensorflow imported:', 'tensorflow' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    return subprocess.run([sys.executable, "-c", program], cwd=cwd, env=nnlab_env(data_dir, build),
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.mark.parametrize("command", ["train", "build"])
def test_a_plan_over_twelve_hours_stops_before_any_tensorflow_work(command, tmp_path, data_dir):
    config = tmp_path / "report.toml"
    config.write_text("[training.imdb-rnn]\nepochs = 10000\nbatch_size = 1\n")  # within the caps
    args = [command, "--profile", "quick", "--config", str(config), "--no-experiments"]
    result = run_cli_without_tensorflow(args, data_dir, tmp_path / "build", tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert re.match(
        r"nnlab: error: 12 run\(s\) to train, about \S+ to (\d+ d \d+ h|\d+:\d\d:\d\d) \(", lines[0]
    )
    assert "over 12 hours; pass --yes to train anyway" in lines[0]
    assert "tensorflow imported: False" in result.stdout
    assert not (tmp_path / "build" / "runs").exists() or not any(
        (tmp_path / "build" / "runs").rglob("run.json")
    )


def test_yes_lets_a_long_plan_through_to_training(tmp_path, data_dir, monkeypatch):
    """With --yes the plan goes on to training (stubbed here: nothing is trained)."""
    from nnlab.cli.request import Request
    from nnlab.cli.training import train

    config = tmp_path / "report.toml"
    config.write_text("[training.imdb-rnn]\nepochs = 10000\nbatch_size = 1\n")  # within the caps
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NNLAB_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    trained = []

    def train_missing(selections, workers, **kw):
        trained.append(workers)
        return []

    monkeypatch.setattr(pipeline, "train_missing", train_missing)
    monkeypatch.setattr(pipeline, "measure_missing", lambda *a, **kw: None)
    request = Request(dataset="imdb", profile="quick", config_path=config, experiments=False)
    with pytest.raises(Exception, match="over 12 hours"):
        train(request, workers=2, quiet=True)
    train(request, workers=2, quiet=True, yes=True)
    assert trained == [2]
