"""Running one trial of an experiment into a run folder: a Keras fit with a fixed validation
set, a scikit-learn baseline, or one backward pass that measures the gradient per time step.

Like training.train, each trainer writes into `workdir` and returns the run's record; the run
store (runs.py) seals and commits it. The lab's training pieces (seeding, callbacks, builder,
preprocessing) are reused unchanged, so a trial is trained exactly as the lab trains.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np

from nnlab import models, preprocess
from nnlab.config import PREDICT_BATCH_SIZE, split_sizes
from nnlab.data import Dataset
from nnlab.errors import NnlabError
from nnlab.experiments.design import Trial
from nnlab.tfload import load_keras
from nnlab.training import _callbacks, read_history, seed_everything

# Training loss and metric after training are measured on at most this many fitted samples.
TRAIN_EVALUATION_CAP = 10_000
GRADIENTS = "gradients.npz"


def run_trial(trial: Trial, dataset: Dataset, seed: int, workdir: Path) -> dict:
    if trial.method == "fit":
        return fit_trial(trial, dataset, seed, workdir)
    if trial.method == "gradients":
        return gradient_trial(trial, dataset, seed, workdir)
    return baseline_trial(trial, dataset, seed, workdir)


def _split(trial: Trial, dataset: Dataset):
    """The lab's arrays cut as Keras's validation_split cuts them; the fitted part then keeps
    only its first `fit_limit` samples, so every size is validated on the same samples."""
    settings = trial.settings
    data = preprocess.prepare(dataset, settings.train_limit, settings.test_limit)
    cut = split_sizes(len(data.x_train), settings)["n_fit"]
    fitted = slice(0, min(cut, trial.fit_limit or cut))
    return (
        data,
        (data.x_train[fitted], data.y_train[fitted]),
        (data.x_train[cut:], data.y_train[cut:]),
    )


def _save_predictions(workdir: Path, data, outputs) -> None:
    arrays = {"y_true": np.asarray(data.y_test), "outputs": np.asarray(outputs, np.float32)}
    arrays.update({f"scaler_{key}": value for key, value in data.scaler.items()})
    np.savez(workdir / "predictions.npz", **arrays)


def _drop_empty_columns(path: Path) -> None:
    """Without validation data, Keras's CSVLogger still writes val_* columns, all "NA"."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    kept = [key for key in rows[0] if any(row[key] != "NA" for row in rows)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def fit_trial(trial: Trial, dataset: Dataset, seed: int, workdir: Path) -> dict:
    keras = load_keras()
    settings = trial.settings
    seed_everything(seed)
    keras.mixed_precision.set_global_policy(settings.precision)
    data, (x_fit, y_fit), (x_val, y_val) = _split(trial, dataset)
    model = models.build(trial.spec, settings.learning_rate)
    history_path = workdir / "history.csv"
    started = time.perf_counter()
    model.fit(
        x_fit,
        y_fit,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_data=(x_val, y_val) if trial.validate_each_epoch else None,
        validation_batch_size=PREDICT_BATCH_SIZE,
        callbacks=_callbacks(settings, history_path),
        verbose=0,
    )
    fit_seconds = time.perf_counter() - started
    _drop_empty_columns(history_path)
    history = read_history(history_path)
    losses = history.get("loss", [])
    record = {
        "fit_seconds": fit_seconds,
        "epochs_run": len(losses),
        "params": int(model.count_params()),
        "n_fit": int(len(x_fit)),
        "n_val": int(len(x_val)),
        "n_test": int(len(data.x_test)),
        "updates": int(len(losses) * math.ceil(len(x_fit) / settings.batch_size)),
    }
    if not losses or not all(math.isfinite(v) for v in losses):
        record.update(status="failed", reason="loss became NaN/inf; training stopped")
        return record

    def evaluate(x, y) -> dict:
        return model.evaluate(x, y, batch_size=PREDICT_BATCH_SIZE, verbose=0, return_dict=True)

    # The final weights on the fitted and the validation samples, both without dropout: the
    # gap between them is the overfitting, free of the training loss's in-epoch averaging.
    cap = slice(0, TRAIN_EVALUATION_CAP)
    record["final"] = {
        "train": evaluate(x_fit[cap], y_fit[cap]),
        "validation": evaluate(x_val, y_val),
    }
    _save_predictions(
        workdir, data, model.predict(data.x_test, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    )
    record["status"] = "done"
    return record


def baseline_trial(trial: Trial, dataset: Dataset, seed: int, workdir: Path) -> dict:
    """A scikit-learn regressor fitted on the same samples as the networks."""
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error

    data, (x_fit, y_fit), (x_val, y_val) = _split(trial, dataset)

    def flat(x):
        return x.reshape(len(x), -1)

    if trial.method == "linear-regression":
        model = LinearRegression()  # least squares, solved exactly: no seed, no epochs
    else:
        model = GradientBoostingRegressor(random_state=seed)
    started = time.perf_counter()
    model.fit(flat(x_fit), y_fit)
    fit_seconds = time.perf_counter() - started
    _save_predictions(workdir, data, model.predict(flat(data.x_test)).reshape(-1, 1))

    def loss(x, y) -> dict:
        return {"loss": float(mean_squared_error(y, model.predict(flat(x))))}

    return {
        "status": "done",
        "fit_seconds": fit_seconds,
        "n_fit": int(len(x_fit)),
        "n_val": int(len(x_val)),
        "n_test": int(len(data.x_test)),
        "final": {"train": loss(x_fit, y_fit), "validation": loss(x_val, y_val)},
    }


def full_length_reviews(dataset: Dataset, count: int, limit: int | None, words: int) -> list[int]:
    """The first `count` training reviews with at least `words` words, so that every time step
    holds a word (a shorter review would start with padding)."""
    reviews = dataset.x_train[:limit]
    found = [i for i, review in enumerate(reviews) if len(review) >= words]
    if not found:
        raise NnlabError(f"no IMDB training review has {words} words for the gradient probe")
    return found[:count]


def input_gradient_norms(layers: list, inputs, y_true, loss) -> np.ndarray:
    """For each time step t, the mean over the batch of ‖∂L/∂x_t‖: how strongly the loss
    still responds to the input at t, after the gradient has flowed back from the last step.
    `layers` run on `inputs` (batch, steps, features) in inference mode."""
    import tensorflow as tf

    inputs = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = inputs
        for layer in layers:
            outputs = layer(outputs, training=False)
        value = tf.reduce_mean(loss(y_true, outputs))
    gradient = tape.gradient(value, inputs)
    return tf.norm(gradient, axis=-1).numpy().mean(axis=0)


def gradient_trial(trial: Trial, dataset: Dataset, seed: int, workdir: Path) -> dict:
    """One backward pass through the untrained model: the gradient of the loss with respect to
    the embedded word at each position of a batch of reviews."""
    keras = load_keras()
    seed_everything(seed)
    words = trial.last_steps or models.IMDB_MAXLEN
    picked = full_length_reviews(dataset, trial.batch_sample, trial.settings.train_limit, words)
    x = preprocess.imdb_sequences([dataset.x_train[i] for i in picked])
    x = x[:, -words:]  # the recurrent layers take sequences of any length
    y = np.asarray(dataset.y_train[picked], np.float32).reshape(-1, 1)
    model = models.build(trial.spec, trial.settings.learning_rate)
    embedding, *rest = model.layers
    started = time.perf_counter()
    norms = input_gradient_norms(rest, embedding(x), y, keras.losses.get(trial.spec.loss))
    np.savez(workdir / GRADIENTS, norms=norms.astype(np.float64), reviews=np.asarray(picked))
    return {
        "status": "done",
        "fit_seconds": time.perf_counter() - started,
        "params": int(model.count_params()),
        "n_fit": len(picked),
    }
