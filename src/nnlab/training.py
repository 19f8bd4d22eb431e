"""One training run: seed, build, fit with the notebook's settings, predict the test set, save.

Everything is written into `workdir`; the run store (runs.py) makes it visible atomically.
Test metrics are not computed here: the report computes them from predictions.npz, so a fix
to metrics.py reaches every run without retraining.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab import cachekey, labs, models, preprocess, runfiles
from nnlab.config import PREDICT_BATCH_SIZE, TRAIN_EVALUATION_CAP, TrainSettings, split_sizes
from nnlab.data import Dataset
from nnlab.tfload import load_keras


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


@dataclass(frozen=True)
class Validation:
    """Which training samples validate a fit.

    The lab's runs (`held_out` False) pass the notebook's `validation_split` to Keras, which
    validates on the last share of the training arrays. An experiment's trial cuts the same
    samples off once (`cut`), then fits on the first `fit_limit` of the rest, so that every
    size is validated on the same samples; with `each_epoch` False it is validated once, after
    training (`final`), not every epoch.
    """

    held_out: bool = False
    fit_limit: int | None = None
    each_epoch: bool = True

    def cut(self, x, y, settings: TrainSettings) -> tuple[tuple, tuple]:
        """(fitted, validation) arrays, cut where Keras's validation_split cuts."""
        cut = split_sizes(len(x), settings)["n_fit"]
        fitted = slice(0, min(cut, self.fit_limit or cut))
        return (x[fitted], y[fitted]), (x[cut:], y[cut:])


NOTEBOOK = Validation()


def save_predictions(workdir: Path, data: preprocess.Prepared, outputs) -> None:
    """The test targets and the model's outputs (and Boston's scaler), as the report reads them."""
    arrays = {"y_true": np.asarray(data.y_test), "outputs": np.asarray(outputs, np.float32)}
    arrays.update({f"scaler_{key}": value for key, value in data.scaler.items()})
    np.savez(workdir / runfiles.PREDICTIONS, **arrays)


def train(
    spec: models.ModelSpec, dataset: Dataset, settings: TrainSettings, seed: int, workdir: Path,
    validation: Validation = NOTEBOOK, verbose: int = 1,
) -> dict:  # fmt: skip
    """Fit, predict and save into `workdir`; return the run's record (see runs.py)."""
    keras = load_keras()
    seed_everything(seed)
    keras.mixed_precision.set_global_policy(settings.precision)
    data = labs.LABS[spec.dataset].prepare(dataset, settings.train_limit, settings.test_limit)
    model = models.build(spec, settings.learning_rate)
    history_path = workdir / runfiles.HISTORY
    if validation.held_out:
        (x_fit, y_fit), (x_val, y_val) = validation.cut(data.x_train, data.y_train, settings)
        held_out = (x_val, y_val) if validation.each_epoch else None
        validated = {"validation_data": held_out}
    else:
        x_fit, y_fit = data.x_train, data.y_train
        validated = {"validation_split": settings.validation_split}

    started = time.perf_counter()
    model.fit(
        x_fit,
        y_fit,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        **validated,
        validation_batch_size=PREDICT_BATCH_SIZE,  # evaluation only: same numbers, faster
        callbacks=_callbacks(settings, history_path),
        verbose=verbose,
    )
    fit_seconds = time.perf_counter() - started
    if validation.held_out and not validation.each_epoch:
        runfiles.drop_empty_columns(history_path)
    history = runfiles.read_history(history_path)
    losses = history.get("loss", [])
    record = {
        "fit_seconds": fit_seconds,
        "epochs_run": len(losses),
        "params": int(model.count_params()),
        "layers": models.describe(model),
        "n_train": int(len(data.x_train)),
        "n_test": int(len(data.x_test)),
    }
    if validation.held_out:
        steps = math.ceil(len(x_fit) / settings.batch_size)
        record.update(n_fit=int(len(x_fit)), n_val=int(len(x_val)), updates=len(losses) * steps)
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
    if validation.held_out:

        def evaluate(x, y) -> dict:
            return model.evaluate(x, y, batch_size=PREDICT_BATCH_SIZE, verbose=0, return_dict=True)

        # The final weights on the fitted and the validation samples, both without dropout: the
        # gap between them is the overfitting, free of the training loss's in-epoch averaging.
        cap = slice(0, TRAIN_EVALUATION_CAP)
        record["final"] = {
            "train": evaluate(x_fit[cap], y_fit[cap]),
            "validation": evaluate(x_val, y_val),
        }

    started = time.perf_counter()
    outputs = model.predict(data.x_test, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    record["predict_seconds"] = time.perf_counter() - started
    record["predict_batch_size"] = PREDICT_BATCH_SIZE
    save_predictions(workdir, data, outputs)
    if not validation.held_out:  # the lab's runs: what `nnlab predict` and the report reload
        if dataset.vocabulary:
            # Every training word, not only the first 10,000: a rarer word, and one never seen
            # in training, becomes "?" (OOV), exactly as in training.
            (workdir / runfiles.VOCABULARY).write_text("\n".join(dataset.vocabulary), "utf-8")
        model.save(workdir / runfiles.MODEL)
    record["status"] = "done"
    return record


# What a run's numbers depend on, besides its spec, settings, seed and data: the code that
# trains it (each dataset adds its own preprocessing, labs.Lab.preprocessing) and the value of
# every constant that changes a number (the validation batch sets val_loss, so early stopping).
RUN_STAGE = cachekey.Stage(
    "run",
    code=(models.build, seed_everything, _callbacks, Validation, train, save_predictions),
    params={"predict_batch_size": PREDICT_BATCH_SIZE, "evaluation_cap": TRAIN_EVALUATION_CAP},
)
