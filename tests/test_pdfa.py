"""The PDFs claim PDF/A-3b and carry what that claim needs: XMP metadata (pdfaid part 3,
conformance B, the title), an sRGB output intent, every font embedded, a file identifier, no
encryption; and beyond PDF/A-3b, the document's language and a structure tree (tags).

A full PDF/A validation needs veraPDF, which no registry reachable here packages (it is a Java
tool downloaded from its own site); these tests check the claim and its ingredients, and
poppler's pdfinfo (an independent parser) reads the file without a syntax error."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO
from pypdf import PdfReader

from nnlab import projectconfig
from nnlab.report.render import Paths, write_pdf

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
DC = "http://purl.org/dc/elements/1.1/"
TITLE = "Báo cáo thử nghiệm: tiếng Việt có dấu"
TINY = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{TITLE}</title>
</head><body><h1>Tiếng Việt: ắ ề ộ ữ ỹ</h1><p>Một đoạn văn, <code>code</code>, <b>đậm</b>.</p>
<table><caption>Bảng</caption><tr><th>Chỉ số</th><td>98,17%</td></tr></table>
<svg width="40" height="20"><rect width="40" height="20" fill="rgba(0, 0, 255, 0.5)"/></svg>
</body></html>"""


def xmp_value(root: ET.Element, ns: str, name: str) -> str | None:
    """A simple XMP property, written either as an attribute of rdf:Description or as a child."""
    for description in root.iter(f"{{{RDF}}}Description"):
        if f"{{{ns}}}{name}" in description.attrib:
            return description.attrib[f"{{{ns}}}{name}"]
        child = description.find(f"{{{ns}}}{name}")
        if child is not None:
            return (child.text or "").strip()
    return None


def fonts(reader: PdfReader) -> dict[str, bool]:
    """Every font the pages use, also through form XObjects and patterns: {name: embedded}."""
    found: dict[str, bool] = {}
    seen: set[int] = set()

    def walk(resources) -> None:
        resources = resources.get_object() if resources is not None else None
        if not resources or id(resources) in seen:
            return
        seen.add(id(resources))
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            if font.get("/Subtype") == "/Type3":  # glyphs drawn by content streams in the file
                found[str(font.get("/Name", "Type3"))] = True
                continue
            if font.get("/Subtype") == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"].get_object() if "/FontDescriptor" in font else {}
            found[str(font.get("/BaseFont"))] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
        for group in ("/XObject", "/Pattern"):
            for item in (resources.get(group) or {}).values():
                item = item.get_object()
                if "/Resources" in item:
                    walk(item["/Resources"])

    for page in reader.pages:
        walk(page.get("/Resources"))
    return found


def check_pdfa3b(path: Path, lang: str, title: str | None = None) -> None:
    reader = PdfReader(path)
    root = reader.trailer["/Root"]
    assert reader.pdf_header == "%PDF-1.7"
    assert "/Encrypt" not in reader.trailer
    assert "/ID" in reader.trailer and len(reader.trailer["/ID"]) == 2

    packet = root["/Metadata"].get_object().get_data()  # <?xpacket ...?> XML <?xpacket ...?>
    xmp = ET.fromstring(packet.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0])
    assert xmp_value(xmp, PDFAID, "part") == "3"
    assert xmp_value(xmp, PDFAID, "conformance") == "B"
    titles = [li.text for t in xmp.iter(f"{{{DC}}}title") for li in t.iter(f"{{{RDF}}}li")]
    info_title = reader.metadata.title
    assert info_title and titles == [info_title], "XMP dc:title and the Info title must agree"
    if title is not None:
        assert info_title == title

    intents = [i.get_object() for i in root["/OutputIntents"]]
    assert [i["/S"] for i in intents] == ["/GTS_PDFA1"]
    profile = intents[0]["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3  # RGB, as the pages are drawn
    assert "sRGB" in str(intents[0]["/OutputConditionIdentifier"])

    used = fonts(reader)
    assert used, "no fonts found: the walk over the resources is broken"
    assert [name for name, embedded in used.items() if not embedded] == []

    assert root["/Lang"] == lang
    assert root["/MarkInfo"]["/Marked"].value is True  # a tagged PDF
    assert "/StructTreeRoot" in root


def pdfinfo_reads(path: Path) -> dict[str, str]:
    assert shutil.which("pdfinfo"), "poppler-utils missing (scripts/system-deps.sh installs it)"
    result = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr and "Warning" not in result.stderr, result.stderr
    return dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in result.stdout.splitlines())
    )


def test_write_pdf_makes_pdfa3b(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    target = build / "tiny.pdf"
    write_pdf(TINY, build, Paths(build), target)
    check_pdfa3b(target, "vi", TITLE)
    info = pdfinfo_reads(target)
    assert info["Title"] == TITLE
    assert info["Tagged"] == "yes"
    assert info["PDF version"] == "1.7"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_pdfs_are_pdfa3b(rendered, lang):
    path = rendered / f"report.{lang}.pdf"
    check_pdfa3b(path, lang)
    info = pdfinfo_reads(path)
    assert info["Tagged"] == "yes"
    assert int(info["Pages"]) > 10
    author = projectconfig.load(REPO / "report" / "report.toml").report["author"]
    assert author and PdfReader(path).metadata.author == author  # report.toml's [report] author
