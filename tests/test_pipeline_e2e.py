"""End to end in the quick profile: six runs, caching, selective retraining, kill -9 recovery."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, nnlab_env, run_nnlab

from nnlab import runs
from nnlab.fsutil import sha256_file
from nnlab.models import MODEL_NAMES
from nnlab.results import read_run

pytestmark = pytest.mark.slow


def run_folder(build: Path, name: str) -> Path:
    return build / "runs" / "quick" / name / "seed-42"


def metrics_of(folder: Path) -> dict:
    """The test metrics the report shows, computed from the run's saved predictions."""
    return read_run(folder, folder.parent.name, runs.read_record(folder)).metrics


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def test_six_runs_with_every_artifact(quick_build):
    for name in MODEL_NAMES:
        folder = run_folder(quick_build, name)
        record = runs.read_record(folder)  # also verifies every file's checksum
        assert record["status"] == "done"
        assert {"model.keras", "history.csv", "predictions.npz", "run.json"} <= {
            p.name for p in folder.iterdir()
        }
        for key in ("fit_seconds", "predict_seconds", "epochs_run", "params", "seed", "machine"):
            assert key in record
        machine = record["machine"]  # where it was trained, for the report's appendix
        assert machine["versions"]["keras"] and machine["cores"] >= 1 and machine["cpu"]
        assert set(machine["simd"]) <= {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16",
                                        "amx_tile"}  # fmt: skip
        assert record["data_source"]["sha256"] == record["inputs"]["data_sha256"]
        with np.load(folder / "predictions.npz", allow_pickle=False) as npz:
            assert len(npz["y_true"]) == len(npz["outputs"]) == record["n_test"]
    boston = run_folder(quick_build, "boston-rnn")
    priced = json.loads((boston / "handmade.json").read_text())  # priced after training
    assert len(priced["prices_k"]) == 2 and priced["model_sha256"] == sha256_file(
        boston / "model.keras"
    )
    assert read_run(boston, "boston-rnn", runs.read_record(boston)).handmade_k == priced["prices_k"]
    assert set(metrics_of(run_folder(quick_build, "mnist-cnn"))) >= {
        "accuracy", "f1_macro", "log_loss", "confusion_matrix", "label_rmse",
    }  # fmt: skip
    vocabulary = (run_folder(quick_build, "imdb-rnn") / "vocabulary.txt").read_text().split("\n")
    assert len(vocabulary) > 1000 and vocabulary[0] == "the"  # every training word, by rank


def test_runs_json_lists_all_six_done(quick_build, data_dir):
    result = run_nnlab(["runs", "--profile", "quick", "--json"], data_dir, quick_build)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == list(MODEL_NAMES)
    assert all(row["status"] == "done" for row in rows), rows
    assert all(row["fit_seconds"] > 0 and row["epochs_run"] == 1 for row in rows)


def test_second_train_trains_nothing(quick_build, data_dir):
    before = {name: folder_digest(run_folder(quick_build, name)) for name in MODEL_NAMES}
    result = run_nnlab(["train", "--profile", "quick", "--quiet"], data_dir, quick_build)
    assert result.returncode == 0, result.stderr
    assert "0 trained, 6/6 runs done" in result.stdout
    after = {name: folder_digest(run_folder(quick_build, name)) for name in MODEL_NAMES}
    assert before == after


def test_changed_config_retrains_only_that_run(tmp_path, data_dir):
    build = tmp_path / "build"
    args = ["train", "--profile", "quick", "--quiet", "--dataset", "boston"]
    assert run_nnlab(args, data_dir, build).returncode == 0
    untouched = folder_digest(run_folder(build, "boston-rnn"))
    config = tmp_path / "report.toml"
    config.write_text("[training.boston-cnn]\nepochs = 2\n", encoding="utf-8")
    result = run_nnlab([*args, "--config", str(config)], data_dir, build)
    assert result.returncode == 0, result.stderr
    assert "1 trained" in result.stdout
    assert runs.read_record(run_folder(build, "boston-cnn"))["epochs_run"] == 2
    assert folder_digest(run_folder(build, "boston-rnn")) == untouched


def test_same_seed_same_metrics(tmp_path, data_dir, quick_build):
    build = tmp_path / "again"
    args = ["train", "--profile", "quick", "--quiet", "--dataset", "boston", "--model", "cnn"]
    assert run_nnlab(args, data_dir, build).returncode == 0
    again = metrics_of(run_folder(build, "boston-cnn"))
    first = metrics_of(run_folder(quick_build, "boston-cnn"))
    assert again == pytest.approx(first, rel=1e-6)


def test_killed_run_is_redone_and_finished_runs_kept(tmp_path, data_dir):
    build = tmp_path / "build"
    base = ["train", "--profile", "quick", "--quiet", "--dataset", "boston"]
    assert run_nnlab([*base, "--model", "cnn"], data_dir, build).returncode == 0
    finished = folder_digest(run_folder(build, "boston-cnn"))

    process = subprocess.Popen(
        [sys.executable, "-m", "nnlab", *base],
        cwd=REPO, env=nnlab_env(data_dir, build), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in process.stderr:  # wait until boston-rnn's training has started
        if "training boston-rnn" in line:
            break
    time.sleep(3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    killed = run_folder(build, "boston-rnn")
    assert not (killed / runs.RECORD).exists(), "a killed run must not look finished"
    status = run_nnlab(["runs", "--profile", "quick", "--json", "--dataset", "boston"], data_dir,
                       build)  # fmt: skip
    states = {row["name"]: row["status"] for row in json.loads(status.stdout)}
    assert states == {"boston-cnn": "done", "boston-rnn": "missing"}

    result = run_nnlab(base, data_dir, build)
    assert result.returncode == 0, result.stderr
    assert "1 trained, 2/2 runs done" in result.stdout
    assert folder_digest(run_folder(build, "boston-cnn")) == finished
    assert not list((build / "runs" / "quick" / "boston-rnn").glob(".*partial*"))


def test_altered_artifact_is_detected_and_redone(tmp_path, data_dir):
    build = tmp_path / "build"
    args = ["train", "--profile", "quick", "--quiet", "--dataset", "boston", "--model", "cnn"]
    assert run_nnlab(args, data_dir, build).returncode == 0
    history = run_folder(build, "boston-cnn") / "history.csv"
    history.write_text(history.read_text() + "99,0,0,0,0,0\n")
    status = run_nnlab(["runs", "--profile", "quick", "--dataset", "boston", "--model", "cnn"],
                       data_dir, build)  # fmt: skip
    assert "missing" in status.stdout and "altered" in status.stdout
    assert "1 trained" in run_nnlab(args, data_dir, build).stdout
    runs.read_record(run_folder(build, "boston-cnn"))  # valid again


def test_nan_loss_marks_run_failed(tmp_path, data_dir):
    build = tmp_path / "build"
    config = tmp_path / "report.toml"
    config.write_text("[training.boston-cnn]\nlearning_rate = 1e30\n", encoding="utf-8")
    args = ["train", "--profile", "quick", "--quiet", "--dataset", "boston", "--model", "cnn",
            "--config", str(config)]  # fmt: skip
    result = run_nnlab(args, data_dir, build)
    assert result.returncode == 0, result.stderr
    record = runs.read_record(run_folder(build, "boston-cnn"))
    assert record["status"] == "failed"
    assert "NaN" in record["reason"]


def test_second_build_refused_while_locked(tmp_path, data_dir):
    from nnlab.lock import build_lock

    build = tmp_path / "build"
    with build_lock(build):
        result = run_nnlab(["train", "--profile", "quick", "--dataset", "boston"], data_dir, build)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("nnlab: error: another nnlab process")


def test_mixed_precision_runs_sit_beside_float32(tmp_path, data_dir):
    build = tmp_path / "build"
    base = ["train", "--profile", "quick", "--quiet", "--dataset", "boston", "--model", "cnn"]
    assert run_nnlab(base, data_dir, build).returncode == 0
    float32 = folder_digest(run_folder(build, "boston-cnn"))
    result = run_nnlab([*base, "--precision", "mixed_bfloat16"], data_dir, build)
    assert result.returncode == 0, result.stderr
    reduced = runs.read_record(build / "runs" / "quick" / "boston-cnn" / "seed-42-mixed_bfloat16")
    assert reduced["inputs"]["settings"]["precision"] == "mixed_bfloat16"
    assert np.isfinite(
        metrics_of(build / "runs" / "quick" / "boston-cnn" / "seed-42-mixed_bfloat16")["mae"]
    )
    assert folder_digest(run_folder(build, "boston-cnn")) == float32
