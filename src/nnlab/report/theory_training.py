"""The experiments of the chapters on epochs and batches and on the three sets: batch size,
the long run with early stopping replayed, and validation against test. Every number comes
from the runs (experiments/lessons.py), every phrase from the edition's catalog."""

from __future__ import annotations

import numpy as np

from nnlab import config, diagnose
from nnlab.experiments import figures as charts
from nnlab.experiments import lessons
from nnlab.experiments.design import PATIENCE
from nnlab.metric_table import METRICS
from nnlab.report import context as ctx
from nnlab.report.assets import FigureStore
from nnlab.report.exhibit import Exhibit, inputs, spread, two_ways


def batch_size(t, store: FigureStore, trials: dict[str, list]) -> Exhibit:
    rows = lessons.batch_sizes(trials)
    histories = {
        row["batch_size"]: [run.history for run in runs]
        for row, runs in zip(
            rows,
            sorted(
                trials.values(),
                key=lambda r: r[0].settings["batch_size"],
            ),
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
            small_s=t.num(small["epoch_seconds"], 3),
            large_s=t.num(large["epoch_seconds"], 3),
            small_steps=t.num(small["steps"]),
            large_steps=t.num(large["steps"]),
            steps_ratio=t.num(steps_ratio, 0),
        )
    ]
    ranked = sorted(rows, key=lambda row: row["final_val"]["mean"])
    best, runner_up, worst = ranked[0], ranked[1], ranked[-1]
    # paired by seed (the runs list their seeds in the same order): ahead with every seed
    pairs = zip(best["final_val"]["values"], runner_up["final_val"]["values"], strict=True)
    clear = all(mine < theirs for mine, theirs in pairs)
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
                t.num(r["epoch_seconds"], 3),
                spread(t, r["final_val"], 1),
            ]
            for r in rows
        ],
    }
    figures = two_ways(
        store,
        "batch-size",
        inputs(trials),
        lambda stacked: charts.batch_curves(rows, histories, t, stacked),
    )
    values = {
        "seeds": small["seeds"],
        "epochs": small["epochs"],
        "n_fit": small["n_fit"],
        "count": len(rows),
    }
    return Exhibit("batch-size", figures, sentences, table, values)


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
        window=t.num(first["window"]),
    )
    falling = first["train_final"] < first["train_at_best"]
    turned = "exp:early:turned" if first["turned_up"] and falling else "exp:early:flat"
    sentences = [t(turned, **values)]
    stopped = first["stopped"]
    if stopped is None:
        sentences.append(t("exp:early:never", patience=t.num(PATIENCE)))
    else:
        # kept inside the window around the averaged minimum: it stopped where it should
        same = abs(stopped["kept"] - first["best"]) <= first["window"] // 2
        sentences.append(
            t(
                "exp:early:stop-best" if same else "exp:early:stop-early",
                stop=t.num(stopped["stop"]),
                kept=t.num(stopped["kept"]),
                kept_loss=t.num(stopped["kept_loss"], 1),
                best=t.num(first["best"]),
                best_loss=t.num(first["best_loss"], 1),
                window=t.num(first["window"]),
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
                turned=t.num(
                    sum(
                        row["turned_up"] and row["train_final"] < row["train_at_best"]
                        for row in rows
                    )
                ),
            )
        )
    paired = [row for row in rows if row["lab_test"] is not None]
    if paired:
        long = lessons.mean_sd([row["test"] for row in paired])
        lab = lessons.mean_sd([row["lab_test"] for row in paired])
        lower = [row["test"] < row["lab_test"] for row in paired]
        verdict = "better" if all(lower) else "worse" if not any(lower) else "mixed"
        capped = all(row["lab_epochs"] == row["lab_max"] for row in paired)
        lab_stop = t(
            "exp:early:lab-capped" if capped else "exp:early:lab-stopped",
            lab_epochs=t.num(np.mean([row["lab_epochs"] for row in paired]), 0),
            lab_max=t.num(paired[0]["lab_max"]),
        )
        sentences.append(
            t(
                "exp:early:test",
                epochs=t.num(first["epochs"]),
                count=t.num(len(paired)),
                long=t.num(long["mean"], 2),
                lab=t.num(lab["mean"], 2),
                lab_stop=lab_stop,
                verdict=t(f"exp:early:test-{verdict}"),
            )
        )
    histories = [run.history for run in runs]
    figures = two_ways(
        store,
        "long-run",
        inputs(trials),
        lambda narrow: charts.long_run(histories, rows, t, narrow),
    )
    return Exhibit(
        "early-stopping",
        figures,
        sentences,
        None,
        {"epochs": first["epochs"], "seeds": len(rows), "patience": PATIENCE},
    )


def constant_baseline(boston: ctx.Lab, y_train) -> dict:
    """The MSE of always predicting the fitted districts' mean price, on the validation
    districts (the last share of the training arrays, Keras's validation_split) and on the
    test districts: how hard each split is on its own, whatever the model."""
    run = boston.runs["cnn"]
    targets = np.asarray(y_train, dtype=float)[: run.record["n_train"]]
    settings = config.TrainSettings(**run.settings)
    n_fit = config.split_sizes(len(targets), settings)["n_fit"]
    fitted, validation, test = targets[:n_fit], targets[n_fit:], run.y_true
    return {"mean": float(fitted.mean()), "n_fit": n_fit, "n_val": len(validation),
            "n_test": len(test), "val": diagnose.mean_prediction_loss(fitted, validation),
            "test": diagnose.mean_prediction_loss(fitted, test)}  # fmt: skip


def baseline_sentence(t, boston: ctx.Lab | None, houses: dict | None) -> str | None:
    """Whether the Boston validation districts are easier than the test districts by
    themselves; without the training prices (samples made without the data cache), says so."""
    if boston is None or not boston.complete:
        return None
    if not houses or "y_train" not in houses:
        return t("exp:val:baseline-missing")
    found = constant_baseline(boston, houses["y_train"])
    easier = found["val"] < found["test"]
    return t("exp:val:baseline-easier" if easier else "exp:val:baseline-not-easier",
             mean=t.num(found["mean"], 1), n_fit=t.num(found["n_fit"]),
             n_val=t.num(found["n_val"]), n_test=t.num(found["n_test"]),
             val=t.num(found["val"], 1), test=t.num(found["test"], 1))  # fmt: skip


def validation(t, store: FigureStore, labs: list[ctx.Lab], houses: dict | None = None):
    """Validation against test scores for every lab's runs (`houses`: the Boston samples, whose
    training prices say how hard the validation districts are by themselves)."""
    found = [lessons.validation_vs_test(lab.name, lab.repeats) for lab in labs]
    found = [item for item in found if item is not None]
    if not found:
        return None
    sentences = []
    for item in found:
        percent = METRICS[item["metric"]].percent
        difference = item["mean_difference"]
        flattering = (difference > 0) == item["higher_better"]
        against = item["count"] - item["favourable"]
        chosen = item["chosen"]
        # the runs counted are those whose validation score lay on the mean's side
        side_higher = flattering == item["higher_better"]
        sentences.append(
            t(
                "exp:val:compare",
                lab=t(f"lab-name:{item['lab']}"),
                metric=t(f"exp:val:metric:{item['metric']}"),
                difference=t.num(abs(difference) * (100 if percent else 1), 2)
                + " "
                + t(f"exp:val:unit:{item['metric']}"),
                direction=t("exp:val:higher" if difference > 0 else "exp:val:lower"),
                side=t("exp:val:higher" if side_higher else "exp:val:lower"),
                count=t.num(item["favourable"] if flattering else against),
                total=t.num(item["count"]),
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
        if item["lab"] == "boston":
            boston = next(lab for lab in labs if lab.name == "boston")
            sentences.append(baseline_sentence(t, boston, houses))
    sentences = [sentence for sentence in sentences if sentence]
    for item in found:
        item["title"] = t(f"lab-name:{item['lab']}")
    drawn_from = [
        [run.record.get("files") for runs in lab.repeats.values() for run in runs] for lab in labs
    ]
    figures = two_ways(
        store,
        "validation",
        drawn_from,
        lambda stacked: charts.validation_vs_test(found, t, stacked),
    )
    return Exhibit("validation", figures, sentences)
