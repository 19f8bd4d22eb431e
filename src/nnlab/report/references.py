"""The works the report cites (report/references.toml), numbered in the references chapter's
order, and the citation marks that link to them: [@key] in prose, cite("key") in templates."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from markupsafe import Markup

from nnlab.errors import NnlabError

CITATION = re.compile(r"\[@([a-z0-9]+(?:\s*;\s*@[a-z0-9]+)*)\]")


class References:
    def __init__(self, path: Path):
        try:
            entries = tomllib.loads(path.read_text(encoding="utf-8"))["reference"]
        except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
            raise NnlabError(f"references not readable: {path} ({exc})") from None
        self.path = path
        self.entries = entries
        self.number = {entry["key"]: i for i, entry in enumerate(entries, start=1)}

    def cite(self, *keys: str) -> Markup:
        """The mark "[n]" (or "[n, m]") linking to the references chapter."""
        for key in keys:
            if key not in self.number:
                raise NnlabError(f"unknown reference '{key}' (known: see {self.path})")
        links = ", ".join(
            f'<a class="cite" href="#ref-{key}">{self.number[key]}</a>' for key in keys
        )
        return Markup(f"[{links}]")

    def expand(self, text: str) -> str:
        """Prose with its [@key] / [@a; @b] marks replaced by citation links."""
        return CITATION.sub(
            lambda match: str(
                self.cite(*(k.strip().lstrip("@") for k in match.group(1).split(";")))
            ),
            text,
        )
