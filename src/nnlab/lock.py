"""One nnlab build per build folder at a time (an advisory file lock, released at exit)."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from nnlab.errors import NnlabError
from nnlab.fsutil import ensure_dir


@contextmanager
def build_lock(build: Path):
    path = ensure_dir(build) / ".nnlab.lock"
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise NnlabError(
                f"another nnlab process (pid {holder}) is using {build}; wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
