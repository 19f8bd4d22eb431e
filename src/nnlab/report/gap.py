"""Why the Boston CNN's validation loss stands far above its training loss in its first
epochs, in numbers: the ratio of the two over those epochs for the lab's runs and for the
BatchNormalization control (experiments/design.py, "batchnorm"), and each run's training loss
re-measured in inference mode after training (inference.py)."""

from __future__ import annotations

import numpy as np

from nnlab.report import context as ctx

# The epochs the ratio is summarised over: after the first (random weights), while the lab's
# runs showed a validation loss 10-20 times the training loss.
WINDOW = (5, 30)


def loss_ratio(history: dict, window: tuple[int, int] = WINDOW) -> float | None:
    """Median over the window's epochs of validation loss / training loss."""
    loss = np.asarray(history.get("loss", []), dtype=np.float64)
    val = np.asarray(history.get("val_loss", []), dtype=np.float64)
    start, end = window
    if len(loss) < end:
        return None
    return float(np.median(val[start - 1 : end] / loss[start - 1 : end]))


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def boston_cnn(lab: ctx.Lab, experiments: dict | None) -> dict | None:
    """The facts for the Boston CNN; None without the control trials."""
    trials = (experiments or {}).get("batchnorm")
    if not trials:
        return None
    control = [run for runs in trials.values() for run in runs]
    lab_runs = [run for run in lab.repeats["cnn"] if ctx.failure_of(lab, run) is None]
    measured = [run.inference for run in lab_runs if run.inference]
    return {
        "window": WINDOW,
        "lab": _median([loss_ratio(run.history) for run in lab_runs]),
        "lab_runs": len(lab_runs),
        "control": _median([loss_ratio(run.history) for run in control]),
        "control_runs": len(control),
        "inference": {
            key: _median([m[key] for m in measured])
            for key in ("train_loss_inference", "train_loss_running", "validation_loss")
        } if measured else None,
        "measured_runs": len(measured),
        "test_mae": paired_test_mae(lab_runs, control),
    }  # fmt: skip


def paired_test_mae(lab_runs: list, control: list) -> dict | None:
    """The control's mean test MAE against the lab's CNN runs of the same seeds (the ones
    that trained): whether faster moving averages also change the error on new districts."""
    lab_by_seed = {run.record["seed"]: run for run in lab_runs if run.metrics}
    pairs = [(lab_by_seed[run.record["seed"]], run) for run in control
             if run.metrics and run.record["seed"] in lab_by_seed]  # fmt: skip
    if not pairs:
        return None
    return {
        "lab": float(np.mean([lab.metrics["mae"] for lab, _ in pairs])),
        "control": float(np.mean([other.metrics["mae"] for _, other in pairs])),
        "seeds": sorted(lab.record["seed"] for lab, _ in pairs),
        "lab_epochs": [lab.record["epochs_run"] for lab, _ in sorted(pairs, key=_seed)],
        "control_epochs": [other.record["epochs_run"] for _, other in sorted(pairs, key=_seed)],
    }


def _seed(pair) -> int:
    return pair[0].record["seed"]
