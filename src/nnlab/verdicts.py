"""CNN against RNN over training seeds: the decision the report states, calibrated for the
number of seeds actually trained (SciPy only; no TensorFlow).

Each run is given as its per-example values on the lab's shared test set (1/0 correctness, or
absolute errors), so a run's score is their mean (accuracy, MAE). Two sources of variation
are added up:

- training variation: each model's spread of scores over its seeds, as Welch's t-test on the
  per-seed scores sees it (Bouthillier et al. 2021 show why seeds must be counted; Colas et
  al. 2018 why a t-test over few seeds is the honest tool);
- test sampling that every run shares: the variance of the mean per-example difference between
  the two models on this test set, which more seeds cannot shrink (it matters on Boston's 102
  districts).

The degrees of freedom of the sum are Satterthwaite's. The two-level bootstrap is kept as a
description elsewhere (spread.py) but never decides: at 3 seeds its "95 %" interval covers
about 81 %.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05
POWER = 0.80
METHOD = "Welch's t-test over seeds, with the shared test-set variance (Satterthwaite df)"
RELIABILITY_METHOD = "Fisher's exact test; Clopper-Pearson intervals"
OUTCOMES = ("established", "consistent", "none")
KINDS = ("cnn", "rnn")
# The most seeds per model a planning sentence names; beyond that it says "more than".
MAX_SEEDS = 200
# A difference this many standard errors from zero is detected with certainty at any df >= 1.
SURE_SHIFT = 30.0


def _terms(cnn: np.ndarray, rnn: np.ndarray) -> list[tuple[float, int]]:
    """(variance of the mean difference, degrees of freedom) of each independent source."""
    shared = cnn.mean(axis=0) - rnn.mean(axis=0)  # per example, each model's mean over seeds
    n_test = shared.size
    scores = [cnn.mean(axis=1), rnn.mean(axis=1)]
    return [(float(s.var(ddof=1) / s.size), s.size - 1) for s in scores] + [
        (float(shared.var(ddof=1) / n_test), n_test - 1)
    ]


def _combine(terms: list[tuple[float, int]]) -> tuple[float, float]:
    """Standard error and Satterthwaite's degrees of freedom of a sum of variance terms."""
    variance = sum(v for v, _ in terms)
    denominator = sum(v * v / df for v, df in terms if v > 0)
    return math.sqrt(variance), (variance * variance / denominator if denominator else math.inf)


def _power(difference: float, se: float, df: float) -> float:
    """Two-sided power of the t-test at ALPHA for a true difference (noncentral t)."""
    if se == 0:
        return 1.0
    critical = stats.t.ppf(1 - ALPHA / 2, df)
    shift = abs(difference) / se
    if shift > SURE_SHIFT:
        return 1.0
    # The far tail (rejecting in the wrong direction) is ~0; SciPy returns NaN for it at a
    # large shift.
    wrong_way = float(np.nan_to_num(stats.nct.cdf(-critical, df, shift)))
    return float(stats.nct.sf(critical, df, shift)) + wrong_way


def _scaled_terms(terms, seeds: int) -> list[tuple[float, int]]:
    """The same variance sources with `seeds` runs per model (seed variances per run kept)."""
    (var_a, df_a), (var_b, df_b), shared = terms
    return [
        (var_a * (df_a + 1) / seeds, seeds - 1),
        (var_b * (df_b + 1) / seeds, seeds - 1),
        shared,
    ]


def planning(terms, difference: float) -> dict:
    """The smallest difference these seeds detect with POWER, and how many seeds per model
    would detect `difference` (None: more than MAX_SEEDS; "unresolvable": the test set's own
    sampling hides it whatever the number of seeds)."""
    se, df = _combine(terms)
    detectable = None
    if se > 0 and math.isfinite(df):
        detectable = float(
            optimize.brentq(lambda d: _power(d, se, df) - POWER, 1e-12, SURE_SHIFT * se)
        )
    shared_se = math.sqrt(terms[2][0])
    limit = (stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)) * shared_se
    if abs(difference) <= limit or difference == 0:
        return {"detectable_difference": detectable, "seeds_needed": "unresolvable"}
    needed = next(
        (n for n in range(2, MAX_SEEDS + 1)
         if _power(difference, *_combine(_scaled_terms(terms, n))) >= POWER),
        None,
    )  # fmt: skip
    return {"detectable_difference": detectable, "seeds_needed": needed}


def cross_pairs(scores: dict[str, list[float]], higher_is_better: bool) -> dict:
    """Every CNN run against every RNN run (they share no randomness, so no pairing by seed):
    how many pairs each model won, and how many were tied."""
    sign = 1 if higher_is_better else -1
    diffs = [sign * (c - r) for c in scores["cnn"] for r in scores["rnn"]]
    return {
        "cnn": sum(d > 0 for d in diffs),
        "rnn": sum(d < 0 for d in diffs),
        "ties": sum(d == 0 for d in diffs),
        "pairs": len(diffs),
    }


def difference_test(values: dict[str, list[np.ndarray]], higher_is_better: bool) -> dict:
    """CNN minus RNN on the mean score over seeds: estimate, p-value, 95 % interval, outcome,
    winner, cross pairs and the planning figures. `values`: per model, each run's per-example
    values on one shared test set."""
    cnn, rnn = (np.stack(values[kind]).astype(np.float64) for kind in KINDS)
    if cnn.shape[1] != rnn.shape[1]:
        raise ValueError(f"the runs were scored on different test sets: {cnn.shape}, {rnn.shape}")
    scores = {kind: [float(v.mean()) for v in values[kind]] for kind in KINDS}
    difference = float(np.mean(scores["cnn"]) - np.mean(scores["rnn"]))
    pairs = cross_pairs(scores, higher_is_better)
    out = {"difference": difference, "p_value": None, "interval": None, "df": None,
           "cross_pairs": pairs, "detectable_difference": None,
           "seeds_needed": None}  # fmt: skip
    if len(cnn) >= 2 and len(rnn) >= 2:  # a seed variance needs two runs
        terms = _terms(cnn, rnn)
        se, df = _combine(terms)
        if se > 0:
            statistic = difference / se
            p_value = float(2 * stats.t.sf(abs(statistic), df))
            half = float(stats.t.ppf(1 - ALPHA / 2, df) * se)
        else:  # every run identical on every example
            p_value, half = (1.0 if difference == 0 else 0.0), 0.0
        out.update(p_value=p_value, interval=[difference - half, difference + half],
                   df=float(df), **planning(terms, difference))  # fmt: skip
    ahead = "cnn" if (difference > 0) == higher_is_better else "rnn"
    if out["p_value"] is not None and out["p_value"] < ALPHA and difference != 0:
        outcome = "established"
    elif pairs["pairs"] and pairs[ahead] == pairs["pairs"]:
        outcome = "consistent"  # every run of one model beat every run of the other
    else:
        outcome = "none"
    return {**out, "outcome": outcome, "winner": ahead if outcome == "established" else None,
            "direction": ahead if outcome != "none" else None, "method": METHOD}  # fmt: skip


def proportion(failed: int, runs: int) -> dict:
    """A failure count with its exact (Clopper-Pearson) 95 % interval."""
    interval = stats.binomtest(failed, runs).proportion_ci(1 - ALPHA, method="exact")
    return {"failed": failed, "runs": runs, "interval": [interval.low, interval.high]}


def reliability(failed: dict[str, int], runs: dict[str, int]) -> dict:
    """Failed runs per model, compared by Fisher's exact test."""
    table = [[failed[kind], runs[kind] - failed[kind]] for kind in KINDS]
    p_value = float(stats.fisher_exact(table).pvalue)
    return {**{kind: proportion(failed[kind], runs[kind]) for kind in KINDS},
            "p_value": p_value, "method": RELIABILITY_METHOD}  # fmt: skip


def median_run(seeds: list[int], scores: list[float], higher_is_better: bool) -> int | None:
    """The seed of the median run by score (the lower-ranked of the two middle runs when the
    count is even), ties by seed: the typical run, not the best or the worst."""
    if not seeds:
        return None
    order = sorted(zip(scores, seeds, strict=True), key=lambda p: (p[0] if higher_is_better
                                                                   else -p[0], p[1]))  # fmt: skip
    return order[(len(order) - 1) // 2][1]
