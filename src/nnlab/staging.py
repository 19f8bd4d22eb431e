"""Writes of many files, all or nothing: a folder is filled beside its final place and swapped in
whole (`staged_folder`); what a killed nnlab left behind is tidied (`recover_leftovers`).

Only names nnlab writes (fsutil.LEFTOVER) are touched, and only once the process that wrote
them is gone: a user's own `.draft.tmp` is never removed.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from nnlab.errors import NnlabError
from nnlab.fsutil import (
    LEFTOVER,
    current_umask,
    describe_os_error,
    ensure_dir,
    fault_pause,
    fsync_path,
    temp_prefix,
)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _writer_gone(pid: int) -> bool:
    """Whether the process that wrote a leftover has ended. This process's own pid counts as
    ended: leftovers are recovered before it writes any, and a pid can come back after a
    restart (a container's processes often get the same pids each time)."""
    return pid == os.getpid() or not process_exists(pid)


def recover_leftovers(folder: Path) -> None:
    """Tidy what killed nnlab processes left under `folder` (call it holding the build lock,
    before writing): their temp files and staging folders are removed, and a folder moved
    aside by a swap that never finished is put back."""
    for parent, folders, files in os.walk(folder):
        for name in files + folders:
            _recover(Path(parent) / name)
        folders[:] = [name for name in folders if not LEFTOVER.fullmatch(name)]


def _recover(path: Path) -> None:
    match = LEFTOVER.fullmatch(path.name)
    if match is None or not _writer_gone(int(match["pid"])):
        return
    final = path.with_name(match["name"])
    if match["kind"] == "old" and not os.path.lexists(final):
        path.rename(final)  # killed between moving the old folder aside and the new one in
        fsync_path(final.parent)
    elif path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def staged_folder(final: Path, start_from_final: bool = False):
    """Yield a new folder beside `final` to fill. When the block ends without an error it is
    swapped in for `final` (the old folder is then removed, files that no longer belong with
    it); when the block raises, it is removed. `final` is the old folder or the new one, whole,
    at every moment. `start_from_final`: the new folder starts as a copy of `final`."""
    parent = ensure_dir(final.parent)
    for leftover in parent.glob(f".{glob.escape(final.name)}.nnlab-*"):
        _recover(leftover)
    try:
        staging = Path(tempfile.mkdtemp(prefix=temp_prefix(final), suffix=".staging", dir=parent))
        os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp's 0700 would hide the site
    except OSError as exc:
        raise NnlabError(describe_os_error(exc, final)) from exc
    try:
        if start_from_final and final.is_dir():
            _copy_into(final, staging)
        yield staging
        _swap_in(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _copy_into(source: Path, target: Path) -> None:
    try:
        shutil.copytree(source, target, dirs_exist_ok=True)
    except OSError as exc:
        raise NnlabError(describe_os_error(exc, target)) from exc


def _swap_in(staging: Path, final: Path) -> None:
    """Put the filled `staging` in `final`'s place: every file fsynced, then two renames (the
    old folder aside, the new one in). A kill between the two is undone by recover_leftovers,
    which puts the old folder back."""
    try:
        _fsync_tree(staging)
        if not os.path.lexists(final):
            os.rename(staging, final)
            fsync_path(final.parent)
            return
        old = staging.with_name(staging.name.removesuffix(".staging") + ".old")
        os.rename(final, old)
        fault_pause(f"swap {final.name}")
        try:
            os.rename(staging, final)
        except OSError:
            os.rename(old, final)
            raise
        fsync_path(final.parent)
    except OSError as exc:
        raise NnlabError(describe_os_error(exc, final)) from exc
    shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for parent, _, files in os.walk(folder):
        for name in files:
            fsync_path(Path(parent) / name)
        fsync_path(Path(parent))
