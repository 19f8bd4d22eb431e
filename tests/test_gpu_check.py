"""scripts/gpu-check.sh and its figures (gpucheck.py), without a GPU: faked devices, faked run
records (as test_devices.py fakes the GPUs), and a fake nvidia-smi and nnlab for the script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from nnlab import devices, gpucheck, models, pipeline, provenance, runs

SMI = "0, NVIDIA H200, 550.54.15, GPU-5c1d2f3a-0000-1111-2222-333344445555\n"
H200 = devices.parse(SMI)
TIMING = {"budget_seconds": 570, "setup_seconds": 80.0, "build_seconds": 400.0, "build_exit": 0}


def fake_run(item, gpu: bool, cudnn_ok: bool = True) -> None:
    """A sealed run for `item` as a GPU (or CPU) worker records it."""
    workdir = runs.new_workdir(item.path)
    (workdir / "history.csv").write_text("epoch,loss\n0,1.0\n", encoding="utf-8")
    spec = item.spec
    if not cudnn_ok:
        spec = models.ModelSpec(**{**spec.__dict__, "layers": tuple(
            (kind, {**kw, "recurrent_dropout": 0.2}) if kind == "LSTM" else (kind, kw)
            for kind, kw in spec.layers
        )})  # fmt: skip
    gpu_record = provenance.gpu_record(H200[0], {"cuda_version": "12.5", "cudnn_version": "9"})
    record = {
        "status": "done", "name": item.name, "seed": item.seed, "inputs": item.inputs,
        "fit_seconds": 12.345, "machine": provenance.machine(gpu_record if gpu else None),
    }  # fmt: skip
    cudnn = provenance.lstm_cudnn(spec, on_gpu=gpu)
    if cudnn is not None:
        record["lstm_cudnn"] = cudnn
    runs.commit(workdir, record, item.path)


@pytest.fixture
def plans(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    specs = [models.SPECS["boston-cnn"], models.SPECS["boston-rnn"]]
    return lambda: pipeline.plan(tmp_path / "build", "quick", specs, [42, 43]).plans


def test_the_figures_count_gpu_runs_and_check_cudnn(plans):
    cnn42, cnn43, lstm42, lstm43 = plans()
    fake_run(cnn42, gpu=True)
    fake_run(lstm42, gpu=True)
    fake_run(lstm43, gpu=False)  # a CPU worker's LSTM: no cuDNN, and no GPU to blame
    found = gpucheck.figures(plans(), H200, TIMING)
    assert found["runs"] == {"planned": 4, "done": 3, "on_gpu": 2}
    assert found["fit_seconds"] == {"boston-cnn": [12.35], "boston-rnn": [12.35, 12.35]}
    assert found["machine"]["gpus"] == [{"name": "NVIDIA H200", "driver": "550.54.15"}]
    assert found["complete"] and found["build_seconds"] == 400.0
    assert found["lstm_cudnn"]["runs"] == 2 and found["lstm_cudnn"]["cudnn"] == 1
    assert found["lstm_cudnn"]["not"][0]["run"] == "boston-rnn seed 43"
    assert found["problems"] == ["1 LSTM run(s) did not take cuDNN's kernel"]


def test_an_lstm_that_breaks_cudnns_conditions_is_named(plans):
    _, _, lstm42, _ = plans()
    fake_run(lstm42, gpu=True, cudnn_ok=False)
    found = gpucheck.figures(plans(), H200, {**TIMING, "build_exit": 124})
    assert not found["complete"]  # the budget stopped the build
    assert found["lstm_cudnn"]["not"][0]["broken_conditions"] == ["recurrent_dropout"]
    assert found["problems"] == ["1 LSTM run(s) did not take cuDNN's kernel"]


def test_no_run_on_the_gpu_is_a_problem(plans):
    assert gpucheck.figures(plans(), H200, TIMING)["problems"] == ["no run trained on the GPU"]


def test_the_command_writes_the_json_and_passes_when_all_is_well(
    plans, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("NNLAB_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setattr(devices, "gpus", lambda: H200)
    for item in plans():
        fake_run(item, gpu=True)
    out = tmp_path / "gpu-check.json"
    args = ["--out", str(out), "--profile", "quick", "--budget-seconds", "570",
            "--setup-seconds", "80", "--build-seconds", "400", "--build-exit", "0"]  # fmt: skip
    assert gpucheck.main(args) == 0
    found = json.loads(out.read_text(encoding="utf-8"))
    # the quick plan: six lab models on two seeds, and the experiments' trials (none trained)
    assert found["runs"]["done"] == found["runs"]["on_gpu"] == 4
    assert found["runs"]["planned"] > 12
    assert found["lstm_cudnn"] == {"runs": 2, "cudnn": 2, "not": []}
    assert found["problems"] == [] and found["layout"] == "pool"
    assert json.loads(capsys.readouterr().out)["problems"] == []


def fake_tools(tmp_path: Path, smi_works: bool) -> dict:
    """A PATH with a fake nvidia-smi, and a venv whose python is this one and whose nnlab
    trains nothing and would take a minute (so the budget stops it)."""
    bin_dir, venv = tmp_path / "bin", tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    answer = "GPU 0: NVIDIA H200 (UUID: GPU-5c1d)" if smi_works else ""
    smi.write_text(f"#!/bin/sh\necho '{answer}'\nexit {0 if smi_works else 9}\n")
    nnlab = venv / "bin" / "nnlab"
    nnlab.write_text('#!/bin/sh\necho "nnlab $*" >&2\nexec sleep 60\n')
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for tool in (smi, nnlab, python):
        tool.chmod(0o755)
    return {
        **os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GPU_CHECK_VENV": str(venv),
        "GPU_CHECK_SYSTEM_DEPS": "0", "GPU_CHECK_PROFILE": "quick",
        "NNLAB_BUILD_DIR": str(tmp_path / "build"), "GPU_CHECK_OUT": str(tmp_path / "out.json"),
        "PYTHONPATH": str(REPO / "src"),
    }  # fmt: skip


def test_the_script_says_there_is_no_gpu_in_one_line(tmp_path):
    env = fake_tools(tmp_path, smi_works=False)
    result = subprocess.run(["bash", "scripts/gpu-check.sh"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gpu-check: no NVIDIA GPU here (nvidia-smi found none); nothing to check"
    ]


@pytest.mark.slow
def test_the_script_stops_the_build_at_its_budget_and_still_writes_the_figures(tmp_path, data_dir):
    env = {**fake_tools(tmp_path, smi_works=True), "GPU_CHECK_SECONDS": "26",
           "NNLAB_DATA_DIR": str(data_dir), "NNLAB_OFFLINE": "1"}  # fmt: skip
    result = subprocess.run(["bash", "scripts/gpu-check.sh"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=180)  # fmt: skip
    assert result.returncode == 1, result.stderr  # nothing trained: no run on the GPU
    assert "nnlab build --profile quick --quiet --yes" in result.stderr
    assert "the build reached the budget" in result.stderr
    found = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert found["build_exit"] == 124 and not found["complete"]
    assert found["build_seconds"] < 26 and found["budget_seconds"] == 26
    assert found["runs"]["done"] == 0 and found["problems"] == ["no run trained on the GPU"]
