"""Training settings (the notebook's, per dataset) and profiles (full, quick)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from nnlab import labs
from nnlab.errors import NnlabError


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    validation_split: float
    patience: int | None  # EarlyStopping(val_loss, restore_best_weights) when set
    learning_rate: float = 1e-3  # Adam's default, as in the notebook
    precision: str = "float32"  # or "mixed_bfloat16"
    train_limit: int | None = None  # quick profile: first N training samples
    test_limit: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


# The notebook's settings, per dataset (labs.py).
NOTEBOOK_SETTINGS = {name: TrainSettings(**lab.notebook) for name, lab in labs.LABS.items()}
# The notebook's worked example of batches, in its own explanation of "Batch": 10,000 samples in
# batches of 32 "need 312.5 iterations" to finish an epoch. Its inputs and its printed answer
# are a documented input, as the hand-made houses are; the fixes chapter corrects the answer.
NOTEBOOK_BATCH_EXAMPLE = {"samples": 10_000, "batch_size": 32, "iterations": 312.5}
PROFILES = ("full", "quick")
QUICK = {"epochs": 1, "train_limit": 512, "test_limit": 256}
# Large batches for evaluation: results are the same, the LSTMs predict several times faster.
PREDICT_BATCH_SIZE = 1024
# An experiment's training loss and metric after training are measured on at most this many
# fitted samples (training.train's `final`).
TRAIN_EVALUATION_CAP = 10_000
DEFAULT_SEED = 42
# Seeds per model by default (labs.py): training variation is measured, not assumed away.
DEFAULT_SEED_COUNTS = {name: lab.seeds for name, lab in labs.LABS.items()}


# The quick profile (the tests' smoke build) trains two seeds a model: every across-seeds path
# runs, in a fraction of the lab's seed counts.
QUICK_SEEDS = 2
# Caps on what sizes a plan, checked where the values come in (the command line, report.toml)
# before any list of runs is built: a typo such as `seeds = 1000000000` is one line, not a
# MemoryError before the 12-hour guard (cli/training.py) can speak. Both are far above what
# the lab uses (3-10 seeds, 5-50 epochs; the experiments' longest run takes 300 epochs).
MAX_SEEDS = 1000
MAX_EPOCHS = 10_000
# The first seed: NumPy takes seeds from 0 to 2**32 - 1; starting at most at 2**31 - 1 leaves
# room for every seed count up to MAX_SEEDS.
MAX_FIRST_SEED = 2**31 - 1


def default_seed_count(dataset: str, profile: str = "full") -> int:
    """The profile's seeds per model: the dataset's default in full (labs.py)."""
    return QUICK_SEEDS if profile == "quick" else DEFAULT_SEED_COUNTS[dataset]


def seeds_for(dataset: str, first: int, count: int | None, profile: str = "full") -> list[int]:
    """The seeds a dataset's models train with: `count` (an explicit --seeds or report.toml
    `seeds`) from `first` on, else the profile's count."""
    return list(range(first, first + (count or default_seed_count(dataset, profile))))


PRECISIONS = ("float32", "mixed_bfloat16")
TUNABLE = {"epochs": int, "batch_size": int, "learning_rate": float, "precision": str}


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise NnlabError(f"unknown profile '{profile}' (choose from {', '.join(PROFILES)})")
    return profile


def settings_for(dataset: str, profile: str, overrides: dict | None = None) -> TrainSettings:
    settings = NOTEBOOK_SETTINGS[dataset]
    if check_profile(profile) == "quick":
        settings = replace(settings, **QUICK)
    return replace(settings, **(overrides or {}))


def split_sizes(n_train: int, settings: TrainSettings) -> dict:
    """How Keras's validation_split divides the training arrays, and the steps per epoch."""
    # Keras cuts at int(n * (1 - split)) and validates on the samples after the cut.
    n_fit = int(n_train * (1 - settings.validation_split))
    n_val = n_train - n_fit
    return {
        "n_train": n_train,
        "n_val": n_val,
        "n_fit": n_fit,
        "batch_size": settings.batch_size,
        "steps_per_epoch": math.ceil(n_fit / settings.batch_size),
        "max_epochs": settings.epochs,
        "val_split": settings.validation_split,
    }
