"""CNN against RNN over training seeds: the decision the report states, calibrated for the
number of seeds actually trained (SciPy and statsmodels; no TensorFlow).

Each run is given as its per-example values on the lab's shared test set (1/0 correctness, or
absolute errors), so a run's score is their mean (accuracy, MAE). Two sources of variation
are added up:

- training variation: each model's spread of scores over its seeds, as Welch's t-test on the
  per-seed scores sees it (Bouthillier et al. 2021 show why seeds must be counted; Colas et
  al. 2018 why a t-test over few seeds is the honest tool);
- test sampling that every run shares: how the mean per-example difference between the two
  models would move with other test examples, which more seeds cannot shrink (it matters on
  Boston's 102 districts).

The degrees of freedom of the sum are Satterthwaite's. Where the difference is not
established, an equivalence test (TOST, Schuirmann 1987) says whether it is within a practical
margin. The two-level bootstrap is kept as a description elsewhere but never decides: at 3
seeds its "95 %" interval covers about 81 %. How many seeds the rule needs, and how often a
rerun repeats its outcome, is seedplan.py's.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05
METHOD = "Welch's t-test over seeds, with the shared test-set variance (Satterthwaite df)"
EQUIVALENCE_METHOD = "TOST (two one-sided t-tests) on the same standard error and df"
PROB_METHOD = "share of CNN-RNN run pairs the CNN wins (ties half); percentile bootstrap"
RELIABILITY_METHOD = "Fisher's exact test; Clopper-Pearson intervals"
MULTIPLICITY_METHOD = "Holm"
OUTCOMES = ("established", "consistent", "none")
KINDS = ("cnn", "rnn")
# The equivalence margin by default: this share of the better model's error (its error rate,
# or its MAE). report.toml's [verdicts] equivalence_share overrides it.
EQUIVALENCE_SHARE = 0.10
# Resamples and seed of the P(A > B) bootstrap.
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20210301


def _seed_noise(values: np.ndarray) -> float:
    """The mean square of the seed x example interaction: how much one example's value moves
    between seeds once each run's own score is taken out (two-way layout, unbiased)."""
    examples = values.shape[1]
    spread = (values - values.mean(axis=1, keepdims=True)).var(axis=0, ddof=1).mean()
    return float(spread * examples / (examples - 1))


def variance_terms(cnn: np.ndarray, rnn: np.ndarray) -> list[tuple[float, int]]:
    """(variance of the mean difference, degrees of freedom) of each independent source: each
    model's seeds, then the test sampling the runs share. The per-example difference of the
    seed means still carries each example's seed noise, which the seed terms already count, so
    that share is taken out of the shared term (then floored at zero)."""
    per_example = cnn.mean(axis=0) - rnn.mean(axis=0)
    n_test = per_example.size
    seed_noise = _seed_noise(cnn) / len(cnn) + _seed_noise(rnn) / len(rnn)
    shared = max(0.0, float(per_example.var(ddof=1)) - seed_noise) / n_test
    scores = [cnn.mean(axis=1), rnn.mean(axis=1)]
    return [(float(s.var(ddof=1) / s.size), s.size - 1) for s in scores] + [(shared, n_test - 1)]


def combine(terms) -> tuple:
    """Standard error and Satterthwaite's degrees of freedom of a sum of variance terms (each
    variance a number or an array of simulated ones)."""
    variance = sum(np.asarray(v, dtype=np.float64) for v, _ in terms)
    denominator = sum(np.square(np.asarray(v, dtype=np.float64)) / df for v, df in terms)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(denominator > 0, np.square(variance) / denominator, np.inf)
    return np.sqrt(variance), df


def p_values(difference, se, df):
    """Two-sided p of the t statistic (an array); no spread at all: 1 for no difference, else 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(difference) / se, df)
    return np.where(se > 0, p, np.where(difference == 0, 1.0, 0.0))


def decide(difference, p_value, cnn_swept, rnn_swept, higher_is_better: bool):
    """The rule, on arrays of labs: (outcome, model ahead). Established: p < ALPHA; consistent:
    every run of the model ahead beat every run of the other; else none."""
    difference = np.asarray(difference)
    ahead = np.where((difference > 0) == higher_is_better, "cnn", "rnn")
    swept = np.where(ahead == "cnn", cnn_swept, rnn_swept)
    outcome = np.where((p_value < ALPHA) & (difference != 0), "established",
                       np.where(swept, "consistent", "none"))  # fmt: skip
    return outcome, ahead


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


def equivalence_margin(scores: dict[str, list[float]], higher_is_better: bool, share: float):
    """The practical margin: `share` of the better model's mean error (1 - accuracy for a
    score bounded by 1 where higher is better, else the score itself, e.g. MAE)."""
    means = [float(np.mean(scores[kind])) for kind in KINDS]
    error = 1 - max(means) if higher_is_better else min(means)
    return share * error


def equivalence(difference: float, se: float, df: float, margin: float) -> dict:
    """TOST at ALPHA: the difference lies within ±margin when both one-sided tests reject, i.e.
    when the (1 - 2 ALPHA) interval lies inside the margin. `smallest_margin`: the margin at
    which these runs would just show equivalence."""
    half = float(stats.t.ppf(1 - ALPHA, df) * se)
    if se > 0:
        p_value = max(float(stats.t.sf((difference + margin) / se, df)),
                      float(stats.t.cdf((difference - margin) / se, df)))  # fmt: skip
    else:
        p_value = 0.0 if abs(difference) < margin else 1.0
    interval = [difference - half, difference + half]
    smallest = max(abs(v) for v in interval)
    return {"margin": margin, "p_value": p_value, "equivalent": p_value < ALPHA,
            "interval": interval, "level": 1 - 2 * ALPHA, "smallest_margin": smallest,
            "method": EQUIVALENCE_METHOD}  # fmt: skip


def prob_better(scores: dict[str, list[float]], higher_is_better: bool) -> dict:
    """P(a CNN run beats an RNN run) over all cross pairs, ties counted half (Bouthillier et al.
    2021), with a percentile bootstrap 95 % interval that resamples each model's runs (none with
    a single run; with every pair won by one model it cannot leave 0 or 1)."""
    sign = 1.0 if higher_is_better else -1.0
    cnn, rnn = (sign * np.asarray(scores[kind], dtype=np.float64) for kind in KINDS)

    def share(a, b, axis=-1):
        wins = np.sign(a[..., :, None] - b[..., None, :])
        return (wins.mean(axis=(-2, -1)) + 1) / 2

    value = float(share(cnn, rnn))
    interval = None
    if cnn.size > 1 and rnn.size > 1:
        found = stats.bootstrap((cnn, rnn), share, vectorized=True, paired=False,
                                n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                                random_state=np.random.default_rng(BOOTSTRAP_SEED))  # fmt: skip
        interval = [float(found.confidence_interval.low), float(found.confidence_interval.high)]
    return {"value": value, "interval": interval, "method": PROB_METHOD}


def holm(p_values_by_name: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment of the labs' p-values (family-wise error at ALPHA)."""
    names = list(p_values_by_name)
    if not names:
        return {}
    adjusted = multipletests([p_values_by_name[n] for n in names], ALPHA, method="holm")[1]
    return {name: float(p) for name, p in zip(names, adjusted, strict=True)}


def difference_test(
    values: dict[str, list[np.ndarray]], higher_is_better: bool,
    equivalence_share: float = EQUIVALENCE_SHARE,
) -> dict:  # fmt: skip
    """CNN minus RNN on the mean score over seeds: estimate, p-value, 95 % interval, outcome,
    winner, cross pairs, P(CNN run beats RNN run), the variance components and, when not
    established, the equivalence test. `values`: per model, each run's per-example values on
    one shared test set."""
    cnn, rnn = (np.stack(values[kind]).astype(np.float64) for kind in KINDS)
    if cnn.shape[1] != rnn.shape[1]:
        raise ValueError(f"the runs were scored on different test sets: {cnn.shape}, {rnn.shape}")
    scores = {kind: [float(v.mean()) for v in values[kind]] for kind in KINDS}
    difference = float(np.mean(scores["cnn"]) - np.mean(scores["rnn"]))
    pairs = cross_pairs(scores, higher_is_better)
    out = {"difference": difference, "p_value": None, "interval": None, "df": None, "se": None,
           "components": None, "cross_pairs": pairs,
           "prob_cnn_better": prob_better(scores, higher_is_better),
           "equivalence": None}  # fmt: skip
    if len(cnn) >= 2 and len(rnn) >= 2:  # a seed variance needs two runs
        terms = variance_terms(cnn, rnn)
        se, df = (float(v) for v in combine(terms))
        half = float(stats.t.ppf(1 - ALPHA / 2, df) * se)
        out.update(p_value=float(p_values(difference, se, df)), se=se, df=df,
                   interval=[difference - half, difference + half],
                   components={"seed_sd": {kind: float(np.std(scores[kind], ddof=1))
                                           for kind in KINDS},
                               "shared_se": float(np.sqrt(terms[2][0])),
                               "shared_df": terms[2][1]})  # fmt: skip
    cnn_swept, rnn_swept = (pairs[kind] == pairs["pairs"] > 0 for kind in KINDS)
    p_value = out["p_value"] if out["p_value"] is not None else 1.0
    outcome, ahead = (str(v) for v in decide(difference, p_value, cnn_swept, rnn_swept,
                                               higher_is_better))  # fmt: skip
    if out["p_value"] is not None and outcome != "established":
        margin = equivalence_margin(scores, higher_is_better, equivalence_share)
        out["equivalence"] = {"share": equivalence_share,
                              **equivalence(difference, out["se"], out["df"], margin)}  # fmt: skip
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
