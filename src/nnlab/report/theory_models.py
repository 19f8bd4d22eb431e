"""The experiments of the chapters on fitting and on recurrent cells: training-set size,
capacity against scikit-learn baselines, and the gradient per time step. Every number comes
from the runs (experiments/lessons.py), every phrase from the edition's catalog."""

from __future__ import annotations

import math

import numpy as np

from nnlab.config import TRAIN_EVALUATION_CAP
from nnlab.experiments import figures as charts
from nnlab.experiments import lessons
from nnlab.experiments.design import CELLS, UPDATES
from nnlab.report import context as ctx
from nnlab.report import findings
from nnlab.report.assets import FigureStore
from nnlab.report.exhibit import Exhibit, inputs, listed, spread, two_ways
from nnlab.runfiles import GRADIENTS

# A fitted-set accuracy this far below the smallest set's: the larger set was not memorised.
UNMEMORISED = 0.01


def data_size(t, store: FigureStore, trials: dict[str, list], profile: str) -> Exhibit:
    rows = lessons.data_sizes(trials)
    small, large = rows[0], rows[-1]
    sentences = [
        t(
            "exp:size:gap",
            small=t.num(small["size"]),
            large=t.num(large["size"]),
            train_small=t.pct(small["train_accuracy"], 1),
            val_small=t.pct(small["val_accuracy"], 1),
            gap_small=t.num(100 * small["gap"], 1),
            gap_large=t.num(100 * large["gap"], 1),
            n_val=t.num(small["n_val"]),
        )
    ]
    gaps = [row["gap"] for row in rows]
    if lessons.shrinking(gaps):
        sentences.append(t("exp:size:shrank"))
    else:
        grew = [rows[i + 1]["size"] for i in range(len(rows) - 1) if gaps[i + 1] >= gaps[i]]
        sentences.append(t("exp:size:not-shrinking", sizes=", ".join(t.num(s) for s in grew)))
    # a gap can also narrow because the fitted images' own accuracy falls (not memorised)
    least = min(rows[1:], key=lambda row: row["train_accuracy"])
    if least["train_accuracy"] < small["train_accuracy"] - UNMEMORISED:
        sentences.append(
            t(
                "exp:size:undertrained",
                small=t.num(small["size"]),
                large=t.num(least["size"]),
                small_train=t.pct(small["train_accuracy"], 1),
                large_train=t.pct(least["train_accuracy"], 1),
            )
        )
    table = {
        "header": [
            t("exp:size:col-size"),
            t("exp:size:col-epochs"),
            t("exp:size:col-updates"),
            t("exp:size:col-train"),
            t("exp:size:col-val"),
            t("exp:size:col-gap"),
            t("exp:size:col-test"),
        ],
        "rows": [
            [
                t.num(r["size"]),
                t.num(r["epochs"]),
                t.num(r["updates"]),
                t.pct(r["train_accuracy"], 1),
                t.pct(r["val_accuracy"], 1),
                t.num(100 * r["gap"], 1),
                t.pct(r["test_accuracy"], 1),
            ]
            for r in rows
        ],
    }
    figures = two_ways(
        store, "data-size", inputs(trials), lambda stacked: charts.data_sizes(rows, t, stacked)
    )
    values = {
        "updates": UPDATES[profile],
        "n_val": small["n_val"],
        "cap": TRAIN_EVALUATION_CAP,
        "sizes": listed(t, [t.num(row["size"]) for row in rows]),
    }
    return Exhibit("data-size", figures, sentences, table, values)


# Capacity rows, from the smallest network to the largest (by parameters), then the boosted
# trees, with the colour of their bar.
CAPACITY_ORDER = (
    ("linear", "#9e9e9e"),
    ("linear-regression", "#bdbdbd"),
    ("lab-cnn", "#1f77b4"),
    ("wide-cnn", "#17becf"),
    ("lab-rnn", "#d62728"),
    ("gradient-boosting", "#8c564b"),
)


def capacity(t, store: FigureStore, trials: dict[str, list], boston: ctx.Lab) -> Exhibit:
    found = {row["name"]: row for row in lessons.capacity(trials, boston.repeats)}
    rows = [
        {**found[name], "color": color, "label": t(f"exp:capacity:{name}")}
        for name, color in CAPACITY_ORDER
        if name in found
    ]
    mean = {row["name"]: row["score"]["mean"] for row in rows}
    linear_epochs = np.mean([run.record["epochs_run"] for run in found["linear"]["runs"]])
    sentences = [
        t(
            "exp:capacity:linear-undertrained"
            if mean["linear"] > 1.5 * mean["linear-regression"]
            else "exp:capacity:linear-capacity",
            net=t.num(mean["linear"], 2),
            exact=t.num(mean["linear-regression"], 2),
            epochs=t.num(linear_epochs, 0),
            diagnosis=_verdict(t, found["linear"], boston),
        )
    ]
    wide, lab = found["wide-cnn"], found.get("lab-cnn")
    if lab is not None:
        exact = mean["linear-regression"]
        sentences.append(
            t(
                "exp:capacity:lstsq-" + _placed(exact, lab["score"]),
                exact=t.num(exact, 2),
                lab=t.num(mean["lab-cnn"], 2),
                low=t.num(lab["score"]["low"], 2),
                high=t.num(lab["score"]["high"], 2),
            )
        )
        # The comparison rests on the wide CNN's seeds that trained; a failed seed says how
        # it was cut short, not what the extra capacity does.
        causes = {run.record["seed"]: ctx.failure_of(boston, run) for run in wide["runs"]}
        failed = {seed: cause for seed, cause in causes.items() if cause}
        if failed:
            sentences.append(t("exp:capacity:wide-failed", failed=len(failed), count=len(causes),
                               what=t(f"failure:{next(iter(failed.values()))}")))  # fmt: skip
        trained = {seed: v for seed, v in wide["by_seed"].items() if seed not in failed}
        shared = sorted(set(trained) & set(lab["by_seed"]))
        worse = sum(trained[seed] > lab["by_seed"][seed] for seed in shared)
        lab_mean = float(np.mean([lab["by_seed"][seed] for seed in shared])) if shared else 0
        # paired by seed, as the early-stopping comparison: a claim holds with every seed
        key = "exp:capacity:wide-" + (
            "one" if len(shared) == 1
            else "worse" if worse == len(shared) else "better" if worse == 0 else "overlap"
        )  # fmt: skip
        sentences += [
            t(
                key,
                lab=t.num(lab_mean, 2),
                wide=t.num(float(np.mean([trained[seed] for seed in shared])), 2),
                lab_params=t.num(lab["params"]),
                wide_params=t.num(wide["params"]),
                worse=t.num(worse),
                count=t.num(len(shared)),
            )
        ] if shared else []  # fmt: skip
    networks = [row for row in rows if row["name"] in ("lab-cnn", "lab-rnn", "wide-cnn")]
    best = min(networks, key=lambda row: row["score"]["mean"])
    boost = mean["gradient-boosting"]
    boost_seconds = trials["gradient-boosting"][0].record["fit_seconds"]
    sentences.append(
        t(
            "exp:capacity:boosting-" + _placed(boost, best["score"]),
            boost=t.num(boost, 2),
            best=best["label"],
            best_score=t.num(best["score"]["mean"], 2),
            seconds=t.num(boost_seconds, 1),
        )
    )
    table = {
        "header": [
            t("exp:capacity:col-model"),
            t("exp:capacity:col-params"),
            t("exp:capacity:col-mae"),
            t("exp:capacity:col-seeds"),
            t("exp:capacity:col-fit"),
        ],
        "rows": [
            [
                row["label"],
                t.num(row["params"]) if row["params"] else "—",
                spread(t, row["score"]),
                t.num(row["seeds"]),
                _verdict(t, row, boston),
            ]
            for row in rows
        ],
        "align": ["text", "num", "num", "num", "text"],
        "name": "capacity",  # short headers that must not wrap (print.css, screen.css)
    }
    drawn_from = [inputs(trials), inputs(boston.repeats)]
    figures = two_ways(
        store, "capacity", drawn_from, lambda narrow: charts.capacity(rows, t, narrow)
    )
    return Exhibit("capacity", figures, sentences, table)


def _placed(value: float, scores: dict) -> str:
    """Where one deterministic error lies against a network's errors over its seeds."""
    if value < scores["low"]:
        return "better"
    return "worse" if value > scores["high"] else "within"


def _verdict(t, row: dict, boston: ctx.Lab) -> str:
    """How the seeds' fitting diagnoses split (the lab's rule), for a network trained by
    epochs; one seed: its diagnosis."""
    runs = [run for run in row["runs"] if run.history]
    if not runs:
        return "—"  # a scikit-learn baseline: no epochs
    if len(runs) == 1:
        return t("verdict-name:" + findings.fitting(runs[0], boston)["verdict"])
    return findings.verdict_counts(t, runs, boston)


def gradients(t, store: FigureStore, trials: dict[str, list]) -> Exhibit:
    norms = {}
    for runs in trials.values():
        with np.load(runs[0].folder / GRADIENTS) as saved:
            cell = next(k for k, _ in runs[0].spec["layers"] if k in CELLS)
            norms[cell] = saved["norms"]
            reviews = len(saved["reviews"])
    decay = {cell: lessons.gradient_decay(values) for cell, values in norms.items()}
    sentences = []
    for cell, found in decay.items():
        after, share = found["vanished_after"], found["first_share"]
        key = "exp:grad:kept" if after is None else "exp:grad:vanished"
        sentences.append(
            t(
                key if share > 0 else "exp:grad:vanished-zero",
                cell=cell,
                after=t.num(after or 0),
                share=t.sci(share),
                limit=t.pct(lessons.VANISHED, 0),
            )
        )
    # fastest to vanish first: the smallest share left at the first word, then the fewest steps
    order = sorted(
        decay, key=lambda c: (decay[c]["first_share"], decay[c]["vanished_after"] or math.inf)
    )
    gated = order[0] == "SimpleRNN"
    sentences.append(
        t("exp:grad:gates" if gated else "exp:grad:no-gates", worst=order[0], best=order[-1])
    )
    figures = two_ways(
        store, "gradients", inputs(trials), lambda narrow: charts.gradients(norms, t, narrow)
    )
    layers = next(iter(trials.values()))[0].spec["layers"]
    recurrent = [args["units"] for kind, args in layers if kind in CELLS]
    values = {
        "note": None if gated else "exp:grad:no-gates-note",
        "reviews": reviews,
        "steps": next(iter(decay.values()))["steps"],
        "layers": len(recurrent),
        "units": recurrent[0],
    }
    return Exhibit("gradients", figures, sentences, None, values)
