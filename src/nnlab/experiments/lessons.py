"""What each experiment showed, computed from its runs (no TensorFlow): the numbers behind the
theory chapters' sentences. Each function takes finished runs (results.RunResult) and returns
plain values; report/theory.py phrases them.
"""

from __future__ import annotations

import math
import statistics

import numpy as np

from nnlab import labs as registry
from nnlab import metrics
from nnlab.experiments.design import PATIENCE
from nnlab.stats import seed_summary

# A loss that ends more than this share above its minimum has clearly turned up.
TURN_UP = 0.05
# Epochs in the moving average a turn is read from (fewer in a short run: a fifth of it).
SMOOTHING = 21
# The gradient "has vanished" once it is below this share of its value at the last step.
VANISHED = 0.01


def mean_sd(values: list[float]) -> dict:
    """stats.seed_summary (mean, sample sd) with the seeds' range and values."""
    values = [float(v) for v in values]
    return {**seed_summary(values), "low": min(values), "high": max(values), "values": values}


def early_stop(val_losses: list[float], patience: int = PATIENCE) -> dict | None:
    """Where Keras's EarlyStopping(monitor="val_loss", patience, restore_best_weights=True)
    would have stopped this history, and the epoch whose weights it would have kept (both
    counted from 1); None when it would have run to the end. Keras counts the epochs since
    the last improvement and stops once they reach the patience."""
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, value in enumerate(val_losses):
        wait += 1
        if value < best:
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return {"stop": epoch + 1, "kept": best_epoch + 1, "kept_loss": best}
    return None


def turn_up(history: dict) -> dict:
    """Where the validation loss, averaged over a moving window, was lowest and whether it then
    clearly turned up: by more than TURN_UP and more than twice the noise of two window means
    (one epoch's validation loss on a few dozen districts jumps by 10-30 %, so the lowest single
    epoch and the last one would compare noise with noise)."""
    val = np.asarray(history["val_loss"], dtype=float)
    train = np.asarray(history["loss"], dtype=float)
    window = max(1, min(SMOOTHING, len(val) // 5))
    kernel = np.ones(window) / window
    smooth_val, smooth_train = (
        np.convolve(val, kernel, "valid"),
        np.convolve(train, kernel, "valid"),
    )
    centre = (window - 1) // 2  # the epoch (from 0) each window's mean stands for
    best = int(np.argmin(smooth_val))
    # one epoch's noise from the differences of neighbouring epochs (robust to the trend and to
    # the first epochs' fall: the median absolute difference), then a window mean's noise
    steps = np.abs(np.diff(val))
    epoch_noise = 1.4826 * float(np.median(steps)) / np.sqrt(2) if len(steps) else 0.0
    noise = epoch_noise / np.sqrt(window)
    rise = smooth_val[-1] - smooth_val[best]
    return {
        "best": best + centre + 1,
        "best_loss": float(smooth_val[best]),
        "final_loss": float(smooth_val[-1]),
        "rise": float(rise / smooth_val[best]),
        "turned_up": bool(rise > TURN_UP * smooth_val[best] and rise > 2 * np.sqrt(2) * noise),
        "train_at_best": float(smooth_train[best]),
        "train_final": float(smooth_train[-1]),
        "epochs": len(val),
        "window": window,
    }


def score(run) -> float:
    """A run's main test metric (the report's: accuracy, or MAE for Boston)."""
    return float(run.metrics[metrics.main_metric(registry.task_of(run.record["dataset"]))])


def batch_sizes(trials: dict[str, list]) -> list[dict]:
    """One row per batch size: steps and updates, median seconds per epoch over its seeds,
    and the validation loss after the last epoch (mean and spread over the seeds)."""
    rows = []
    for runs in trials.values():
        first = runs[0]
        settings = first.settings
        steps = math.ceil(first.record["n_fit"] / settings["batch_size"])
        rows.append(
            {
                "batch_size": settings["batch_size"],
                "steps": steps,
                "epochs": first.record["epochs_run"],
                "updates": first.record["updates"],
                "epoch_seconds": statistics.median(
                    s for run in runs for s in run.history["epoch_seconds"][1:]
                ),  # the first epoch also traces the model
                "final_val": mean_sd([run.history["val_loss"][-1] for run in runs]),
                "n_fit": first.record["n_fit"],
                "seeds": len(runs),
            }
        )
    return sorted(rows, key=lambda row: row["batch_size"])


def long_runs(runs: list, lab_runs: list) -> list[dict]:
    """Per seed of the long run without early stopping: where the validation loss turned up,
    where EarlyStopping would have stopped and what it kept, the test MAE after the last
    epoch, and the lab's early-stopped run of the same seed, when there is one."""
    lab_by_seed = {run.record["seed"]: run for run in lab_runs if run.metrics}
    rows = []
    for run in runs:
        lab = lab_by_seed.get(run.record["seed"])
        rows.append(
            {
                "seed": run.record["seed"],
                **turn_up(run.history),
                "stopped": early_stop(run.history["val_loss"]),
                "test": score(run),
                "lab_test": score(lab) if lab else None,
                "lab_epochs": lab.record["epochs_run"] if lab else None,
                "lab_max": lab.settings["epochs"] if lab else None,
            }
        )
    return rows


def data_sizes(trials: dict[str, list]) -> list[dict]:
    """Per training-set size: accuracy and loss of the final weights on the fitted and the
    validation images, and the gap between them."""
    rows = []
    for runs in trials.values():
        run = runs[0]
        final = run.record["final"]
        rows.append(
            {
                "size": run.record["n_fit"],
                "epochs": run.record["epochs_run"],
                "updates": run.record["updates"],
                "n_val": run.record["n_val"],
                "train_accuracy": final["train"]["accuracy"],
                "val_accuracy": final["validation"]["accuracy"],
                "gap": final["train"]["accuracy"] - final["validation"]["accuracy"],
                "train_loss": final["train"]["loss"],
                "val_loss": final["validation"]["loss"],
                "test_accuracy": run.metrics["accuracy"],
            }
        )
    rows.sort(key=lambda row: row["size"])
    return rows


def shrinking(values: list[float]) -> bool:
    return all(b < a for a, b in zip(values, values[1:], strict=False))


def capacity(trials: dict[str, list], lab_runs: dict[str, list]) -> list[dict]:
    """Test MAE of every Boston model, small to large: networks over their seeds, the
    scikit-learn baselines once (they are deterministic)."""
    rows = []
    for name, runs in {**trials, **{f"lab-{k}": v for k, v in lab_runs.items()}}.items():
        scored = [run for run in runs if run.metrics]
        if not scored:
            continue
        record = scored[0].record
        rows.append(
            {
                "name": name,
                "params": record.get("params"),
                "score": mean_sd([score(run) for run in scored]),
                "by_seed": {run.record["seed"]: score(run) for run in scored},
                "seeds": len(scored),
                "runs": scored,
            }
        )
    return rows


def gradient_decay(norms: np.ndarray) -> dict:
    """How the gradient falls off going back from the last word: its share left at the first
    word, and how many steps back it first drops below VANISHED of the last step's value."""
    norms = np.asarray(norms, dtype=float)
    last = norms[-1]
    back = norms[::-1] / last  # back[k]: k steps before the last word
    below = np.flatnonzero(back < VANISHED)
    return {
        "first_share": float(back[-1]),
        "vanished_after": int(below[0]) if below.size else None,
        "steps": len(norms),
    }


def main_validation_score(run, key: str) -> float | None:
    """The validation `key` of the weights a run kept: those of its best epoch under early
    stopping (restore_best_weights), else those of its last epoch."""
    values = run.history.get(f"val_{key}")
    if not values:
        return None
    settings = run.settings
    epoch = run.record.get("best_epoch") if settings.get("patience") else len(values)
    return values[epoch - 1]


def validation_vs_test(lab_name: str, repeats: dict[str, list]) -> dict | None:
    """Every scored seed's validation and test score, the mean difference, and whether the
    seed a student would keep by its validation score was also the best on the test set."""
    task = registry.task_of(lab_name)
    key = metrics.main_metric(task)
    higher_better = task == "classification"
    points = []
    for kind, runs in repeats.items():
        for run in runs:
            val = main_validation_score(run, key) if run.metrics else None
            if val is not None:
                points.append(
                    {
                        "kind": kind,
                        "seed": run.record["seed"],
                        "val": val,
                        "test": float(run.metrics[key]),
                    }
                )
    if len(points) < 2:
        return None
    pick = max if higher_better else min
    chosen = pick(points, key=lambda p: p["val"])
    ranked = sorted(points, key=lambda p: p["test"], reverse=higher_better)
    sign = 1 if higher_better else -1
    return {
        "lab": lab_name,
        "metric": key,
        "points": points,
        "mean_difference": statistics.fmean(p["val"] - p["test"] for p in points),
        # runs whose validation score flattered them (above the test score, or below for MAE)
        "favourable": sum(sign * (p["val"] - p["test"]) > 0 for p in points),
        "higher_better": higher_better,
        "chosen": chosen,
        "chosen_rank": ranked.index(chosen) + 1,
        "count": len(points),
    }
