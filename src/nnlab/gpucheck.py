"""The figures of scripts/gpu-check.sh: what a build on a GPU machine did, as one JSON.

Off the main path (as bench.py is). The script sets up `.[gpu]`, times `nnlab build` within its
budget, then runs `python -m nnlab.gpucheck`, which reads the run store (never TensorFlow):
how many of the plan's runs are done, how many trained on the GPU, each model's fit seconds,
and whether every LSTM run took cuDNN's fused kernel (`lstm_cudnn` in run.json, recorded by
the training worker: provenance.lstm_cudnn). It exits with 1 when an LSTM run on the GPU did
not take cuDNN's kernel, or when no run trained on the GPU.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nnlab import devices, provenance
from nnlab.fsutil import atomic_write_json


def figures(plans: list, gpus: list[devices.Gpu], timing: dict) -> dict:
    """The check's JSON from the plan's runs (pipeline.Plan, with their status), the GPUs
    found (devices.gpus) and the script's `timing` (budget, set-up and build seconds, the
    build's exit code)."""
    done = [item for item in plans if item.status.state == "done"]
    on_gpu = [item for item in done if (item.status.record.get("machine") or {}).get("gpu")]
    fit: dict[str, list[float]] = {}
    for item in done:
        fit.setdefault(item.name, []).append(round(item.status.record["fit_seconds"], 2))
    lstm = [item for item in done if item.status.record.get("lstm_cudnn")]
    not_cudnn = [
        {"run": f"{item.name} seed {item.seed}", **item.status.record["lstm_cudnn"]}
        for item in lstm
        if not item.status.record["lstm_cudnn"]["cudnn"]
    ]
    problems = []
    if not on_gpu:
        problems.append("no run trained on the GPU")
    if not_cudnn:
        problems.append(f"{len(not_cudnn)} LSTM run(s) did not take cuDNN's kernel")
    return {
        "machine": {
            "gpus": [{"name": gpu.name, "driver": gpu.driver} for gpu in gpus],
            "cpu": provenance.cpu_info()["model"],
            "cores": devices.cores(),
        },
        **timing,
        "complete": timing.get("build_exit") == 0,
        "runs": {"planned": len(plans), "done": len(done), "on_gpu": len(on_gpu)},
        "fit_seconds": fit,
        "lstm_cudnn": {"runs": len(lstm), "cudnn": len(lstm) - len(not_cudnn), "not": not_cudnn},
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    from nnlab.cli.request import Request, experiment_selections, selection

    parser = argparse.ArgumentParser(prog="python -m nnlab.gpucheck", description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", default="full")
    parser.add_argument("--layout", default="pool", help="pool (one GPU pool) or mixed")
    for name in ("budget", "setup", "build"):
        parser.add_argument(f"--{name}-seconds", type=float, required=True)
    parser.add_argument("--build-exit", type=int, required=True)
    args = parser.parse_args(argv)
    request = Request(profile=args.profile)
    chosen = selection(request, source="build")
    plans = chosen.plans + [
        item for found in experiment_selections(request, "build") for item in found.plans
    ]
    timing = {
        "profile": args.profile,
        "layout": args.layout,
        "budget_seconds": args.budget_seconds,
        "setup_seconds": round(args.setup_seconds, 1),
        "build_seconds": round(args.build_seconds, 1),
        "build_exit": args.build_exit,
    }
    found = figures(plans, devices.gpus(), timing)
    atomic_write_json(args.out, found)
    print(json.dumps({key: found[key] for key in ("runs", "lstm_cudnn", "problems")}))
    return 1 if found["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
