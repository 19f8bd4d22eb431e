"""Comparisons across training seeds, and the collapse rule, on synthetic runs whose answer is
known."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab import diagnose, spread

N = 4000


def correctness(accuracy: float, seed: int) -> np.ndarray:
    """1/0 per test example, exactly `accuracy` of them right, in a random order."""
    right = np.zeros(N)
    right[: round(accuracy * N)] = 1
    return np.random.default_rng(seed).permutation(right)


def test_two_identical_models_give_an_interval_around_zero():
    runs = [correctness(0.9, seed) for seed in range(3)]
    result = spread.compare(runs, [r.copy() for r in runs], lower_wins=False)
    interval = result["difference"]
    assert interval["value"] == 0 and interval["low"] < 0 < interval["high"]
    assert not result["established"] and result["better"] is None
    assert result["pairs_won"] == {"a": 0, "b": 0}


def test_a_seed_level_gap_is_found():
    a = [correctness(acc, seed) for seed, acc in enumerate((0.90, 0.91, 0.89))]
    b = [correctness(acc, 10 + seed) for seed, acc in enumerate((0.80, 0.81, 0.79))]
    result = spread.compare(a, b, lower_wins=False)
    assert result["difference"]["value"] == pytest.approx(0.10, abs=1e-9)
    assert 0.07 < result["difference"]["low"] < 0.10 < result["difference"]["high"] < 0.13
    assert result["established"] and result["better"] == "a"
    assert result["pairs"] == 3 and result["pairs_won"] == {"a": 3, "b": 0}


def test_seed_variation_can_undo_a_single_run_verdict():
    """Seed 1 alone: a ahead by 10 points on 4,000 examples (decisive on the test set). Across
    three seeds the models trade places, and the difference is not established."""
    a = [correctness(acc, seed) for seed, acc in enumerate((0.95, 0.80, 0.90))]
    b = [correctness(acc, 10 + seed) for seed, acc in enumerate((0.85, 0.92, 0.83))]
    single = spread.compare(a[:1], b[:1], lower_wins=False)
    assert single["established"] and not single["training_variation_measured"]
    result = spread.compare(a, b, lower_wins=False)
    assert result["training_variation_measured"]
    assert result["difference"]["low"] < 0 < result["difference"]["high"]
    assert not result["established"] and result["pairs_won"] == {"a": 2, "b": 1}


def test_lower_is_better_for_errors():
    rng = np.random.default_rng(0)
    a = [np.abs(rng.normal(0, 2, N)) for _ in range(3)]  # smaller absolute errors
    b = [np.abs(rng.normal(0, 4, N)) for _ in range(3)]
    result = spread.compare(a, b, lower_wins=True)
    assert result["difference"]["high"] < 0 and result["better"] == "a"
    assert result["pairs_won"] == {"a": 3, "b": 0}


def test_runs_on_different_test_sets_are_refused():
    with pytest.raises(ValueError, match="different test sets"):
        spread.two_level_difference([np.ones(5)], [np.ones(6)])


# --- collapse ---------------------------------------------------------------------------------
def test_a_regressor_that_predicts_the_mean_has_collapsed():
    y = np.random.default_rng(1).normal(22, 9, 102)
    flat = np.full_like(y, 21.8) + np.random.default_rng(2).normal(0, 0.1, 102)
    assert diagnose.collapse("regression", y, flat) == "mean"


def test_a_spread_out_regressor_worse_than_the_mean_is_named_too():
    y = np.random.default_rng(1).normal(22, 9, 102)
    noise = np.random.default_rng(3).normal(22, 12, 102)  # spread, but unrelated to y
    assert diagnose.collapse("regression", y, noise) == "no-better-than-mean"


def test_a_healthy_regressor_has_not_collapsed():
    y = np.random.default_rng(1).normal(22, 9, 102)
    assert (
        diagnose.collapse("regression", y, y + np.random.default_rng(4).normal(0, 3, 102)) is None
    )


def test_a_classifier_of_one_class_has_collapsed():
    y = np.arange(1000) % 2
    assert diagnose.collapse("classification", y, np.full((1000, 1), 0.7)) == "one-class"
    healthy = np.where(y[:, None] == 1, 0.8, 0.2)
    assert diagnose.collapse("classification", y, healthy) is None
