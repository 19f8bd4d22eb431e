"""One recipe for every cache key, after DVC's run cache: a stage declares, beside itself, what
its output depends on; `dependencies` records it, `key` hashes it, `changes` names what changed.

- code: functions, classes or modules, by their syntax trees (fingerprint.py: comments and
  docstrings do not count), each under its dotted name;
- params: values, constants included, by name (a batch size, a resample count, a spec);
- files: checksums by name; None where a file could not be read here, which is then not
  compared (the caller says so: pipeline.Selection.warnings).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from nnlab import fingerprint

OLD_FORMAT = "cache-key format"  # a record written by an older nnlab


@dataclass(frozen=True)
class Stage:
    """What one cached stage depends on, besides the values each call passes in."""

    name: str
    code: tuple = ()
    params: dict = field(default_factory=dict)


def code_name(item) -> str:
    return (
        f"{item.__module__}.{item.__qualname__}" if hasattr(item, "__qualname__") else item.__name__
    )


def dependencies(stage: Stage, params: dict | None = None, files: dict | None = None) -> dict:
    """The stage's dependencies as plain JSON: {"code": {name: digest}, "params", "files"}."""
    values = {**stage.params, **(params or {})}
    return {
        "code": {code_name(item): fingerprint.object_digest(item) for item in stage.code},
        "params": json.loads(json.dumps(values, sort_keys=True, default=_plain)),
        "files": dict(files or {}),
    }


def _plain(value):
    """Values JSON cannot write directly: NumPy scalars and arrays, tuples via lists."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def key(deps: dict) -> str:
    return hashlib.sha256(json.dumps(deps, sort_keys=True).encode()).hexdigest()


def changes(recorded: dict, expected: dict, labels: dict | None = None) -> list[str]:
    """What differs between recorded and expected dependencies, named for people: a param by
    its label (`labels`, else its name), a dict-valued param with its changed entries
    ("training settings (epochs 5 → 10)"), code by the names whose trees changed, a file by
    name. An expected file checksum of None is not compared."""
    labels = labels or {}
    if not all(isinstance(recorded.get(part), dict) for part in ("code", "params", "files")):
        return [OLD_FORMAT]
    out = []
    have_params, want_params = recorded.get("params", {}), expected.get("params", {})
    for name, want in want_params.items():
        have = have_params.get(name)
        if want == have:
            continue
        label = labels.get(name, name)
        if isinstance(want, dict) and isinstance(have, dict) and name in labels:
            keys = sorted(k for k in want if want[k] != have.get(k))
            if keys and len(keys) <= 3 and all(not isinstance(want[k], dict | list) for k in keys):
                label += " (" + ", ".join(f"{k} {have.get(k)} → {want[k]}" for k in keys) + ")"
        out.append(label)
    have_code, want_code = recorded.get("code", {}), expected.get("code", {})
    changed_code = sorted(
        {n for n in want_code if want_code[n] != have_code.get(n)}
        | (set(have_code) - set(want_code))
    )
    if changed_code:
        short = [name.removeprefix("nnlab.") for name in changed_code]
        out.append(f"{labels.get('code', 'code')} ({', '.join(short)})")
    have_files, want_files = recorded.get("files", {}), expected.get("files", {})
    for name, want in want_files.items():
        if want is not None and want != have_files.get(name):
            out.append(labels.get(name, name))
    return out
