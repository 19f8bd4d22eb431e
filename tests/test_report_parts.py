"""Report parts checked without a build: the cover, notes, citations and the rules that choose
the report's sentences."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import REPO
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from nnlab.errors import NnlabError
from nnlab.projectconfig import REPORT_DEFAULTS
from nnlab.report import findings, prose
from nnlab.report.i18n import Translator
from nnlab.report.references import CITATION, References

LOCALE = REPO / "report" / "locale"
REFERENCES = REPO / "report" / "references.toml"


def cover(lang: str, **keys) -> str:
    env = Environment(loader=FileSystemLoader(REPO / "templates"), undefined=StrictUndefined,
                      autoescape=True)  # fmt: skip
    meta = {**REPORT_DEFAULTS, "logo_url": "", **keys}
    t = Translator(LOCALE, lang)
    return env.get_template("chapters/cover.html").render(
        meta=meta, t=t, title="T", cover_date="29/11/2026"
    )


def test_the_cover_shows_every_key_given():
    html = cover("vi", university="Học viện X", faculty="Khoa Y", lecturer="TS. Z",
                 class_name="D21CQCN01", logo_url="../assets/logo.png")  # fmt: skip
    for text in ("Học viện X", "Khoa Y", "TS. Z", "D21CQCN01", "Giảng viên hướng dẫn",
                 "Mã sinh viên", 'src="../assets/logo.png"', "B21DCCN669"):  # fmt: skip
        assert text in html, text


def test_the_cover_leaves_empty_keys_out_cleanly():
    html = cover("en")
    assert "Lecturer" not in html and "Class" not in html and "<img" not in html
    assert "university" not in html and "faculty" not in html  # no empty lines for them
    assert "Student ID" in html  # the defaults' student id is shown


def test_a_note_in_one_language_is_reported_and_unknown_files_named(tmp_path):
    (tmp_path / "vi").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "vi" / "mnist.md").write_text("Nhận xét *riêng*.", encoding="utf-8")
    (tmp_path / "en" / "mnst.md").write_text("typo", encoding="utf-8")
    warnings = prose.note_warnings(tmp_path, ["vi", "en"])
    assert any("mnist.md has no en version" in w for w in warnings)
    assert any("mnst.md is not read" in w for w in warnings)
    assert prose.render_notes(tmp_path, "vi")["mnist"] == "<p>Nhận xét <em>riêng</em>.</p>"
    assert prose.render_notes(tmp_path, "en") == {}


def test_citations_link_to_their_numbered_reference():
    refs = References(REFERENCES)
    text = refs.expand("MNIST [@lecun1998]; LSTM and GRU [@hochreiter1997; @cho2014].")
    assert '<a class="cite" href="#ref-lecun1998">1</a>' in text
    assert text.count('class="cite"') == 3
    with pytest.raises(NnlabError, match="unknown reference 'nobody2020'"):
        refs.expand("[@nobody2020]")


def test_every_reference_is_cited_somewhere():
    """A reference list entry that no text cites is dead weight (or a forgotten citation)."""
    cited = set()
    for path in [*REPO.glob("report/content/*/*.md"), *REPO.glob("templates/**/*.html")]:
        text = path.read_text(encoding="utf-8")
        for group in CITATION.findall(text):
            cited |= {key.strip().lstrip("@") for key in group.split(";")}
        cited |= set(re.findall(r'"([a-z]+[0-9]{4})"', text))  # cite("key") in templates
    assert {entry["key"] for entry in References(REFERENCES).entries} <= cited


class Run:
    """Just what findings.fitting reads from a run."""

    def __init__(self, loss, val_loss, epochs, outputs=None, y_true=None):
        self.history = {"loss": loss, "val_loss": val_loss}
        self.record = {"inputs": {"settings": {"epochs": epochs, "patience": None}}}
        self.failed = False
        self.outputs = outputs if outputs is not None else np.linspace(10, 40, 50)
        self.y_true = y_true if y_true is not None else np.linspace(10, 40, 50)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_fitting_sentences_follow_the_rule_not_the_gap(lang):
    t = Translator(LOCALE, lang)
    under_trained = Run(list(np.linspace(5, 1, 50)), list(np.linspace(6, 2, 50)), 50)
    found = findings.fitting(under_trained, "regression")
    assert found["verdict"] == "still-improving"
    sentence = findings.fitting_sentence(t, "CNN", found, None)
    assert ("50" in sentence) and (
        "under-trained" in sentence or "chưa được huấn luyện đủ" in sentence
    )
    collapsed = Run([9, 8, 8], [9, 9, 9], 50, outputs=np.full(50, 25.0))
    found = findings.fitting(collapsed, "regression")
    assert found["verdict"] == "failed"
    assert "overfitting" not in findings.fitting_sentence(t, "RNN", found, 5)


def test_a_hand_made_house_outside_the_training_range_is_named():
    ranges = np.array([[0.0] * 13, [100.0] * 13])
    house = [50.0] * 12 + [150.0]
    assert findings.handmade_reading(house, ranges) == ["LSTAT"]
    assert findings.handmade_reading([50.0] * 13, ranges) == []
    assert findings.handmade_reading(house, None) == []
