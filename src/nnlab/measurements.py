"""What is measured on a finished lab run from its saved model, after training: the hand-made
houses' prices (handmade.py) and the training loss in inference mode (inference.py), both
Boston's by design (its houses, its BatchNormalization gap).

Each sits beside the run, keyed by the model's checksum: made once per model, and redone (in
seconds, never retraining) when its own code or inputs change. They are made in TensorFlow's
worker processes (parallel.py): a training worker measures the run it has just trained, and
runs measured by older code go to a pool of their own. The process that renders never loads
TensorFlow, because it forks one process per edition and a process with TensorFlow's threads
running cannot be forked safely.
"""

from __future__ import annotations

from nnlab import handmade, inference, runfiles

MEASURED_LAB = "boston"
# What each measurement is called in the build's log.
NAMES = {"pricing": "the hand-made houses' prices", "inference": "the inference-mode loss"}


def applies(plan) -> bool:
    """Whether a plan's runs are measured at all: the measured lab's own runs, not trials."""
    return plan.trial is None and plan.spec.dataset == MEASURED_LAB


def missing(plan) -> list[str]:
    """The measurements (keys of NAMES) a finished lab run lacks or holds for another model."""
    if not applies(plan) or plan.status.state != "done":
        return []
    record = plan.status.record
    found = []
    if handmade.read(plan.path, record) is None:
        found.append("pricing")
    if (plan.path / runfiles.MODEL).exists() and inference.read(plan.path, record) is None:
        found.append("inference")
    return found


def make(plan, dataset) -> None:
    """Make the run's missing measurements (in a process that may load TensorFlow)."""
    for name in missing(plan):
        if name == "pricing":
            handmade.price(plan.path, plan.status.record)
        else:
            inference.measure(plan.path, plan.status.record, dataset)


def describe(plan) -> str:
    """The build's line for a run about to be measured."""
    what = " and ".join(NAMES[name] for name in missing(plan))
    return f"measuring {plan.name} seed {plan.seed} from its saved model: {what}"
