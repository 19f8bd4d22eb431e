"""`nnlab train`, `runs` and `freeze`: the build's runs, trained, listed and frozen."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import click

from nnlab.cli.app import build_dir, cli, emit
from nnlab.cli.request import (
    LABS,
    SUBSET,
    Request,
    experiment_selections,
    request_options,
    selection,
)
from nnlab.errors import NnlabError

CLUSTER_HINT = (
    "--cluster needs Dask's distributed, which is not installed; install it with: "
    "pip install -e '.[cluster]'"
)


def training_options(function):
    function = click.option(
        "--cluster", envvar="NNLAB_CLUSTER", default=None, metavar="ADDRESS",
        help="Train on the Dask cluster whose scheduler is at ADDRESS (e.g. "
        "tcp://10.0.0.5:8786; env NNLAB_CLUSTER) instead of this machine's cores.",
    )(function)  # fmt: skip
    function = click.option("--quiet", is_flag=True, help="One line per run, none per epoch.")(
        function
    )
    function = click.option(
        "--yes", is_flag=True,
        help="Train even when the estimate's upper end is over 12 hours (else: stop, exit 2).",
    )(function)  # fmt: skip
    return click.option(
        "--workers", type=click.IntRange(min=1), default=None,
        show_default="one per GPU when there are GPUs, else one per core",
        help="Runs trained side by side, one process each.",
    )(function)  # fmt: skip


def _refuse_long_plans(selections, workers: int) -> None:
    """Stop, before any TensorFlow work, with the plan's line when its upper estimate is over
    estimate.LIMIT_SECONDS (12 hours)."""
    from nnlab import parallel

    todo = [
        item
        for chosen in selections
        for item in chosen.by_state("missing") + chosen.by_state("stale")
    ]
    line = parallel.over_limit(todo, workers) if todo else None
    if line is not None:
        raise NnlabError(
            f"{line}: over 12 hours; pass --yes to train anyway, or plan fewer runs "
            "(--seeds, --dataset, --kind, report.toml's epochs)"
        )


def require_distributed() -> None:
    """One line naming the install command when Dask's distributed is missing."""
    try:
        found = importlib.util.find_spec("distributed")
    except ValueError:  # blocked in sys.modules
        found = None
    if found is None:
        raise NnlabError(CLUSTER_HINT)


def train(
    request: Request, workers: int | None, quiet: bool, yes: bool = False, early=None,
    cluster: str | None = None,
) -> tuple:  # fmt: skip
    """Clean leftovers, train the request's missing or stale runs (and experiments) unless the
    plan would take over 12 hours and `yes` is not given, and make the finished runs' missing
    measurements (measurements.py); return (the lab runs' selection, the runs trained). The
    caller holds the build lock.
    `early()` is called once, mid-training, as soon as every lab model has a finished run
    while runs are still to come (the build's preliminary report). `cluster`: the Dask
    scheduler's address to train on (cluster.py), else this machine's worker pools."""
    from nnlab import devices, pipeline
    from nnlab.runs import clean_leftovers

    if cluster is not None:
        require_distributed()
    workers = workers or devices.default_workers()
    clean_leftovers(build_dir())
    chosen = selection(request, source="build", fetch=True)
    selections = [chosen, *experiment_selections(request, "build", fetch=True)]
    if not yes and cluster is None:  # a cluster's size is known once connected
        _refuse_long_plans(selections, workers)
    rendered_early = False

    def preliminary(_item, seconds_left: tuple[float, float]) -> None:
        nonlocal rendered_early
        if early is None or rendered_early:
            return
        if pipeline.ready_for_a_preliminary_report(selections, seconds_left[0]):
            rendered_early = True
            emit("every model has a finished run: rendering a preliminary report")
            early()

    trained = pipeline.train_missing(
        selections, workers, echo=emit, quiet=quiet, on_finish=preliminary, cluster=cluster
    )
    pipeline.measure_missing(chosen, workers, echo=emit)
    return chosen, trained


@cli.command("train")
@request_options(*SUBSET, *LABS, command="train")
@training_options
def train_command(request: Request, workers, yes, quiet, cluster) -> None:
    """Train the runs that are missing or out of date; finished runs are kept."""
    from nnlab.lock import build_lock

    with build_lock(build_dir()):
        chosen, trained = train(request, workers, quiet, yes, cluster=cluster)
    done = len(chosen.by_state("done"))
    click.echo(
        f"{len(trained)} trained, {done}/{len(chosen.plans)} runs done ({request.profile} profile)"
    )


@cli.command("runs")
@request_options(*SUBSET, *LABS, command="runs")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def runs_command(request: Request, as_json) -> None:
    """List the runs a report would use, from one source, with their status and timings (the
    experiments' trials after the lab's runs)."""
    chosen = selection(request)
    plans = [(item, None) for item in chosen.plans]
    for trials in experiment_selections(request, chosen.source):
        plans += [(item, item.trial.experiment) for item in trials.plans]
    for line in chosen.warnings():
        emit(line)
    rows = [
        {**item.status.as_dict(), "source": chosen.source, "experiment": experiment}
        for item, experiment in plans
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    emit(f"runs from {chosen.root} ({chosen.source})")
    table = [
        (row["name"], row["status"], row["reason"] or _fit_text(row), str(row["folder"]))
        for row in rows
    ]
    # Columns as wide as their longest cell: trial names are longer than the lab's.
    widths = [max((len(cells[column]) for cells in table), default=0) for column in range(3)]
    for name, status, detail, folder in table:
        cells = zip((name, status, detail), widths, strict=True)
        click.echo("  ".join(cell.ljust(width) for cell, width in cells) + "  " + folder)


def _fit_text(row: dict) -> str:
    epochs = f", {row['epochs_run']} epochs" if row["epochs_run"] else ""
    return f"fit {row['fit_seconds']:.1f}s{epochs}"


@cli.command("freeze")
@request_options(*SUBSET, *LABS, command="freeze")
@click.option("--to", "target", type=click.Path(path_type=Path), default=Path("results"),
              show_default=True, help="Folder for the small results (tracked in git).")  # fmt: skip
def freeze_command(request: Request, target) -> None:
    """Copy the build's current runs' small results (not the models) to results/, to render
    without training; refuses stale or missing runs."""
    from nnlab.lock import build_lock
    from nnlab.results import freeze

    with build_lock(build_dir()):
        selections = [selection(request, source="build")]
        selections += experiment_selections(request, "build")
        copied = freeze(build_dir(), selections, target)
    click.echo(f"{len(copied)} run(s) frozen into {target}")
