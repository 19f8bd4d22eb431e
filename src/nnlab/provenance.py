"""Where a run was trained: the platform, the processor (model, family, the SIMD features that
change numerics and speed), the core count and the library versions. Read without importing
TensorFlow, so rendering and planning stay light."""

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


def machine() -> dict:
    """What run.json records about the machine that trained the run."""
    cpu = cpu_info()
    return {
        "platform": platform.platform(),
        "cpu": cpu["model"],
        "cpu_family": cpu["family"],
        "simd": cpu["simd"],
        "cores": cpu["cores"],
        "versions": library_versions(),
    }


def cpu_type(record_machine: dict | None) -> str | None:
    """A short name for a CPU type: same type, same kernels, same numbers for the same seed."""
    if not record_machine:
        return None
    family = record_machine.get("cpu_family")
    simd = ", ".join(record_machine.get("simd", [])) or "no SIMD flags"
    where = f"family {family}" if family is not None else "family unknown"
    return f"{record_machine.get('cpu', 'unknown')} ({where}; {simd})"
