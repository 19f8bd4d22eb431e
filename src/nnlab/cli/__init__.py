"""The `nnlab` command: thin click wrappers that parse, call and print.

One module per command family registers its commands on the group in `app`; `main` turns user
errors into one line.
"""

from __future__ import annotations

import sys

import click

from nnlab.cli import build, data, predict  # noqa: F401 (importing registers the commands)
from nnlab.cli.app import cli, emit
from nnlab.errors import NnlabError


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2; no tracebacks."""
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
    except OSError as exc:  # anything the modules did not already turn into an NnlabError
        where = f" ({exc.filename})" if exc.filename else ""
        emit(f"nnlab: error: {exc.strerror or exc}{where}")
        sys.exit(2)
    except (KeyboardInterrupt, click.Abort):
        emit("nnlab: interrupted; finished runs are kept, run the command again to go on")
        sys.exit(130)
