"""Training the plan on a Dask cluster (`--cluster ADDRESS`): a lab room's PCs or a Slurm job.

The training loop stays parallel.train_parallel's: `Client.get_executor` gives it
concurrent.futures futures, and ClusterPools answers it as parallel.LocalPools does. No shared
file system is needed:
- each worker process is set up once by a worker plug-in (TensorFlowSetup): it refuses a worker
  whose nnlab code or libraries differ from the client's, then starts the worker's training
  process, a spawned process as a local pool's worker is (parallel.start_worker), with
  TensorFlow's thread pools sized to the worker's `cores` resource and pinned to its GPU when
  it advertises `gpus`. Training runs there, not in the Dask worker itself, because the
  worker's own threads draw from Python's global `random` while a run is seeded from it
  (Keras's seed generator): in the worker, one seed gave other numbers each time;
- a run trains in that process into a temporary store of its own (train_in_scratch) and comes
  back as its sealed folder's files; the client commits them with the run store's atomic commit
  (runs.receive). A run is keyed by its inputs: the client skips it when it is done before
  sending it and again before committing it, and its key is the Dask task's, so one scheduler
  never trains it twice at once;
- the lanes become resource requests (ClusterLayout): LSTMs go to the GPU workers when there
  are some, a run that saturates the cores to the workers with the most cores, the others to
  any worker with a core;
- a worker lost mid-run (killed, switched off) loses only that run's temporary folder: the
  scheduler gives the run to another worker (up to its `allowed-failures`), and nothing reaches
  the run store before the client has the whole run.
The run's machine (provenance) is the worker's: runs from different machine types stay apart in
the report as they do today.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import dask
from distributed import Client, get_worker
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker

from nnlab import cachekey, devices, parallel, provenance, runs
from nnlab.errors import NnlabError
from nnlab.fsutil import fault_pause

CONNECT_SECONDS = 30
WORKERS_SECONDS = 60  # how long to wait for a first worker to join
PLUGIN = "nnlab-tensorflow"
_training: ProcessPoolExecutor | None = None  # this worker's training process
_threads = 1  # its TensorFlow threads
_gpu: devices.Gpu | None = None  # its GPU


class WorkerRefused(NnlabError):
    """A worker whose nnlab or libraries differ from the client's (one line)."""


@functools.cache
def fingerprint() -> dict:
    """What must be the same on the client and every worker for a run to be the same run: the
    nnlab code (a digest of its Python files), Python's minor version and the libraries that
    change a run's numbers (TensorFlow whichever its build: tensorflow or tensorflow-cpu)."""
    package = Path(parallel.__file__).parent
    digest = hashlib.sha256()
    for file in sorted(package.rglob("*.py")):
        digest.update(file.relative_to(package).as_posix().encode() + b"\0")
        digest.update(file.read_bytes())
    versions = provenance.library_versions()
    try:
        version = metadata.version("nnlab")
    except metadata.PackageNotFoundError:
        version = "not installed"
    return {
        "nnlab": version,
        "nnlab code": digest.hexdigest()[:12],
        "python": ".".join(versions["python"].split(".")[:2]),
        "tensorflow": versions.get("tensorflow") or versions.get("tensorflow-cpu"),
        "keras": versions.get("keras"),
        "numpy": versions.get("numpy"),
        "scikit-learn": versions.get("scikit-learn"),
    }


def refusal(expected: dict, address: str) -> str | None:
    """The line refusing the worker at `address` when this process's fingerprint differs from
    the client's (`expected`), else None."""
    mine = fingerprint()
    differs = [
        f"{name} {mine.get(name)} (the client's: {want})"
        for name, want in expected.items()
        if mine.get(name) != want
    ]
    if not differs:
        return None
    return (
        f"cluster worker {address} refused: its {', '.join(differs)}; install the client's "
        "nnlab (same commit) and libraries on it: pip install -e '.[cpu,cluster]'"
    )


class TensorFlowSetup(WorkerPlugin):
    """Each worker process's set-up, once, before any run: the version check, then its
    training process (start_training), on the worker's `cores` resource (else all of its
    cores) and, when it advertises `gpus`, pinned to its first GPU."""

    name = PLUGIN
    # once per worker process: TensorFlow's thread pools cannot be resized after its first run,
    # so a later client's plug-in is not set up again (train_remote checks its versions)
    idempotent = True

    def __init__(self, expected: dict):
        self.expected = expected

    def setup(self, worker) -> None:
        global _threads, _gpu
        line = refusal(self.expected, worker.address)
        if line is not None:
            raise WorkerRefused(line)
        resources = worker.state.total_resources
        _threads = int(resources.get("cores", 0)) or devices.cores()
        found = devices.gpus() if resources.get("gpus") else []
        _gpu = found[0] if found else None
        start_training()

    def teardown(self, worker) -> None:
        if _training is not None:
            _training.shutdown(wait=False, cancel_futures=True)


def start_training() -> None:
    """Start this worker's training process (on its first run, as a local pool does)."""
    global _training
    # A Dask nanny's worker is a daemonic process, and multiprocessing lets no daemonic process
    # have children. The training process needs no more: it ends once its worker is gone (its
    # task queue closes).
    multiprocessing.current_process().daemon = False
    _training = ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=parallel.start_worker,
        initargs=(_threads, _gpu),
    )  # fmt: skip


def train_remote(item, expected: dict) -> dict[str, bytes]:
    """On a worker: train the planned run `item` in the worker's training process and return
    its sealed folder's files."""
    address = get_worker().address
    line = refusal(expected, address)  # a worker that joined after the check at connect
    if line is not None:
        raise WorkerRefused(line)
    try:
        files = _training.submit(train_in_scratch, item, _threads, address).result()
    except BrokenProcessPool:
        start_training()  # a new one for the next run
        raise NnlabError(
            f"the training process of cluster worker {address} died (killed, or out of "
            "memory); finished runs are kept: run the command again to go on"
        ) from None
    fault_pause("cluster run")  # trained, not yet sent: where a test kills the worker
    return files


def train_in_scratch(item, threads: int, address: str) -> dict[str, bytes]:
    """In a worker's training process: train the planned run `item` into a temporary store
    of its own (and make its measurements, as a local worker does), and return its sealed
    folder's files. The worker's data must be the client's."""
    want = item.inputs["files"].get("data")
    have = parallel.load_dataset(item.spec.dataset).checksum
    if want is not None and have != want:
        raise NnlabError(
            f"cluster worker {address} has other {item.spec.dataset} data than the client "
            f"(checksum {have[:12]}, the client's {want[:12]}): run nnlab data fetch "
            f"{item.spec.dataset} on both"
        )
    with tempfile.TemporaryDirectory(prefix="nnlab-run-") as scratch:
        store = item.path.parents[2]  # <store>/<profile>/<name>/seed-<n>
        local = replace(item, path=Path(scratch) / item.path.relative_to(store))
        parallel.train_one(local, threads)
        return {file.name: file.read_bytes() for file in local.path.iterdir() if file.is_file()}


@dataclass(frozen=True)
class ClusterLayout:
    """The cluster's workers by what they advertise: the `cores` of each worker without a GPU,
    and how many have one (`gpus`). Its lanes run at once, each on its own workers."""

    cores: tuple[int, ...]
    gpu_workers: int = 0
    lanes_at_once = True

    @property
    def workers(self) -> int:
        return len(self.cores) + self.gpu_workers

    @property
    def lanes(self) -> dict[str, tuple[int, int]]:
        """Each lane: name -> (workers, TensorFlow threads), as parallel.Layout's."""
        found = {}
        if self.gpu_workers:
            found["gpu"] = (self.gpu_workers, 1)
        if self.cores:
            found["shared"] = (len(self.cores), min(self.cores))
            widest = max(self.cores)
            if widest > min(self.cores):
                found["all-cores"] = (self.cores.count(widest), widest)
        return found

    def lane_of(self, item) -> str:
        """The GPU workers take the LSTMs (all runs without a CPU worker); a run that saturates
        the cores takes the workers with the most cores (when some have more than others); the
        others any worker with a core."""
        if self.gpu_workers and (item.spec.kind == "rnn" or not self.cores):
            return "gpu"
        return "all-cores" if parallel.saturates(item) and "all-cores" in self.lanes else "shared"

    def resources(self, item) -> dict[str, int]:
        """The run's Dask resource request."""
        lane = self.lane_of(item)
        return {"gpus": 1} if lane == "gpu" else {"cores": self.lanes[lane][1]}


def layout_of(workers: dict) -> ClusterLayout:
    """The layout of the workers scheduler_info lists; one line for a worker that advertises
    neither cores nor GPUs (no run would ever be given to it)."""
    cores, gpu_workers = [], 0
    for address, info in sorted(workers.items()):
        resources = info.get("resources", {})
        if resources.get("gpus"):
            gpu_workers += 1
        elif resources.get("cores"):
            cores.append(int(resources["cores"]))
        else:
            raise NnlabError(
                f"cluster worker {address} advertises no resources: start it with "
                "--nthreads 1 --resources cores=N (its cores), or gpus=1 for a GPU worker"
            )
    return ClusterLayout(tuple(cores), gpu_workers)


def connect(address: str, echo=print) -> ClusterPools:
    """Connect to the scheduler at `address`, wait for a worker, set every worker up (refusing
    those at other versions) and read the layout."""
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise NnlabError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        expected = fingerprint()
        client.register_plugin(TensorFlowSetup(expected), name=PLUGIN)
        layout = layout_of(client.scheduler_info()["workers"])
    except TimeoutError:
        client.close()
        raise NnlabError(
            f"no worker joined the Dask scheduler at {address} within {WORKERS_SECONDS} s"
        ) from None
    except BaseException:
        client.close()
        raise
    echo(f"connected to the Dask scheduler at {address}: {layout.workers} worker(s)")
    return ClusterPools(client, layout, expected)


class ClusterPools:
    """A Dask cluster as parallel.train_parallel uses a machine's pools (parallel.LocalPools):
    every run is sent at once, the costliest first (Dask's priorities), each with its lane's
    resource request; the client commits each run when its files come back."""

    verb = "sent"

    def __init__(self, client: Client, layout: ClusterLayout, expected: dict):
        self.client, self.layout, self.expected = client, layout, expected
        self.executor = client.get_executor(pure=False)
        self.capacity = float("inf")  # the scheduler queues them
        self.sent = 0

    def banner(self, todo: list) -> str:
        lanes = "; ".join(
            f"{lane}: {count} worker(s), {threads} TensorFlow thread(s) each"
            for lane, (count, threads) in self.layout.lanes.items()
        )
        workers = self.layout.workers
        return f"training {len(todo)} run(s) on the cluster's {workers} worker(s): {lanes}"

    def next_job(self, waiting: list, running: list, firsts: frozenset):
        """In the order given (the costliest first), the first wave before the others."""
        return next((item for item in waiting if id(item) in firsts), waiting[0])

    def submit(self, item, waiting: list):
        """Send the run, unless it is done already (then an answered future, nothing to
        commit)."""
        if runs.status(item.path, item.name, item.inputs).state == "done":
            skipped = concurrent.futures.Future()
            skipped.set_result(None)
            return skipped
        self.sent += 1
        return self.executor.submit(
            train_remote, item, self.expected,
            key=f"nnlab-run-{item.name}-seed-{item.seed}-{cachekey.key(item.inputs)[:16]}",
            priority=-self.sent, resources=self.layout.resources(item),
        )  # fmt: skip

    def collect(self, future, item) -> None:
        """Commit the run's files (runs.receive), unless it was done meanwhile."""
        try:
            files = future.result()
        except KilledWorker:
            tries = dask.config.get("distributed.scheduler.allowed-failures") + 1
            raise NnlabError(
                f"cluster workers died {tries} times training {item.name} seed {item.seed} "
                "(killed, or out of memory); finished runs are kept: run the command again "
                "to go on"
            ) from None
        if files is None or runs.status(item.path, item.name, item.inputs).state == "done":
            return
        runs.receive(files, item.path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest) -> None:
        # after an error or an interruption, the runs not back yet are cancelled
        self.executor.shutdown(wait=exc_type is None)
        self.client.close()
