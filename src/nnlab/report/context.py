"""Everything a report edition shows, as plain values: runs, metrics, statistics, figure paths.

Templates only format what is computed here; every number comes from the saved runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from nnlab import config, diagnose, metrics, provenance, stats, verdicts
from nnlab import labs as registry
from nnlab.data import archives
from nnlab.data.boston import HANDMADE_HOUSES, NOTEBOOK_HANDMADE_PRICES_USD, PRICE_CAP
from nnlab.metric_table import METRICS, SHOWN
from nnlab.results import RunResult

LABS = registry.NAMES
KINDS = ("cnn", "rnn")
GALLERY_SIZE = 12
REVIEWS_PER_MODEL = 2  # per model, its most confident mistakes (both media)


@dataclass
class Lab:
    """One dataset's detailed run per model (its typical run: the median among the runs that
    trained), all seeds' runs, and its training targets where the data extracts hold them
    (Boston's prices: what a regressor's null loss is measured on, `null_loss`)."""

    name: str
    runs: dict[str, RunResult]
    repeats: dict[str, list[RunResult]]
    train_targets: np.ndarray | None = None

    @property
    def task(self) -> str:
        return registry.task_of(self.name)

    @property
    def complete(self) -> bool:
        return all(not run.failed and run.outputs is not None for run in self.runs.values())


def null_loss(lab: Lab, run: RunResult) -> float | None:
    """The validation loss of a model that learned nothing, which diagnose.failure measures the
    run against: ln(classes) for a classifier; for a regressor, the MSE of always predicting
    its fitted examples' mean on its validation examples (the last n_val of its training
    targets, as Keras's validation_split holds them out). None without the lab's training
    targets or a validation set."""
    if lab.task == "classification":
        return diagnose.chance_loss(len(registry.LABS[lab.name].class_names))
    if lab.train_targets is None:
        return None
    settings = config.TrainSettings(**run.settings)
    n_train = run.record.get("n_train") or len(lab.train_targets[: settings.train_limit])
    split = config.split_sizes(n_train, settings)  # for records that do not say
    n_fit, n_val = (run.record.get(key, split[key]) for key in ("n_fit", "n_val"))
    if n_val == 0:
        return None
    targets = lab.train_targets[:n_train]
    return diagnose.mean_prediction_loss(targets[:n_fit], targets[n_train - n_val :])


def failure_of(lab: Lab, run: RunResult) -> str | None:
    """Why the run failed to train (diagnose.failure, from its history alone), or None. A run
    recorded as failed stopped on a NaN/inf loss, or before any epoch (training.py)."""
    if run.failed:
        return "diverged"
    return diagnose.failure(lab.task, run.history, run.settings["epochs"], null_loss(lab, run))


def typical_run(lab: Lab, runs: list[RunResult]) -> RunResult:
    """The median run by the main metric among the runs that trained (the first run when none
    trained): what the detailed sections show, and verdicts.json's detail_seed."""
    trained = [run for run in runs if failure_of(lab, run) is None]
    if not trained:
        return runs[0]
    key = metrics.main_metric(lab.task)
    seeds = [run.record["seed"] for run in trained]
    chosen = verdicts.median_run(seeds, [run.metrics[key] for run in trained],
                                 METRICS[key].higher_is_better)  # fmt: skip
    return trained[seeds.index(chosen)]


def training_targets(samples: dict) -> dict[str, np.ndarray]:
    """Each lab's training targets held by its data extract (samples.py), by lab name."""
    return {name: np.asarray(extract["y_train"], dtype=np.float64)
            for name, extract in samples.items() if "y_train" in extract}  # fmt: skip


def build_labs(found: dict[str, list[RunResult]], train_targets: dict | None = None) -> list[Lab]:
    """Each lab's runs (`train_targets`: training_targets of the data extracts, without which a
    regressor's failure cannot be judged)."""
    labs = []
    for dataset in LABS:
        repeats = {kind: found[f"{dataset}-{kind}"] for kind in KINDS}
        lab = Lab(dataset, {}, repeats, (train_targets or {}).get(dataset))
        lab.runs.update({kind: typical_run(lab, runs) for kind, runs in repeats.items()})
        labs.append(lab)
    return labs


def comparison(lab: Lab) -> dict | None:
    """CNN vs RNN on the same test set (CNN minus RNN): CIs, paired test, verdict."""
    if not lab.complete:
        return None
    y_true = lab.runs["cnn"].y_true
    if lab.task == "classification":
        probabilities = {k: metrics.class_probabilities(lab.runs[k].outputs) for k in KINDS}
        return stats.compare_classifiers(y_true.astype(int), probabilities)
    predictions = {kind: lab.runs[kind].outputs.reshape(-1) for kind in KINDS}
    return stats.compare_regressors(y_true.astype(float), predictions)


def per_example(lab: Lab, run: RunResult) -> np.ndarray:
    """What the lab's main metric averages: 1/0 correctness, or the absolute error."""
    if lab.task == "classification":
        return (metrics.predicted_labels(run.outputs) == run.y_true.astype(int)).astype(float)
    return np.abs(run.outputs.reshape(-1).astype(float) - run.y_true.astype(float))


def scored(lab: Lab, kind: str) -> list[RunResult]:
    """The kind's runs that produced test predictions (a failed run has none)."""
    return [run for run in lab.repeats[kind] if not run.failed and run.outputs is not None]


def trained(lab: Lab, kind: str) -> list[RunResult]:
    """The kind's runs that trained: test predictions and no failure (diagnose.failure)."""
    return [run for run in scored(lab, kind) if failure_of(lab, run) is None]


def seed_table(lab: Lab) -> dict | None:
    """Each seed's main metric per model, why it failed if it did (diagnose.failure), and the
    mean ± sd of the runs that trained."""
    if not all(scored(lab, kind) for kind in KINDS):
        return None
    key = metrics.main_metric(lab.task)
    rows = {}
    for kind in KINDS:
        cells = [
            {"seed": run.record["seed"], "value": None if run.failed else run.metrics[key],
             "failure": failure_of(lab, run), "detail": run is lab.runs[kind]}
            for run in lab.repeats[kind]
        ]  # fmt: skip
        trained = [cell["value"] for cell in cells if not cell["failure"]]
        rows[kind] = {
            "cells": cells,
            **(stats.seed_summary(trained) if trained else {"mean": None, "std": None, "n": 0}),
            "failed": [cell for cell in cells if cell["failure"]],
        }
    seeds = sorted({cell["seed"] for row in rows.values() for cell in row["cells"]})
    return {"key": key, "seeds": seeds, "rows": rows}


def metric_rows(lab: Lab) -> list[dict]:
    table = []
    for key in SHOWN[lab.task]:
        spec = METRICS[key]
        values = {kind: (run.metrics or {}).get(key) for kind, run in lab.runs.items()}
        best = None
        if all(v is not None for v in values.values()) and values["cnn"] != values["rnn"]:
            pick = max if spec.higher_is_better else min
            best = pick(values, key=values.get)
        table.append(
            {"key": key, "values": values, "best": best, "digits": spec.digits,
             "percent": spec.percent, "higher_better": spec.higher_is_better}
        )  # fmt: skip
    return table


def label_error_rows(lab: Lab) -> list[dict]:
    return [
        {"key": key, "values": {k: r.metrics[key] for k, r in lab.runs.items()}}
        for key in metrics.LABEL_ERROR_KEYS
    ]


def misclassified_digits(lab: Lab) -> dict:
    """Test digits each model gets wrong (most confident first) and where the models disagree."""
    y = lab.runs["cnn"].y_true.astype(int)
    out = {}
    predictions = {}
    for kind, run in lab.runs.items():
        probabilities = metrics.class_probabilities(run.outputs)
        predicted = probabilities.argmax(axis=1)
        predictions[kind] = predicted
        wrong = np.flatnonzero(predicted != y)
        confidence = probabilities[wrong, predicted[wrong]]
        order = wrong[np.argsort(-confidence, kind="stable")][:GALLERY_SIZE]
        out[kind] = [
            {"index": int(i), "true": int(y[i]), "pred": int(predicted[i]),
             "confidence": float(probabilities[i, predicted[i]])}
            for i in order
        ]  # fmt: skip
    disagree = np.flatnonzero(predictions["cnn"] != predictions["rnn"])
    out["disagree_count"] = int(len(disagree))
    out["disagree"] = [
        {"index": int(i), "true": int(y[i]), "cnn": int(predictions["cnn"][i]),
         "rnn": int(predictions["rnn"][i])}
        for i in disagree[:GALLERY_SIZE]
    ]  # fmt: skip
    return out


def misclassified_reviews(lab: Lab) -> dict[str, list[dict]]:
    """Per model, the wrongly classified test reviews it was most sure about."""
    out = {}
    for kind, run in lab.runs.items():
        y = run.y_true.astype(int)
        p_positive = run.outputs.reshape(-1).astype(float)
        predicted = metrics.predicted_labels(run.outputs)
        wrong = np.flatnonzero(predicted != y)
        certainty = np.abs(p_positive[wrong] - metrics.THRESHOLD)
        chosen = wrong[np.argsort(-certainty, kind="stable")][:REVIEWS_PER_MODEL]
        out[kind] = [
            {"index": int(i), "true": int(y[i]), "p_positive": float(p_positive[i])} for i in chosen
        ]
    return out


def digit_indices(lab: Lab) -> list[int]:
    """The test digits the MNIST galleries show: each model's mistakes and the disagreements."""
    wrong = misclassified_digits(lab)
    return sorted(
        {i["index"] for kind in KINDS for i in wrong[kind]}
        | {i["index"] for i in wrong["disagree"]}
    )


def review_indices(lab: Lab) -> list[int]:
    return sorted(
        {item["index"] for items in misclassified_reviews(lab).values() for item in items}
    )


def largest_errors(lab: Lab, count: int = 5) -> list[dict]:
    y = lab.runs["cnn"].y_true.astype(float)
    predictions = {kind: run.outputs.reshape(-1).astype(float) for kind, run in lab.runs.items()}
    worst = np.argsort(-np.maximum(*(np.abs(p - y) for p in predictions.values())))[:count]
    return [
        {"index": int(i), "actual": float(y[i]), "capped": bool(y[i] >= PRICE_CAP),
         **{kind: float(p[i]) for kind, p in predictions.items()}}
        for i in worst
    ]  # fmt: skip


def handmade_houses(lab: Lab) -> list[dict] | None:
    """Each hand-made house with both models' prices (k$); None until they are priced for
    today's houses (nnlab train prices them)."""
    if any(run.handmade_k is None for run in lab.runs.values()):
        return None
    priced = {kind: [run.handmade_k for run in trained(lab, kind) if run.handmade_k is not None]
              for kind in KINDS}  # fmt: skip
    return [
        {"features": list(features), "notebook": NOTEBOOK_HANDMADE_PRICES_USD[i] / 1000,
         **{k: run.handmade_k[i] for k, run in lab.runs.items()},
         # over the seeds that trained: one run's price is one draw of the training's variation
         "seeds": {k: {"low": min(p[i] for p in prices), "high": max(p[i] for p in prices),
                       "n": len(prices)} for k, prices in priced.items() if prices}}
        for i, features in enumerate(HANDMADE_HOUSES)
    ]  # fmt: skip


def calibration(lab: Lab, bins: int = 10) -> dict[str, dict]:
    """Reliability data: mean confidence vs accuracy per confidence bin (top-class)."""
    out = {}
    for kind, run in lab.runs.items():
        probabilities = metrics.class_probabilities(run.outputs)
        confidence = probabilities.max(axis=1)
        correct = probabilities.argmax(axis=1) == run.y_true.astype(int)
        edges = np.linspace(0, 1, bins + 1)
        which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
        count = np.bincount(which, minlength=bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_conf = np.bincount(which, confidence, bins) / count
            accuracy = np.bincount(which, correct.astype(float), bins) / count
        ece = float(np.nansum(count / count.sum() * np.abs(mean_conf - accuracy)))
        out[kind] = {"confidence": mean_conf, "accuracy": accuracy, "count": count, "ece": ece}
    return out


def training_machines(labs: list[Lab], others: list[RunResult] = ()) -> dict:
    """Where the runs (the labs' and `others`, the experiments' trials) were trained, from
    their run.json, grouped by machine: the same seed on another CPU type, or with another
    TensorFlow thread count, gives other numbers, so the report says how many CPU types there
    were."""
    groups: dict[str, dict] = {}
    lab_runs = [run for lab in labs for runs in lab.repeats.values() for run in runs]
    for run in [*lab_runs, *others]:
        machine = run.record.get("machine")
        facts = (
            {"cores": machine["cores"], "versions": machine["versions"],
             "threads": machine.get("tensorflow_threads")}
            if machine else None
        )  # fmt: skip
        cpu_type = provenance.cpu_type(machine)
        key = json.dumps([cpu_type, facts], sort_keys=True)
        group = groups.setdefault(key, {"cpu_type": cpu_type, "machine": facts, "runs": []})
        group["runs"].append(f"{run.name} ({run.record.get('seed')})")
    types = sorted({group["cpu_type"] for group in groups.values() if group["cpu_type"]})
    versions = next((g["machine"]["versions"] for g in groups.values() if g["machine"]), {})
    # One line per CPU type, as a student names the machine: the processor without its
    # instruction-set flags, its cores, and which labs (and how many experiment runs) it trained.
    by_type: dict[str, dict] = {}
    for run in lab_runs:
        machine = run.record.get("machine")
        line = by_type.setdefault(provenance.cpu_type(machine) or "", _machine_line(machine))
        lab = run.name.split("-")[0]
        if lab not in line["labs"]:
            line["labs"].append(lab)
    for run in others:
        machine = run.record.get("machine")
        line = by_type.setdefault(provenance.cpu_type(machine) or "", _machine_line(machine))
        line["trials"] += 1
    return {"groups": list(groups.values()), "cpu_types": types, "versions": versions,
            "lines": [line for key, line in sorted(by_type.items()) if key]}  # fmt: skip


def _machine_line(machine: dict | None) -> dict:
    return {"name": provenance.cpu_label(machine) or "", "cores": (machine or {}).get("cores"),
            "labs": [], "trials": 0}  # fmt: skip


def dataset_sizes(labs: list[Lab]) -> dict[str, dict]:
    """Split arithmetic per dataset, from the runs' own sizes and settings."""
    sizes = {}
    for lab in labs:
        run = lab.runs["cnn"]
        settings = config.TrainSettings(**run.settings)
        sizes[lab.name] = {
            **config.split_sizes(run.record["n_train"], settings),
            "n_test": run.record["n_test"],
        }
    return sizes


def data_sources(labs: list[Lab]) -> dict[str, dict]:
    return {
        lab.name: {
            **lab.runs["cnn"].record.get("data_source", {}),
            "archive": archives.ARCHIVES[lab.name].label,
        }
        for lab in labs
    }


def _timing_groups(lab: Lab) -> dict[tuple, list[RunResult]]:
    """The runs that trained (a failed run's epochs say nothing of the model's cost), grouped
    by what their times depend on besides the model: the CPU type and TensorFlow's thread
    count."""
    groups: dict[tuple, list[RunResult]] = {}
    for kind in KINDS:
        for run in trained(lab, kind):
            machine = run.record.get("machine") or {}
            key = (json.dumps(provenance.cpu_type(machine)), machine.get("tensorflow_threads"))
            groups.setdefault(key, []).append(run)
    return groups


def _comparable(lab: Lab) -> dict[str, list[RunResult]] | None:
    """Per kind, the runs whose times are compared: the largest group timed alike (same CPU
    type and thread count) that holds both models; failing that, each model's largest group on
    one CPU type that both trained on, at their own thread counts (compared as a bound)."""
    groups = _timing_groups(lab)
    kinds_of = {key: {run.record["kind"] for run in runs} for key, runs in groups.items()}
    alike = [runs for key, runs in groups.items() if kinds_of[key] == set(KINDS)]
    if alike:
        group = max(alike, key=len)
        return {kind: [run for run in group if run.record["kind"] == kind] for kind in KINDS}
    for cpu in dict.fromkeys(key[0] for key in groups):
        best = {}
        for kind in KINDS:
            own = [[r for r in runs if r.record["kind"] == kind]
                   for key, runs in groups.items() if key[0] == cpu]  # fmt: skip
            best[kind] = max(own, key=len, default=[])
        if all(best.values()):
            return best
    return None


def training_cost(lab: Lab) -> dict | None:
    """Per kind, over its comparable runs: mean training time, mean epochs run, the median time
    of one epoch, the mean prediction time, and which seeds and thread count those are.
    `same_threads`: both models timed alike; otherwise the ratio is a bound, stated only where
    the slower model had at least as many threads (cost_bound)."""
    chosen = _comparable(lab)
    if not chosen:
        return None
    out: dict = {}
    for kind, runs in chosen.items():
        epoch_times = [s for run in runs for s in run.history.get("epoch_seconds", [])]
        out[kind] = {
            "params": runs[0].record["params"],
            "fit_seconds": float(np.mean([run.record["fit_seconds"] for run in runs])),
            "epochs_run": float(np.mean([run.record["epochs_run"] for run in runs])),
            "epoch_seconds": float(np.median(epoch_times)) if epoch_times else None,
            "predict_seconds": float(np.mean([run.record["predict_seconds"] for run in runs])),
            "seeds": sorted(run.record["seed"] for run in runs),
            "threads": (runs[0].record.get("machine") or {}).get("tensorflow_threads"),
        }
    out["same_threads"] = out["cnn"]["threads"] == out["rnn"]["threads"]
    return out


def slower_per_epoch(cost: dict) -> str | None:
    """The kind whose epoch took longer, when the comparison can say so: timed alike, or the
    slower one had at least as many threads (more threads would only have sped it up, so its
    ratio is a lower bound). None where the times cannot be compared."""
    seconds = {kind: cost[kind]["epoch_seconds"] for kind in KINDS}
    if None in seconds.values():
        return None
    slow = max(KINDS, key=lambda kind: seconds[kind])
    if cost["same_threads"]:
        return slow
    fast = next(kind for kind in KINDS if kind != slow)
    threads = {kind: cost[kind]["threads"] or 0 for kind in KINDS}
    return slow if threads[slow] >= threads[fast] > 0 else None
