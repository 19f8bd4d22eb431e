"""Rules that name what went wrong with a run, from its saved predictions."""

from __future__ import annotations

import numpy as np

from nnlab import metrics

# A regressor whose predictions spread less than this share of the targets' spread predicts
# (nearly) one value: the mean it fell back to.
FLAT_SPREAD = 0.1
# A classifier that puts this share of the test set into one class predicts one class.
ONE_CLASS_SHARE = 0.95


def collapse(task: str, y_true: np.ndarray, outputs: np.ndarray) -> str | None:
    """'mean' when a regressor predicts (nearly) one value and explains nothing (R² ≤ 0),
    'no-better-than-mean' when R² ≤ 0 otherwise, 'one-class' when a classifier puts nearly
    every example into the same class; None for a run that learned something."""
    if task == "regression":
        y = np.asarray(y_true, dtype=np.float64).reshape(-1)
        predicted = np.asarray(outputs, dtype=np.float64).reshape(-1)
        if metrics.regression(y, predicted)["r2"] > 0:
            return None
        return "mean" if predicted.std() < FLAT_SPREAD * y.std() else "no-better-than-mean"
    labels = metrics.predicted_labels(outputs)
    share = np.bincount(labels).max() / len(labels)
    return "one-class" if share >= ONE_CLASS_SHARE else None
