"""Where a run was trained: the platform, the processor (model, family, the SIMD features that
change numerics and speed), the core count, the library versions and, for a run trained on a
GPU, the GPU (model, driver, CUDA and cuDNN) and whether its LSTMs could take cuDNN's fused
kernel. Read without importing TensorFlow (a training worker passes in what TensorFlow says
about its build), so rendering and planning stay light."""

from __future__ import annotations

import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path

# CPU features that decide which kernels TensorFlow runs, hence the last bits of every number.
SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
_LIBRARIES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scikit-learn")


def library_versions() -> dict[str, str]:
    """Versions that can change a run's numbers."""
    versions = {"python": sys.version.split()[0]}
    for package in _LIBRARIES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_info() -> dict:
    """Model, family, cores, clock and SIMD width, read from /proc/cpuinfo (Linux)."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = set(re.search(r"^flags\s*:(.*)$", text, re.M).group(1).split()) if text else set()
    mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)]
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    family = re.search(r"^cpu family\s*:\s*(\d+)", text, re.M)
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    return {
        "model": model.group(1).strip() if model else platform.processor() or "unknown",
        "family": int(family.group(1)) if family else None,
        "cores": len(os.sched_getaffinity(0)),
        "clock_ghz": (max(mhz) / 1000) if mhz else None,
        "fp32_lanes": lanes,
        "fma_units": 2 if "fma" in flags else 1,
        "simd": [flag for flag in SIMD_FLAGS if flag in flags],
        "avx512_bf16": "avx512_bf16" in flags,
    }


def gpu_record(gpu, build_info: dict) -> dict:
    """What run.json records about the GPU a run trained on: `gpu` a devices.Gpu (nvidia-smi's
    model name and driver version), `build_info` tf.sysconfig.get_build_info() of the worker
    (the CUDA and cuDNN versions TensorFlow was built with and loads)."""
    return {
        "name": gpu.name,
        "driver": gpu.driver,
        "cuda": build_info.get("cuda_version"),
        "cudnn": build_info.get("cudnn_version"),
    }


def machine(gpu: dict | None = None) -> dict:
    """What run.json records about the machine that trained the run; `gpu` (gpu_record) for
    a run trained on a GPU."""
    cpu = cpu_info()
    found = {
        "platform": platform.platform(),
        "cpu": cpu["model"],
        "cpu_family": cpu["family"],
        "simd": cpu["simd"],
        "cores": cpu["cores"],
        "versions": library_versions(),
    }
    if gpu:
        found["gpu"] = gpu
    return found


# Keras 3 runs an LSTM layer with cuDNN's fused kernel (use_cudnn="auto") when the TensorFlow
# backend sees a GPU and the layer keeps these settings (keras/src/layers/rnn/lstm.py, and
# cudnn_ok in keras/src/backend/tensorflow/rnn.py); otherwise it loops over the steps.
CUDNN_LSTM_DEFAULTS = {
    "activation": "tanh",
    "recurrent_activation": "sigmoid",
    "recurrent_dropout": 0.0,
    "unroll": False,
    "use_bias": True,
    "use_cudnn": "auto",
}


def lstm_cudnn(spec, on_gpu: bool) -> dict | None:
    """For a model with LSTM layers: whether every one keeps cuDNN's conditions (as the spec
    builds it: Keras's defaults unless the spec sets otherwise) and whether it trained on a
    GPU; both together is when Keras takes the cuDNN path. None for a model without LSTMs."""
    layers = [kwargs for kind, kwargs in spec.layers if kind == "LSTM"]
    if not layers:
        return None
    broken = sorted({
        key for kwargs in layers for key, default in CUDNN_LSTM_DEFAULTS.items()
        if kwargs.get(key, default) != default
    })  # fmt: skip
    return {
        "lstm_layers": len(layers),
        "conditions_met": not broken,
        "broken_conditions": broken,
        "gpu": on_gpu,
        "cudnn": on_gpu and not broken,
    }


# AMD's CPU families by the microarchitecture people know them by (family 25 holds two).
AMD_GENERATIONS = {23: "Zen or Zen 2", 25: "Zen 3 or Zen 4", 26: "Zen 5"}


def cpu_label(record_machine: dict | None) -> str | None:
    """The processor as a reader names it: "AMD EPYC (Zen 5)", "Intel Xeon (AMX)", a GPU by its
    name. cpu_type, with its family number and flags, stays the grouping key."""
    if not record_machine:
        return None
    if record_machine.get("gpu"):
        return record_machine["gpu"].get("name", "unknown GPU")
    name = record_machine.get("cpu", "unknown")
    generation = AMD_GENERATIONS.get(record_machine.get("cpu_family")) if "AMD" in name else None
    if generation:
        return f"{name} ({generation})"
    if "amx_tile" in record_machine.get("simd", []):
        return f"{name} (AMX)"
    return name


def cpu_type(record_machine: dict | None) -> str | None:
    """A short name for a CPU type: same type, same kernels, same numbers for the same seed.
    A run trained on a GPU is named by its GPU (with the CUDA and cuDNN it ran), since the GPU's
    kernels, not the CPU's, made its numbers."""
    if not record_machine:
        return None
    gpu = record_machine.get("gpu")
    if gpu:
        libraries = ", ".join(
            f"{label} {gpu[key]}" for key, label in (("cuda", "CUDA"), ("cudnn", "cuDNN"))
            if gpu.get(key)
        )  # fmt: skip
        return f"{gpu.get('name', 'unknown GPU')} (GPU{'; ' + libraries if libraries else ''})"
    family = record_machine.get("cpu_family")
    simd = ", ".join(record_machine.get("simd", [])) or "no SIMD flags"
    where = f"family {family}" if family is not None else "family unknown"
    return f"{record_machine.get('cpu', 'unknown')} ({where}; {simd})"
