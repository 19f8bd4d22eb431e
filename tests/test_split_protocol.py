"""The split protocol (Boston past its 102 test districts): the folds each trial is trained
and tested on, what its key records, the data it sees, Nadeau and Bengio's corrected resampled
t-test on simulated labs with a known answer, and the record and sentence the report gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from markupsafe import escape
from scipy import stats
from sklearn.preprocessing import StandardScaler

from nnlab import preprocess, resampled, runs
from nnlab.data import Dataset, boston
from nnlab.experiments import design, folds
from nnlab.report import context as ctx
from nnlab.report import findings, split_protocol
from nnlab.report.i18n import Translator
from nnlab.report.references import References
from nnlab.results import RunResult

LOCALE = REPO / "report" / "locale"
DISTRICTS = 506


def test_each_repeat_tests_every_district_once_in_seeded_folds():
    splits = design.splits("full")
    assert [(s.repeat, s.fold) for s in splits] == [(r, f) for r in (1, 2) for f in range(1, 6)]
    tested = {1: [], 2: []}
    for split in splits:
        train, test = folds.fold_parts(split)
        assert len(test) in (101, 102) and len(train) + len(test) == DISTRICTS
        assert not set(train) & set(test)
        tested[split.repeat] += test.tolist()
        # the training part is in random order, so the validation tenth cut off its end is
        # a random tenth of the training districts, not the highest indices
        assert (np.diff(train) < 0).any()
        again_train, again_test = folds.fold_parts(split)  # seeded: the same folds every time
        assert np.array_equal(again_train, train) and np.array_equal(again_test, test)
    for repeat in (1, 2):
        assert sorted(tested[repeat]) == list(range(DISTRICTS))
    assert tested[1] != tested[2]  # each repeat draws its own folds
    other = folds.Split(5, 2, 1, 1, design.SPLIT_SEED + 1, DISTRICTS)
    assert not np.array_equal(folds.fold_parts(other)[1], folds.fold_parts(splits[0])[1])
    quick = design.splits("quick")
    assert [(s.folds, s.repeats) for s in quick] == [(2, 1), (2, 1)]


def test_a_split_trial_key_holds_its_fold_and_the_other_trials_keys_do_not_change():
    trials = design.trials("full")
    split_trials = [t for t in trials if t.experiment == "kfold"]
    assert len(split_trials) == 20 and {t.seeds for t in split_trials} == {2}
    assert {t.settings.patience for t in split_trials} == {design.SOUNDER_PATIENCE}
    inputs = []
    for trial in split_trials:
        found = trial.design["split"]
        assert found["held_out"] == folds.fold_parts(trial.split)[1].tolist()
        stage = runs.stage_for("boston", trial=True, split=True)
        inputs.append(runs.run_inputs(stage, trial.spec, trial.settings, "c", 42, trial.design))
    assert len({str(i) for i in inputs}) == 20  # every fold and model keyed apart
    names = set(inputs[0]["code"])
    assert {"nnlab.experiments.folds.fold_parts", "nnlab.experiments.folds.fold_dataset"} <= names
    # the frozen trials' keys hold exactly these design entries and code: no fold, no fold code
    for trial in trials:
        if trial.experiment != "kfold":
            assert "split" not in trial.design
    plain = set(runs.stage_for("boston", trial=True).code)
    assert folds.fold_parts not in plain and folds.fold_dataset not in plain


def _fixture_boston() -> Dataset:
    text = (Path(__file__).parent / "fixtures" / "boston_house_prices.csv").read_text()
    arrays = boston.from_csv_text(text)
    return Dataset("boston", arrays["x_train"], arrays["y_train"], arrays["x_test"],
                   arrays["y_test"], {"sha256": "fixture"})  # fmt: skip


def test_a_fold_is_scaled_with_its_own_training_part_as_the_lab_scales_its_split():
    dataset = _fixture_boston()
    split = design.splits("full")[3]
    train, test = folds.fold_parts(split)
    x = np.concatenate([dataset.x_train, dataset.x_test])
    y = np.concatenate([dataset.y_train, dataset.y_test])
    prepared = preprocess.prepare_boston(folds.fold_dataset(dataset, split), None, None)
    scaler = StandardScaler().fit(x[train])  # the fold's training districts only
    assert np.allclose(prepared.x_test.reshape(len(test), -1), scaler.transform(x[test]))
    assert np.allclose(prepared.x_train.reshape(len(train), -1), scaler.transform(x[train]))
    assert np.array_equal(prepared.y_test, y[test]) and np.array_equal(prepared.y_train, y[train])
    with pytest.raises(ValueError, match="506 districts"):
        folds.fold_dataset(Dataset("boston", x[:10], y[:10], x[10:20], y[10:20], {}), split)


# --- the corrected resampled t-test on simulated labs ---------------------------------------------


def _simulated_differences(rng, labs: int, gap: float) -> np.ndarray:
    """Per lab, the 10 split differences of a Boston-like lab on the protocol's own folds.
    Each district has its own advantage of one model (a normal with mean `gap`: the true
    difference), which every split testing it shares; each training part shifts the
    difference by how its districts happen to suit the models; each split adds its seeds'
    noise. The test-set and seed terms (about 0.29 thousand USD each per split) are those of
    Boston's patience-25 runs on Keras's split; the training term (about 0.22) is assumed."""
    parts = [folds.fold_parts(split) for split in design.splits("full")]
    tested = np.zeros((DISTRICTS, len(parts)))
    trained = np.zeros((DISTRICTS, len(parts)))
    for j, (train, test) in enumerate(parts):
        tested[test, j], trained[train, j] = 1 / len(test), 1 / len(train)
    advantage = rng.normal(gap, 2.9, (labs, DISTRICTS))
    suit = rng.normal(0.0, 4.5, (labs, DISTRICTS))
    return advantage @ tested + suit @ trained + rng.normal(0, 0.29, (labs, len(parts)))


def _corrected(differences: np.ndarray) -> list[dict]:
    return [resampled.corrected_resampled_t(d, 404.4, 101.2, 0.05) for d in differences]


def test_with_no_true_difference_the_corrected_test_keeps_its_level_and_the_plain_one_does_not():
    differences = _simulated_differences(np.random.default_rng(3), 2000, 0.0)
    corrected = np.mean([found["p_value"] < 0.05 for found in _corrected(differences)])
    plain = np.mean(stats.ttest_1samp(differences, 0.0, axis=1).pvalue < 0.05)
    assert corrected <= 0.08
    assert plain >= 0.15  # the overlapping splits make the plain t-test name false winners


def test_a_large_true_difference_is_detected_with_its_sign():
    differences = _simulated_differences(np.random.default_rng(4), 500, 1.5)
    found = _corrected(differences)
    detected = [f["p_value"] < 0.05 and f["interval"][0] > 0 for f in found]
    assert np.mean(detected) >= 0.95
    # the interval holds the true difference as often as the test keeps its level (<= 8 %)
    assert np.mean([f["interval"][0] <= 1.5 <= f["interval"][1] for f in found]) >= 0.92


def test_the_correction_vanishes_with_the_test_share_and_needs_two_splits():
    differences = [0.3, -0.1, 0.5, 0.2, 0.4, 0.1]
    plain = stats.ttest_1samp(differences, 0.0)
    nearly_plain = resampled.corrected_resampled_t(differences, 1e12, 1.0, 0.05)
    assert nearly_plain["p_value"] == pytest.approx(plain.pvalue)
    low, high = plain.confidence_interval(0.95)
    assert nearly_plain["interval"] == pytest.approx([low, high])
    corrected = resampled.corrected_resampled_t(differences, 404, 102, 0.05)
    assert corrected["p_value"] > plain.pvalue and corrected["df"] == 5
    with pytest.raises(ValueError, match="two splits"):
        resampled.corrected_resampled_t([0.2], 404, 102, 0.05)


# --- the record and the sentence ------------------------------------------------------------------


def _run(kind: str, split: folds.Split, seed: int, mae: float) -> RunResult:
    """A finished split trial whose every prediction is `mae` above the price."""
    _, test = folds.fold_parts(split)
    y = np.linspace(10, 40, len(test))
    settings = {"epochs": 50, "patience": design.SOUNDER_PATIENCE}
    record = {"dataset": "boston", "kind": kind, "seed": seed, "status": "done",
              "inputs": {"params": {"settings": settings,
                                    "design": {"split": split.as_dict()}}}}  # fmt: skip
    history = {"loss": list(np.linspace(80, 20, 50)), "val_loss": list(np.linspace(70, 25, 50))}
    name = design.split_trial_name(f"boston-{kind}", split)
    return RunResult(name, record, history, y, (y + mae).reshape(-1, 1), Path("."), {})


def _experiments(gaps: list[float]) -> dict:
    """The kfold experiment's runs: per split, two seeds per model; the CNN's MAE is 3.0 and
    the RNN's 3.0 - gap (the seeds 0.1 apart)."""
    trials: dict[str, list] = {}
    for split, gap in zip(design.splits("full"), gaps, strict=True):
        for kind, mae in (("cnn", 3.0), ("rnn", 3.0 - gap)):
            found = [_run(kind, split, seed, mae + 0.1 * (seed - 42)) for seed in (42, 43)]
            trials[found[0].name] = found
    return {"kfold": trials}


def _same_recipe(outcome: str) -> dict:
    return {"protocol": "patience", "population": "all", "outcome": outcome,
            "winner": "rnn" if outcome == "established" else None,
            "interval": [-0.569, 0.741]}  # fmt: skip


def test_the_record_averages_seeds_within_a_split_and_tests_the_split_differences():
    lab = ctx.Lab("boston", {}, {})
    gaps = [0.5, 0.7, 0.6, 0.4, 0.8, 0.6, 0.5, 0.7, 0.6, 0.6]
    record = split_protocol.comparison(lab, _experiments(gaps), _same_recipe("none"))
    assert record["protocol"] == "kfold" and record["population"] == "all"
    assert [row["difference"] for row in record["per_split"]] == pytest.approx(gaps)
    assert record["per_split"][0]["cnn"] == pytest.approx(3.05)  # seeds 42 and 43: 3.0, 3.1
    assert {row["n_train"] + row["n_test"] for row in record["per_split"]} == {DISTRICTS}
    assert record["difference"] == pytest.approx(0.6) and record["splits"] == 10
    # the CNN's MAE is higher: the RNN is better, and far beyond the splits' spread
    assert record["outcome"] == "established" and record["winner"] == "rnn"
    assert record["resolves"] is True
    assert record["design"] == {"folds": 5, "repeats": 2, "districts": DISTRICTS,
                                "split_seed": design.SPLIT_SEED, "seeds_per_split": 2,
                                "patience": design.SOUNDER_PATIENCE}  # fmt: skip
    assert record["models"]["cnn"]["runs"] == 20 and record["models"]["cnn"]["failed"] == {}
    again = split_protocol.comparison(lab, _experiments(gaps), _same_recipe("established"))
    assert again["resolves"] is False
    assert split_protocol.comparison(lab, {}, None) is None  # not trained: no record


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_verdict_states_the_split_protocol_and_whether_it_resolves(lang):

    t = Translator(LOCALE, lang)
    cite = References(REPO / "report" / "references.toml").cite
    lab = ctx.Lab("boston", {}, {})
    noisy = [0.9, -0.7, 0.2, -0.4, 0.5, -0.6, 0.1, 0.3, -0.2, 0.0]
    clear = [0.5, 0.7, 0.6, 0.4, 0.8, 0.6, 0.5, 0.7, 0.6, 0.6]
    same = _same_recipe("none")
    for gaps, relation in ((noisy, "unresolved"), (clear, "resolves")):
        record = split_protocol.comparison(lab, _experiments(gaps), same)
        text = findings.split_sentence(t, record, [same, record], 102, cite)
        assert (
            escape(t.pvalue(record["p_value"])) in text
            and cite("nadeau2003", "bouckaert2004") in text
        )
        stem = t(
            f"v:kfold:{relation}", n_test="102", winner="RNN", width="", unit="", width_same=""
        ).split(":")[0]
        assert escape(stem) in text
        assert t.num(DISTRICTS) in text


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_verdict_names_the_protocol_each_statement_rests_on(lang):
    from test_report_parts import _record, lab_view

    t = Translator(LOCALE, lang)
    decision = _record("none", [0.99, 0.985, 0.98], [0.97, 0.975, 0.96])
    everything = {**decision, "population": "all",
                  "reliability": _record("none", [1], [1], "all")["reliability"]}  # fmt: skip
    split = split_protocol.comparison(ctx.Lab("boston", {}, {}), _experiments([0.6] * 10), None)
    view = lab_view(None, None, [decision, everything, split])
    view.seeds, view.sizes = None, {"n_train": 404, "n_test": 102}
    found = findings.verdict(t, view, lambda *keys: "[1]")
    lab = t("lab-short:boston")
    assert found["lines"][0] == t("v:rests-on", lab=lab, n_train="404", n_test="102")
    assert found["lines"][-1] == findings.split_sentence(t, split, view.verdicts, 102,
                                                         lambda *keys: "[1]")  # fmt: skip
    assert found["name"] == t("v:name:on-notebook", name=findings.verdict_name(t, decision),
                              n_test="102")  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_smoke_build_trains_the_split_protocol_and_states_it(rendered, lang):
    import json
    import re

    found = json.loads((rendered / "verdicts.json").read_text(encoding="utf-8"))
    (record,) = [c for c in found["comparisons"] if c["protocol"] == "kfold"]
    assert record["dataset"] == "boston" and record["splits"] == 2  # 2 folds, 1 repeat
    assert record["design"]["patience"] == design.SOUNDER_PATIENCE
    assert {row["n_test"] + row["n_train"] for row in record["per_split"]} == {DISTRICTS}
    t = Translator(LOCALE, lang)
    html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
    block = re.search(r'id="verdict-boston">(.*?)</div>', html, re.S).group(1)
    text = re.sub(r"\s+", " ", block)
    assert re.sub(r"\s+", " ", str(escape(t.pvalue(record["p_value"])))) in text
    assert t.num(DISTRICTS) in text and 'href="#ref-nadeau2003"' in text
