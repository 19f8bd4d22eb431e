"""Training independent runs side by side in worker processes (concurrent.futures).

Runs train in spawned worker processes (TensorFlow does not survive a fork) whose TensorFlow
thread pools are fixed when they start, so there are two pools: the lighter runs train side by
side, each worker on its share of the cores; a run that saturates the cores trains afterwards
in a pool of one worker on all of them. Workers live on from run to run, so TensorFlow is
imported and each dataset loaded once per worker, not once per run. A worker trains its run
into its own temporary folder and commits it to the run store itself, so a finished run is kept
whatever happens to the others. Progress is read from the run store: Keras's CSVLogger appends
a line to the run's history.csv after every epoch.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from nnlab import data, provenance, runs
from nnlab.errors import NnlabError

# Runs that keep every core busy on their own: one IMDB LSTM used 2 cores, and two side by side
# gained only 1.1x in throughput (a MNIST LSTM pair gained 1.78x), while one beside the lighter
# runs on a single thread slowed down most of all. So these train last, alone, on every core.
SATURATES_CORES = {"imdb-rnn"}
# Seconds of training per run on a 2-core Zen 3 (the frozen full build), for planning and the
# time-left estimate before this build has timed a run of its own.
TYPICAL_SECONDS = {
    "mnist-cnn": 150,
    "mnist-rnn": 300,
    "imdb-cnn": 325,
    "imdb-rnn": 1780,
    "boston-cnn": 18,
    "boston-rnn": 26,
    # an experiment's trial, by experiment (2-core Zen 4, one thread, two side by side)
    "batch-size": 10,
    "early-stopping": 43,
    "data-size": 16,
    "capacity": 7,
    "gradients": 10,
}
POLL_SECONDS = 2.0


_loaded: dict[str, data.Dataset] = {}  # each worker's datasets, loaded once


def _start_worker(threads: int) -> None:
    from nnlab.tfload import load_keras

    load_keras()
    import tensorflow as tf

    # before any operation runs: TensorFlow fixes its thread pools when it first needs them
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def _train_one(item, threads) -> None:
    """In a worker (set up by _start_worker with `threads`): train one planned run (a lab run
    or an experiment's trial) into a temporary folder and commit it to the run store."""
    from nnlab import training
    from nnlab.experiments import train as trials

    spec = item.spec
    if spec.dataset not in _loaded:
        _loaded[spec.dataset] = data.load(spec.dataset, log=lambda line: None)
    dataset = _loaded[spec.dataset]
    workdir = runs.new_workdir(item.path)
    if item.trial is None:
        record = training.train(spec, dataset, item.settings, item.seed, workdir, verbose=0)
    else:
        record = trials.run_trial(item.trial, dataset, item.seed, workdir)
    record.update(
        name=item.name,
        dataset=spec.dataset,
        kind=spec.kind,
        seed=item.seed,
        inputs=item.inputs,
        machine={**provenance.machine(), "tensorflow_threads": threads},
        data_source=dataset.meta,
        # This worker's peak so far: it bounds the run's own peak.
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    runs.commit(workdir, record, item.path)


def estimated_seconds(item, profile: str) -> float:
    """This build's own median time for the model when it has one, else the typical time."""
    timed = []
    for record_path in item.path.parent.glob(f"seed-*/{runs.RECORD}"):
        try:
            timed.append(runs.read_record(record_path.parent)["fit_seconds"])
        except (KeyError, OSError, NnlabError):
            continue
    if timed:
        return statistics.median(timed)
    scale = 1.0 if profile == "full" else 0.01
    return TYPICAL_SECONDS.get(item.spec.name if item.trial is None else item.trial.experiment,
                               300) * scale  # fmt: skip


def saturates(item) -> bool:
    return item.spec.name in SATURATES_CORES


def next_job(waiting: list, running: list):
    """The costliest waiting lighter run; once none is left, a run that saturates the cores,
    but only when nothing else is running (it takes every core). None: wait."""
    if any(saturates(item) for item in running):
        return None
    light = [item for item in waiting if not saturates(item)]
    if light:
        return light[0]
    return None if running else waiting[0]


def lane_of(item, workers: int) -> str:
    """Which pool trains a run: "all-cores" (one worker on every core) for a run that
    saturates the cores or when there is one worker only, else "shared"."""
    return "all-cores" if workers == 1 or saturates(item) else "shared"


def _epochs_done(item) -> int:
    """Epochs finished so far by the run in progress (from its temporary folder)."""
    for partial in item.path.parent.glob(f".{item.path.name}.partial-*"):
        history = partial / "history.csv"
        if history.exists():
            return max(0, len(history.read_text(encoding="utf-8").splitlines()) - 1)
    return 0


class Progress:
    """Elapsed time and an estimate of the time left: the estimated training not yet done,
    spread over the workers."""

    def __init__(self, cost: dict, workers: int):
        self.cost = cost
        self.workers = workers
        self.started = time.perf_counter()

    def clock(self, waiting: list, running: dict) -> str:
        now = time.perf_counter()
        left = sum(self.cost[id(item)] for item in waiting)
        left += sum(
            max(0.0, self.cost[id(item)] - (now - since)) for item, since in running.values()
        )
        return (
            f"— {_minutes(now - self.started)} elapsed, about {_minutes(left / self.workers)} left"
        )


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def train_parallel(todo: list, profile: str, workers: int, echo=print, quiet=False) -> None:
    """Train the plans in `todo` (missing or stale) with up to `workers` processes; `quiet`:
    no line per epoch."""
    cores = len(os.sched_getaffinity(0))
    workers = max(1, min(workers, len(todo)))
    cost = {id(item): estimated_seconds(item, profile) for item in todo}
    waiting = sorted(todo, key=lambda item: -cost[id(item)])
    progress = Progress(cost, workers)
    sizes = {"shared": (workers, max(1, cores // workers)), "all-cores": (1, cores)}
    if workers == 1:
        echo(f"training {len(todo)} run(s) one after another on {cores} TensorFlow thread(s)")
    else:
        echo(
            f"training {len(todo)} run(s) with {workers} worker processes: lighter runs side by "
            f"side on {sizes['shared'][1]} TensorFlow thread(s) each, then "
            f"{', '.join(sorted(SATURATES_CORES))} alone on {cores}"
        )
    running: dict = {}  # future -> (plan, start time)
    epochs_seen: dict[int, int] = {}
    finished = 0
    context = multiprocessing.get_context("spawn")
    pools = {
        lane: ProcessPoolExecutor(
            count, mp_context=context, initializer=_start_worker, initargs=(threads,)
        )
        for lane, (count, threads) in sizes.items()
    }  # a pool starts its workers only when it is given a run
    with pools["shared"], pools["all-cores"]:
        while waiting or running:
            while waiting and len(running) < workers:
                item = next_job(waiting, [plan for plan, _ in running.values()])
                if item is None:
                    break
                waiting.remove(item)
                lane = lane_of(item, workers)
                if lane == "all-cores" and workers > 1:  # no lighter run is left: free memory
                    pools["shared"].shutdown(wait=True)
                threads = sizes[lane][1]
                future = pools[lane].submit(_train_one, item, threads)
                running[future] = (item, time.perf_counter())
                echo(
                    f"started {item.name} seed {item.seed} ({item.status.reason}) "
                    f"{progress.clock(waiting, running)}"
                )
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                item, since = running.pop(future)
                finished += 1
                for other in waiting:  # this build's own timing beats the typical one
                    if other.name == item.name:
                        cost[id(other)] = time.perf_counter() - since
                try:
                    future.result()
                except BrokenProcessPool:
                    raise NnlabError(
                        "a training worker died (killed, or out of memory); finished runs are "
                        "kept: run the command again to go on"
                    ) from None
                item.status = runs.status(item.path, item.name, item.inputs)
                outcome = "" if item.status.state == "done" else f": {item.status.reason}"
                echo(
                    f"[{finished}/{len(todo)}] {item.name} seed {item.seed} "
                    f"{item.status.state}{outcome} {progress.clock(waiting, running)}"
                )
            for item, _ in [] if quiet else running.values():
                epochs = _epochs_done(item)
                if epochs != epochs_seen.get(id(item), 0):
                    epochs_seen[id(item)] = epochs
                    echo(
                        f"  {item.name} seed {item.seed}: epoch {epochs}/"
                        f"{item.settings.epochs} {progress.clock(waiting, running)}"
                    )
