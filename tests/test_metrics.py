"""nnlab.metrics on examples small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlab import labs, metrics


def probabilities_for(labels: list[int], k: int, confidence: float = 0.8) -> np.ndarray:
    """`confidence` on each label, the rest shared evenly (a softmax-like output)."""
    probs = np.full((len(labels), k), (1.0 - confidence) / (k - 1))
    probs[np.arange(len(labels)), labels] = confidence
    return probs


# y_true 0 1 2 2 1 0, y_pred 0 2 2 2 1 1: right on samples 0, 2, 3, 4.
Y_TRUE = np.array([0, 1, 2, 2, 1, 0])
Y_PRED = [0, 2, 2, 2, 1, 1]


def test_classification_by_hand():
    result = metrics.classification(Y_TRUE, probabilities_for(Y_PRED, 3))
    assert result["accuracy"] == pytest.approx(4 / 6)
    # Rows are true classes, columns predicted ones.
    assert result["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    # Precision per class 1, 1/2, 2/3; recall 1/2, 1/2, 1; F1 2/3, 1/2, 4/5.
    assert result["precision_macro"] == pytest.approx((1 + 1 / 2 + 2 / 3) / 3)
    assert result["recall_macro"] == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    assert result["f1_macro"] == pytest.approx(59 / 90)
    # Label errors: the differences are 0, -1, 0, 0, 0, -1.
    assert result["label_mse"] == pytest.approx(2 / 6)
    assert result["label_mae"] == pytest.approx(2 / 6)
    assert result["label_rmse"] == pytest.approx(math.sqrt(2 / 6))
    # The true class gets 0.8 on the four right answers and 0.1 on the two wrong ones.
    assert result["log_loss"] == pytest.approx(-(4 * math.log(0.8) + 2 * math.log(0.1)) / 6)
    assert set(result) == {
        "accuracy", "precision_macro", "recall_macro", "f1_macro", "log_loss",
        "confusion_matrix", *metrics.LABEL_ERROR_KEYS,
    }  # fmt: skip
    assert all(type(result[key]) is float for key in result if key != "confusion_matrix")


def test_classification_renormalises_outputs_that_do_not_sum_to_one():
    exact = metrics.classification(Y_TRUE, probabilities_for(Y_PRED, 3))
    drifted = metrics.classification(Y_TRUE, 3.0 * probabilities_for(Y_PRED, 3))
    assert drifted.pop("confusion_matrix") == exact.pop("confusion_matrix")
    assert drifted == pytest.approx(exact)
    float32 = probabilities_for(Y_PRED, 3).astype(np.float32)
    assert metrics.classification(Y_TRUE, float32)["log_loss"] == pytest.approx(exact["log_loss"])


def test_classification_counts_a_class_that_is_never_predicted():
    # Class 2 is in the labels, never predicted: precision 0 for it (zero_division=0).
    result = metrics.classification(np.array([0, 1, 2]), probabilities_for([0, 1, 1], 3))
    assert result["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    assert result["precision_macro"] == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert result["recall_macro"] == pytest.approx(2 / 3)


def test_binary_sigmoid_column():
    outputs = np.array([[0.9], [0.2], [0.6], [0.4]])
    y_true = np.array([1, 0, 0, 1])
    probs = metrics.class_probabilities(outputs)
    assert probs.shape == (4, 2)
    np.testing.assert_allclose(probs, [[0.1, 0.9], [0.8, 0.2], [0.4, 0.6], [0.6, 0.4]])
    assert metrics.predicted_labels(outputs).tolist() == [1, 0, 1, 0]

    result = metrics.classification(y_true, outputs)
    assert result["accuracy"] == 0.5
    assert result["confusion_matrix"] == [[1, 1], [1, 1]]
    assert result["precision_macro"] == pytest.approx(0.5)
    assert result["recall_macro"] == pytest.approx(0.5)
    assert result["f1_macro"] == pytest.approx(0.5)
    loss = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.4)) / 4
    assert result["log_loss"] == pytest.approx(loss)
    assert result["label_mse"] == pytest.approx(0.5)  # differences 0, 0, -1, 1
    assert result["label_mae"] == pytest.approx(0.5)
    assert result["label_rmse"] == pytest.approx(math.sqrt(0.5))


def test_binary_sigmoid_threshold_is_strictly_above_a_half():
    labels = metrics.predicted_labels(np.array([[0.5], [0.5000001], [0.0], [1.0]]))
    assert labels.tolist() == [0, 1, 0, 1]


def test_regression_by_hand():
    y_true = np.array([3.0, -0.5, 2.0, 7.0])
    outputs = np.array([[2.5], [0.0], [2.0], [8.0]], dtype=np.float32)  # a Dense(1) column
    result = metrics.regression(y_true, outputs)
    # Errors 0.5, 0.5, 0, 1; mean 2.875, total sum of squares 29.1875.
    assert result["mse"] == pytest.approx((0.25 + 0.25 + 0 + 1) / 4)
    assert result["mae"] == pytest.approx(2 / 4)
    assert result["rmse"] == pytest.approx(math.sqrt(0.375))
    assert result["r2"] == pytest.approx(1 - 1.5 / 29.1875)
    assert set(result) == {"mse", "mae", "rmse", "r2"}


def test_regression_perfect_and_mean_predictions():
    y_true = np.array([1.0, 2.0, 3.0, 6.0])
    perfect = metrics.regression(y_true, y_true)
    assert perfect == {"mse": 0.0, "mae": 0.0, "rmse": 0.0, "r2": 1.0}
    mean = metrics.regression(y_true, np.full(4, 3.0))
    assert mean["r2"] == pytest.approx(0.0)
    assert mean["mae"] == pytest.approx((2 + 1 + 0 + 3) / 4)


def test_task_dispatch():
    assert labs.task_of("boston") == "regression"
    assert labs.task_of("mnist") == labs.task_of("imdb") == "classification"
    assert "r2" in metrics.for_task("regression", np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    both = metrics.for_task("classification", np.array([0, 1]), np.array([[0.2], [0.7]]))
    assert both["accuracy"] == 1.0
