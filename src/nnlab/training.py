"""One training run: seed, build, fit with the notebook's settings, predict the test set, save.

Everything is written into `workdir`; the run store (runs.py) makes it visible atomically.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np

from nnlab import metrics, models, preprocess
from nnlab.config import PREDICT_BATCH_SIZE, TrainSettings
from nnlab.data import Dataset

# The notebook's two hand-made houses (13 features, StatLib column order).
HANDMADE_HOUSES = (
    (10.0, 0.0, 9.0, 1.0, 0.5, 5.0, 50.0, 1.0, 4.0, 400.0, 20.0, 400.0, 25.0),
    (0.1, 90.0, 2.0, 0.0, 0.4, 7.5, 20.0, 5.0, 1.0, 200.0, 15.0, 380.0, 5.0),
)


def seed_everything(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow generators
    tf.config.experimental.enable_op_determinism()


def set_precision(policy: str) -> None:
    """ "float32" (default) or "mixed_bfloat16" (CPUs with native bf16, and GPUs)."""
    import keras

    keras.mixed_precision.set_global_policy(policy)


def _callbacks(settings: TrainSettings, history_path: Path) -> list:
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Adds each epoch's wall time to the logs, so CSVLogger records it."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs["epoch_seconds"] = time.perf_counter() - self.started

    callbacks = [EpochTimer(), keras.callbacks.CSVLogger(str(history_path))]
    callbacks.append(keras.callbacks.TerminateOnNaN())
    if settings.patience is not None:
        # A fresh callback for every model: the notebook shared one between two fits.
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=settings.patience, restore_best_weights=True
            )
        )
    return callbacks


def read_history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = rows[0].keys() if rows else []
    return {column: [float(row[column]) for row in rows] for column in columns}


def train(
    spec: models.ModelSpec, dataset: Dataset, settings: TrainSettings, seed: int, workdir: Path,
    verbose: int = 1,
) -> dict:  # fmt: skip
    """Fit, predict and save into `workdir`; return the run's record (see runs.py)."""
    seed_everything(seed)
    set_precision(settings.precision)
    data = preprocess.prepare(dataset, settings.train_limit, settings.test_limit)
    model = models.build(spec, settings.learning_rate)
    history_path = workdir / "history.csv"

    started = time.perf_counter()
    model.fit(
        data.x_train,
        data.y_train,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_split=settings.validation_split,
        validation_batch_size=PREDICT_BATCH_SIZE,  # evaluation only: same numbers, faster
        callbacks=_callbacks(settings, history_path),
        verbose=verbose,
    )
    fit_seconds = time.perf_counter() - started
    history = read_history(history_path)
    record = {
        "fit_seconds": fit_seconds,
        "epochs_run": len(history.get("loss", [])),
        "params": int(model.count_params()),
        "layers": models.describe(model),
        "n_train": int(len(data.x_train)),
        "n_test": int(len(data.x_test)),
    }
    losses = history.get("loss", [])
    if not losses or any(math.isnan(v) or math.isinf(v) for v in losses):
        epoch = next((i + 1 for i, v in enumerate(losses) if not math.isfinite(v)), 1)
        record["status"] = "failed"
        record["reason"] = (
            f"loss became NaN/inf in epoch {epoch} "
            f"(learning rate {settings.learning_rate:g}); training stopped"
        )
        return record

    val_losses = history.get("val_loss", [])
    record["best_epoch"] = int(np.argmin(val_losses)) + 1 if val_losses else record["epochs_run"]
    record["stopped_early"] = record["epochs_run"] < settings.epochs

    started = time.perf_counter()
    outputs = model.predict(data.x_test, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    record["predict_seconds"] = time.perf_counter() - started
    record["predict_batch_size"] = PREDICT_BATCH_SIZE
    record["metrics"] = metrics.for_task(metrics.task_of(spec.dataset), data.y_test, outputs)

    outputs = np.asarray(outputs, dtype=np.float32)
    arrays = {"y_true": np.asarray(data.y_test), "outputs": outputs}
    if spec.dataset == "boston":
        arrays["scaler_mean"] = data.scaler["mean"]
        arrays["scaler_scale"] = data.scaler["scale"]
        houses = preprocess.boston_features(np.array(HANDMADE_HOUSES), data.scaler)
        handmade = np.asarray(model.predict(houses, verbose=0), dtype=np.float32).reshape(-1)
        record["handmade_prices_k"] = [float(v) for v in handmade]
    np.savez(workdir / "predictions.npz", **arrays)
    model.save(workdir / "model.keras")
    set_precision("float32")
    record["status"] = "done"
    return record
