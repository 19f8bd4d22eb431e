"""Figures and equations for one edition, regenerated only when their inputs change."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from nnlab import cachekey
from nnlab.fsutil import atomic_copy, atomic_write_text, ensure_dir


class FigureStore:
    """Writes `<out>/<name>.svg`, reusing a cached SVG when (name, lang, inputs, code) match;
    `code` is a digest of everything that draws the figures (render.figure_code)."""

    def __init__(self, cache_dir: Path, out_dir: Path, lang: str, code: str):
        self.cache_dir = ensure_dir(cache_dir)
        self.out_dir = ensure_dir(out_dir)
        self.lang = lang
        self.code = code
        self.generated = 0
        self.reused = 0
        self.draw_seconds: dict[str, float] = {}  # the figures drawn (not reused), by name

    def get(self, name: str, inputs: object, make: Callable[[], str]) -> str:
        digest = cachekey.key(
            {"name": name, "lang": self.lang, "inputs": json.loads(json.dumps(inputs, default=str)),
             "code": self.code}
        )  # fmt: skip
        cached = self.cache_dir / f"{digest}.svg"
        if cached.exists():
            self.reused += 1
        else:
            started = time.perf_counter()
            atomic_write_text(cached, make())
            self.draw_seconds[name] = time.perf_counter() - started
            self.generated += 1
        target = self.out_dir / f"{name}.svg"
        atomic_copy(cached, target)
        return f"{self.out_dir.name}/{name}.svg"
