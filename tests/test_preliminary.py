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
    config = REPO / "report" / "report.toml"
    result = run_nnlab(
        ["report", "--profile", "quick", "--format", "html", "--config", str(config)],
        data_dir,
        build,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        "preliminary report: 1 run(s) still to come (imdb-rnn: seed 43); the final one replaces "
        f"it after: nnlab train --profile quick --config {config}"
    ) in result.stderr
    # Progress in plain words while it renders, and no internal stage names.
    for edition in ("Vietnamese", "English"):
        assert f"{edition} edition: drawing the charts and working out the numbers (1/2)…" in (
            result.stderr
        )
        assert f"{edition} edition: writing the web page (2/2)…" in result.stderr
    assert "context-" not in result.stderr and "html-vi" not in result.stderr
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


def test_the_banner_names_each_model_s_missing_seeds_as_ranges():
    """Ten missing seeds of a model read "seeds 44–50, 52", not each seed one by one."""
    from types import SimpleNamespace

    from nnlab.report import findings

    assert findings.seed_ranges([46, 44, 45, 52, 50, 49, 48, 47]) == "44–50, 52"
    assert findings.seed_ranges([7]) == "7"
    assert findings.seed_ranges([3, 5]) == "3, 5"
    pending = [{"run": "imdb-rnn", "seed": seed} for seed in (44, 45, 46)]
    pending += [{"run": "mnist-cnn", "seed": 42}, {"run": "batch-8", "seed": 42}]
    views = [SimpleNamespace(name=name, verdicts=[]) for name in ("mnist", "imdb", "boston")]
    banners = {lang: findings.preliminary(Translator(LOCALE, lang), pending, views)
               for lang in LANGUAGES}  # fmt: skip
    assert "IMDB RNN, seeds 44–46; MNIST CNN, seed 42; 1 experiment trial(s)" in banners["en"]
    assert "RNN của bài IMDB, seed 44–46" in banners["vi"]


def test_the_commands_named_keep_the_user_s_config_and_seeds(tmp_path):
    from dataclasses import replace

    from nnlab import models, pipeline

    chosen = pipeline.plan(tmp_path / "build", "quick", models.select("boston", None), [7, 8])
    config = tmp_path / "my config.toml"
    asked = replace(chosen, config_path=config, seed_options="--seed 7 --seeds 2")
    assert asked.finish_command() == (
        f"nnlab train --profile quick --seed 7 --seeds 2 --config '{config}'"
    )
    run = asked.plans[0]
    assert asked.train_command(run.train_options(one_seed=True)) == (
        f"nnlab train --profile quick --dataset boston --seed 7 --seeds 1 --config '{config}'"
    )
    assert chosen.finish_command() == "nnlab train --profile quick"  # nothing the user gave
