"""`nnlab predict boston|imdb|mnist`: ask both trained models about a new input."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nnlab import runs
from nnlab.cli.app import cli, emit
from nnlab.cli.request import Request, request_options, selection
from nnlab.errors import NnlabError
from nnlab.metrics import THRESHOLD

_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
PREDICT = ("profile", "seed", "config_path", "precision")


def _runs(request: Request):
    """The dataset's two runs in the build, with their models. The frozen results hold no
    models: where they have the runs and the build does not, say so. Either way, name the one
    command that trains the seed asked for (not every seed)."""
    ready = ("done", "stale")
    chosen = selection(request, source="build")
    missing = [item for item in chosen.plans if item.status.state not in ready]
    frozen = selection(request, source="frozen").plans if missing else []
    if frozen and all(item.status.state in ready for item in frozen):
        raise NnlabError(
            f"the frozen results ({runs.FROZEN_ROOT}) hold the report's {request.dataset} runs "
            "but no trained models, and the build has none yet; train the one run that "
            f"predict needs: {chosen.train_command(missing[0].train_options(one_seed=True))}"
        )
    chosen.require(states=ready, one_seed=True)
    for line in chosen.warnings():
        emit(line)
    return chosen


@cli.group("predict")
def predict_group() -> None:
    """Ask both trained models about a new input."""


@predict_group.command("boston")
@click.option("--features", help="13 comma-separated values in StatLib order (CRIM … LSTAT).")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="CSV with a header.")
@request_options(*PREDICT, dataset="boston", seed_count=1)
@_json_option
def predict_boston(request: Request, features, csv_path, as_json) -> None:
    """Price of one or more houses, in dollars, from each model."""
    from nnlab import predict

    if (features is None) == (csv_path is None):
        raise NnlabError("give exactly one of --features or --csv")
    if features is not None:
        houses = predict.parse_features(features)
    else:
        houses = predict.read_feature_csv(csv_path)
    chosen = _runs(request)
    answers = predict.boston_prices(houses, chosen, warn=emit)
    if as_json:
        click.echo(json.dumps(answers, indent=2))
        return
    for number, answer in enumerate(answers, start=1):
        click.echo(f"house {number}: CNN ${answer['cnn']:,.2f}   RNN ${answer['rnn']:,.2f}")


@predict_group.command("imdb")
@click.argument("text", required=False)
@click.option("--file", "text_file", type=click.Path(path_type=Path), help="Read the review.")
@request_options(*PREDICT, dataset="imdb", seed_count=1)
@_json_option
def predict_imdb(request: Request, text, text_file, as_json) -> None:
    """Probability that a review is positive, from each model."""
    from nnlab import predict

    if (text is None) == (text_file is None):
        raise NnlabError("give the review text or --file, not both")
    if text_file is not None:
        try:
            text = text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NnlabError(f"cannot read {text_file}: {exc}") from None
    answer = predict.review_probabilities(text, _runs(request))
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    for kind in ("cnn", "rnn"):
        p = answer[kind]
        verdict = "positive" if p > THRESHOLD else "negative"
        click.echo(f"{kind.upper()}: P(positive) = {p:.3f} ({verdict})")


@predict_group.command("mnist")
@click.argument("image", type=click.Path(path_type=Path))
@request_options(*PREDICT, dataset="mnist", seed_count=1)
@_json_option
def predict_mnist(request: Request, image, as_json) -> None:
    """Top-3 digits for an image of any size or colour, from each model."""
    from nnlab import predict

    digit = predict.mnist_image(image)  # the input checked before any model is loaded
    answer = predict.digit_top3(digit, _runs(request))
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    for kind in ("cnn", "rnn"):
        top = ", ".join(f"{i['digit']} ({i['probability']:.1%})" for i in answer[kind])
        click.echo(f"{kind.upper()}: {top}")
