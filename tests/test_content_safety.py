"""What a student adds is data: a note is sanitised (an allow-list), its pictures and the cover's
logo are real images inside the project, decoded and published as cleaned bytes, and every page
carries a Content-Security-Policy. tests/test_site_browser.py checks in Chromium that no script
runs on the hostile note's page, nor on a page holding what a sanitiser might miss."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from conftest import HOSTILE_NOTE, HOSTILE_SVG, NOTE_PICTURE
from markupsafe import escape
from PIL import Image, ImageFile
from pypdf import PdfReader

from nnlab import projectfiles
from nnlab.errors import NnlabError
from nnlab.report import prose
from nnlab.report.render import CONTENT_SECURITY_POLICY

ACTIVE = re.compile(r"<(script|iframe|form|input|meta|style)\b|\son\w+\s*=|javascript:|style=",
                    re.I)  # fmt: skip


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width` × `height` pixels and holds almost none: decoding it would
    fail, so only a check made from the header can name its size."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))  # fmt: skip


@pytest.fixture
def no_decoding(monkeypatch):
    """Any pixel decoded fails the test (outside the refusals nnlab turns into one line)."""

    def decoded(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)


def refusal(root: Path, name: str) -> str:
    with pytest.raises(NnlabError) as caught:
        projectfiles.image(root, name)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


# --- images: the logo and a note's pictures ---------------------------------------------------


def test_a_symlink_is_refused_wherever_it_is_on_the_path(tmp_path):
    (tmp_path / "logo.png").symlink_to("/etc/passwd")
    (tmp_path / "images").symlink_to("/etc")
    assert "logo.png is a symbolic link" in refusal(tmp_path, "logo.png")
    assert "is a symbolic link" in refusal(tmp_path, "images/passwd.png")


@pytest.mark.parametrize("name", ["../logo.png", "img/../../logo.png", "/etc/logo.png"])
def test_a_path_out_of_the_folder_is_refused(tmp_path, name):
    project = tmp_path / "project"
    (project / "img").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "logo.png")  # there, but outside the project
    assert re.search("is outside|is an absolute path", refusal(project, name))


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("logo.png", b"just some text\n", "is not a readable PNG image"),
        ("logo.png", b"", "is empty"),
        ("logo.jpg", png_header(4, 4), "is not a readable JPEG image"),  # not what its name says
        ("logo.png", png_header(4, 4)[:30], "is not a readable PNG image"),  # cut short
        ("logo.svg", b"<svg", "is not an SVG image"),
        ("logo.svg", b"<html><body></body></html>", "is not an SVG image"),
        ("logo.svg", b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                     b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
         "has a DTD"),
        ("logo.gif", b"GIF89a", "must be a .png, .jpg, .jpeg, .svg file"),
    ],
    ids=["text-as-png", "empty", "png-as-jpg", "truncated", "broken-xml", "html-as-svg",
         "svg-with-dtd", "gif"],
)  # fmt: skip
def test_a_file_that_is_not_what_its_name_says_is_refused(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    assert reason in refusal(tmp_path, name)


@pytest.mark.parametrize("size", [(20000, 20000), (10000, 5000)], ids=["400MP", "50MP"])
def test_too_many_pixels_are_refused_from_the_header(tmp_path, no_decoding, size):
    """400 megapixels trip Pillow's own bomb check in Image.open, 50 nnlab's cap (40): both
    before a pixel is decoded."""
    (tmp_path / "logo.png").write_bytes(png_header(*size))
    assert "has more than 40,000,000 pixels" in refusal(tmp_path, "logo.png")


def test_a_raster_image_is_published_from_its_pixels_only(tmp_path):
    """Whatever rides along (text chunks, bytes after the image's end) is not published."""
    from PIL.PngImagePlugin import PngInfo

    picture = Image.new("RGB", (6, 3), (10, 120, 200))
    info = PngInfo()
    info.add_text("Comment", "<script>document.title=1</script>")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", pnginfo=info)
    (tmp_path / "logo.png").write_bytes(buffer.getvalue() + b"<script>appended</script>")
    cleaned = projectfiles.image(tmp_path, "logo.png")
    assert cleaned.suffix == ".png" and b"script" not in cleaned.data
    assert Image.open(io.BytesIO(cleaned.data)).tobytes() == picture.tobytes()


def test_an_svg_logo_loses_its_script_handlers_and_outside_references(tmp_path):
    (tmp_path / "logo.svg").write_text(HOSTILE_SVG, encoding="utf-8")
    cleaned = projectfiles.image(tmp_path, "logo.svg").data.decode()
    assert "script" not in cleaned and "onload" not in cleaned and "javascript" not in cleaned
    assert "example.net" not in cleaned and "foreignObject" not in cleaned
    assert '<rect width="120" height="60" fill="#234"' in cleaned and ">HV</text>" in cleaned
    assert cleaned.count("<svg ") == 1 and "ns0:" not in cleaned  # plain SVG, as it came


# --- notes --------------------------------------------------------------------------------------


def notes_folder(tmp_path: Path, text: str) -> Path:
    notes = tmp_path / "notes"
    (notes / "en").mkdir(parents=True)
    (notes / "en" / "mnist.md").write_text(text, encoding="utf-8")
    Image.new("RGB", NOTE_PICTURE, "red").save(notes / "en" / "chart.png")
    return notes


def test_a_hostile_note_keeps_its_prose_and_nothing_active(tmp_path):
    published = []

    def publish(image):
        published.append(image)
        return f"notes/picture-{len(published)}{image.suffix}"

    html = str(prose.render_notes(notes_folder(tmp_path, HOSTILE_NOTE), "en", publish)["mnist"])
    assert ACTIVE.search(html) is None, ACTIVE.search(html)
    assert "document.title" not in html and "example.net" not in html and "id=" not in html
    assert '<a href="https://example.org/" rel="noopener noreferrer">link</a>' in html
    assert '<img alt="my own chart" src="notes/picture-1.png">' in html
    assert "<table>" in html and "<td>0.99</td>" in html and "Hover me" in html
    assert [image.suffix for image in published] == [".png", ".png"]  # both pictures, cleaned


@pytest.mark.parametrize(
    "src,reason",
    [
        ("https://example.net/track.png", "is not a file under"),
        ("//example.net/track.png", "is not a file under"),
        ("../../outside.png", "is outside"),
        ("/etc/passwd.png", "is an absolute path"),
        ("missing.png", "is missing"),
        ("link.png", "is a symbolic link"),
        ("fake.png", "is not a readable PNG image"),
    ],
)
def test_a_note_shows_only_real_pictures_of_its_own(tmp_path, src, reason):
    notes = notes_folder(tmp_path, f"Look: ![it]({src})\n")
    (tmp_path / "outside.png").write_bytes((notes / "en" / "chart.png").read_bytes())
    (notes / "en" / "link.png").symlink_to(notes / "en" / "chart.png")
    (notes / "en" / "fake.png").write_text("not a picture", encoding="utf-8")
    with pytest.raises(NnlabError) as caught:
        prose.render_notes(notes, "en", lambda image: "x.png")
    message = str(caught.value)
    assert message.startswith(f"{notes / 'en' / 'mnist.md'}: image ") and reason in message


def test_a_picture_beside_the_notes_of_both_languages_is_allowed(tmp_path):
    notes = notes_folder(tmp_path, "Shared: ![it](../chart.png)\n")
    (notes / "en" / "chart.png").rename(notes / "chart.png")
    html = str(prose.render_notes(notes, "en", lambda image: "notes/shared.png")["mnist"])
    assert '<img alt="it" src="notes/shared.png">' in html


# --- the built site (one render of the quick build with the hostile note and logo) -------------


@pytest.mark.slow
def test_the_hostile_note_and_logo_leave_nothing_active_in_the_site(hostile_render):
    site = hostile_render / "site"
    page = (site / "en" / "index.html").read_text(encoding="utf-8")
    notes = page.split('<div class="notes">')[1].split("</div>")[0]
    assert "A remark with a" in notes  # the note is there...
    assert ACTIVE.search(notes) is None and "document.title" not in notes  # ...and inert
    assert "<script" not in page and re.search(r"\son\w+\s*=", page) is None
    policy = escape(CONTENT_SECURITY_POLICY)  # as Jinja writes it
    policy = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    for path in ("index.html", "en/index.html"):  # the site holds the edition rendered
        assert policy in (site / path).read_text(encoding="utf-8"), path
    logo = (site / "assets" / "logo.svg").read_text(encoding="utf-8")
    assert "script" not in logo and "onload" not in logo and "example.net" not in logo
    assert 'src="../assets/logo.svg"' in page


@pytest.mark.slow
def test_a_note_picture_shows_in_the_site_and_the_pdf(hostile_render):
    site = hostile_render / "site" / "en"
    page = (site / "index.html").read_text(encoding="utf-8")
    src = re.search(r'<img alt="my own chart" src="(notes/[0-9a-f]{16}\.png)">', page).group(1)
    assert Image.open(site / src).size == NOTE_PICTURE
    reader = PdfReader(hostile_render / "report.en.pdf")
    found = any(image.image.size == NOTE_PICTURE for page in reader.pages for image in page.images)
    assert found, "the note's picture is not in the PDF (WeasyPrint printed its alt text)"
