"""One nnlab build per build folder at a time (an advisory file lock, released at exit). Taking
it tidies what a killed command left in the build folder (staging.recover_leftovers)."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from nnlab.errors import NnlabError
from nnlab.fsutil import ensure_dir
from nnlab.staging import process_exists, recover_leftovers

# How long to wait for the processes a killed nnlab forked (its editions) to end with it: they
# share its lock, and end at once (report.editions.die_with_parent), but not in the same instant.
ORPHANS_WAIT_SECONDS = 10


@contextmanager
def build_lock(build: Path):
    path = ensure_dir(build) / ".nnlab.lock"
    with open(path, "a+", encoding="utf-8") as handle:
        _acquire(handle, build)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            recover_leftovers(build)
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle, build: Path) -> None:
    if _try_lock(handle):
        return
    handle.seek(0)
    holder = handle.read().strip()
    if not holder.isdigit() or process_exists(int(holder)):
        raise NnlabError(
            f"another nnlab process (pid {holder or 'unknown'}) is using {build}; wait for it "
            "to finish"
        )
    # The process that took the lock has ended: what still holds it are the processes it
    # forked, which end with it.
    deadline = time.monotonic() + ORPHANS_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if _try_lock(handle):
            return
    raise NnlabError(
        f"nnlab pid {holder} has ended, but processes it started still use {build}; wait for "
        "them to end"
    )


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
