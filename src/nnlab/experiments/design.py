"""The theory chapters' small experiments, as data: which trials each one trains, with what.

A trial is one model trained (or probed) one way, on one lab data set, under the experiments'
own namespace in the run store (runs.run_path with `namespace(profile)`), keyed like every
other run plus its design (`Trial.design`). Everything not named here is the lab's setting.
The quick profile runs a miniature of each experiment for the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from nnlab import labs
from nnlab.config import TrainSettings, settings_for, split_sizes
from nnlab.experiments.folds import Split
from nnlab.models import SPECS, ModelSpec

EXPERIMENTS = (
    "batch-size", "early-stopping", "data-size", "capacity", "gradients", "protocol", "batchnorm",
    "kfold",
)  # fmt: skip
PATIENCE = 5  # the lab's EarlyStopping patience, replayed on the long run's history
# The data-size experiment gives every size about the same number of weight updates, so a
# small set is fitted for many epochs (as long as it takes to memorise it) and the largest
# for one or more; the lab's 5 epochs of 500 images would be only 40 updates.
UPDATES = {"full": 600, "quick": 16}
# The sounder protocol the Boston verdict is checked under: the lab's patience of 5 stops runs
# on the initial plateau where a network predicts the mean; 25 lets them cross it. Both lab
# models, as many seeds as the lab's Boston runs (cheap: about 10 s a run).
SOUNDER_PATIENCE = 25
PROTOCOL_SEEDS = {"full": 10, "quick": 2}
# The split protocol, past Boston's 102 test districts: the same recipe (patience 25) on
# repeated K-fold cross-validation over all 506 districts (folds.py). Five folds train on 404
# or 405 districts, as the lab does, and test on 101 or 102, so every district is tested once
# per repeat. Two repeats of two seeds per fold are 40 runs (about 25 minutes of training: a
# CNN run takes about 13 s, an RNN run about 62 s, as under patience 25 it runs its 50 epochs):
# with the corrected test's variance factor 1/J + 1/4 for J = 10 splits, more splits would
# shrink the standard error less than a second seed per split does (README, "The split
# protocol").
SPLIT_DESIGN = {"full": {"folds": 5, "repeats": 2, "seeds": 2},
                "quick": {"folds": 2, "repeats": 1, "seeds": 1}}  # fmt: skip
SPLIT_SEED = 12345  # orders the districts of each repeat (folds.fold_parts)


# The BatchNormalization control: the lab's Boston CNN with moving averages that follow the
# batches ten times faster (momentum 0.9 instead of Keras's 0.99). With 12 steps an epoch, the
# default averages still remember the first epochs' statistics for many epochs, which would
# make the validation loss (inference mode) far worse than the training loss (batch mode).
BN_MOMENTUM = 0.9
KERAS_BN_MOMENTUM = 0.99  # keras.layers.BatchNormalization's default, which the lab uses
BN_SEEDS = {"full": 3, "quick": 1}


def protocol_trial_name(model: str) -> str:
    """The sounder protocol's trial of a lab model, e.g. boston-rnn-patience-25."""
    return f"{model}-patience-{SOUNDER_PATIENCE}"


def split_trial_name(model: str, split: Split) -> str:
    """A split-protocol trial of a lab model, e.g. boston-rnn-kfold-2-5 (repeat 2, fold 5)."""
    return f"{model}-kfold-{split.repeat}-{split.fold}"


def splits(profile: str) -> list[Split]:
    """Every fold of every repeat of the profile's split protocol, over all Boston districts."""
    plan = SPLIT_DESIGN[profile]
    districts = sum(labs.LABS["boston"].full_sizes)
    return [Split(plan["folds"], plan["repeats"], repeat, fold, SPLIT_SEED, districts)
            for repeat in range(1, plan["repeats"] + 1)
            for fold in range(1, plan["folds"] + 1)]  # fmt: skip


@dataclass(frozen=True)
class Trial:
    experiment: str
    name: str  # the trial's folder in the experiments' namespace
    spec: ModelSpec
    settings: TrainSettings
    method: str = "fit"  # or "linear-regression", "gradient-boosting", "gradients"
    fit_limit: int | None = None  # fit on the first N samples before the validation cut
    validate_each_epoch: bool = True  # else validated once, after training
    batch_sample: int = 0  # gradients: IMDB training reviews of full length in the batch
    last_steps: int | None = None  # gradients: only the reviews' last N words (quick profile)
    seeds: int = 1  # how many seeds (the build's first seed, +1, …)
    split: Split | None = None  # the split protocol: trained and tested on this fold

    @property
    def design(self) -> dict:
        """What the trial adds to a run's inputs (its run-store key); a split trial adds its
        fold (the other trials' keys stay as they were)."""
        found = {
            "experiment": self.experiment,
            "method": self.method,
            "fit_limit": self.fit_limit,
            "validate_each_epoch": self.validate_each_epoch,
            "batch_sample": self.batch_sample,
            "last_steps": self.last_steps,
        }
        if self.split is not None:
            found["split"] = self.split.as_dict()
        return found


def namespace(profile: str) -> str:
    """The run store's folder for a profile's experiments (beside the profile's lab runs)."""
    return f"experiments-{profile}"


def _variant(base: str, name: str, layers) -> ModelSpec:
    return replace(SPECS[base], name=name, layers=tuple((kind, dict(kw)) for kind, kw in layers))


# Capacity: a linear model (one Dense unit on the 13 features) and the lab's CNN with twice
# the filters and units in every layer; scikit-learn's baselines use a spec with no layers.
LINEAR = _variant("boston-cnn", "boston-linear", [("Flatten", {}), ("Dense", {"units": 1})])


def _doubled(args: dict) -> dict:
    """A hidden layer's arguments with twice the filters or units."""
    return {k: v * 2 if k in ("filters", "units") else v for k, v in args.items()}


*_hidden, _output = SPECS["boston-cnn"].layers
WIDE_CNN = _variant(
    "boston-cnn", "boston-wide-cnn", [*((kind, _doubled(a)) for kind, a in _hidden), _output]
)
FAST_BN_CNN = _variant(
    "boston-cnn",
    "boston-cnn-fast-bn",
    [(kind, {**args, "momentum": BN_MOMENTUM} if kind == "BatchNormalization" else args)
     for kind, args in SPECS["boston-cnn"].layers],
)  # fmt: skip
BASELINE = replace(SPECS["boston-cnn"], name="boston-baseline", kind="baseline", layers=())
# Gradients: the lab's IMDB RNN with each recurrent cell.
CELLS = ("SimpleRNN", "GRU", "LSTM")


def cell_variant(cell: str) -> ModelSpec:
    layers = [(cell if kind == "LSTM" else kind, args) for kind, args in SPECS["imdb-rnn"].layers]
    return _variant("imdb-rnn", f"imdb-{cell.lower()}", layers)


def epochs_for_updates(n_fit: int, batch_size: int, updates: int) -> int:
    """The fewest epochs that make at least `updates` weight updates."""
    return max(1, math.ceil(updates / math.ceil(n_fit / batch_size)))


def trials(profile: str) -> list[Trial]:
    quick = profile == "quick"
    seeds = 1 if quick else 3
    boston = settings_for("boston", profile)
    cnn = SPECS["boston-cnn"]
    found = [
        Trial(
            "batch-size",
            f"batch-{size}",
            cnn,
            replace(boston, batch_size=size, epochs=3 if quick else boston.epochs, patience=None),
            seeds=seeds,
        )
        for size in ((8, 128) if quick else (8, 32, 128, 512))
    ]
    found.append(
        Trial(
            "early-stopping",
            "epochs-300",
            cnn,
            replace(boston, epochs=12 if quick else 300, patience=None),
            seeds=seeds,
        )
    )
    mnist = settings_for("mnist", profile)
    n_fit = split_sizes(60_000 if not quick else mnist.train_limit, mnist)["n_fit"]
    for size in (64, 256) if quick else (500, 2_000, 10_000, n_fit):
        epochs = epochs_for_updates(size, mnist.batch_size, UPDATES[profile])
        found.append(
            Trial(
                "data-size",
                f"fit-{size}",
                SPECS["mnist-cnn"],
                replace(mnist, epochs=epochs),
                fit_limit=size,
                validate_each_epoch=False,
            )
        )
    found += [
        Trial("capacity", "linear", LINEAR, boston, seeds=seeds),
        Trial("capacity", "wide-cnn", WIDE_CNN, boston, seeds=seeds),
        Trial("capacity", "linear-regression", BASELINE, boston, method="linear-regression"),
        Trial("capacity", "gradient-boosting", BASELINE, boston, method="gradient-boosting"),
    ]
    imdb = settings_for("imdb", profile)
    found += [
        Trial(
            "gradients",
            f"gradients-{cell.lower()}",
            cell_variant(cell),
            imdb,
            method="gradients",
            batch_sample=2 if quick else 32,
            last_steps=60 if quick else None,
        )
        for cell in CELLS
    ]
    found += [
        Trial(
            "protocol",
            protocol_trial_name(name),
            SPECS[name],
            replace(boston, patience=SOUNDER_PATIENCE),
            seeds=PROTOCOL_SEEDS[profile],
        )
        for name in ("boston-cnn", "boston-rnn")
    ]
    found += [
        Trial("kfold", split_trial_name(name, split), SPECS[name],
              replace(boston, patience=SOUNDER_PATIENCE), seeds=SPLIT_DESIGN[profile]["seeds"],
              split=split)
        for split in splits(profile)
        for name in ("boston-cnn", "boston-rnn")
    ]  # fmt: skip
    # No early stopping: the lab's CNN ran its whole 50 epochs, and the ratio is read over
    # epochs that a patience of 5 would cut off.
    found.append(Trial("batchnorm", f"bn-momentum-{BN_MOMENTUM}", FAST_BN_CNN,
                       replace(boston, patience=None), seeds=BN_SEEDS[profile]))  # fmt: skip
    return found
