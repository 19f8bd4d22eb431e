"""Per-language prose (report/content/<lang>/*.md): Jinja for computed numbers, Markdown, and
display equations ($$ … $$ lines) rendered to SVG files by Matplotlib's mathtext."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import markdown
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from nnlab.errors import NnlabError

EQUATION = re.compile(r"^\s*\$\$(.+?)\$\$\s*$", re.MULTILINE)
MARKDOWN_EXTENSIONS = ["tables", "attr_list"]


def section_names(content_dir: Path, lang: str) -> list[str]:
    return sorted(path.stem for path in (content_dir / lang).glob("*.md"))


def render_all(
    content_dir: Path, lang: str, values: dict, filters: dict,
    equation_file: Callable[[str], str],
) -> dict[str, Markup]:  # fmt: skip
    """{section name: HTML}; `equation_file(latex)` returns the SVG's relative URL."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters.update(filters)
    rendered = {}
    for name in section_names(content_dir, lang):
        path = content_dir / lang / f"{name}.md"
        source = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
        try:
            text = env.from_string(source).render(**values)
        except Exception as exc:  # a template error in prose names the file
            raise NnlabError(f"{path}: {exc}") from None

        def as_image(match: re.Match) -> str:
            latex = match.group(1).strip()
            return (
                f'<p class="equation"><img src="{equation_file(latex)}" alt="{escape(latex)}"></p>'
            )

        text = EQUATION.sub(as_image, text)
        html = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS)
        # Wide tables scroll sideways on a phone instead of widening the page.
        html = html.replace("<table>", '<div class="scroll"><table>').replace(
            "</table>", "</table></div>"
        )
        rendered[name] = Markup(html)
    return rendered


_HEADING = re.compile(r"<(/?)h([1-5])\b")


def demote(html: Markup) -> Markup:
    """Headings one level down, for prose placed under a section's own heading."""
    return Markup(_HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", str(html)))


def equation_name(latex: str) -> str:
    return "eq-" + hashlib.sha256(latex.encode()).hexdigest()[:16] + ".svg"
