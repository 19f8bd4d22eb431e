"""Charts follow the edition's number rules (Babel through the translator) and keep their legends
off the data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from nnlab import figures
from nnlab.report.i18n import Translator

LOCALE = Path(__file__).resolve().parents[1] / "report" / "locale"
TEXT = re.compile(r"<text\b[^>]*>([^<]*)</text>")


@pytest.fixture(params=["vi", "en"])
def t(request):
    return Translator(LOCALE, request.param)


def texts(svg: str) -> list[str]:
    """Every text of the SVG (svg.fonttype "none": text stays <text>)."""
    return [value.strip() for value in TEXT.findall(svg)]


def history(epochs: int, start: float) -> dict:
    loss = start * np.exp(-np.arange(epochs) / 3) + 50
    return {"loss": loss, "val_loss": loss * 1.2, "mae": loss / 1000, "val_mae": loss / 900}


def probabilities(n: int = 2500):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, n)
    p = np.where(y_true == 1, rng.beta(8, 1, n), rng.beta(1, 8, n))
    return {"cnn": p, "rnn": p**1.2}, y_true


def capture(monkeypatch) -> list:
    """The figures the chart functions draw, kept open and drawn for layout checks."""
    drawn = []
    original = figures.to_svg

    def keep(fig):
        svg = original(fig)
        FigureCanvasAgg(fig).draw()  # the layout as saved (constrained layout, legends placed)
        drawn.append(fig)
        return svg

    monkeypatch.setattr(figures, "to_svg", keep)
    return drawn


def marks(t) -> tuple[str, str]:
    """(decimal mark, thousands separator) of the edition."""
    return (",", ".") if t.lang == "vi" else (".", ",")


def test_tick_decimals():
    assert figures.tick_decimals([250, 500, 750, 1000]) == 0
    assert figures.tick_decimals([0.0, 0.2, 0.4, 0.6000000000000001]) == 1
    assert figures.tick_decimals([0.97, 0.975, 0.98, 0.985]) == 3
    assert figures.tick_decimals([0.5]) == 1


def test_formatter_uses_the_edition_numbers(t):
    decimal, thousands = marks(t)
    formatter = figures.EditionFormatter(t)
    assert formatter.format_ticks([0.97, 0.975, 0.98]) == [
        f"0{decimal}970",
        f"0{decimal}975",
        f"0{decimal}980",
    ]
    assert formatter.format_ticks([0, 1000, 2000]) == ["0", f"1{thousands}000", f"2{thousands}000"]
    assert figures.EditionFormatter(t)(0.975, 0) == f"0{decimal}975"  # no ticks set yet


def test_learning_curve_ticks(t):
    decimal, thousands = marks(t)
    svg = figures.learning_curves(
        {
            "cnn": [(history(12, 3000), "typical"), (history(12, 2800), "trained")],
            "rnn": [(history(12, 2500), "typical")],
        },
        "mae",
        {"cnn": 8, "rnn": 10},
        t,
    )
    labels = texts(svg)
    assert f"1{thousands}000" in labels  # the loss axis reaches 3,000
    assert any(re.fullmatch(rf"[0-9]{decimal}[0-9]+", label) for label in labels)  # MAE axis
    wrong = "." if t.lang == "vi" else ","
    assert not any(re.fullmatch(rf"-?[0-9]+\{wrong}[0-9]{{1,2}}", label) for label in labels)
    assert t("training-curve") in labels and t("validation") in labels


def test_histogram_counts_and_probabilities(t):
    decimal, thousands = marks(t)
    outputs, y_true = probabilities()
    outputs = {kind: np.clip(p, 0.96, 1.0) for kind, p in outputs.items()}  # > 1,000 in a bin
    labels = texts(figures.probability_histograms(outputs, y_true, t))
    assert f"1{thousands}000" in labels
    assert f"0{decimal}2" in labels  # the probability axis
    other = "0.9" if t.lang == "vi" else "0,9"
    assert not any(other in label for label in labels)


def test_bars_and_confusion_numbers(t):
    decimal, thousands = marks(t)
    bars = texts(
        figures.side_by_side_bars(
            [
                (
                    ["MSE", "Accuracy"],
                    {"cnn": [[0.12, 0.13], [0.975, 0.975]], "rnn": [[0.2, 0.21], [0.9, 0.91]]},
                )
            ],
            "CNN / RNN",
            t,
        )
    )
    assert f"0{decimal}975" in bars  # the bar's value
    assert f"0{decimal}2" in bars or f"0{decimal}25" in bars  # a tick
    assert not any(("0.9" if t.lang == "vi" else "0,9") in label for label in bars)
    matrices = {"cnn": [[1234, 5], [7, 980]], "rnn": [[1100, 2], [3, 999]]}
    cells = texts(figures.confusion_matrices(matrices, ["a", "b"], t))
    assert f"1{thousands}234" in cells and "980" in cells


def test_other_charts_use_the_edition_numbers(t):
    decimal, _ = marks(t)
    rng = np.random.default_rng(1)
    y = rng.uniform(5, 50, 60)
    reg = texts(figures.regression_diagnostics(y, {"cnn": y + 0.5, "rnn": y - 0.5}, t))
    assert t("perfect prediction") in reg
    rows = [("A", "cnn", 0.975, 0.97, 0.98), ("A", "rnn", 0.96, 0.955, 0.966)]
    interval = texts(figures.interval_chart(rows, "title", t))
    assert f"0{decimal}975" in interval
    c = np.linspace(0.55, 0.95, 5)
    curve = {"count": np.ones(5), "confidence": c, "accuracy": c - 0.03, "ece": 0.0312}
    rel = texts(figures.reliability_diagram({"cnn": curve, "rnn": curve}, t))
    assert f"CNN (ECE 0{decimal}031)" in rel
    assert f"0{decimal}4" in rel


def test_vietnamese_charts_have_no_english_labels():
    t = Translator(LOCALE, "vi")
    outputs, y_true = probabilities()
    curves = {"cnn": [(history(5, 10), "typical")], "rnn": [(history(5, 9), "failed")]}
    labels = texts(figures.probability_histograms(outputs, y_true, t))
    labels += texts(figures.learning_curves(curves, "mae", {}, t))
    english = {"train", "validation", "loss", "negative reviews", "positive reviews", "reviews"}
    assert not english & set(labels)  # ("epoch" is Vietnamese too)


def overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_histogram_legend_does_not_cover_the_bars(t, monkeypatch):
    drawn = capture(monkeypatch)
    figures.probability_histograms(*probabilities(), t)
    (fig,) = drawn
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert ax.get_legend() is None
        assert not overlaps(box, ax.get_window_extent(renderer))
        tallest = max(ax.patches, key=lambda patch: patch.get_height())
        assert not overlaps(box, tallest.get_window_extent(renderer))


def test_curve_legends_sit_outside_the_axes(t, monkeypatch):
    drawn = capture(monkeypatch)
    curves = {"cnn": [(history(8, 100), "typical")], "rnn": [(history(8, 90), "typical")]}
    figures.learning_curves(curves, "mae", {"cnn": 5}, t)
    rng = np.random.default_rng(2)
    y = rng.uniform(5, 50, 40)
    figures.regression_diagnostics(y, {"cnn": y + 1, "rnn": y - 1}, t)
    figures.side_by_side_bars([(["MSE"], {"cnn": [[0.1]], "rnn": [[0.2]]})], "title", t)
    c = np.linspace(0.1, 0.9, 5)
    curve = {"count": np.ones(5), "confidence": c, "accuracy": c, "ece": 0.01}
    figures.reliability_diagram({"cnn": curve, "rnn": curve}, t)
    assert len(drawn) == 4
    for fig in drawn:
        renderer = fig.canvas.get_renderer()
        (legend,) = fig.legends
        assert legend.prop.get_size() >= 8
        for ax in fig.axes:
            assert ax.get_legend() is None
            assert not overlaps(legend.get_window_extent(renderer), ax.get_window_extent(renderer))


def test_svg_is_deterministic(t):
    outputs, y_true = probabilities(300)
    first = figures.probability_histograms(outputs, y_true, t)
    assert first == figures.probability_histograms(outputs, y_true, t)
    assert "<dc:date>" not in first


def test_the_bold_curves_are_the_typical_run_and_failed_runs_are_grey(t, monkeypatch):
    drawn = capture(monkeypatch)
    typical, other, failed = history(10, 300), history(10, 200), history(4, 900)
    figures.learning_curves(
        {"cnn": [(other, "trained"), (typical, "typical")], "rnn": [(failed, "failed")]},
        "mae", {"cnn": 7}, t, log_scale=True,
    )  # fmt: skip
    (fig,) = drawn
    loss_panel = fig.axes[0]
    lines = [line for line in loss_panel.get_lines() if len(line.get_xdata()) > 2]
    boldest = max(line.get_linewidth() for line in lines)
    bold = [line for line in lines if line.get_linewidth() == boldest]
    assert {tuple(line.get_ydata()) for line in bold} == {
        tuple(typical["loss"]), tuple(typical["val_loss"])}  # fmt: skip
    grey = [line for line in lines if line.get_color() == figures.CURVE_STYLES["failed"]["color"]]
    assert {tuple(line.get_ydata()) for line in grey} == {
        tuple(failed["loss"]), tuple(failed["val_loss"])}  # fmt: skip
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    assert t("failed run") in [text.get_text() for text in fig.legends[0].get_texts()]


def test_bars_in_other_units_get_their_own_panel(t, monkeypatch):
    drawn = capture(monkeypatch)
    figures.side_by_side_bars(
        [(["MAE", "RMSE"], {"cnn": [[3.0, 3.2], [4.5, 4.9]], "rnn": [[3.1], [4.7]]}),
         (["MSE"], {"cnn": [[20.0, 24.0]], "rnn": [[22.0]]})],
        "T", t,
    )  # fmt: skip
    (fig,) = drawn
    panels = [ax for ax in fig.axes if ax.patches]
    assert [len(ax.patches) for ax in panels] == [4, 2]  # two metrics × two models, then MSE
    assert max(p.get_height() for p in panels[0].patches) < 10 < panels[1].patches[0].get_height()
