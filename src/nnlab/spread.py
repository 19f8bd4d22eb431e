"""Comparing two models across training seeds as well as test examples.

One trained model's test-set interval measures only how the test set was sampled. Training
the same model again with another seed (another initialisation, batch order and dropout
masks) moves its score too, often by more. The CNN-vs-RNN difference here is judged against
both: a two-level (hierarchical) bootstrap resamples each model's seeds, then the test
examples, and the difference counts as established only when its interval excludes zero
(Bouthillier et al. 2021 argue for exactly this in ML benchmarks).

Each run is given as its per-example values on the shared test set (1/0 correctness, or
absolute errors), so a run's metric is their mean (accuracy, MAE) and the resampled test set
stays paired between the two models.
"""

from __future__ import annotations

import numpy as np

from nnlab.stats import ALPHA, BOOTSTRAP_SEED, N_RESAMPLES, _per_resample, bootstrap_indices

METHOD = "two-level bootstrap (seeds, then test examples)"


def two_level_difference(
    values_a: list[np.ndarray], values_b: list[np.ndarray], n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED, level: float = 1 - ALPHA,
) -> dict:  # fmt: skip
    """mean over a's seeds of a's metric − the same for b, with its percentile interval."""
    a, b = np.stack(values_a).astype(np.float64), np.stack(values_b).astype(np.float64)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the runs were scored on different test sets: {a.shape}, {b.shape}")
    indices = bootstrap_indices(a.shape[1], n_resamples, seed)
    # Each run's metric on each resampled test set: (resamples, runs).
    runs_a = _per_resample(indices, lambda block: a[:, block].mean(axis=-1).T)
    runs_b = _per_resample(indices, lambda block: b[:, block].mean(axis=-1).T)
    rng = np.random.default_rng(seed + 1)
    pick_a = rng.integers(0, len(a), size=runs_a.shape)
    pick_b = rng.integers(0, len(b), size=runs_b.shape)
    samples = np.take_along_axis(runs_a, pick_a, axis=1).mean(axis=1) - np.take_along_axis(
        runs_b, pick_b, axis=1
    ).mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    point = a.mean(axis=1).mean() - b.mean(axis=1).mean()
    return {"value": float(point), "low": float(low), "high": float(high)}


def compare(values_a: list[np.ndarray], values_b: list[np.ndarray], lower_wins: bool) -> dict:
    """The verdict across seeds: the interval, whether it excludes zero, and in how many seed
    pairs (a's i-th seed against b's i-th) each model came out ahead."""
    interval = two_level_difference(values_a, values_b)
    established = interval["low"] > 0 or interval["high"] < 0
    a_ahead = interval["value"] < 0 if lower_wins else interval["value"] > 0
    scores_a = [float(v.mean()) for v in values_a]
    scores_b = [float(v.mean()) for v in values_b]
    pairs = list(zip(scores_a, scores_b, strict=False))
    a_wins = sum((x < y) if lower_wins else (x > y) for x, y in pairs)
    b_wins = sum((y < x) if lower_wins else (y > x) for x, y in pairs)
    return {
        "difference": interval,
        "method": METHOD,
        "seeds": {"a": len(values_a), "b": len(values_b)},
        "established": bool(established),
        "better": ("a" if a_ahead else "b") if established else None,
        "pairs": len(pairs),
        "pairs_won": {"a": a_wins, "b": b_wins},
        "training_variation_measured": len(values_a) > 1 and len(values_b) > 1,
    }
