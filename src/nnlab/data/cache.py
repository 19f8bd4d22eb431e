"""The array cache: one .npz per dataset plus a JSON sidecar holding its SHA-256 and origin."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from nnlab.fsutil import atomic_write_json, atomic_write_npz, sha256_file


def data_dir() -> Path:
    """NNLAB_DATA_DIR, else the user's cache folder (XDG_CACHE_HOME or ~/.cache)/nnlab."""
    configured = os.environ.get("NNLAB_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnlab"


class CorruptCache(Exception):
    """The cached arrays do not match their recorded checksum, or an older converter made them."""


def paths(name: str, root: Path) -> tuple[Path, Path]:
    return root / f"{name}.npz", root / f"{name}.json"


def store(name: str, arrays: dict[str, np.ndarray], meta: dict, root: Path, converter: int) -> dict:
    """Cache the arrays with their origin, checksum and the converter version that made them."""
    arrays_path, meta_path = paths(name, root)
    atomic_write_npz(arrays_path, arrays)
    meta = {**meta, "converter": converter, "sha256": sha256_file(arrays_path)}
    atomic_write_json(meta_path, meta)
    return meta


def read_meta(name: str, root: Path) -> dict | None:
    _, meta_path = paths(name, root)
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load(name: str, root: Path, converter: int) -> tuple[dict[str, np.ndarray], dict] | None:
    """The cached arrays and meta, None when absent; CorruptCache when they fail the checksum
    or were converted by another converter version than `converter`."""
    arrays_path, _ = paths(name, root)
    meta = read_meta(name, root)
    if meta is None or not arrays_path.exists():
        return None
    if meta.get("converter") != converter:
        made_by = meta.get("converter") or "none"
        raise CorruptCache(
            f"cached {name} arrays come from converter version {made_by}; this nnlab "
            f"converts with version {converter}"
        )
    if sha256_file(arrays_path) != meta.get("sha256"):
        raise CorruptCache(f"cached {name} arrays fail their checksum")
    with np.load(arrays_path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}, meta
