"""The run store: one folder per (profile, model, seed) under build/runs, keyed by its inputs.

A run folder appears complete or not at all: it is written under a temporary name, sealed with
run.json (its inputs, the machine that trained it and the checksum of every other file),
fsynced and renamed into place.

A run's inputs are exactly what its numbers depend on: the model's spec, its training settings,
the data's checksum, the seed, and the syntax tree of the code that trains it (the shared
training code plus its own dataset's preprocessing; comments and docstrings do not count).
Rendering code, metrics and statistics are not inputs: the report recomputes them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from nnlab import fingerprint, models, preprocess, training
from nnlab.config import TrainSettings
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write_json, ensure_dir, fault_pause, fsync_path, sha256_file

RECORD = "run.json"
FROZEN_ROOT = Path("results")  # `nnlab freeze` exports runs here (tracked in git)
# The code every run is trained by; each dataset adds its preprocessing (preprocess.STEPS).
TRAINING_CODE = (
    models.build, models.describe, training.seed_everything, training._callbacks,
    training.read_history, training.train,
)  # fmt: skip
# How a changed input is named in a stale run's reason.
INPUT_NAMES = {
    "spec": "model architecture",
    "settings": "training settings",
    "code": "training code",
    "data_sha256": "data",
    "seed": "seed",
    "design": "experiment design",  # experiment trials only (experiments/design.py)
}


def training_code(dataset: str) -> str:
    return fingerprint.code_digest(*TRAINING_CODE, *preprocess.STEPS[dataset])


def trial_code(dataset: str) -> str:
    """The code an experiment's trial is trained by: the lab's, plus the trial trainers."""
    from nnlab.experiments import train as trial_training

    return fingerprint.code_digest(*TRAINING_CODE, *preprocess.STEPS[dataset], trial_training)


def run_inputs(
    spec: models.ModelSpec, settings: TrainSettings, data_checksum: str | None, seed: int,
    code: str | None = None,
) -> dict:  # fmt: skip
    """What the run depends on; `data_checksum` None where the data is not cached here (it is
    then not compared); `code` the digest of the code that trains it (training_code or
    trial_code, computed once per dataset by a planner), else the lab's training code."""
    return {
        "spec": json.loads(json.dumps(spec.as_dict())),  # tuples as lists, as run.json has them
        "settings": settings.as_dict(),
        "data_sha256": data_checksum,
        "seed": seed,
        "code": code or training_code(spec.dataset),
    }


def changed_inputs(recorded: dict, expected: dict) -> list[str]:
    """The inputs that differ, named for people; a None expectation is not compared."""
    changed = []
    for key, label in INPUT_NAMES.items():
        want, have = expected.get(key), recorded.get(key)
        if want is None or want == have:
            continue
        if key == "settings" and isinstance(have, dict):
            keys = sorted(k for k in want if want[k] != have.get(k))
            label += " (" + ", ".join(f"{k} {have.get(k)} → {want[k]}" for k in keys) + ")"
        changed.append(label)
    return changed


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


def status(path: Path, name: str, expected: dict) -> RunStatus:
    """The state of the run in `path` against the inputs it should have been trained on."""
    try:
        record = read_record(path)
    except FileNotFoundError:
        return RunStatus(name, "missing", "not trained yet", path, None)
    except NnlabError as exc:
        return RunStatus(name, "missing", str(exc), path, None)
    changed = changed_inputs(record.get("inputs", {}), expected)
    if changed:
        reason = f"its {', '.join(changed)} changed since it was trained"
        return RunStatus(name, "stale", reason, path, record)
    if record.get("status") == "failed":
        return RunStatus(name, "failed", record.get("reason", ""), path, record)
    return RunStatus(name, "done", "", path, record)


def commit(workdir: Path, record: dict, final: Path) -> None:
    """Seal `workdir` with run.json (checksums of its files) and move it into place, durably."""
    record["files"] = {
        file.name: sha256_file(file) for file in sorted(workdir.iterdir()) if file.is_file()
    }
    for file in workdir.iterdir():
        fsync_path(file)
    atomic_write_json(workdir / RECORD, record)  # fsyncs run.json and the folder
    fault_pause("commit")
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
