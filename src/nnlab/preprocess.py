"""The notebook's preprocessing, one function per dataset: arrays in, model-ready arrays out.

Each dataset's entry in labs.py names its function and the helpers it calls: they are part of
that dataset's runs' key only (training.RUN_STAGE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nnlab.models import BOSTON_SHAPE, IMDB_MAXLEN

if TYPE_CHECKING:
    from nnlab.data import Dataset


@dataclass
class Prepared:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: dict = field(default_factory=dict)  # Boston: fitted on the training data


def mnist_images(x: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1]."""
    return x.reshape((-1, 28, 28, 1)).astype("float32") / 255


def imdb_sequences(sequences) -> np.ndarray:
    """Pad or cut to 300 ids, both at the front (pad_sequences' defaults, as the notebook)."""
    from nnlab.tfload import load_keras

    return load_keras().utils.pad_sequences(list(sequences), maxlen=IMDB_MAXLEN)


def boston_features(x: np.ndarray, scaler: dict) -> np.ndarray:
    scaled = (np.asarray(x, dtype=np.float64) - scaler["mean"]) / scaler["scale"]
    return scaled.reshape((-1, *BOSTON_SHAPE))


def fit_scaler(x_train: np.ndarray) -> dict:
    from sklearn.preprocessing import StandardScaler

    fitted = StandardScaler().fit(x_train)  # training split only: no test information leaks
    # The range is not used to scale: `nnlab predict` warns about houses outside it.
    return {"mean": fitted.mean_, "scale": fitted.scale_,
            "min": np.min(x_train, axis=0), "max": np.max(x_train, axis=0)}  # fmt: skip


def _limited(dataset: Dataset, train_limit: int | None, test_limit: int | None) -> tuple:
    return (
        dataset.x_train[:train_limit], dataset.y_train[:train_limit],
        dataset.x_test[:test_limit], dataset.y_test[:test_limit],
    )  # fmt: skip


def prepare_mnist(dataset: Dataset, train_limit: int | None, test_limit: int | None) -> Prepared:
    x_train, y_train, x_test, y_test = _limited(dataset, train_limit, test_limit)
    return Prepared(mnist_images(x_train), y_train, mnist_images(x_test), y_test)


def prepare_imdb(dataset: Dataset, train_limit: int | None, test_limit: int | None) -> Prepared:
    x_train, y_train, x_test, y_test = _limited(dataset, train_limit, test_limit)
    return Prepared(imdb_sequences(x_train), y_train, imdb_sequences(x_test), y_test)


def prepare_boston(dataset: Dataset, train_limit: int | None, test_limit: int | None) -> Prepared:
    x_train, y_train, x_test, y_test = _limited(dataset, train_limit, test_limit)
    scaler = fit_scaler(x_train)
    return Prepared(
        boston_features(x_train, scaler), y_train, boston_features(x_test, scaler), y_test, scaler
    )
