"""Reading finished runs for the report: from build/runs, or from the frozen results/ folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab import runs
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write_json, ensure_dir
from nnlab.training import read_history

FROZEN_FILES = ("history.csv", "predictions.npz")
FROZEN_ROOT = Path("results")


@dataclass
class RunResult:
    name: str
    record: dict
    history: dict[str, list[float]]
    y_true: np.ndarray | None
    outputs: np.ndarray | None
    folder: Path

    @property
    def failed(self) -> bool:
        return self.record.get("status") == "failed"


def read_run(folder: Path, name: str) -> RunResult:
    record = runs.read_record(folder)
    history = read_history(folder / "history.csv") if (folder / "history.csv").exists() else {}
    y_true = outputs = None
    if (folder / "predictions.npz").exists():
        with np.load(folder / "predictions.npz", allow_pickle=False) as npz:
            y_true, outputs = npz["y_true"], npz["outputs"]
    return RunResult(name, record, history, y_true, outputs, folder)


def locate(build: Path, profile: str, name: str, seed: int, precision: str) -> Path | None:
    """The run folder for the report: the build's own run first, then the frozen copy."""
    for root in (build / "runs", FROZEN_ROOT):
        folder = runs.run_path(root, profile, name, seed, precision)
        if (folder / runs.RECORD).exists():
            return folder
    return None


def load_all(
    build: Path, profile: str, names: list[str], seeds: list[int], precision: str = "float32"
) -> dict:
    """{name: [RunResult per seed]}; a missing run is one error line naming the fix."""
    found = {}
    for name in names:
        found[name] = []
        for seed in seeds:
            folder = locate(build, profile, name, seed, precision)
            if folder is None:
                option = "" if precision == "float32" else f" --precision {precision}"
                raise NnlabError(
                    f"run {name} (seed {seed}, {profile} profile) is missing; make it with: "
                    f"nnlab train --profile {profile} --seed {seed}{option}"
                )
            found[name].append(read_run(folder, name))
    return found


def freeze(build: Path, profile: str, target: Path = FROZEN_ROOT) -> list[Path]:
    """Copy the runs' small results (no model files) to `target`, for rendering elsewhere."""
    copied = []
    source_root = build / "runs" / profile
    if not source_root.exists():
        raise NnlabError(f"no runs in {source_root}; train first: nnlab train --profile {profile}")
    for record_path in sorted(source_root.glob(f"*/seed-*/{runs.RECORD}")):
        folder = record_path.parent
        record = runs.read_record(folder)
        out = ensure_dir(target / profile / folder.parent.name / folder.name)
        for name in FROZEN_FILES:
            if (folder / name).exists():
                shutil.copyfile(folder / name, out / name)
        record["files"] = {k: v for k, v in record.get("files", {}).items() if k in FROZEN_FILES}
        atomic_write_json(out / runs.RECORD, record)
        copied.append(out)
    samples = build / "samples"
    if samples.exists():
        shutil.copytree(samples, target / "samples", dirs_exist_ok=True)
    return copied
