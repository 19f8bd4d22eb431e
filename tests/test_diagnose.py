"""Fitting verdicts, label-noise cues and confusion pairs (diagnose.py) on synthetic histories
and on curves copied from real runs."""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlab import diagnose, results, samples
from nnlab.data import boston
from nnlab.report import context as ctx
from nnlab.results import RunResult


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


def test_two_minima_at_the_last_epoch_are_told_apart_by_how_far_they_fell():
    """The frozen MNIST runs (seed 42 CNN, seed 43 LSTM): both lowest in epoch 5 of 5; the CNN's
    is 4.3 % below epoch 3's, under the 5 % that counts as still falling, the LSTM's 21 %."""
    cnn = history(
        [0.2022, 0.0546, 0.0361, 0.0274, 0.0216], [0.0568, 0.0455, 0.0444, 0.0508, 0.0425]
    )
    lstm = history([0.5907, 0.1744, 0.115, 0.0872, 0.0712], [0.1546, 0.0986, 0.0739, 0.069, 0.0548])
    found = {name: diagnose.fitting(run, 5, None) for name, run in (("cnn", cnn), ("lstm", lstm))}
    assert [found[name]["best_epoch"] for name in found] == [5, 5]
    assert (found["cnn"]["verdict"], found["lstm"]["verdict"]) == ("good-fit", "still-improving")
    assert found["cnn"]["late_fall"] == pytest.approx(1 - 0.0425 / 0.0444)
    assert found["lstm"]["late_fall"] == pytest.approx(1 - 0.0548 / 0.069)
    assert found["cnn"]["near"] == 1


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


# --- failure: why a run did not train, from its history alone ------------------------------------
FIXTURES = Path(__file__).parent / "fixtures"
FAILED_RUNS = FIXTURES / "failed-runs"  # frozen runs (2-core Zen 4)
REPO = Path(__file__).resolve().parents[1]
LN2 = math.log(2)


def boston_targets() -> np.ndarray:
    """The Boston training prices, converted from the fixture CSV as from the real archive."""
    text = (FIXTURES / "boston_house_prices.csv").read_text(encoding="utf-8")
    return boston.from_csv_text(text)["y_train"]


# The validation MSE of predicting the fitted districts' mean (363 fitted, 41 validated).
BOSTON_NULL = 43.629


class TestData:
    """Stands for a run's test labels and predictions: any use of it fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"the failure rule read the test set ({name})")

    def __array__(self, *args, **kwargs):
        raise AssertionError("the failure rule read the test set (as an array)")

    def __len__(self):
        raise AssertionError("the failure rule read the test set (its length)")

    def __getitem__(self, item):
        raise AssertionError("the failure rule read the test set (an item)")


def frozen_run(name: str, poisoned: bool = False) -> RunResult:
    """A fixture run; `poisoned`: its test labels, predictions and metrics replaced by TestData."""
    folder = FAILED_RUNS / name
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    run = results.read_run(folder, name.rsplit("-seed-", 1)[0], record)
    if poisoned:
        run = replace(run, y_true=TestData(), outputs=TestData(), metrics=TestData())
    return run


def fixture_lab(name: str) -> ctx.Lab:
    return ctx.Lab(name, {}, {}, boston_targets() if name == "boston" else None)


def test_the_null_losses_are_guessing_and_predicting_the_fitted_mean():
    lab = fixture_lab("boston")
    assert ctx.null_loss(lab, frozen_run("boston-rnn-seed-43")) == pytest.approx(
        BOSTON_NULL, abs=1e-3
    )
    assert ctx.null_loss(fixture_lab("imdb"), frozen_run("imdb-rnn-seed-42")) == pytest.approx(LN2)
    assert ctx.null_loss(fixture_lab("mnist"), frozen_run("imdb-rnn-seed-42")) == pytest.approx(
        math.log(10)
    )
    # without the training prices a regressor's null loss is unknown, and so is its failure
    assert ctx.null_loss(ctx.Lab("boston", {}, {}), frozen_run("boston-rnn-seed-43")) is None
    unvalidated = frozen_run("boston-rnn-seed-43")
    unvalidated.record["inputs"]["params"]["settings"]["validation_split"] = 0.0
    assert ctx.null_loss(lab, unvalidated) is None


@pytest.mark.parametrize(
    ("name", "cause"),
    [("boston-rnn-seed-43", "plateau"), ("boston-rnn-seed-44", "plateau"),
     ("boston-rnn-seed-42", None), ("imdb-rnn-seed-42", "chance")],
)  # fmt: skip
def test_frozen_runs_fail_by_their_validation_history(name, cause):
    assert ctx.failure_of(fixture_lab(name.split("-")[0]), frozen_run(name)) == cause


@pytest.mark.parametrize(
    "name", ["boston-rnn-seed-42", "boston-rnn-seed-43", "boston-rnn-seed-44", "imdb-rnn-seed-42"]
)
def test_the_failure_rule_reads_no_test_data(name):
    lab = fixture_lab(name.split("-")[0])
    assert ctx.failure_of(lab, frozen_run(name, poisoned=True)) == ctx.failure_of(
        lab, frozen_run(name)
    )
    # and nothing of the test set can reach it: its inputs are the history and the null loss
    assert list(inspect.signature(diagnose.failure).parameters) == [
        "task", "history", "epochs_budget", "null_loss"
    ]  # fmt: skip


def test_a_run_fails_at_half_the_null_loss_for_a_regressor_and_nine_tenths_for_a_classifier():
    trained = history([300, 60, 30, 22], [250, 50, 30, 21.9])  # best below 22 = 0.5 x 44
    assert diagnose.failure("regression", trained, 4, null_loss=44.0) is None
    assert diagnose.failure("regression", trained, 4, null_loss=43.8) is not None
    near_chance = history([0.7, 0.66], [0.69, 0.63])  # 0.63 >= 0.9 ln 2 = 0.624
    assert diagnose.failure("classification", near_chance, 5, LN2) == "chance"
    learned = history([0.7, 0.4], [0.6, 0.9 * LN2 - 0.01])
    assert diagnose.failure("classification", learned, 5, LN2) is None


def test_a_regressor_on_the_mean_s_plateau_whatever_a_lucky_epoch():
    # down to the null loss in one epoch, one epoch 25 % below it by chance, then back: early
    # stopping ends it; the lucky epoch is not a descent (the Boston LSTMs, seeds 42, 45, 47)
    run = history([480, 210, 90, 85, 80, 75, 70, 66, 62, 58, 55],
                  [370, 45, 52, 41, 47, 33, 44, 50, 46, 43, 48])  # fmt: skip
    assert diagnose.failure("regression", run, 50, null_loss=44.0) == "plateau"


def test_a_regressor_stopped_while_still_descending():
    # the wide CNN's seed 42 (val MAE 20.6 -> 6.1 every epoch), then five noisy epochs: early
    # stopping fired on its way down, 1.5-1.9 times the null loss
    val = [468, 442, 414, 369, 323, 282, 248, 220, 190, 163, 151, 128, 111, 95, 88, 86, 74, 72,
           63, 65, 68, 75, 70, 83]  # fmt: skip
    run = history([197, 74, 51, 43, 33, 28, 24, 26, 23, 25, 23, 20, 20, 20, 17, 17, 14, 17, 14,
                   15, 24, 24, 21, 16], val)  # fmt: skip
    assert diagnose.failure("regression", run, 50, null_loss=BOSTON_NULL) == "stopped-improving"
    # the same curve had 19 epochs been the whole budget: its best came last
    assert diagnose.failure("regression", history(run["loss"][:19], val[:19]), 19,
                            BOSTON_NULL) == "out-of-epochs"  # fmt: skip


def test_a_regressor_that_barely_moves_far_from_the_mean_is_another_failure():
    creeping = history([480 - i for i in range(50)], [470 - 0.1 * i for i in range(50)])
    assert diagnose.failure("regression", creeping, 50, null_loss=BOSTON_NULL) == "other"


def test_a_non_finite_loss_diverged_and_no_validation_is_not_judged():
    nan = history([5.0, math.nan], [4.0, math.nan])
    assert diagnose.failure("regression", nan, 10, null_loss=None) == "diverged"
    assert diagnose.failure("regression", {"loss": [5.0, 4.0]}, 10, null_loss=40.0) is None
    plateau = history([300, 80, 78], [200, 44, 45])
    assert diagnose.failure("regression", plateau, 50, null_loss=None) is None  # unknown
    crashed = frozen_run("boston-rnn-seed-43")
    crashed.record["status"] = "failed"
    assert ctx.failure_of(fixture_lab("boston"), crashed) == "diverged"


def test_the_restart_rule_reads_the_first_validation_epoch():
    assert diagnose.at_chance_after_first_epoch({"val_loss": [0.7387, 0.69]}, 2)
    assert not diagnose.at_chance_after_first_epoch({"val_loss": [0.52, 0.30]}, 2)


def frozen_lab_runs(folder: str) -> list[RunResult]:
    return [
        results.read_run(path, path.parent.name,
                         json.loads((path / "run.json").read_text(encoding="utf-8")))
        for path in sorted((REPO / "results" / folder).glob("seed-*"))
    ]  # fmt: skip


def test_the_frozen_boston_failures_as_the_issue_counts_them():
    """results/: under the notebook's patience the LSTM fails 9 of 10 runs on the plateau and the
    CNN none; under patience 25 no run fails; the wide CNN's two failures were cut short."""
    prices = ctx.training_targets(samples.load(REPO / "results" / "samples"))["boston"]
    lab = ctx.Lab("boston", {}, {}, prices)

    def causes(folder):
        return [ctx.failure_of(lab, run) for run in frozen_lab_runs(folder)]

    assert causes("full/boston-rnn").count("plateau") == 9
    assert set(causes("full/boston-rnn")) == {"plateau", None}
    assert set(causes("full/boston-cnn")) == {None}
    for model in ("cnn", "rnn"):
        assert set(causes(f"experiments-full/boston-{model}-patience-25")) == {None}
    assert causes("experiments-full/wide-cnn") == ["stopped-improving", None, "stopped-improving"]
