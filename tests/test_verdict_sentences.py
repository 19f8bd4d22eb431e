"""The verdict's companion sentences (report/verdict_sentences.py) in both editions, and the
equivalence margin's setting in report.toml."""

from __future__ import annotations

import pytest
from conftest import REPO

from nnlab import labs, projectconfig, seedplan, verdicts
from nnlab.errors import NnlabError
from nnlab.report import verdict_sentences as said
from nnlab.report.i18n import Translator

LOCALE = REPO / "report" / "locale"


def cite(*keys):
    return "[1]"


def _record(equivalence: dict | None) -> dict:
    return {"metric": "mae", "equivalence": equivalence, "protocol": "patience",
            "recipe": {"epochs": 50, "patience": 25}}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_equivalence_is_stated_only_when_shown(lang):
    t = Translator(LOCALE, lang)
    shown = verdicts.equivalence(0.05, 0.1, 100, 0.5)
    not_shown = verdicts.equivalence(-0.086, 0.32, 100, 0.37)
    yes = said.equivalence(t, _record({"share": 0.1, **shown}), cite)
    no = said.equivalence(t, _record({"share": 0.1, **not_shown}), cite)
    assert yes.startswith(t("v:equivalent").split("{")[0])
    assert no.startswith(t("v:not-equivalent").split("{")[0])
    assert t.metric_difference("mae", not_shown["smallest_margin"]) in no
    assert said.equivalence(t, _record(None), cite) is None


def test_no_practical_difference_is_never_said_from_a_failed_test():
    t = Translator(LOCALE, "en")
    failed = verdicts.equivalence(0.0, 0.3, 100, 0.37)
    assert not failed["equivalent"]
    text = said.equivalence(t, _record({"share": 0.1, **failed}), cite)
    assert "cannot show equivalence within ±0.370" in text and "No practical" not in text


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_seed_plan_paragraph_says_whether_this_build_follows_it(lang):
    t = Translator(LOCALE, lang)
    lab = labs.LABS["imdb"]
    below = seedplan.plan_summary(lab, 3, 3, 1200.0)
    text = said.seed_plan(t, below, "imdb", "accuracy", 25_000)
    assert t("v:seedplan:below-plan", trained=3, lab="IMDB") in text
    assert t("minutes", n=t.num(below["cost_seconds"] / 60)) in text
    overridden = said.seed_plan(t, seedplan.plan_summary(lab, 8, 3, None), "imdb", "accuracy", 1)
    assert t("v:seedplan:overridden", trained=8, lab="IMDB") in overridden
    boston = said.seed_plan(t, seedplan.plan_summary(labs.LABS["boston"], 10, 10, 20.0),
                            "boston", "mae", 102)  # fmt: skip
    assert boston.startswith(t("v:seedplan:unresolvable").split("{")[0])


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_one_multiplicity_sentence_names_each_labs_adjusted_p(lang):
    t = Translator(LOCALE, lang)
    found = {"labs": ["mnist", "imdb"], "holm_p": verdicts.holm({"mnist": 0.01, "imdb": 0.04})}
    text = said.multiplicity(t, found, cite)
    assert t.pvalue(0.02) in text and t.pvalue(0.04) in text
    assert t("overall:holm-some", labs="MNIST, IMDB") in text
    assert said.multiplicity(t, {"labs": ["imdb"], "holm_p": {"imdb": 0.03}}, cite) is None


def test_the_vietnamese_consistent_name_says_leads_not_wins():
    t = Translator(LOCALE, "vi")
    assert "dẫn trước" in t("v:name:consistent", ahead="CNN", behind="RNN")
    assert "tốt hơn" not in t("v:name:consistent", ahead="CNN", behind="RNN")


def test_the_equivalence_share_is_validated(tmp_path):
    path = tmp_path / "report.toml"
    path.write_text("[verdicts]\nequivalence_share = 0.2\n", encoding="utf-8")
    assert projectconfig.load(path).verdicts["equivalence_share"] == 0.2
    path.write_text("[report]\n", encoding="utf-8")
    assert projectconfig.load(path).verdicts["equivalence_share"] == verdicts.EQUIVALENCE_SHARE
    for bad in ("0", "1.5", "-0.1", '"ten"'):
        path.write_text(f"[verdicts]\nequivalence_share = {bad}\n", encoding="utf-8")
        with pytest.raises(NnlabError, match=r"equivalence_share.*line 2"):
            projectconfig.load(path)
