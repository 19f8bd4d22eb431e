"""The theory experiments' charts, SVG, in the edition's language (through `t`), drawn with the
lab charts' conventions (nnlab.figures: colours, number format, legends below)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from nnlab.figures import COLORS, legend_below, number_ticks, panels, to_svg

SERIES = plt.get_cmap("viridis")
NARROW = 4.8  # inches: a one-panel chart's width for a phone's screen, as figures.panels
LABEL_WIDTH = 20  # characters per line of a bar label on a phone


def _series_colors(count: int) -> list:
    return [SERIES(0.85 * i / max(1, count - 1)) for i in range(count)]


def batch_curves(rows: list[dict], histories: dict[int, list[dict]], t, stacked=False) -> str:
    """Validation loss per epoch (left) and per weight update (right), one colour per batch
    size: its seeds' mean as a line, each seed thin."""
    fig, axes = panels(2, 9, 3.6, stacked, sharey=True)
    for color, row in zip(_series_colors(len(rows)), rows, strict=True):
        runs = histories[row["batch_size"]]
        losses = np.array([h["val_loss"] for h in runs])
        epochs = np.arange(1, losses.shape[1] + 1)
        for ax, x in zip(axes, (epochs, epochs * row["steps"]), strict=True):
            for loss in losses:
                ax.plot(x, loss, color=color, lw=0.6, alpha=0.35)
            ax.plot(
                x,
                losses.mean(axis=0),
                color=color,
                lw=1.8,
                label=t("batch-legend", size=t.num(row["batch_size"])),
            )
    axes[0].set_xlabel(t("epoch"))
    axes[1].set_xlabel(t("weight updates (log scale)"))
    axes[1].set_xscale("log")
    axes[0].set_ylabel(t("validation loss (MSE, log scale)"))
    for ax in axes:
        ax.set_yscale("log")
        number_ticks(ax, t, "y" if ax is axes[1] else "xy")
    axes[0].set_title(t("against epochs"))
    axes[1].set_title(t("against updates"))
    legend_below(fig, *axes[0].get_legend_handles_labels())
    return to_svg(fig)


def _figure(narrow: bool, width: float, height: float):
    """One panel, `width` × `height`, or for a phone (`narrow`) as wide as its screen shows it
    and in portrait, so its text stays legible there."""
    if narrow:
        return plt.subplots(figsize=(NARROW, max(height, NARROW * 1.1)), layout="constrained")
    return plt.subplots(figsize=(width, height), layout="constrained")


def long_run(histories: list[dict], marks: list[dict], t, narrow=False) -> str:
    """Training and validation loss over the long run (first seed bold, the others thin), the
    lowest validation loss and where EarlyStopping would have stopped (first seed)."""
    fig, ax = _figure(narrow, 7.5, 3.3)
    for number, history in enumerate(histories):
        first = number == 0
        style = {"lw": 1.3 if first else 0.7, "alpha": 1.0 if first else 0.4}
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], color=COLORS["cnn"], **style)
        ax.plot(epochs, history["val_loss"], color=COLORS["rnn"], **style)
    mark = marks[0]
    ax.axvline(mark["best"], color="black", ls=":", lw=1)
    if mark["stopped"]:
        ax.axvline(mark["stopped"]["stop"], color="gray", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel(t("epoch"))
    ax.set_ylabel(t("loss (MSE, log scale)"))
    number_ticks(ax, t, "x")
    handles = [
        Line2D([], [], color=COLORS["cnn"], lw=2),
        Line2D([], [], color=COLORS["rnn"], lw=2),
        Line2D([], [], color="black", ls=":"),
        Line2D([], [], color="gray", ls="--"),
    ]
    labels = [
        t("training-curve"),
        t("validation"),
        t("lowest validation loss"),
        t("EarlyStopping would stop"),
    ]
    legend_below(fig, handles, labels, columns=2)
    return to_svg(fig)


def data_sizes(rows: list[dict], t, stacked=False) -> str:
    """Accuracy (left) and loss (right) of the final weights on the fitted and the validation
    images, against the number of fitted images; the gap shaded."""
    fig, axes = panels(2, 9, 3.4, stacked)
    sizes = [row["size"] for row in rows]
    for ax, key in zip(axes, ("accuracy", "loss"), strict=True):
        train = [row[f"train_{key}"] for row in rows]
        val = [row[f"val_{key}"] for row in rows]
        ax.plot(sizes, train, "-o", color=COLORS["cnn"], label=t("fitted images"))
        ax.plot(sizes, val, "-s", color=COLORS["rnn"], label=t("validation images"))
        ax.fill_between(sizes, train, val, color="gray", alpha=0.15)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [t.num(size) for size in sizes])
        ax.minorticks_off()
        ax.set_xlabel(t("fitted images (log scale)"))
        ax.set_title(t(key))
        number_ticks(ax, t, "y")
    legend_below(fig, *axes[0].get_legend_handles_labels())
    return to_svg(fig)


def capacity(rows: list[dict], t, narrow=False) -> str:
    """Test MAE per model, small to large: a bar at the mean, each seed a dot."""
    fig, ax = _figure(narrow, 7.5, (0.6 if narrow else 0.42) * len(rows) + 1.0)
    positions = np.arange(len(rows))[::-1]
    for y, row in zip(positions, rows, strict=True):
        ax.barh(y, row["score"]["mean"], color=row["color"], alpha=0.8, height=0.6)
        ax.plot(
            row["score"]["values"],
            [y] * len(row["score"]["values"]),
            "o",
            color="black",
            ms=3.5,
            alpha=0.7,
        )
        ax.annotate(
            t.num(row["score"]["mean"], 2),
            (max(row["score"]["values"]), y),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=9 if narrow else 8,
        )
    labels = [textwrap.fill(row["label"], LABEL_WIDTH) if narrow else row["label"] for row in rows]
    ax.set_yticks(positions, labels)
    ax.set_xlabel(t("test MAE (thousand USD)"))
    ax.margins(x=0.12)
    number_ticks(ax, t, "x")
    return to_svg(fig)


def gradients(norms: dict[str, np.ndarray], t, narrow=False) -> str:
    """The gradient's norm at each word, relative to the last word, against the number of
    steps back from the last word (log scale)."""
    fig, ax = _figure(narrow, 7.5, 3.6)
    for color, (cell, values) in zip(_series_colors(len(norms)), norms.items(), strict=True):
        values = np.asarray(values, dtype=float)
        back = values[::-1] / values[-1]
        ax.plot(np.arange(len(back)), back, color=color, lw=1.6, label=cell)
    ax.set_yscale("log")
    ax.set_xlabel(t("steps back from the last word"))
    ax.set_ylabel(t("gradient norm ÷ at the last word"))
    number_ticks(ax, t, "x")
    legend_below(fig, *ax.get_legend_handles_labels())
    return to_svg(fig)


def validation_vs_test(panels_data: list[dict], t, stacked=False) -> str:
    """Each run's validation score against its test score, one panel per lab; the diagonal is
    where they agree."""
    fig, axes = panels(len(panels_data), 10, 3.4, stacked)
    for ax, item in zip(np.atleast_1d(axes), panels_data, strict=True):
        points = item["points"]
        values = [p["val"] for p in points] + [p["test"] for p in points]
        low, high = min(values), max(values)
        pad = (high - low) * 0.1 or abs(high) * 0.01 or 0.01
        ax.plot([low - pad, high + pad], [low - pad, high + pad], color="gray", lw=1)
        for kind in ("cnn", "rnn"):
            mine = [p for p in points if p["kind"] == kind]
            ax.scatter(
                [p["val"] for p in mine],
                [p["test"] for p in mine],
                s=22,
                color=COLORS[kind],
                label=kind.upper(),
            )
        ax.set_title(item["title"])
        ax.set_xlabel(t("validation"))
        ax.set_ylabel(t("test"))
        number_ticks(ax, t)
    legend_below(fig, *np.atleast_1d(axes)[0].get_legend_handles_labels())
    return to_svg(fig)
