"""Fitting verdicts, label-noise cues and confusion pairs (diagnose.py) on synthetic histories
and on curves copied from real runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlab import diagnose
from nnlab.runfiles import read_history


def history(loss, val_loss):
    return {"loss": list(loss), "val_loss": list(val_loss)}


# Early-stopped after 8 of 20 epochs: validation best at epoch 5, then 20 % higher by epoch 8
# while training keeps falling.
OVERFIT = history(
    [1.0, 0.7, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2],
    [1.0, 0.8, 0.6, 0.5, 0.45, 0.48, 0.51, 0.54],
)
# Real runs (build/runs/full/*/seed-42, rounded): the MNIST LSTM ends with val - train = 0.0003;
# the Boston CNN's best validation epoch is 48 of its 50-epoch budget.
MNIST_LSTM = history(
    [0.5970, 0.1710, 0.1176, 0.0918, 0.0767], [0.1809, 0.1192, 0.0792, 0.0630, 0.0771]
)
BOSTON_CNN = history(
    [312.2, 79.4, 53.7, 47.2, 42.0, 31.9, 31.7, 31.7, 31.9, 25.2, 27.6, 26.5, 19.3, 21.8, 20.3,
     23.6, 22.8, 23.1, 21.3, 21.0, 19.3, 17.1, 20.0, 17.2, 20.2, 21.1, 18.6, 21.0, 17.0, 16.4,
     18.7, 18.4, 14.8, 18.8, 15.9, 17.8, 17.4, 16.0, 15.3, 16.9, 16.6, 16.9, 18.9, 14.7, 15.5,
     15.2, 16.4, 14.24, 16.3, 14.46],
    [430.7, 448.7, 446.3, 438.7, 429.1, 421.3, 411.0, 396.9, 384.6, 369.8, 359.2, 352.0, 344.3,
     330.4, 317.7, 295.9, 285.9, 270.9, 260.6, 248.5, 239.9, 232.7, 204.5, 179.2, 185.1, 181.3,
     160.5, 122.5, 140.0, 119.5, 100.9, 79.6, 96.9, 69.8, 68.1, 63.2, 53.0, 47.1, 43.0, 30.6,
     36.1, 21.1, 22.9, 20.2, 13.46, 20.8, 14.1, 13.09, 15.4, 13.47],
)  # fmt: skip


def test_a_rise_of_a_fifth_after_the_best_epoch_is_overfitting_from_the_next_epoch():
    result = diagnose.fitting(OVERFIT, epochs_budget=20, failure=None)
    assert result["verdict"] == "overfitting"
    assert (result["best_epoch"], result["from_epoch"], result["epochs_run"]) == (5, 6, 8)
    assert result["rise"] == pytest.approx(0.09)
    assert result["rise_relative"] == pytest.approx(0.2)
    assert result["final_gap"] == pytest.approx({"best": 0.10, "last": 0.34})


def test_a_wiggle_below_the_noise_margin_is_not_overfitting():
    wiggle = history(OVERFIT["loss"], [1.0, 0.8, 0.6, 0.5, 0.45, 0.459, 0.455, 0.458])  # +1.8 %
    result = diagnose.fitting(wiggle, epochs_budget=20, failure=None)
    assert result["verdict"] == "good-fit"
    assert result["from_epoch"] is None


def test_a_rise_while_training_loss_rises_too_is_not_overfitting():
    both_rise = history([1.0, 0.7, 0.5, 0.4, 0.35, 0.4, 0.45, 0.5], OVERFIT["val_loss"])
    assert diagnose.fitting(both_rise, epochs_budget=20, failure=None)["verdict"] == "good-fit"


def test_best_epoch_at_the_end_of_the_whole_budget_is_still_improving():
    falling = history([1.0, 0.8, 0.6, 0.5, 0.42, 0.36], [1.1, 0.9, 0.7, 0.6, 0.52, 0.45])
    result = diagnose.fitting(falling, epochs_budget=6, failure=None)
    assert result["verdict"] == "still-improving"
    assert result["best_epoch"] == result["epochs_run"] == 6


def test_a_flat_tiny_gap_plateau_is_a_good_fit_even_if_its_minimum_falls_last():
    loss = [0.6, 0.2, 0.1, 0.08, 0.0772, 0.0771, 0.0770, 0.0771, 0.0770, 0.0770]
    val = [0.2, 0.1, 0.08, 0.0775, 0.0774, 0.0775, 0.0774, 0.0775, 0.0774, 0.0773]  # gap 0.0003
    result = diagnose.fitting(history(loss, val), epochs_budget=10, failure=None)
    assert result["verdict"] == "good-fit"
    assert result["final_gap"]["last"] == pytest.approx(0.0003)


def test_real_mnist_lstm_with_no_train_validation_gap_is_not_overfitting():
    result = diagnose.fitting(MNIST_LSTM, epochs_budget=5, failure=None)
    assert result["verdict"] != "overfitting"
    assert result["best_epoch"] == 4


def test_real_boston_cnn_best_at_48_of_50_is_still_improving():
    result = diagnose.fitting(BOSTON_CNN, epochs_budget=50, failure=None)
    assert result["verdict"] == "still-improving"
    assert (result["best_epoch"], result["epochs_run"]) == (48, 50)


def test_the_same_curve_cut_short_by_early_stopping_is_not_still_improving():
    result = diagnose.fitting(BOSTON_CNN, epochs_budget=100, failure=None)
    assert result["verdict"] == "good-fit"


def test_a_collapsed_run_is_failed_whatever_its_curves_say():
    result = diagnose.fitting(OVERFIT, epochs_budget=20, failure="plateau")
    assert (result["verdict"], result["failure"], result["from_epoch"]) == (
        "failed",
        "plateau",
        None,
    )
    assert result["best_epoch"] == 5  # the numbers are still there for the report


def test_a_non_finite_loss_is_failed():
    diverged = history([1.0, 2.0, math.nan], [1.0, 3.0, math.inf])
    result = diagnose.fitting(diverged, epochs_budget=10, failure=None)
    assert (result["verdict"], result["failure"]) == ("failed", "diverged")


def test_losses_that_barely_move_are_underfitting():
    flat = history([0.70, 0.69, 0.69, 0.68, 0.69], [0.70, 0.69, 0.695, 0.69, 0.692])
    assert diagnose.fitting(flat, epochs_budget=5, failure=None)["verdict"] == "underfitting"


def test_underfitting_outranks_still_improving():
    creeping = history([0.70, 0.69, 0.68, 0.67, 0.66], [0.70, 0.69, 0.68, 0.67, 0.66])
    assert diagnose.fitting(creeping, epochs_budget=5, failure=None)["verdict"] == "underfitting"


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False)
curve_pairs = st.integers(1, 30).flatmap(
    lambda n: st.tuples(*[st.lists(finite, min_size=n, max_size=n)] * 2)
)


@given(
    curve_pairs,
    st.integers(1, 60),
    st.sampled_from([None, *diagnose.FAILURE_CAUSES]),
)
def test_fitting_always_gives_one_verdict_and_consistent_numbers(curves, budget, collapse):
    loss, val = curves
    result = diagnose.fitting(history(loss, val), max(budget, len(loss)), collapse)
    assert result["verdict"] in diagnose.VERDICTS
    assert (result["verdict"] == "failed") == (collapse is not None)
    assert 1 <= result["best_epoch"] <= len(loss)
    assert val[result["best_epoch"] - 1] == min(val)
    assert (result["from_epoch"] is not None) == (result["verdict"] == "overfitting")
    if result["from_epoch"] is not None:
        assert result["from_epoch"] == result["best_epoch"] + 1 <= len(loss)
    json.dumps(result, allow_nan=False)


def words(text):
    return text.split()


def test_a_decimal_rating_contradicting_a_negative_label_is_a_positive_cue():
    assert diagnose.label_noise(words("i give it 9 5 10"), 0) == {
        "cue": "9 5 10", "says": "positive", "kind": "rating"
    }  # fmt: skip
    assert diagnose.label_noise(words("i give it 9 5 10"), 1) is None


@pytest.mark.parametrize(
    ("text", "label", "cue", "says", "kind"),
    [
        ("solid 8 out of 10 br br", 0, "8 out of 10", "positive", "rating"),
        ("a fair 7 10", 0, "7 10", "positive", "rating"),
        ("10 10 would watch again", 0, "10 10", "positive", "rating"),
        ("generous at 2 out of 10", 1, "2 out of 10", "negative", "rating"),
        ("4 10 at best", 1, "4 10", "negative", "rating"),
        ("1 10 the worst movie ever", 1, "1 10", "negative", "rating"),
        ("the worst movie title ever but i give it 9 10", 0, "9 10", "positive", "rating"),
        ("this is a must see", 0, "a must see", "positive", "phrase"),
        ("a complete waste of time", 1, "waste of time", "negative", "phrase"),
    ],
)
def test_cues_against_the_label(text, label, cue, says, kind):
    expected = {"cue": cue, "says": says, "kind": kind}
    assert diagnose.label_noise(words(text), label) == expected


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("the first half is a 9 10 the ending a 2 10", 0),  # ratings both ways
        ("the first half is a 9 10 the ending a 2 10", 1),
        ("a must see for fans but the worst movie of the year", 0),  # phrases both ways
        ("the worst movie title ever but i give it 9 10", 1),  # the rating outranks the phrase
        ("a quiet film about a family br br", 0),  # no cue
        ("a middling 5 10", 0),  # 5 and 6 are no cue either way (IMDB left them out)
        ("a middling 6 5 10", 1),
        ("on a scale of 1 10 it is fine", 1),  # a range, not a rating
        ("seen on a 1 10 scale", 1),
        ("released 10 10 2005", 0),  # a date
        ("i give it 9 ? 10", 0),  # out-of-vocabulary digit: unreadable
        ("it is not a must see", 0),  # negated phrase
        ("far from the worst film ever", 1),
    ],
)
def test_no_cue_against_the_label(text, label):
    assert diagnose.label_noise(words(text), label) is None


def test_confused_pairs_are_sorted_by_count_then_cell_with_row_shares():
    confusion = [[5, 2, 1], [3, 4, 3], [0, 6, 2]]
    assert diagnose.confused_pairs(confusion) == [
        {"true": 2, "predicted": 1, "count": 6, "share_of_true": 0.75},
        {"true": 1, "predicted": 0, "count": 3, "share_of_true": 0.3},
        {"true": 1, "predicted": 2, "count": 3, "share_of_true": 0.3},
    ]
    everything = diagnose.confused_pairs(confusion, top=10)
    assert [(p["true"], p["predicted"]) for p in everything] == [
        (2, 1),
        (1, 0),
        (1, 2),
        (0, 1),
        (0, 2),
    ]  # fmt: skip (the empty cell (2, 0) and the diagonal are never listed)


def test_a_perfect_classifier_has_no_confused_pairs():
    assert diagnose.confused_pairs([[7, 0], [0, 9]]) == []


# --- failure: why a run did not train ------------------------------------------------------------
FAILED_RUNS = Path(__file__).parent / "fixtures" / "failed-runs"  # frozen runs (2-core Zen 4)


def _frozen(name: str) -> tuple:
    folder = FAILED_RUNS / name
    with np.load(folder / "predictions.npz") as npz:
        y, outputs = npz["y_true"], npz["outputs"]
    budget = json.loads((folder / "run.json").read_text())["inputs"]["params"]["settings"]["epochs"]
    return y, outputs, read_history(folder / "history.csv"), budget


@pytest.mark.parametrize("name", ["boston-rnn-seed-43", "boston-rnn-seed-44"])
def test_the_boston_lstms_stopped_on_the_plateau(name):
    assert diagnose.failure("regression", *_frozen(name)) == "plateau"


def test_the_boston_lstm_that_crossed_the_plateau_trained():
    assert diagnose.failure("regression", *_frozen("boston-rnn-seed-42")) is None


def test_the_imdb_lstm_at_chance():
    assert diagnose.failure("classification", *_frozen("imdb-rnn-seed-42")) == "chance"


def test_failure_causes_on_synthetic_runs():
    rng = np.random.default_rng(5)
    y = rng.normal(22, 9, 102)
    flat = np.full(102, 22.4) + rng.normal(0, 0.05, 102)
    plateau = history([400, 90, 80, 78, 77, 77], [300, 48, 47, 49, 50, 51])
    assert diagnose.failure("regression", y, flat, plateau, epochs_budget=50) == "plateau"
    assert diagnose.failure("regression", y, flat, plateau, epochs_budget=6) == "other"
    diverged = history([5.0, float("nan")], [4.0, float("nan")])
    assert diagnose.failure("regression", y, y, diverged, epochs_budget=10) == "diverged"
    healthy = history([400, 90, 30, 20], [300, 48, 30, 25])
    assert diagnose.failure("regression", y, y + rng.normal(0, 3, 102), healthy, 4) is None
    labels = rng.integers(0, 2, 1000)
    confident = np.where(labels == 1, 0.9, 0.1).reshape(-1, 1)
    learned = history([0.6, 0.3], [0.5, 0.3])
    assert diagnose.failure("classification", labels, confident, learned, 5) is None
    at_chance = history([0.69, 0.69], [0.693, 0.67])  # best 0.67 >= 0.9 ln 2 = 0.62
    assert diagnose.failure("classification", labels, confident, at_chance, 5) == "chance"
    one_class = np.full((1000, 1), 0.7)
    assert diagnose.failure("classification", labels, one_class, learned, 5) == "chance"


def test_a_nearly_flat_regressor_fails_even_with_some_r2():
    rng = np.random.default_rng(8)
    y = rng.normal(22, 9, 500)
    nearly_flat = 22 + 0.05 * (y - 22)  # R² > 0 but a 20th of the targets' spread
    run = history([100, 60, 50], [90, 55, 50])
    assert diagnose.failure("regression", y, nearly_flat, run, epochs_budget=50) == "plateau"


def test_a_classifier_no_better_than_the_majority_class_fails():
    labels = np.array([1] * 900 + [0] * 100)
    guesses = np.where(np.arange(1000) % 10 == 0, 0.1, 0.9).reshape(-1, 1)  # 90 % positive
    run = history([0.5, 0.4], [0.45, 0.40])
    assert diagnose.failure("classification", labels, guesses, run, 5) == "chance"


def test_the_restart_rule_reads_the_first_validation_epoch():
    assert diagnose.at_chance_after_first_epoch({"val_loss": [0.7387, 0.69]}, 2)
    assert not diagnose.at_chance_after_first_epoch({"val_loss": [0.52, 0.30]}, 2)


def test_a_regressor_cut_short_just_off_the_plateau_failed():
    rng = np.random.default_rng(9)
    y = rng.normal(22, 9, 500)
    barely = 22 + 0.35 * (y - 22) + rng.normal(0, 7, 500)  # R² about 0.1
    run = history([400, 80, 70, 60], [300, 40, 35, 36])
    assert diagnose.failure("regression", y, barely, run, epochs_budget=50) == "plateau"
    assert diagnose.failure("regression", y, barely, run, epochs_budget=4) is None  # full budget
