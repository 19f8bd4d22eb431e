"""An experiment as the theory chapters show it (`Exhibit`), and the small helpers the
experiments' views share: their figures' inputs, two-way charts, and number phrasing."""

from __future__ import annotations

from dataclasses import dataclass, field

from nnlab.report.assets import FigureStore


@dataclass
class Exhibit:
    name: str  # the experiment; its template is templates/theory/<name>.html
    figures: dict[str, str]  # chart name → URL, and "<name>-phone" its variant for phones
    sentences: list[str]  # what it showed, computed
    table: dict | None = None  # {"header": [...], "rows": [[...]]}, cells already formatted
    values: dict = field(default_factory=dict)  # numbers the template's fixed text names


def inputs(trials: dict[str, list]) -> list:
    return [[run.record.get("files") for run in runs] for runs in trials.values()]


def two_ways(store: FigureStore, name: str, inputs, draw) -> dict[str, str]:
    return {
        name: store.get(f"theory-{name}", inputs, lambda: draw(False)),
        f"{name}-phone": store.get(f"theory-{name}-phone", inputs, lambda: draw(True)),
    }


def spread(t, stats: dict, digits: int = 2) -> str:
    if len(stats["values"]) < 2:
        return t.num(stats["mean"], digits)
    return f"{t.num(stats['mean'], digits)} ± {t.num(stats['std'], digits)}"


def listed(t, items: list[str]) -> str:
    """ "a, b and c" in the edition's language."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {t('exp:and')} {items[-1]}"
