"""One training run: seed, build, fit with the notebook's settings, predict the test set, save.

Everything is written into `workdir`; the run store (runs.py) makes it visible atomically.
Test metrics are not computed here: the report computes them from predictions.npz, so a fix
to metrics.py reaches every run without retraining.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np

from nnlab import models, preprocess
from nnlab.config import PREDICT_BATCH_SIZE, TrainSettings
from nnlab.data import Dataset
from nnlab.tfload import load_keras

VOCABULARY = "vocabulary.txt"  # IMDB runs: the words behind the ids the model was trained on


def seed_everything(seed: int) -> None:
    keras = load_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow generators
    tf.config.experimental.enable_op_determinism()


def _callbacks(settings: TrainSettings, history_path: Path) -> list:
    keras = load_keras()

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
    keras = load_keras()
    seed_everything(seed)
    keras.mixed_precision.set_global_policy(settings.precision)
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

    arrays = {"y_true": np.asarray(data.y_test), "outputs": np.asarray(outputs, np.float32)}
    arrays.update({f"scaler_{key}": value for key, value in data.scaler.items()})
    np.savez(workdir / "predictions.npz", **arrays)
    if spec.dataset == "imdb":
        # Every training word, not only the first 10,000: a rarer word, and one never seen in
        # training, becomes "?" (OOV), exactly as in training.
        (workdir / VOCABULARY).write_text("\n".join(dataset.vocabulary), encoding="utf-8")
    model.save(workdir / "model.keras")
    record["status"] = "done"
    return record
