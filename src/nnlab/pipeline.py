"""Train what is missing or out of date, one run at a time, keeping every finished run."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path

from nnlab import data, models, runs
from nnlab.config import TrainSettings, settings_for


@dataclass
class Plan:
    spec: models.ModelSpec
    settings: TrainSettings
    seed: int
    path: Path
    status: runs.RunStatus
    key: str
    inputs: dict


def plan(
    build: Path, profile: str, specs: list[models.ModelSpec], seeds: list[int],
    overrides: dict[str, dict] | None = None, fetch: bool = False,
) -> list[Plan]:  # fmt: skip
    """The status of every (model, seed) run; needs the datasets' checksums, not TensorFlow."""
    overrides = overrides or {}
    checksums = {}
    plans = []
    for spec in specs:
        if spec.dataset not in checksums:
            checksums[spec.dataset] = dataset_checksum(spec.dataset, fetch)
        settings = settings_for(spec.dataset, profile, overrides.get(spec.name))
        for seed in seeds:
            key, inputs = runs.run_key(spec, settings, checksums[spec.dataset], seed)
            path = runs.run_dir(build, profile, spec.name, seed, settings.precision)
            state = runs.status(path, spec.name, key)
            plans.append(Plan(spec, settings, seed, path, state, key, inputs))
    return plans


def dataset_checksum(name: str, fetch: bool) -> str:
    meta = data.cache.read_meta(name, data.cache.data_dir())
    if meta is None:
        return data.load(name, fetch=fetch).checksum
    return meta["sha256"]


def train_missing(plans: list[Plan], verbose: int = 2, echo=print) -> list[Plan]:
    """Train every plan that is not done or failed (for these inputs); return those trained."""
    from nnlab import training  # imports TensorFlow: only when something needs training

    todo = [p for p in plans if p.status.state in ("missing", "stale")]
    loaded: dict[str, data.Dataset] = {}
    started = time.perf_counter()
    for number, item in enumerate(todo, start=1):
        elapsed = time.perf_counter() - started
        echo(
            f"[{number}/{len(todo)}] training {item.spec.name} (seed {item.seed}; "
            f"{item.status.reason}) — {elapsed:.0f}s elapsed"
        )
        if item.spec.dataset not in loaded:
            loaded[item.spec.dataset] = data.load(item.spec.dataset, log=echo)
        workdir = runs.new_workdir(item.path)
        record = training.train(
            item.spec, loaded[item.spec.dataset], item.settings, item.seed, workdir,
            verbose=verbose,
        )  # fmt: skip
        record.update(
            name=item.spec.name,
            dataset=item.spec.dataset,
            kind=item.spec.kind,
            seed=item.seed,
            key=item.key,
            inputs=item.inputs,
            data_source=loaded[item.spec.dataset].meta,
            # The process's peak so far: runs go in a fixed order, so this bounds each one.
            peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        )
        runs.commit(workdir, record, item.path)
        item.status = runs.status(item.path, item.spec.name, item.key)
        if item.status.state == "failed":
            echo(f"  {item.spec.name} failed: {item.status.reason}")
    return todo
