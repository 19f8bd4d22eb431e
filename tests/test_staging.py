"""All-or-nothing writes: staged folders, and the recovery of what a killed nnlab left."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nnlab import lock
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write_text, current_umask
from nnlab.staging import recover_leftovers, staged_folder


def ended_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_recovery_removes_only_what_an_ended_nnlab_left(tmp_path):
    dead, alive = ended_pid(), subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "report").mkdir()
        mine = {".x.tmp": "user", "report/.draft.tmp": "user", "notes.nnlab.tmp": "user",
                f"report/.a.nnlab-{alive.pid}-k3y.tmp": "a live writer's"}  # fmt: skip
        for name, text in mine.items():
            (tmp_path / name).write_text(text)
        (tmp_path / f".index.html.nnlab-{dead}-ab_12.tmp").write_text("half")
        staging = tmp_path / "report" / f".site.nnlab-{dead}-zz.staging"
        staging.mkdir()
        (staging / f".index.html.nnlab-{dead}-q.tmp").write_text("half")
        recover_leftovers(tmp_path)
        assert files(tmp_path) == mine
        assert sorted(p.name for p in tmp_path.rglob("*") if p.is_dir()) == ["report"]
    finally:
        alive.kill()
        alive.wait()


def test_a_swap_killed_between_its_renames_gets_the_old_folder_back(tmp_path):
    dead = ended_pid()
    for kind, text in (("old", "old site"), ("staging", "new site")):
        folder = tmp_path / f".site.nnlab-{dead}-abc.{kind}"
        folder.mkdir()
        (folder / "index.html").write_text(text)
    recover_leftovers(tmp_path)
    assert files(tmp_path) == {"site/index.html": "old site"}


def test_a_failed_block_leaves_the_old_folder_whole(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("old")
    with pytest.raises(NnlabError, match="refused"), staged_folder(site) as staging:
        atomic_write_text(staging / "index.html", "new")
        raise NnlabError("the PDF was refused")
    assert files(tmp_path) == {"site/index.html": "old"}


def test_a_swap_replaces_the_whole_folder(tmp_path):
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "assets" / "logo.png").write_text("a removed logo")
    with staged_folder(site) as staging:
        atomic_write_text(staging / "index.html", "new")
    assert files(tmp_path) == {"site/index.html": "new"}  # the removed logo is gone
    assert site.stat().st_mode & 0o777 == 0o777 & ~current_umask()  # readable as any folder


def test_a_staged_folder_can_start_from_the_old_one(tmp_path):
    results = tmp_path / "results"
    (results / "full").mkdir(parents=True)
    (results / "full" / "run.json").write_text("kept")
    with staged_folder(results, start_from_final=True) as staging:
        atomic_write_text(staging / "quick" / "run.json", "added")
    assert files(tmp_path) == {"results/full/run.json": "kept", "results/quick/run.json": "added"}


# Takes the build lock, forks a process that inherits it (as the render's editions do), ends.
HOLDER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from nnlab.lock import build_lock
    with build_lock(Path(sys.argv[1])):
        child = os.fork()
        if child == 0:
            time.sleep(float(sys.argv[2]))
            os._exit(0)
        print(os.getpid(), child, flush=True)
        os._exit(0)
""")


def lock_left_by_an_ended_process(build: Path, child_seconds: float) -> tuple[int, int]:
    """(the ended holder's pid, its child's pid): the child holds the lock `child_seconds`."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(build), str(child_seconds)],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    holder, child = map(int, process.stdout.readline().split())
    process.wait()
    return holder, child


def test_a_lock_left_by_an_ended_process_is_taken_once_its_children_end(tmp_path):
    lock_left_by_an_ended_process(tmp_path, 1.0)
    with lock.build_lock(tmp_path):
        assert (tmp_path / ".nnlab.lock").read_text() == str(os.getpid())


def test_the_lock_message_never_names_an_ended_process_as_the_holder(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, "ORPHANS_WAIT_SECONDS", 0.5)
    holder, child = lock_left_by_an_ended_process(tmp_path, 60)
    try:
        with pytest.raises(NnlabError) as error, lock.build_lock(tmp_path):
            pass
    finally:
        os.kill(child, 9)
    assert f"nnlab pid {holder} has ended, but processes it started still use" in str(error.value)
    assert "another nnlab process" not in str(error.value)
