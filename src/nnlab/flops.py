"""Training FLOPs counted from the layer shapes, and the CPU's peak FLOP/s.

One multiply-add counts as 2 FLOPs. Training a sample costs about 3 forward passes (the
backward pass computes gradients for both activations and weights); validation costs one.
Pooling, dropout, normalisation, activations and embedding look-ups are left out: they are
memory-bound and small next to the matrix products.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def forward_flops(spec, layers: list[dict]) -> int:
    """Forward FLOPs for one sample, from the spec and the built model's output shapes."""
    total = 0
    shape = [None, *spec.input_shape]
    for (kind, kwargs), layer in zip(spec.layers, layers, strict=True):
        out = layer["output_shape"]
        if kind == "Dense":
            total += 2 * shape[-1] * out[-1]
        elif kind in ("Conv1D", "Conv2D"):
            kernel = kwargs["kernel_size"]
            taps = kernel if isinstance(kernel, int) else kernel[0] * kernel[1]
            positions = 1
            for size in out[1:-1]:
                positions *= size
            total += 2 * taps * shape[-1] * out[-1] * positions
        elif kind == "LSTM":
            units, steps = kwargs["units"], shape[1]
            total += steps * 2 * 4 * units * (shape[-1] + units)
        shape = out
    return total


def epoch_flops(spec, layers: list[dict], n_fit: int, n_val: int) -> int:
    forward = forward_flops(spec, layers)
    return 3 * forward * n_fit + forward * n_val


def cpu_info() -> dict:
    """Model, cores, clock and SIMD width, read from /proc/cpuinfo (Linux)."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = set(re.search(r"^flags\s*:(.*)$", text, re.M).group(1).split()) if text else set()
    mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)]
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    return {
        "model": model.group(1).strip() if model else "unknown",
        "cores": len(os.sched_getaffinity(0)),
        "clock_ghz": (max(mhz) / 1000) if mhz else None,
        "fp32_lanes": lanes,
        "fma_units": 2 if "fma" in flags else 1,
        "avx512_bf16": "avx512_bf16" in flags,
    }


def peak_flops(cpu: dict) -> float | None:
    """cores × fp32 SIMD lanes × FMA units × 2 FLOPs per FMA × clock."""
    if not cpu["clock_ghz"]:
        return None
    return cpu["cores"] * cpu["fp32_lanes"] * cpu["fma_units"] * 2 * cpu["clock_ghz"] * 1e9
