"""Running one trial of an experiment into a run folder: a Keras fit with a fixed validation
set, a scikit-learn baseline, or one backward pass that measures the gradient per time step.

A Keras fit is training.train itself, with the validation held out (training.Validation), so
a trial is trained exactly as the lab trains. Each trainer writes into `workdir` and returns
the run's record; the run store (runs.py) seals and commits it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from nnlab import cachekey, labs, models, preprocess, runfiles, training
from nnlab.data import Dataset
from nnlab.errors import NnlabError
from nnlab.experiments import folds
from nnlab.experiments.design import Trial
from nnlab.tfload import load_keras


def run_trial(trial: Trial, dataset: Dataset, seed: int, workdir: Path) -> dict:
    if trial.method == "fit":
        return training.train(
            trial.spec, dataset, trial.settings, seed, workdir, validation(trial), verbose=0
        )
    if trial.method == "gradients":
        return gradient_trial(trial, dataset, seed, workdir)
    return baseline_trial(trial, dataset, seed, workdir)


def trial_data(trial: Trial, dataset: Dataset) -> Dataset:
    """The data a trial trains and is tested on: the lab's, or its fold's (a split trial)."""
    return dataset if trial.split is None else folds.fold_dataset(dataset, trial.split)


def validation(trial: Trial) -> training.Validation:
    """The lab's validation samples, held out once: every size is validated on the same ones."""
    return training.Validation(True, trial.fit_limit, trial.validate_each_epoch)


def baseline_trial(trial: Trial, dataset: Dataset, seed: int, workdir: Path) -> dict:
    """A scikit-learn regressor fitted on the same samples as the networks."""
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error

    settings = trial.settings
    data = labs.LABS[dataset.name].prepare(dataset, settings.train_limit, settings.test_limit)
    (x_fit, y_fit), (x_val, y_val) = validation(trial).cut(data.x_train, data.y_train, settings)

    def flat(x):
        return x.reshape(len(x), -1)

    if trial.method == "linear-regression":
        model = LinearRegression()  # least squares, solved exactly: no seed, no epochs
    else:
        model = GradientBoostingRegressor(random_state=seed)
    started = time.perf_counter()
    model.fit(flat(x_fit), y_fit)
    fit_seconds = time.perf_counter() - started
    training.save_predictions(workdir, data, model.predict(flat(data.x_test)).reshape(-1, 1))

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
    training.seed_everything(seed)
    words = trial.last_steps or models.IMDB_MAXLEN
    picked = full_length_reviews(dataset, trial.batch_sample, trial.settings.train_limit, words)
    x = preprocess.imdb_sequences([dataset.x_train[i] for i in picked])
    x = x[:, -words:]  # the recurrent layers take sequences of any length
    y = np.asarray(dataset.y_train[picked], np.float32).reshape(-1, 1)
    model = models.build(trial.spec, trial.settings.learning_rate)
    embedding, *rest = model.layers
    started = time.perf_counter()
    norms = input_gradient_norms(rest, embedding(x), y, keras.losses.get(trial.spec.loss))
    np.savez(
        workdir / runfiles.GRADIENTS, norms=norms.astype(np.float64), reviews=np.asarray(picked)
    )
    return {
        "status": "done",
        "fit_seconds": time.perf_counter() - started,
        "params": int(model.count_params()),
        "n_fit": len(picked),
    }


# A trial's key: the lab's run stage, plus the trainers here.
TRIAL_STAGE = cachekey.Stage(
    "trial",
    code=(*training.RUN_STAGE.code, run_trial, validation, baseline_trial, full_length_reviews,
          input_gradient_norms, gradient_trial),
    params=training.RUN_STAGE.params,
)  # fmt: skip
# A split trial's key adds the code that cuts its fold (its held-out districts are in its design).
SPLIT_STAGE = cachekey.Stage(
    "trial", code=(*TRIAL_STAGE.code, folds.fold_parts, folds.fold_dataset),
    params=TRIAL_STAGE.params,
)  # fmt: skip
