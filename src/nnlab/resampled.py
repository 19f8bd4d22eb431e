"""Two models compared over resampled splits of one data set: Nadeau and Bengio's (2003)
corrected resampled t-test (SciPy only; no TensorFlow).

Each split (a fold of a repeated K-fold) trains both models on its training part and tests
them on its test part; the test statistic is the mean of the per-split differences. The splits
share districts, in training and in testing, so their differences are correlated, and the
plain one-sample t-test over them (variance / J) is anti-conservative: it names a winner far
more often than its level says. Nadeau and Bengio's correction inflates the variance of the
mean to (1/J + n_test/n_train) times the variance of the differences, which accounts for the
correlation that the overlap of the splits creates; Bouckaert and Frank (2004) showed that it
keeps its level on repeated K-fold cross-validation, where the plain test does not.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

METHOD = "Nadeau and Bengio's corrected resampled t-test over the splits"


def corrected_resampled_t(differences, n_train: float, n_test: float, alpha: float) -> dict:
    """The mean of the per-split `differences` with its corrected standard error, t statistic,
    two-sided p-value and (1 - alpha) interval, on J - 1 degrees of freedom. `n_train` and
    `n_test`: a split's training and test sizes (their means when the folds differ by one)."""
    values = np.asarray(differences, dtype=np.float64).reshape(-1)
    splits = values.size
    if splits < 2:
        raise ValueError(f"the corrected resampled t-test needs two splits or more, got {splits}")
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"need positive split sizes, got {n_train} and {n_test}")
    factor = 1.0 / splits + n_test / n_train
    mean = float(values.mean())
    se = math.sqrt(factor * float(values.var(ddof=1)))
    df = splits - 1
    if se > 0:
        statistic = mean / se
        p_value = float(2 * stats.t.sf(abs(statistic), df))
        half = float(stats.t.ppf(1 - alpha / 2, df) * se)
    else:  # every split gave the same difference: no variance to test against
        statistic, p_value, half = None, float(mean == 0), 0.0
    return {"difference": mean, "se": se, "df": df, "statistic": statistic, "p_value": p_value,
            "interval": [mean - half, mean + half], "splits": splits,
            "variance_factor": factor, "method": METHOD}  # fmt: skip
