"""Training FLOPs counted from the layer shapes, and the peak FLOP/s of the CPU or GPU.

One multiply-add counts as 2 FLOPs. Training a sample costs about 3 forward passes (the
backward pass computes gradients for both activations and weights); validation costs one.
Pooling, dropout, normalisation, activations and embedding look-ups are left out: they are
memory-bound and small next to the matrix products.
"""

from __future__ import annotations

import re


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


def peak_flops(cpu: dict) -> float | None:
    """cores × fp32 SIMD lanes × FMA units × 2 FLOPs per FMA × clock (provenance.cpu_info).

    A nominal figure: /proc/cpuinfo's clock is not the boost clock, and it cannot tell full-width
    512-bit units (Zen 5) from double-pumped ones (Zen 4), so measured rates can exceed it."""
    if not cpu["clock_ghz"]:
        return None
    return cpu["cores"] * cpu["fp32_lanes"] * cpu["fma_units"] * 2 * cpu["clock_ghz"] * 1e9


# Dense fp32 peaks (no tensor cores, no sparsity) from NVIDIA's data sheets, by a part of the
# name nvidia-smi gives; the first match counts, so the more specific names come first. Any other
# GPU's peak is unknown. TensorFlow runs float32 matrix products on Ampere and later GPUs in
# TensorFloat-32 by default, which tensor cores run several times faster than this, so a
# measured rate can exceed these figures.
GPU_FP32_PEAKS = (
    ("H200 NVL", 60e12),
    ("H200", 67e12),  # H200 SXM
    ("H100 PCIe", 51e12),
    ("H100 NVL", 60e12),
    ("H100", 67e12),  # H100 SXM ("NVIDIA H100 80GB HBM3")
    ("A100", 19.5e12),  # SXM and PCIe alike
    ("L4", 30.3e12),
    ("T4", 8.1e12),
)


def gpu_peak_flops(name: str) -> float | None:
    """The data sheet's dense fp32 peak of the GPU named `name` (nvidia-smi's name), None
    when it is not in GPU_FP32_PEAKS."""
    return next(
        (peak for part, peak in GPU_FP32_PEAKS if re.search(rf"\b{re.escape(part)}\b", name, re.I)),
        None,
    )
