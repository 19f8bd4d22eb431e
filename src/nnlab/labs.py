"""The lab registry: one entry per dataset, and the only place that lists the three labs.

Everything that differs between labs is read from here: the data module, the notebook's
settings, the seed plan, the preprocessing (and so the runs' key), the class names, the charts'
metrics, the detailed section's builder, the data sets' sizes (what a subset costs). Adding a
dataset is a data module, an entry here, its model specs (models.py), templates, prose and
catalog entries (README, "Adding a dataset").

Needs no TensorFlow; the report-side callables are named as "module:function" and imported
when used, so this module imports no rendering code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from nnlab import preprocess


@dataclass(frozen=True)
class SeedPlan:
    """Seeds per model fixed before the confirmatory runs, from a pilot's variance components
    (its first `pilot_seeds` seeds): `seeds` is the fewest whose rerun establishes the pilot's
    difference with seedplan.POWER (tests/test_seedplan.py checks it, and these pilot figures
    against results/). Where no number of seeds resolves it on the test set, the plan keeps
    the pilot's seeds."""

    seeds: int
    pilot_seeds: int
    protocol: str  # the pilot comparison (comparisons.PROTOCOLS), over the runs that trained
    difference: float  # CNN - RNN, in the main metric's unit
    seed_sd: tuple[float, float]  # a run's score spread over seeds: (CNN, RNN)
    shared_se: float  # the test sampling the runs share (standard error of the difference)


# results/ holds the pilots' seeds. Set True once the planned seeds are trained (one retrain,
# then results/ refrozen): each lab's default seed count becomes its plan's.
PLAN_TRAINED = False


@dataclass(frozen=True)
class Lab:
    name: str
    task: str  # "classification" or "regression"
    data_module: str  # nnlab.data.<name>: from_archive, from_keras, CONVERTER_VERSION
    notebook: dict  # the notebook's training settings (config.TrainSettings' fields)
    plan: SeedPlan
    full_sizes: tuple[int, int]  # (training, test) examples of the full data set
    prepare: Callable  # (dataset, train_limit, test_limit) -> preprocess.Prepared
    helpers: tuple  # the functions `prepare` calls
    class_names: tuple[str, ...] = ()  # classifiers; translated where `translate_classes`
    translate_classes: bool = False
    seed_bar_panels: tuple[tuple[str, ...], ...] = ()  # the per-seed bar charts: one per unit
    details: str = ""  # "module:function" building the detailed section's view
    samples: str = ""  # "module:function": the extract of the data the report shows
    gallery: str = ""  # "module:function": the test items its galleries show (from the runs)

    @property
    def seeds(self) -> int:
        """Seeds per model by default: the plan's once trained, else the pilot's."""
        return self.plan.seeds if PLAN_TRAINED else self.plan.pilot_seeds

    @property
    def preprocessing(self) -> tuple:
        """`prepare` and the helpers it calls: part of this lab's runs' key."""
        return (self.prepare, *self.helpers)

    @property
    def binary(self) -> bool:
        """A two-class classifier, whose mistakes are false positives and negatives."""
        return len(self.class_names) == 2


def resolve(path: str) -> Callable:
    """The function a "module:function" name refers to."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


_LABEL_ERRORS = ("label_mse", "label_mae", "label_rmse")

LABS: dict[str, Lab] = {
    lab.name: lab
    for lab in (
        Lab(
            "mnist",
            "classification",
            "nnlab.data.mnist",
            {"epochs": 5, "batch_size": 64, "validation_split": 0.1, "patience": None},
            plan=SeedPlan(
                seeds=6,
                pilot_seeds=3,
                protocol="notebook",
                difference=0.008533,
                seed_sd=(0.001955, 0.004701),
                shared_se=0.0006866,
            ),
            full_sizes=(60_000, 10_000),
            prepare=preprocess.prepare_mnist,
            helpers=(preprocess._limited, preprocess.mnist_images),
            class_names=tuple(str(digit) for digit in range(10)),
            seed_bar_panels=(_LABEL_ERRORS,),
            details="nnlab.report.views:mnist_details",
            samples="nnlab.samples:mnist_samples",
            gallery="nnlab.report.context:digit_indices",
        ),
        Lab(
            "imdb",
            "classification",
            "nnlab.data.imdb",
            {"epochs": 5, "batch_size": 128, "validation_split": 0.1, "patience": 2},
            plan=SeedPlan(
                seeds=5,
                pilot_seeds=3,
                protocol="notebook",
                difference=0.01523,
                seed_sd=(0.006690, 0.005153),
                shared_se=0.0008736,
            ),
            full_sizes=(25_000, 25_000),
            prepare=preprocess.prepare_imdb,
            helpers=(preprocess._limited, preprocess.imdb_sequences),
            class_names=("neg", "pos"),
            translate_classes=True,
            seed_bar_panels=((*_LABEL_ERRORS, "accuracy"),),
            details="nnlab.report.views:imdb_details",
            samples="nnlab.samples:imdb_samples",
            gallery="nnlab.report.context:review_indices",
        ),
        Lab(
            "boston",
            "regression",
            "nnlab.data.boston",
            {"epochs": 50, "batch_size": 32, "validation_split": 0.1, "patience": 5},
            # No seed count resolves the pilot's difference on 102 test districts; a run costs
            # about 10 s, so 10 seeds measure how often each model fails to train.
            plan=SeedPlan(
                seeds=10,
                pilot_seeds=10,
                protocol="patience",
                difference=-0.08627,
                seed_sd=(0.2790, 0.3070),
                shared_se=0.2951,
            ),
            full_sizes=(404, 102),
            prepare=preprocess.prepare_boston,
            helpers=(preprocess._limited, preprocess.fit_scaler, preprocess.boston_features),
            seed_bar_panels=(("mae", "rmse"), ("mse",)),  # k$ and k$²
            details="nnlab.report.views:boston_details",
            samples="nnlab.samples:boston_samples",
        ),
    )
}
NAMES = tuple(LABS)


def task_of(dataset: str) -> str:
    return LABS[dataset].task
