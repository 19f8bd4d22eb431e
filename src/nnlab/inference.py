"""The training set's loss in inference mode, beside Keras's running training loss.

Keras's `loss` column is the mean over an epoch's batches in training mode: dropout active and
BatchNormalization normalising with each batch's own statistics. The validation loss is
computed in inference mode: no dropout, and BatchNormalization with its moving averages. When
the two disagree by far more than the data explain, evaluating the fitted samples themselves in
inference mode tells whether the gap is the model (it fits them) or the mode (it does not).

Measured after training from the saved model, like the hand-made prices (handmade.py): the
file sits beside the run, keyed by the model's checksum, so no run retrains for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnlab import cachekey, runfiles
from nnlab.config import PREDICT_BATCH_SIZE, TrainSettings, split_sizes
from nnlab.fsutil import atomic_write_json

FILE = "inference.json"
# The fitted samples evaluated (all of Boston's 363; a bound for the larger data sets).
SAMPLE_CAP = 10_000


def dependencies(record: dict) -> dict:
    return cachekey.dependencies(MEASUREMENT, files={"model": runfiles.model_checksum(record)})


def read(folder: Path, record: dict) -> dict | None:
    """The saved measurement, None when absent or made by other code or with another model."""
    try:
        saved = json.loads((folder / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved if saved.get("inputs") == dependencies(record) else None


def kept_epoch(history: dict, validation_loss: float) -> int:
    """The epoch whose weights the model kept (1-based): the one whose validation loss the
    saved model reproduces (restore_best_weights may or may not have restored)."""
    val = np.asarray(history["val_loss"], dtype=np.float64)
    return int(np.argmin(np.abs(val - validation_loss))) + 1


def measure(folder: Path, record: dict, dataset) -> None:
    """Evaluate the run's saved model on its fitted and validation samples in inference mode."""
    from nnlab import labs
    from nnlab.runfiles import read_history
    from nnlab.tfload import load_keras

    keras = load_keras()
    settings = TrainSettings(**record["inputs"]["params"]["settings"])
    data = labs.LABS[dataset.name].prepare(dataset, settings.train_limit, settings.test_limit)
    cut = split_sizes(len(data.x_train), settings)["n_fit"]
    model = keras.saving.load_model(folder / runfiles.MODEL)

    def loss(x, y) -> float:
        return float(model.evaluate(x, y, batch_size=PREDICT_BATCH_SIZE, verbose=0,
                                    return_dict=True)["loss"])  # fmt: skip

    fitted = loss(data.x_train[: min(cut, SAMPLE_CAP)], data.y_train[: min(cut, SAMPLE_CAP)])
    validation = loss(data.x_train[cut:], data.y_train[cut:])
    history = read_history(folder / runfiles.HISTORY)
    epoch = kept_epoch(history, validation)
    atomic_write_json(
        folder / FILE,
        {
            "inputs": dependencies(record),
            "epoch": epoch,
            "train_loss_inference": fitted,
            "train_loss_running": history["loss"][epoch - 1],
            "validation_loss": validation,
        },
    )


# What a measurement depends on, besides the model (its checksum).
MEASUREMENT = cachekey.Stage(
    "inference", code=(measure, kept_epoch),
    params={"predict_batch_size": PREDICT_BATCH_SIZE, "sample_cap": SAMPLE_CAP},
)  # fmt: skip
