"""The split protocol's comparison (verdicts.json's protocol "kfold"): a lab's two models under
the sounder recipe, trained and tested on every fold of a repeated K-fold over all its examples
(the "kfold" experiment, experiments/design.py and folds.py), compared by Nadeau and Bengio's
corrected resampled t-test (resampled.py) on the per-split differences of the main metric,
each model's score averaged over its seeds within a split.

Every run with test predictions counts (population "all", like the other protocols' "all"
records); a run that failed is named with its cause, and a split where a model has no run with
predictions is left out of the test.
"""

from __future__ import annotations

import statistics
from dataclasses import replace

from nnlab import metrics, resampled, verdicts
from nnlab.metric_table import METRICS
from nnlab.report import context as ctx

PROTOCOL = "kfold"
EXPERIMENT = "kfold"  # experiments/design.py
SAME_RECIPE = "patience"  # the protocol with the same recipe on the lab's own test set


def split_of(run) -> dict:
    """The fold a trial was trained on, as its key records it (folds.Split.as_dict)."""
    return run.record["inputs"]["params"]["design"]["split"]


def per_split(lab: ctx.Lab, runs: list) -> list[dict]:
    """Per split, in (repeat, fold) order: its sizes, and per model its runs' mean score (None
    when no run has predictions) over the seeds that gave one."""
    grouped: dict[tuple, dict] = {}
    for run in runs:
        split = split_of(run)
        n_test = len(split["held_out"])
        row = grouped.setdefault((split["repeat"], split["fold"]), {
            "repeat": split["repeat"], "fold": split["fold"], "n_test": n_test,
            "n_train": split["districts"] - n_test, "runs": {kind: [] for kind in ctx.KINDS},
        })  # fmt: skip
        row["runs"][run.record["kind"]].append(run)
    rows = []
    for key in sorted(grouped):
        row = grouped[key]
        for kind in ctx.KINDS:
            scores = [float(ctx.per_example(lab, run).mean())
                      for run in row["runs"][kind] if run.outputs is not None]  # fmt: skip
            row[kind] = statistics.fmean(scores) if scores else None
        rows.append(row)
    return rows


def _models(lab: ctx.Lab, runs: list) -> dict:
    """Per model: its runs, their seeds and the failed ones (trial/seed → cause)."""
    out = {}
    # A fold's validation districts are not the lab's: without their targets the rule has no
    # predict-the-mean loss to hold a run against, and judges it by its history's loss alone.
    folds = replace(lab, train_targets=None)
    for kind in ctx.KINDS:
        mine = [run for run in runs if run.record["kind"] == kind]
        causes = {f"{run.name}/seed-{run.record['seed']}": ctx.failure_of(folds, run)
                  for run in mine}  # fmt: skip
        out[kind] = {
            "runs": len(mine),
            "seeds": sorted({run.record["seed"] for run in mine}),
            "failed": {name: cause for name, cause in causes.items() if cause},
        }
    return out


def comparison(lab: ctx.Lab, experiments: dict | None, same_recipe: dict | None) -> dict | None:
    """The split protocol's record for `lab`, or None when the experiment is not done (or has
    fewer than two complete splits for this lab). `same_recipe`: the comparison of the same
    recipe on the lab's own test set (protocol SAME_RECIPE, every run), which `resolves` is
    judged against: whether this record establishes a difference that one did not (None when
    it is missing)."""
    trials = (experiments or {}).get(EXPERIMENT, {})
    runs = [run for found in trials.values() for run in found if run.record["dataset"] == lab.name]
    rows = [row for row in per_split(lab, runs) if None not in (row["cnn"], row["rnn"])]
    if len(rows) < 2:
        return None
    metric = metrics.main_metric(lab.task)
    higher = METRICS[metric].higher_is_better
    found = resampled.corrected_resampled_t(
        [row["cnn"] - row["rnn"] for row in rows],
        statistics.fmean(row["n_train"] for row in rows),
        statistics.fmean(row["n_test"] for row in rows),
        verdicts.ALPHA,
    )
    difference = found["difference"]
    ahead = "cnn" if (difference > 0) == higher else "rnn"
    established = found["p_value"] < verdicts.ALPHA and difference != 0
    first = split_of(runs[0])
    return {
        "dataset": lab.name, "protocol": PROTOCOL, "population": "all", "metric": metric,
        "higher_is_better": higher,
        "design": {"folds": first["folds"], "repeats": first["repeats"],
                   "districts": first["districts"], "split_seed": first["seed"],
                   "seeds_per_split": max(len(row["runs"][k]) for row in rows for k in ctx.KINDS),
                   "patience": runs[0].settings.get("patience")},
        "per_split": [{"repeat": row["repeat"], "fold": row["fold"], "n_train": row["n_train"],
                       "n_test": row["n_test"], "cnn": row["cnn"], "rnn": row["rnn"],
                       "difference": row["cnn"] - row["rnn"]} for row in rows],
        "models": _models(lab, runs),
        **found,
        "outcome": "established" if established else "none",
        "winner": ahead if established else None,
        "direction": ahead if established else None,
        "resolves": None if same_recipe is None
        else established and same_recipe["outcome"] != "established",
    }  # fmt: skip
