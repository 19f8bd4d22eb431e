"""Injected faults: kill -9 while saving and while rendering, a full disk, no network, a refused
PDF, missing samples, an empty build folder setting."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, TRAIN_BOSTON_CNN, copy_build, nnlab_env, run_nnlab
from pypdf import PdfReader

from nnlab import runs
from nnlab.errors import NnlabError
from nnlab.fsutil import LEFTOVER, atomic_write, sha256_file

pytestmark = pytest.mark.slow


def start(args, data_dir, build, **env):
    """nnlab in a process group of its own, so that a kill reaches its forked workers too."""
    return subprocess.Popen(
        [sys.executable, "-m", "nnlab", *args], cwd=REPO, stderr=subprocess.PIPE, text=True,
        env={**nnlab_env(data_dir, build), **env}, start_new_session=True,
    )  # fmt: skip


def paused_pid(process, needle: str) -> int:
    """The pid of the process that printed `needle` (it is then paused at the fault point,
    NNLAB_FAULT_PAUSE)."""
    for line in process.stderr:
        if needle in line:
            return int(re.search(r"\(pid (\d+)\)", line).group(1))
    pytest.fail(f"the process ended before printing {needle!r}")


def kill_when(process, needle: str) -> None:
    """SIGKILL the whole process group once `needle` is printed."""
    paused_pid(process, needle)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder` (links not followed): (size, mtime in ns)."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in folder.rglob("*")}  # fmt: skip


def digests(folder: Path) -> dict[Path, str]:
    return {p: sha256_file(p) for p in folder.rglob("*") if p.is_file() and p.suffix != ".lock"}


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if LEFTOVER.fullmatch(p.name)]


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
    build = copy_build(rendered, tmp_path / "copy")
    before = digests(build)
    config = tmp_path / "report.toml"  # a new title: the new PDF differs from the old one
    config.write_text('[report]\ntitle_vi = "Báo cáo mới"\n', encoding="utf-8")
    args = ["report", "--profile", "quick", "--lang", "vi", "--format", "pdf", "--config",
            str(config)]  # fmt: skip
    process = start(args, data_dir, build, NNLAB_FAULT_PAUSE="replace report.vi.pdf")
    kill_when(process, "paused at replace report.vi.pdf")  # the new PDF is written, not in place
    assert list(build.glob(".site.nnlab-*.staging/vi/.report.vi.pdf.nnlab-*.tmp"))  # in the write
    staging = next(build.glob(".site.nnlab-*.staging"))  # the killed render's, tidied later
    kept = {p: d for p, d in digests(build).items() if staging not in p.parents}
    assert kept == before  # the old site and PDFs, whole
    for lang in ("vi", "en"):
        assert len(PdfReader(build / f"report.{lang}.pdf").pages) > 15
    result = run_nnlab(args, data_dir, build)
    assert result.returncode == 0, result.stderr
    assert sha256_file(build / "report.vi.pdf") != before[build / "report.vi.pdf"]
    assert (build / "report.vi.pdf").resolve() == (build / "site" / "vi" / "report.vi.pdf")
    assert not (build / "report.en.pdf").exists()  # this site has no English edition
    assert leftovers(build) == []  # the killed render's staging folder and temp file are gone


def test_a_killed_render_leaves_no_orphan_writing(rendered, data_dir, tmp_path):
    """kill -9 of the render's process alone, while its editions render: they end with it."""
    build = copy_build(rendered, tmp_path / "copy")
    before = digests(build)
    args = ["report", "--profile", "quick", "--format", "html"]
    process = start(args, data_dir, build, NNLAB_FAULT_PAUSE="editions forked")
    os.kill(paused_pid(process, "paused at editions forked"), signal.SIGKILL)
    process.wait(timeout=30)
    after_kill = listing(build)
    time.sleep(5)  # an orphan edition would write its figures and pages meanwhile
    assert listing(build) == after_kill
    assert digests(build) == before  # the old site, whole
    result = run_nnlab(args, data_dir, build)  # the lock is free, the leftovers are tidied
    assert result.returncode == 0, result.stderr
    assert leftovers(build) == []


def test_an_edition_killed_by_a_signal_is_reported_as_killed(rendered, data_dir, tmp_path):
    """As the out-of-memory killer would: SIGKILL to one edition's process."""
    build = copy_build(rendered, tmp_path / "copy")
    before = digests(build)
    process = start(["report", "--profile", "quick", "--format", "html"], data_dir, build,
                    NNLAB_FAULT_PAUSE="edition vi")  # fmt: skip
    os.kill(paused_pid(process, "paused at edition vi"), signal.SIGKILL)
    stderr = process.stderr.read()
    assert process.wait(timeout=300) == 2, stderr
    assert stderr.strip().splitlines()[-1] == (
        "nnlab: error: the vi edition's process was killed by signal 9 (SIGKILL), most likely "
        "for lack of memory; free some memory, then run the command again"
    )
    assert "Traceback" not in stderr and "bug" not in stderr
    assert digests(build) == before
    assert leftovers(build) == []


def test_a_refused_pdf_leaves_the_old_site_whole(rendered, data_dir, tmp_path, monkeypatch, capsys):
    """The PDF's fetcher refuses what lies outside its folders (here: the build's figures)."""
    from nnlab.cli import main
    from nnlab.report.fetcher import ConfinedFetcher

    build = copy_build(rendered, tmp_path / "copy")
    before = digests(build)
    confined = ConfinedFetcher.__init__
    # the templates' folder only, not the build's: its figures are refused
    monkeypatch.setattr(
        ConfinedFetcher, "__init__", lambda self, allowed: confined(self, allowed[1:])
    )
    for key, value in nnlab_env(data_dir, build).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, "argv", ["nnlab", "report", "--profile", "quick", "--lang", "vi"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("nnlab: error: report.vi.pdf: the report refers to files outside")
    assert digests(build) == before  # the new HTML edition was written, but never swapped in
    assert leftovers(build) == []


def test_one_edition_without_pdfs_links_only_to_what_it_has(rendered, data_dir, tmp_path):
    """--lang en --format html: a site of one edition with no broken link; the appendix's
    command names a --config by its file name only."""
    from test_pages_workflow import outside_references

    build = copy_build(rendered, tmp_path / "copy")
    private = tmp_path / "home" / "student"
    private.mkdir(parents=True)
    (private / "report.toml").write_text("", encoding="utf-8")
    result = run_nnlab(["report", "--profile", "quick", "--lang", "en", "--format", "html",
                        "--config", str(private / "report.toml")], data_dir, build)  # fmt: skip
    assert result.returncode == 0, result.stderr
    site = build / "site"
    assert sorted(p.name for p in site.iterdir()) == [".nojekyll", "assets", "en", "index.html"]
    assert outside_references(site) == []
    assert not list(build.glob("report.*.pdf"))
    html = (site / "en" / "index.html").read_text(encoding="utf-8")
    assert str(private) not in html
    # the command is the build's record, not the report's, and names no private path either
    record = json.loads((build / "provenance.json").read_text(encoding="utf-8"))
    assert record["command"] == "nnlab report --profile quick --config report.toml"


def test_freeze_without_samples_changes_nothing(quick_build, data_dir, tmp_path):
    build = copy_build(quick_build, tmp_path / "copy")
    shutil.rmtree(build / "samples")
    results = tmp_path / "project" / "results"
    (results / "full").mkdir(parents=True)
    (results / "full" / "run.json").write_text("a run frozen before", encoding="utf-8")
    result = run_nnlab(["freeze", "--profile", "quick", "--to", str(results)], data_dir, build)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"nnlab: error: no current data samples in {build / 'samples'}; render the report "
        "first (nnlab report --profile quick), then freeze"
    ]
    assert {str(p.relative_to(results)): b"" if p.is_dir() else p.read_bytes()
            for p in results.rglob("*")} == {
        "full": b"", "full/run.json": b"a run frozen before"}  # fmt: skip
    assert sorted(p.name for p in results.parent.iterdir()) == ["results"]


def test_an_empty_build_folder_setting_is_one_line(tmp_path):
    """NNLAB_BUILD_DIR="" would make the current folder the build folder: refused, and the
    user's own files there are left alone."""
    (tmp_path / ".x.tmp").write_text("the user's", encoding="utf-8")
    env = {**nnlab_env(tmp_path / "data", tmp_path), "NNLAB_BUILD_DIR": ""}
    result = subprocess.run(
        [sys.executable, "-m", "nnlab", "report", "--profile", "quick"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "nnlab: error: NNLAB_BUILD_DIR is set but empty; name a folder, or unset it for ./build"
    ]
    assert [p.name for p in tmp_path.iterdir()] == [".x.tmp"]
    assert (tmp_path / ".x.tmp").read_text(encoding="utf-8") == "the user's"


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
    before = digests(build)
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
    assert digests(build) == before  # nothing half-written, nothing lost, the old site whole
    assert leftovers(build) == []


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
