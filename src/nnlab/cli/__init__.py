"""The `nnlab` command: thin click wrappers that parse, call and print.

One module per command family registers its commands on the group in `app`; `main` turns user
errors into one line.
"""

from __future__ import annotations

import sys
import traceback

import click

from nnlab.cli import bench, data, predict, reporting, training  # noqa: F401 (registers commands)
from nnlab.cli.app import cli, emit
from nnlab.errors import NnlabError


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2, without a
    traceback (the modules turn problems with the user's own files and folders into
    NnlabError); anything else is a bug and shows its traceback."""
    try:
        cli.main(standalone_mode=False)
    except NnlabError as exc:
        emit(f"nnlab: error: {exc}")
        sys.exit(2)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help())
    except click.UsageError as exc:
        emit(f"nnlab: error: {exc.format_message()}")
        sys.exit(2)
    except click.ClickException as exc:
        emit(f"nnlab: error: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.Abort):
        emit("nnlab: interrupted; finished runs are kept, run the command again to go on")
        sys.exit(130)
    except Exception:  # not the user's input: a bug keeps its traceback
        traceback.print_exc()
        emit("nnlab: internal error: this is a bug in nnlab, not in your input (traceback above)")
        sys.exit(1)
