"""Small extracts of the datasets that the report shows (digits, decoded reviews, houses).

Written once from the data cache to build/samples, so rendering never needs the full data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnlab import data, runs
from nnlab.data import boston, imdb
from nnlab.fsutil import atomic_write_json, atomic_write_npz

SAMPLE_DIGITS = 24
SAMPLE_REVIEWS = 2
SAMPLE_HOUSES = 6
REVIEW_CHARS = 600
FROZEN = runs.FROZEN_ROOT / "samples"  # beside the frozen runs (results.freeze)


def covers(found: dict, imdb_test_indices: list[int], mnist_test_indices: list[int]) -> bool:
    """Whether loaded samples hold every gallery item the report needs."""
    if not {"mnist", "imdb", "boston"} <= set(found) or not {"price_range", "y_train"} <= set(
        found["boston"]
    ):
        return False
    have_reviews = set(found["imdb"].get("test", {}))
    have_digits = set(found["mnist"].get("gallery_index", np.array([])).tolist())
    return {str(i) for i in imdb_test_indices} <= have_reviews and set(
        mnist_test_indices
    ) <= have_digits


def export(
    build: Path, imdb_test_indices: list[int], mnist_test_indices: list[int], log=print
) -> Path:
    """Write the samples, with the test items the error galleries show."""
    out = build / "samples"
    mnist = data.load("mnist", fetch=False, log=log)
    gallery = np.array(sorted(set(mnist_test_indices)), dtype=np.int64)
    atomic_write_npz(
        out / "mnist.npz",
        {
            "images": mnist.x_test[:SAMPLE_DIGITS],
            "labels": mnist.y_test[:SAMPLE_DIGITS],
            "gallery_index": gallery,
            "gallery_images": mnist.x_test[gallery],
        },
    )
    reviews = data.load("imdb", fetch=False, log=log)
    atomic_write_json(out / "imdb.json", imdb_extract(reviews, imdb_test_indices))
    houses = data.load("boston", fetch=False, log=log)
    atomic_write_json(
        out / "boston.json",
        {
            "features": list(boston.FEATURES),
            "x": houses.x_train[:SAMPLE_HOUSES].tolist(),
            "y": houses.y_train[:SAMPLE_HOUSES].tolist(),
            # what the hand-made houses' prices are judged against
            "price_range": [float(houses.y_train.min()), float(houses.y_train.max())],
            "price_median": float(np.median(houses.y_train)),
            # every training price: the validation districts are the last share of them
            # (Keras's validation_split), whose difficulty the report measures
            "y_train": houses.y_train.tolist(),
        },
    )
    return out


def shorten(text: str, limit: int = REVIEW_CHARS, tail: bool = False) -> str:
    """The review's first `limit` characters (whole words), or with `tail` its last ones."""
    if len(text) <= limit:
        return text
    if tail:
        return "… " + text[-limit:].split(" ", 1)[-1]
    return text[:limit].rsplit(" ", 1)[0] + " …"


def imdb_extract(dataset, test_indices: list[int]) -> dict:
    """Two decoded training reviews, and the test reviews named by `test_indices`."""
    return {
        "train": [
            {
                "label": int(dataset.y_train[i]),
                "length": len(dataset.x_train[i]),
                "text": shorten(imdb.decode(dataset.x_train[i], dataset.vocabulary)),
            }
            for i in range(SAMPLE_REVIEWS)
        ],
        "test": {  # whole: the label-noise rule reads every word (the report shortens them)
            str(i): imdb.decode(dataset.x_test[i], dataset.vocabulary)
            for i in sorted(set(test_indices))
        },
    }


def load(folder: Path) -> dict:
    out = {}
    if (folder / "mnist.npz").exists():
        with np.load(folder / "mnist.npz", allow_pickle=False) as npz:
            out["mnist"] = {key: npz[key] for key in npz.files}
    for name in ("imdb", "boston"):
        path = folder / f"{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out
