"""Every CNN-against-RNN comparison a report states, as plain values (verdicts.py decides):
per lab, per training protocol, per population of runs. `build/verdicts.json` is these
records, and the report's sentences are phrased from the same records.

Protocols: "notebook" is the lab's own settings. Where a sounder protocol exists it is
compared the same way: on Boston, early stopping with a patience of 25 (the protocol
experiment's trials); on IMDB, the restart rule a practitioner applies (a run still at chance
on validation after its first epoch is restarted), applied to the lab's runs from their
validation history only. The split protocol ("kfold", split_protocol.py) varies the split
as well: the same recipe as "patience" on a repeated K-fold over all of Boston's districts.

Populations: "trained" (the runs that trained: the accuracy a model reaches when it trains)
decides; "all" (every run with test predictions: what one training run gives you) is a
description. Failed runs, crashed or not, are counted the same way in both: named with their
cause, left out of "trained", and counted by the reliability comparison. Each record says
whether it is the one that decides (`decides`) and which training recipe its runs used.

A tested record also carries its planning figures and rerun agreement (seedplan.py); the
deciding records of the labs are then adjusted together for multiplicity (Holm).
"""

from __future__ import annotations

import numpy as np

from nnlab import diagnose, metrics, seedplan, verdicts
from nnlab import labs as registry
from nnlab.experiments import design
from nnlab.metric_table import METRICS
from nnlab.report import context as ctx
from nnlab.report import split_protocol

PROTOCOLS = ("notebook", "patience", "restart")
POPULATIONS = ("trained", "all")
# The comparison that answers a lab's question; the others describe.
DECIDING = ("notebook", "trained")
# The training settings a record names as its recipe (the runs' own run.json values).
RECIPE = ("epochs", "patience", "batch_size", "validation_split", "learning_rate")


def _restarted(lab: ctx.Lab, run) -> bool:
    """The restart rule, from the run's validation history alone (never the test set)."""
    classes = len(registry.LABS[lab.name].class_names)
    return diagnose.at_chance_after_first_epoch(run.history, classes)


def protocol_runs(lab: ctx.Lab, experiments: dict | None) -> dict[str, dict[str, list]]:
    """{protocol: {kind: runs}} for the protocols this lab is compared under."""
    out = {"notebook": lab.repeats}
    trials = (experiments or {}).get("protocol", {})
    names = {kind: design.protocol_trial_name(f"{lab.name}-{kind}") for kind in ctx.KINDS}
    if all(name in trials for name in names.values()):
        out["patience"] = {kind: trials[name] for kind, name in names.items()}
    if lab.task == "classification":
        kept = {
            kind: [run for run in runs if not _restarted(lab, run)]
            for kind, runs in lab.repeats.items()
        }
        if kept != lab.repeats and all(kept.values()):
            out["restart"] = kept
    return out


def _model(lab: ctx.Lab, runs: list, population: str, higher: bool) -> dict:
    failed = {run.record["seed"]: ctx.failure_of(lab, run) for run in runs}
    failed = {seed: cause for seed, cause in failed.items() if cause}
    chosen = [
        run
        for run in runs
        if run.outputs is not None and (population == "all" or run.record["seed"] not in failed)
    ]
    seeds = [run.record["seed"] for run in chosen]
    scores = [float(ctx.per_example(lab, run).mean()) for run in chosen]
    trained = [(s, v) for s, v in zip(seeds, scores, strict=True) if s not in failed]
    detail = verdicts.median_run([s for s, _ in trained], [v for _, v in trained], higher)
    return {"seeds": seeds, "scores": scores, "failed": failed, "runs": len(runs),
            "detail_seed": detail, "chosen": chosen}  # fmt: skip


def _recipe(runs: dict[str, list]) -> dict:
    """The settings the runs were trained with, per model when the models differ."""
    found = {kind: {key: runs[kind][0].settings.get(key) for key in RECIPE} for kind in ctx.KINDS
             if runs[kind]}  # fmt: skip
    values = list(found.values())
    return values[0] if all(v == values[0] for v in values) else found


def compare(
    lab: ctx.Lab, protocol: str, runs: dict[str, list], population: str,
    equivalence_share: float = verdicts.EQUIVALENCE_SHARE,
) -> dict | None:  # fmt: skip
    """One comparison record (the shape README documents for verdicts.json), or None when a
    model has no run in the population."""
    metric = metrics.main_metric(lab.task)
    higher = METRICS[metric].higher_is_better
    models = {kind: _model(lab, runs[kind], population, higher) for kind in ctx.KINDS}
    if not all(models[kind]["chosen"] for kind in ctx.KINDS):
        return None
    values = {kind: [ctx.per_example(lab, run) for run in models[kind]["chosen"]]
              for kind in ctx.KINDS}  # fmt: skip
    found = verdicts.difference_test(values, higher, equivalence_share)
    record = {
        "dataset": lab.name, "protocol": protocol, "population": population,
        "decides": (protocol, population) == DECIDING, "recipe": _recipe(runs),
        "metric": metric, "higher_is_better": higher,
        "models": {kind: {key: value for key, value in models[kind].items() if key != "chosen"}
                   for kind in ctx.KINDS},
        **found, "planning": None, "rerun": None, "holm_p": None,
    }  # fmt: skip
    if record["components"] is not None:
        record["planning"] = seedplan.planning(record)
        record["rerun"] = seedplan.rerun_agreement(record, registry.LABS[lab.name].plan.seeds)
    if population == "all":
        record["reliability"] = verdicts.reliability(
            {kind: len(models[kind]["failed"]) for kind in ctx.KINDS},
            {kind: models[kind]["runs"] for kind in ctx.KINDS},
        )
    return record


def lab_comparisons(
    lab: ctx.Lab, experiments: dict | None, equivalence_share: float = verdicts.EQUIVALENCE_SHARE
) -> list[dict]:
    """Every comparison of one lab, protocol by protocol, the deciding record first; the split
    protocol's (split_protocol.py) last."""
    out = []
    for protocol, runs in protocol_runs(lab, experiments).items():
        for population in POPULATIONS:
            record = compare(lab, protocol, runs, population, equivalence_share)
            if record is not None:
                out.append(record)
    same_recipe = find(out, split_protocol.SAME_RECIPE, "all")
    resampled = split_protocol.comparison(lab, experiments, same_recipe)
    return out + ([resampled] if resampled else [])


def adjust(records: dict[str, list[dict]]) -> dict:
    """Holm over the labs whose deciding record has a test: sets each one's `holm_p`, and
    returns verdicts.json's "multiplicity" entry."""
    deciding = {lab: find(found) for lab, found in records.items()}
    tested = {lab: r["p_value"] for lab, r in deciding.items() if r and r["p_value"] is not None}
    adjusted = verdicts.holm(tested)
    for lab, p_value in adjusted.items():
        deciding[lab]["holm_p"] = p_value
    return {"method": verdicts.MULTIPLICITY_METHOD, "alpha": verdicts.ALPHA,
            "labs": list(adjusted), "holm_p": adjusted}  # fmt: skip


def seed_plan(lab: ctx.Lab, trained: int, default: int) -> dict:
    """The lab's seed plan (seedplan.plan_summary), costed at each model's median recorded
    training time per run."""
    times = {
        kind: [run.record["fit_seconds"] for run in runs if run.record.get("fit_seconds")]
        for kind, runs in lab.repeats.items()
    }
    per_seed = sum(float(np.median(t)) for t in times.values()) if all(times.values()) else None
    return seedplan.plan_summary(registry.LABS[lab.name], trained, default, per_seed)


def find(records: list[dict], protocol: str = DECIDING[0], population: str = DECIDING[1]):
    return next(
        (r for r in records if r["protocol"] == protocol and r["population"] == population), None
    )


def pending(selections: list) -> list[dict]:
    """The runs not finished yet (verdicts.json's "pending")."""
    return [
        {"run": item.name, "seed": item.seed, "state": item.status.state}
        for selection in selections
        for item in selection.plans
        if item.status.state in ("missing", "stale")
    ]


def as_json(records: list[dict], waiting: list[dict], extra: dict | None = None) -> dict:
    """verdicts.json: seeds as strings (JSON keys), floats as they are; `extra`: the per-lab
    seed plans and the multiplicity entry."""

    def plain(value):
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    return {"comparisons": plain(records), **plain(extra or {}), "pending": waiting}
