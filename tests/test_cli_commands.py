"""How the commands put their steps together, with training and rendering stubbed (no
TensorFlow, nothing trained): `build` trains, then renders, under one build lock."""

from __future__ import annotations

import sys
from unittest import mock

import pytest

from nnlab import cli, pipeline
from nnlab.cli import reporting
from nnlab.cli.app import build_dir
from nnlab.cli.request import Request
from nnlab.errors import NnlabError
from nnlab.lock import build_lock

pytestmark = pytest.mark.usefixtures("isolated")  # conftest.isolated


def run_main(argv: list[str]) -> int:
    with mock.patch.object(sys, "argv", ["nnlab", *argv]):
        try:
            cli.main()
        except SystemExit as exc:
            return 0 if exc.code is None else exc.code
    return 0


def lock_is_held() -> bool:
    try:
        with build_lock(build_dir()):
            return False
    except NnlabError:
        return True


def test_build_renders_early_once_then_after_training_under_the_lock(monkeypatch, capsys):
    steps = []

    def train_missing(selections, workers, on_finish, **kw):
        steps.append("train")
        on_finish(None, (600.0, 900.0))
        on_finish(None, (500.0, 800.0))  # a second finished run: no second preliminary report
        return []

    def render(request, lang, fmt, command):
        steps.append(("render", request, lang, fmt, lock_is_held()))

    monkeypatch.setattr(pipeline, "train_missing", train_missing)
    monkeypatch.setattr(pipeline, "ready_for_a_preliminary_report", lambda selections, left: True)
    monkeypatch.setattr(reporting, "render", render)
    argv = ["build", "--profile", "quick", "--seeds", "1", "--lang", "en", "--format", "html"]
    assert run_main([*argv, "--no-experiments", "--workers", "1"]) == 0
    request = Request(profile="quick", seed_count=1, experiments=False)
    rendered = ("render", request, "en", "html", True)
    assert steps == ["train", rendered, rendered]
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "every model has a finished run: rendering a preliminary report",
        "0 run(s) trained; rendering",
    ]
    assert not lock_is_held()


def test_report_renders_the_request_under_the_lock(monkeypatch):
    rendered = []
    monkeypatch.setattr(reporting, "render", lambda *args: rendered.append((*args, lock_is_held())))
    assert run_main(["report", "--profile", "quick", "--seed", "7", "--lang", "vi"]) == 0
    command = "nnlab report --profile quick --seed 7"  # what provenance.json records
    assert rendered == [(Request(profile="quick", seed=7), "vi", "all", command, True)]
