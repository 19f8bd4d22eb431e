"""`nnlab bench`: where a build's time goes, and how far each run is from the FLOP limit.

Training and prediction times are the ones measured when the runs were trained (a benchmark
that retrained would double a 45-minute build); data loading, rendering (each figure drawn),
each LSTM run's matrix products alone (gemm.py) and, optionally, the IMDB-RNN's prediction at
two batch sizes are timed here.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import time
from pathlib import Path

from nnlab import config, data, devices, flops, gemm, provenance, runfiles, runs
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write_json
from nnlab.models import SPECS
from nnlab.runfiles import read_history


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(stages: list, name: str, action):
    started = time.perf_counter()
    result = action()
    stages.append({"stage": name, "seconds": time.perf_counter() - started,
                   "peak_rss_mb": _peak_rss_mb()})  # fmt: skip
    return result


def run_rows(states: dict, peaks: dict, timer=None) -> list[dict]:
    """One row per run (`states`: name -> RunStatus). MFU is given against each peak in
    `peaks` (measured, formula). With `timer` (seconds per matrix product), the LSTM runs also
    get the time their matrix products take alone (see gemm.py)."""
    peak = peaks["measured"]
    rows = []
    for name, spec in SPECS.items():
        state = states[name]
        record = state.record or {}
        if state.state not in ("done", "stale"):
            rows.append({"name": name, "status": state.state})
            continue
        settings = config.TrainSettings(**record["inputs"]["params"]["settings"])
        sizes = config.split_sizes(record["n_train"], settings)
        per_epoch = flops.epoch_flops(spec, record["layers"], sizes["n_fit"], sizes["n_val"])
        history = read_history(state.path / runfiles.HISTORY)
        epoch_seconds = history.get("epoch_seconds") or [
            record["fit_seconds"] / record["epochs_run"]
        ]
        # The median epoch: robust to an epoch slowed by other work on the machine.
        typical_epoch = statistics.median(epoch_seconds)
        achieved = per_epoch / typical_epoch
        predict_flops = flops.forward_flops(spec, record["layers"]) * record["n_test"]
        rows.append({
            "name": name,
            "status": "done",
            "fit_seconds": record["fit_seconds"],
            "predict_seconds": record["predict_seconds"],
            "predict_batch_size": record.get("predict_batch_size"),
            "epochs_run": record["epochs_run"],
            "epoch_seconds": epoch_seconds,
            "median_epoch_seconds": typical_epoch,
            "train_flops_per_epoch": per_epoch,
            "achieved_flops_per_s": achieved,
            "mfu": achieved / peak,
            "mfu_formula": achieved / peaks["formula"] if peaks["formula"] else None,
            "flop_bound_seconds": (per_epoch * record["epochs_run"] + predict_flops) / peak,
            "peak_rss_mb": record.get("peak_rss_mb"),
            "precision": settings.precision,
        })  # fmt: skip
        if timer and spec.kind == "rnn":
            products = gemm.epoch_products(spec, record["layers"], sizes,
                                           config.PREDICT_BATCH_SIZE, timer)  # fmt: skip
            rows[-1]["lstm_products"] = {
                **products,
                "share_of_epoch": products["seconds"] / typical_epoch,
                "fraction_of_peak": products["flops_per_s"] / peak,
            }
    return rows


def device_peaks(gpus: list, cpu: dict, measure) -> tuple[dict, dict]:
    """The device the benchmark runs on (bench.json's "device") and the peaks MFU is measured
    against: `measure()` (a large product, run by TensorFlow on its default device: the GPU
    when there is one) and a nominal figure, the CPU's formula on a CPU, the data sheet's
    fp32 peak of a known GPU (flops.GPU_FP32_PEAKS) on a GPU, else unknown (None). `gpus`:
    devices.gpus(); `cpu`: provenance.cpu_info()."""
    measured = measure()
    if gpus:
        gpu = gpus[0]
        formula = flops.gpu_peak_flops(gpu.name)
        device = {
            "kind": "gpu",
            "model": gpu.name,
            "driver": gpu.driver,
            "gpus": len(gpus),
            "cpu": cpu["model"],
            "cores": cpu["cores"],
            "peak_measured_by": "a 4096³ float32 matrix product on the GPU (TensorFlow lets "
            "Ampere and later GPUs run it in TensorFloat-32, as it does the models' products)",
            "peak_formula": "the data sheet's dense fp32 peak of this GPU"
            if formula else "unknown: this GPU is not in nnlab's table of data-sheet peaks",
        }  # fmt: skip
    else:
        formula = flops.peak_flops(cpu)
        device = {
            "kind": "cpu",
            **cpu,
            "peak_measured_by": "a 4096³ float32 matrix product on all cores",
            "peak_formula": "cores × fp32 lanes × FMA units × 2 × clock",
        }
    device["peak_flops_per_s"] = measured
    device["peak_formula_flops_per_s"] = formula
    return device, {"measured": measured, "formula": formula}


def measured_peak(size: int = 4096) -> float:
    """FLOP/s of a large float32 matrix product on this machine: the attainable peak that MFU
    is measured against (the formula's nominal clock can be beaten by boost clocks)."""
    product = gemm.Product(size, size, size)
    return product.flops / gemm.seconds_per_product(product, budget_s=1.0)


def measure_predict(folder: Path) -> dict:
    """IMDB-RNN prediction time on the test set at Keras's default batch (32) and at nnlab's."""
    from nnlab import preprocess
    from nnlab.tfload import load_keras

    keras = load_keras()

    name = "imdb-rnn"
    record = runs.read_record(folder)
    dataset = data.load(SPECS[name].dataset, fetch=False)
    x_test = preprocess.imdb_sequences(
        dataset.x_test[: record["inputs"]["params"]["settings"]["test_limit"]]
    )
    model = keras.saving.load_model(folder / runfiles.MODEL, safe_mode=True)
    model.predict(x_test[:64], verbose=0)  # warm-up: graph tracing is not prediction
    timings = {}
    for batch in (32, config.PREDICT_BATCH_SIZE):
        started = time.perf_counter()
        model.predict(x_test, batch_size=batch, verbose=0)
        timings[str(batch)] = time.perf_counter() - started
    return {"model": name, "seconds_by_batch": timings,
            "speedup": timings["32"] / timings[str(config.PREDICT_BATCH_SIZE)]}  # fmt: skip


def bench(build: Path, selection, report_config: dict, with_predict: bool, log=print) -> dict:
    """Every stage's time; `selection` (pipeline.plan, the build's runs) gives the runs."""
    from nnlab.report.make import make_report

    profile = selection.profile
    states = {item.spec.name: item.status for item in selection.plans}
    finished = {name for name, state in states.items() if state.state in ("done", "stale")}
    if not finished:  # fit and predict times come from the runs: nothing to measure without them
        raise NnlabError(f"no finished {profile} runs in {build / 'runs'}: "
                         f"train them first (nnlab train --profile {profile})")  # fmt: skip
    stages: list[dict] = []
    for name in data.DATASETS:
        _timed(stages, f"load {name}", lambda name=name: data.load(name, fetch=False, log=log))
    selection.require()
    shutil.rmtree(build / "cache" / "figures", ignore_errors=True)  # the caller holds the lock
    command = f"nnlab bench --profile {profile}"
    cold = _timed(stages, "render (cold: all figures drawn)", lambda: make_report(
        build, selection, ["vi", "en"], ["html", "pdf"], report_config, command, log))  # fmt: skip
    warm = _timed(stages, "render (warm: figures reused)", lambda: make_report(
        build, selection, ["vi", "en"], ["html", "pdf"], report_config, command, log))  # fmt: skip
    # TensorFlow from here on: the renders above fork one process per edition (render.py)
    device, peaks = device_peaks(devices.gpus(), provenance.cpu_info(), measured_peak)
    rows = _timed(
        stages,
        "LSTM matrix products timed alone",
        lambda: run_rows(states, peaks, gemm.seconds_per_product),
    )
    done = [row for row in rows if "fit_seconds" in row]
    result = {
        "profile": profile,
        "device": device,
        "runs": rows,
        "stages": stages,
        "render_cold": cold,
        "render_warm": warm,
        "training_total_seconds": sum(r["fit_seconds"] + r["predict_seconds"] for r in done),
        "flop_bound_total_seconds": sum(r["flop_bound_seconds"] for r in done),
    }
    result["ratio_to_flop_bound"] = (
        result["training_total_seconds"] / result["flop_bound_total_seconds"]
    )
    if with_predict and "imdb-rnn" not in finished:
        log("predict check skipped: imdb-rnn has no finished run")
    elif with_predict:
        folder = next(item.path for item in selection.plans if item.spec.name == "imdb-rnn")
        result["predict_batch_check"] = _timed(
            stages, "imdb-rnn predict at batch 32 and 1024", lambda: measure_predict(folder)
        )
    atomic_write_json(build / "bench.json", result)
    return result


def _share(value: float | None) -> str:
    """A fraction of a peak; above 100% it says why rather than print an impossible figure."""
    if value is None:
        return "—"
    return f"{value:.0%}" + ("*" if value > 1 else "")


def device_line(device: dict) -> str:
    measured = device["peak_flops_per_s"] / 1e9
    formula = device["peak_formula_flops_per_s"]
    if device.get("kind") == "gpu":
        nominal = f"data sheet {formula / 1e9:.0f} GFLOP/s" if formula else "data sheet unknown"
        return (
            f"device: {device['model']} (GPU, driver {device['driver']}); fp32 peak measured "
            f"{measured:.1f} GFLOP/s, {nominal}"
        )
    return (
        f"device: {device['model']} (family {device['family']}), {device['cores']} cores; fp32 "
        f"peak measured {measured:.1f} GFLOP/s, formula {(formula or 0) / 1e9:.1f} GFLOP/s"
    )


def table(result: dict) -> str:
    lines = [device_line(result["device"])]
    lines.append(
        f"{'run':<11} {'fit s':>8} {'pred s':>7} {'epochs':>6} {'s/epoch':>8} {'GFLOP/s':>8} "
        f"{'MFU':>6} {'formula':>8}"
    )
    for row in result["runs"]:
        if "fit_seconds" not in row:
            lines.append(f"{row['name']:<11} {row['status']}")
            continue
        lines.append(
            f"{row['name']:<11} {row['fit_seconds']:>8.1f} {row['predict_seconds']:>7.2f} "
            f"{row['epochs_run']:>6} {row['median_epoch_seconds']:>8.2f} "
            f"{row['achieved_flops_per_s'] / 1e9:>8.1f} {_share(row['mfu']):>6} "
            f"{_share(row['mfu_formula']):>8}"
        )
    if any((row.get(key) or 0) > 1 for row in result["runs"] for key in ("mfu", "mfu_formula")):
        lines.append(
            "* above 100%: on a GPU, TensorFlow runs float32 products in TensorFloat-32 on "
            "tensor cores, faster than the data sheet's fp32 peak; the measured peak is one "
            "large product, which small kernels can match when they stay in cache"
            if result["device"].get("kind") == "gpu"
            else "* above 100%: the formula's peak uses /proc/cpuinfo's nominal clock (boost "
            "clocks run faster) and assumes the SIMD units' full width; the measured peak is one "
            "large product, which small kernels can match when they stay in cache"
        )
    for row in result["runs"]:
        if "lstm_products" in row:
            products = row["lstm_products"]
            share = f"{_share(products['fraction_of_peak'])} of the measured peak"
            lines.append(
                f"{row['name']}: its LSTM matrix products alone take {products['seconds']:.1f}s "
                f"of a {row['median_epoch_seconds']:.1f}s epoch ({products['share_of_epoch']:.0%}),"
                f" at {products['flops_per_s'] / 1e9:.1f} GFLOP/s ({share})"
            )
    slowest = sorted(result["render_cold"]["figures"].items(), key=lambda item: -item[1])[:3]
    if slowest:
        drawn = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in slowest)
        lines.append(f"slowest figures (cold render): {drawn}")
    for stage in result["stages"]:
        lines.append(f"{stage['stage']:<40} {stage['seconds']:>7.2f}s  "
                     f"peak RSS {stage['peak_rss_mb']:.0f} MB")  # fmt: skip
    lines.append(f"training + prediction: {result['training_total_seconds']:.0f}s; "
                 f"FLOP-bound limit {result.get('flop_bound_total_seconds') or 0:.0f}s; "
                 f"ratio {result.get('ratio_to_flop_bound', float('nan')):.2f}")  # fmt: skip
    return "\n".join(lines)
