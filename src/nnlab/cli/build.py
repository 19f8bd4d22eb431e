"""`nnlab train`, `runs`, `report`, `build`, `freeze` and `bench`: training and rendering."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nnlab import config, data, models
from nnlab.cli.app import build_dir, cli, emit
from nnlab.errors import NnlabError


def _selection_options(function):
    function = click.option(
        "--seed", type=int, default=config.DEFAULT_SEED, show_default=True, help="First seed."
    )(function)
    function = click.option(
        "--seeds", "seed_count", type=click.IntRange(min=1), default=None,
        help="Train each model with this many seeds (seed, seed+1, …); default: report.toml's "
        "`seeds`, else "
        + ", ".join(f"{n} for {name}" for name, n in config.DEFAULT_SEED_COUNTS.items())
        + ".",
    )(function)  # fmt: skip
    function = click.option(
        "--profile", type=click.Choice(config.PROFILES), default="full", show_default=True,
        help="full: the notebook's settings; quick: small real subsets, 1 epoch.",
    )(function)  # fmt: skip
    function = click.option("--model", "kind", type=click.Choice(models.KINDS), help="cnn or rnn.")(
        function
    )
    function = click.option(
        "--config", "config_path", type=click.Path(path_type=Path), default=None,
        help="Report and training config (default report/report.toml).",
    )(function)  # fmt: skip
    function = click.option(
        "--precision", type=click.Choice(config.PRECISIONS), default="float32",
        show_default=True, help="mixed_bfloat16: for CPUs with native bf16 and GPUs.",
    )(function)  # fmt: skip
    return click.option("--dataset", type=click.Choice(data.DATASETS), help="One dataset only.")(
        function
    )


def selection(
    dataset, kind, profile, seed, seed_count, config_path, precision, source="auto", fetch=False
):
    """The runs a command uses (pipeline.plan), with report.toml's overrides and seed count."""
    from nnlab import pipeline, projectconfig

    project = projectconfig.load(config_path)
    overrides = pipeline.overrides_for(project.training, precision)
    specs = models.select(dataset, kind)
    seeds = {
        s.dataset: config.seeds_for(s.dataset, seed, seed_count or project.seeds) for s in specs
    }
    return pipeline.plan(build_dir(), profile, specs, seeds, overrides, source, fetch)


def _experiments_option(function):
    return click.option(
        "--experiments/--no-experiments", default=True, show_default=True,
        help="The theory chapters' small experiments (about 3 minutes of training); "
        "with --dataset or --model they are never trained.",
    )(function)  # fmt: skip


def experiment_selections(wanted, dataset, kind, profile, seed, source, fetch=False) -> list:
    """The experiments' trials from the run source `source` ("build" or "frozen"), as a list of
    one selection; none when left out (--no-experiments) or when only a subset of the labs is
    asked for (--dataset, --model)."""
    from nnlab import pipeline

    if not wanted or dataset or kind:
        return []
    return [pipeline.plan_experiments(build_dir(), profile, seed, source, fetch)]


def _training_options(function):
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
            "(--seeds, --dataset, --model, report.toml's epochs)"
        )


def _train(
    dataset, kind, profile, seed, seed_count, config_path, precision, workers, quiet,
    experiments, then=None, yes=False, early=None,
):  # fmt: skip
    """Under the build lock: clean leftovers, train what is missing or stale (the experiments
    too, unless left out or a subset of the labs is asked for) unless the plan would take over
    12 hours and `yes` is not given, price the hand-made houses, then call `then()` (still
    under the lock). `early()` is called once, mid-training, as soon as every lab model has a
    finished run while runs are still to come (the build's preliminary report)."""
    from nnlab import devices, pipeline
    from nnlab.lock import build_lock
    from nnlab.runs import clean_leftovers

    workers = workers or devices.default_workers()
    build = build_dir()
    with build_lock(build):
        clean_leftovers(build)
        chosen = selection(
            dataset,
            kind,
            profile,
            seed,
            seed_count,
            config_path,
            precision,
            source="build",
            fetch=True,
        )
        selections = [chosen]
        selections += experiment_selections(
            experiments, dataset, kind, profile, seed, "build", fetch=True
        )
        if not yes:
            _refuse_long_plans(selections, workers)
        rendered_early = False

        def preliminary(_item) -> None:
            nonlocal rendered_early
            if early is None or rendered_early:
                return
            if pipeline.ready_for_a_preliminary_report(selections):
                rendered_early = True
                emit("every model has a finished run: rendering a preliminary report")
                early()

        trained = pipeline.train_missing(
            selections, workers, echo=emit, quiet=quiet, on_finish=preliminary
        )
        pipeline.price_handmade(chosen, echo=emit)
        pipeline.measure_inference(chosen, echo=emit)
        if then is not None:
            emit(f"{len(trained)} run(s) trained; rendering")
            then()
    return chosen, trained


@cli.command("train")
@_selection_options
@_training_options
@_experiments_option
def train_command(
    dataset, kind, profile, seed, seed_count, config_path, precision, workers, yes, quiet,
    experiments,
) -> None:  # fmt: skip
    """Train the runs that are missing or out of date; finished runs are kept."""
    chosen, trained = _train(
        dataset, kind, profile, seed, seed_count, config_path, precision, workers, quiet,
        experiments, yes=yes,
    )  # fmt: skip
    done = len(chosen.by_state("done"))
    click.echo(f"{len(trained)} trained, {done}/{len(chosen.plans)} runs done ({profile} profile)")


@cli.command("runs")
@_selection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_experiments_option
def runs_command(
    dataset, kind, profile, seed, seed_count, config_path, precision, as_json, experiments
) -> None:
    """List the runs a report would use, from one source, with their status and timings (the
    experiments' trials after the lab's runs)."""
    chosen = selection(dataset, kind, profile, seed, seed_count, config_path, precision)
    plans = [(item, None) for item in chosen.plans]
    for trials in experiment_selections(experiments, dataset, kind, profile, seed, chosen.source):
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
    for row in rows:
        epochs = f", {row['epochs_run']} epochs" if row["epochs_run"] else ""
        extra = row["reason"] or f"fit {row['fit_seconds']:.1f}s{epochs}"
        click.echo(f"{row['name']:<19} {row['status']:<8} {extra}  {row['folder']}")


# --- report ---------------------------------------------------------------------------------
def _report_options(function):
    function = click.option(
        "--format", "fmt", type=click.Choice(["html", "pdf", "all"]), default="all",
        show_default=True, help="Which outputs to render.",
    )(function)  # fmt: skip
    return click.option(
        "--lang", type=click.Choice(["vi", "en", "all"]), default="all", show_default=True,
        help="Which edition(s) to render.",
    )(function)  # fmt: skip


def _render(chosen, config_path, lang, fmt, experiments: bool) -> None:
    from nnlab import projectconfig
    from nnlab.report.make import make_report

    langs = ["vi", "en"] if lang == "all" else [lang]
    formats = ["html", "pdf"] if fmt == "all" else [fmt]
    report_config = projectconfig.load(config_path).report
    chosen.require_each_model()  # a run missing: a preliminary report
    emit(f"rendering from {chosen.root} ({chosen.source})")
    for line in chosen.warnings():
        emit(line)
    build = build_dir()
    first_seed = min(item.seed for item in chosen.plans)
    found = experiment_selections(
        experiments, None, None, chosen.profile, first_seed, chosen.source
    )
    shown = found[0] if found else None
    timings = make_report(build, chosen, langs, formats, report_config, emit, shown)
    for key, seconds in timings["stages"].items():
        emit(f"  {key}: {seconds:.1f}s")
    outputs = [str(build / "site")] if "html" in formats else []
    outputs += [str(build / f"report.{lg}.pdf") for lg in langs if "pdf" in formats]
    click.echo("report written: " + ", ".join(outputs))


@cli.command("report")
@_selection_options
@_report_options
@_experiments_option
def report_command(
    dataset, kind, profile, seed, seed_count, config_path, precision, lang, fmt, experiments
) -> None:
    """Render the report from saved runs (never trains)."""
    from nnlab.lock import build_lock

    if dataset or kind:
        raise NnlabError("the report covers all six runs; --dataset/--model are for train")
    with build_lock(build_dir()):
        chosen = selection(None, None, profile, seed, seed_count, config_path, precision)
        _render(chosen, config_path, lang, fmt, experiments)


@cli.command("build")
@_selection_options
@_report_options
@_training_options
@_experiments_option
def build_command(
    dataset, kind, profile, seed, seed_count, config_path, precision, lang, fmt, workers, yes,
    quiet, experiments,
) -> None:  # fmt: skip
    """Train what is missing or out of date, then render the report (what `make report` runs)."""
    if dataset or kind:
        raise NnlabError("build covers all six runs; use nnlab train for a subset")

    def render() -> None:
        chosen = selection(None, None, profile, seed, seed_count, config_path, precision)
        _render(chosen, config_path, lang, fmt, experiments)

    _train(
        None, None, profile, seed, seed_count, config_path, precision, workers, quiet,
        experiments, then=render, yes=yes, early=render,
    )  # fmt: skip


@cli.command("freeze")
@_selection_options
@click.option("--to", "target", type=click.Path(path_type=Path), default=Path("results"),
              show_default=True, help="Folder for the small results (tracked in git).")  # fmt: skip
@_experiments_option
def freeze_command(
    dataset, kind, profile, seed, seed_count, config_path, precision, target, experiments
) -> None:
    """Copy the build's current runs' small results (not the models) to results/, to render
    without training; refuses stale or missing runs."""
    from nnlab.lock import build_lock
    from nnlab.results import freeze

    with build_lock(build_dir()):
        chosen = selection(
            dataset, kind, profile, seed, seed_count, config_path, precision, source="build"
        )
        selections = [chosen]
        selections += experiment_selections(experiments, dataset, kind, profile, seed, "build")
        copied = freeze(build_dir(), selections, target)
    click.echo(f"{len(copied)} run(s) frozen into {target}")


# --- bench ----------------------------------------------------------------------------------
@cli.command("bench")
@click.option("--profile", type=click.Choice(config.PROFILES), default="full", show_default=True)
@click.option("--seed", type=int, default=config.DEFAULT_SEED, show_default=True)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--predict-check/--no-predict-check", default=True, show_default=True,
              help="Also time IMDB-RNN prediction at batch 32 vs nnlab's batch.")  # fmt: skip
def bench_command(profile, seed, config_path, predict_check) -> None:
    """Time each stage of a build and each run's FLOP utilisation; writes build/bench.json."""
    from nnlab import bench, projectconfig
    from nnlab.lock import build_lock

    report_config = projectconfig.load(config_path).report
    with build_lock(build_dir()):
        chosen = selection(None, None, profile, seed, 1, config_path, "float32", source="build")
        for line in chosen.warnings():
            emit(line)
        result = bench.bench(build_dir(), chosen, report_config, predict_check, log=emit)
    click.echo(bench.table(result))
    click.echo(f"written: {build_dir() / 'bench.json'}")
