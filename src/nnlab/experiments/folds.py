"""The split protocol's folds: repeated K-fold cross-validation over every Boston district
(Keras's 404 training and 102 test districts together), one fold's training and test part per
trial.

Each repeat puts the districts in a seeded random order (NumPy's RandomState, whose streams
NumPy keeps unchanged across versions) and cuts it into K consecutive folds, as scikit-learn's
KFold(shuffle=True) does. A fold's training part keeps that random order, so the tenth that
training holds out for validation at its end (training.Validation.cut) is a random tenth,
another one in every fold. The fold's data then goes through the lab's own preprocessing, so
the features are scaled with what the fold's training part alone gives (preprocess.fit_scaler).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Split:
    """One fold of one repeat (both counted from 1) of a repeated K-fold over `districts`."""

    folds: int
    repeats: int
    repeat: int
    fold: int
    seed: int  # the protocol's seed: repeat r orders the districts with (seed, r)
    districts: int

    def as_dict(self) -> dict:
        """The split as a trial's key records it, the held-out districts included (indices
        into Keras's 404 training then 102 test districts)."""
        _, test = fold_parts(self)
        return {"method": "repeated-k-fold", "folds": self.folds, "repeats": self.repeats,
                "repeat": self.repeat, "fold": self.fold, "seed": self.seed,
                "districts": self.districts, "held_out": test.tolist()}  # fmt: skip


def fold_parts(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """(training, test) indices of the split's fold, each in the repeat's random order."""
    order = np.random.RandomState([split.seed, split.repeat]).permutation(split.districts)
    test = np.array_split(order, split.folds)[split.fold - 1]
    return order[~np.isin(order, test)], test


def fold_dataset(dataset, split: Split):
    """The lab's dataset with its training and test arrays replaced by the fold's parts of
    all its districts (data.Dataset; its checksum stays that of the whole data set)."""
    x = np.concatenate([dataset.x_train, dataset.x_test])
    y = np.concatenate([dataset.y_train, dataset.y_test])
    if len(x) != split.districts:
        raise ValueError(f"the split is over {split.districts} districts, the data has {len(x)}")
    train, test = fold_parts(split)
    return replace(dataset, x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test])
