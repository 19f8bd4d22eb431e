"""The GPUs training would use, found without importing TensorFlow.

The parent process plans and sizes the worker pools before any worker imports TensorFlow, so
it asks `nvidia-smi` (the NVIDIA driver's own tool) which GPUs there are, keeps those that
CUDA_VISIBLE_DEVICES lets a process see, and none when the installed TensorFlow is the
CPU-only build (`tensorflow-cpu`, nnlab's `.[cpu]`), which cannot use them. `gpus` is the one
place that decides; tests replace it with a fake device list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata

# One query for everything nnlab needs: which GPU (index and UUID, to pin a worker to it),
# its model name and the driver version (recorded with every run trained on it).
QUERY = ("--query-gpu=index,name,driver_version,uuid", "--format=csv,noheader")


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str  # e.g. "NVIDIA H200"
    driver: str  # e.g. "550.54.15"
    uuid: str = ""  # e.g. "GPU-5c1d…"

    @property
    def visible_id(self) -> str:
        """What CUDA_VISIBLE_DEVICES names this GPU by: its UUID (unambiguous whatever CUDA's
        device order), else its index."""
        return self.uuid or str(self.index)


def _nvidia_smi() -> str | None:
    """nvidia-smi's answer to QUERY, or None where there is no NVIDIA driver."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    try:
        answer = subprocess.run(
            [executable, *QUERY], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return answer.stdout if answer.returncode == 0 else None


def parse(text: str) -> list[Gpu]:
    """GPUs from QUERY's CSV lines ("0, NVIDIA H200, 550.54.15, GPU-…"); other lines are
    skipped."""
    found = []
    for line in text.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) < 3 or not fields[0].isdigit():
            continue
        uuid = fields[3] if len(fields) > 3 else ""
        found.append(Gpu(int(fields[0]), fields[1], fields[2], uuid))
    return found


def visible(found: list[Gpu], setting: str | None) -> list[Gpu]:
    """The GPUs a CUDA process sees under CUDA_VISIBLE_DEVICES=`setting` (None: unset, all of
    them), in the order it names them. As CUDA does, an empty or "-1" value hides every GPU
    and the list ends at the first entry that names no GPU; an entry may be an index or a
    UUID (or a unique start of one)."""
    if setting is None:
        return list(found)

    def names(gpu: Gpu, entry: str) -> bool:
        return entry == str(gpu.index) or (entry.startswith("GPU-") and gpu.uuid.startswith(entry))

    chosen: list[Gpu] = []
    for entry in (part.strip() for part in setting.split(",")):
        match = next((gpu for gpu in found if names(gpu, entry)), None)
        if match is None:
            break
        if match not in chosen:
            chosen.append(match)
    return chosen


def tensorflow_can_use_gpus() -> bool:
    """Whether the installed TensorFlow is the build that can run on NVIDIA GPUs (the
    `tensorflow` distribution, nnlab's `.[gpu]`), not `tensorflow-cpu`."""
    try:
        metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        return False
    return True


def gpus() -> list[Gpu]:
    """The GPUs training would run on: found by nvidia-smi, visible under
    CUDA_VISIBLE_DEVICES, and usable by the installed TensorFlow. Empty on a CPU machine."""
    if not tensorflow_can_use_gpus():
        return []
    text = _nvidia_smi()
    if not text:
        return []
    return visible(parse(text), os.environ.get("CUDA_VISIBLE_DEVICES"))


def cores() -> int:
    return len(os.sched_getaffinity(0))


def default_workers() -> int:
    """Training processes side by side: one per GPU when there are GPUs (each trains its
    runs alone on its GPU), else one per core."""
    return len(gpus()) or cores()
