"""End to end in the quick profile: six runs, caching, selective retraining, kill -9 recovery."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, TRAIN_BOSTON_CNN, copy_build, nnlab_env, run_nnlab

from nnlab import config, pipeline, runs
from nnlab.experiments import design
from nnlab.fsutil import sha256_file
from nnlab.models import MODEL_NAMES
from nnlab.results import read_run

pytestmark = pytest.mark.slow
# The quick profile's seeds per model (report.toml sets none): 42 and 43.
SEEDS = {name: config.seeds_for(name.split("-")[0], 42, None, "quick") for name in MODEL_NAMES}


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
        assert record["data_source"]["sha256"] == record["inputs"]["files"]["data"]
        with np.load(folder / "predictions.npz", allow_pickle=False) as npz:
            assert len(npz["y_true"]) == len(npz["outputs"]) == record["n_test"]
    boston = run_folder(quick_build, "boston-rnn")
    priced = json.loads((boston / "handmade.json").read_text())  # priced after training
    assert len(priced["prices_k"]) == 2
    assert priced["inputs"]["files"]["model"] == sha256_file(boston / "model.keras")
    assert read_run(boston, "boston-rnn", runs.read_record(boston)).handmade_k == priced["prices_k"]
    assert set(metrics_of(run_folder(quick_build, "mnist-cnn"))) >= {
        "accuracy", "f1_macro", "log_loss", "confusion_matrix", "label_rmse",
    }  # fmt: skip
    vocabulary = (run_folder(quick_build, "imdb-rnn") / "vocabulary.txt").read_text().split("\n")
    assert len(vocabulary) > 1000 and vocabulary[0] == "the"  # every training word, by rank


def test_runs_json_lists_every_seed_done(quick_build, data_dir):
    result = run_nnlab(["runs", "--profile", "quick", "--json"], data_dir, quick_build)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    trials = [row for row in rows if row["experiment"]]
    assert {row["experiment"] for row in trials} == set(design.EXPERIMENTS)
    assert all(row["status"] == "done" for row in trials), trials
    rows = [row for row in rows if not row["experiment"]]
    assert [row["name"] for row in rows] == [n for n in MODEL_NAMES for _ in SEEDS[n]]
    assert [Path(row["folder"]).name for row in rows] == [f"seed-{s}" for n in MODEL_NAMES
                                                           for s in SEEDS[n]]  # fmt: skip
    assert len(SEEDS["boston-rnn"]) == len(SEEDS["imdb-rnn"]) == 2  # the quick profile's
    assert all(row["status"] == "done" and row["source"] == "build" for row in rows), rows
    assert all(row["fit_seconds"] > 0 and row["epochs_run"] == 1 for row in rows)


def test_two_seeds_of_a_model_never_share_a_folder(quick_build):
    for name in MODEL_NAMES:
        seeds = [runs.read_record(quick_build / "runs" / "quick" / name / f"seed-{seed}")["seed"]
                 for seed in SEEDS[name]]  # fmt: skip
        assert seeds == SEEDS[name]
        outputs = [
            np.load(quick_build / "runs" / "quick" / name / f"seed-{seed}" / "predictions.npz")[
                "outputs"
            ]
            for seed in SEEDS[name]
        ]
        assert not np.array_equal(outputs[0], outputs[1])  # other seeds, other models


def test_second_train_trains_nothing(quick_build, data_dir):
    before = {name: folder_digest(run_folder(quick_build, name)) for name in MODEL_NAMES}
    result = run_nnlab(["train", "--profile", "quick", "--quiet"], data_dir, quick_build)
    assert result.returncode == 0, result.stderr
    runs_planned = sum(len(seeds) for seeds in SEEDS.values())
    assert f"0 trained, {runs_planned}/{runs_planned} runs done" in result.stdout
    after = {name: folder_digest(run_folder(quick_build, name)) for name in MODEL_NAMES}
    assert before == after


def test_changed_config_retrains_only_that_run(quick_build, tmp_path, data_dir):
    build = copy_build(quick_build, tmp_path / "build")
    args = ["train", "--profile", "quick", "--quiet", "--seeds", "1", "--dataset", "boston"]
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
    args = TRAIN_BOSTON_CNN
    assert run_nnlab(args, data_dir, build).returncode == 0
    again = metrics_of(run_folder(build, "boston-cnn"))
    first = metrics_of(run_folder(quick_build, "boston-cnn"))
    assert again == pytest.approx(first, rel=1e-6)


def test_a_worker_killed_mid_run_leaves_no_partial_run(quick_build, tmp_path, data_dir):
    """Two workers, two seeds: SIGKILL one worker while it trains. The build stops with one
    line, nothing half-written looks finished, and the next build trains only what is missing."""
    build = copy_build(quick_build, tmp_path / "build")
    shutil.rmtree(build / "runs" / "quick" / "boston-rnn")  # both seeds to train, side by side
    selection = ["--profile", "quick", "--seeds", "2", "--dataset", "boston"]
    base = ["train", *selection, "--quiet", "--workers", "2"]
    finished = folder_digest(run_folder(build, "boston-cnn"))

    process = subprocess.Popen(
        [sys.executable, "-m", "nnlab", *base],
        cwd=REPO, env=nnlab_env(data_dir, build), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    model_dir = build / "runs" / "quick" / "boston-rnn"
    deadline = time.monotonic() + 120
    while not list(model_dir.glob(".seed-43.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    [partial] = model_dir.glob(".seed-43.partial-*")  # named after the worker's pid
    os.kill(int(partial.name.rsplit("-", 1)[1]), signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    assert stderr.strip().splitlines()[-1].startswith("nnlab: error: a training worker died")
    assert "Traceback" not in stderr

    assert not (model_dir / "seed-43" / runs.RECORD).exists(), "a killed run must not look done"
    status = run_nnlab(["runs", *selection, "--json"], data_dir, build)
    states = {(row["name"], Path(row["folder"]).name): row["status"]
              for row in json.loads(status.stdout)}  # fmt: skip
    assert states[("boston-cnn", "seed-42")] == "done"
    assert states[("boston-rnn", "seed-43")] == "missing"
    missing = sum(state == "missing" for state in states.values())

    result = run_nnlab(base, data_dir, build)
    assert result.returncode == 0, result.stderr
    assert f"{missing} trained, 4/4 runs done" in result.stdout
    assert folder_digest(run_folder(build, "boston-cnn")) == finished
    assert not list(build.rglob(".*partial*"))


def test_altered_artifact_is_detected_and_redone(quick_build, tmp_path, data_dir):
    build = copy_build(quick_build, tmp_path / "build")
    args = TRAIN_BOSTON_CNN
    history = run_folder(build, "boston-cnn") / "history.csv"
    history.write_text(history.read_text() + "99,0,0,0,0,0\n")
    status = run_nnlab(["runs", "--profile", "quick", "--seeds", "1", "--dataset", "boston",
                        "--model", "cnn"], data_dir, build)  # fmt: skip
    assert "missing" in status.stdout and "altered" in status.stdout
    assert "1 trained" in run_nnlab(args, data_dir, build).stdout
    runs.read_record(run_folder(build, "boston-cnn"))  # valid again


def test_second_build_refused_while_locked(tmp_path, data_dir):
    from nnlab.lock import build_lock

    build = tmp_path / "build"
    with build_lock(build):
        result = run_nnlab(
            ["train", "--profile", "quick", "--seeds", "1", "--dataset", "boston"], data_dir, build
        )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("nnlab: error: another nnlab process")


def test_mixed_precision_runs_sit_beside_float32(quick_build, tmp_path, data_dir):
    build = copy_build(quick_build, tmp_path / "build")
    base = TRAIN_BOSTON_CNN
    float32 = folder_digest(run_folder(build, "boston-cnn"))
    result = run_nnlab([*base, "--precision", "mixed_bfloat16"], data_dir, build)
    assert result.returncode == 0, result.stderr
    reduced = runs.read_record(build / "runs" / "quick" / "boston-cnn" / "seed-42-mixed_bfloat16")
    assert reduced["inputs"]["params"]["settings"]["precision"] == "mixed_bfloat16"
    assert np.isfinite(
        metrics_of(build / "runs" / "quick" / "boston-cnn" / "seed-42-mixed_bfloat16")["mae"]
    )
    assert folder_digest(run_folder(build, "boston-cnn")) == float32


def test_experiment_trials_are_cached_and_a_design_change_redoes_only_that_trial(
    quick_build, data_dir, monkeypatch
):
    from dataclasses import replace

    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    chosen = pipeline.plan_experiments(quick_build, "quick", 42, "build")
    assert {item.status.state for item in chosen.plans} == {"done"}  # trained by `train`
    assert {item.path.parents[1].name for item in chosen.plans} == {"experiments-quick"}
    original = design.trials

    def one_changed(profile):
        return [replace(t, fit_limit=t.fit_limit + 1) if t.name == "fit-64" else t
                for t in original(profile)]  # fmt: skip

    monkeypatch.setattr(design, "trials", one_changed)
    again = pipeline.plan_experiments(quick_build, "quick", 42, "build")
    redo = [item for item in again.plans if item.status.state != "done"]
    assert [item.name for item in redo] == ["fit-64"]
    assert "experiment design" in redo[0].status.reason
