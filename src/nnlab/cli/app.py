"""The `nnlab` click group, and what every command module shares."""

from __future__ import annotations

import os
from pathlib import Path

import click

from nnlab.errors import NnlabError


def build_dir() -> Path:
    value = os.environ.get("NNLAB_BUILD_DIR", "build")
    if not value.strip():  # Path("") is the current folder: the project's own files
        raise NnlabError("NNLAB_BUILD_DIR is set but empty; name a folder, or unset it for ./build")
    return Path(value)


def emit(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nnlab")
def cli() -> None:
    """Train a CNN and an LSTM on MNIST, IMDB and Boston Housing, and report on them.

    The build folder is ./build (set NNLAB_BUILD_DIR to change it); datasets are cached in
    NNLAB_DATA_DIR (default ~/.cache/nnlab).
    """
