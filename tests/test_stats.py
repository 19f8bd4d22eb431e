"""Bootstrap CIs and paired significance tests of nnlab.stats (small, fast inputs)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nnlab import stats

RESAMPLES = 400  # enough for stable percentile bounds, quick on a busy machine


def one_hot_probs(labels: np.ndarray, k: int, confidence: float = 0.8) -> np.ndarray:
    """Probabilities that put `confidence` on `labels` and share the rest evenly."""
    probs = np.full((labels.size, k), (1.0 - confidence) / (k - 1))
    probs[np.arange(labels.size), labels] = confidence
    return probs


def noisy_classifier(y: np.ndarray, k: int, error_rate: float, seed: int) -> np.ndarray:
    """Probabilities of a classifier that is wrong on a random `error_rate` share of examples."""
    rng = np.random.default_rng(seed)
    wrong = rng.random(y.size) < error_rate
    labels = np.where(wrong, (y + rng.integers(1, k, y.size)) % k, y)
    return one_hot_probs(labels, k)


def assert_contains_point(result: dict) -> None:
    for key, interval in result.items():
        assert interval["low"] <= interval["value"] <= interval["high"], key
        assert interval["low"] < interval["high"], key


# --- bootstrap indices ----------------------------------------------------------------------


def test_bootstrap_indices_shape_range_and_determinism():
    first = stats.bootstrap_indices(50, n_resamples=30, seed=7)
    assert first.shape == (30, 50)
    assert first.min() >= 0 and first.max() < 50
    np.testing.assert_array_equal(first, stats.bootstrap_indices(50, n_resamples=30, seed=7))
    assert not np.array_equal(first, stats.bootstrap_indices(50, n_resamples=30, seed=8))


def test_out_of_range_indices_are_rejected():
    y = np.array([0, 1, 1, 0])
    with pytest.raises(ValueError):
        stats.classifier_metrics_ci(y, one_hot_probs(y, 2), indices=np.array([[0, 1, 2, -1]]))


# --- classifier CIs -------------------------------------------------------------------------


def test_classifier_point_values_by_hand():
    # 3 classes; predictions: 0->0, 0->1, 1->1, 1->1, 2->2, 2->0
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    probs = one_hot_probs(pred, 3, confidence=0.6)  # others get 0.2 each
    result = stats.classifier_metrics_ci(y, probs, stats.bootstrap_indices(6, 50))
    assert result["accuracy"]["value"] == pytest.approx(np.mean(y == pred))  # 4/6
    # Per class F1 = 2TP / (2TP + FP + FN): class 0: 2/(2+1+1), class 1: 4/(4+1+0),
    # class 2: 2/(2+0+1).
    expected_f1 = (2 / 4 + 4 / 5 + 2 / 3) / 3
    assert result["f1_macro"]["value"] == pytest.approx(expected_f1)
    # True class gets 0.6 on the 4 right examples and 0.2 on the 2 wrong ones.
    expected_loss = -(4 * math.log(0.6) + 2 * math.log(0.2)) / 6
    assert result["log_loss"]["value"] == pytest.approx(expected_loss)


def test_macro_f1_counts_a_class_never_seen_nor_predicted_as_zero():
    # Like sklearn with labels=range(k), zero_division=0: class 2 contributes F1 = 0.
    y = np.array([0, 1, 0, 1])
    result = stats.classifier_metrics_ci(y, one_hot_probs(y, 3), stats.bootstrap_indices(4, 20))
    assert result["f1_macro"]["value"] == pytest.approx(2 / 3)


def test_log_loss_clips_zero_probability_of_true_class():
    y = np.array([0, 1])
    probs = np.array([[1.0, 0.0], [1.0, 0.0]])
    result = stats.classifier_metrics_ci(y, probs, stats.bootstrap_indices(2, 20))
    assert math.isfinite(result["log_loss"]["value"])
    assert result["log_loss"]["value"] == pytest.approx(-math.log(np.finfo(float).eps) / 2)


def test_classifier_cis_contain_point_and_shrink_with_four_times_the_data():
    y = np.random.default_rng(0).integers(0, 3, 300)
    probs = noisy_classifier(y, 3, error_rate=0.2, seed=1)
    small = stats.classifier_metrics_ci(y, probs, stats.bootstrap_indices(300, RESAMPLES))
    y4, probs4 = np.tile(y, 4), np.tile(probs, (4, 1))  # same error rate, n four times larger
    large = stats.classifier_metrics_ci(y4, probs4, stats.bootstrap_indices(1200, RESAMPLES))
    assert_contains_point(small)
    assert_contains_point(large)
    for key in stats.CLASSIFIER_KEYS:
        assert large[key]["value"] == pytest.approx(small[key]["value"])
        small_width = small[key]["high"] - small[key]["low"]
        large_width = large[key]["high"] - large[key]["low"]
        assert large_width < 0.75 * small_width, key  # ~1/2 expected (sqrt(4))


def test_wider_level_gives_wider_interval():
    y = np.random.default_rng(2).integers(0, 2, 200)
    probs = noisy_classifier(y, 2, error_rate=0.3, seed=3)
    indices = stats.bootstrap_indices(200, RESAMPLES)
    narrow = stats.classifier_metrics_ci(y, probs, indices, level=0.8)["accuracy"]
    wide = stats.classifier_metrics_ci(y, probs, indices, level=0.99)["accuracy"]
    assert wide["low"] < narrow["low"] and wide["high"] > narrow["high"]


def test_same_seed_gives_same_ci_and_output_is_json():
    y = np.random.default_rng(4).integers(0, 2, 200)
    probs = noisy_classifier(y, 2, error_rate=0.25, seed=5)
    first = stats.classifier_metrics_ci(y, probs, stats.bootstrap_indices(200, RESAMPLES, seed=9))
    again = stats.classifier_metrics_ci(y, probs, stats.bootstrap_indices(200, RESAMPLES, seed=9))
    other = stats.classifier_metrics_ci(y, probs, stats.bootstrap_indices(200, RESAMPLES, seed=10))
    assert first == again
    assert first != other
    assert json.loads(json.dumps(first)) == first


# --- regressor CIs --------------------------------------------------------------------------


def test_regressor_point_values_and_cis():
    rng = np.random.default_rng(6)
    y = rng.normal(20.0, 5.0, 150)
    pred = y + rng.normal(0.0, 2.0, 150)
    result = stats.regressor_metrics_ci(y, pred, stats.bootstrap_indices(150, RESAMPLES))
    assert_contains_point(result)
    errors = pred - y
    assert result["mse"]["value"] == pytest.approx(np.mean(errors**2))
    assert result["mae"]["value"] == pytest.approx(np.mean(np.abs(errors)))
    assert result["rmse"]["value"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    r2 = 1 - np.sum(errors**2) / np.sum((y - y.mean()) ** 2)
    assert result["r2"]["value"] == pytest.approx(r2)
    assert json.loads(json.dumps(result)) == result


def test_perfect_regressor_has_r2_one_and_zero_error():
    y = np.linspace(0.0, 10.0, 40)
    result = stats.regressor_metrics_ci(y, y.copy(), stats.bootstrap_indices(40, 100))
    assert result["r2"] == {"value": 1.0, "low": 1.0, "high": 1.0}
    assert result["mae"]["high"] == 0.0


def test_vectorised_bootstrap_matches_a_per_resample_loop(monkeypatch):
    # Small blocks force several row blocks; a level near 1 makes low/high the min/max sample.
    monkeypatch.setattr(stats, "_BLOCK_ELEMENTS", 3 * 40)
    rng = np.random.default_rng(20)
    y = rng.integers(0, 3, 40)
    probs = rng.dirichlet(np.ones(3), 40)
    target = rng.normal(size=40)
    pred = target + rng.normal(size=40)
    indices = stats.bootstrap_indices(40, n_resamples=10, seed=21)
    level = 1 - 1e-12
    clf = stats.classifier_metrics_ci(y, probs, indices, level)
    reg = stats.regressor_metrics_ci(target, pred, indices, level)
    accuracy, f1, r2 = [], [], []
    for row in indices:
        labels, predicted = y[row], probs[row].argmax(axis=1)
        accuracy.append(np.mean(labels == predicted))
        per_class = []
        for k in range(3):
            tp = np.sum((labels == k) & (predicted == k))
            wrong = np.sum((labels == k) != (predicted == k))  # FP + FN
            per_class.append(2 * tp / (2 * tp + wrong) if 2 * tp + wrong else 0.0)
        f1.append(np.mean(per_class))
        t, e = target[row], pred[row] - target[row]
        r2.append(1 - np.sum(e**2) / np.sum((t - t.mean()) ** 2))  # the resample's own mean
    for result, samples in ((clf["accuracy"], accuracy), (clf["f1_macro"], f1), (reg["r2"], r2)):
        assert result["low"] == pytest.approx(min(samples), abs=1e-9)
        assert result["high"] == pytest.approx(max(samples), abs=1e-9)


# --- McNemar --------------------------------------------------------------------------------


def correctness_table(both: int, only_a: int, only_b: int, neither: int):
    """Paired correctness vectors with the given 2x2 counts."""
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return np.array(a), np.array(b)


def test_mcnemar_exact_small_table_by_hand():
    result = stats.mcnemar(*correctness_table(both=50, only_a=10, only_b=2, neither=8))
    assert (result["b"], result["c"], result["n_discordant"]) == (10, 2, 12)
    assert result["method"] == "exact"
    # 2 * P(X <= 2), X ~ Binomial(12, 1/2) = 2 * (1 + 12 + 66) / 4096
    assert result["p_value"] == pytest.approx(2 * 79 / 4096)
    assert result["p_value"] == pytest.approx(0.0386, abs=1e-4)


def test_mcnemar_large_table_uses_continuity_corrected_chi2():
    result = stats.mcnemar(*correctness_table(both=800, only_a=40, only_b=20, neither=140))
    assert result["method"] == "chi2"
    assert result["statistic"] == pytest.approx((abs(40 - 20) - 1) ** 2 / 60)  # 361/60
    # chi-square with 1 df: P(X > s) = erfc(sqrt(s / 2))
    assert result["p_value"] == pytest.approx(math.erfc(math.sqrt(361 / 60 / 2)))
    assert 0.01 < result["p_value"] < 0.02


def test_mcnemar_switches_method_at_25_discordant_pairs():
    assert stats.mcnemar(*correctness_table(10, 20, 4, 0))["method"] == "exact"  # 24
    assert stats.mcnemar(*correctness_table(10, 20, 5, 0))["method"] == "chi2"  # 25


def test_mcnemar_without_discordant_pairs():
    result = stats.mcnemar(*correctness_table(both=30, only_a=0, only_b=0, neither=5))
    assert result == {
        "b": 0,
        "c": 0,
        "n_discordant": 0,
        "statistic": 0.0,
        "p_value": 1.0,
        "method": "exact",
    }


# --- paired t on absolute errors -------------------------------------------------------------


def test_paired_t_detects_clearly_better_regressor():
    rng = np.random.default_rng(11)
    y = rng.normal(0.0, 1.0, 100)
    good = y + rng.normal(0.0, 0.1, 100)
    bad = y + rng.normal(0.0, 1.0, 100)
    result = stats.paired_t_abs_errors(y, good, bad)
    assert result["p_value"] < 0.01
    assert result["mean_diff"] < 0  # a's absolute errors are smaller


def test_paired_t_on_students_sleep_data():
    """Cushny and Peebles' paired differences (Student 1908): t = 4.062, df 9, p = 0.00283
    (R's t.test(extra ~ group, data = sleep, paired = TRUE))."""
    gains = np.array([1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4])
    y = np.zeros(gains.size)
    result = stats.paired_t_abs_errors(y, np.full(gains.size, 10.0), 10.0 + gains)
    assert result["mean_diff"] == pytest.approx(-1.58)
    assert result["statistic"] == pytest.approx(-4.0621, abs=1e-4)
    assert result["p_value"] == pytest.approx(0.002833, abs=1e-6)
    assert result["df"] == 9


def test_paired_t_follows_the_mae_where_the_median_points_the_other_way():
    """Most districts slightly worse, a few much better: the MAE favours a, the median of the
    differences does not. The test's direction is the MAE's."""
    y = np.zeros(10)
    b = np.full(10, 6.0)
    a = b + np.array([0.5] * 7 + [-5.0] * 3)
    result = stats.paired_t_abs_errors(y, a, b)
    assert np.median(np.abs(a) - np.abs(b)) > 0
    assert result["mean_diff"] == pytest.approx(-1.15)
    assert result["statistic"] < 0


def test_paired_t_identical_regressors():
    y = np.arange(20.0)
    pred = y + 0.5
    found = stats.paired_t_abs_errors(y, pred, pred.copy())
    assert (found["p_value"], found["mean_diff"]) == (1.0, 0.0)


# --- model comparisons ----------------------------------------------------------------------


def test_compare_classifiers_finds_clearly_better_model():
    y = np.random.default_rng(12).integers(0, 2, 400)
    good = noisy_classifier(y, 2, error_rate=0.1, seed=13)
    bad = noisy_classifier(y, 2, error_rate=0.35, seed=14)
    result = stats.compare_classifiers(y, {"bad": bad, "good": good}, n_resamples=RESAMPLES)
    assert result["significant"] is True
    assert result["better"] == "good"
    assert result["test"]["method"] == "chi2"
    difference = result["difference"]
    accuracy_gap = result["bad"]["accuracy"]["value"] - result["good"]["accuracy"]["value"]
    assert difference["value"] == pytest.approx(accuracy_gap)
    assert difference["low"] <= difference["value"] <= difference["high"] < 0
    assert json.loads(json.dumps(result)) == result


def test_compare_classifiers_identical_models_not_significant():
    y = np.random.default_rng(15).integers(0, 3, 200)
    probs = noisy_classifier(y, 3, error_rate=0.3, seed=16)
    result = stats.compare_classifiers(
        y, {"cnn": probs, "rnn": probs.copy()}, n_resamples=RESAMPLES
    )
    assert result["significant"] is False
    assert result["better"] is None
    assert result["test"]["p_value"] == 1.0
    assert result["difference"] == {"value": 0.0, "low": 0.0, "high": 0.0}
    assert result["cnn"] == result["rnn"]


def test_compare_regressors_finds_clearly_better_model():
    rng = np.random.default_rng(17)
    y = rng.normal(22.0, 9.0, 102)  # Boston Housing test-set size
    good = y + rng.normal(0.0, 1.0, 102)
    bad = y + rng.normal(0.0, 5.0, 102)
    result = stats.compare_regressors(y, {"good": good, "bad": bad}, n_resamples=RESAMPLES)
    assert result["significant"] is True
    assert result["better"] == "good"
    mae_gap = result["good"]["mae"]["value"] - result["bad"]["mae"]["value"]
    assert result["difference"]["value"] == pytest.approx(mae_gap)
    assert result["difference"]["high"] < 0
    assert json.loads(json.dumps(result)) == result


def test_compare_regressors_identical_models_not_significant():
    y = np.linspace(5.0, 50.0, 60)
    pred = y + np.sin(y)
    result = stats.compare_regressors(y, {"cnn": pred, "rnn": pred.copy()}, n_resamples=RESAMPLES)
    assert result["significant"] is False
    assert result["better"] is None


# --- seeds and speed ------------------------------------------------------------------------


def test_seed_summary():
    summary = stats.seed_summary([0.97, 0.98, 0.99])
    assert summary == {"mean": pytest.approx(0.98), "std": pytest.approx(0.01), "n": 3}
    assert stats.seed_summary([0.5]) == {"mean": 0.5, "std": 0.0, "n": 1}
    with pytest.raises(ValueError):
        stats.seed_summary([])


def test_the_bootstrap_runs_at_imdb_size_in_blocks():
    # 2,000 resamples over the 25,000 IMDB test reviews: a 400 MB gather if done at once.
    y = np.random.default_rng(18).integers(0, 2, 25_000)
    probs = noisy_classifier(y, 2, error_rate=0.15, seed=19)
    result = stats.classifier_metrics_ci(y, probs, stats.bootstrap_indices(25_000, 2000))
    assert result["accuracy"]["high"] - result["accuracy"]["low"] < 0.02
