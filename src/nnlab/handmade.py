"""The notebook's hand-made Boston houses, priced by each trained Boston model.

Pricing is not part of training: the prices sit beside the run in handmade.json with what
they depend on (PRICING: the code, the houses, the model's checksum), so editing the houses
re-prices (seconds) instead of retraining, and the report can tell prices made for other
houses, by other code or with another model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnlab import cachekey, runfiles
from nnlab.data.boston import HANDMADE_HOUSES
from nnlab.fsutil import atomic_write_json

FILE = "handmade.json"


def dependencies(record: dict) -> dict:
    return cachekey.dependencies(PRICING, files={"model": runfiles.model_checksum(record)})


def read(folder: Path, record: dict) -> list[float] | None:
    """Prices in thousands of dollars, None when absent or made by other code, for other houses
    or with another model."""
    try:
        saved = json.loads((folder / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved.get("prices_k") if saved.get("inputs") == dependencies(record) else None


def price(folder: Path, record: dict) -> None:
    from nnlab import predict

    prices = predict.boston_model_prices(folder, np.array(HANDMADE_HOUSES, dtype=np.float64))
    atomic_write_json(
        folder / FILE,
        {"inputs": dependencies(record), "prices_k": [float(p) for p in prices]},
    )


PRICING = cachekey.Stage(
    "pricing", code=(price,), params={"houses": [list(house) for house in HANDMADE_HOUSES]}
)
