"""Test-set metrics computed from saved predictions (NumPy and scikit-learn; no TensorFlow)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

# The notebook's MSE/MAE/RMSE on predicted class labels: kept for fidelity, not a classifier
# measure (it depends on the arbitrary numeric coding of the classes).
LABEL_ERROR_KEYS = ("label_mse", "label_mae", "label_rmse")
# A review is called positive when the sigmoid output exceeds this (the notebook's rule).
THRESHOLD = 0.5


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as an (n, classes) probability matrix (a sigmoid column becomes two)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        positive = outputs[:, 0]
        return np.stack([1.0 - positive, positive], axis=1)
    return outputs / outputs.sum(axis=1, keepdims=True)  # float32 softmax sums drift from 1


def predicted_labels(outputs: np.ndarray) -> np.ndarray:
    """Class labels; a sigmoid column is cut at THRESHOLD (argmax of the two columns is the
    same cut for 0.5, written out here so the rule has one place)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return (outputs[:, 0] > THRESHOLD).astype(np.int64)
    return np.argmax(outputs, axis=1)


def classification(y_true: np.ndarray, outputs: np.ndarray) -> dict:
    probabilities = class_probabilities(outputs)
    n_classes = probabilities.shape[1]
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = predicted_labels(outputs)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, average="macro", labels=range(n_classes), zero_division=0
    )
    label_mse = float(np.mean((y_true - y_pred) ** 2))
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision_macro": float(precision),
        "recall_macro": float(recall),
        "f1_macro": float(f1),
        "log_loss": float(skm.log_loss(y_true, probabilities, labels=range(n_classes))),
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=range(n_classes)).tolist(),
        "label_mse": label_mse,
        "label_mae": float(np.mean(np.abs(y_true - y_pred))),
        "label_rmse": float(np.sqrt(label_mse)),
    }


def regression(y_true: np.ndarray, outputs: np.ndarray) -> dict:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(outputs, dtype=np.float64).reshape(-1)
    mse = float(skm.mean_squared_error(y_true, y_pred))
    return {
        "mse": mse,
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(mse)),
        "r2": float(skm.r2_score(y_true, y_pred)),
    }


def for_task(task: str, y_true: np.ndarray, outputs: np.ndarray) -> dict:
    return (
        classification(y_true, outputs) if task == "classification" else regression(y_true, outputs)
    )


def main_metric(task: str) -> str:
    """The metric a lab is summarised by: accuracy for classifiers, MAE for the regressor."""
    return "accuracy" if task == "classification" else "mae"
