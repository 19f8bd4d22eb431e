"""The run store: one folder per (profile, model, seed) under build/runs, keyed by its inputs.

A run folder appears complete or not at all: it is written under a temporary name and renamed
into place, with run.json (holding the key and the checksum of every other file) written last.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from nnlab import models, preprocess, training
from nnlab.config import TrainSettings
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write_json, ensure_dir, sha256_file

RECORD = "run.json"
STATES = ("done", "missing", "stale", "failed")


def library_versions() -> dict[str, str]:
    """Versions that can change a run's numbers, read without importing TensorFlow."""
    versions = {"python": sys.version.split()[0]}
    for package in ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scikit-learn"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _code_fingerprint() -> str:
    # Only the code that turns inputs into a trained model; specs are keyed one by one.
    source = "".join(inspect.getsource(part) for part in (models.build, preprocess, training))
    return hashlib.sha256(source.encode()).hexdigest()


def run_key(
    spec: models.ModelSpec, settings: TrainSettings, data_checksum: str, seed: int
) -> tuple[str, dict]:
    inputs = {
        "spec": spec.as_dict(),
        "settings": settings.as_dict(),
        "data_sha256": data_checksum,
        "seed": seed,
        "versions": library_versions(),
        "code": _code_fingerprint(),
    }
    canonical = json.dumps(inputs, sort_keys=True, default=list)
    return hashlib.sha256(canonical.encode()).hexdigest(), inputs


def run_path(root: Path, profile: str, name: str, seed: int, precision: str = "float32") -> Path:
    """A run's folder under a store root (build/runs, or the frozen results/). Float32 runs
    live in seed-<n>; other precisions beside them, so both can be compared."""
    suffix = "" if precision == "float32" else f"-{precision}"
    return root / profile / name / f"seed-{seed}{suffix}"


def run_dir(build: Path, profile: str, name: str, seed: int, precision: str = "float32") -> Path:
    return run_path(build / "runs", profile, name, seed, precision)


@dataclass
class RunStatus:
    name: str
    state: str  # one of STATES
    reason: str
    path: Path
    record: dict | None

    def as_dict(self) -> dict:
        record = self.record or {}
        return {
            "name": self.name,
            "status": self.state,
            "reason": self.reason,
            "metrics": record.get("metrics"),
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
        raise NnlabError(f"{path / RECORD} is unreadable ({exc}); the run will be redone") from exc
    for name, digest in record.get("files", {}).items():
        file = path / name
        if not file.exists() or sha256_file(file) != digest:
            raise NnlabError(f"{file} is missing or altered; the run will be redone")
    return record


def status(path: Path, name: str, key: str | None) -> RunStatus:
    """The state of the run in `path`; `key` None means "don't compare inputs"."""
    try:
        record = read_record(path)
    except FileNotFoundError:
        return RunStatus(name, "missing", "not trained yet", path, None)
    except NnlabError as exc:
        return RunStatus(name, "missing", str(exc), path, None)
    if key is not None and record.get("key") != key:
        return RunStatus(name, "stale", "its inputs changed since it was trained", path, record)
    if record.get("status") == "failed":
        return RunStatus(name, "failed", record.get("reason", ""), path, record)
    return RunStatus(name, "done", "", path, record)


def commit(workdir: Path, record: dict, final: Path) -> None:
    """Seal `workdir` with run.json (checksums of its files) and move it into place."""
    record["files"] = {
        file.name: sha256_file(file) for file in sorted(workdir.iterdir()) if file.is_file()
    }
    atomic_write_json(workdir / RECORD, record)
    _fault_pause("commit")
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    workdir.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _fault_pause(stage: str) -> None:
    """Fault-injection hook for the tests: NNLAB_FAULT_PAUSE=<stage> sleeps there, so a test
    can kill the process at that exact point."""
    if os.environ.get("NNLAB_FAULT_PAUSE") == stage:
        print(f"nnlab: paused at {stage}", file=sys.stderr, flush=True)
        time.sleep(60)


def new_workdir(final: Path) -> Path:
    parent = ensure_dir(final.parent)
    workdir = parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    return workdir


def clean_leftovers(build: Path) -> None:
    """Remove partial folders left by a killed build (call with the build lock held)."""
    root = build / "runs"
    if not root.exists():
        return
    for leftover in root.glob("*/*/.*"):
        if ".partial-" in leftover.name or ".old-" in leftover.name:
            shutil.rmtree(leftover, ignore_errors=True)
