"""Training FLOPs counted from the layer shapes, and the CPU's peak FLOP/s.

One multiply-add counts as 2 FLOPs. Training a sample costs about 3 forward passes (the
backward pass computes gradients for both activations and weights); validation costs one.
Pooling, dropout, normalisation, activations and embedding look-ups are left out: they are
memory-bound and small next to the matrix products.
"""

from __future__ import annotations


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
