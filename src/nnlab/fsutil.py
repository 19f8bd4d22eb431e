"""Small file-system helpers: hashing, and durable atomic writes (write a temp file, fsync it,
rename it into place, fsync the folder: a crash or power loss leaves the old file or the new
one, never half of one).

Every temporary name nnlab writes is `.<final name>.nnlab-<pid>-<random>.<kind>` (`temp_prefix`,
`LEFTOVER`): a killed writer's leftovers are told from a user's own files by that name and by
their writer's process being gone (staging.recover_leftovers).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnlab.errors import NnlabError

# A temp file ("tmp"), a folder being filled ("staging"), a folder moved aside ("old").
LEFTOVER = re.compile(
    r"\.(?P<name>.+)\.nnlab-(?P<pid>\d+)-[A-Za-z0-9_]+\.(?P<kind>tmp|staging|old)"
)


def temp_prefix(final: Path) -> str:
    """The start of a temporary name for `final` (mkstemp/mkdtemp add the random part)."""
    return f".{final.name}.nnlab-{os.getpid()}-"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_dir(path: Path) -> Path:
    """Create `path` (and parents) or fail with one clear line if it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NnlabError(f"cannot create folder {path}: {exc.strerror}") from exc
    if not os.access(path, os.W_OK):
        raise NnlabError(f"folder is not writable: {path}")
    return path


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's data and metadata to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fault_pause(stage: str) -> None:
    """Fault-injection hook for the tests: NNLAB_FAULT_PAUSE=<stage> sleeps there, so a test
    can kill the process at that exact point. With NNLAB_FAULT_ONCE=<file>, only the first
    process to get there pauses, and writes its process id into that file (which it creates):
    a test can kill that one process (a cluster worker) while the others go on."""
    if os.environ.get("NNLAB_FAULT_PAUSE") != stage:
        return
    once = os.environ.get("NNLAB_FAULT_ONCE")
    if once:
        try:
            claim = os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(claim, f"{os.getpid()}\n".encode())
        os.close(claim)
    print(f"nnlab: paused at {stage} (pid {os.getpid()})", file=sys.stderr, flush=True)
    time.sleep(60)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temp file beside `path`, then make it `path` durably.

    The file gets the mode an ordinary write would (0666 less the umask), not mkstemp's 0600:
    a web server running as another user must be able to read the site.
    """
    ensure_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        fsync_path(tmp)
        fault_pause(f"replace {path.name}")
        os.replace(tmp, path)
        fsync_path(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise NnlabError(describe_os_error(exc, path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_json(path: Path, data: object) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def atomic_write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a handle: np.savez would append ".npz" to a path
            np.savez(handle, **arrays)

    atomic_write(path, save)


def atomic_copy(source: Path, target: Path) -> None:
    atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))


def atomic_symlink(target: Path, link: Path) -> None:
    """Make `link` point at `target` (relative to the link's folder), replacing what was there."""
    tmp = link.with_name(f"{temp_prefix(link)}{os.urandom(4).hex()}.tmp")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, link)
        fsync_path(link.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise NnlabError(describe_os_error(exc, link)) from exc


def describe_os_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"disk full while writing {path}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write {path}"
    return f"cannot write {path}: {exc.strerror or exc}"
