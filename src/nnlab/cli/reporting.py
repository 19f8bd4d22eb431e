"""`nnlab report` and `build`: the report rendered from saved runs, after training for build."""

from __future__ import annotations

import shlex

import click

from nnlab import config
from nnlab.cli.app import build_dir, cli, emit
from nnlab.cli.request import LABS, Request, experiment_selections, request_options, selection
from nnlab.cli.training import train, training_options


def _report_options(function):
    function = click.option(
        "--format", "fmt", type=click.Choice(["html", "pdf", "all"]), default="all",
        show_default=True, help="Which outputs to render.",
    )(function)  # fmt: skip
    return click.option(
        "--lang", type=click.Choice(["vi", "en", "all"]), default="all", show_default=True,
        help="Which edition(s) to render.",
    )(function)  # fmt: skip


def render(request: Request, lang: str, fmt: str, command: str) -> None:
    """Render the report's editions `lang` in the formats `fmt` from the request's runs as
    they are now (`command`: published_command's). The caller holds the build lock."""
    from nnlab import projectconfig
    from nnlab.report.make import make_report

    langs = ["vi", "en"] if lang == "all" else [lang]
    formats = ["html", "pdf"] if fmt == "all" else [fmt]
    project = projectconfig.load(request.config_path)
    chosen = selection(request)
    chosen.require_each_model()  # a run missing: a preliminary report
    emit(f"rendering from {chosen.root} ({chosen.source})")
    for line in chosen.warnings():
        emit(line)
    build = build_dir()
    found = experiment_selections(request, chosen.source)
    shown = found[0] if found else None
    make_report(build, chosen, langs, formats, project.report, command, emit, shown,
                project.verdicts["equivalence_share"])  # fmt: skip
    outputs = [str(build / "site")] if "html" in formats else []
    outputs += [str(build / f"report.{lg}.pdf") for lg in langs if "pdf" in formats]
    click.echo("report written: " + ", ".join(outputs))


def published_command(request: Request, name: str) -> str:
    """The command the appendix shows: the options that pick the runs, so it is the same in
    every edition and format (no --lang, --format), and a --config by its file name only (its
    folder is the user's own)."""
    words = ["nnlab", name, "--profile", request.profile]
    if request.seed != config.DEFAULT_SEED:
        words += ["--seed", str(request.seed)]
    if request.seed_count is not None:
        words += ["--seeds", str(request.seed_count)]
    if request.precision != "float32":
        words += ["--precision", request.precision]
    if not request.experiments:
        words.append("--no-experiments")
    if request.config_path is not None:
        words += ["--config", request.config_path.name]
    return shlex.join(words)


@cli.command("report")
@request_options(*LABS, command="report")
@_report_options
def report_command(request: Request, lang, fmt) -> None:
    """Render the report from saved runs (never trains)."""
    from nnlab.lock import build_lock

    with build_lock(build_dir()):
        render(request, lang, fmt, published_command(request, "report"))


@cli.command("build")
@request_options(*LABS, command="build")
@_report_options
@training_options
def build_command(request: Request, lang, fmt, workers, yes, quiet, cluster) -> None:
    """Train what is missing or out of date, then render the report (what `make report` runs)."""
    from nnlab.lock import build_lock

    command = published_command(request, "build")
    with build_lock(build_dir()):
        _, trained = train(
            request,
            workers,
            quiet,
            yes,
            early=lambda: render(request, lang, fmt, command),
            cluster=cluster,
        )
        emit(f"{len(trained)} run(s) trained; rendering")
        render(request, lang, fmt, command)
