"""Which charts each lab shows, drawn through the figure store (reused while unchanged)."""

from __future__ import annotations

import numpy as np

from nnlab import figures, metrics
from nnlab.report import context as ctx
from nnlab.report.assets import FigureStore

CLASS_NAMES = {"mnist": [str(d) for d in range(10)], "imdb": ["neg", "pos"]}
SEED_BAR_METRICS = {"mnist": ("label_mse", "label_mae", "label_rmse"),
                    "imdb": ("label_mse", "label_mae", "label_rmse", "accuracy"),
                    "boston": ("mse", "mae", "rmse")}  # fmt: skip


def lab_figures(lab: ctx.Lab, store: FigureStore, t, samples: dict) -> dict[str, str]:
    """Every chart of one lab, as relative URLs."""
    runs = lab.runs
    inputs = {
        kind: [run.record.get("files") for run in seeds] for kind, seeds in lab.repeats.items()
    }
    out = {}
    if lab.name == "mnist" and "mnist" in samples:
        digits = samples["mnist"]
        out["samples"] = store.get(
            "mnist-samples", digits["labels"].tolist(),
            lambda: figures.digit_grid(digits["images"], digits["labels"], t),
        )  # fmt: skip
    if all(run.history for run in runs.values()):
        metric = metrics.main_metric(lab.task)
        histories = {k: [r.history for r in seeds if r.history] for k, seeds in lab.repeats.items()}
        out["curves"] = store.get(
            f"{lab.name}-curves", inputs,
            lambda: figures.learning_curves(
                histories, metric, {k: r.record.get("best_epoch") for k, r in runs.items()}, t),
        )  # fmt: skip
    if not lab.complete:
        return out
    names = SEED_BAR_METRICS[lab.name]
    scored = {kind: ctx.scored(lab, kind) for kind in ctx.KINDS}
    out["bars"] = store.get(
        f"{lab.name}-seed-bars", inputs,
        lambda: figures.side_by_side_bars(
            [t(f"bar:{n}") for n in names],
            {k: [[r.metrics[n] for r in seeds] for n in names] for k, seeds in scored.items()},
            t(f"bars-title:{lab.name}"), t),
    )  # fmt: skip
    if lab.task == "classification":
        out["confusion"] = store.get(
            f"{lab.name}-confusion", inputs,
            lambda: figures.confusion_matrices(
                {k: r.metrics["confusion_matrix"] for k, r in runs.items()},
                [t(c) if lab.name == "imdb" else c for c in CLASS_NAMES[lab.name]], t),
        )  # fmt: skip
        out["calibration"] = store.get(
            f"{lab.name}-calibration",
            inputs,
            lambda: figures.reliability_diagram(ctx.calibration(lab), t),
        )
    else:
        out["diagnostics"] = store.get(
            "boston-diagnostics", inputs,
            lambda: figures.regression_diagnostics(
                runs["cnn"].y_true, {k: r.outputs.reshape(-1) for k, r in runs.items()}, t),
        )  # fmt: skip
    if lab.name == "imdb":
        out["probabilities"] = store.get(
            "imdb-probabilities", inputs,
            lambda: figures.probability_histograms(
                {k: r.outputs.reshape(-1) for k, r in runs.items()},
                runs["cnn"].y_true.astype(int), t),
        )  # fmt: skip
    return out


def _stack(test_images: dict, items: list[dict]):
    return np.stack([test_images[item["index"]] for item in items])


def mnist_gallery_figures(wrong: dict, store, t, test_images: dict) -> dict[str, str]:
    """Misclassified and disputed digits; `wrong` from ctx.misclassified_digits, `test_images`
    the gallery's images by test index."""
    out = {}
    for kind in ctx.KINDS:
        items = wrong[kind]
        out[f"wrong-{kind}"] = store.get(
            f"mnist-wrong-{kind}", items,
            lambda items=items: figures.digit_gallery(
                _stack(test_images, items),
                [t("gallery-caption", true=i["true"], pred=i["pred"],
                   conf=t.pct(i["confidence"], 0)) for i in items]),
        )  # fmt: skip
    items = wrong["disagree"]
    if items:
        out["disagree"] = store.get(
            "mnist-disagree", items,
            lambda: figures.digit_gallery(
                _stack(test_images, items),
                [t("disagree-caption", true=i["true"], cnn=i["cnn"], rnn=i["rnn"])
                 for i in items]),
        )  # fmt: skip
    return out


def interval_figure(comparison: dict, task: str, t) -> str:
    keys = ("accuracy", "f1_macro") if task == "classification" else ("mae", "rmse")
    rows = []
    for key in keys:
        for side, kind in (("a", "cnn"), ("b", "rnn")):
            item = comparison[side][key]
            rows.append((t(f"metric:{key}"), kind, item["value"], item["low"], item["high"]))
    return figures.interval_chart(rows, t("95% bootstrap confidence intervals"), t)
