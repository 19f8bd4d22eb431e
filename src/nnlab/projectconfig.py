"""report/report.toml: who the report is by, and optional per-model training overrides.

Validated once here; every problem is one line naming the key and its line in the file.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nnlab.config import PRECISIONS, TUNABLE
from nnlab.errors import NnlabError
from nnlab.models import MODEL_NAMES
from nnlab.verdicts import EQUIVALENCE_SHARE

DEFAULT_PATH = Path("report/report.toml")
# Every [report] key with its default: what the report shows when the file leaves it out.
REPORT_DEFAULTS = {
    "university": "",  # the cover's keys: an empty one is left off the cover
    "faculty": "",
    "course": "intsyst01 — Hệ thống thông minh / Intelligent Systems",
    "class_name": "",
    "lecturer": "",
    "author": "Nguyễn Quang Thắng",
    "student_id": "B21DCCN669",
    "title_vi": "So sánh CNN và RNN (LSTM) trên MNIST, IMDB và Boston Housing",
    "title_en": "Comparing a CNN and an RNN (LSTM) on MNIST, IMDB and Boston Housing",
    "date": "",  # YYYY-MM-DD; empty: the build date
    "logo": "",  # an image file (PNG, JPEG or SVG), relative to the project folder
    "repository_url": "",
}
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
REPORT_KEYS = dict.fromkeys(REPORT_DEFAULTS, str)
# [verdicts]: the equivalence margin as a share of the better model's error (verdicts.py).
VERDICTS_DEFAULTS = {"equivalence_share": EQUIVALENCE_SHARE}
VERDICTS_KEYS = {"equivalence_share": float}


@dataclass
class ProjectConfig:
    report: dict[str, str] = field(default_factory=lambda: dict(REPORT_DEFAULTS))
    training: dict[str, dict] = field(default_factory=dict)
    seeds: int | None = None  # training seeds per model; None: config.DEFAULT_SEED_COUNTS
    verdicts: dict[str, float] = field(default_factory=lambda: dict(VERDICTS_DEFAULTS))


_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")


def _header_name(line: str) -> str | None:
    match = _HEADER.match(line)
    return re.sub(r"[\"'\s]", "", match.group(1)) if match else None


def _line_of(text: str, key: str, table: str | None = None) -> str:
    """Where `key` is set inside [table] (or, with no table, where a header names `key`)."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _header_name(line)
        if header is not None:
            current = header
            if table is None and key in header.split("."):
                return f"line {number}"
            continue
        sets_key = re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line)
        if sets_key and current == table:  # table None: top-level keys, before any header
            return f"line {number}"
    return "line unknown"


def _check_table(table, schema: dict, where: str, text: str) -> dict:
    if not isinstance(table, dict):
        raise NnlabError(f"{where}: [{where}] must be a table ({_line_of(text, where)})")
    for key, value in table.items():
        if key not in schema:
            known = ", ".join(schema)
            raise NnlabError(
                f"{where}: unknown key '{key}' ({_line_of(text, key, where)}); known keys: {known}"
            )
        wanted = schema[key]
        ok = isinstance(value, wanted) and not isinstance(value, bool)
        if wanted is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise NnlabError(
                f"{where}: key '{key}' ({_line_of(text, key, where)}) must be {wanted.__name__}, "
                f"got {type(value).__name__}"
            )
    return table


def _check_training(name: str, overrides: dict, text: str) -> dict:
    where = f"training.{name}"
    _check_table(overrides, TUNABLE, where, text)
    for key in ("epochs", "batch_size"):
        if key in overrides and overrides[key] < 1:
            line = _line_of(text, key, where)
            raise NnlabError(f"{where}: '{key}' ({line}) must be at least 1")
    if "learning_rate" in overrides and not overrides["learning_rate"] > 0:
        line = _line_of(text, "learning_rate", where)
        raise NnlabError(f"{where}: 'learning_rate' ({line}) must be > 0")
    if overrides.get("precision", "float32") not in PRECISIONS:
        line = _line_of(text, "precision", where)
        raise NnlabError(f"{where}: 'precision' ({line}) must be one of {', '.join(PRECISIONS)}")
    return {key: TUNABLE[key](value) for key, value in overrides.items()}


def _check_report(report: dict, text: str) -> dict:
    """The cover's date must be a date and its logo a readable image."""
    date = report.get("date", "")
    if date:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            line = _line_of(text, "date", "report")
            raise NnlabError(f"report: 'date' ({line}) must be YYYY-MM-DD, got {date!r}") from None
    logo = report.get("logo", "")
    if logo:
        line = _line_of(text, "logo", "report")
        if Path(logo).suffix.lower() not in LOGO_SUFFIXES:
            raise NnlabError(
                f"report: 'logo' ({line}) must be a {', '.join(LOGO_SUFFIXES)} file, got {logo!r}"
            )
        if not Path(logo).is_file():
            raise NnlabError(f"report: 'logo' ({line}) names a missing file: {logo}")
    return report


def _check_verdicts(table, text: str) -> dict:
    """The equivalence share must lie in (0, 1]: a margin of none, or more than the better
    model's whole error, says nothing."""
    table = _check_table(table, VERDICTS_KEYS, "verdicts", text)
    share = table.get("equivalence_share", EQUIVALENCE_SHARE)
    if not 0 < share <= 1:
        line = _line_of(text, "equivalence_share", "verdicts")
        raise NnlabError(f"verdicts: 'equivalence_share' ({line}) must be > 0 and at most 1, "
                         f"got {share!r}")  # fmt: skip
    return {**VERDICTS_DEFAULTS, **{key: float(value) for key, value in table.items()}}


def load(path: Path | None = None) -> ProjectConfig:
    """The config at `path`, or report/report.toml; the defaults when that one is absent."""
    explicit = path is not None
    path = Path(path) if explicit else DEFAULT_PATH
    if not path.exists():
        if explicit:
            raise NnlabError(f"config file not found: {path}")
        return ProjectConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise NnlabError(f"config file not readable: {path} ({reason})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NnlabError(f"{path}: bad TOML syntax: {exc}") from None
    unknown = set(raw) - {"seeds", "report", "training", "verdicts"}
    if unknown:
        key = sorted(unknown)[0]
        raise NnlabError(
            f"{path}: unknown section '{key}' ({_line_of(text, key)}); "
            "known: seeds, report, training, verdicts"
        )
    seeds = raw.get("seeds")
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise NnlabError(f"{path}: 'seeds' ({_line_of(text, 'seeds')}) must be a whole number "
                         f"of at least 1, got {seeds!r}")  # fmt: skip
    report = _check_report(_check_table(raw.get("report", {}), REPORT_KEYS, "report", text), text)
    training = {}
    sections = raw.get("training", {})
    if not isinstance(sections, dict):
        raise NnlabError(f"{path}: 'training' ({_line_of(text, 'training')}) must be a table")
    for name, overrides in sections.items():
        if name not in MODEL_NAMES:
            raise NnlabError(
                f"{path}: unknown model '{name}' in [training] ({_line_of(text, name)}); "
                f"known: {', '.join(MODEL_NAMES)}"
            )
        training[name] = _check_training(name, overrides, text)
    verdicts = _check_verdicts(raw.get("verdicts", {}), text)
    return ProjectConfig(report={**REPORT_DEFAULTS, **report}, training=training, seeds=seeds,
                         verdicts=verdicts)  # fmt: skip
