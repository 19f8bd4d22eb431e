"""Which charts each lab shows, drawn through the figure store (reused while unchanged)."""

from __future__ import annotations

import numpy as np

from nnlab import figures, metrics
from nnlab import labs as registry
from nnlab.report import context as ctx
from nnlab.report.assets import FigureStore


def _two_ways(out: dict, store: FigureStore, lab: str, chart: str, key, draw, file=None) -> None:
    """A chart as wide as the text (`out[chart]`) and drawn for a phone's width
    (`out[chart + "-phone"]`: two panels stacked, a grid in fewer columns, larger labels);
    `draw(phone)` returns the SVG, saved as `file` (default "<lab>-<chart>")."""
    file = file or f"{lab}-{chart}"
    out[chart] = store.get(file, key, lambda: draw(False))
    out[f"{chart}-phone"] = store.get(f"{file}-phone", key, lambda: draw(True))


def lab_figures(lab: ctx.Lab, store: FigureStore, t, samples: dict) -> dict[str, str]:
    """Every chart of one lab, as relative URLs; those too wide for a phone also as
    "<name>-phone"."""
    runs = lab.runs
    inputs = {
        kind: [run.record.get("files") for run in seeds] for kind, seeds in lab.repeats.items()
    }
    out = {}
    digits = samples.get(lab.name, {})
    if "images" in digits:  # a lab whose extract holds images shows a grid of them
        _two_ways(out, store, lab.name, "samples", digits["labels"].tolist(),
                  lambda narrow: figures.digit_grid(digits["images"], digits["labels"], t,
                                                    narrow))  # fmt: skip
    if all(run.history for run in runs.values()):
        metric = metrics.main_metric(lab.task)
        curves = {kind: [(run.history, curve_role(lab, kind, run)) for run in seeds if run.history]
                  for kind, seeds in lab.repeats.items()}  # fmt: skip
        best = {k: r.record.get("best_epoch") for k, r in runs.items()}
        log_scale = lab.task == "regression"
        _two_ways(out, store, lab.name, "curves", inputs,
                  lambda stacked: figures.learning_curves(curves, metric, best, t, stacked,
                                                          log_scale))  # fmt: skip
    if not lab.complete:
        return out
    # The bars average the runs that trained, as the seed table does (a failed run's error
    # would sit in a mean the tables never state); each unit gets its own panel.
    trained = {kind: ctx.trained(lab, kind) for kind in ctx.KINDS}
    groups = [([t(f"bar:{n}") for n in names],
               {k: [[r.metrics[n] for r in seeds] for n in names] for k, seeds in trained.items()})
              for names in registry.LABS[lab.name].seed_bar_panels]  # fmt: skip
    _two_ways(out, store, lab.name, "bars", inputs,
              lambda narrow: figures.side_by_side_bars(groups, t(f"bars-title:{lab.name}"), t,
                                                       narrow),
              file=f"{lab.name}-seed-bars")  # fmt: skip
    if lab.task == "classification":
        matrices = {k: r.metrics["confusion_matrix"] for k, r in runs.items()}
        entry = registry.LABS[lab.name]
        classes = [t(c) if entry.translate_classes else c for c in entry.class_names]
        _two_ways(out, store, lab.name, "confusion", inputs,
                  lambda stacked: figures.confusion_matrices(matrices, classes, t,
                                                             stacked))  # fmt: skip
        out["calibration"] = store.get(
            f"{lab.name}-calibration",
            inputs,
            lambda: figures.reliability_diagram(ctx.calibration(lab), t),
        )
    else:
        predicted = {k: r.outputs.reshape(-1) for k, r in runs.items()}
        _two_ways(out, store, lab.name, "diagnostics", inputs,
                  lambda stacked: figures.regression_diagnostics(
                      runs["cnn"].y_true, predicted, t, stacked))  # fmt: skip
    if registry.LABS[lab.name].binary:  # one output, P(positive): its histogram per class
        positive = {k: r.outputs.reshape(-1) for k, r in runs.items()}
        y = runs["cnn"].y_true.astype(int)
        _two_ways(out, store, lab.name, "probabilities", inputs,
                  lambda stacked: figures.probability_histograms(positive, y, t,
                                                                 stacked))  # fmt: skip
    return out


def curve_role(lab: ctx.Lab, kind: str, run) -> str:
    """How a run's learning curves are drawn: the typical run (the one the text analyses),
    another run that trained, or a failed one."""
    if run is lab.runs[kind]:
        return "typical"
    return "failed" if run.failed or ctx.failure_of(lab, run) else "trained"


def _stack(test_images: dict, items: list[dict]):
    return np.stack([test_images[item["index"]] for item in items])


def mnist_gallery_figures(wrong: dict, store, t, test_images: dict) -> dict[str, str]:
    """Misclassified and disputed digits, each gallery also as "<name>-phone" (fewer columns);
    `wrong` from ctx.misclassified_digits, `test_images` the gallery's images by test index."""
    out = {}
    for kind in ctx.KINDS:
        items = wrong[kind]
        _two_ways(out, store, "mnist", f"wrong-{kind}", items,
                  lambda narrow, items=items: figures.digit_gallery(
                      _stack(test_images, items),
                      [t("gallery-caption", true=i["true"], pred=i["pred"],
                         conf=t.pct(i["confidence"], 0)) for i in items], narrow))  # fmt: skip
    items = wrong["disagree"]
    if items:
        _two_ways(out, store, "mnist", "disagree", items,
                  lambda narrow: figures.digit_gallery(
                      _stack(test_images, items),
                      [t("disagree-caption", true=i["true"], cnn=i["cnn"], rnn=i["rnn"])
                       for i in items], narrow))  # fmt: skip
    return out


def interval_figure(comparison: dict, task: str, t) -> str:
    keys = ("accuracy", "f1_macro") if task == "classification" else ("mae", "rmse")
    rows = []
    for key in keys:
        for kind in ctx.KINDS:
            item = comparison[kind][key]
            rows.append((t(f"metric:{key}"), kind, item["value"], item["low"], item["high"]))
    return figures.interval_chart(rows, t("95% bootstrap confidence intervals"), t)
