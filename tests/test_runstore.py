"""The run store and the run locator without training: what a run's key covers, how a stale
run is named, leftovers of a killed commit, the one source per report, the caches' keys."""

from __future__ import annotations

import inspect
import json
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nnlab import (
    cachekey,
    data,
    fingerprint,
    models,
    pipeline,
    preprocess,
    runfiles,
    runs,
    training,
)
from nnlab.config import settings_for
from nnlab.data import archives, cache, imdb
from nnlab.errors import NnlabError
from nnlab.fsutil import atomic_write_json

TRAIN_SOURCE = textwrap.dedent(inspect.getsource(training.train))


# --- the run key ----------------------------------------------------------------------------
def test_a_comment_or_docstring_edit_keeps_the_key():
    edited = TRAIN_SOURCE.replace(
        '"""Fit, predict and save', '"""Fit the model (reworded), predict and save'
    ).replace("    seed_everything(seed)\n", "    # a new comment\n    seed_everything(seed)\n")
    assert edited != TRAIN_SOURCE
    assert fingerprint.source_digest(edited) == fingerprint.source_digest(TRAIN_SOURCE)


def test_a_code_edit_changes_the_key():
    edited = TRAIN_SOURCE.replace('"validation_split": settings.validation_split',
                                  '"validation_split": 0.2')  # fmt: skip
    assert edited != TRAIN_SOURCE
    assert fingerprint.source_digest(edited) != fingerprint.source_digest(TRAIN_SOURCE)


def inputs_for(name: str, data_checksum="abc", seed=42, **overrides) -> dict:
    spec = models.SPECS[name]
    settings = settings_for(spec.dataset, "quick", overrides)
    return runs.run_inputs(runs.stage_for(spec.dataset), spec, settings, data_checksum, seed)


def all_keys() -> dict[str, str]:
    return {name: cachekey.key(inputs_for(name)) for name in models.SPECS}


def edit(monkeypatch, *targets) -> None:
    """As if the source of each target had been edited: its syntax tree's digest changes."""
    real = fingerprint.object_digest
    monkeypatch.setattr(
        fingerprint, "object_digest", lambda item: "edited" if item in targets else real(item)
    )


def test_an_edit_to_one_datasets_preprocessing_changes_only_its_own_runs_keys(monkeypatch):
    before = all_keys()
    edit(monkeypatch, preprocess.boston_features)
    after = all_keys()
    assert {name for name in before if before[name] != after[name]} == {"boston-cnn", "boston-rnn"}


def test_the_history_reader_and_the_layer_table_are_not_training_inputs(monkeypatch):
    before = all_keys()
    edit(monkeypatch, runfiles.read_history, models.describe, runfiles.drop_empty_columns)
    assert all_keys() == before


def test_an_edit_to_the_shared_trainer_is_named_in_every_runs_reason(monkeypatch):
    recorded = {name: inputs_for(name) for name in models.SPECS}
    edit(monkeypatch, training.train)
    for name in models.SPECS:
        assert runs.changed_inputs(recorded[name], inputs_for(name)) == [
            "training code (training.train)"
        ]


def test_a_constant_counts_by_its_value(monkeypatch):
    recorded = inputs_for("mnist-cnn")
    monkeypatch.setitem(training.RUN_STAGE.params, "predict_batch_size", 512)
    assert runs.changed_inputs(recorded, inputs_for("mnist-cnn")) == ["prediction batch size"]


def test_an_edit_to_a_trial_trainer_changes_the_trials_keys_not_the_labs(monkeypatch):
    from nnlab.experiments import train as trial_training

    spec, settings = models.SPECS["imdb-rnn"], settings_for("imdb", "quick")

    def trial_inputs():
        stage = runs.stage_for("imdb", trial=True)
        return runs.run_inputs(stage, spec, settings, "abc", 42, {"method": "gradients"})

    trial_before, lab_before = trial_inputs(), all_keys()
    edit(monkeypatch, trial_training.gradient_trial)
    assert runs.changed_inputs(trial_before, trial_inputs()) == [
        "training code (experiments.train.gradient_trial)"
    ]
    assert all_keys() == lab_before


def test_changed_inputs_name_what_changed():
    recorded = inputs_for("boston-cnn")
    assert runs.changed_inputs(recorded, inputs_for("boston-cnn")) == []
    assert runs.changed_inputs(recorded, inputs_for("boston-cnn", epochs=2)) == [
        "training settings (epochs 1 → 2)"
    ]
    assert runs.changed_inputs(recorded, inputs_for("boston-cnn", data_checksum="def")) == ["data"]
    # Data that is not cached here is not compared.
    assert runs.changed_inputs(recorded, inputs_for("boston-cnn", data_checksum=None)) == []


def test_a_run_recorded_by_an_older_nnlab_is_missing_not_stale(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    older = {"spec": {}, "settings": {}, "seed": 42, "data_sha256": "abc", "code": "digest"}
    atomic_write_json(folder / runs.RECORD, {"inputs": older, "status": "done"})
    state = runs.status(folder, "mnist-cnn", inputs_for("mnist-cnn"))
    assert state.state == "missing" and "older nnlab" in state.reason and state.record is None


def test_a_run_whose_data_was_not_compared_is_done_with_that_said(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    atomic_write_json(folder / runs.RECORD, {"inputs": inputs_for("mnist-cnn"), "status": "done"})
    checked = runs.status(folder, "mnist-cnn", inputs_for("mnist-cnn"))
    unchecked = runs.status(folder, "mnist-cnn", inputs_for("mnist-cnn", data_checksum=None))
    assert (checked.state, checked.reason) == ("done", "")
    assert unchecked.state == "done" and "not compared" in unchecked.reason


def test_a_changed_layer_makes_only_that_model_stale(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    build = tmp_path / "build"
    specs = list(models.SPECS.values())
    for item in pipeline.plan(build, "quick", specs, [42]).plans:
        item.path.mkdir(parents=True)
        atomic_write_json(item.path / runs.RECORD, {"inputs": item.inputs, "status": "done"})
    changed = dict(models.SPECS)
    layers = list(changed["mnist-cnn"].layers)
    layers[-2] = ("Dense", {"units": 32, "activation": "relu"})  # was 64 units
    changed["mnist-cnn"] = replace(changed["mnist-cnn"], layers=tuple(layers))
    monkeypatch.setattr(models, "SPECS", changed)
    states = {p.spec.name: p.status for p in pipeline.plan(build, "quick", list(changed.values()),
                                                           [42]).plans}  # fmt: skip
    assert {name: s.state for name, s in states.items()} == {
        name: "stale" if name == "mnist-cnn" else "done" for name in changed
    }
    assert states["mnist-cnn"].reason == "its model architecture changed since it was trained"


def test_config_precision_reaches_the_run_path(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    overrides = pipeline.overrides_for({"boston-cnn": {"precision": "mixed_bfloat16"}}, "float32")
    chosen = pipeline.plan(tmp_path, "quick", models.select("boston"), [42], overrides)
    paths = {item.spec.name: item.path.name for item in chosen.plans}
    assert paths == {"boston-cnn": "seed-42-mixed_bfloat16", "boston-rnn": "seed-42"}


# --- one source per report ------------------------------------------------------------------
def seal(folder: Path, **record) -> Path:
    folder.mkdir(parents=True)
    atomic_write_json(folder / runs.RECORD, {"status": "done", **record})
    return folder


def test_one_source_the_build_when_it_has_any_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build = tmp_path / "build"
    assert pipeline.source_root(build, "quick") == ("build", build / "runs")  # nothing anywhere
    seal(runs.run_path(runs.FROZEN_ROOT, "quick", "mnist-cnn", 42))
    assert pipeline.source_root(build, "quick") == ("frozen", runs.FROZEN_ROOT)
    seal(runs.run_path(build / "runs", "quick", "boston-cnn", 42))
    # One run in the build: every run comes from the build, none from results/.
    assert pipeline.source_root(build, "quick") == ("build", build / "runs")


def test_a_missing_run_names_its_source_and_the_command(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    chosen = pipeline.plan(tmp_path, "quick", models.select("boston"), [43])
    with pytest.raises(NnlabError, match="boston-cnn .*missing in the build") as caught:
        chosen.require()
    assert "nnlab train --profile quick --dataset boston --seed 43" in str(caught.value)


# --- leftovers of a killed commit -----------------------------------------------------------
def test_killed_between_the_two_renames_the_sealed_new_run_takes_the_place(tmp_path):
    parent = tmp_path / "runs" / "quick" / "boston-cnn"
    seal(parent / ".seed-42.old-11", epochs_run=1)
    seal(parent / ".seed-42.partial-11", epochs_run=2)
    runs.clean_leftovers(tmp_path)
    assert [p.name for p in parent.iterdir()] == ["seed-42"]
    assert runs.read_record(parent / "seed-42")["epochs_run"] == 2


def test_killed_before_sealing_the_old_run_comes_back(tmp_path):
    parent = tmp_path / "runs" / "quick" / "boston-cnn"
    seal(parent / ".seed-42.old-11", epochs_run=1)
    (parent / ".seed-42.partial-11").mkdir()  # no run.json: never sealed
    runs.clean_leftovers(tmp_path)
    assert [p.name for p in parent.iterdir()] == ["seed-42"]
    assert runs.read_record(parent / "seed-42")["epochs_run"] == 1


def test_leftovers_beside_a_run_in_place_are_removed(tmp_path):
    parent = tmp_path / "runs" / "quick" / "boston-cnn"
    seal(parent / "seed-42", epochs_run=3)
    seal(parent / ".seed-42.old-11", epochs_run=1)
    (parent / ".seed-42.partial-12").mkdir()
    runs.clean_leftovers(tmp_path)
    assert [p.name for p in parent.iterdir()] == ["seed-42"]
    assert runs.read_record(parent / "seed-42")["epochs_run"] == 3


# --- the data cache's converter version -------------------------------------------------------
def test_a_converter_version_bump_rebuilds_the_imdb_arrays(tmp_path, monkeypatch):
    from conftest import FIXTURES, make_fixture_cache

    root = make_fixture_cache(tmp_path / "data")
    before = data.cached_checksum("imdb", root)
    assert before is not None
    made_with = imdb.CONVERTER_VERSION
    monkeypatch.setattr(imdb, "CONVERTER_VERSION", made_with + 1)
    assert data.cached_checksum("imdb", root) is None  # the old arrays no longer count
    reviews = json.loads((FIXTURES / "imdb" / "reviews.json").read_text())
    converted = []

    def fake_fetch(name, archive_dir, log=print):
        return archive_dir / "imdb.tgz"

    def convert(path):
        converted.append(path)
        return imdb.from_reviews(reviews[::-1])  # a "fixed" tokenizer: other arrays

    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    monkeypatch.setattr(archives, "fetch", fake_fetch)
    monkeypatch.setattr(imdb, "from_archive", convert)
    logged = []
    dataset = data.load("imdb", root, log=logged.append)
    assert converted and any(f"converter version {made_with};" in line for line in logged)
    assert dataset.meta["converter"] == imdb.CONVERTER_VERSION
    assert data.cached_checksum("imdb", root) == dataset.checksum != before
    assert cache.load("imdb", root, imdb.CONVERTER_VERSION) is not None


# --- the hand-made houses -------------------------------------------------------------------
def test_hand_made_prices_count_only_for_todays_houses_code_and_model(tmp_path, monkeypatch):
    from nnlab import handmade
    from nnlab.data import boston

    record = {"files": {"model.keras": "m1"}}
    saved = {"inputs": handmade.dependencies(record), "prices_k": [16.7, 43.5]}
    atomic_write_json(tmp_path / handmade.FILE, saved)
    assert handmade.read(tmp_path, record) == [16.7, 43.5]
    assert handmade.read(tmp_path, {"files": {"model.keras": "m2"}}) is None  # retrained
    assert handmade.read(tmp_path, {"model_sha256": "m1", "files": {}}) == [16.7, 43.5]  # frozen
    with monkeypatch.context() as patched:
        patched.setitem(handmade.PRICING.params, "houses", [list(boston.HANDMADE_HOUSES[0])])
        assert handmade.read(tmp_path, record) is None  # the houses were edited
    edit(monkeypatch, handmade.price)
    assert handmade.read(tmp_path, record) is None  # the pricing code was edited


def test_npz_of_predictions_round_trip_through_atomic_write(tmp_path):
    from nnlab.fsutil import atomic_write_npz

    atomic_write_npz(tmp_path / "a.npz", {"x": np.arange(3)})
    with np.load(tmp_path / "a.npz") as npz:
        assert npz["x"].tolist() == [0, 1, 2]


# --- the parallel dispatcher ------------------------------------------------------------------
def test_lighter_runs_go_side_by_side_and_an_imdb_lstm_alone_on_every_core(data_dir, monkeypatch):
    from nnlab import parallel

    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    chosen = pipeline.plan(Path("/nonexistent"), "full", list(models.SPECS.values()), [42, 43])
    by_key = {(item.spec.name, item.seed): item for item in chosen.plans}
    heavy, light = by_key["imdb-rnn", 43], by_key["mnist-rnn", 42]
    waiting = [heavy, light, by_key["boston-cnn", 42]]
    assert parallel.next_job(waiting, []) is light  # lighter runs first, even if cheaper
    assert parallel.next_job(waiting, [by_key["mnist-cnn", 42]]) is light
    assert parallel.next_job(waiting, [by_key["imdb-rnn", 42]]) is None  # it holds every core
    # Only heavy runs left: one waits for the cores to be free, then takes all of them.
    assert parallel.next_job([heavy], [by_key["mnist-cnn", 42]]) is None
    assert parallel.next_job([heavy], []) is heavy
    assert parallel.lane_of(heavy, 2) == "all-cores" and parallel.lane_of(light, 2) == "shared"
    assert parallel.lane_of(light, 1) == "all-cores"  # one worker: every run on every core


def test_one_seed_of_every_model_goes_first(data_dir, monkeypatch, tmp_path):
    """The first wave: each lab model's lowest seed, unless the model already has a finished
    run; the IMDB LSTM's first seed goes before any second seed, alone on the cores."""
    from nnlab import parallel

    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    finished = tmp_path / "runs" / "full" / "mnist-cnn" / "seed-44"
    finished.mkdir(parents=True)
    (finished / runs.RECORD).write_text("{}")
    chosen = pipeline.plan(tmp_path, "full", list(models.SPECS.values()), [42, 43], source="build")
    by_key = {(item.spec.name, item.seed): item for item in chosen.plans}
    firsts = parallel.first_wave(chosen.plans)
    expected = {id(by_key[name, 42]) for name in models.SPECS if name != "mnist-cnn"}
    assert firsts == expected
    waiting = sorted(chosen.plans, key=lambda item: (item.seed != 43, item.spec.name))
    light_first = parallel.next_job(waiting, [], firsts=frozenset(firsts))
    assert light_first.seed == 42 and light_first.spec.name != "imdb-rnn"
    only_heavy_first = [item for item in waiting if id(item) not in firsts or
                        item.spec.name == "imdb-rnn"]  # fmt: skip
    busy = [by_key["mnist-rnn", 42]]
    # the heavy first waits for the cores; a second seed does not jump the queue meanwhile
    assert parallel.next_job(only_heavy_first, busy, firsts=frozenset(firsts)) is None
    assert (
        parallel.next_job(only_heavy_first, [], firsts=frozenset(firsts)) is by_key["imdb-rnn", 42]
    )


def test_an_atomic_write_is_flushed_to_disk_with_its_folder(tmp_path, monkeypatch):
    import os

    from nnlab import fsutil

    flushed = []
    real_fsync = os.fsync

    def record(fd):
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(fsutil.os, "fsync", record)
    fsutil.atomic_write_text(tmp_path / "index.html", "<p>new</p>")
    # The temp file before it is renamed, then the folder that now names it.
    assert len(flushed) == 2 and flushed[0].startswith(str(tmp_path / ".index.html."))
    assert flushed[1] == str(tmp_path)
