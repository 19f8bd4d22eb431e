"""FLOP counting by hand, and `nnlab bench` in the quick profile writing valid JSON."""

from __future__ import annotations

import json

import pytest
from conftest import copy_build, run_nnlab

from nnlab import bench, flops, gemm
from nnlab.models import SPECS, ModelSpec


def test_forward_flops_by_hand():
    spec = ModelSpec("toy", "boston", "rnn", (13, 1), (
        ("Conv1D", {"filters": 4, "kernel_size": 2}), ("LSTM", {"units": 3}),
        ("Dense", {"units": 2}),
    ), "mse", ())  # fmt: skip
    layers = [{"output_shape": [None, 12, 4]}, {"output_shape": [None, 3]},
              {"output_shape": [None, 2]}]  # fmt: skip
    conv = 2 * 2 * 1 * 4 * 12  # taps × in channels × filters × positions
    lstm = 12 * 2 * 4 * 3 * (4 + 3)  # steps × 4 gates × units × (input + units)
    dense = 2 * 3 * 2
    assert flops.forward_flops(spec, layers) == conv + lstm + dense
    assert flops.epoch_flops(spec, layers, 10, 2) == 3 * 10 * (conv + lstm + dense) + 2 * (
        conv + lstm + dense
    )


def test_mnist_cnn_forward_flops():
    layers = [{"output_shape": shape} for shape in (
        [None, 26, 26, 32], [None, 13, 13, 32], [None, 11, 11, 64], [None, 5, 5, 64],
        [None, 3, 3, 64], [None, 576], [None, 64], [None, 10])]  # fmt: skip
    expected = 2 * (9 * 1 * 32 * 26 * 26 + 9 * 32 * 64 * 11 * 11 + 9 * 64 * 64 * 3 * 3
                    + 576 * 64 + 64 * 10)  # fmt: skip
    assert flops.forward_flops(SPECS["mnist-cnn"], layers) == expected


def test_peak_flops_formula():
    cpu = {"cores": 2, "fp32_lanes": 8, "fma_units": 2, "clock_ghz": 2.5}
    assert flops.peak_flops(cpu) == 2 * 8 * 2 * 2 * 2.5e9
    assert flops.peak_flops({**cpu, "clock_ghz": None}) is None


def test_lstm_step_products_by_hand():
    spec = ModelSpec("toy", "boston", "rnn", (13, 1), (
        ("LSTM", {"units": 3, "return_sequences": True}), ("LSTM", {"units": 2}),
    ), "mse", ())  # fmt: skip
    layers = [{"output_shape": [None, 13, 3]}, {"output_shape": [None, 2]}]
    products = gemm.step_products(spec, layers, batch=5)
    assert products == [
        # first layer: input width 1, 12 gate columns, 13 steps
        ("forward", 13, gemm.Product(5, 1, 12)),
        ("backward", 13, gemm.Product(5, 12, 1, transpose_b=True)),
        ("backward", 13, gemm.Product(1, 5, 12, transpose_a=True)),
        ("forward", 13, gemm.Product(5, 3, 12)),
        ("backward", 13, gemm.Product(5, 12, 3, transpose_b=True)),
        ("backward", 13, gemm.Product(3, 5, 12, transpose_a=True)),
        # second layer reads the first one's 3 outputs and has 8 gate columns
        ("forward", 13, gemm.Product(5, 3, 8)),
        ("backward", 13, gemm.Product(5, 8, 3, transpose_b=True)),
        ("backward", 13, gemm.Product(3, 5, 8, transpose_a=True)),
        ("forward", 13, gemm.Product(5, 2, 8)),
        ("backward", 13, gemm.Product(5, 8, 2, transpose_b=True)),
        ("backward", 13, gemm.Product(2, 5, 8, transpose_a=True)),
    ]
    # The forward products are the batch's LSTM forward FLOPs as forward_flops counts them.
    forward = sum(steps * p.flops for kind, steps, p in products if kind == "forward")
    assert forward == 5 * flops.forward_flops(spec, layers)


def test_epoch_products_counts_fit_and_validation_batches():
    spec = ModelSpec("toy", "boston", "rnn", (4, 2), (("LSTM", {"units": 1}),), "mse", ())
    layers = [{"output_shape": [None, 1]}]
    timed = []

    def timer(product):  # one microsecond per FLOP, and a record of what was timed
        timed.append(product)
        return product.flops * 1e-6

    sizes = {"n_fit": 20, "n_val": 4, "batch_size": 10}
    result = gemm.epoch_products(spec, layers, sizes, validation_batch=8, timer=timer)
    fit = 2 * 4 * sum(p.flops for p in (
        gemm.Product(10, 2, 4), gemm.Product(10, 4, 2, False, True), gemm.Product(2, 10, 4, True),
        gemm.Product(10, 1, 4), gemm.Product(10, 4, 1, False, True), gemm.Product(1, 10, 4, True),
    ))  # 2 fit batches × 4 steps  # fmt: skip
    validation = 0.5 * 4 * (gemm.Product(8, 2, 4).flops + gemm.Product(8, 1, 4).flops)
    assert result["flops"] == pytest.approx(fit + validation)
    assert result["seconds"] == pytest.approx((fit + validation) * 1e-6)
    assert result["shapes_timed"] == len(timed) == len(set(timed)) == 8


def test_run_rows_by_hand(tmp_path, monkeypatch):
    """One row worked out by hand. A Dense layer of 2 units on 3 inputs costs 2 × 3 × 2 = 12
    FLOPs per sample forward; 10 training samples with validation_split 0.2 fit on 8 and
    validate on 2, so an epoch costs 3 × 12 × 8 + 12 × 2 = 312 FLOPs. Epochs of 1, 9 and 2 s
    have a median of 2 s (their mean, 4 s, would count the slowed epoch): 156 FLOP/s."""
    from nnlab.config import TrainSettings
    from nnlab.runs import RunStatus

    spec = ModelSpec("toy", "boston", "cnn", (3,), (("Dense", {"units": 2}),), "mse", ())
    monkeypatch.setattr(bench, "SPECS", {"timed": spec, "untimed": spec, "missing": spec})
    settings = TrainSettings(epochs=3, batch_size=4, validation_split=0.2, patience=None)
    inputs = {"params": {"settings": settings.as_dict()}}  # run.json's settings
    record = {"inputs": inputs, "n_train": 10, "n_test": 2, "layers": [{"output_shape": [None, 2]}],
              "fit_seconds": 12.0, "predict_seconds": 0.5, "epochs_run": 3}  # fmt: skip
    states = {}
    for name, history in (("timed", "epoch,loss,epoch_seconds\n0,1,1\n1,1,9\n2,1,2\n"),
                          ("untimed", "epoch,loss\n0,1\n1,1\n2,1\n")):  # fmt: skip
        (tmp_path / name).mkdir()
        (tmp_path / name / "history.csv").write_text(history)
        states[name] = RunStatus(name, "done", "", tmp_path / name, record)
    states["missing"] = RunStatus("missing", "missing", "not trained", tmp_path / "none", None)
    timed, untimed, missing = bench.run_rows(states, {"measured": 480.0, "formula": 1560.0})
    assert timed["train_flops_per_epoch"] == 312
    assert timed["median_epoch_seconds"] == 2.0
    assert timed["achieved_flops_per_s"] == pytest.approx(156.0)
    assert timed["mfu"] == pytest.approx(0.325)  # 156 / 480
    assert timed["mfu_formula"] == pytest.approx(0.1)  # 156 / 1560
    # 3 epochs of 312 FLOPs and 2 test predictions of 12, at 480 FLOP/s: 960 / 480 = 2 s
    assert timed["flop_bound_seconds"] == pytest.approx(2.0)
    # no epoch times in the history: 12 s of fitting over 3 epochs, 4 s an epoch
    assert untimed["median_epoch_seconds"] == 4.0
    assert untimed["mfu"] == pytest.approx(78.0 / 480)
    assert missing == {"name": "missing", "status": "missing"}


@pytest.mark.slow
def test_bench_writes_json(quick_build, data_dir, tmp_path):
    build = copy_build(quick_build, tmp_path / "build")  # bench re-renders: its own copy
    result = run_nnlab(["bench", "--profile", "quick"], data_dir, build)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (quick_build / "bench.json").exists()
    bench = json.loads((build / "bench.json").read_text())
    assert bench["device"]["cores"] >= 1
    assert bench["device"]["peak_flops_per_s"] > 1e9  # measured by a large matrix product
    assert [row["name"] for row in bench["runs"]] == list(SPECS)
    for row in bench["runs"]:
        assert row["status"] == "done" and row["train_flops_per_epoch"] > 0
        assert row["achieved_flops_per_s"] > 0
        assert row["mfu"] > 0  # its arithmetic: test_run_rows_by_hand
        if SPECS[row["name"]].kind == "rnn":  # its matrix products, timed on this machine
            products = row["lstm_products"]
            assert products["flops_per_s"] > 0 and products["shapes_timed"] >= 3
            assert products["seconds"] > 0
        else:
            assert "lstm_products" not in row
    # Every figure is drawn (and timed) in the cold render, and reused in the warm one.
    drawn = bench["render_cold"]["figures"]
    assert {"vi/mnist-curves", "en/mnist-curves", "en/boston-diagnostics"} <= set(drawn)
    assert all(seconds > 0 for seconds in drawn.values())
    assert bench["render_warm"]["figures"] == {}
    assert bench["render_warm"]["stages"]["pdf-en"] > 0
    check = bench["predict_batch_check"]  # the IMDB-RNN predicting at batch 32 and at 1024
    assert set(check["seconds_by_batch"]) == {"32", "1024"}
    assert all(seconds > 0 for seconds in check["seconds_by_batch"].values())
    stages = [stage["stage"] for stage in bench["stages"]]
    assert "load imdb" in stages and any(s.startswith("render (warm") for s in stages)
    assert all(stage["peak_rss_mb"] > 0 for stage in bench["stages"])


@pytest.mark.slow
def test_warm_report_imports_no_tensorflow(data_dir, rendered, tmp_path):
    """Rendering from saved runs never loads TensorFlow (it would cost seconds)."""
    import subprocess
    import sys

    from conftest import REPO, nnlab_env

    code = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; "
            "sys.argv = ['nnlab', 'build', '--profile', 'quick', '--format', 'html']; "
            "from nnlab.cli import main; main()")  # fmt: skip
    build = copy_build(rendered, tmp_path / "build")  # `build` re-renders: its own copy
    env = nnlab_env(data_dir, build)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "0 run(s) trained" in result.stderr


def test_table_explains_a_share_above_the_peak():
    row = {"name": "imdb-rnn", "status": "done", "fit_seconds": 10.0, "predict_seconds": 1.0,
           "epochs_run": 1, "median_epoch_seconds": 10.0, "achieved_flops_per_s": 380e9,
           "mfu": 0.79, "mfu_formula": 1.14}  # fmt: skip
    result = {
        "device": {"model": "AMD EPYC", "family": 26, "cores": 2, "peak_flops_per_s": 481e9,
                   "peak_formula_flops_per_s": 332e9},
        "runs": [row], "stages": [], "render_cold": {"figures": {}},
        "training_total_seconds": 11.0, "flop_bound_total_seconds": 5.0, "ratio_to_flop_bound": 2.2,
    }  # fmt: skip
    text = bench.table(result)
    assert "measured 481.0 GFLOP/s, formula 332.0 GFLOP/s" in text
    assert "79%" in text and "114%*" in text
    assert "* above 100%: the formula's peak uses /proc/cpuinfo's nominal clock" in text
    row["mfu_formula"] = 0.9
    assert "above 100%" not in bench.table(result)
