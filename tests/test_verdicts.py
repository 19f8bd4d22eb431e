"""The verdict rule (verdicts.py): calibrated at small seed counts, and its parts on inputs
whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab import verdicts


def _lab(rng, seeds: int, gap_in_sds: float, n_test: int = 200, seed_sd: float = 0.01):
    """Per-example correctness of two models on one shared test set: each run has its own
    accuracy (the model's plus a normal seed effect); examples differ in difficulty, shared by
    both models, and each model has its own easy and hard examples (test sampling)."""
    difficulty = rng.normal(0, 1, n_test)
    values = {}
    for kind, shift in (("cnn", gap_in_sds * seed_sd), ("rnn", 0.0)):
        own = rng.normal(0, 0.5, n_test)
        runs = []
        for _ in range(seeds):
            accuracy = 0.85 + shift + rng.normal(0, seed_sd)
            logits = np.log(accuracy / (1 - accuracy)) - difficulty - own
            runs.append((rng.random(n_test) < 1 / (1 + np.exp(-logits))).astype(float))
        values[kind] = runs
    return values


@pytest.mark.parametrize("seeds", [3, 5])
def test_two_equal_models_rarely_get_a_winner(seeds):
    rng = np.random.default_rng(7)
    labs = 300
    named = sum(
        verdicts.difference_test(_lab(rng, seeds, 0.0), True)["winner"] is not None
        for _ in range(labs)
    )
    assert named / labs <= 0.07


def test_a_clear_difference_is_found_in_most_labs():
    rng = np.random.default_rng(11)
    labs = 200
    found = [
        verdicts.difference_test(_lab(rng, 5, 3.0, n_test=2000, seed_sd=0.02), True)["winner"]
        for _ in range(labs)
    ]
    assert found.count("cnn") / labs > 0.5
    assert "rnn" not in found


def _runs(scores: list[float], n: int = 4000, seed: int = 0) -> list[np.ndarray]:
    """1/0 correctness per example, each run exactly at its score, in a random order."""
    rng = np.random.default_rng(seed)
    out = []
    for score in scores:
        right = np.zeros(n)
        right[: round(score * n)] = 1
        out.append(rng.permutation(right))
    return out


def test_a_large_gap_with_small_seed_spread_is_established():
    found = verdicts.difference_test(
        {"cnn": _runs([0.90, 0.91, 0.89]), "rnn": _runs([0.80, 0.81, 0.79], seed=1)}, True
    )
    assert found["outcome"] == "established" and found["winner"] == "cnn"
    assert found["difference"] == pytest.approx(0.10)
    assert 0 < found["interval"][0] < 0.10 < found["interval"][1]
    assert found["cross_pairs"] == {"cnn": 9, "rnn": 0, "ties": 0, "pairs": 9}


def test_every_pair_won_but_seeds_too_spread_is_consistent_not_established():
    found = verdicts.difference_test(
        {"cnn": _runs([0.99, 0.90, 0.81]), "rnn": _runs([0.80, 0.70, 0.60], seed=1)}, True
    )
    assert found["p_value"] > 0.05
    assert (found["outcome"], found["winner"], found["direction"]) == ("consistent", None, "cnn")


def test_overlapping_runs_show_no_consistent_difference():
    found = verdicts.difference_test(
        {"cnn": _runs([0.90, 0.80, 0.85]), "rnn": _runs([0.88, 0.82, 0.84], seed=1)}, True
    )
    assert (found["outcome"], found["winner"], found["direction"]) == ("none", None, None)


def test_lower_is_better_for_errors():
    rng = np.random.default_rng(0)
    errors = {"cnn": [np.abs(rng.normal(0, 2, 4000)) for _ in range(3)],
              "rnn": [np.abs(rng.normal(0, 4, 4000)) for _ in range(3)]}  # fmt: skip
    found = verdicts.difference_test(errors, higher_is_better=False)
    assert found["winner"] == "cnn" and found["difference"] < 0


def test_one_run_each_is_never_established():
    found = verdicts.difference_test({"cnn": _runs([0.95]), "rnn": _runs([0.80], seed=1)}, True)
    assert found["p_value"] is None and found["interval"] is None
    assert found["outcome"] == "consistent" and found["winner"] is None


def test_cross_pairs_compare_every_run_with_every_run():
    pairs = verdicts.cross_pairs({"cnn": [0.9, 0.8, 0.7], "rnn": [0.85, 0.7]}, True)
    assert pairs == {"cnn": 3, "rnn": 2, "ties": 1, "pairs": 6}
    assert verdicts.cross_pairs({"cnn": [3.0], "rnn": [4.0]}, False)["cnn"] == 1


def test_fisher_and_clopper_pearson_on_known_counts():
    found = verdicts.reliability({"cnn": 0, "rnn": 2}, {"cnn": 3, "rnn": 3})
    assert found["p_value"] == pytest.approx(0.4)
    assert verdicts.reliability({"cnn": 0, "rnn": 1}, {"cnn": 3, "rnn": 3})["p_value"] == 1.0
    low, high = found["cnn"]["interval"]
    assert low == 0 and high == pytest.approx(1 - 0.025 ** (1 / 3))


def test_planning_names_seeds_or_says_the_test_set_cannot_resolve_it():
    clear = verdicts.difference_test(
        {"cnn": _runs([0.90, 0.92, 0.88]), "rnn": _runs([0.88, 0.90, 0.86], seed=1)}, True
    )
    assert isinstance(clear["seeds_needed"], int) and clear["seeds_needed"] > 3
    assert 0.02 < clear["detectable_difference"] < 0.2
    tiny_test_set = verdicts.difference_test(
        {"cnn": _runs([0.6, 0.6, 0.6], n=20), "rnn": _runs([0.55, 0.55, 0.55], n=20, seed=3)}, True
    )
    assert tiny_test_set["seeds_needed"] == "unresolvable"


def test_the_median_run_is_the_typical_one():
    assert verdicts.median_run([42, 43, 44], [0.5, 0.9, 0.8], True) == 44
    assert verdicts.median_run([42, 43, 44, 45], [1.0, 2.0, 3.0, 4.0], True) == 43
    assert verdicts.median_run([42, 43, 44, 45], [1.0, 2.0, 3.0, 4.0], False) == 44
