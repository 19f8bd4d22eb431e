"""Both trained models' answers for new inputs: house features, review text, digit images."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np

from nnlab import preprocess, runfiles
from nnlab.data import boston, imdb
from nnlab.errors import NnlabError
from nnlab.models import IMDB_VOCAB

MAX_IMAGE_PIXELS = 40_000_000  # refuse larger images before decoding them (bounded memory)


def _folders(selection) -> dict[str, Path]:
    """{kind: run folder} for the selection's two runs, which must have trained models."""
    selection.require(states=("done", "stale"))
    return {item.spec.kind: item.path for item in selection.plans}


def _load_model(folder: Path):
    from nnlab.tfload import load_keras

    keras = load_keras()

    return keras.saving.load_model(folder / runfiles.MODEL, safe_mode=True)


def _outputs(model, x: np.ndarray) -> np.ndarray:
    # Calling the model runs one batch without model.predict's per-shape retracing.
    return np.asarray(model(x, training=False), dtype=np.float64)


# --- Boston ------------------------------------------------------------------------------------
def parse_features(text: str) -> np.ndarray:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) != len(boston.FEATURES):
        raise NnlabError(
            f"expected {len(boston.FEATURES)} comma-separated features "
            f"({', '.join(boston.FEATURES)}), got {len(parts)}"
        )
    return _as_numbers([parts])


def _as_numbers(rows: list[list[str]]) -> np.ndarray:
    values = []
    for number, row in enumerate(rows, start=1):
        try:
            floats = [float(v) for v in row]
        except ValueError:
            raise NnlabError(f"row {number}: every feature must be a number, got {row}") from None
        if not all(math.isfinite(v) for v in floats):
            raise NnlabError(f"row {number}: features must be finite numbers (no NaN or inf)")
        values.append(floats)
    return np.array(values, dtype=np.float64)


def read_feature_csv(path: Path) -> np.ndarray:
    """Rows of a CSV whose header names the 13 StatLib columns (any order; MEDV ignored)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise NnlabError(f"cannot read {path}: {exc}") from None
    if len(rows) < 2:
        raise NnlabError(f"{path}: needs a header row and at least one house")
    header = [name.strip().upper() for name in rows[0]]
    missing = [name for name in boston.FEATURES if name not in header]
    if missing:
        raise NnlabError(f"{path}: header lacks column(s) {', '.join(missing)}")
    order = [header.index(name) for name in boston.FEATURES]
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise NnlabError(f"{path}: line {number} has {len(row)} values, header {len(header)}")
    return _as_numbers([[row[i] for i in order] for row in body])


def check_houses(houses: np.ndarray, training_range: dict | None, warn) -> None:
    """Refuse values no house can have; then warn (one line each) about values outside the
    range the models were trained on, where their prices are extrapolation."""
    for column, name in enumerate(boston.FEATURES):
        values = houses[:, column]
        low, high = boston.PHYSICAL_RANGE[name]
        if (values < low).any() or (high is not None and (values > high).any()):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise NnlabError(f"{name} must be {bounds}, got {values.tolist()}")
        if name == "CHAS" and not np.isin(values, (0, 1)).all():
            raise NnlabError(f"CHAS is 1 by the Charles River, else 0; got {values.tolist()}")
    if training_range is None:
        return
    for column, name in enumerate(boston.FEATURES):
        values = houses[:, column]
        seen_low, seen_high = training_range["min"][column], training_range["max"][column]
        if ((values < seen_low) | (values > seen_high)).any():
            warn(
                f"warning: {name} {values.tolist()} is outside the training data's range "
                f"{seen_low:g}–{seen_high:g}; the prices are extrapolation"
            )


def _scaler(folder: Path) -> dict:
    with np.load(folder / runfiles.PREDICTIONS, allow_pickle=False) as npz:
        return {key[len("scaler_") :]: npz[key] for key in npz.files if key.startswith("scaler_")}


def boston_model_prices(folder: Path, houses: np.ndarray) -> np.ndarray:
    """One Boston run's prices in thousands of dollars (the model's unit)."""
    x = preprocess.boston_features(houses, _scaler(folder)).astype(np.float32)
    return _outputs(_load_model(folder), x).reshape(-1)


def boston_prices(houses: np.ndarray, selection, warn) -> list[dict]:
    """Each model's price in dollars, per house."""
    folders = _folders(selection)
    scaler = _scaler(folders["cnn"])
    training_range = scaler if "min" in scaler else None
    check_houses(houses, training_range, warn)
    answers = [dict() for _ in houses]
    for kind, folder in folders.items():
        for answer, value in zip(answers, boston_model_prices(folder, houses), strict=True):
            answer[kind] = float(value) * 1000
    return answers


# --- IMDB --------------------------------------------------------------------------------------
def review_probabilities(text: str, selection) -> dict:
    if not text.strip():
        raise NnlabError("the review text is empty")
    answer = {}
    for kind, folder in _folders(selection).items():
        vocabulary = run_vocabulary(folder)
        ids = imdb.encode(text, imdb.ranks(vocabulary), IMDB_VOCAB)
        if len(ids) == 1:
            raise NnlabError("none of the review's words is in the training vocabulary")
        answer["tokens"] = len(ids) - 1
        x = preprocess.imdb_sequences([ids])
        answer[kind] = float(_outputs(_load_model(folder), x).reshape(-1)[0])
    return answer


def run_vocabulary(folder: Path) -> list[str]:
    """The words of the data the run was trained on (saved with the run)."""
    from nnlab.runfiles import VOCABULARY

    try:
        return (folder / VOCABULARY).read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise NnlabError(
            f"{folder} has no {VOCABULARY} (trained by an older nnlab); retrain it: "
            "nnlab train --dataset imdb"
        ) from None


# --- MNIST -------------------------------------------------------------------------------------
def mnist_image(path: Path) -> np.ndarray:
    """Any image -> (28, 28) uint8 the MNIST way: grey, white digit on black, fitted in a 20x20
    box and centred by its centre of mass."""
    from PIL import Image, UnidentifiedImageError

    too_large = f"{path}: image too large; at most {MAX_IMAGE_PIXELS:,} pixels"
    try:
        # Image.open reads the header only. Pillow's own cap (a warning, then an error at
        # twice its size) is larger than ours: ours speaks first, Pillow's error means "too
        # large" as well.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise NnlabError(f"{too_large} ({image.width}x{image.height})")
                grey = np.asarray(image.convert("L"), dtype=np.float64)
    except Image.DecompressionBombError:
        raise NnlabError(too_large) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NnlabError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    if grey.size == 0:
        raise NnlabError(f"{path}: the image is empty")
    if grey.mean() > 127:  # dark digit on a light background: invert
        grey = 255 - grey
    ink = grey > 0.2 * grey.max() if grey.max() > 0 else np.zeros_like(grey, bool)
    if not ink.any():
        raise NnlabError(f"{path}: the image is blank (no digit found)")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.asarray(Image.fromarray(crop.astype(np.uint8)).resize(size, Image.LANCZOS), float)
    canvas = np.zeros((28, 28))
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    total = canvas.sum()
    cy = (canvas.sum(axis=1) * np.arange(28)).sum() / total
    cx = (canvas.sum(axis=0) * np.arange(28)).sum() / total
    shifted = np.roll(canvas, (round(14 - cy), round(14 - cx)), axis=(0, 1))
    return np.clip(shifted, 0, 255).astype(np.uint8)


def digit_top3(digit: np.ndarray, selection) -> dict:
    """Each model's three likeliest digits for a (28, 28) image (`mnist_image`)."""
    x = preprocess.mnist_images(digit[None])
    answer = {}
    for kind, folder in _folders(selection).items():
        probabilities = _outputs(_load_model(folder), x)[0]
        top = np.argsort(-probabilities)[:3]
        answer[kind] = [{"digit": int(d), "probability": float(probabilities[d])} for d in top]
    return answer
