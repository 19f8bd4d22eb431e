"""Report parts checked without a build: the cover, notes, citations and the rules that choose
the report's sentences."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import REPO
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from nnlab import diagnose
from nnlab.errors import NnlabError
from nnlab.projectconfig import REPORT_DEFAULTS
from nnlab.report import context as ctx
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
                 class_name="D21CQCN01", logo_url="../assets/logo.png", author="Trần Thị A",
                 student_id="B21DCCN001")  # fmt: skip
    for text in ("Học viện X", "Khoa Y", "TS. Z", "D21CQCN01", "Giảng viên hướng dẫn",
                 "Mã sinh viên", 'src="../assets/logo.png"', "B21DCCN001",
                 "Trần Thị A"):  # fmt: skip
        assert text in html, text


def test_the_cover_leaves_empty_keys_out_cleanly():
    html = cover("en")
    assert "Lecturer" not in html and "Class" not in html and "<img" not in html
    assert "university" not in html and "faculty" not in html  # no empty lines for them
    assert "Student ID" not in html and "Student" not in html  # no student named by default


def test_a_note_in_one_language_is_reported_and_unknown_files_named(tmp_path):
    (tmp_path / "vi").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "vi" / "mnist.md").write_text("Nhận xét *riêng*.", encoding="utf-8")
    (tmp_path / "en" / "mnst.md").write_text("typo", encoding="utf-8")
    (tmp_path / "en" / "chart.png").write_bytes(b"a note's picture")
    warnings = prose.note_warnings(tmp_path, ["vi", "en"])
    assert any("mnist.md has no en version" in w for w in warnings)
    assert any("mnst.md is not read" in w for w in warnings)
    assert not any("chart.png" in w for w in warnings)
    assert prose.render_notes(tmp_path, "vi", str)["mnist"] == "<p>Nhận xét <em>riêng</em>.</p>"
    assert prose.render_notes(tmp_path, "en", str) == {}


def test_a_notes_folder_in_no_edition_s_language_is_named_once(tmp_path):
    """report/notes/fr/ (or a note put straight in report/notes/) is read by no edition: one
    line says so, instead of nothing."""
    for folder in ("vi", "fr", ".git"):
        (tmp_path / folder).mkdir()
    (tmp_path / "fr" / "mnist.md").write_text("Remarques.", encoding="utf-8")
    (tmp_path / "conclusion.md").write_text("Loose.", encoding="utf-8")
    (tmp_path / "vi" / "mnist.md").write_text("Nhận xét.", encoding="utf-8")
    warnings = prose.note_warnings(tmp_path, ["vi"])
    assert warnings == [
        f"note: {tmp_path / 'conclusion.md'} is not read (notes go in {tmp_path / 'vi'} or "
        f"{tmp_path / 'en'})",
        f"note: {tmp_path / 'fr'} is not read (notes go in {tmp_path / 'vi'} or {tmp_path / 'en'})",
    ]
    assert prose.note_warnings(tmp_path / "absent", ["vi", "en"]) == []


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
    sources = [*REPO.glob("report/content/*/*.md"), *REPO.glob("templates/**/*.html"),
               *REPO.glob("src/nnlab/report/*.py")]  # fmt: skip
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for group in CITATION.findall(text):
            cited |= {key.strip().lstrip("@") for key in group.split(";")}
        cited |= set(re.findall(r'"([a-z]+[0-9]{4})"', text))  # cite("key"), templates or code
    assert {entry["key"] for entry in References(REFERENCES).entries} <= cited


class Run:
    """Just what findings.fitting reads from a run: its history, settings and record."""

    def __init__(self, loss, val_loss, epochs):
        self.history = {"loss": loss, "val_loss": val_loss}
        self.settings = {"epochs": epochs, "batch_size": 32, "validation_split": 0.1,
                         "patience": None}  # fmt: skip
        self.record = {"inputs": {"params": {"settings": self.settings}}, "n_train": 404}
        self.failed = False


# Boston-sized training targets whose 363 fitted examples are 0 and 41 validated ones 3: the
# validation loss of predicting the fitted mean is 9.
NULL_NINE = ctx.Lab("boston", {}, {}, np.r_[np.zeros(363), np.full(41, 3.0)])


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_fitting_sentences_follow_the_rule_not_the_gap(lang):
    t = Translator(LOCALE, lang)
    under_trained = Run(list(np.linspace(5, 1, 50)), list(np.linspace(6, 2, 50)), 50)
    found = findings.fitting(under_trained, NULL_NINE)
    assert found["verdict"] == "still-improving"
    sentence = findings.fitting_sentence(t, "CNN", found, None)
    assert ("50" in sentence) and (
        "under-trained" in sentence or "chưa được huấn luyện đủ" in sentence
    )
    collapsed = Run([9, 8, 8], [9, 9, 9], 50)  # at the null loss: on the mean's plateau
    found = findings.fitting(collapsed, NULL_NINE)
    assert (found["verdict"], found["failure"]) == ("failed", "plateau")
    assert "overfitting" not in findings.fitting_sentence(t, "RNN", found, 5)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_two_runs_lowest_in_their_last_epoch_show_the_threshold_between_them(lang):
    """The frozen MNIST CNN (seed 42) and LSTM (seed 43): one good fit, one under-trained; each
    sentence gives its own fall and the 5 % that separates them."""
    t = Translator(LOCALE, lang)
    mnist = ctx.Lab("mnist", {}, {})
    cnn = Run([0.2022, 0.0546, 0.0361, 0.0274, 0.0216], [0.0568, 0.0455, 0.0444, 0.0508, 0.0425], 5)
    lstm = Run([0.5907, 0.1744, 0.115, 0.0872, 0.0712], [0.1546, 0.0986, 0.0739, 0.069, 0.0548], 5)
    threshold = t.pct(diagnose.OVERFIT_RISE, 0)
    for run, verdict, fall in ((cnn, "good-fit", 0.0428), (lstm, "still-improving", 0.2058)):
        found = findings.fitting(run, mnist)
        assert (found["verdict"], found["best_epoch"]) == (verdict, 5)
        sentence = findings.fitting_sentence(t, "CNN", found, None)
        assert threshold in sentence and t.pct(fall, 1) in sentence, sentence


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_failed_rule_says_it_reads_no_test_data(lang):
    rule = dict(findings.fitting_rules(Translator(LOCALE, lang)))["failed"]
    assert ("validation history only, never the test set" in rule) or (
        "lịch sử huấn luyện và kiểm định, không bao giờ dùng đến tập kiểm tra" in rule
    )


def test_a_hand_made_house_outside_the_training_range_is_named():
    ranges = np.array([[0.0] * 13, [100.0] * 13])
    house = [50.0] * 12 + [150.0]
    assert findings.handmade_reading(house, ranges) == ["LSTAT"]
    assert findings.handmade_reading([50.0] * 13, ranges) == []
    assert findings.handmade_reading(house, None) == []


def seed_row(values, failed=(), detail=0):
    cells = [{"seed": 42 + i, "value": v, "failure": "plateau" if i in failed else None,
              "detail": i == detail} for i, v in enumerate(values)]  # fmt: skip
    return {"cells": cells, "mean": float(np.mean(values)), "std": 0.0, "n": len(values),
            "failed": [c for c in cells if c["failure"]]}  # fmt: skip


def lab_view(cnn, rnn, records=(), key="mae"):
    from types import SimpleNamespace

    seeds = {"key": key, "seeds": [42, 43, 44], "rows": {"cnn": cnn, "rnn": rnn}}
    return SimpleNamespace(name="boston", seeds=seeds, verdicts=list(records),
                           sizes={"n_train": 404, "n_test": 102}, plan=None)  # fmt: skip


def test_a_model_with_no_trained_run_is_named_where_its_errors_are_shown():
    t = Translator(LOCALE, "en")
    view = lab_view(seed_row([3.9, 3.5]), seed_row([6.7, 6.6], failed=(0, 1), detail=0))
    (warning,) = findings.detail_failed(t, view)
    assert warning.startswith("No RNN run trained, so the seed-42 run shown here")
    view = lab_view(seed_row([3.9, 3.5]), seed_row([6.7, 3.8], failed=(0,), detail=1))
    assert findings.detail_failed(t, view) == []


def _record(outcome, cnn, rnn, population="trained", protocol="notebook", p_value=0.2):
    from nnlab import verdicts

    values = {"cnn": [np.full(100, v) for v in cnn], "rnn": [np.full(100, v) for v in rnn]}
    found = verdicts.difference_test(values, True)
    found.update(outcome=outcome, p_value=p_value,
                 winner="cnn" if outcome == "established" else None)  # fmt: skip
    models = {kind: {"seeds": list(range(42, 42 + len(v))), "failed": {}, "runs": len(v)}
              for kind, v in (("cnn", cnn), ("rnn", rnn))}  # fmt: skip
    record = {
        "dataset": "mnist",
        "protocol": protocol,
        "population": population,
        "decides": (protocol, population) == ("notebook", "trained"),
        "recipe": {"epochs": 5, "patience": None},
        "metric": "accuracy",
        "higher_is_better": True,
        "models": models,
        **found,
        "planning": None,
        "rerun": None,
    }
    if population == "all":
        record["reliability"] = verdicts.reliability({"cnn": 0, "rnn": 0}, {"cnn": 3, "rnn": 3})
    return record  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("outcome", ["established", "consistent", "none"])
def test_the_verdict_wording_follows_the_outcome(lang, outcome):
    t = Translator(LOCALE, lang)
    record = _record(outcome, [0.99, 0.985, 0.98], [0.97, 0.975, 0.96],
                     p_value=0.01 if outcome == "established" else 0.2)  # fmt: skip
    view = lab_view(None, None, [record, {**record, "population": "all",
                    "reliability": _record("none", [1], [1], "all")["reliability"]}])  # fmt: skip
    view.seeds = None
    found = findings.verdict(t, view, lambda *keys: "[1]")
    text = " ".join(found["lines"])
    assert found["headline"].endswith(": " + t(f"outcome:{outcome}") + ".")
    expected = {"established": "v:established", "consistent": "v:consistent", "none": "v:none"}
    stem = t(expected[outcome]).split("{")[0]
    assert stem in text
    assert t("v:mean:accuracy", ahead="CNN", behind="RNN", diff=t.num(1.67, 2)) in text


def test_cross_pairs_and_counts_are_named_in_the_consistent_sentence():
    t = Translator(LOCALE, "en")
    record = _record("consistent", [0.99, 0.985, 0.98], [0.97, 0.975])
    record["direction"] = "cnn"
    sentence = findings.outcome_sentence(t, record, lambda *keys: "[1]")
    assert sentence.startswith("Every CNN run beat every RNN run (6 of 6 pairs)")
    assert "with 3 CNN and 2 RNN runs this is not established" in sentence


@pytest.mark.parametrize(
    ("value", "text"), [(0.04601, "0.0460"), (0.2941, "0.294"), (13.0948, "13.1"), (0, "0.00")]
)
def test_losses_are_stated_with_three_significant_digits(value, text):
    assert findings.loss_text(Translator(LOCALE, "en"), value) == text


def timed_run(kind, seed, threads, fit, epochs):
    from types import SimpleNamespace

    machine = {"cpu": {"model_name": "AMD EPYC", "family": 25, "simd": ["avx2"]},
               "tensorflow_threads": threads}  # fmt: skip
    record = {"kind": kind, "seed": seed, "machine": machine, "fit_seconds": fit,
              "epochs_run": epochs, "params": 10, "predict_seconds": 1.0,
              "inputs": {"params": {"settings": {"epochs": epochs}}}}  # fmt: skip
    labels = np.arange(10)  # every digit right: a run that trained
    history = {"epoch_seconds": [fit / epochs] * epochs, "loss": [1.0] * epochs,
               "val_loss": [0.5] * epochs}  # fmt: skip
    return SimpleNamespace(record=record, failed=False, outputs=np.eye(10), y_true=labels,
                           history=history, settings={"epochs": epochs})  # fmt: skip


def test_training_cost_compares_only_runs_timed_alike():
    """Seed 42 trained alone on 2 threads, seeds 43-44 side by side on 1 thread each: their
    times are not comparable, so the cost uses the larger group that has both models."""
    from nnlab.report import context as ctx

    repeats = {"cnn": [timed_run("cnn", 42, None, 88, 5), timed_run("cnn", 43, 1, 110, 5),
                       timed_run("cnn", 44, 1, 100, 5)],
               "rnn": [timed_run("rnn", 42, None, 300, 5), timed_run("rnn", 43, 1, 380, 5),
                       timed_run("rnn", 44, 1, 400, 5)]}  # fmt: skip
    lab = ctx.Lab("mnist", {kind: runs[0] for kind, runs in repeats.items()}, repeats)
    cost = ctx.training_cost(lab)
    assert cost["cnn"]["seeds"] == cost["rnn"]["seeds"] == [43, 44] and cost["same_threads"]
    assert cost["cnn"]["threads"] == 1
    assert cost["cnn"]["fit_seconds"] == 105 and cost["rnn"]["epoch_seconds"] == 78
    t = Translator(LOCALE, "en")
    sentence = findings.cost(t, cost)
    assert "per epoch the CNN is 3.7 times faster" in sentence
    assert "Both ran 5 epochs: the CNN in 105 s (mean of 2 runs)" in sentence  # equal lengths


@pytest.mark.parametrize(
    ("cnn_threads", "rnn_threads", "expected"),
    [(1, 2, ("on 1 TensorFlow thread(s)", "at least that much slower")),  # a lower bound
     (2, 1, ("(CNN 2, RNN 1)", "cannot be compared"))],  # the faster one had more threads
)  # fmt: skip
def test_a_cost_across_thread_counts_is_a_bound_or_nothing(cnn_threads, rnn_threads, expected):
    """IMDB's LSTM trains alone on both cores and its CNN beside another run on one: the
    sentence states both thread counts and claims only what they allow."""
    from nnlab.report import context as ctx

    repeats = {"cnn": [timed_run("cnn", s, cnn_threads, 260, 5) for s in (42, 43)],
               "rnn": [timed_run("rnn", s, rnn_threads, 1130, 5) for s in (42, 43)]}  # fmt: skip
    lab = ctx.Lab("imdb", {kind: runs[0] for kind, runs in repeats.items()}, repeats)
    cost = ctx.training_cost(lab)
    assert not cost["same_threads"]
    sentence = findings.cost(Translator(LOCALE, "en"), cost)
    assert all(part in sentence for part in expected), sentence


def test_a_mean_of_one_run_says_so():
    from nnlab.report import context as ctx

    repeats = {"cnn": [timed_run("cnn", s, 1, 100, 50) for s in (42, 43, 44)],
               "rnn": [timed_run("rnn", 44, 1, 60, 14)]}  # fmt: skip
    lab = ctx.Lab("mnist", {kind: runs[-1] for kind, runs in repeats.items()}, repeats)
    sentence = findings.cost(Translator(LOCALE, "en"), ctx.training_cost(lab))
    assert "mean of 3 runs" in sentence and "one run, seed 44" in sentence


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_negative_numbers_take_a_true_minus_sign(lang):
    t = Translator(LOCALE, lang)
    for text in (t.num(-0.37, 2), t.pct(-0.012), t.short(-0.001), t.signed(-3.45, 1),
                 t.num(-12345.5, 1)):  # fmt: skip
        assert text.startswith("\u2212") and "-" not in text, text
    assert t.signed(1.25, 1).startswith("+") and t.num(0.37, 2)[0].isdigit()


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_charts_write_negatives_with_a_true_minus_sign(lang):
    from nnlab import figures

    t = Translator(LOCALE, lang)
    svg = figures.side_by_side_bars(
        [(["a", "b"], {"cnn": [[-1.5, -2.5], [1.0, 2.0]], "rnn": [[-0.5, -1.0], [3.0, 1.0]]})],
        "T",
        t,
    )
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)  # fmt: skip
    assert any(text.startswith("\u2212") for text in texts)  # the value labels and the ticks
    assert not [text for text in texts if re.match(r"-\d", text)]


class Settings:
    """A run that carries just its settings (run.json's inputs.settings) and kind."""

    def __init__(self, kind, **settings):
        base = {"epochs": 50, "batch_size": 32, "validation_split": 0.1, "patience": 5,
                "learning_rate": 0.001, "precision": "float32"}  # fmt: skip
        self.settings = {**base, **settings}
        self.record = {"kind": kind, "inputs": {"params": {"settings": self.settings}}}
        self.failed = False


def test_each_model_is_described_by_its_own_training_settings():
    """A [training.boston-rnn] override (epochs, batch size) is stated for the RNN, not the
    CNN's settings for both."""
    t = Translator(LOCALE, "en")
    shared = findings.training_setup(
        t, "boston", {"cnn": Settings("cnn"), "rnn": Settings("rnn")}, lambda k: "[7]"
    )
    assert len(shared) == 1 and shared[0].startswith("Both models:")
    runs = {"cnn": Settings("cnn"), "rnn": Settings("rnn", epochs=80, batch_size=16)}
    cnn, rnn = findings.training_setup(t, "boston", runs, lambda k: "[7]")
    assert cnn.startswith("The Boston Housing CNN:") and "at most 50 epochs" in cnn
    assert rnn.startswith("The Boston Housing RNN:") and "at most 80 epochs" in rnn
    assert "batches of 16 samples" in rnn and "batches of 32 samples" in cnn
    env = Environment(loader=FileSystemLoader(REPO / "templates"), undefined=StrictUndefined,
                      autoescape=True)  # fmt: skip
    from types import SimpleNamespace

    lab = SimpleNamespace(name="boston", task="regression", first_of_task=True, figures={},
                          discussion={"training": [cnn, rnn]})  # fmt: skip
    html = env.get_template("lab/training.html").render(
        t=t, lab=lab, labs=[lab], cnn=runs["cnn"], rnn=runs["rnn"], m=None
    )
    assert "at most 80 epochs" in html and "at most 50 epochs" in html


def test_the_cover_names_its_empty_keys_once():
    from nnlab.report.make import cover_note

    note = cover_note({**REPORT_DEFAULTS, "faculty": "Khoa CNTT"})
    assert note.count("\n") == 0 and "report/report.toml" in note
    assert "university" in note and "lecturer" in note and "class_name" in note
    assert "faculty" not in note
    filled = dict.fromkeys(("university", "faculty", "lecturer", "class_name"), "X")
    assert cover_note({**REPORT_DEFAULTS, **filled}) is None


def test_the_notebook_s_fractional_iteration_count_becomes_whole_steps():
    found = findings.notebook_steps()  # the notebook's 10,000 samples in batches of 32
    assert found["claimed"] == 312.5
    assert (found["steps"], found["full"], found["rest"]) == (313, 312, 16)


def test_the_fitting_rules_state_diagnose_s_thresholds(monkeypatch):
    from nnlab import diagnose

    t = Translator(LOCALE, "en")
    monkeypatch.setattr(diagnose, "OVERFIT_RISE", 0.07)
    monkeypatch.setattr(diagnose, "UNDERFIT_DROP", 0.15)
    monkeypatch.setattr(diagnose, "FAILED_SHARE", {"classification": 0.85, "regression": 0.4})
    rules = dict(findings.fitting_rules(t))
    assert list(rules) == ["failed", "underfitting", "overfitting", "still-improving", "good-fit"]
    assert "85%" in rules["failed"] and "40%" in rules["failed"]
    assert "15%" in rules["underfitting"] and "7%" in rules["overfitting"]
    assert "7%" in rules["still-improving"]


def test_the_hand_made_prices_are_judged_in_one_sentence():
    t = Translator(LOCALE, "vi")
    spread = {"cnn": {"low": 15.5, "high": 21.5, "n": 10}}
    houses = [{"cnn": 21.5, "rnn": 16.1, "notebook": 16.7651, "seeds": spread},
              {"cnn": 42.1, "rnn": 39.1, "notebook": 43.47539, "seeds": spread}]  # fmt: skip
    inside, notebook = findings.handmade_sentences(t, houses, (5.0, 50.0))
    assert inside == ("Cả bốn mức giá đều nằm trong khoảng giá của tập huấn luyện "
                      "(5,0–50,0 nghìn USD).")  # fmt: skip
    assert "16,8 và 43,5" in notebook and "căn nhà 2" in notebook  # 43.5 outside 15.5–21.5
    houses[1]["rnn"] = 55.0
    outside, _ = findings.handmade_sentences(t, houses, (5.0, 50.0))
    assert "55,0" in outside and "RNN" in outside and "căn nhà 2" in outside


def test_a_cut_review_counts_the_words_the_models_never_read():
    from nnlab.models import IMDB_MAXLEN

    t = Translator(LOCALE, "en")
    item = {"true": 0, "p_positive": 0.98}
    whole = findings.review_note(t, item, "rnn", 0.2, IMDB_MAXLEN)  # the marker alone is cut
    assert whole == "The RNN classified this review correctly (P(positive) = 0.200)."
    cut = findings.review_note(t, item, "rnn", 0.7, IMDB_MAXLEN + 61)
    assert cut.startswith("The RNN got it wrong too (P(positive) = 0.700).")
    assert f"the models read only the last {IMDB_MAXLEN}, so its first 61 words" in cut


@pytest.mark.parametrize("tensorflow_loaded", [False, True])
def test_editions_fork_only_in_a_process_without_tensorflow(tmp_path, monkeypatch,
                                                            tensorflow_loaded):  # fmt: skip
    """A fork copies TensorFlow's locks but not its threads: in a process that has loaded it,
    the editions render one after the other in the process itself."""
    import sys
    import types

    from nnlab.report import render

    if tensorflow_loaded:
        monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    else:
        monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    ways = []
    nothing = {"stages": {}, "figures": {}}

    def forked(job, langs):
        ways.append(("forked", langs))
        return [nothing for _ in langs]

    def here(job, lang):
        ways.append(("here", lang))
        return nothing

    monkeypatch.setattr(render, "_forked_editions", forked)
    monkeypatch.setattr(render, "_render_edition", here)
    render.render(tmp_path, [], ["vi", "en"], ["pdf"], {}, {})
    assert ways == ([("here", "vi"), ("here", "en")] if tensorflow_loaded
                    else [("forked", ["vi", "en"])])  # fmt: skip


def test_a_binary_classifier_that_leans_one_way_is_said_to():
    t = Translator(LOCALE, "en")
    leaning = findings.mistake_balance(t, "RNN", 2444, 1031)
    assert "leans towards “positive”" in leaning and "70%" in leaning  # 2,444 of 3,475
    balanced = findings.mistake_balance(t, "CNN", 1500, 1400)
    assert "both ways" in balanced and "leans" not in balanced


def test_a_long_review_is_quoted_by_its_opening_and_its_closing_lines():
    from nnlab import samples

    words = [f"w{i}" for i in range(200)]
    excerpt = samples.ends(" ".join([*words, "verdict:", "awful"]), 300)
    assert excerpt.startswith("w0 w1") and excerpt.endswith("verdict: awful") and " … " in excerpt
    assert len(excerpt) <= 310


@pytest.mark.parametrize(("notebook", "expected"), [(16.8, "within the spread"), (25.0, "house 1")])
def test_the_notebooks_houses_are_compared_with_the_seeds_spread_not_one_run(notebook, expected):
    t = Translator(LOCALE, "en")
    priced = [{"notebook": notebook, "cnn": 21.5, "rnn": 16.1,
               "seeds": {"cnn": {"low": 15.5, "high": 21.5, "n": 10}}},
              {"notebook": 43.5, "cnn": 42.1, "rnn": 39.1,
               "seeds": {"cnn": {"low": 38.5, "high": 46.7, "n": 10}}}]  # fmt: skip
    (sentence,) = findings.handmade_sentences(t, priced, None)
    assert "Over this lab's 10 CNN runs that trained" in sentence and "15.5–21.5" in sentence
    assert expected in sentence


def test_the_batchnorm_control_is_compared_on_test_error_with_the_same_seeds():
    from types import SimpleNamespace

    from nnlab.report import gap

    def run(seed, mae, epochs):
        return SimpleNamespace(record={"seed": seed, "epochs_run": epochs}, metrics={"mae": mae})

    lab = [run(42, 3.5, 50), run(43, 3.8, 50), run(44, 9.0, 50)]
    control = [run(42, 3.3, 50), run(43, 3.1, 50)]  # no control run of seed 44
    found = gap.paired_test_mae(lab, control)
    assert found["seeds"] == [42, 43] and found["lab"] == 3.65 and found["control"] == 3.2
    t = Translator(LOCALE, "en")
    base = {"window": (5, 30), "lab": 12.0, "lab_runs": 3, "control": 2.0, "control_runs": 2,
            "inference": None, "measured_runs": 0, "test_mae": found}  # fmt: skip
    assert "all ran 50 epochs" in " ".join(findings.gap_sentences(t, base))
