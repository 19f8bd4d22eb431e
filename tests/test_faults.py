"""Injected faults: kill -9 while saving and while rendering, a full disk, no network."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TRAIN_BOSTON_CNN, copy_build, nnlab_env, run_nnlab
from pypdf import PdfReader

from nnlab import runs
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write, sha256_file

pytestmark = pytest.mark.slow


def start(args, data_dir, build, **env):
    """nnlab in a process group of its own, so that a kill reaches its forked workers too."""
    return subprocess.Popen(
        [sys.executable, "-m", "nnlab", *args], cwd=REPO, stderr=subprocess.PIPE, text=True,
        env={**nnlab_env(data_dir, build), **env}, start_new_session=True,
    )  # fmt: skip


def kill_when(process, needle: str) -> None:
    """SIGKILL the whole process group once `needle` is printed (the process is then paused
    at the fault point, NNLAB_FAULT_PAUSE)."""
    for line in process.stderr:
        if needle in line:
            break
    else:
        pytest.fail(f"the process ended before printing {needle!r}")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_kill_after_sealing_a_new_run_keeps_it(tmp_path, data_dir):
    build = tmp_path / "build"
    process = start(TRAIN_BOSTON_CNN, data_dir, build, NNLAB_FAULT_PAUSE="commit")
    kill_when(process, "paused at commit")  # run.json written, the folder not yet in place
    folder = runs.run_path(build / "runs", "quick", "boston-cnn", 42)
    assert not (folder / runs.RECORD).exists()
    result = run_nnlab(TRAIN_BOSTON_CNN, data_dir, build)
    assert result.returncode == 0, result.stderr
    assert "0 trained, 1/1 runs done" in result.stdout  # the sealed run was kept, not redone
    assert runs.read_record(folder)["status"] == "done"
    assert [p.name for p in folder.parent.iterdir()] == ["seed-42"]  # leftovers cleaned


def test_kill_between_the_two_renames_loses_no_run(quick_build, tmp_path, data_dir):
    """Retraining moves the old run aside, then the new one in: a kill between the two used to
    lose both (the old one was deleted as a leftover)."""
    build = copy_build(quick_build, tmp_path / "build")
    config = tmp_path / "report.toml"
    config.write_text("[training.boston-cnn]\nepochs = 2\n", encoding="utf-8")
    args = [*TRAIN_BOSTON_CNN, "--config", str(config)]
    process = start(args, data_dir, build, NNLAB_FAULT_PAUSE="swap")
    kill_when(process, "paused at swap")
    folder = runs.run_path(build / "runs", "quick", "boston-cnn", 42)
    assert not folder.exists()  # the old run is aside, the new one not yet in place
    result = run_nnlab(args, data_dir, build)
    assert result.returncode == 0, result.stderr
    assert "0 trained, 1/1 runs done" in result.stdout
    assert runs.read_record(folder)["epochs_run"] == 2
    assert sorted(p.name for p in folder.parent.iterdir()) == ["seed-42", "seed-43"]  # no leftover


def test_kill_while_writing_a_pdf_keeps_the_old_report(rendered, data_dir, tmp_path):
    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    before = {lang: sha256_file(build / f"report.{lang}.pdf") for lang in ("vi", "en")}
    config = tmp_path / "report.toml"  # a new title: the new PDF differs from the old one
    config.write_text('[report]\ntitle_vi = "Báo cáo mới"\n', encoding="utf-8")
    args = ["report", "--profile", "quick", "--lang", "vi", "--format", "pdf", "--config",
            str(config)]  # fmt: skip
    process = start(args, data_dir, build, NNLAB_FAULT_PAUSE="replace report.vi.pdf")
    kill_when(process, "paused at replace report.vi.pdf")  # the new PDF is written, not in place
    assert list(build.glob(".report.vi.pdf.*.tmp"))  # the kill hit inside the write
    assert sha256_file(build / "report.vi.pdf") == before["vi"]
    for lang in ("vi", "en"):
        assert len(PdfReader(build / f"report.{lang}.pdf").pages) > 15  # whole, never half
    result = run_nnlab(args, data_dir, build)
    assert result.returncode == 0, result.stderr
    assert sha256_file(build / "report.vi.pdf") != before["vi"]
    assert not list(build.rglob("*.tmp"))  # the killed write's temp file is gone


def test_full_disk_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old report")

    def fill_disk(tmp: Path) -> None:
        tmp.write_bytes(b"half a rep")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(NnlabError, match="disk full"):
        atomic_write(target, fill_disk)
    assert target.read_bytes() == b"old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def half_a_pdf(self, target=None, **kwargs):
    Path(target).write_bytes(b"%PDF-1.7 half")
    no_space()


@pytest.mark.parametrize(
    "where",
    ["weasyprint.HTML.write_pdf", "nnlab.fsutil.os.replace", "nnlab.fsutil.shutil.copyfile"],
)
def test_full_disk_during_report_is_one_line(
    where, rendered, data_dir, tmp_path, monkeypatch, capsys
):
    """The disk fills while WeasyPrint writes, while a finished file is renamed into place, or
    while a figure or a PDF is copied into the site."""
    import weasyprint  # noqa: F401 (the patch target's module)

    from nnlab.cli import main

    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    before = {p: sha256_file(p) for p in build.rglob("*") if p.is_file() and p.suffix != ".lock"}
    monkeypatch.setattr(where, half_a_pdf if where.endswith("write_pdf") else no_space)
    for key, value in nnlab_env(data_dir, build).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, "argv", ["nnlab", "report", "--profile", "quick", "--lang", "vi"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("nnlab: error: disk full while writing")
    assert "Traceback" not in "\n".join(lines)
    # Nothing half-written, nothing lost: every file is as it was, except an HTML edition
    # written whole before the PDF failed.
    for path, digest in before.items():
        assert sha256_file(path) == digest or path.name == "index.html", path
    assert not list(build.rglob("*.tmp"))


def test_no_network_and_no_data_is_one_line(tmp_path):
    closed = "http://127.0.0.1:9/"  # nothing listens on the discard port
    result = subprocess.run(
        [sys.executable, "-m", "nnlab", "train", "--profile", "quick", "--seeds", "1",
         "--dataset", "mnist"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**nnlab_env(tmp_path / "no-data", tmp_path / "build"), "npm_config_registry": closed,
             "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "3000",
             "npm_config_cache": str(tmp_path / "npm-cache"), "npm_config_offline": "false"},
    )  # fmt: skip
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("nnlab: error: dataset 'mnist' is not cached")
    assert "nnlab data fetch mnist" in last
    assert "Traceback" not in result.stderr


def test_a_nan_loss_fails_the_run_and_the_report_shows_it(rendered, data_dir, tmp_path):
    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    config = tmp_path / "report.toml"
    config.write_text("[training.boston-cnn]\nlearning_rate = 1e30\n", encoding="utf-8")
    args = ["train", "--profile", "quick", "--quiet", "--seeds", "1", "--dataset", "boston",
            "--model", "cnn", "--config", str(config)]  # fmt: skip
    assert run_nnlab(args, data_dir, build).returncode == 0
    record = runs.read_record(runs.run_path(build / "runs", "quick", "boston-cnn", 42))
    assert record["status"] == "failed" and "NaN" in record["reason"]
    result = run_nnlab(["report", "--profile", "quick", "--format", "html", "--lang", "en"],
                       data_dir, build)  # fmt: skip
    assert result.returncode == 0, result.stderr
    html = (build / "site" / "en" / "index.html").read_text(encoding="utf-8")
    # the crashed seed is named with its cause where the seeds are shown
    assert "Training failed in 1 of the" in html and "diverged: its loss became NaN" in html
    assert "No test results: at least one run of this lab failed" in html
    assert 'data-metric="mnist-cnn-accuracy"' in html  # the other labs are still reported
