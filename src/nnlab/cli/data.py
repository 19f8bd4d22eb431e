"""`nnlab data fetch|info` and `nnlab models`."""

from __future__ import annotations

import json

import click

from nnlab import data, models
from nnlab.cli.app import cli, emit
from nnlab.data import cache
from nnlab.errors import NnlabError


@cli.group("data")
def data_group() -> None:
    """Fetch and inspect the three datasets."""


DATASET_ARG = click.argument("names", nargs=-1, type=click.Choice(data.DATASETS))


@data_group.command("fetch")
@DATASET_ARG
def data_fetch(names: tuple[str, ...]) -> None:
    """Fetch, verify and cache the datasets (all three by default)."""
    for name in names or data.DATASETS:
        dataset = data.load(name, log=emit)
        click.echo(f"{name}: ready ({dataset.meta['source']}, sha256 {dataset.checksum[:12]}…)")


@data_group.command("info")
@DATASET_ARG
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def data_info(names: tuple[str, ...], as_json: bool) -> None:
    """Shapes, means, first labels and checksums of the cached datasets (fetches nothing)."""
    names = names or data.DATASETS
    missing = [name for name in names if data.cached_checksum(name) is None]
    if missing:
        cached = [name for name in names if name not in missing]
        other = f", or ask only for the cached: nnlab data info {' '.join(cached)}"
        raise NnlabError(
            f"{', '.join(missing)} not cached in {cache.data_dir()} (info only reads the "
            f"cache); fetch with: nnlab data fetch {' '.join(missing)}{other if cached else ''}"
        )
    info = {name: data.summary(data.load(name, fetch=False)) for name in names}
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
