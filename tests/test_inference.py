"""The training loss re-measured in inference mode (inference.py) and what the report makes of
the Boston CNN's validation gap (report/gap.py, findings.gap_sentences)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, nnlab_env

from nnlab import inference, runs
from nnlab.measurements import NAMES
from nnlab.report import findings, gap
from nnlab.report.i18n import Translator

LOCALE = REPO / "report" / "locale"


def test_the_kept_epoch_is_the_one_whose_validation_loss_the_model_reproduces():
    history = {"val_loss": [50.0, 20.0, 12.5, 14.0]}
    assert inference.kept_epoch(history, 12.5001) == 3
    assert inference.kept_epoch(history, 14.0) == 4  # weights not restored: the last epoch


def test_the_ratio_is_read_over_its_window_only():
    history = {"loss": [100.0] * 4 + [2.0] * 26 + [1.0] * 20,
               "val_loss": [100.0] * 4 + [20.0] * 26 + [1.0] * 20}  # fmt: skip
    assert gap.loss_ratio(history) == 10.0
    assert gap.loss_ratio({"loss": [1.0] * 10, "val_loss": [1.0] * 10}) is None  # too short


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_batchnorm_is_named_only_when_the_control_removes_the_gap(lang):
    t = Translator(LOCALE, lang)
    facts = {"window": (5, 30), "lab": 9.8, "lab_runs": 10, "control": 0.6, "control_runs": 3,
             "inference": None, "measured_runs": 0}  # fmt: skip
    assert findings.gap_sentences(t, facts)[-1] == t("gap:bn-yes")
    assert findings.gap_sentences(t, {**facts, "control": 8.0})[-1] == t("gap:bn-no")
    assert findings.gap_sentences(t, {**facts, "control": None}) == []


@pytest.mark.slow
def test_the_measurement_follows_the_model_and_never_retrains(quick_build, data_dir, tmp_path):
    from conftest import copy_build

    build = copy_build(quick_build, tmp_path / "build")  # it re-measures: its own copy
    folders = sorted((build / "runs" / "quick").glob("boston-*/seed-*"))
    assert folders
    for folder in folders:
        record = runs.read_record(folder)
        saved = inference.read(folder, record)
        assert saved is not None
        assert saved["inputs"]["files"]["model"] == record["files"]["model.keras"]
        assert 1 <= saved["epoch"] <= record["epochs_run"]
    folder = folders[0]
    stale = json.loads((folder / inference.FILE).read_text())
    other = {**stale["inputs"], "files": {"model": "another model"}}
    (folder / inference.FILE).write_text(json.dumps({**stale, "inputs": other}))
    assert inference.read(folder, runs.read_record(folder)) is None
    before = (folder / runs.RECORD).read_bytes()
    # The measuring is done in worker processes: the command's own process (which forks the
    # editions when it renders) never loads TensorFlow.
    code = (
        "import sys\nfrom nnlab.cli import main\ntry:\n    main()\nfinally:\n"
        "    print('tensorflow loaded:', 'tensorflow' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "train", "--profile", "quick", "--dataset", "boston",
         "--quiet"], cwd=REPO, env=nnlab_env(data_dir, build), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("0 trained")
    assert f"measuring boston-cnn seed 42 from its saved model: {NAMES['inference']}\n" in (
        result.stderr
    )
    assert result.stderr.endswith("tensorflow loaded: False\n")
    assert (folder / runs.RECORD).read_bytes() == before  # the run itself was not redone
    again = inference.read(folder, runs.read_record(folder))
    assert again is not None and again["train_loss_inference"] == stale["train_loss_inference"]
