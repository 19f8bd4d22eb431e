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
