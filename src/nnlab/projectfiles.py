"""Images a student adds to the project (the cover's logo, a note's pictures): a real file
inside a given folder, decoded, and published as re-encoded or cleaned bytes, never as it came.

A file that is not what its name says (text saved as .png, an empty file), too many pixels, a
symbolic link or a path leading out of the folder is refused with one line (NnlabError)."""

from __future__ import annotations

import io
import posixpath
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

from nnlab.errors import NnlabError

# What each file name may hold; a JPEG is published as .jpg.
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".svg": "SVG"}
MAX_BYTES = 20 * 2**20  # a page's image; larger is refused before it is read
MAX_PIXELS = 40_000_000  # checked from the header, before any pixel is decoded

SVG = "http://www.w3.org/2000/svg"
XHTML = "http://www.w3.org/1999/xhtml"
# Elements that run code, embed another document, or change attributes while shown (a <set>
# can turn a link into javascript:): dropped with everything inside them.
ACTIVE = {"script", "foreignObject", "iframe", "embed", "object", "audio", "video", "handler",
          "listener", "set", "animate", "animateMotion", "animateTransform", "animateColor",
          "discard"}  # fmt: skip
# A reference inside the file stays (#id) and so does an embedded raster picture; anything else
# would fetch from outside the file.
LOCAL_HREF = re.compile(r"#|data:image/(png|jpeg|gif);", re.I)
REFERRING = {"image", "use", "feImage"}  # elements that show only what their href names
EXTERNAL_CSS = re.compile(r"@import|url\(\s*['\"]?\s*(?!#)", re.I)


@dataclass(frozen=True)
class CleanImage:
    suffix: str  # ".png", ".jpg" or ".svg"
    data: bytes


def inside(root: Path, name: str) -> Path:
    """The regular file `name` (a relative path) under `root`: no absolute path, no way out of
    the folder (..) and no symbolic link anywhere on the way."""
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
        raise NnlabError(f"{name} is an absolute path; give a path relative to {root}")
    relative = PurePosixPath(posixpath.normpath(name.replace("\\", "/")))
    if relative.parts[:1] == ("..",):
        raise NnlabError(f"{name} is outside {root}; nnlab publishes only files inside it")
    path = root
    for part in relative.parts:
        path = path / part
        if path.is_symlink():  # a cloned repository can carry a link to /etc/passwd
            raise NnlabError(f"{name} is a symbolic link; nnlab publishes only real files")
    if not path.is_file():
        raise NnlabError(f"{name} is missing from {root}")
    return path


def image(root: Path, name: str) -> CleanImage:
    """The image `name` under `root`, decoded and cleaned: a PNG or JPEG re-encoded from its
    pixels (no metadata, nothing appended), an SVG without script, handlers or outside
    references."""
    kind = FORMATS.get(PurePosixPath(name).suffix.lower())
    if kind is None:
        raise NnlabError(f"{name} must be a {', '.join(FORMATS)} file")
    path = inside(root, name)
    size = path.stat().st_size
    if size == 0:
        raise NnlabError(f"{name} is empty")
    if size > MAX_BYTES:
        raise NnlabError(f"{name} is {size / 2**20:.0f} MiB; an image may have at most "
                         f"{MAX_BYTES // 2**20} MiB")  # fmt: skip
    data = path.read_bytes()
    if kind == "SVG":
        return CleanImage(".svg", _clean_svg(name, data))
    return CleanImage(".png" if kind == "PNG" else ".jpg", _reencoded(name, data, kind))


def _reencoded(name: str, data: bytes, kind: str) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError

    too_large = f"{name} has more than {MAX_PIXELS:,} pixels; scale it down"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as picture:  # the header only
                if picture.width * picture.height > MAX_PIXELS:
                    raise NnlabError(too_large)
                picture.load()
                upright = ImageOps.exif_transpose(picture)  # the EXIF turn, then no EXIF
                out = io.BytesIO()
                options = {"quality": 95} if kind == "JPEG" else {}
                upright.save(out, kind, icc_profile=picture.info.get("icc_profile"), **options)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NnlabError(too_large) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise NnlabError(f"{name} is not a readable {kind} image") from None
    return out.getvalue()


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _leads_out(key: str, value: str) -> bool:
    """An attribute that runs code or fetches from outside the file."""
    local = _local(key)
    return (
        local.lower().startswith("on")  # an event handler
        or local == "base"  # xml:base moves every reference
        or (local == "href" and not LOCAL_HREF.match(value.strip()))
        or EXTERNAL_CSS.search(value) is not None
    )


def _dropped(element: ET.Element) -> bool:
    local = _local(element.tag)
    empty = local in REFERRING and not any(_local(key) == "href" for key in element.attrib)
    return local in ACTIVE or element.tag.startswith(f"{{{XHTML}}}") or empty


def _clean_svg(name: str, data: bytes) -> bytes:
    try:
        root = parse_xml(data, forbid_dtd=True)  # no DTD, no entity, nothing fetched
    except DefusedXmlException:
        raise NnlabError(f"{name} has a DTD or entities (<!DOCTYPE>); save it without") from None
    except ET.ParseError as exc:
        raise NnlabError(f"{name} is not an SVG image (not well-formed XML: {exc})") from None
    if root.tag != f"{{{SVG}}}svg":
        raise NnlabError(f"{name} is not an SVG image (its root element is {root.tag!r})")
    elements = list(root.iter())
    for element in elements:
        for key, value in list(element.attrib.items()):
            if _leads_out(key, value):
                del element.attrib[key]
        if _local(element.tag) == "style" and EXTERNAL_CSS.search(element.text or ""):
            element.text = ""
    for element in elements:  # then the elements, once their references are known
        for child in list(element):
            if _dropped(child):
                element.remove(child)
    # ElementTree's prefixes are global: another module may have taken "" since import, so the
    # SVG namespace is claimed here, as it is written (plain <svg>, not <ns0:svg>)
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
