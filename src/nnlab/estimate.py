"""How long a training plan will take: a cost model per run, and the schedule the runs train in.

A run costs the epochs it runs times its seconds per epoch, plus what it spends outside its
epochs (mostly predicting the test set). Its epoch budget is its settings' `epochs`; early
stopping may end it sooner, so every estimate is a range: the lower end gives each run the
epochs that runs like it took before (where some are known), the upper end its full budget.

Seconds per epoch depend on the model and its settings (the unit: `unit_of`), on the TensorFlow
thread count of the pool that trains it, and on the machine. They come, in this order, from:
this build's own finished epochs (the history.csv of the runs finished so far and of those
still running); the machine's earlier runs (records in the run store trained on the same CPU
type, or GPU, with the same thread count); the same unit at another thread count; and only
when nothing is known, the typical figures below, scaled by how much slower or faster this
machine was than they are on the units it has measured at that thread count.

The schedule is parallel.Layout's: the shared pool's runs side by side, greedily in the order
they are dispatched, then the all-cores runs one after another on every core (their time is not
divided by the worker count), or on a GPU machine every run in one pool.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import csv
import heapq
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from nnlab import labs, provenance, runfiles, runs

LIMIT_SECONDS = 12 * 3600  # a longer plan needs --yes

# --- typical figures: the fallback, in one place -------------------------------------------------
# Measured on the frozen build's machine, a 2-core AMD EPYC (Zen 4, family 25), with other work
# sharing it: results/full and results/experiments-full as committed in 1d7c74d (every record
# of that build). Seconds per steady epoch (every epoch after the first, all seeds pooled) by
# run and TensorFlow thread count: at 1 thread two runs side by side, at 2 threads alone (seed
# 42, trained one run after another, before records had a thread count). A run without epochs
# (a gradient probe, a scikit-learn baseline) has its seconds as one "epoch".
TYPICAL_MACHINE = "a 2-core AMD EPYC (Zen 4)"
TYPICAL_EPOCH_SECONDS: dict[str, dict[int, float]] = {
    "mnist-cnn": {1: 20.9, 2: 18.9},
    "mnist-rnn": {1: 73.3, 2: 50.8},
    "imdb-cnn": {1: 140.1, 2: 77.8},
    "imdb-rnn": {1: 481.1, 2: 431.3},
    "boston-cnn": {1: 0.145, 2: 0.182},
    "boston-rnn": {1: 0.713, 2: 0.697},
    "batch-8": {1: 0.203},
    "batch-32": {1: 0.123},
    "batch-128": {1: 0.105},
    "batch-512": {1: 0.088},
    "epochs-300": {1: 0.120},
    "fit-500": {1: 0.239},
    "fit-2000": {1: 0.552},
    "fit-10000": {1: 5.135},
    "fit-54000": {1: 15.47},
    "linear": {1: 0.075},
    "wide-cnn": {1: 0.183},
    "gradients-simplernn": {1: 2.47},
    "gradients-gru": {1: 9.17},
    "gradients-lstm": {1: 5.50},
    "linear-regression": {1: 0.007},
    "gradient-boosting": {1: 0.089},
}
# A run's seconds outside its steady epochs, median over the seeds: set-up (building the model,
# and what the first epoch took beyond a steady one: tracing its graphs), and predicting the
# full test set (a subset takes its share).
TYPICAL_SETUP_SECONDS = {
    "mnist-cnn": 4.25, "mnist-rnn": 28.1, "imdb-cnn": 16.6, "imdb-rnn": 23.7,
    "boston-cnn": 1.82, "boston-rnn": 4.81, "batch-8": 1.47, "batch-32": 1.53,
    "batch-128": 1.59, "batch-512": 1.63, "epochs-300": 1.82, "fit-500": 0.88,
    "fit-2000": 0.93, "fit-10000": 0.95, "fit-54000": 0.16, "linear": 0.44, "wide-cnn": 1.48,
}  # fmt: skip
TYPICAL_PREDICT_SECONDS = {
    "mnist-cnn": 0.94, "mnist-rnn": 5.24, "imdb-cnn": 41.1, "imdb-rnn": 100.1,
    "boston-cnn": 0.19, "boston-rnn": 0.41,
}  # fmt: skip
DEFAULT_SETUP_SECONDS = 1.0
# Epochs run under early stopping at the notebook's budget and patience (mean over the seeds).
TYPICAL_EPOCHS = {  # name: (budget, patience, mean epochs run)
    "imdb-cnn": (5, 2, 4.0),
    "imdb-rnn": (5, 2, 4.33),
    "boston-cnn": (50, 5, 50.0),
    "boston-rnn": (50, 5, 22.0),
    "wide-cnn": (50, 5, 35.3),
    "linear": (50, 5, 50.0),
}
# How seconds per epoch change with the thread count where no figure says: as threads^-0.5
# (one IMDB LSTM epoch took 1.46 times as long on 1 thread as on 2, README "Speed").
THREAD_EXPONENT = 0.5
# A worker's start before its first run: importing TensorFlow and loading a data set (15-25 s on
# the 2-core machines, busy); paid when a pool starts.
WORKER_START_SECONDS = 15.0
METHODS_WITHOUT_EPOCHS = ("linear-regression", "gradient-boosting", "gradients")


@dataclass(frozen=True)
class Unit:
    """What a run's seconds per epoch depend on (`key`), and what its epochs do."""

    key: tuple
    names: tuple[str, ...]  # where to look in the typical figures, in order
    dataset: str
    budget: int  # epochs at most (1 for a run without epochs)
    patience: int | None
    epochless: bool
    train_share: float  # of the full training set (the quick profile's subset costs less)
    test_share: float  # of the full test set


def unit_of(name: str, inputs: dict) -> Unit:
    """A run's unit, from its name and inputs (a plan's, or a record's: they are the same)."""
    params = inputs.get("params", {})
    spec, settings = params.get("spec", {}), params.get("settings", {})
    design = params.get("design") or {}
    method = design.get("method", "fit")
    dataset = spec.get("dataset", "")
    # a subset (the quick profile) costs its share of the full data set
    n_train, n_test = labs.LABS[dataset].full_sizes if dataset in labs.LABS else (0, 0)
    train_limit = settings.get("train_limit")  # a trial's own fit_limit is in its figures
    train_share = min(1.0, train_limit / n_train) if train_limit and n_train else 1.0
    test_limit = settings.get("test_limit")
    test_share = min(1.0, test_limit / n_test) if test_limit and n_test else 1.0
    key = (
        spec.get("name", name), settings.get("batch_size"), settings.get("precision"),
        settings.get("train_limit"), settings.get("test_limit"),
        settings.get("validation_split"), method, design.get("fit_limit"),
        design.get("validate_each_epoch", True), design.get("batch_sample") or 0,
        design.get("last_steps"),
    )  # fmt: skip
    epochless = method in METHODS_WITHOUT_EPOCHS
    return Unit(
        key=key,
        names=(name, spec.get("name", name), f"{dataset}-{spec.get('kind', '')}"),
        dataset=dataset,
        budget=1 if epochless else int(settings.get("epochs") or 1),
        patience=None if epochless else settings.get("patience"),
        epochless=epochless,
        train_share=train_share,
        test_share=test_share,
    )


@dataclass
class Observation:
    """Timed epochs of one run: finished (its record) or in progress (its partial history)."""

    unit: Unit
    threads: int | None
    epoch_seconds: list[float]
    epochs_run: int | None = None  # a finished run's, None while it runs
    setup: float | None = None  # a finished run's fit seconds outside its steady epochs
    predict: float | None = None  # a finished run's prediction seconds
    failed: bool = False
    this_build: bool = False

    def steady(self, setup: float) -> list[float]:
        """Its epochs after the first (the first also traces the model's graphs, a cost of the
        run rather than of an epoch); of a run with one epoch so far, that epoch less `setup`
        (what a first epoch is expected to take beyond a steady one), at least a fifth of it."""
        if len(self.epoch_seconds) > 1:
            return self.epoch_seconds[1:]
        return [max(self.epoch_seconds[0] / 5, self.epoch_seconds[0] - setup)]


def overhead_of(seconds: float, epoch_seconds: list[float]) -> float:
    """A run's fit seconds outside its steady epochs: set-up, and what its first epoch took
    beyond a steady one."""
    if len(epoch_seconds) > 1:
        steady = statistics.fmean(epoch_seconds[1:])
        return max(0.0, seconds - steady * len(epoch_seconds))
    return max(0.0, seconds - sum(epoch_seconds))


def device_of(machine: dict | None) -> str | None:
    """The device a record's seconds were measured on: its GPU by name, else its CPU type."""
    if not machine:
        return None
    gpu = machine.get("gpu")
    return f"{gpu.get('name')} (GPU)" if gpu else provenance.cpu_type(machine)


def current_device(gpus: list) -> str | None:
    """This machine's device, as device_of names it (`gpus`: devices.gpus())."""
    if gpus:
        return f"{gpus[0].name} (GPU)"
    return provenance.cpu_type(provenance.machine())


def read_epoch_seconds(history: Path) -> list[float]:
    """The epoch_seconds column of a history.csv (also one being written); [] when absent."""
    try:
        with open(history, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError):
        return []
    seconds = []
    for row in rows:
        try:
            seconds.append(float(row["epoch_seconds"]))
        except (KeyError, TypeError, ValueError):
            return seconds
    return seconds


def observe_record(folder: Path, this_build: bool = False) -> tuple[Observation, dict] | None:
    """A finished run's timings (run.json, not checked against its checksums: a timing needs
    no more), with the machine it ran on; None when unreadable or untimed."""
    try:
        record = json.loads((folder / runs.RECORD).read_text(encoding="utf-8"))
        unit = unit_of(record.get("name") or folder.parent.name, record["inputs"])
        fit = float(record["fit_seconds"])
        predict = float(record.get("predict_seconds") or 0.0)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    machine = record.get("machine") or {}
    threads = machine.get("tensorflow_threads")
    failed = record.get("status") == "failed"
    if unit.epochless:
        observed = Observation(unit, threads, [fit + predict], 1, 0.0, 0.0, failed, this_build)
    else:
        seconds = read_epoch_seconds(folder / runfiles.HISTORY)
        if not seconds:
            return None
        observed = Observation(unit, threads, seconds, len(seconds), overhead_of(fit, seconds),
                               predict, failed, this_build)  # fmt: skip
    return observed, machine


def earlier_observations(store: Path | None, device: str | None) -> list[Observation]:
    """The run store's finished runs (lab runs and trials, every profile) trained on `device`
    with a recorded thread count."""
    if store is None or device is None or not store.exists():
        return []
    found = []
    for path in sorted(store.glob(f"*/*/seed-*/{runs.RECORD}")):
        observed = observe_record(path.parent)
        if observed is None:
            continue
        observation, machine = observed
        if observation.threads is not None and device_of(machine) == device:
            found.append(observation)
    return found


def _cached(method):
    """Memoise a CostModel method on its arguments until the next observation."""

    def wrapper(self, *args):
        key = (method.__name__, *args)
        if key not in self._cache:
            self._cache[key] = method(self, *args)
        return self._cache[key]

    wrapper.__doc__ = method.__doc__
    return wrapper


class CostModel:
    """Seconds per epoch, epochs and overhead of a unit at a thread count, from what is known:
    `observations` (the machine's earlier runs) and this build's (`observe`)."""

    def __init__(self, observations: list[Observation] = ()):
        self.earlier: dict[tuple, list[Observation]] = {}
        for observation in observations:
            if observation.epoch_seconds:
                self.earlier.setdefault(observation.unit.key, []).append(observation)
        self.current: dict[int, Observation] = {}  # this build's, by run
        self._current_by_key: dict[tuple, dict[int, Observation]] = {}
        self._cache: dict = {}

    def observe(self, run_id: int, observation: Observation) -> None:
        """This build's timings of a run (replacing what it said before)."""
        observation.this_build = True
        before = self.current.get(run_id)
        if before is not None and (before.epoch_seconds, before.epochs_run) == (
            observation.epoch_seconds, observation.epochs_run
        ):  # fmt: skip
            return
        if before is not None:
            self._current_by_key[before.unit.key].pop(run_id, None)
        if observation.epoch_seconds:
            self.current[run_id] = observation
            self._current_by_key.setdefault(observation.unit.key, {})[run_id] = observation
        else:
            self.current.pop(run_id, None)
        self._cache.clear()

    def _pooled(self, observations: list[Observation]) -> float:
        """Seconds per steady epoch over the runs' steady epochs (runs of one unit)."""
        extra = self._first_epoch_extra(observations[0].unit)
        steady = [o.steady(extra) for o in observations]
        return sum(map(sum, steady)) / sum(map(len, steady))

    @_cached
    def _first_epoch_extra(self, unit: Unit) -> float:
        """What a first epoch takes beyond a steady one (with the set-up before it): measured
        on finished runs of the unit, else the typical figure."""
        finished = [o.setup for o in self._known(unit) if o.setup is not None]
        if finished:
            return statistics.median(finished)
        return next((TYPICAL_SETUP_SECONDS[n] for n in unit.names
                     if n in TYPICAL_SETUP_SECONDS), DEFAULT_SETUP_SECONDS)  # fmt: skip

    def _known(self, unit: Unit) -> list[Observation]:
        return [
            *self._current_by_key.get(unit.key, {}).values(), *self.earlier.get(unit.key, [])
        ]  # fmt: skip

    @_cached
    def per_epoch(self, unit: Unit, threads: int) -> tuple[float, str]:
        """Seconds per steady epoch, and where they came from: "build" (this build's epochs),
        "earlier" (the machine's earlier runs), "typical"."""
        known = self._known(unit)
        same = [o for o in known if o.threads == threads]
        ours = [o for o in same if o.this_build]
        if ours or same:
            return self._pooled(ours or same), "build" if ours else "earlier"
        if known:
            counts: dict[int, int] = {}
            for o in known:
                counts[o.threads] = counts.get(o.threads, 0) + len(o.epoch_seconds)
            other = max(counts, key=counts.get)
            seen = [o for o in known if o.threads == other]
            source = "build" if any(o.this_build for o in seen) else "earlier"
            return self._pooled(seen) * _thread_ratio(unit, other, threads), source
        return _typical(unit, threads) * self.speed(threads), "typical"

    @_cached
    def speed(self, threads: int) -> float:
        """This machine's seconds per epoch over the typical figures' (median over the units
        measured here at `threads`); 1 where none is."""
        ratios = []
        for key in {*self.earlier, *self._current_by_key}:
            known = [*self._current_by_key.get(key, {}).values(), *self.earlier.get(key, [])]
            same = [o for o in known if o.threads == threads]
            if same and _typical_figures(same[0].unit):
                ratios.append(self._pooled(same) / _typical(same[0].unit, threads))
        return statistics.median(ratios) if ratios else 1.0

    @_cached
    def expected_epochs(self, unit: Unit) -> float:
        """The epochs a run of `unit` is expected to run: its budget without early stopping,
        else the mean of finished runs like it (same budget and patience), else the typical
        figure, else the fewest early stopping allows (patience + 1)."""
        if unit.patience is None:
            return unit.budget
        runs_like = [
            o.epochs_run for o in self._known(unit)
            if o.epochs_run and not o.failed and o.unit.budget == unit.budget
            and o.unit.patience == unit.patience
        ]  # fmt: skip
        if runs_like:
            return min(unit.budget, statistics.fmean(runs_like))
        for name in unit.names:
            if name in TYPICAL_EPOCHS:
                budget, patience, epochs = TYPICAL_EPOCHS[name]
                if (budget, patience) == (unit.budget, unit.patience):
                    return epochs
                break
        return min(unit.budget, unit.patience + 1)

    @_cached
    def overhead(self, unit: Unit, threads: int) -> float:
        """Seconds a run spends outside its steady epochs: set-up and prediction; measured on
        finished runs of the unit (at `threads` where there are some), else typical."""
        finished = [o for o in self._known(unit) if o.setup is not None]
        finished = [o for o in finished if o.threads == threads] or finished
        if finished:
            return statistics.median(o.setup for o in finished) + statistics.median(
                o.predict or 0.0 for o in finished
            )
        if unit.epochless:
            return 0.0
        predict = next((TYPICAL_PREDICT_SECONDS[n] for n in unit.names
                        if n in TYPICAL_PREDICT_SECONDS), 0.0)  # fmt: skip
        return self._first_epoch_extra(unit) + predict * unit.test_share

    def run_seconds(self, unit: Unit, threads: int, done: list[float] = (),
                    elapsed: float = 0.0) -> tuple[float, float]:  # fmt: skip
        """(low, high) seconds a run of `unit` takes on `threads`, or, with `done` (the epoch
        seconds it has finished) and `elapsed` (seconds since it started), still needs."""
        epoch, _ = self.per_epoch(unit, threads)
        overhead = self.overhead(unit, threads)
        finished = len(done)
        into = max(0.0, elapsed - sum(done))  # in the current epoch (or set-up, or prediction)
        expected = self.expected_epochs(unit)
        bounds = []
        for epochs in (max(expected, min(unit.budget, finished + 1)), unit.budget):
            whole = overhead + epochs * epoch - elapsed  # the run's estimate less its time so far
            rest = max(0.0, epochs - finished) * epoch - into  # its epochs still to run
            bounds.append(max(0.0, whole, rest))
        return bounds[0], bounds[1]


def _thread_ratio(unit: Unit, have: int, want: int) -> float:
    """Seconds per epoch at `want` threads over those at `have`: the typical figures' ratio
    where they have both, else THREAD_EXPONENT's."""
    figures = _typical_figures(unit)
    if figures and have in figures and want in figures:
        return figures[want] / figures[have]
    return (have / want) ** THREAD_EXPONENT


def _typical_figures(unit: Unit) -> dict[int, float] | None:
    return next((TYPICAL_EPOCH_SECONDS[n] for n in unit.names if n in TYPICAL_EPOCH_SECONDS), None)


def _typical(unit: Unit, threads: int) -> float:
    """The typical seconds per epoch at `threads`, for this unit's share of the data."""
    figures = _typical_figures(unit) or {1: 1.0}
    nearest = min(figures, key=lambda t: (abs(t - threads), -t))
    seconds = figures[nearest] * (nearest / threads) ** THREAD_EXPONENT
    return max(0.01, seconds * unit.train_share)


def makespan(running: list[float], waiting: list[float], workers: int) -> float:
    """When `workers` processes finish: busy for `running` seconds each, then given the
    `waiting` runs in order, each to the first process free (as the dispatcher does)."""
    free = sorted(running) + [0.0] * max(0, workers - len(running))
    heapq.heapify(free)
    for seconds in waiting:
        heapq.heappush(free, heapq.heappop(free) + seconds)
    return max(free) if free else 0.0


class Estimate:
    """The time left for a plan under `layout` (parallel.Layout: its lanes in the order they
    run, (processes, threads) each, and which lane trains a run), from a CostModel."""

    def __init__(self, todo: list, layout, model: CostModel, device: str | None = None):
        self.layout = layout
        self.model = model
        self.device = device
        self.units = {id(item): unit_of(item.name, item.inputs) for item in todo}

    def _threads(self, item) -> int:
        return self.layout.lanes[self.layout.lane_of(item)][1]

    def cost(self, item) -> tuple[float, float]:
        """(low, high) seconds of a run not started yet."""
        return self.model.run_seconds(self.units[id(item)], self._threads(item))

    def running(self, item, done: list[float], elapsed: float) -> None:
        """A running run's finished epochs (its partial history) count from now on."""
        unit = self.units[id(item)]
        self.model.observe(id(item), Observation(unit, self._threads(item), list(done)))

    def finished(self, item) -> None:
        """A run this build finished: its record's timings replace its partial history."""
        observed = observe_record(item.path, this_build=True)
        if observed is not None:
            observation, _ = observed
            observation.threads = self._threads(item)
            self.model.observe(id(item), observation)

    def left(self, waiting: list, running: list[tuple]) -> tuple[float, float]:
        """(low, high) seconds until the last run ends; `running`: (item, epoch seconds done,
        seconds since it started) each; `waiting` in the order they will be dispatched."""
        bounds = []
        # a machine's pools take their turns; a cluster's lanes (its kinds of worker) run at once
        at_once = getattr(self.layout, "lanes_at_once", False)
        for end in (0, 1):
            ends = []
            for lane, (processes, threads) in self.layout.lanes.items():
                busy = [
                    self.model.run_seconds(self.units[id(item)], threads, done, elapsed)[end]
                    for item, done, elapsed in running if self.layout.lane_of(item) == lane
                ]  # fmt: skip
                queued = [self.cost(item)[end] for item in waiting
                          if self.layout.lane_of(item) == lane]  # fmt: skip
                if queued and not busy:  # the pool's workers start first
                    busy = [WORKER_START_SECONDS] * min(processes, len(queued))
                ends.append(makespan(busy, queued, processes))
            bounds.append(max(ends, default=0.0) if at_once else sum(ends))
        return bounds[0], bounds[1]

    def sources(self, todo: list) -> dict[str, int]:
        """How many of the plan's units take their seconds per epoch from each source."""
        seen: dict[tuple, str] = {}
        for item in todo:
            unit, threads = self.units[id(item)], self._threads(item)
            seen[(unit.key, threads)] = self.model.per_epoch(unit, threads)[1]
        counts: dict[str, int] = {}
        for source in seen.values():
            counts[source] = counts.get(source, 0) + 1
        return counts

    def plan_line(self, todo: list) -> str:
        """The line printed before training: how many runs, how long, and from what."""
        low, high = self.left(todo, [])
        counts = self.sources(todo)
        parts = []
        if counts.get("build"):
            parts.append(f"{counts['build']} timed in this build")
        if counts.get("earlier"):
            parts.append(f"{counts['earlier']} from this machine's earlier runs")
        if counts.get("typical"):
            parts.append(f"{counts['typical']} typical figures of {TYPICAL_MACHINE}")
        basis = "seconds per epoch: " + ", ".join(parts)
        if counts.get("typical") and self.device and self.device.endswith("(GPU)"):
            basis += " (a CPU's: a GPU is likely faster)"
        return f"{len(todo)} run(s) to train, about {span(low, high)} ({basis})"


def span(low: float, high: float) -> str:
    """A range of durations, one figure when both ends print alike."""
    first, last = duration(low), duration(high)
    return first if first == last else f"{first} to {last}"


def duration(seconds: float) -> str:
    """m:ss under an hour, h:mm:ss under two days, then days and hours."""
    seconds = max(0, round(seconds))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
