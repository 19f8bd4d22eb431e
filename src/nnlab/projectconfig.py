"""report/report.toml: who the report is by, and optional per-model training overrides.

Validated once here; every problem is one line naming the key and its line in the file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from nnlab import projectfiles
from nnlab.config import MAX_EPOCHS, MAX_SEEDS, PRECISIONS, TUNABLE
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
    "author": "",
    "student_id": "",
    "title_vi": "So sánh CNN và RNN (LSTM) trên MNIST, IMDB và Boston Housing",
    "title_en": "Comparing a CNN and an RNN (LSTM) on MNIST, IMDB and Boston Housing",
    "date": "",  # YYYY-MM-DD; empty: the build date
    "logo": "",  # an image file (PNG, JPEG or SVG), relative to the project folder
}
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


_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_HEADER = re.compile(rf"^\s*\[\[?\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]")
_ASSIGNMENT = re.compile(rf"^\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in re.findall(_KEY, dotted))


def _inline_key(rest: str, key: str) -> re.Match | None:
    """Where `key = ` opens inside an inline table's text `rest`."""
    quoted = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
    return re.search(rf"[{{,]\s*{quoted}\s*=", rest)


def _line_of(text: str, key: str, table: str | None = None) -> str:
    """Where the key path `table`.`key` is set: under a [table] header, as a dotted key
    (`training.boston-cnn.epochs = 3`) or in an inline table (`training = {boston-cnn = {…}}`);
    a header names a table too. "line N", else the key path itself (never "unknown")."""
    path = (*(table.split(".") if table else ()), key)
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = _parts(header.group(1))
            if current[: len(path)] == path:
                return f"line {number}"
            continue
        assignment = _ASSIGNMENT.match(line)
        if not assignment:
            continue
        full = current + _parts(assignment.group(1))
        if full[: len(path)] == path:
            return f"line {number}"
        if path[: len(full)] == full:  # the rest of the path may be in an inline table
            rest = line[assignment.end() :]
            for part in path[len(full) :]:
                found = _inline_key(rest, part)
                if found is None:
                    break
                rest = rest[found.end() :]
            else:
                return f"line {number}"
    return "key " + ".".join(path)


# TOML's value types as the file's author knows them (not Python's names).
_TOML_KINDS = (
    (bool, "true or false"),
    (int, "a whole number"),
    (float, "a number"),
    (str, "text"),
    (dict, "a table"),
    (list, "an array"),
    (dt.datetime, "a date and time"),
    (dt.date, "a date"),
    (dt.time, "a time"),
)
_WANTED = {int: "a whole number", float: "a number", str: "text"}


def _kind(value) -> str:
    return next(name for kind, name in _TOML_KINDS if isinstance(value, kind))


def _check_table(table, schema: dict, where: str, text: str) -> dict:
    if not isinstance(table, dict):
        parent, _, name = where.rpartition(".")
        line = _line_of(text, name, parent or None)
        raise NnlabError(f"{where}: [{where}] must be a table ({line})")
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
                f"{where}: key '{key}' ({_line_of(text, key, where)}) must be {_WANTED[wanted]}, "
                f"got {_kind(value)}"
            )
    return table


def _check_training(name: str, overrides: dict, text: str) -> dict:
    where = f"training.{name}"
    _check_table(overrides, TUNABLE, where, text)
    for key, most in (("epochs", MAX_EPOCHS), ("batch_size", None)):
        if key in overrides and overrides[key] < 1:
            line = _line_of(text, key, where)
            raise NnlabError(f"{where}: '{key}' ({line}) must be at least 1")
        if key in overrides and most is not None and overrides[key] > most:
            line = _line_of(text, key, where)
            raise NnlabError(f"{where}: '{key}' ({line}) must be at most {most:,}")
    rate = overrides.get("learning_rate")
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        line = _line_of(text, "learning_rate", where)
        raise NnlabError(f"{where}: 'learning_rate' ({line}) must be a finite number > 0")
    if overrides.get("precision", "float32") not in PRECISIONS:
        line = _line_of(text, "precision", where)
        raise NnlabError(f"{where}: 'precision' ({line}) must be one of {', '.join(PRECISIONS)}")
    return {key: TUNABLE[key](value) for key, value in overrides.items()}


def _check_report(report: dict, text: str) -> dict:
    """The cover's text must be printable, its titles given, its date a date and its logo an
    image inside the project folder (the current one)."""
    for key, value in report.items():
        control = next((char for char in value if unicodedata.category(char) == "Cc"), None)
        if control is not None:  # a control character is invalid in the PDF's XML metadata
            line = _line_of(text, key, "report")
            raise NnlabError(f"report: '{key}' ({line}) holds the control character "
                             f"U+{ord(control):04X}; remove it")  # fmt: skip
    for key in ("title_vi", "title_en"):
        if key in report and not report[key].strip():
            line = _line_of(text, key, "report")
            raise NnlabError(f"report: '{key}' ({line}) is empty; it is the edition's title")
    date = report.get("date", "")
    if date:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            line = _line_of(text, "date", "report")
            raise NnlabError(f"report: 'date' ({line}) must be YYYY-MM-DD, got {date!r}") from None
    logo = report.get("logo", "")
    if logo:
        try:
            projectfiles.image(Path.cwd(), logo)
        except NnlabError as exc:
            line = _line_of(text, "logo", "report")
            raise NnlabError(f"report: 'logo' ({line}): {exc}") from None
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
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Notepad's) is fine
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
    if seeds is not None and (
        isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS
    ):
        got = seeds if _kind(seeds) == "a whole number" else _kind(seeds)
        raise NnlabError(f"{path}: 'seeds' ({_line_of(text, 'seeds')}) must be a whole number "
                         f"from 1 to {MAX_SEEDS:,}, got {got}")  # fmt: skip
    report = _check_report(_check_table(raw.get("report", {}), REPORT_KEYS, "report", text), text)
    training = {}
    sections = raw.get("training", {})
    if not isinstance(sections, dict):
        raise NnlabError(f"{path}: 'training' ({_line_of(text, 'training')}) must be a table")
    for name, overrides in sections.items():
        if name not in MODEL_NAMES:
            line = _line_of(text, name, "training")
            raise NnlabError(
                f"{path}: unknown model '{name}' in [training] ({line}); "
                f"known: {', '.join(MODEL_NAMES)}"
            )
        training[name] = _check_training(name, overrides, text)
    verdicts = _check_verdicts(raw.get("verdicts", {}), text)
    return ProjectConfig(report={**REPORT_DEFAULTS, **report}, training=training, seeds=seeds,
                         verdicts=verdicts)  # fmt: skip
