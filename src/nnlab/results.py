"""Reading a selection's finished runs for the report, and freezing them to results/.

Test metrics are computed here from each run's saved predictions with today's metrics.py, so a
fix to a metric reaches every run without retraining.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab import handmade, inference, metrics, runfiles, runs, samples
from nnlab import labs as registry
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_copy, atomic_write_json, ensure_dir
from nnlab.runfiles import GRADIENTS, read_history
from nnlab.staging import staged_folder

FROZEN_FILES = (runfiles.HISTORY, runfiles.PREDICTIONS, GRADIENTS)


@dataclass
class RunResult:
    name: str
    record: dict
    history: dict[str, list[float]]
    y_true: np.ndarray | None
    outputs: np.ndarray | None
    folder: Path
    metrics: dict | None  # None for a failed run (no predictions)
    handmade_k: list[float] | None = None  # Boston: the hand-made houses' prices, when current
    inference: dict | None = None  # Boston: the training loss in inference mode (inference.py)

    @property
    def failed(self) -> bool:
        return self.record.get("status") == "failed"

    @property
    def settings(self) -> dict:
        """The training settings it was trained with (its recorded inputs)."""
        return self.record["inputs"]["params"]["settings"]

    @property
    def spec(self) -> dict:
        return self.record["inputs"]["params"]["spec"]


def read_run(folder: Path, name: str, record: dict) -> RunResult:
    """The run in `folder`, whose record (already checked by runs.status) is `record`."""
    history = (
        read_history(folder / runfiles.HISTORY) if (folder / runfiles.HISTORY).exists() else {}
    )
    y_true = outputs = scores = None
    if (folder / runfiles.PREDICTIONS).exists():
        with np.load(folder / runfiles.PREDICTIONS, allow_pickle=False) as npz:
            y_true, outputs = npz["y_true"], npz["outputs"]
        scores = metrics.for_task(registry.task_of(record["dataset"]), y_true, outputs)
    # Boston's runs only have them (measurements.py).
    prices, measured = handmade.read(folder, record), inference.read(folder, record)
    return RunResult(name, record, history, y_true, outputs, folder, scores, prices, measured)


def load_all(selection) -> dict[str, list[RunResult]]:
    """{model name: [RunResult per seed]} for a selection whose runs all exist."""
    found: dict[str, list[RunResult]] = {}
    for item in selection.plans:
        run = read_run(item.path, item.spec.name, item.status.record)
        found.setdefault(item.spec.name, []).append(run)
    return found


def load_experiments(selection) -> dict[str, dict[str, list[RunResult]]]:
    """{experiment: {trial: [RunResult per seed]}} for every experiment whose trials are all
    done; an experiment with a trial missing, stale or failed is left out whole."""
    found: dict[str, dict[str, list[RunResult]]] = {}
    incomplete = set()
    for item in selection.plans:
        experiment = item.trial.experiment
        if item.status.state != "done":
            incomplete.add(experiment)
            continue
        run = read_run(item.path, item.name, item.status.record)
        found.setdefault(experiment, {}).setdefault(item.name, []).append(run)
    return {name: trials for name, trials in found.items() if name not in incomplete}


def freeze(build: Path, selections: list, target: Path = runs.FROZEN_ROOT) -> list[Path]:
    """Copy the selections' runs' small results (no model files) and the report's data samples
    to `target`, beside what it holds. All or nothing: everything is checked first, then
    written into a copy of `target` that is swapped in whole."""
    for selection in selections:
        selection.require(states=("done", "failed"))
    extracts = build / "samples"
    if not samples.covers(samples.load(extracts), {}):
        raise NnlabError(
            f"no current data samples in {extracts}; render the report first (nnlab report "
            f"--profile {selections[0].profile}), then freeze"
        )
    copied = []
    with staged_folder(target, start_from_final=True) as staging:
        for selection in selections:
            for item in selection.plans:
                _freeze_run(item, selection.root, staging)
                copied.append(target / item.path.relative_to(selection.root))
        for file in extracts.iterdir():
            atomic_copy(file, ensure_dir(staging / "samples") / file.name)
    return copied


def _freeze_run(item, root: Path, target: Path) -> None:
    folder = item.path
    record = dict(item.status.record)
    out = ensure_dir(target / folder.relative_to(root))
    for name in (*FROZEN_FILES, handmade.FILE, inference.FILE):
        if (folder / name).exists():
            atomic_copy(folder / name, out / name)
    files = record.get("files", {})
    record["model_sha256"] = files.get(runfiles.MODEL)  # what handmade.json was priced with
    record["files"] = {k: v for k, v in files.items() if k in FROZEN_FILES}
    atomic_write_json(out / runs.RECORD, record)
