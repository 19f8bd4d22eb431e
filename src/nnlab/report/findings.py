"""What the report says in words about the runs: each statement chosen by a rule from the
measured values (diagnose.py for fitting, failures and label noise), then phrased through the
edition's catalog. Nothing here is typed in: change the runs and the sentences change.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from nnlab import diagnose
from nnlab.data import boston
from nnlab.report import context as ctx

NAMES = {"cnn": "CNN", "rnn": "RNN"}


def fitting(run, task: str) -> dict:
    """diagnose.fitting for one run, with its collapse."""
    collapse = None if run.failed else diagnose.collapse(task, run.y_true, run.outputs)
    budget = run.record["inputs"]["settings"]["epochs"]
    return diagnose.fitting(run.history, budget, collapse)


def loss_text(t, value: float) -> str:
    """A loss with three significant digits: 0.0460, 0.294, 13.1."""
    magnitude = int(np.floor(np.log10(abs(value)))) if value else 0
    return t.num(value, min(4, max(0, 2 - magnitude)))


def fitting_sentence(t, model: str, found: dict, patience) -> str:
    verdict = found["verdict"]
    if verdict == "failed":
        reason = found["failure"]
        what = t(f"collapse:{reason}") if reason != "non-finite-loss" else t("fit:non-finite")
        return t("fit:failed", model=model, what=what)
    values = {"model": model, "best": found["best_epoch"], "run": found["epochs_run"],
              "budget": found["epochs_budget"], "val": loss_text(t, found["val_loss"]["best"]),
              "train": loss_text(t, found["loss"]["last"])}  # fmt: skip
    if verdict == "overfitting":
        kept = t("fit:kept-best", best=found["best_epoch"]) if patience else t("fit:kept-last")
        rise = t.pct(found["rise_relative"], 0)
        return t("fit:overfitting", rise=rise, start=found["from_epoch"], **values) + " " + kept
    if verdict == "underfitting":
        return t("fit:underfitting", drop=t.pct(found["train_drop"], 0), **values)
    return t(f"fit:{verdict}", **values)


def verdict_counts(t, runs: list, task: str) -> str:
    """How runs' diagnoses split, in the rules' order, e.g. "good fit 2, overfitting 1"."""
    counts = Counter(fitting(run, task)["verdict"] for run in runs)
    return ", ".join(
        f"{t('verdict-name:' + v)} {counts[v]}" for v in diagnose.VERDICTS if counts[v]
    )


def fitting_counts(t, lab: ctx.Lab, kind: str) -> str | None:
    """How the seeds' diagnoses split, e.g. "over 3 seeds: good fit 2, overfitting 1"."""
    runs = [run for run in lab.repeats[kind] if run.history]
    if len(runs) < 2:
        return None
    return t("fit:seeds", model=NAMES[kind], n=len(runs), counts=verdict_counts(t, runs, lab.task))


def curves(t, lab: ctx.Lab) -> list[str]:
    """The learning curves in words: each first-seed run's diagnosis, then the seeds' split."""
    out = []
    for kind, run in lab.runs.items():
        if not run.history:
            continue
        patience = run.record["inputs"]["settings"].get("patience")
        out.append(fitting_sentence(t, NAMES[kind], fitting(run, lab.task), patience))
    for kind in ctx.KINDS:
        counts = fitting_counts(t, lab, kind)
        if counts:
            out.append(counts)
    return out


def mistakes(t, lab: ctx.Lab) -> list[str]:
    """Which classes are confused most (classifiers), or the largest errors (regression)."""
    if not lab.complete:
        return []
    if lab.task == "regression":
        worst = ctx.largest_errors(lab, count=1)[0]
        return [t("errors:largest", index=worst["index"], actual=t.num(worst["actual"], 1),
                  cnn=t.num(worst["cnn"], 1), rnn=t.num(worst["rnn"], 1))]  # fmt: skip
    out = []
    for kind, run in lab.runs.items():
        pairs = diagnose.confused_pairs(run.metrics["confusion_matrix"], top=3)
        if not pairs:
            continue
        if lab.name == "imdb":
            by = {(p["true"], p["predicted"]): p["count"] for p in pairs}
            out.append(t("errors:imdb", model=NAMES[kind], fp=t.num(by.get((0, 1), 0)),
                         fn=t.num(by.get((1, 0), 0))))  # fmt: skip
            continue
        listed = ", ".join(
            t("errors:pair", true=p["true"], pred=p["predicted"], n=t.num(p["count"]),
              share=t.pct(p["share_of_true"], 1))
            for p in pairs
        )  # fmt: skip
        out.append(t("errors:pairs", model=NAMES[kind], pairs=listed))
    return out


def outcome(lab_view) -> str:
    """'cnn' or 'rnn' when the comparison across seeds established a winner, else 'none'."""
    across = lab_view.across
    if not across or not across["established"]:
        return "none"
    return "cnn" if across["better"] == "a" else "rnn"


def metric_text(t, key: str, value: float) -> str:
    return t.pct(value) if key == "accuracy" else t.num(value, 3)


def instability(t, lab_view) -> str | None:
    """When the losing model has collapsed seeds, how much of the verdict they carry: the
    loser's normally trained runs against the winner's runs."""
    winner = outcome(lab_view)
    table = lab_view.seeds
    if winner == "none" or not table:
        return None
    loser = "rnn" if winner == "cnn" else "cnn"
    row = table["rows"][loser]
    if not row["collapsed"]:
        return None
    healthy = [c["value"] for c in row["cells"] if c["value"] is not None and not c["collapse"]]
    values = {"loser": NAMES[loser], "winner": NAMES[winner], "count": len(row["collapsed"]),
              "total": len(row["cells"])}  # fmt: skip
    if not healthy:
        return t("verdict:instability-all", **values)
    return t(
        "verdict:instability",
        healthy=metric_text(t, table["key"], float(np.mean(healthy))), runs=len(healthy),
        winner_value=metric_text(t, table["key"], table["rows"][winner]["mean"]), **values,
    )  # fmt: skip


def first_seed_collapse(t, lab_view) -> list[str]:
    """A warning for each model whose first-seed run (the one the notebook-style sections
    show) collapsed: its errors describe a model that learned nothing."""
    table = lab_view.seeds
    if not table:
        return []
    out = []
    for kind, row in table["rows"].items():
        first = row["cells"][0]
        if first["collapse"]:
            out.append(t("errors:first-collapsed", model=NAMES[kind], seed=first["seed"],
                         what=t(f"collapse:{first['collapse']}")))  # fmt: skip
    return out


def suitability(t, lab_view) -> str:
    """The introduction's question for this data set: did the model made for it win?"""
    winner = outcome(lab_view)
    return t(f"suits:{lab_view.name}:{winner}")


def cost(t, found: dict | None) -> str | None:
    """A fair cost comparison (`found`: context.training_cost): time per epoch, then whole runs
    with their epoch counts."""
    if not found or None in (found["cnn"]["epoch_seconds"], found["rnn"]["epoch_seconds"]):
        return None
    cnn, rnn = found["cnn"], found["rnn"]
    slow, fast = (rnn, cnn) if rnn["epoch_seconds"] >= cnn["epoch_seconds"] else (cnn, rnn)
    epochs = {kind: round(found[kind]["epochs_run"], 1) for kind in ctx.KINDS}
    per_epoch = t(
        "cost:per-epoch",
        cnn=t.num(cnn["epoch_seconds"], 2), rnn=t.num(rnn["epoch_seconds"], 2),
        fast="CNN" if fast is cnn else "RNN",
        ratio=t.num(slow["epoch_seconds"] / fast["epoch_seconds"], 1),
    )  # fmt: skip
    runs = {"cnn_fit": t.num(cnn["fit_seconds"], 0), "rnn_fit": t.num(rnn["fit_seconds"], 0)}
    if epochs["cnn"] == epochs["rnn"]:  # the same length: whole runs compare directly
        return per_epoch + " " + t("cost:same-epochs", epochs=t.short(epochs["cnn"]), **runs)
    return per_epoch + " " + t("cost:other-epochs", cnn_epochs=t.short(epochs["cnn"]),
                               rnn_epochs=t.short(epochs["rnn"]), **runs)  # fmt: skip


def collapses(lab_view) -> list[tuple[str, int, int]]:
    """(model, collapsed runs, runs) for each kind with at least one collapsed seed."""
    table = lab_view.seeds
    if not table:
        return []
    return [
        (f"{lab_view.name}-{kind}", len(row["collapsed"]), len(row["cells"]))
        for kind, row in table["rows"].items()
        if row["collapsed"]
    ]


def overall(t, lab_views: list, machines: dict, seeds: list[int]) -> dict:
    """The overall conclusion: the verdicts together, the home-ground answer, cost, failures
    and the limits of what was measured."""
    winners = {view.name: outcome(view) for view in lab_views}
    tally = Counter(winners.values())
    parts = [
        t(f"overall:tally-{key}", n=tally[key]) for key in ("cnn", "rnn", "none") if tally[key]
    ]
    verdicts = t("overall:tally", labs=len(lab_views), parts="; ".join(parts))
    home = [t(f"suits:{name}:{winner}") for name, winner in winners.items()]
    ratios = []
    for found in (view.cost for view in lab_views):
        if found and found["cnn"]["epoch_seconds"] and found["rnn"]["epoch_seconds"]:
            ratios.append(found["rnn"]["epoch_seconds"] / found["cnn"]["epoch_seconds"])
    cost_line = None
    if ratios:
        key = "overall:cost-cnn" if min(ratios) > 1 else "overall:cost-mixed"
        cost_line = t(key, low=t.num(min(ratios), 1), high=t.num(max(ratios), 1))
    failed = [item for view in lab_views for item in collapses(view)]
    failures = [t("overall:collapsed", model=m, count=c, total=n) for m, c, n in failed]
    if any(view.discussion["instability"] for view in lab_views):
        failures.append(t("overall:reliability"))
    test_sizes = {view.name: view.sizes["n_test"] for view in lab_views}
    limits = [
        t("limit:seeds", n=len(seeds)) if len(seeds) > 1 else t("limit:one-seed"),
        t("limit:cpu", count=len(machines["cpu_types"]))
        if len(machines["cpu_types"]) > 1
        else t("limit:cpu-one"),
        t("limit:boston", n=t.num(test_sizes.get("boston", 0))),
        t("limit:architectures"),
        t("limit:imdb-vocabulary"),
    ]
    return {"verdicts": verdicts, "home": home, "cost": cost_line, "failures": failures,
            "limits": limits}  # fmt: skip


def summary_rows(lab_views: list) -> list[dict]:
    """The summary table: per model its main metric over the seeds, and its training cost."""
    rows = []
    for view in lab_views:
        cost_found = view.cost or {}
        for kind in ctx.KINDS:
            row = (view.seeds or {}).get("rows", {}).get(kind)
            rows.append({
                "lab": view.name, "kind": kind, "key": (view.seeds or {}).get("key"),
                "mean": row["mean"] if row else None, "std": row["std"] if row else None,
                "n": row["n"] if row else 0, "collapsed": len(row["collapsed"]) if row else 0,
                "cost": cost_found.get(kind),
            })  # fmt: skip
    return rows


def noisy_label(item: dict) -> dict | None:
    """A confidently misread test review whose own words contradict its label."""
    tokens = str(item.get("text", "")).split()
    return diagnose.label_noise(tokens, int(item["true"])) if tokens else None


# The features a hand-made house is described by, in words (catalog "feature:<name>").
DESCRIBED_FEATURES = ("CRIM", "CHAS", "RM", "AGE", "DIS", "TAX", "PTRATIO", "LSTAT")


def handmade_reading(house: list[float], ranges: np.ndarray | None) -> list[str]:
    """The features of a hand-made house that lie outside the training houses' range
    (`ranges`: training_ranges): a price there is an extrapolation."""
    if ranges is None:
        return []
    low, high = ranges
    return [
        boston.FEATURES[index]
        for index, value in enumerate(house)
        if value < low[index] or value > high[index]
    ]


def training_ranges(run) -> np.ndarray | None:
    """The training features' (min, max) per column, saved with a Boston run's scaler."""
    if run.folder is None or not (run.folder / "predictions.npz").exists():
        return None
    with np.load(run.folder / "predictions.npz", allow_pickle=False) as npz:
        if "scaler_min" not in npz.files:
            return None
        return np.stack([npz["scaler_min"], npz["scaler_max"]])
