"""The run store: one folder per (profile, model, seed) under build/runs, keyed by its inputs.

A run folder appears complete or not at all: it is written under a temporary name, sealed with
run.json (its inputs, the machine that trained it and the checksum of every other file),
fsynced and renamed into place.

A run's inputs are exactly what its numbers depend on, recorded by cachekey.dependencies: the
code that trains it (training.RUN_STAGE, or experiments.train.TRIAL_STAGE, plus its own
dataset's preprocessing, labs.Lab.preprocessing), the constants that change a number, the
model's spec, its training settings, the seed and the data's checksum. Rendering code, metrics
and statistics are not inputs: the report recomputes them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from nnlab import cachekey, labs, models
from nnlab.config import TrainSettings
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write_json, ensure_dir, fault_pause, fsync_path, sha256_file

RECORD = "run.json"
FROZEN_ROOT = Path("results")  # `nnlab freeze` exports runs here (tracked in git)
# How a changed input is named in a stale run's reason.
INPUT_NAMES = {
    "spec": "model architecture",
    "settings": "training settings",
    "code": "training code",
    "data": "data",
    "seed": "seed",
    "predict_batch_size": "prediction batch size",
    "evaluation_cap": "evaluation sample cap",
    "design": "experiment design",  # experiment trials only (experiments/design.py)
}


def stage_for(dataset: str, trial: bool = False, split: bool = False) -> cachekey.Stage:
    """The stage that trains a run of `dataset`: the lab's trainer, or an experiment's trial
    trainers (with `split`, those of a split trial, which cut its fold), each with that
    dataset's own preprocessing."""
    if split:
        from nnlab.experiments.train import SPLIT_STAGE as stage
    elif trial:
        from nnlab.experiments.train import TRIAL_STAGE as stage
    else:
        from nnlab.training import RUN_STAGE as stage
    return cachekey.Stage(stage.name, stage.code + labs.LABS[dataset].preprocessing, stage.params)


def run_inputs(
    stage: cachekey.Stage, spec: models.ModelSpec, settings: TrainSettings,
    data_checksum: str | None, seed: int, design: dict | None = None,
) -> dict:  # fmt: skip
    """What the run depends on (cachekey.dependencies); `data_checksum` None where the data is
    not cached here (it is then not compared)."""
    params = {"spec": spec.as_dict(), "settings": settings.as_dict(), "seed": seed}
    if design is not None:
        params["design"] = design
    return cachekey.dependencies(stage, params, {"data": data_checksum})


def changed_inputs(recorded: dict, expected: dict) -> list[str]:
    """The inputs that differ, named for people; a None data checksum is not compared."""
    return cachekey.changes(recorded, expected, INPUT_NAMES)


def run_path(root: Path, profile: str, name: str, seed: int, precision: str = "float32") -> Path:
    """A run's folder under a store root (build/runs, or the frozen results/). Float32 runs
    live in seed-<n>; other precisions beside them, so both can be compared."""
    suffix = "" if precision == "float32" else f"-{precision}"
    return root / profile / name / f"seed-{seed}{suffix}"


@dataclass
class RunStatus:
    name: str
    state: str  # done, missing, stale or failed
    reason: str
    path: Path
    record: dict | None

    def as_dict(self) -> dict:
        record = self.record or {}
        return {
            "name": self.name,
            "status": self.state,
            "reason": self.reason,
            "fit_seconds": record.get("fit_seconds"),
            "predict_seconds": record.get("predict_seconds"),
            "epochs_run": record.get("epochs_run"),
            "folder": str(self.path),
        }


def read_record(path: Path) -> dict:
    """run.json after checking every file it lists against its checksum."""
    try:
        record = json.loads((path / RECORD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise NnlabError(f"{path / RECORD} is unreadable ({exc})") from exc
    for name, digest in record.get("files", {}).items():
        file = path / name
        if not file.exists() or sha256_file(file) != digest:
            raise NnlabError(f"{file} is missing or altered")
    return record


UNCOMPARED_DATA = "its data was not compared (not cached here)"


def status(path: Path, name: str, expected: dict) -> RunStatus:
    """The state of the run in `path` against the inputs it should have been trained on."""
    try:
        record = read_record(path)
    except FileNotFoundError:
        return RunStatus(name, "missing", "not trained yet", path, None)
    except NnlabError as exc:
        return RunStatus(name, "missing", str(exc), path, None)
    changed = changed_inputs(record.get("inputs", {}), expected)
    if changed == [cachekey.OLD_FORMAT]:  # its inputs cannot even be read: as if not trained
        reason = "it was recorded by an older nnlab, whose run records this one cannot read"
        return RunStatus(name, "missing", reason, path, None)
    if changed:
        reason = f"its {', '.join(changed)} changed since it was trained"
        return RunStatus(name, "stale", reason, path, record)
    if record.get("status") == "failed":
        return RunStatus(name, "failed", record.get("reason", ""), path, record)
    # a key compared without its data is done with that said, wherever it is listed
    unchecked = expected.get("files", {}).get("data", "") is None
    return RunStatus(name, "done", UNCOMPARED_DATA if unchecked else "", path, record)


def commit(workdir: Path, record: dict, final: Path) -> None:
    """Seal `workdir` with run.json (checksums of its files) and move it into place, durably."""
    record["files"] = {
        file.name: sha256_file(file) for file in sorted(workdir.iterdir()) if file.is_file()
    }
    for file in workdir.iterdir():
        fsync_path(file)
    atomic_write_json(workdir / RECORD, record)  # fsyncs run.json and the folder
    fault_pause("commit")
    _move_into_place(workdir, final)


def receive(files: dict[str, bytes], final: Path) -> None:
    """Commit a run sealed elsewhere (a cluster worker's: its folder's files by name, run.json
    among them): written beside `final`, fsynced, checked against run.json's checksums, then
    moved into place as `commit` does. A file altered on the way is refused, and nothing of it
    reaches the store."""
    workdir = new_workdir(final)
    try:
        for name, content in files.items():
            if Path(name).name != name or name.startswith("."):
                raise NnlabError(f"a run's file came back with an unsafe name: {name!r}")
            (workdir / name).write_bytes(content)
            fsync_path(workdir / name)
        fsync_path(workdir)
        read_record(workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    _move_into_place(workdir, final)


def _move_into_place(workdir: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    fault_pause("swap")  # killed here, clean_leftovers puts the sealed new run in place
    workdir.rename(final)
    fsync_path(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def new_workdir(final: Path) -> Path:
    """An empty folder beside `final` for one run in progress (named after this process)."""
    parent = ensure_dir(final.parent)
    workdir = parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    return workdir


def _sealed(folder: Path) -> bool:
    try:
        read_record(folder)
    except (OSError, NnlabError):
        return False
    return True


def clean_leftovers(build: Path) -> None:
    """Tidy what a killed build left (call with the build lock held). A run killed between
    moving the old run aside and moving the new one in gets its folder back: the new run when
    it was sealed, else the old one. Every other leftover is removed."""
    root = build / "runs"
    if not root.exists():
        return
    for leftover in sorted(root.glob("*/*/.*")):
        name, marker, _ = leftover.name[1:].rpartition(".partial-")
        if not marker:
            name, marker, _ = leftover.name[1:].rpartition(".old-")
        if not marker or not leftover.exists():
            continue
        final = leftover.with_name(name)
        if not final.exists():
            partial = [p for p in final.parent.glob(f".{name}.partial-*") if _sealed(p)]
            old = [p for p in final.parent.glob(f".{name}.old-*") if _sealed(p)]
            keep = (partial or old or [None])[0]
            if keep is not None:
                keep.rename(final)
                fsync_path(final.parent)
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)
