"""Small extracts of the datasets that the report shows (digits, decoded reviews, houses):
one function per lab, named by its registry entry (labs.Lab.samples).

Written once from the data cache to build/samples, so rendering never needs the full data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnlab import data, runs
from nnlab import labs as registry
from nnlab.data import boston, imdb
from nnlab.fsutil import atomic_write_json, atomic_write_npz

SAMPLE_DIGITS = 24
SAMPLE_REVIEWS = 2
SAMPLE_HOUSES = 6
REVIEW_CHARS = 600
FROZEN = runs.FROZEN_ROOT / "samples"  # beside the frozen runs (results.freeze)
FORMAT = 2  # bump when an extract changes: older samples are then written again


def covers(found: dict, wanted: dict[str, list[int]]) -> bool:
    """Whether loaded samples are today's and hold every test item the galleries need
    (`wanted`: test indices by lab)."""
    for name in registry.NAMES:
        extract = found.get(name)
        if extract is None or int(extract.get("format", 0)) != FORMAT:
            return False
        if not set(wanted.get(name, ())) <= {int(i) for i in extract["gallery_index"]}:
            return False
    return True


def export(build: Path, wanted: dict[str, list[int]], log=print) -> Path:
    """Write each lab's extract (labs.Lab.samples), with the test items its galleries show:
    arrays as <lab>.npz, anything else as <lab>.json."""
    out = build / "samples"
    for name, lab in registry.LABS.items():
        dataset = data.load(name, fetch=False, log=log)
        gallery = sorted(set(wanted.get(name, ())))
        extract = registry.resolve(lab.samples)(dataset, gallery)
        if all(isinstance(value, np.ndarray) for value in extract.values()):
            index = np.asarray(gallery, dtype=np.int64)
            arrays = {**extract, "format": np.asarray(FORMAT), "gallery_index": index}
            atomic_write_npz(out / f"{name}.npz", arrays)
        else:
            atomic_write_json(
                out / f"{name}.json", {**extract, "format": FORMAT, "gallery_index": gallery}
            )
    return out


def mnist_samples(dataset, gallery: list[int]) -> dict:
    """The first test digits, and the ones the error galleries show."""
    return {
        "images": dataset.x_test[:SAMPLE_DIGITS],
        "labels": dataset.y_test[:SAMPLE_DIGITS],
        "gallery_images": dataset.x_test[np.asarray(gallery, dtype=np.int64)],
    }


def boston_samples(dataset, gallery: list[int]) -> dict:
    return {
        "features": list(boston.FEATURES),
        "x": dataset.x_train[:SAMPLE_HOUSES].tolist(),
        "y": dataset.y_train[:SAMPLE_HOUSES].tolist(),
        # what the hand-made houses' prices are judged against
        "price_range": [float(dataset.y_train.min()), float(dataset.y_train.max())],
        "price_median": float(np.median(dataset.y_train)),
        # every training price: the validation districts are the last share of them
        # (Keras's validation_split), whose difficulty the report measures
        "y_train": dataset.y_train.tolist(),
    }


def shorten(text: str, limit: int = REVIEW_CHARS, tail: bool = False) -> str:
    """The review's first `limit` characters (whole words), or with `tail` its last ones."""
    if len(text) <= limit:
        return text
    if tail:
        return "… " + text[-limit:].split(" ", 1)[-1]
    return text[:limit].rsplit(" ", 1)[0] + " …"


def ends(text: str, limit: int) -> str:
    """A long review's opening and its closing lines, about `limit` characters in all (whole
    words): a reviewer usually sums up at the end, where the label is decided."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 3 // 5].rsplit(" ", 1)[0], text[-(limit * 2 // 5) :]
    return f"{head} … {tail.split(' ', 1)[-1]}"


def imdb_samples(dataset, test_indices: list[int]) -> dict:
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
    """Each lab's extract found in `folder`, by lab name."""
    out = {}
    for name in registry.NAMES:
        if (folder / f"{name}.npz").exists():
            with np.load(folder / f"{name}.npz", allow_pickle=False) as npz:
                out[name] = {key: npz[key] for key in npz.files}
        elif (folder / f"{name}.json").exists():
            out[name] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return out
