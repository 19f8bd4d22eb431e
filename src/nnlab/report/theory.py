"""The theory chapters' experiments as the report shows them: per experiment its charts, a
table and the sentences that say what it showed, every number from its runs
(experiments/lessons.py) and every phrase from the edition's catalog.

An experiment is shown only when all its trials are done (results.load_experiments); the
validation-versus-test exhibit needs no trial of its own: it reads the lab's seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nnlab import diagnose, metrics
from nnlab.experiments import figures as charts
from nnlab.experiments import lessons
from nnlab.experiments.design import CELLS, PATIENCE, UPDATES
from nnlab.experiments.train import GRADIENTS, TRAIN_EVALUATION_CAP
from nnlab.report import context as ctx
from nnlab.report.assets import FigureStore


@dataclass
class Exhibit:
    name: str  # the experiment; its template is templates/theory/<name>.html
    figures: dict[str, str]  # chart name → URL; a two-panel chart also as "<name>-phone"
    sentences: list[str]  # what it showed, computed
    table: dict | None = None  # {"header": [...], "rows": [[...]]}, cells already formatted
    values: dict = field(default_factory=dict)  # numbers the template's fixed text names
    training_seconds: float = 0.0  # its trials' training time, summed


def _inputs(trials: dict[str, list]) -> list:
    return [[run.record.get("files") for run in runs] for runs in trials.values()]


def _two_ways(store: FigureStore, name: str, inputs, draw) -> dict[str, str]:
    return {
        name: store.get(f"theory-{name}", inputs, lambda: draw(False)),
        f"{name}-phone": store.get(f"theory-{name}-phone", inputs, lambda: draw(True)),
    }


def _seconds(trials: dict[str, list]) -> float:
    return sum(run.record.get("fit_seconds", 0.0) for runs in trials.values() for run in runs)


def _spread(t, stats: dict, digits: int = 2) -> str:
    if len(stats["values"]) < 2:
        return t.num(stats["mean"], digits)
    return f"{t.num(stats['mean'], digits)} ± {t.num(stats['sd'], digits)}"


def _listed(t, items: list[str]) -> str:
    """ "a, b and c" in the edition's language."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {t('exp:and')} {items[-1]}"


def batch_size(t, store: FigureStore, trials: dict[str, list]) -> Exhibit:
    rows = lessons.batch_sizes(trials)
    histories = {
        row["batch_size"]: [run.history for run in runs]
        for row, runs in zip(
            rows,
            sorted(trials.values(), key=lambda r: r[0].record["inputs"]["settings"]["batch_size"]),
            strict=True,
        )
    }
    small, large = rows[0], rows[-1]
    ratio = small["epoch_seconds"] / large["epoch_seconds"]
    steps_ratio = small["steps"] / large["steps"]
    sentences = [
        t(
            "exp:batch:time" if ratio < steps_ratio / 2 else "exp:batch:time-steps",
            small=t.num(small["batch_size"]),
            large=t.num(large["batch_size"]),
            ratio=t.num(ratio, 1),
            small_s=t.num(small["epoch_seconds"], 2),
            large_s=t.num(large["epoch_seconds"], 2),
            small_steps=t.num(small["steps"]),
            large_steps=t.num(large["steps"]),
            steps_ratio=t.num(steps_ratio, 0),
        )
    ]
    ranked = sorted(rows, key=lambda row: row["final_val"]["mean"])
    best, runner_up, worst = ranked[0], ranked[1], ranked[-1]
    clear = not lessons.overlap(best["final_val"], runner_up["final_val"])
    sentences.append(
        t(
            "exp:batch:loss-clear" if clear else "exp:batch:loss-overlap",
            epochs=t.num(best["epochs"]),
            best=t.num(best["batch_size"]),
            best_loss=t.num(best["final_val"]["mean"], 1),
            worst=t.num(worst["batch_size"]),
            worst_loss=t.num(worst["final_val"]["mean"], 1),
            second=t.num(runner_up["batch_size"]),
            seeds=t.num(best["seeds"]),
        )
    )
    if large["batch_size"] >= large["n_fit"] and worst is large:
        sentences.append(
            t(
                "exp:batch:full-batch",
                size=t.num(large["batch_size"]),
                n_fit=t.num(large["n_fit"]),
                updates=t.num(large["updates"]),
                most=t.num(small["updates"]),
                smallest=t.num(small["batch_size"]),
            )
        )
    table = {
        "header": [
            t("exp:batch:col-size"),
            t("exp:batch:col-steps"),
            t("exp:batch:col-updates"),
            t("exp:batch:col-seconds"),
            t("exp:batch:col-loss"),
        ],
        "rows": [
            [
                t.num(r["batch_size"]),
                t.num(r["steps"]),
                t.num(r["updates"]),
                t.num(r["epoch_seconds"], 2),
                _spread(t, r["final_val"], 1),
            ]
            for r in rows
        ],
    }
    figures = _two_ways(
        store,
        "batch-size",
        _inputs(trials),
        lambda stacked: charts.batch_curves(rows, histories, t, stacked),
    )
    values = {
        "seeds": small["seeds"],
        "epochs": small["epochs"],
        "n_fit": small["n_fit"],
        "count": len(rows),
    }
    return Exhibit("batch-size", figures, sentences, table, values, _seconds(trials))


def early_stopping(t, store: FigureStore, trials: dict[str, list], boston: ctx.Lab) -> Exhibit:
    runs = next(iter(trials.values()))
    rows = lessons.long_runs(runs, boston.repeats["cnn"])
    first = rows[0]
    values = dict(
        seed=first["seed"],
        best=t.num(first["best"]),
        best_loss=t.num(first["best_loss"], 1),
        final_loss=t.num(first["final_loss"], 1),
        epochs=t.num(first["epochs"]),
        rise=t.pct(first["rise"], 0),
        limit=t.pct(lessons.TURN_UP, 0),
        train_best=t.num(first["train_at_best"], 1),
        train_final=t.num(first["train_final"], 1),
    )
    falling = first["train_final"] < first["train_at_best"]
    turned = "exp:early:turned" if first["turned_up"] and falling else "exp:early:flat"
    sentences = [t(turned, **values)]
    stopped = first["stopped"]
    if stopped is None:
        sentences.append(t("exp:early:never", patience=t.num(PATIENCE)))
    else:
        same = stopped["kept"] == first["best"]
        sentences.append(
            t(
                "exp:early:stop-best" if same else "exp:early:stop-early",
                stop=t.num(stopped["stop"]),
                kept=t.num(stopped["kept"]),
                kept_loss=t.num(stopped["kept_loss"], 1),
                best=t.num(first["best"]),
                best_loss=t.num(first["best_loss"], 1),
                ratio=t.pct(stopped["kept_loss"] / first["best_loss"] - 1, 0),
            )
        )
    if len(rows) > 1:
        stops = [row["stopped"]["stop"] for row in rows if row["stopped"]]
        bests = [row["best"] for row in rows]
        sentences.append(
            t(
                "exp:early:seeds",
                count=t.num(len(rows)),
                low=t.num(min(bests)),
                high=t.num(max(bests)),
                stop_low=t.num(min(stops, default=0)),
                stop_high=t.num(max(stops, default=0)),
            )
        )
    paired = [row for row in rows if row["lab_test"] is not None]
    if paired:
        long = lessons.mean_sd([row["test"] for row in paired])
        lab = lessons.mean_sd([row["lab_test"] for row in paired])
        lower = [row["test"] < row["lab_test"] for row in paired]
        verdict = "better" if all(lower) else "worse" if not any(lower) else "mixed"
        sentences.append(
            t(
                "exp:early:test",
                epochs=t.num(first["epochs"]),
                count=t.num(len(paired)),
                long=t.num(long["mean"], 2),
                lab=t.num(lab["mean"], 2),
                lab_epochs=t.num(np.mean([row["lab_epochs"] for row in paired]), 0),
                lab_max=t.num(paired[0]["lab_max"]),
                verdict=t(f"exp:early:test-{verdict}"),
            )
        )
    figures = {
        "long-run": store.get(
            "theory-long-run",
            _inputs(trials),
            lambda: charts.long_run([run.history for run in runs], rows, t),
        )
    }
    return Exhibit(
        "early-stopping",
        figures,
        sentences,
        None,
        {"epochs": first["epochs"], "seeds": len(rows), "patience": PATIENCE},
        _seconds(trials),
    )


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
    figures = _two_ways(
        store, "data-size", _inputs(trials), lambda stacked: charts.data_sizes(rows, t, stacked)
    )
    values = {
        "updates": UPDATES[profile],
        "n_val": small["n_val"],
        "cap": TRAIN_EVALUATION_CAP,
        "sizes": _listed(t, [t.num(row["size"]) for row in rows]),
    }
    return Exhibit("data-size", figures, sentences, table, values, _seconds(trials))


# Capacity rows, small to large, with the colour of their bar.
CAPACITY_ORDER = (
    ("linear", "#9e9e9e"),
    ("linear-regression", "#bdbdbd"),
    ("lab-cnn", "#1f77b4"),
    ("lab-rnn", "#d62728"),
    ("wide-cnn", "#17becf"),
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
    linear_epochs = np.mean([len(h["loss"]) for h in found["linear"]["histories"]])
    sentences = [
        t(
            "exp:capacity:linear-undertrained"
            if mean["linear"] > 1.5 * mean["linear-regression"]
            else "exp:capacity:linear-capacity",
            net=t.num(mean["linear"], 2),
            exact=t.num(mean["linear-regression"], 2),
            epochs=t.num(linear_epochs, 0),
        )
    ]
    wide, lab = found["wide-cnn"], found.get("lab-cnn")
    if lab is not None:
        overlapping = lessons.overlap(wide["score"], lab["score"])
        key = (
            "exp:capacity:wide-overlap"
            if overlapping
            else (
                "exp:capacity:wide-better"
                if mean["wide-cnn"] < mean["lab-cnn"]
                else "exp:capacity:wide-worse"
            )
        )
        sentences.append(
            t(
                key,
                lab=t.num(mean["lab-cnn"], 2),
                wide=t.num(mean["wide-cnn"], 2),
                lab_params=t.num(lab["params"]),
                wide_params=t.num(wide["params"]),
            )
        )
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
                _spread(t, row["score"]),
                t.num(row["seeds"]),
                _verdict(t, row),
            ]
            for row in rows
        ],
    }
    inputs = [_inputs(trials), _inputs(boston.repeats)]
    figures = {"capacity": store.get("theory-capacity", inputs, lambda: charts.capacity(rows, t))}
    return Exhibit("capacity", figures, sentences, table, {}, _seconds(trials))


def _placed(value: float, scores: dict) -> str:
    """Where one deterministic error lies against a network's errors over its seeds."""
    if value < scores["low"]:
        return "better"
    return "worse" if value > scores["high"] else "within"


def _verdict(t, row: dict) -> str:
    """The first seed's fitting diagnosis, for a network trained by epochs."""
    if not row["histories"]:
        return "—"
    history = row["histories"][0]
    epochs = len(history["loss"])
    found = diagnose.fitting(history, epochs, None)
    return t("verdict-name:" + found["verdict"])


def gradients(t, store: FigureStore, trials: dict[str, list]) -> Exhibit:
    norms = {}
    for runs in trials.values():
        with np.load(runs[0].folder / GRADIENTS) as saved:
            cell = next(k for k, _ in runs[0].record["inputs"]["spec"]["layers"] if k in CELLS)
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
    figures = {
        "gradients": store.get(
            "theory-gradients", _inputs(trials), lambda: charts.gradients(norms, t)
        )
    }
    layers = next(iter(trials.values()))[0].record["inputs"]["spec"]["layers"]
    recurrent = [args["units"] for kind, args in layers if kind in CELLS]
    values = {
        "note": None if gated else "exp:grad:no-gates-note",
        "reviews": reviews,
        "steps": next(iter(decay.values()))["steps"],
        "layers": len(recurrent),
        "units": recurrent[0],
    }
    return Exhibit("gradients", figures, sentences, None, values, _seconds(trials))


def validation(t, store: FigureStore, labs: list[ctx.Lab]) -> Exhibit | None:
    found = [lessons.validation_vs_test(lab.name, lab.repeats) for lab in labs]
    found = [item for item in found if item is not None]
    if not found:
        return None
    sentences = []
    for item in found:
        higher_better = metrics.task_of(item["lab"]) == "classification"
        optimistic = (item["mean_difference"] > 0) == higher_better
        percent = item["metric"] == "accuracy"
        difference = abs(item["mean_difference"])
        chosen = item["chosen"]
        sentences.append(
            t(
                "exp:val:optimistic" if optimistic else "exp:val:pessimistic",
                lab=t(f"lab-name:{item['lab']}"),
                count=t.num(item["count"]),
                metric=t(f"exp:val:metric:{item['metric']}"),
                difference=t.num(100 * difference if percent else difference, 2)
                + " "
                + t(f"exp:val:unit:{item['metric']}"),
            )
            + " "
            + t(
                "exp:val:choice-best" if item["chosen_rank"] == 1 else "exp:val:choice",
                kind=chosen["kind"].upper(),
                seed=chosen["seed"],
                rank=t.num(item["chosen_rank"]),
                count=t.num(item["count"]),
            )
        )
    for item in found:
        item["title"] = t(f"lab-name:{item['lab']}")
    inputs = [
        [run.record.get("files") for runs in lab.repeats.values() for run in runs] for lab in labs
    ]
    figures = _two_ways(
        store, "validation", inputs, lambda stacked: charts.validation_vs_test(found, t, stacked)
    )
    return Exhibit("validation", figures, sentences)


def exhibits(t, store: FigureStore, found: dict, labs: list[ctx.Lab], profile: str) -> dict:
    """{experiment: Exhibit} for the experiments that are done, and the validation exhibit."""
    boston = next(lab for lab in labs if lab.name == "boston")
    out = {}
    if "batch-size" in found:
        out["batch-size"] = batch_size(t, store, found["batch-size"])
    if "early-stopping" in found:
        out["early-stopping"] = early_stopping(t, store, found["early-stopping"], boston)
    if "data-size" in found:
        out["data-size"] = data_size(t, store, found["data-size"], profile)
    if "capacity" in found:
        out["capacity"] = capacity(t, store, found["capacity"], boston)
    if "gradients" in found:
        out["gradients"] = gradients(t, store, found["gradients"])
    shown = validation(t, store, labs)
    if shown is not None:
        out["validation"] = shown
    return out
