"""The `nnlab` command: thin click wrappers that parse, call and print."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from nnlab import config, data, models
from nnlab.errors import NnlabError


def _build_dir() -> Path:
    return Path(os.environ.get("NNLAB_BUILD_DIR", "build"))


def _emit(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nnlab")
def cli() -> None:
    """Train a CNN and an LSTM on MNIST, IMDB and Boston Housing, and report on them.

    The build folder is ./build (set NNLAB_BUILD_DIR to change it); datasets are cached in
    NNLAB_DATA_DIR (default ~/.cache/nnlab).
    """


# --- data -------------------------------------------------------------------------------------
@cli.group("data")
def data_group() -> None:
    """Fetch and inspect the three datasets."""


DATASET_ARG = click.argument("names", nargs=-1, type=click.Choice(data.DATASETS))


@data_group.command("fetch")
@DATASET_ARG
def data_fetch(names: tuple[str, ...]) -> None:
    """Fetch, verify and cache the datasets (all three by default)."""
    for name in names or data.DATASETS:
        dataset = data.load(name, log=_emit)
        click.echo(f"{name}: ready ({dataset.meta['source']}, sha256 {dataset.checksum[:12]}…)")


@data_group.command("info")
@DATASET_ARG
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def data_info(names: tuple[str, ...], as_json: bool) -> None:
    """Shapes, means, first labels and checksums of the cached datasets."""
    info = {name: data.summary(data.load(name, log=_emit)) for name in names or data.DATASETS}
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for name, item in info.items():
        click.echo(
            f"{name}: {item['source']}  train {item['x_train_shape']}  test {item['x_test_shape']}"
            f"  x_train mean {item['x_train_mean']:.4f}  y_train[:10] {item['y_train_head']}"
        )


# --- models -----------------------------------------------------------------------------------
@cli.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models_command(as_json: bool) -> None:
    """The six models: dataset, kind, parameter count and layers."""
    table = []
    for spec in models.SPECS.values():
        built = models.build(spec)
        table.append(
            {
                "name": spec.name,
                "dataset": spec.dataset,
                "kind": spec.kind,
                "params": int(built.count_params()),
                "layers": models.describe(built),
            }
        )
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    for row in table:
        layers = " → ".join(layer["type"] for layer in row["layers"])
        click.echo(f"{row['name']:<11} {row['params']:>10,} params  {layers}")


# --- training ---------------------------------------------------------------------------------
def _selection_options(function):
    function = click.option(
        "--seed", type=int, default=config.DEFAULT_SEED, show_default=True, help="Random seed."
    )(function)
    function = click.option(
        "--repeats",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Train each model with this many seeds (seed, seed+1, …).",
    )(function)
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


def _plans(dataset, kind, profile, seed, repeats, config_path, precision, fetch=False):
    from nnlab import pipeline, projectconfig

    overrides = projectconfig.load(config_path).training
    if precision != "float32":
        overrides = {
            name: {**overrides.get(name, {}), "precision": precision} for name in models.SPECS
        }
    specs = models.select(dataset, kind)
    seeds = [seed + offset for offset in range(repeats)]
    return pipeline.plan(_build_dir(), profile, specs, seeds, overrides, fetch=fetch)


def _train(dataset, kind, profile, seed, repeats, config_path, precision, quiet, then=None):
    """Under the build lock: clean leftovers, train what is missing, then call `then()`."""
    from nnlab import pipeline
    from nnlab.lock import build_lock
    from nnlab.runs import clean_leftovers

    build = _build_dir()
    with build_lock(build):
        clean_leftovers(build)
        plans = _plans(dataset, kind, profile, seed, repeats, config_path, precision, fetch=True)
        # Keras's live progress bar on a terminal, one line per epoch in a log file.
        verbose = 0 if quiet else (1 if sys.stdout.isatty() else 2)
        trained = pipeline.train_missing(plans, verbose=verbose, echo=_emit)
        if then is not None:
            _emit(f"{len(trained)} run(s) trained; rendering")
            then()
    return plans, trained


@cli.command("train")
@_selection_options
@click.option("--quiet", is_flag=True, help="No Keras progress bars.")
def train_command(dataset, kind, profile, seed, repeats, config_path, precision, quiet) -> None:
    """Train the runs that are missing or out of date; finished runs are kept."""
    plans, trained = _train(dataset, kind, profile, seed, repeats, config_path, precision, quiet)
    done = sum(p.status.state == "done" for p in plans)
    click.echo(f"{len(trained)} trained, {done}/{len(plans)} runs done ({profile} profile)")


@cli.command("runs")
@_selection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def runs_command(dataset, kind, profile, seed, repeats, config_path, precision, as_json) -> None:
    """List the runs of a profile with their status and test metrics."""
    plans = _plans(dataset, kind, profile, seed, repeats, config_path, precision)
    rows = [p.status.as_dict() for p in plans]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        extra = row["reason"] or f"fit {row['fit_seconds']:.1f}s, {row['epochs_run']} epochs"
        click.echo(f"{row['name']:<11} {row['status']:<8} {extra}  {row['folder']}")


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


def _render(profile, seed, repeats, config_path, precision, lang, fmt) -> None:
    from nnlab import projectconfig
    from nnlab.report.make import make_report

    langs = ["vi", "en"] if lang == "all" else [lang]
    formats = ["html", "pdf"] if fmt == "all" else [fmt]
    report_config = projectconfig.load(config_path).report
    seeds = [seed + offset for offset in range(repeats)]
    timings = make_report(
        _build_dir(), profile, seeds, langs, formats, report_config, _emit, precision
    )
    build = _build_dir()
    for key, seconds in timings.items():
        _emit(f"  {key}: {seconds:.1f}s")
    outputs = [str(build / "site")] if "html" in formats else []
    outputs += [str(build / f"report.{lg}.pdf") for lg in langs if "pdf" in formats]
    click.echo("report written: " + ", ".join(outputs))


@cli.command("report")
@_selection_options
@_report_options
def report_command(
    dataset, kind, profile, seed, repeats, config_path, precision, lang, fmt
) -> None:
    """Render the report from saved runs (never trains)."""
    if dataset or kind:
        raise NnlabError("the report covers all six runs; --dataset/--model are for train")
    _render(profile, seed, repeats, config_path, precision, lang, fmt)


@cli.command("build")
@_selection_options
@_report_options
@click.option("--quiet", is_flag=True, help="No Keras progress bars.")
def build_command(
    dataset, kind, profile, seed, repeats, config_path, precision, lang, fmt, quiet
) -> None:
    """Train what is missing or out of date, then render the report (what `make report` runs)."""
    if dataset or kind:
        raise NnlabError("build covers all six runs; use nnlab train for a subset")

    def render() -> None:
        _render(profile, seed, repeats, config_path, precision, lang, fmt)

    _train(None, None, profile, seed, repeats, config_path, precision, quiet, then=render)


@cli.command("freeze")
@click.option("--profile", type=click.Choice(config.PROFILES), default="full", show_default=True)
@click.option("--to", "target", type=click.Path(path_type=Path), default=Path("results"),
              show_default=True, help="Folder for the small results (tracked in git).")  # fmt: skip
def freeze_command(profile, target) -> None:
    """Copy the runs' small results (not the models) to results/, to render without training."""
    from nnlab.results import freeze

    copied = freeze(_build_dir(), profile, target)
    click.echo(f"{len(copied)} run(s) frozen into {target / profile}")


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

    report_config = projectconfig.load(config_path).report
    result = bench.bench(_build_dir(), profile, seed, report_config, predict_check, log=_emit)
    click.echo(bench.table(result))
    click.echo(f"written: {_build_dir() / 'bench.json'}")


# --- predict --------------------------------------------------------------------------------
def _predict_options(function):
    function = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(function)
    function = click.option("--seed", type=int, default=config.DEFAULT_SEED, show_default=True)(
        function
    )
    return click.option(
        "--profile", type=click.Choice(config.PROFILES), default="full", show_default=True,
        help="Which trained runs answer.",
    )(function)  # fmt: skip


@cli.group("predict")
def predict_group() -> None:
    """Ask both trained models about a new input."""


@predict_group.command("boston")
@click.option("--features", help="13 comma-separated values in StatLib order (CRIM … LSTAT).")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="CSV with a header.")
@_predict_options
def predict_boston(features, csv_path, profile, seed, as_json) -> None:
    """Price of one or more houses, in dollars, from each model."""
    from nnlab import predict

    if (features is None) == (csv_path is None):
        raise NnlabError("give exactly one of --features or --csv")
    houses = predict.parse_features(features) if features else predict.read_feature_csv(csv_path)
    answers = predict.boston_prices(houses, _build_dir(), profile, seed)
    if as_json:
        click.echo(json.dumps(answers, indent=2))
        return
    for number, answer in enumerate(answers, start=1):
        click.echo(f"house {number}: CNN ${answer['cnn']:,.2f}   RNN ${answer['rnn']:,.2f}")


@predict_group.command("imdb")
@click.argument("text", required=False)
@click.option("--file", "text_file", type=click.Path(path_type=Path), help="Read the review.")
@_predict_options
def predict_imdb(text, text_file, profile, seed, as_json) -> None:
    """Probability that a review is positive, from each model."""
    from nnlab import predict

    if (text is None) == (text_file is None):
        raise NnlabError("give the review text or --file, not both")
    if text_file is not None:
        try:
            text = text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NnlabError(f"cannot read {text_file}: {exc}") from None
    answer = predict.review_probabilities(text, _build_dir(), profile, seed)
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    for kind in ("cnn", "rnn"):
        p = answer[kind]
        verdict = "positive" if p > 0.5 else "negative"
        click.echo(f"{kind.upper()}: P(positive) = {p:.3f} ({verdict})")


@predict_group.command("mnist")
@click.argument("image", type=click.Path(path_type=Path))
@_predict_options
def predict_mnist(image, profile, seed, as_json) -> None:
    """Top-3 digits for an image of any size or colour, from each model."""
    from nnlab import predict

    answer = predict.digit_top3(image, _build_dir(), profile, seed)
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    for kind in ("cnn", "rnn"):
        top = ", ".join(f"{i['digit']} ({i['probability']:.1%})" for i in answer[kind])
        click.echo(f"{kind.upper()}: {top}")


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2; no tracebacks."""
    try:
        cli.main(standalone_mode=False)
    except NnlabError as exc:
        _emit(f"nnlab: error: {exc}")
        sys.exit(2)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help())
    except click.UsageError as exc:
        _emit(f"nnlab: error: {exc.format_message()}")
        sys.exit(2)
    except click.ClickException as exc:
        _emit(f"nnlab: error: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except OSError as exc:  # anything the modules did not already turn into an NnlabError
        where = f" ({exc.filename})" if exc.filename else ""
        _emit(f"nnlab: error: {exc.strerror or exc}{where}")
        sys.exit(2)
    except (KeyboardInterrupt, click.Abort):
        _emit("nnlab: interrupted; finished runs are kept, run the command again to go on")
        sys.exit(130)
