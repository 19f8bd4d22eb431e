"""Injected faults: kill -9 while saving and while rendering, a full disk, no network."""

from __future__ import annotations

import errno
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, nnlab_env, run_nnlab
from pypdf import PdfReader

from nnlab import runs
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write, sha256_file

pytestmark = pytest.mark.slow


def start(args, data_dir, build, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "nnlab", *args], cwd=REPO, stderr=subprocess.PIPE, text=True,
        env={**nnlab_env(data_dir, build), **env},
    )  # fmt: skip


def kill_when(process, needle: str) -> None:
    for line in process.stderr:
        if needle in line:
            break
    else:
        pytest.fail(f"the process ended before printing {needle!r}")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_kill_while_saving_a_run(tmp_path, data_dir):
    build = tmp_path / "build"
    args = ["train", "--profile", "quick", "--quiet", "--dataset", "boston", "--model", "cnn"]
    process = start(args, data_dir, build, NNLAB_FAULT_PAUSE="commit")
    kill_when(process, "paused at commit")  # every file written, not yet renamed into place
    folder = runs.run_dir(build, "quick", "boston-cnn", 42)
    assert not (folder / runs.RECORD).exists()
    result = run_nnlab(args, data_dir, build)
    assert result.returncode == 0 and "1 trained" in result.stdout, result.stderr
    assert runs.read_record(folder)["status"] == "done"
    assert [p.name for p in folder.parent.iterdir()] == ["seed-42"]  # leftovers cleaned


def test_kill_while_rendering_keeps_the_old_report(rendered, data_dir, tmp_path):
    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    process = start(["report", "--profile", "quick"], data_dir, build)
    kill_when(process, ": figures")  # one edition is done, the other may still be rendering
    for lang in ("vi", "en"):
        reader = PdfReader(build / f"report.{lang}.pdf")  # whole, old or new, never half
        assert len(reader.pages) > 15
    result = run_nnlab(["report", "--profile", "quick"], data_dir, build)
    assert result.returncode == 0, result.stderr


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


def test_full_disk_during_report_is_one_line(rendered, data_dir, tmp_path, monkeypatch, capsys):
    import weasyprint

    from nnlab.cli import main

    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    before = sha256_file(build / "report.vi.pdf")

    def no_space(self, target=None, **kwargs):
        Path(target).write_bytes(b"%PDF-1.7 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", no_space)
    for key, value in nnlab_env(data_dir, build).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, "argv", ["nnlab", "report", "--profile", "quick", "--lang", "vi"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("nnlab: error: disk full while writing")
    assert sha256_file(build / "report.vi.pdf") == before
    assert not list(build.glob(".report.vi.pdf.*"))


def test_no_network_and_no_data_is_one_line(tmp_path):
    closed = "http://127.0.0.1:9/"  # nothing listens on the discard port
    result = subprocess.run(
        [sys.executable, "-m", "nnlab", "train", "--profile", "quick", "--dataset", "mnist"],
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


def test_failed_run_is_shown_in_the_report(rendered, data_dir, tmp_path):
    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    config = tmp_path / "report.toml"
    config.write_text("[training.boston-cnn]\nlearning_rate = 1e30\n", encoding="utf-8")
    args = ["train", "--profile", "quick", "--quiet", "--dataset", "boston", "--model", "cnn",
            "--config", str(config)]  # fmt: skip
    assert run_nnlab(args, data_dir, build).returncode == 0
    result = run_nnlab(["report", "--profile", "quick", "--format", "html", "--lang", "en"],
                       data_dir, build)  # fmt: skip
    assert result.returncode == 0, result.stderr
    html = (build / "site" / "en" / "index.html").read_text(encoding="utf-8")
    assert "Run boston-cnn failed: loss became NaN" in html
    assert "No test results: at least one run of this lab failed" in html
    assert 'data-metric="mnist-cnn-accuracy"' in html  # the other labs are still reported
