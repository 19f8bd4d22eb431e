"""Both trained models' answers for new inputs: house features, review text, digit images."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from nnlab import preprocess, runs
from nnlab.data import boston, cache, imdb
from nnlab.errors import NnlabError
from nnlab.models import IMDB_VOCAB

MAX_IMAGE_PIXELS = 40_000_000  # refuse larger images before decoding them (bounded memory)


def _run_folder(build: Path, profile: str, name: str, seed: int) -> Path:
    folder = runs.run_dir(build, profile, name, seed)
    state = runs.status(folder, name, key=None)
    if state.state != "done":
        dataset = name.split("-")[0]
        raise NnlabError(
            f"run {name} ({profile} profile, seed {seed}) is {state.state}: {state.reason}; "
            f"make it with: nnlab train --dataset {dataset} --profile {profile} --seed {seed}"
        )
    return folder


def _load_model(folder: Path):
    import keras

    return keras.saving.load_model(folder / "model.keras", safe_mode=True)


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


def boston_prices(houses: np.ndarray, build: Path, profile: str, seed: int) -> list[dict]:
    """Each model's price in dollars (outputs are thousands of dollars), per house."""
    answers = [dict() for _ in houses]
    for kind in ("cnn", "rnn"):
        folder = _run_folder(build, profile, f"boston-{kind}", seed)
        with np.load(folder / "predictions.npz", allow_pickle=False) as npz:
            scaler = {"mean": npz["scaler_mean"], "scale": npz["scaler_scale"]}
        outputs = _load_model(folder).predict(preprocess.boston_features(houses, scaler), verbose=0)
        for answer, value in zip(answers, np.asarray(outputs).reshape(-1), strict=True):
            answer[kind] = float(value) * 1000
    return answers


# --- IMDB --------------------------------------------------------------------------------------
def review_probabilities(text: str, build: Path, profile: str, seed: int) -> dict:
    if not text.strip():
        raise NnlabError("the review text is empty")
    vocabulary = imdb_vocabulary()
    rank = {word: position for position, word in enumerate(vocabulary, start=1)}
    ids = imdb.encode(text, rank, IMDB_VOCAB)
    if len(ids) == 1:
        raise NnlabError("none of the review's words is in the training vocabulary")
    x = preprocess.imdb_sequences([ids])
    answer = {"tokens": len(ids) - 1}
    for kind in ("cnn", "rnn"):
        model = _load_model(_run_folder(build, profile, f"imdb-{kind}", seed))
        answer[kind] = float(np.asarray(model.predict(x, verbose=0)).reshape(-1)[0])
    return answer


def imdb_vocabulary() -> list[str]:
    try:
        loaded = cache.load("imdb", cache.data_dir())
    except cache.CorruptCache as exc:
        raise NnlabError(f"{exc}; run: nnlab data fetch imdb") from None
    if loaded is None:
        raise NnlabError("the IMDB word index is not cached; run: nnlab data fetch imdb")
    return imdb.vocabulary_from(loaded[0])


# --- MNIST -------------------------------------------------------------------------------------
def mnist_image(path: Path) -> np.ndarray:
    """Any image -> (28, 28) uint8 the MNIST way: grey, white digit on black, fitted in a 20x20
    box and centred by its centre of mass."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise NnlabError(
                    f"{path}: image too large ({image.width}x{image.height}); "
                    f"at most {MAX_IMAGE_PIXELS:,} pixels"
                )
            grey = np.asarray(image.convert("L"), dtype=np.float64)
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


def digit_top3(path: Path, build: Path, profile: str, seed: int) -> dict:
    x = preprocess.mnist_images(mnist_image(path)[None])
    answer = {}
    for kind in ("cnn", "rnn"):
        model = _load_model(_run_folder(build, profile, f"mnist-{kind}", seed))
        probabilities = np.asarray(model.predict(x, verbose=0))[0]
        top = np.argsort(-probabilities)[:3]
        answer[kind] = [{"digit": int(d), "probability": float(probabilities[d])} for d in top]
    return answer
