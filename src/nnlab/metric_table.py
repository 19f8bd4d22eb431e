"""Every metric the report shows, in one table: which direction is better, whether it is a
percentage, and how many digits it is written with. Tables, verdicts, sentences and charts read
it; `Translator.metric` (report/i18n.py) is the one formatter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str
    higher_is_better: bool
    percent: bool
    digits: int  # after the decimal mark (of the percentage, where `percent`)


METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in (
        Metric("accuracy", True, True, 2),
        Metric("precision_macro", True, True, 2),
        Metric("recall_macro", True, True, 2),
        Metric("f1_macro", True, True, 2),
        Metric("log_loss", False, False, 4),
        Metric("mse", False, False, 2),
        Metric("mae", False, False, 3),
        Metric("rmse", False, False, 3),
        Metric("r2", True, False, 3),
    )
}
# The metrics each task's results table shows, in order.
SHOWN = {
    "classification": ("accuracy", "precision_macro", "recall_macro", "f1_macro", "log_loss"),
    "regression": ("mse", "mae", "rmse", "r2"),
}
