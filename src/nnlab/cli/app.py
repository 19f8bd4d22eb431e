"""The `nnlab` click group, and what every command module shares."""

from __future__ import annotations

import os
from pathlib import Path

import click


def build_dir() -> Path:
    return Path(os.environ.get("NNLAB_BUILD_DIR", "build"))


def emit(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nnlab")
def cli() -> None:
    """Train a CNN and an LSTM on MNIST, IMDB and Boston Housing, and report on them.

    The build folder is ./build (set NNLAB_BUILD_DIR to change it); datasets are cached in
    NNLAB_DATA_DIR (default ~/.cache/nnlab).
    """
