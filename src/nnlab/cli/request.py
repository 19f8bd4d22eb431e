"""What a command asks for: one `Request`, built by one option decorator, and its runs."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import click

from nnlab import config, data, models
from nnlab.cli.app import build_dir


@dataclass(frozen=True)
class Request:
    """Which runs a command works on: one dataset's, one kind's or every lab's (None: all),
    from `profile`, with `seed_count` seeds from `seed` on (None: report.toml's `seeds`, else
    the dataset's default), report.toml at `config_path` and `precision`; and the theory
    experiments' trials unless left out or a subset of the labs is asked for."""

    dataset: str | None = None
    kind: str | None = None
    profile: str = "full"
    seed: int = config.DEFAULT_SEED
    seed_count: int | None = None
    config_path: Path | None = None
    precision: str = "float32"
    experiments: bool = True

    @property
    def subset(self) -> bool:
        return self.dataset is not None or self.kind is not None


# What --seeds and --experiments do depends on the command: these say it per command.
SEED_COUNT_HELP = {
    "train": "Train each model with this many seeds (seed, seed+1, …)",
    "build": "Train each model with this many seeds (seed, seed+1, …)",
    "runs": "List each model's runs with this many seeds (seed, seed+1, …)",
    "report": "Report on each model's runs with this many seeds (seed, seed+1, …)",
    "freeze": "Freeze each model's runs with this many seeds (seed, seed+1, …)",
}
SEED_COUNT_DEFAULT = (
    "; default: report.toml's `seeds`, else "
    + ", ".join(f"{n} for {name}" for name, n in config.DEFAULT_SEED_COUNTS.items())
    + f" ({config.QUICK_SEEDS} in the quick profile)."
)
EXPERIMENTS_HELP = {
    "train": "Train the theory chapters' small experiments and Boston's sounder protocols too "
    "(about 25 minutes on 2 cores); never with --dataset or --kind.",
    "build": "Train the theory chapters' small experiments and Boston's sounder protocols too "
    "(about 25 minutes on 2 cores) and show them.",
    "runs": "List the theory chapters' experiment trials too; never with --dataset or --kind.",
    "report": "Show the theory chapters' experiments (from their saved trials).",
    "freeze": "Freeze the theory chapters' experiment trials too; never with --dataset or --kind.",
}


def _options(command: str) -> dict:
    """Each Request field's click option, its help worded for `command`."""
    return {
        "dataset": click.option(
            "--dataset", type=click.Choice(data.DATASETS), help="One dataset only."
        ),
        "kind": click.option(
            "--kind", "--model", "kind", type=click.Choice(models.KINDS),
            help="One model kind only: cnn or rnn.",
        ),
        "profile": click.option(
            "--profile", type=click.Choice(config.PROFILES), default="full", show_default=True,
            help="full: the notebook's settings; quick: small real subsets, 1 epoch.",
        ),
        "seed": click.option(
            "--seed", type=click.IntRange(0, config.MAX_FIRST_SEED),
            default=config.DEFAULT_SEED, show_default=True, help="First seed.",
        ),
        "seed_count": click.option(
            "--seeds", "seed_count", type=click.IntRange(1, config.MAX_SEEDS), default=None,
            help=SEED_COUNT_HELP.get(command, "") + SEED_COUNT_DEFAULT,
        ),
        "config_path": click.option(
            "--config", "config_path", type=click.Path(path_type=Path), default=None,
            help="Report and training config (default report/report.toml).",
        ),
        "precision": click.option(
            "--precision", type=click.Choice(config.PRECISIONS), default="float32",
            show_default=True,
            help="The runs' precision; mixed_bfloat16: for CPUs with native bf16 and GPUs.",
        ),
        "experiments": click.option(
            "--experiments/--no-experiments", default=True, show_default=True,
            help=EXPERIMENTS_HELP.get(command),
        ),
    }  # fmt: skip


SUBSET = ("dataset", "kind")
LABS = ("profile", "seed", "seed_count", "config_path", "precision", "experiments")


def request_options(*names: str, command: str = "", **fixed):
    """Give a command the options for the Request fields `names`, their help worded for
    `command` (SEED_COUNT_HELP, EXPERIMENTS_HELP); it gets one `request` instead of their
    values. `fixed`: fields the command sets itself; the others keep Request's defaults."""
    options = _options(command)

    def decorate(function):
        @functools.wraps(function)
        def with_request(**values):
            asked = {name: values.pop(name) for name in names}
            return function(request=Request(**asked, **fixed), **values)

        for name in reversed(names):  # click lists the options in the order of `names`
            with_request = options[name](with_request)
        return with_request

    return decorate


def selection(request: Request, source: str = "auto", fetch: bool = False):
    """The request's lab runs (pipeline.plan), with report.toml's overrides and seed count."""
    from nnlab import pipeline, projectconfig

    project = projectconfig.load(request.config_path)
    overrides = pipeline.overrides_for(project.training, request.precision)
    specs = models.select(request.dataset, request.kind)
    seed_count = request.seed_count or project.seeds
    seeds = {
        spec.dataset: config.seeds_for(spec.dataset, request.seed, seed_count, request.profile)
        for spec in specs
    }
    chosen = pipeline.plan(build_dir(), request.profile, specs, seeds, overrides, source, fetch)
    return replace(chosen, config_path=request.config_path, seed_options=_seed_options(request))


def _seed_options(request: Request, count: bool = True) -> str:
    """The --seed (and, with `count`, --seeds) the user gave, for the commands nnlab names."""
    words = [] if request.seed == config.DEFAULT_SEED else [f"--seed {request.seed}"]
    if count and request.seed_count is not None:
        words.append(f"--seeds {request.seed_count}")
    return " ".join(words)


def experiment_selections(request: Request, source: str, fetch: bool = False) -> list:
    """The experiments' trials from the run source `source` ("build" or "frozen"), as a list of
    one selection; none when left out (--no-experiments) or when only a subset of the labs is
    asked for (--dataset, --kind)."""
    from nnlab import pipeline

    if not request.experiments or request.subset:
        return []
    trials = pipeline.plan_experiments(build_dir(), request.profile, request.seed, source, fetch)
    return [
        replace(
            trials,
            config_path=request.config_path,
            seed_options=_seed_options(request, count=False),
        )
    ]
