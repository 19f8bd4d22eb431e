"""`nnlab report`: saved runs in, both editions out. Imports no TensorFlow."""

from __future__ import annotations

import shutil
from pathlib import Path

from nnlab import samples
from nnlab.data import cache
from nnlab.models import MODEL_NAMES
from nnlab.report import context as ctx
from nnlab.report.render import build_meta, render
from nnlab.results import load_all


def gallery_indices(labs: list[ctx.Lab]) -> tuple[list[int], list[int]]:
    by_name = {lab.name: lab for lab in labs}
    imdb, mnist = [], []
    if by_name["imdb"].complete:
        imdb = ctx.review_indices(by_name["imdb"])
    if by_name["mnist"].complete:
        wrong = ctx.misclassified_digits(by_name["mnist"])
        mnist = sorted(
            {i["index"] for kind in ctx.KINDS for i in wrong[kind]}
            | {i["index"] for i in wrong["disagree"]}
        )
    return imdb, mnist


def _samples_for(build: Path, labs: list[ctx.Lab], log) -> dict:
    imdb, mnist = gallery_indices(labs)
    found = samples.load(samples.locate(build))
    data_cached = all(cache.read_meta(name, cache.data_dir()) for name in ctx.LABS)
    if not samples.covers(found, imdb, mnist) and data_cached:
        found = samples.load(samples.export(build, imdb, mnist, log=log))
    return found


def digit_lookup(found: dict) -> dict | None:
    """The MNIST galleries' test images, by test index."""
    mnist = found.get("mnist")
    if not mnist or "gallery_index" not in mnist:
        return None
    return dict(zip(mnist["gallery_index"].tolist(), mnist["gallery_images"], strict=True))


def precision_rows(build: Path, profile: str, seed: int, labs: list[ctx.Lab]) -> list[dict]:
    """Each model at float32 and at the reduced precision: training time and main metric."""
    from nnlab.results import locate, read_run

    rows = []
    for lab in labs:
        key = "accuracy" if lab.task == "classification" else "mae"
        for run in lab.runs.values():
            folder = locate(build, profile, run.name, seed, "float32")
            if folder is None or run.failed:
                continue
            base = read_run(folder, run.name).record
            if base.get("status") != "done":
                continue
            rows.append(
                {
                    "name": run.name,
                    "metric": key,
                    "fit_float32": base["fit_seconds"],
                    "fit_reduced": run.record["fit_seconds"],
                    "speedup": base["fit_seconds"] / run.record["fit_seconds"],
                    "metric_float32": base["metrics"][key],
                    "metric_reduced": run.record["metrics"][key],
                }
            )
    return rows


def make_report(
    build: Path, profile: str, seeds: list[int], langs: list[str], formats: list[str],
    report_config: dict, log=print, precision: str = "float32",
) -> dict:  # fmt: skip
    found = load_all(build, profile, list(MODEL_NAMES), seeds, precision)
    labs = ctx.build_labs(found)
    sample_data = _samples_for(build, labs, log)
    meta = build_meta(report_config, profile, seeds)
    meta["precision"] = precision
    if precision != "float32":  # set the runs beside their float32 twins, where those exist
        meta["precision_rows"] = precision_rows(build, profile, seeds[0], labs)
    timings = render(build, labs, langs, formats, meta, sample_data, digit_lookup(sample_data),
                     log=log)  # fmt: skip
    for lang in langs:
        pdf = build / f"report.{lang}.pdf"
        if "pdf" in formats and pdf.exists():
            shutil.copyfile(pdf, build / "site" / lang / pdf.name)  # downloadable from the site
    return timings
