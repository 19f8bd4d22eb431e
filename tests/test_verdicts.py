"""The verdict rule (verdicts.py): calibrated at small seed counts and on a Boston-like test
set, and its parts (shared term, equivalence, Holm, P(A > B)) on inputs whose answers are
known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

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


def test_the_median_run_is_the_typical_one():
    assert verdicts.median_run([42, 43, 44], [0.5, 0.9, 0.8], True) == 44
    assert verdicts.median_run([42, 43, 44, 45], [1.0, 2.0, 3.0, 4.0], True) == 43
    assert verdicts.median_run([42, 43, 44, 45], [1.0, 2.0, 3.0, 4.0], False) == 44


def _boston_like(rng, seeds: int = 10, n_test: int = 102, seed_sd: float = 0.25,
                 noise: float = 1.0):  # fmt: skip
    """Absolute errors of two equally good regressors on one small test set of `n_test`
    districts: each run's MAE moves by `seed_sd` between seeds, and the test sampling of the
    MAE difference is about as large (each model has its own hard districts), with each
    district's error also moving between seeds by `noise`."""
    hardness = np.abs(rng.normal(3.0, 2.0, n_test))
    own_sd = seed_sd * np.sqrt(n_test / 2)  # so the shared term's standard error is seed_sd
    per_run = np.sqrt(seed_sd**2 - noise**2 / n_test)
    values = {}
    for kind in verdicts.KINDS:
        own = rng.normal(0, own_sd, n_test)
        values[kind] = [hardness + own + rng.normal(0, per_run) + rng.normal(0, noise, n_test)
                        for _ in range(seeds)]  # fmt: skip
    return values


def test_a_boston_like_test_set_rarely_gets_a_false_winner():
    """102 districts, continuous errors, test sampling as large as the seed spread, 10 seeds:
    without the shared test-set term the rule would name a false winner in about 40 % of
    labs."""
    rng = np.random.default_rng(102)
    labs = 300
    named = sum(
        verdicts.difference_test(_boston_like(rng), False)["winner"] is not None
        for _ in range(labs)
    )
    assert named / labs <= 0.08


def test_the_shared_term_leaves_out_the_seed_noise_the_seed_terms_count():
    """Both models have the same expected error on every district (no test-set term), but
    each district's error moves a lot between seeds: the shared term's estimate is about
    zero on average (times n_test), not the seed noise's share 2 noise² / seeds = 0.4."""
    rng = np.random.default_rng(5)
    hardness = np.abs(rng.normal(3.0, 2.0, 100))
    estimates = []
    for _ in range(200):
        values = {kind: [hardness + rng.normal(0, 1.0, 100) for _ in range(5)]
                  for kind in verdicts.KINDS}  # fmt: skip
        cnn, rnn = (np.stack(values[kind]) for kind in verdicts.KINDS)
        estimates.append(verdicts.variance_terms(cnn, rnn)[2][0] * 100)
    # the uncorrected term averages 2 / 5 = 0.4; the floor at zero leaves a small excess
    assert np.mean(estimates) < 0.05


def test_the_shared_term_estimates_the_test_sampling_variance():
    """Each model has its own per-district offsets of variance 2 (difference: 4), plus seed
    noise: the shared term times n_test averages 4."""
    rng = np.random.default_rng(6)
    estimates = []
    for _ in range(200):
        offsets = {kind: rng.normal(0, np.sqrt(2), 200) for kind in verdicts.KINDS}
        values = {kind: np.stack([offsets[kind] + rng.normal(0, 2.0, 200) for _ in range(3)])
                  for kind in verdicts.KINDS}  # fmt: skip
        estimates.append(verdicts.variance_terms(values["cnn"], values["rnn"])[2][0] * 200)
    assert np.mean(estimates) == pytest.approx(4.0, rel=0.05)


def test_equivalence_on_a_known_normal_case():
    """A difference of 0.1 with standard error 0.1 (df so large that t is normal): within ±0.3
    both one-sided tests reject, the larger p being P(Z < -2) = 0.02275; the 90 % interval
    0.1 ± 1.645 x 0.1 reaches 0.2645, so ±0.2 is too narrow."""
    found = verdicts.equivalence(0.1, 0.1, 1e9, 0.3)
    assert found["equivalent"] and found["p_value"] == pytest.approx(0.02275, abs=1e-5)
    assert found["smallest_margin"] == pytest.approx(0.26449, abs=1e-4)
    narrow = verdicts.equivalence(0.1, 0.1, 1e9, 0.2)
    assert not narrow["equivalent"] and narrow["p_value"] == pytest.approx(0.1587, abs=1e-4)


def test_equivalence_follows_a_test_that_does_not_establish_a_difference():
    tight = verdicts.difference_test(
        {"cnn": _runs([0.900, 0.901, 0.899], n=40000), "rnn": _runs([0.900, 0.899, 0.901],
                                                                    n=40000, seed=1)}, True
    )  # fmt: skip
    assert tight["outcome"] == "none" and tight["equivalence"]["equivalent"]
    assert tight["equivalence"]["margin"] == pytest.approx(0.1 * (1 - 0.9), rel=1e-3)
    loose = verdicts.difference_test(
        {"cnn": _runs([0.95, 0.85, 0.90]), "rnn": _runs([0.92, 0.86, 0.88], seed=1)}, True
    )
    assert loose["outcome"] == "none" and not loose["equivalence"]["equivalent"]
    established = verdicts.difference_test(
        {"cnn": _runs([0.90, 0.91, 0.89]), "rnn": _runs([0.80, 0.81, 0.79], seed=1)}, True
    )
    assert established["equivalence"] is None


def test_holm_on_known_p_values():
    adjusted = verdicts.holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06})
    assert verdicts.holm({"mnist": 0.063, "imdb": 0.035}) == pytest.approx(
        {"mnist": 0.070, "imdb": 0.070}
    )
    assert verdicts.holm({}) == {}


def test_prob_better_counts_pairs_and_ties():
    assert verdicts.prob_better({"cnn": [1, 2, 3], "rnn": [0.5, 1.5, 2.5]}, True)["value"] == (
        pytest.approx(6 / 9)
    )
    assert verdicts.prob_better({"cnn": [1, 2], "rnn": [1, 0]}, True)["value"] == 3.5 / 4
    assert verdicts.prob_better({"cnn": [1, 2], "rnn": [1, 0]}, False)["value"] == 0.5 / 4
    swept = verdicts.prob_better({"cnn": [3, 4, 5], "rnn": [0, 1, 2]}, True)
    assert swept["value"] == 1 and swept["interval"] == [1, 1]
    assert verdicts.prob_better({"cnn": [3], "rnn": [0, 1]}, True)["interval"] is None


def test_prob_better_interval_covers_a_known_probability():
    """A ~ N(1, 1) against B ~ N(0, 1): P(A > B) = Φ(1/√2) = 0.760."""
    rng = np.random.default_rng(3)
    found = verdicts.prob_better(
        {"cnn": list(rng.normal(1, 1, 150)), "rnn": list(rng.normal(0, 1, 150))}, True
    )
    truth = stats.norm.cdf(1 / np.sqrt(2))
    low, high = found["interval"]
    assert low < truth < high and high - low < 0.15
