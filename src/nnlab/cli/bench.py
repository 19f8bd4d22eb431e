"""`nnlab bench`: the build's stage timings and each run's FLOP utilisation."""

from __future__ import annotations

import click

from nnlab.cli.app import build_dir, cli, emit
from nnlab.cli.request import Request, request_options, selection


@cli.command("bench")
@request_options("profile", "seed", "config_path", seed_count=1)
@click.option("--predict-check/--no-predict-check", default=True, show_default=True,
              help="Also time IMDB-RNN prediction at batch 32 vs nnlab's batch.")  # fmt: skip
def bench_command(request: Request, predict_check) -> None:
    """Time each stage of a build and each run's FLOP utilisation; writes build/bench.json."""
    from nnlab import bench, projectconfig
    from nnlab.lock import build_lock

    report_config = projectconfig.load(request.config_path).report
    with build_lock(build_dir()):
        chosen = selection(request, source="build")
        for line in chosen.warnings():
            emit(line)
        result = bench.bench(build_dir(), chosen, report_config, predict_check, log=emit)
    click.echo(bench.table(result))
    click.echo(f"written: {build_dir() / 'bench.json'}")
