"""Uncertainty and significance for test-set metrics (NumPy and SciPy only; no TensorFlow).

Confidence intervals are percentile bootstraps over the saved test-set predictions. Every
resample's metric is computed at once from an (n_resamples, n) index matrix; the matrix is
walked in blocks of rows only to bound memory (a 2,000 x 25,000 gather of float64 is 400 MB),
never one resample at a time. Model comparisons are paired: both models are scored on the same
resamples, and the tests (McNemar; a paired t on the absolute errors) use the per-example
pairing too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

# Probability floor for the log loss: float64 eps, as sklearn's log_loss (nnlab.metrics) uses.
_EPS = float(np.finfo(np.float64).eps)
# Elements gathered per block of resamples: ~32 MB per float64 temporary.
_BLOCK_ELEMENTS = 4_000_000
# Below this many discordant pairs the chi-square approximation is poor: use the exact test.
_EXACT_BELOW = 25

# The report's settings: resamples, the generator's seed, and the significance level.
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 12345
ALPHA = 0.05

CLASSIFIER_KEYS = ("accuracy", "f1_macro", "log_loss")
REGRESSOR_KEYS = ("mse", "mae", "rmse", "r2")


def bootstrap_indices(
    n: int, n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> np.ndarray:
    """Resample indices, shape (n_resamples, n), drawn with replacement from 0..n-1."""
    if n < 1 or n_resamples < 1:
        raise ValueError(f"need n >= 1 and n_resamples >= 1, got {n} and {n_resamples}")
    rng = np.random.default_rng(seed)
    # int32 halves the matrix (200 MB instead of 400 MB for 2,000 x 25,000).
    dtype = np.int32 if n <= np.iinfo(np.int32).max else np.int64
    return rng.integers(0, n, size=(n_resamples, n), dtype=dtype)


def _resolve_indices(indices: np.ndarray | None, n: int) -> np.ndarray:
    if indices is None:
        return bootstrap_indices(n)
    indices = np.asarray(indices)
    if indices.ndim != 2 or indices.shape[0] < 1 or indices.shape[1] < 1:
        raise ValueError(f"indices must be a non-empty 2-D array, got shape {indices.shape}")
    # Negative indices would silently wrap around instead of failing.
    if indices.min() < 0 or indices.max() >= n:
        raise ValueError(f"indices must lie in [0, {n})")
    return indices


def _per_resample(indices: np.ndarray, block_fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Stack block_fn(rows of indices) -> (rows, metrics) over row blocks of the index matrix."""
    rows = max(1, _BLOCK_ELEMENTS // indices.shape[1])
    blocks = [block_fn(indices[start : start + rows]) for start in range(0, len(indices), rows)]
    return np.concatenate(blocks, axis=0)


def _interval(value: float, samples: np.ndarray, level: float) -> dict:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail])
    return {"value": float(value), "low": float(low), "high": float(high)}


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")


def _macro_f1(counts: np.ndarray) -> np.ndarray:
    """Macro F1 from confusion counts (..., k, k) with rows = true class, columns = predicted.

    F1 = 2TP / (2TP + FP + FN); a class with no true and no predicted examples counts as 0,
    as sklearn does with labels=range(k), zero_division=0 (so values match nnlab.metrics).
    """
    tp = np.diagonal(counts, axis1=-2, axis2=-1).astype(np.float64)
    fp = counts.sum(axis=-2) - tp
    fn = counts.sum(axis=-1) - tp
    denominator = 2.0 * tp + fp + fn
    f1 = np.divide(2.0 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return f1.mean(axis=-1)


def _classifier_block_fn(y_true, probs) -> Callable[[np.ndarray], np.ndarray]:
    y = np.asarray(y_true).astype(np.int64).reshape(-1)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != y.size or y.size == 0:
        raise ValueError(f"need y_true (n,) and probs (n, k), got {y.shape} and {p.shape}")
    k = p.shape[1]
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"labels must lie in [0, {k})")
    pred = np.argmax(p, axis=1)
    correct = pred == y
    nll = -np.log(np.clip(p[np.arange(y.size), y], _EPS, 1.0))
    cells = y * k + pred  # confusion cell of each example

    def block_fn(block: np.ndarray) -> np.ndarray:
        rows = block.shape[0]
        # Offset each resample's cells into its own k*k range: one bincount fills every matrix.
        codes = cells[block] + (np.arange(rows, dtype=np.int64) * (k * k))[:, None]
        counts = np.bincount(codes.ravel(), minlength=rows * k * k).reshape(rows, k, k)
        return np.column_stack(
            [correct[block].mean(axis=1), _macro_f1(counts), nll[block].mean(axis=1)]
        )

    return block_fn


def classifier_metrics_ci(
    y_true, probs, indices: np.ndarray | None = None, level: float = 0.95
) -> dict:
    """Accuracy, macro F1 and log loss, each {"value", "low", "high"} (percentile bootstrap)."""
    _check_level(level)
    block_fn = _classifier_block_fn(y_true, probs)
    n = len(probs)
    point = block_fn(np.arange(n)[None, :])[0]
    samples = _per_resample(_resolve_indices(indices, n), block_fn)
    return {key: _interval(point[i], samples[:, i], level) for i, key in enumerate(CLASSIFIER_KEYS)}


def _r2(sse: np.ndarray, sst: np.ndarray) -> np.ndarray:
    # Constant targets (SST = 0): 1 for a perfect fit, else 0, as sklearn's r2_score does; keeps
    # the output finite and so JSON-serialisable.
    safe_sst = np.where(sst > 0, sst, 1.0)
    return np.where(sst > 0, 1.0 - sse / safe_sst, np.where(sse == 0, 1.0, 0.0))


def _regression_arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y.size == 0 or y.shape != p.shape:
        raise ValueError(f"need non-empty y_true and y_pred of one length, got {y.size}, {p.size}")
    return y, p


def regressor_metrics_ci(
    y_true, y_pred, indices: np.ndarray | None = None, level: float = 0.95
) -> dict:
    """MSE, MAE, RMSE and R², each {"value", "low", "high"} (percentile bootstrap)."""
    _check_level(level)
    y, p = _regression_arrays(y_true, y_pred)
    errors = p - y

    def block_fn(block: np.ndarray) -> np.ndarray:
        err, target = errors[block], y[block]
        sse = np.square(err).sum(axis=1)
        # R² uses each resample's own target mean, as r2_score on that resample would.
        sst = np.square(target - target.mean(axis=1, keepdims=True)).sum(axis=1)
        mse = sse / block.shape[1]
        return np.column_stack([mse, np.abs(err).mean(axis=1), np.sqrt(mse), _r2(sse, sst)])

    point = block_fn(np.arange(y.size)[None, :])[0]
    samples = _per_resample(_resolve_indices(indices, y.size), block_fn)
    return {key: _interval(point[i], samples[:, i], level) for i, key in enumerate(REGRESSOR_KEYS)}


def mcnemar(correct_a, correct_b) -> dict:
    """McNemar's test on paired per-example correctness of two classifiers.

    Exact two-sided binomial test on the discordant pairs when there are fewer than 25
    (statistic = min(b, c)), else chi-square with continuity correction, 1 degree of freedom.
    """
    a = np.asarray(correct_a).astype(bool).reshape(-1)
    b_right = np.asarray(correct_b).astype(bool).reshape(-1)
    if a.shape != b_right.shape:
        raise ValueError(f"correctness vectors differ in length: {a.size} and {b_right.size}")
    b = int(np.sum(a & ~b_right))
    c = int(np.sum(~a & b_right))
    discordant = b + c
    if discordant == 0:  # the models never disagree: no evidence of a difference
        statistic, p_value, method = 0.0, 1.0, "exact"
    elif discordant < _EXACT_BELOW:
        statistic = float(min(b, c))
        p_value = float(stats.binomtest(b, discordant, 0.5).pvalue)
        method = "exact"
    else:
        statistic = (abs(b - c) - 1) ** 2 / discordant
        p_value = float(stats.chi2.sf(statistic, df=1))
        method = "chi2"
    return {
        "b": b,
        "c": c,
        "n_discordant": discordant,
        "statistic": float(statistic),
        "p_value": min(p_value, 1.0),
        "method": method,
    }


def paired_t_abs_errors(y_true, pred_a, pred_b) -> dict:
    """Paired t-test on |err_a| - |err_b| (Student 1908): its mean is the MAE difference a - b,
    so the test answers the MAE question (negative: a is closer on average). Wilcoxon's
    signed-rank test would answer another one (the differences' symmetry about zero), whose
    direction can disagree with the MAE's."""
    y, a = _regression_arrays(y_true, pred_a)
    _, b = _regression_arrays(y_true, pred_b)
    diff = np.abs(a - y) - np.abs(b - y)
    mean_diff = float(diff.mean())
    if not np.any(diff != diff[0]):  # no spread: identical errors, or a constant shift
        p_value = 1.0 if mean_diff == 0 else 0.0
        return {"statistic": 0.0, "p_value": p_value, "mean_diff": mean_diff, "df": diff.size - 1}
    result = stats.ttest_1samp(diff, 0.0)
    return {"statistic": float(result.statistic), "p_value": float(result.pvalue),
            "mean_diff": mean_diff, "df": int(result.df)}  # fmt: skip


def _comparison(names, metrics, delta, point, indices, level, test, alpha, lower_wins):
    """Assemble a comparison of two models, keyed by their names; `point` is the metric of the
    first minus that of the second."""
    # Resample means of the per-example differences are the paired bootstrap differences.
    samples = _per_resample(indices, lambda block: delta[block].mean(axis=1)[:, None])
    significant = bool(test["p_value"] < alpha)
    first_ahead = point < 0 if lower_wins else point > 0
    better = names[0 if first_ahead else 1] if significant and point != 0 else None
    return {
        **dict(zip(names, metrics, strict=True)),
        "difference": _interval(point, samples[:, 0], level),
        "test": test,
        "significant": significant,
        "better": better,
    }


def _two(models: dict) -> tuple[list[str], list]:
    if len(models) != 2:
        raise ValueError("a comparison takes exactly two models")
    return list(models), list(models.values())


def compare_classifiers(
    y_true,
    probabilities: dict[str, np.ndarray],
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    alpha: float = ALPHA,
) -> dict:
    """Two models' CIs (level 1 - alpha), keyed by name, the paired accuracy difference first
    minus second, McNemar's test."""
    names, (probs_a, probs_b) = _two(probabilities)
    y = np.asarray(y_true).astype(np.int64).reshape(-1)
    indices = bootstrap_indices(y.size, n_resamples, seed)
    level = 1.0 - alpha
    metrics_a = classifier_metrics_ci(y, probs_a, indices, level)
    metrics_b = classifier_metrics_ci(y, probs_b, indices, level)
    correct_a = np.argmax(np.asarray(probs_a), axis=1) == y
    correct_b = np.argmax(np.asarray(probs_b), axis=1) == y
    delta = correct_a.astype(np.int8) - correct_b.astype(np.int8)  # -1, 0 or 1 per example
    point = metrics_a["accuracy"]["value"] - metrics_b["accuracy"]["value"]
    test = mcnemar(correct_a, correct_b)
    metrics = [metrics_a, metrics_b]
    return _comparison(names, metrics, delta, point, indices, level, test, alpha, False)


def compare_regressors(
    y_true,
    predictions: dict[str, np.ndarray],
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    alpha: float = ALPHA,
) -> dict:
    """Two models' CIs (level 1 - alpha), keyed by name, the paired MAE difference first minus
    second, the paired t-test on the absolute errors."""
    names, (pred_a, pred_b) = _two(predictions)
    y, a = _regression_arrays(y_true, pred_a)
    _, b = _regression_arrays(y_true, pred_b)
    indices = bootstrap_indices(y.size, n_resamples, seed)
    level = 1.0 - alpha
    metrics_a = regressor_metrics_ci(y, a, indices, level)
    metrics_b = regressor_metrics_ci(y, b, indices, level)
    delta = np.abs(a - y) - np.abs(b - y)
    point = metrics_a["mae"]["value"] - metrics_b["mae"]["value"]
    test = paired_t_abs_errors(y, a, b)
    metrics = [metrics_a, metrics_b]
    return _comparison(names, metrics, delta, point, indices, level, test, alpha, True)


def seed_summary(values: Sequence[float]) -> dict:
    """Mean and sample standard deviation (ddof=1) of one metric over training seeds."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError("seed_summary needs at least one value")
    std = float(np.std(array, ddof=1)) if array.size > 1 else 0.0
    return {"mean": float(array.mean()), "std": std, "n": int(array.size)}
