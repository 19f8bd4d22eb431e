"""Per-language prose (report/content/<lang>/*.md): Jinja for computed numbers, Markdown, and
display equations ($$ … $$ lines) rendered to SVG files by Matplotlib's mathtext."""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from nnlab import labs as registry
from nnlab import projectfiles
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
# What a student's note may hold, an allow-list (nh3): prose, lists, code, tables, links (http,
# https or relative) and the note's own pictures. Anything else is dropped: scripts, event
# handlers (Markdown's attr_list writes any attribute, even with raw HTML left out), styles,
# ids and classes, frames, forms, meta.
NOTE_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "em",
             "strong", "b", "i", "sub", "sup", "code", "pre", "blockquote", "table", "thead",
             "tbody", "tr", "th", "td", "a", "img"}  # fmt: skip
NOTE_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "noscript", "template", "textarea", "title"}


def render_notes(
    notes_dir: Path, lang: str, publish_image: Callable[[projectfiles.CleanImage], str]
) -> dict[str, Markup]:
    """The student's own remarks, report/notes/<lang>/<name>.md, as sanitised HTML by name. A
    picture must be a file under report/notes (a path relative to the note); it is decoded,
    cleaned and shown from the URL `publish_image(image)` returns."""
    paths = {name: notes_dir / lang / f"{name}.md" for name in NOTE_NAMES}
    return {
        name: _render_note(path, notes_dir, lang, publish_image)
        for name, path in paths.items()
        if path.is_file()
    }


def _render_note(path: Path, notes_dir: Path, lang: str, publish_image: Callable) -> Markup:
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    problems = []

    def checked(tag: str, attribute: str, value: str) -> str | None:
        if (tag, attribute) != ("img", "src"):
            return value
        try:
            return publish_image(note_image(notes_dir, lang, value))
        except NnlabError as exc:  # nh3 ignores an exception of its filter: raised below
            problems.append(f"{path}: image {exc}")
            return None

    html = nh3.clean(
        markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS), tags=NOTE_TAGS,
        attributes=NOTE_ATTRIBUTES, clean_content_tags=DROPPED_WITH_CONTENT,
        url_schemes={"http", "https"}, link_rel="noopener noreferrer", attribute_filter=checked,
    )  # fmt: skip
    if problems:
        raise NnlabError(problems[0])
    return Markup(html)


def note_image(notes_dir: Path, lang: str, src: str) -> projectfiles.CleanImage:
    """A note's picture: `src` relative to the note's folder, a file under report/notes."""
    url = urlsplit(src)
    if url.scheme or url.netloc:
        raise NnlabError(
            f"{src!r} is not a file under {notes_dir}; a note shows only pictures from there"
        )
    return projectfiles.image(notes_dir, posixpath.join(lang, unquote(url.path)))


def note_warnings(notes_dir: Path, langs: list[str]) -> list[str]:
    """What the student should hear at build time: a note in one language only, a file that
    no chapter reads (a picture or a folder of them is a note's), or a folder that is no
    edition's language."""
    folders = " or ".join(str(notes_dir / lang) for lang in LANGUAGES)
    warnings = [
        f"note: {path} is not read (notes go in {folders})"
        for path in (sorted(notes_dir.iterdir()) if notes_dir.is_dir() else [])
        if path.name not in LANGUAGES and not path.name.startswith(".")  # .gitkeep and such
    ]
    for lang in langs:
        for path in sorted((notes_dir / lang).glob("*")):
            picture = path.is_dir() or path.suffix.lower() in projectfiles.FORMATS
            if not picture and (path.stem not in NOTE_NAMES or path.suffix != ".md"):
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
