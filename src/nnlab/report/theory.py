"""The theory chapters' experiments as the report shows them: one `Exhibit` per experiment
that is done (results.load_experiments), built by theory_training.py and theory_models.py;
the validation-versus-test exhibit needs no trial of its own: it reads the lab's seeds."""

from __future__ import annotations

from nnlab.report import context as ctx
from nnlab.report.assets import FigureStore
from nnlab.report.theory_models import capacity, data_size, gradients
from nnlab.report.theory_training import batch_size, early_stopping, validation


def exhibits(
    t, store: FigureStore, found: dict, labs: list[ctx.Lab], profile: str,
    samples: dict | None = None,
) -> dict:  # fmt: skip
    """{experiment: Exhibit} for the experiments that are done, and the validation exhibit
    (`samples`: the report's data extracts, whose Boston training prices it reads)."""
    boston = next(lab for lab in labs if lab.name == "boston")
    out = {}
    if "batch-size" in found:
        out["batch-size"] = batch_size(t, store, found["batch-size"])
    if "early-stopping" in found:
        out["early-stopping"] = early_stopping(t, store, found["early-stopping"], boston)
    if "data-size" in found:
        out["data-size"] = data_size(t, store, found["data-size"], profile)
    if "capacity" in found:
        out["capacity"] = capacity(t, store, found["capacity"], boston)
    if "gradients" in found:
        out["gradients"] = gradients(t, store, found["gradients"])
    shown = validation(t, store, labs, (samples or {}).get("boston"))
    if shown is not None:
        out["validation"] = shown
    return out
