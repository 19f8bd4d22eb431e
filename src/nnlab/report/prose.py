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

from nnlab import labs as registry
from nnlab.errors import NnlabError
from nnlab.report.i18n import LANGUAGES

EQUATION = re.compile(r"^\s*\$\$(.+?)\$\$\s*$", re.MULTILINE)
MARKDOWN_EXTENSIONS = ["tables", "attr_list"]


def section_names(content_dir: Path, lang: str) -> list[str]:
    return sorted(path.stem for path in (content_dir / lang).glob("*.md"))


def render_all(
    content_dir: Path, lang: str, values: dict, filters: dict,
    equation_file: Callable[[str], str], cite_marks: Callable[[str], str], table_label: str,
) -> dict[str, Markup]:  # fmt: skip
    """{section name: HTML}; `equation_file(latex)` returns the SVG's relative URL and
    `cite_marks(text)` links the text's [@key] citations."""
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

        text = cite_marks(EQUATION.sub(as_image, text))
        html = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS)
        # Wide tables scroll sideways on a phone instead of widening the page (focusable, so
        # a keyboard scrolls them too).
        wrapper = (
            f'<div class="scroll" tabindex="0" role="group" aria-label="{escape(table_label)}">'
        )
        html = html.replace("<table>", wrapper + "<table>").replace("</table>", "</table></div>")
        rendered[name] = Markup(html)
    return rendered


_HEADING = re.compile(r"<(/?)h([1-5])\b")


def demote(html: Markup) -> Markup:
    """Headings one level down, for prose placed under a section's own heading."""
    return Markup(_HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", str(html)))


def equation_name(latex: str) -> str:
    return "eq-" + hashlib.sha256(latex.encode()).hexdigest()[:16] + ".svg"


NOTE_NAMES = (*registry.NAMES, "conclusion")  # a lab chapter's, and the conclusion's


def render_notes(notes_dir: Path, lang: str) -> dict[str, Markup]:
    """The student's own remarks, report/notes/<lang>/<name>.md, as HTML by name."""
    found = {}
    for name in NOTE_NAMES:
        path = notes_dir / lang / f"{name}.md"
        if path.is_file():
            text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
            found[name] = Markup(markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS))
    return found


def note_warnings(notes_dir: Path, langs: list[str]) -> list[str]:
    """What the student should hear at build time: a note in one language only, a file that
    no chapter reads, or a folder that is no edition's language."""
    folders = " or ".join(str(notes_dir / lang) for lang in LANGUAGES)
    warnings = [
        f"note: {path} is not read (notes go in {folders})"
        for path in (sorted(notes_dir.iterdir()) if notes_dir.is_dir() else [])
        if path.name not in LANGUAGES and not path.name.startswith(".")  # .gitkeep and such
    ]
    for lang in langs:
        for path in sorted((notes_dir / lang).glob("*")):
            if path.stem not in NOTE_NAMES or path.suffix != ".md":
                warnings.append(
                    f"note: {path} is not read (notes are {', '.join(NOTE_NAMES)}, as .md files)"
                )
    for name in NOTE_NAMES:
        have = [lang for lang in langs if (notes_dir / lang / f"{name}.md").is_file()]
        if have and len(have) < len(langs):
            missing = sorted(set(langs) - set(have))
            warnings.append(
                f"note: {notes_dir / have[0] / name}.md has no {', '.join(missing)} version; "
                f"the {', '.join(missing)} edition shows no student's remarks there"
            )
    return warnings
