"""Training independent runs side by side in worker processes (concurrent.futures).

Runs train in spawned worker processes (TensorFlow does not survive a fork) whose TensorFlow
thread pools are fixed when they start. The workers follow the devices: on a CPU there are two
pools, the lighter runs side by side, each worker on its share of the cores, then a run that
saturates the cores in a pool of one worker on all of them; on a machine with GPUs there is one
pool of one worker per GPU (devices.gpus, asked without importing TensorFlow), each worker
pinned to its GPU, and every run goes through it. Workers live on from run to run, so
TensorFlow is imported and each dataset loaded once per worker, not once per run. A worker
trains its run into its own temporary folder and commits it to the run store itself, so a
finished run is kept whatever happens to the others, then makes the run's measurements
(measurements.py), so that the parent process never loads TensorFlow. Progress is read from
the run store: Keras's CSVLogger appends a line (with the epoch's seconds) to the run's
history.csv after every epoch, and the estimate of the time left (estimate.py) is recomputed
from those lines.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from nnlab import data, devices, estimate, measurements, provenance, runfiles, runs
from nnlab.errors import NnlabError

# Runs that keep every core busy on their own: one IMDB LSTM used 2 cores, and two side by side
# gained only 1.1x in throughput (a MNIST LSTM pair gained 1.78x), while one beside the lighter
# runs on a single thread slowed down most of all. So on a CPU these train last, alone, on every
# core. (What each run is expected to cost is estimate.py's.)
SATURATES_CORES = {"imdb-rnn"}
POLL_SECONDS = 2.0
WORKER_DIED = (
    "a training worker died (killed, or out of memory); finished runs are kept: run the "
    "command again to go on"
)


_loaded: dict[str, data.Dataset] = {}  # each worker's datasets, loaded once
_gpu: dict | None = None  # each worker's GPU (provenance.gpu_record), None on a CPU


def pick_gpu(slots, gpus: tuple) -> devices.Gpu | None:
    """The GPU a starting worker takes: the next slot number from `slots` (a queue the parent
    filled with 0, 1, …), round the GPUs; None without GPUs or slots."""
    if not gpus or slots is None:
        return None
    try:
        slot = slots.get(timeout=30)
    except queue.Empty:
        return None
    return gpus[slot % len(gpus)]


def _start_worker(threads: int, slots=None, gpus: tuple = ()) -> None:
    """A pool worker's initialiser: the next GPU (pick_gpu), then start_worker."""
    start_worker(threads, pick_gpu(slots, gpus))


def start_worker(threads: int, mine: devices.Gpu | None = None) -> None:
    """Set up this process for training (a pool's worker, or a cluster's: cluster.py): pin it
    to its GPU `mine` (before CUDA starts), import TensorFlow, turn on memory growth and size
    the thread pools to `threads`, all before any operation runs."""
    global _gpu
    if mine is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = mine.visible_id
    from nnlab import tfload

    tfload.load_keras()
    import tensorflow as tf

    visible = tfload.set_memory_growth(tf.config)
    # before any operation runs: TensorFlow fixes its thread pools when it first needs them
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    if mine is not None and visible:
        _gpu = provenance.gpu_record(mine, dict(tf.sysconfig.get_build_info()))


def train_one(item, threads) -> None:
    """In a worker (set up by start_worker with `threads`): train one planned run (a lab run
    or an experiment's trial) into a temporary folder and commit it to the run store (a
    cluster worker's is a store of its own: cluster.train_remote)."""
    from nnlab import training
    from nnlab.experiments import train as trials

    spec = item.spec
    dataset = load_dataset(spec.dataset)
    workdir = runs.new_workdir(item.path)
    if item.trial is None:
        record = training.train(spec, dataset, item.settings, item.seed, workdir, verbose=0)
    else:
        data_used = trials.trial_data(item.trial, dataset)
        record = trials.run_trial(item.trial, data_used, item.seed, workdir)
    record.update(
        name=item.name,
        dataset=spec.dataset,
        kind=spec.kind,
        seed=item.seed,
        inputs=item.inputs,
        machine={**provenance.machine(_gpu), "tensorflow_threads": threads},
        data_source=dataset.meta,
        # This worker's peak so far: it bounds the run's own peak.
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    cudnn = provenance.lstm_cudnn(spec, on_gpu=_gpu is not None)
    if cudnn is not None:
        record["lstm_cudnn"] = cudnn
    runs.commit(workdir, record, item.path)
    if measurements.applies(item):  # measured here, where TensorFlow is loaded already
        item.status = runs.status(item.path, item.name, item.inputs)
        measurements.make(item, dataset)


def load_dataset(name: str) -> data.Dataset:
    """This worker's copy of a dataset, loaded once."""
    if name not in _loaded:
        _loaded[name] = data.load(name, log=lambda line: None)
    return _loaded[name]


def _measure_one(item) -> None:
    """In a worker: make a finished run's missing measurements (measurements.py)."""
    measurements.make(item, load_dataset(item.spec.dataset))


def measure_parallel(todo: list, workers: int, echo=print) -> None:
    """Make the missing measurements of the finished runs in `todo` in up to `workers` spawned
    processes on the CPU (each measurement is a few predictions), so that the calling process
    never loads TensorFlow (measurements.py says why)."""
    count = max(1, min(workers, len(todo)))
    threads = max(1, devices.cores() // count)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=_start_worker, initargs=(threads,)
    ) as pool:
        futures = []
        for item in todo:
            echo(measurements.describe(item))
            futures.append(pool.submit(_measure_one, item))
        for future in futures:
            try:
                future.result()
            except BrokenProcessPool:
                raise NnlabError(WORKER_DIED) from None


def saturates(item) -> bool:
    """A run that keeps every core busy: one of SATURATES_CORES on its full data (on the quick
    profile's 512 reviews its batches are too few to)."""
    return item.spec.name in SATURATES_CORES and item.settings.train_limit is None


@dataclass(frozen=True)
class Layout:
    """The worker pools of a build: `workers` processes on `cores` cores, or on `gpus`."""

    workers: int
    cores: int
    gpus: tuple = ()

    @property
    def lanes(self) -> dict[str, tuple[int, int]]:
        """Each pool, in the order its runs train: name -> (processes, TensorFlow threads)."""
        share = max(1, self.cores // self.workers)
        if self.gpus:  # every run through one pool, a worker per GPU
            return {"gpu": (self.workers, share)}
        if self.workers == 1:
            return {"all-cores": (1, self.cores)}
        return {"shared": (self.workers, share), "all-cores": (1, self.cores)}

    def lane_of(self, item) -> str:
        """Which pool trains a run: on a GPU machine the one pool ("gpu"); on a CPU
        "all-cores" (one worker on every core) for a run that saturates the cores or when
        there is one worker only, else "shared"."""
        if self.gpus:
            return "gpu"
        return "all-cores" if self.workers == 1 or saturates(item) else "shared"


def lane_of(item, workers: int, gpus: tuple = ()) -> str:
    return Layout(workers, devices.cores(), tuple(gpus)).lane_of(item)


def first_wave(todo: list) -> set[int]:
    """One run (its lowest seed) of each lab model with no finished run yet: trained before
    the rest, so that a complete preliminary report can be rendered as early as possible."""
    firsts: dict[str, int] = {}
    for item in sorted(todo, key=lambda plan: plan.seed):
        finished_one = any(item.path.parent.glob(f"seed-*/{runs.RECORD}"))
        if item.trial is None and item.name not in firsts and not finished_one:
            firsts[item.name] = id(item)
    return set(firsts.values())


def next_job(waiting: list, running: list, gpus: tuple = (), firsts: frozenset = frozenset()):
    """The first wave (`firsts`, first_wave's ids) before anything else; within it, or after
    it: on a CPU, the costliest waiting lighter run; once none is left, a run that saturates
    the cores, but only when nothing else is running (it takes every core). On a GPU machine
    the costliest waiting run. None: wait."""
    wave = [item for item in waiting if id(item) in firsts]
    waiting = wave or waiting
    if gpus:
        return waiting[0] if waiting else None
    if any(saturates(item) for item in running):
        return None
    light = [item for item in waiting if not saturates(item)]
    if light:
        return light[0]
    return None if running else waiting[0]


def plan_estimate(todo: list, workers: int, gpus: list | None = None):
    """The layout the plan `todo` trains in with up to `workers` processes, and its Estimate
    (calibrated from the run store's earlier runs on this machine). No TensorFlow."""
    gpus = devices.gpus() if gpus is None else gpus
    layout = Layout(max(1, min(workers, len(todo))), devices.cores(), tuple(gpus))
    return layout, estimate_for(todo, layout, gpus)


def estimate_for(todo: list, layout, gpus: list) -> estimate.Estimate:
    """The plan's Estimate under `layout` (Layout, or a cluster's), calibrated from the run
    store's earlier runs on this machine's device."""
    device = estimate.current_device(gpus)
    store = todo[0].path.parents[2] if todo else None  # <store>/<profile>/<name>/seed-<n>
    model = estimate.CostModel(estimate.earlier_observations(store, device))
    return estimate.Estimate(todo, layout, model, device)


def over_limit(todo: list, workers: int) -> str | None:
    """The plan line of a plan whose upper estimate is over estimate.LIMIT_SECONDS, else None."""
    _, planned = plan_estimate(todo, workers)
    if planned.left(todo, [])[1] > estimate.LIMIT_SECONDS:
        return planned.plan_line(todo)
    return None


def _partial_epochs(item) -> list[float]:
    """The epoch seconds of the run in progress so far (its temporary folder's history)."""
    for partial in item.path.parent.glob(f".{item.path.name}.partial-*"):
        history = partial / runfiles.HISTORY
        if history.exists():
            return estimate.read_epoch_seconds(history)
    return []


class Progress:
    """Elapsed time and the estimate of the time left (a range: estimate.Estimate.left)."""

    def __init__(self, planned: estimate.Estimate):
        self.estimate = planned
        self.done: dict[int, list[float]] = {}  # each running run's finished epochs
        self.started = time.perf_counter()

    def poll(self, running: dict) -> None:
        """Read the running runs' partial histories into the estimate."""
        now = time.perf_counter()
        for item, since in running.values():
            self.done[id(item)] = _partial_epochs(item)
            self.estimate.running(item, self.done[id(item)], now - since)

    def epochs(self, item) -> int:
        return len(self.done.get(id(item), []))

    def left(self, waiting: list, running: dict) -> tuple[float, float]:
        """(low, high) seconds until the last run ends."""
        now = time.perf_counter()
        return self.estimate.left(
            waiting,
            [(item, self.done.get(id(item), []), now - since) for item, since in running.values()],
        )

    def clock(self, waiting: list, running: dict) -> str:
        low, high = self.left(waiting, running)
        elapsed = time.perf_counter() - self.started
        return f"— {estimate.duration(elapsed)} elapsed, about {estimate.span(low, high)} left"


def _banner(layout: Layout, todo: list) -> str:
    lanes, count = layout.lanes, len(todo)
    if layout.gpus:
        names = ", ".join(sorted({gpu.name for gpu in layout.gpus}))
        each = (
            "one per GPU" if layout.workers == len(layout.gpus)
            else f"sharing {len(layout.gpus)} GPU(s)"
        )  # fmt: skip
        return (
            f"training {count} run(s) on {len(layout.gpus)} GPU(s) ({names}) with "
            f"{layout.workers} worker process(es), {each}, {lanes['gpu'][1]} TensorFlow "
            f"thread(s) each"
        )
    if layout.workers == 1:
        return f"training {count} run(s) one after another on {layout.cores} TensorFlow thread(s)"
    alone = sorted({item.name for item in todo if layout.lane_of(item) == "all-cores"})
    if not alone:
        return (
            f"training {count} run(s) with {layout.workers} worker processes side by side on "
            f"{lanes['shared'][1]} TensorFlow thread(s) each"
        )
    return (
        f"training {count} run(s) with {layout.workers} worker processes: lighter runs side by "
        f"side on {lanes['shared'][1]} TensorFlow thread(s) each, then {', '.join(alone)} "
        f"alone on {layout.cores}"
    )


class LocalPools:
    """This machine's worker pools (the layout's lanes) as train_parallel uses them: how many
    runs it trains at once, which waiting run goes next, submitting one and collecting it.
    (cluster.ClusterPools is the same for a Dask cluster.)"""

    verb = "started"

    def __init__(self, layout: Layout):
        self.layout = layout
        self.capacity = layout.workers
        context = multiprocessing.get_context("spawn")
        slots = None
        if layout.gpus:
            slots = context.Queue()
            for slot in range(layout.workers):
                slots.put(slot)
        # a pool starts its workers only when it is given a run
        self.pools = {
            lane: ProcessPoolExecutor(
                count,
                mp_context=context,
                initializer=_start_worker,
                initargs=(threads, slots, layout.gpus),
            )
            for lane, (count, threads) in layout.lanes.items()
        }

    def banner(self, todo: list) -> str:
        return _banner(self.layout, todo)

    def next_job(self, waiting: list, running: list, firsts: frozenset):
        return next_job(waiting, running, self.layout.gpus, firsts)

    def submit(self, item, waiting: list):
        lane = self.layout.lane_of(item)
        lighter_left = any(self.layout.lane_of(other) == "shared" for other in waiting)
        if lane == "all-cores" and "shared" in self.pools and not lighter_left:
            self.pools["shared"].shutdown(wait=True)  # free its memory
        return self.pools[lane].submit(train_one, item, self.layout.lanes[lane][1])

    def collect(self, future, item) -> None:
        """The worker committed the run itself; raise what it raised."""
        try:
            future.result()
        except BrokenProcessPool:
            raise NnlabError(WORKER_DIED) from None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True)


def train_parallel(
    todo: list, profile: str, workers: int, echo=print, quiet=False, on_finish=None,
    cluster: str | None = None,
) -> None:  # fmt: skip
    """Train the plans in `todo` (missing or stale) with up to `workers` processes, or on the
    Dask cluster whose scheduler is at `cluster` (cluster.py); `quiet`: no line per epoch.
    First a line with the run count and the estimated time. One run of each lab model goes
    first (first_wave); `on_finish(plan, (low, high) seconds left)` is called after each run."""
    if cluster is None:
        layout, planned = plan_estimate(todo, workers)
        pools = LocalPools(layout)
    else:
        from nnlab import cluster as dask_cluster

        pools = dask_cluster.connect(cluster, echo)
        planned = estimate_for(todo, pools.layout, [])
    costs = {id(item): planned.cost(item) for item in todo}
    waiting = sorted(todo, key=lambda item: -costs[id(item)][1])
    echo(planned.plan_line(waiting))
    echo(pools.banner(todo))
    progress = Progress(planned)
    firsts = frozenset(first_wave(todo))
    running: dict = {}  # future -> (plan, start time)
    epochs_seen: dict[int, int] = {}
    finished = 0
    with pools:
        while waiting or running:
            while waiting and len(running) < pools.capacity:
                item = pools.next_job(waiting, [plan for plan, _ in running.values()], firsts)
                if item is None:
                    break
                waiting.remove(item)
                running[pools.submit(item, waiting)] = (item, time.perf_counter())
                echo(
                    f"{pools.verb} {item.name} seed {item.seed} ({item.status.reason}) "
                    f"{progress.clock(waiting, running)}"
                )
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            progress.poll(running)
            for future in done:
                item, since = running.pop(future)
                finished += 1
                pools.collect(future, item)
                planned.finished(item)  # its recorded epochs calibrate the runs still to go
                item.status = runs.status(item.path, item.name, item.inputs)
                outcome = "" if item.status.state == "done" else f": {item.status.reason}"
                echo(
                    f"[{finished}/{len(todo)}] {item.name} seed {item.seed} "
                    f"{item.status.state}{outcome} {progress.clock(waiting, running)}"
                )
                if on_finish is not None:
                    on_finish(item, progress.left(waiting, running))
            for item, _ in [] if quiet else running.values():
                epochs = progress.epochs(item)
                if epochs != epochs_seen.get(id(item), 0):
                    epochs_seen[id(item)] = epochs
                    echo(
                        f"  {item.name} seed {item.seed}: epoch {epochs}/"
                        f"{item.settings.epochs} {progress.clock(waiting, running)}"
                    )
