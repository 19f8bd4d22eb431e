"""A report rendered while runs are missing: preliminary, from what is finished, with the
runs to come named (verdicts.json's `pending` and a banner in both editions)."""

from __future__ import annotations

import json
import shutil

from conftest import REPO, run_nnlab

from nnlab.report.i18n import LANGUAGES, Translator

LOCALE = REPO / "report" / "locale"


def _banner_stem(lang: str) -> str:
    return Translator(LOCALE, lang)("preliminary").split("{")[0]


def test_a_final_report_has_no_banner_and_nothing_pending(rendered):
    assert json.loads((rendered / "verdicts.json").read_text())["pending"] == []
    for lang in LANGUAGES:
        html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
        assert 'class="preliminary"' not in html


def test_a_missing_run_gives_a_preliminary_report(rendered, data_dir, tmp_path):
    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    shutil.rmtree(build / "runs" / "quick" / "imdb-rnn" / "seed-43")
    result = run_nnlab(["report", "--profile", "quick", "--format", "html"], data_dir, build)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "preliminary report: 1 run(s) still to come" in result.stderr
    pending = json.loads((build / "verdicts.json").read_text())["pending"]
    assert pending == [{"run": "imdb-rnn", "seed": 43, "state": "missing"}]
    for lang in LANGUAGES:
        html = (build / "site" / lang / "index.html").read_text(encoding="utf-8")
        banner = html.split('<p class="preliminary" role="note">', 1)[1].split("</p>", 1)[0]
        assert banner.startswith(_banner_stem(lang)) and "43" in banner


def test_a_model_with_no_finished_run_still_stops_with_one_line(rendered, data_dir, tmp_path):
    build = tmp_path / "copy"
    shutil.copytree(rendered, build, ignore=shutil.ignore_patterns("*.lock"))
    shutil.rmtree(build / "runs" / "quick" / "mnist-cnn")
    result = run_nnlab(["report", "--profile", "quick", "--format", "html"], data_dir, build)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "run mnist-cnn (seed 42, quick profile) is missing" in result.stderr
    assert "make it with: nnlab train --profile quick --dataset mnist --seed 42" in result.stderr


def test_the_build_renders_early_once_every_model_has_a_finished_run_and_hours_are_left():
    from types import SimpleNamespace

    from nnlab import pipeline

    def plan(name, state):
        return SimpleNamespace(name=name, status=SimpleNamespace(state=state))

    def selection(*plans):
        return SimpleNamespace(plans=list(plans))

    labs = selection(plan("mnist-cnn", "done"), plan("mnist-cnn", "missing"),
                     plan("imdb-rnn", "failed"))  # fmt: skip
    trials = selection(plan("batch-8", "missing"))
    hours = 3 * 3600.0  # the estimate's lower end of the time still to come
    assert pipeline.ready_for_a_preliminary_report([labs, trials], hours)
    # runs still to come, but over in a minute (a quick build): the final report comes soon
    assert not pipeline.ready_for_a_preliminary_report([labs, trials], 60.0)
    labs.plans[2].status.state = "missing"  # imdb-rnn has nothing finished yet
    assert not pipeline.ready_for_a_preliminary_report([labs, trials], hours)
    everything = selection(plan("mnist-cnn", "done"), plan("imdb-rnn", "done"))
    assert not pipeline.ready_for_a_preliminary_report([everything], hours)  # nothing left
