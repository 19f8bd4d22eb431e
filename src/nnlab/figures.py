"""Charts as SVG, one function per chart, labels in the edition's language (via `t`)."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import Formatter, LogLocator, NullFormatter  # noqa: E402

from nnlab.metrics import THRESHOLD  # noqa: E402

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",  # covers Vietnamese diacritics
        "svg.hashsalt": "nnlab",  # stable ids: the same inputs give the same file
        "svg.fonttype": "none",  # text stays text: far fewer SVG nodes, much faster PDFs
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "font.size": 10,
        "axes.unicode_minus": True,  # tick labels' negatives with U+2212, as the text's
    }
)
COLORS = {"cnn": "#1f77b4", "rnn": "#d62728"}
LEGEND_FONT = 9  # >= 8 pt at the figure's natural size: still legible scaled to a phone
# A phone's chart: this wide (inches), so a 390 px screen shows it at about 0.77 of its size,
# and its smallest text this big (points), so it is drawn at 9 px or more there.
PHONE_WIDTH = 4.8
PHONE_FONT = 9
# A bar holds its value's label inside its top when it is at least this share of the axis tall.
BAR_LABEL_ROOM = 0.12


def tick_decimals(values) -> int:
    """The fewest decimals (at most 6) that write every tick value exactly: 0 for 250, 500,
    750; 1 for 0.2, 0.4; 3 for 0.975, 0.980."""
    values = [float(v) for v in values if math.isfinite(v)]
    steps = [b - a for a, b in zip(values, values[1:], strict=False) if b - a > 0]
    tolerance = 1e-6 * (min(steps) if steps else max([abs(v) for v in values] + [1.0]))
    for digits in range(7):
        if all(abs(v - round(v, digits)) <= tolerance for v in values):
            return digits
    return 6


class EditionFormatter(Formatter):
    """Tick labels in the edition's number style: `t.num` (Babel) with the decimals the ticks
    need, e.g. 1.000 / 0,975 in Vietnamese and 1,000 / 0.975 in English."""

    def __init__(self, t):
        self.t = t
        self.digits: int | None = None

    def set_locs(self, locs):
        super().set_locs(locs)
        self.digits = tick_decimals(locs)

    def __call__(self, x, pos=None):
        return self.t.num(x, tick_decimals([x]) if self.digits is None else self.digits)


def number_ticks(ax, t, axes: str = "xy") -> None:
    """The one rule for numeric tick labels: the numeric axes of `ax` (`axes`: "x", "y" or
    "xy") write their ticks through the translator, like the numbers in the text."""
    for name in axes:
        getattr(ax, f"{name}axis").set_major_formatter(EditionFormatter(t))


def legend_below(fig, handles, labels, columns: int | None = None) -> None:
    """The legend under the panels, outside every axes, so it can never cover data (the figure
    must use the constrained layout)."""
    fig.legend(handles, labels, loc="outside lower center", ncols=columns or len(labels),
               fontsize=LEGEND_FONT, markerscale=1.5, frameon=False)  # fmt: skip


def panels(count: int, width: float, height: float, stacked: bool, **options):
    """`count` panels side by side in a `width` × `height` figure, or stacked one above the
    other for a phone's narrow screen (each panel then as wide as the screen allows)."""
    if stacked:
        return plt.subplots(count, 1, figsize=(min(width, PHONE_WIDTH), height * count * 0.95),
                            layout="constrained", **options)  # fmt: skip
    return plt.subplots(1, count, figsize=(width, height), layout="constrained", **options)


def to_svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def digit_grid(images: np.ndarray, labels: np.ndarray, t, narrow=False) -> str:
    """The first 16 digits with their labels: two rows of eight, or for a phone (`narrow`)
    four rows of four."""
    count = min(len(images), 16)  # what the digits look like, not a gallery
    rows, columns = (4, 4) if narrow else (2, 8)
    fig, axes = plt.subplots(rows, columns, figsize=(PHONE_WIDTH, 5.4) if narrow else (8, 2.3))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            ax.imshow(images[i], cmap="gray_r")
            ax.set_title(f"{t('label')}: {labels[i]}", fontsize=PHONE_FONT if narrow else 8)
    return to_svg(fig)


def learning_curves(
    curves: dict, metric: str, best_epochs: dict, t, stacked=False, log_scale=False
) -> str:
    """Loss and `metric` per epoch, train vs validation, for both models. `curves`: kind ->
    [(history, role)] with role "typical" (the run the text analyses: drawn bold, with its
    best epoch marked), "trained" (thin) or "failed" (grey, dotted: apart from the others).
    `log_scale`: a regression's errors span orders of magnitude, so its axes are logarithmic."""
    fig, axes = panels(2, 9, 3.6, stacked)
    order = {"failed": 0, "trained": 1, "typical": 2}  # the typical run is drawn on top
    for ax, key in zip(axes, ("loss", metric), strict=True):
        for kind, runs in curves.items():
            for history, role in sorted(runs, key=lambda item: order[item[1]]):
                epochs = np.arange(1, len(history[key]) + 1)
                style = CURVE_STYLES[role] | ({} if role == "failed" else {"color": COLORS[kind]})
                ax.plot(epochs, history[key], ls=":" if role == "failed" else "-", **style)
                validation = style | ({"marker": "s"} if "marker" in style else {})
                ax.plot(epochs, history[f"val_{key}"], ls=":" if role == "failed" else "--",
                        **validation)  # fmt: skip
            best = best_epochs.get(kind)
            if best:
                ax.axvline(best, color=COLORS[kind], alpha=0.35, lw=1)
        if log_scale:  # ticks at 1, 2 and 5 times a power of ten, written as plain numbers
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(t("epoch"))
        ax.set_ylabel(t(key))
        ax.set_title(t(key))
        ax.xaxis.get_major_locator().set_params(integer=True)
        number_ticks(ax, t)
    # colour says the model, line style the split: short entries for every kind of line drawn
    handles = [Line2D([], [], color=COLORS[kind], lw=2.5) for kind in curves]
    handles += [Line2D([], [], color="black", ls="-", marker="o", ms=3, lw=1.2),
                Line2D([], [], color="black", ls="--", marker="s", ms=3, lw=1.2)]  # fmt: skip
    labels = [kind.upper() for kind in curves] + [t("training-curve"), t("validation")]
    if any(role == "failed" for runs in curves.values() for _, role in runs):
        handles.append(Line2D([], [], **CURVE_STYLES["failed"], ls=":"))
        labels.append(t("failed run"))
    # a phone's stacked panels are narrow: the legend goes on two rows instead of widening them
    legend_below(fig, handles, labels, columns=3 if stacked and len(labels) > 4 else None)
    return to_svg(fig)


# How each run's curves are drawn, by its role in the text (learning_curves).
CURVE_STYLES = {
    "typical": {"lw": 1.8, "alpha": 1.0, "marker": "o", "ms": 3},
    "trained": {"lw": 0.7, "alpha": 0.4},
    "failed": {"lw": 0.9, "alpha": 0.6, "color": "#8c8c8c"},
}


def side_by_side_bars(groups: list[tuple[list[str], dict]], title: str, t, narrow=False) -> str:
    """The notebook's comparison chart: one bar per metric and model at the mean over seeds,
    each seed's own value as a dot. `groups`: one panel per unit, each (metric labels, kind ->
    per metric, the values of every seed); `narrow`: as wide as a phone shows it, its value
    labels larger, the panels stacked."""
    widths = [len(names) for names, _ in groups]
    if narrow:
        fig, axes = plt.subplots(len(groups), 1, figsize=(PHONE_WIDTH, 3.6 * len(groups)),
                                 squeeze=False, layout="constrained")  # fmt: skip
    else:
        fig, axes = plt.subplots(1, len(groups), figsize=(6.4 * sum(widths) / 3 if len(groups) > 1
                                                          else 6.4, 3.6),
                                 squeeze=False, layout="constrained",
                                 width_ratios=widths)  # fmt: skip
    for ax, (names, scores) in zip(axes.flat, groups, strict=True):
        _bars(ax, names, scores, t, narrow)
    fig.suptitle(title)
    legend_below(fig, *axes.flat[0].get_legend_handles_labels())
    return to_svg(fig)


def _bars(ax, names: list[str], scores: dict[str, list[list[float]]], t, narrow: bool) -> None:
    x = np.arange(len(names))
    width = 0.38
    bars = []
    for offset, (kind, per_metric) in zip((-width / 2, width / 2), scores.items(), strict=True):
        means = [float(np.mean(values)) for values in per_metric]
        ax.bar(x + offset, means, width, label=kind.upper(), color=COLORS[kind], alpha=0.85)
        for position, mean, values in zip(x + offset, means, per_metric, strict=True):
            ax.plot([position] * len(values), values, "o", ms=3.5, color="black", alpha=0.7,
                    zorder=3)  # fmt: skip
            bars.append((position, mean))
    ax.set_xticks(x, names)
    ax.set_ylabel(t("score"))
    number_ticks(ax, t, "y")
    ax.margins(y=0.15)
    # Each mean's label is anchored to its own bar: inside the bar's top when the bar is tall
    # enough to hold it, else just above it; a white backing keeps a seed's dot from hiding it.
    low, high = ax.get_ylim()
    for position, mean in bars:
        inside = mean - low > BAR_LABEL_ROOM * (high - low)
        ax.annotate(t.num(mean, 3), (position, mean), xytext=(0, -3 if inside else 3),
                    textcoords="offset points", ha="center", va="top" if inside else "bottom",
                    fontsize=PHONE_FONT if narrow else 8, zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})  # fmt: skip


def confusion_matrices(
    matrices: dict[str, list[list[int]]], class_names: list[str], t, stacked=False
) -> str:
    many = len(class_names) > 2
    fig, axes = panels(2, 11 if many else 9, 5.4 if many else 3.2, stacked)
    for ax, (kind, matrix) in zip(axes, matrices.items(), strict=True):
        matrix = np.asarray(matrix)
        ax.imshow(matrix, cmap="Blues")
        ax.grid(False)
        for (row, col), value in np.ndenumerate(matrix):
            dark = value > matrix.max() / 2
            size = (PHONE_FONT if stacked else 8) if many else 10
            ax.text(col, row, t.num(int(value)), ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")  # fmt: skip
        ticks = np.arange(len(class_names))
        ax.set_xticks(ticks, class_names)
        ax.set_yticks(ticks, class_names)
        ax.set_xlabel(t("predicted"))
        ax.set_ylabel(t("actual"))
        ax.set_title(kind.upper())
    return to_svg(fig)


def regression_diagnostics(
    y_true: np.ndarray, predictions: dict[str, np.ndarray], t, stacked=False
) -> str:
    """Predicted vs actual (left) and residuals vs predicted (right), both models."""
    fig, axes = panels(2, 9, 4, stacked)
    low, high = float(np.min(y_true)), float(np.max(y_true))
    axes[0].plot([low, high], [low, high], color="gray", lw=1, label=t("perfect prediction"))
    for kind, y_pred in predictions.items():
        color = COLORS[kind]
        axes[0].scatter(y_true, y_pred, s=12, alpha=0.7, color=color, label=kind.upper())
        axes[1].scatter(y_pred, y_pred - y_true, s=12, alpha=0.7, color=color, label=kind.upper())
    axes[1].axhline(0, color="gray", lw=1)
    axes[0].set_xlabel(t("actual price (k$)"))
    axes[0].set_ylabel(t("predicted price (k$)"))
    axes[0].set_title(t("Predicted vs actual"))
    axes[1].set_xlabel(t("predicted price (k$)"))
    axes[1].set_ylabel(t("residual (k$)"))
    axes[1].set_title(t("Residuals"))
    for ax in axes:
        number_ticks(ax, t)
    legend_below(fig, *axes[0].get_legend_handles_labels())
    return to_svg(fig)


def interval_chart(rows: list[tuple[str, str, float, float, float]], title: str, t) -> str:
    """Point estimates with 95% intervals: rows of (metric label, kind, value, low, high). Two
    panels fit a phone's width, so one drawing serves the site at every width."""
    labels = list(dict.fromkeys(row[0] for row in rows))
    fig, axes = plt.subplots(1, len(labels), figsize=(PHONE_WIDTH / 2 * len(labels), 2.8),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, label in zip(axes[0], labels, strict=True):
        items = [row for row in rows if row[0] == label]
        for position, (_, kind, value, low, high) in enumerate(items):
            ax.errorbar(position, value, yerr=[[value - low], [high - value]], fmt="o",
                        color=COLORS[kind], capsize=5)  # fmt: skip
        ax.set_xticks(range(len(items)), [row[1].upper() for row in items])
        ax.set_xlim(-0.6, len(items) - 0.4)
        ax.set_title(label)
        number_ticks(ax, t, "y")
    fig.suptitle(title)
    return to_svg(fig)


def equation(latex: str) -> str:
    """A display equation rendered with Matplotlib's mathtext (no LaTeX install needed).

    Glyphs become paths here: mathtext draws symbols from fonts bundled with Matplotlib (STIX,
    Computer Modern) that browsers and WeasyPrint do not have.
    """
    with plt.rc_context({"svg.fonttype": "path"}):
        fig = plt.figure(figsize=(0.01, 0.01))
        fig.text(0, 0, f"${latex}$", fontsize=12)
        return to_svg(fig)


def digit_gallery(images: np.ndarray, captions: list[str], narrow=False) -> str:
    """Digits with their captions, six to a row, or for a phone (`narrow`) four."""
    columns = 4 if narrow else 6
    rows = max(1, int(np.ceil(len(images) / columns)))
    width = PHONE_WIDTH if narrow else 7.5
    fig, axes = plt.subplots(rows, columns, figsize=(width, 1.9 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r")
            ax.set_title(captions[i], fontsize=PHONE_FONT, linespacing=1.1)
    return to_svg(fig)


def probability_histograms(
    outputs: dict[str, np.ndarray], y_true: np.ndarray, t, stacked=False
) -> str:
    """Predicted probability of "positive", split by the true class, for each model."""
    fig, axes = panels(2, 9, 3.4, stacked, sharey=True)
    bins = np.linspace(0, 1, 21)
    for ax, (kind, p_positive) in zip(axes, outputs.items(), strict=True):
        ax.hist(p_positive[y_true == 0], bins=bins, alpha=0.6, label=t("negative reviews"))
        ax.hist(p_positive[y_true == 1], bins=bins, alpha=0.6, label=t("positive reviews"))
        ax.axvline(THRESHOLD, color="gray", lw=1)
        ax.set_title(kind.upper())
        ax.set_xlabel(t("predicted probability of a positive review"))
        number_ticks(ax, t)
    axes[0].set_ylabel(t("reviews"))
    legend_below(fig, *axes[0].get_legend_handles_labels())
    return to_svg(fig)


def reliability_diagram(curves: dict[str, dict], t) -> str:
    fig, ax = plt.subplots(figsize=(4.6, 4.6), layout="constrained")
    ax.plot([0, 1], [0, 1], color="gray", lw=1, label=t("perfect calibration"))
    for kind, curve in curves.items():
        keep = curve["count"] > 0
        ax.plot(curve["confidence"][keep], curve["accuracy"][keep], "-o", ms=4,
                color=COLORS[kind], label=t("reliability-legend", model=kind.upper(),
                                            ece=t.num(curve["ece"], 3)))  # fmt: skip
    ax.set_xlabel(t("confidence of the predicted class"))
    ax.set_ylabel(t("accuracy"))
    ax.set_title(t("Reliability diagram"))
    number_ticks(ax, t)
    legend_below(fig, *ax.get_legend_handles_labels(), columns=1)
    return to_svg(fig)
