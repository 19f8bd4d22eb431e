"""GPUs, faked: finding them without TensorFlow, one worker per GPU, memory growth, what a GPU
run records, and the benchmark's peak from the device it ran on. No GPU is needed."""

from __future__ import annotations

import queue
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from nnlab import bench, devices, estimate, flops, models, parallel, pipeline, provenance, tfload

SMI = """\
0, NVIDIA H200, 550.54.15, GPU-5c1d2f3a-0000-1111-2222-333344445555
1, NVIDIA H200, 550.54.15, GPU-9e8d7c6b-aaaa-bbbb-cccc-ddddeeeeffff
"""
H200 = devices.parse(SMI)


def test_nvidia_smi_lines_become_gpus():
    assert [gpu.index for gpu in H200] == [0, 1]
    assert H200[0] == devices.Gpu(
        0, "NVIDIA H200", "550.54.15", "GPU-5c1d2f3a-0000-1111-2222-333344445555"
    )
    assert devices.parse("No devices were found\n") == []
    assert H200[1].visible_id.startswith("GPU-9e8d")


@pytest.mark.parametrize(("setting", "indices"), [
    (None, [0, 1]), ("", []), ("-1", []), ("1", [1]), ("1,0", [1, 0]), ("0,7,1", [0]),
    ("GPU-9e8d", [1]), ("nonsense", []),
])  # fmt: skip
def test_cuda_visible_devices_chooses_as_cuda_does(setting, indices):
    assert [gpu.index for gpu in devices.visible(H200, setting)] == indices


def test_gpus_come_from_nvidia_smi_only_with_a_gpu_tensorflow(monkeypatch):
    monkeypatch.setattr(devices, "_nvidia_smi", lambda: SMI)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(devices, "tensorflow_can_use_gpus", lambda: True)
    assert devices.gpus() == H200
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert devices.gpus() == H200[1:]
    assert devices.default_workers() == 1  # one worker per GPU, whatever the cores
    monkeypatch.setattr(devices, "tensorflow_can_use_gpus", lambda: False)  # tensorflow-cpu
    assert devices.gpus() == []
    assert devices.default_workers() == devices.cores()
    monkeypatch.setattr(devices, "tensorflow_can_use_gpus", lambda: True)
    monkeypatch.setattr(devices, "_nvidia_smi", lambda: None)  # no driver
    assert devices.gpus() == []


@pytest.fixture
def plans(data_dir, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    chosen = pipeline.plan(Path("/nonexistent"), "full", list(models.SPECS.values()), [42, 43])
    return {(item.spec.name, item.seed): item for item in chosen.plans}


def test_on_gpus_one_pool_trains_every_run_a_worker_per_gpu(plans):
    layout = parallel.Layout(2, 16, tuple(H200))
    assert layout.lanes == {"gpu": (2, 8)}
    heavy, light = plans["imdb-rnn", 42], plans["mnist-cnn", 42]
    assert layout.lane_of(heavy) == layout.lane_of(light) == "gpu"
    # no core to hold for the IMDB LSTM: it goes first when it costs most, beside the others
    assert parallel.next_job([heavy, light], [plans["imdb-rnn", 43]], layout.gpus) is heavy
    assert parallel.next_job([heavy, light], [plans["imdb-rnn", 43]]) is None  # a CPU's wait
    # the estimate follows the one pool: two side by side, nothing after them
    todo = list(plans.values())
    chosen, planned = parallel.plan_estimate(todo, 2, gpus=H200)
    assert chosen.lanes == {"gpu": (2, max(1, devices.cores() // 2))}
    low, high = planned.left(todo, [])
    costs = [planned.cost(item)[1] for item in todo]
    start = [estimate.WORKER_START_SECONDS] * 2
    assert high == pytest.approx(estimate.makespan(start, costs, 2))
    assert parallel.plan_estimate(todo, 8, gpus=H200)[0].workers == 8  # --workers overrides
    cpu = parallel.Layout(2, 2)
    assert cpu.lanes == {"shared": (2, 1), "all-cores": (1, 2)}
    assert parallel.Layout(1, 2).lanes == {"all-cores": (1, 2)}


def test_the_banner_names_the_gpus(plans):
    todo = list(plans.values())
    line = parallel._banner(parallel.Layout(2, 16, tuple(H200)), todo)
    assert line == ("training 12 run(s) on 2 GPU(s) (NVIDIA H200) with 2 worker process(es), "
                    "one per GPU, 8 TensorFlow thread(s) each")  # fmt: skip
    assert parallel._banner(parallel.Layout(2, 2), todo).endswith("then imdb-rnn alone on 2")
    light = [item for item in todo if item.spec.name != "imdb-rnn"]
    assert "alone" not in parallel._banner(parallel.Layout(2, 2), light)


def test_each_starting_worker_takes_the_next_gpu():
    slots = queue.Queue()
    for slot in range(3):
        slots.put(slot)
    taken = [parallel.pick_gpu(slots, tuple(H200)) for _ in range(3)]
    assert [gpu.index for gpu in taken] == [0, 1, 0]  # round the GPUs when workers outnumber them
    assert parallel.pick_gpu(None, tuple(H200)) is None
    assert parallel.pick_gpu(slots, ()) is None


def test_the_cli_default_is_one_worker_per_gpu(tmp_path, data_dir, monkeypatch):
    from nnlab.cli.request import Request
    from nnlab.cli.training import train

    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NNLAB_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setattr(devices, "gpus", lambda: H200)
    asked = []
    monkeypatch.setattr(pipeline, "train_missing", lambda s, workers, **kw: asked.append(workers))
    monkeypatch.setattr(pipeline, "measure_missing", lambda *a, **kw: None)
    request = Request(dataset="boston", kind="cnn", profile="quick", seed_count=1)
    train(request, None, quiet=True)
    assert asked == [2]


class FakeConfig:
    """What tfload.set_memory_growth uses of tf.config."""

    def __init__(self, gpus, initialised=False):
        self.gpus, self.initialised, self.calls = gpus, initialised, []
        self.experimental = SimpleNamespace(set_memory_growth=self._grow)

    def list_physical_devices(self, kind):
        assert kind == "GPU"
        return self.gpus

    def _grow(self, device, enable):
        if self.initialised:
            raise RuntimeError("Physical devices cannot be modified after being initialized")
        self.calls.append((device, enable))


def test_memory_growth_is_set_for_every_gpu():
    config = FakeConfig(["/physical_device:GPU:0", "/physical_device:GPU:1"])
    assert tfload.set_memory_growth(config) == config.gpus
    assert config.calls == [("/physical_device:GPU:0", True), ("/physical_device:GPU:1", True)]
    assert tfload.set_memory_growth(FakeConfig([])) == []  # a CPU: nothing to set
    late = FakeConfig(["/physical_device:GPU:0"], initialised=True)
    assert tfload.set_memory_growth(late) == late.gpus and late.calls == []  # too late: left


def test_a_gpu_run_records_its_gpu_and_is_grouped_by_it():
    build = {"cuda_version": "12.5.1", "cudnn_version": "9", "is_cuda_build": True}
    gpu = provenance.gpu_record(H200[0], build)
    assert gpu == {"name": "NVIDIA H200", "driver": "550.54.15", "cuda": "12.5.1", "cudnn": "9"}
    machine = provenance.machine(gpu)
    assert machine["gpu"] == gpu and "cpu" in machine
    assert "gpu" not in provenance.machine()
    assert provenance.cpu_type(machine) == "NVIDIA H200 (GPU; CUDA 12.5.1, cuDNN 9)"
    assert "GPU" not in provenance.cpu_type(provenance.machine())
    assert estimate.device_of(machine) == "NVIDIA H200 (GPU)" == estimate.current_device(H200)


def test_the_lstms_meet_cudnns_conditions():
    spec = models.SPECS["imdb-rnn"]
    assert provenance.lstm_cudnn(spec, on_gpu=True) == {
        "lstm_layers": 4, "conditions_met": True, "broken_conditions": [], "gpu": True,
        "cudnn": True,
    }  # fmt: skip
    for name in ("mnist-rnn", "boston-rnn"):
        assert provenance.lstm_cudnn(models.SPECS[name], on_gpu=True)["cudnn"]
    assert provenance.lstm_cudnn(spec, on_gpu=False)["cudnn"] is False
    assert provenance.lstm_cudnn(models.SPECS["imdb-cnn"], on_gpu=True) is None
    dropped = replace(spec, layers=tuple(
        (kind, {**kw, "recurrent_dropout": 0.2}) if kind == "LSTM" else (kind, kw)
        for kind, kw in spec.layers
    ))  # fmt: skip
    found = provenance.lstm_cudnn(dropped, on_gpu=True)
    assert found["broken_conditions"] == ["recurrent_dropout"] and not found["cudnn"]


def test_bench_takes_its_peak_from_the_device():
    cpu = {"model": "AMD EPYC", "family": 26, "cores": 2, "fp32_lanes": 16, "fma_units": 2,
           "clock_ghz": 2.0, "simd": [], "avx512_bf16": False}  # fmt: skip
    device, peaks = bench.device_peaks(H200, cpu, lambda: 40e12)
    assert peaks == {"measured": 40e12, "formula": 67e12}
    assert device["kind"] == "gpu" and device["model"] == "NVIDIA H200"
    assert "data sheet" in device["peak_formula"]
    assert "NVIDIA H200 (GPU, driver 550.54.15)" in bench.device_line(device)
    assert "data sheet 67000 GFLOP/s" in bench.device_line(device)
    unknown = [devices.Gpu(0, "NVIDIA GeForce RTX 4090", "550")]
    device, peaks = bench.device_peaks(unknown, cpu, lambda: 50e12)
    assert peaks["formula"] is None and device["peak_formula"].startswith("unknown")
    assert "data sheet unknown" in bench.device_line(device)
    device, peaks = bench.device_peaks([], cpu, lambda: 200e9)
    assert peaks["formula"] == flops.peak_flops(cpu) and device["kind"] == "cpu"
    assert bench.device_line(device).startswith("device: AMD EPYC (family 26), 2 cores")


@pytest.mark.parametrize(("name", "peak"), [
    ("NVIDIA H200", 67e12), ("NVIDIA H200 NVL", 60e12), ("NVIDIA H100 80GB HBM3", 67e12),
    ("NVIDIA H100 PCIe", 51e12), ("NVIDIA A100-SXM4-80GB", 19.5e12), ("Tesla T4", 8.1e12),
    ("NVIDIA L4", 30.3e12), ("NVIDIA L40S", None), ("NVIDIA GeForce RTX 4090", None),
])  # fmt: skip
def test_known_gpus_peaks_from_their_data_sheets(name, peak):
    assert flops.gpu_peak_flops(name) == peak


@pytest.mark.parametrize(
    ("machine", "label"),
    [({"cpu": "AMD EPYC", "cpu_family": 26, "simd": ["avx2"]}, "AMD EPYC (Zen 5)"),
     ({"cpu": "AMD EPYC", "cpu_family": 25, "simd": ["avx2"]}, "AMD EPYC (Zen 3 or Zen 4)"),
     ({"cpu": "Intel(R) Xeon(R) Processor", "cpu_family": 6, "simd": ["avx512f", "amx_tile"]},
      "Intel(R) Xeon(R) Processor (AMX)"),
     ({"cpu": "AMD EPYC", "gpu": {"name": "NVIDIA H100"}}, "NVIDIA H100")],
)  # fmt: skip
def test_a_processor_is_named_as_a_reader_knows_it(machine, label):
    assert provenance.cpu_label(machine) == label
