"""The workflows are tested by running their own steps, read from the YAML files.

Two workflows render the site and deploy it with one shared job (deploy-pages.yml): pages.yml
renders from the frozen results/ on a push, train.yml trains on GitHub's runner first (started
by hand, with the run store kept in the Actions cache between starts). The slow tests run each
one's `run:` steps in a fresh clone of the committed HEAD, with a fresh virtual environment (no
system site-packages) and check what the job would publish. Two kinds of step are left out, as
they cannot run here: GitHub's own actions (`uses:` — checkout is the clone, setup-python is the
venv made from the Python running the tests, the cache restore is a copy of a run store; upload
and deploy are GitHub's) and steps needing sudo/apt (the system packages, which `make setup`
installed here from scripts/system-deps.sh: a fast test checks the workflows ask for no package
that list lacks). Their `pip install` reads the package index as the workflows' do (the wheels
come from pip's cache after `make setup`), so they need the index that `make extras` needs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from conftest import REPO
from pypdf import PdfReader

WORKFLOWS = REPO / ".github" / "workflows"
PAGES, TRAIN, DEPLOY = (WORKFLOWS / f"{name}.yml" for name in ("pages", "train", "deploy-pages"))
# Each workflow's job that renders the site, and the `run:` commands it must have, in order.
RENDERING_JOBS = {
    PAGES: ("build", [["pip", "install"], ["nnlab", "report"]]),
    TRAIN: ("train", [["pip", "install"], ["timeout"], ["nnlab", "freeze"]]),
}
LANGS = ("vi", "en")
# Step keys this test knows how to honour; any other (shell:, working-directory:, …) fails the
# test rather than being silently ignored. `if:` only on GitHub's actions (never run here).
STEP_KEYS = {"name", "id", "run", "uses", "with", "env", "if"}
INPUT = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")
GITHUB_JOB_LIMIT_MINUTES = 360  # a job on GitHub's hosted runners is stopped after 6 hours


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def dispatch_inputs(workflow: dict, **chosen: str) -> dict[str, str]:
    """The workflow_dispatch inputs as the Actions tab sends them: the defaults, then `chosen`."""
    declared = triggers(workflow)["workflow_dispatch"].get("inputs") or {}
    assert set(chosen) <= set(declared), set(chosen) - set(declared)
    return {name: str(spec.get("default", "")) for name, spec in declared.items()} | chosen


def fill_inputs(value, inputs: dict[str, str]) -> str:
    filled = INPUT.sub(lambda match: inputs[match.group(1)], str(value))
    assert "${{" not in filled, f"an expression this test cannot evaluate: {value}"
    return filled


def split_steps(job: dict, inputs: dict[str, str]) -> tuple[list[dict], list[str]]:
    """The steps to run here (`run` and its `env`, inputs filled in), and a line for each one
    left out (with why)."""
    run, left_out = [], []
    for step in job["steps"]:
        unknown = set(step) - STEP_KEYS
        assert not unknown, f"step {step} uses {unknown}: teach this test about them"
        if "uses" in step:
            left_out.append(f"{step['uses']}: a GitHub action")
        elif re.search(r"\b(sudo|apt-get|apt)\b", step["run"]):
            left_out.append(f"{step.get('name', step['run'])}: needs sudo/apt")
        else:
            assert "if" not in step, f"a condition this test does not evaluate: {step}"
            assert "${{" not in step["run"], f"an expression in a script (use env:): {step}"
            env = {name: fill_inputs(value, inputs) for name, value in step.get("env", {}).items()}
            run.append({"run": step["run"], "env": env})
    return run, left_out


@pytest.mark.parametrize("workflow", list(RENDERING_JOBS), ids=lambda path: path.name)
def test_workflow_python_and_system_packages_match_the_project(workflow):
    job_id, commands = RENDERING_JOBS[workflow]
    job = load(workflow)["jobs"][job_id]
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    minimum = re.fullmatch(r">=\s*([\d.]+)", pyproject["project"]["requires-python"]).group(1)
    setup = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert [str(s["with"]["python-version"]) for s in setup] == [minimum]
    apt = " ".join(s["run"] for s in job["steps"] if "apt-get install" in s.get("run", ""))
    wanted = {w for w in shlex.split(apt.split("apt-get install", 1)[1]) if not w.startswith("-")}
    system_deps = (REPO / "scripts" / "system-deps.sh").read_text()
    listed = set(re.search(r"packages=\(([^)]*)\)", system_deps).group(1).split())
    assert wanted and wanted <= listed, wanted - listed  # this machine has what the runner gets
    run, left_out = split_steps(job, dispatch_inputs(load(workflow)) if workflow == TRAIN else {})
    assert len(run) == len(commands), run
    assert [s["run"].split()[: len(c)] for s, c in zip(run, commands, strict=True)] == commands
    assert sum(line.endswith("needs sudo/apt") for line in left_out) == 1  # the rest: actions


def uses_of(workflow: dict) -> list[str]:
    return [
        entry["uses"]
        for job in workflow["jobs"].values()
        for entry in [job, *job.get("steps", [])]
        if "uses" in entry
    ]


def test_both_workflows_deploy_with_the_one_deploy_job_and_least_privilege():
    called = load(DEPLOY)
    assert set(triggers(called)) == {"workflow_call"}
    (deploy_job,) = called["jobs"].values()
    wanted = {"pages": "write", "id-token": "write"}
    assert deploy_job["permissions"] == wanted
    assert deploy_job["environment"]["name"] == "github-pages"
    for path in (PAGES, TRAIN):
        caller = load(path)
        assert caller["jobs"]["deploy"]["uses"] == f"$/{DEPLOY.relative_to(REPO)}"
        assert caller["jobs"]["deploy"]["permissions"] == wanted  # what the called job needs
        # The workflow's group is not the deployment's (a job waiting on its own workflow's
        # group would never start).
        assert caller["concurrency"]["group"] != deploy_job["concurrency"]["group"]
    pins: dict[str, set[str]] = {}
    for path in (PAGES, TRAIN, DEPLOY):
        workflow = load(path)
        assert workflow["permissions"] == {}, path.name  # nothing by default
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {job_id} names no permissions"
            for permission, level in job["permissions"].items():
                assert level == "read" or permission in wanted, (path.name, job_id, permission)
        for uses in uses_of(workflow):
            if uses.startswith("$/"):
                continue  # this repository at the running commit
            action, _, commit = uses.partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", commit), f"{path.name}: {uses} is not pinned"
            pins.setdefault(action, set()).add(commit)
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


def test_train_saves_the_run_store_however_the_build_ends():
    workflow = load(TRAIN)
    job = workflow["jobs"]["train"]
    steps = job["steps"]
    (restore,) = [s for s in steps if s.get("uses", "").startswith("actions/cache/restore@")]
    (save,) = [s for s in steps if s.get("uses", "").startswith("actions/cache/save@")]
    (build,) = [s for s in steps if "nnlab build" in s.get("run", "")]
    # The store is where nnlab keeps its runs (NNLAB_BUILD_DIR is not set: build/).
    assert restore["with"]["path"] == save["with"]["path"] == "build/runs"
    assert not any("NNLAB_BUILD_DIR" in str(s.get("env", {})) for s in steps)
    # A new key for each start (a cache entry is never overwritten), the newest found by prefix.
    key = restore["with"]["key"]
    assert "github.run_id" in key and "github.run_attempt" in key
    assert key.startswith(restore["with"]["restore-keys"])
    assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"
    # Saved after the build, also when it failed, timed out or was cancelled.
    assert steps.index(restore) < steps.index(build) < steps.index(save)
    assert "always()" in save["if"]
    # The build stops itself early enough for the steps after it (the save first) to run
    # before the job's own limit, which is under GitHub's.
    stop = re.search(r"\btimeout\s+--kill-after=(\d+)m\s+(\d+)m\s+nnlab build", build["run"])
    assert stop, build["run"]
    build_minutes = int(stop.group(1)) + int(stop.group(2))
    assert build_minutes + 30 <= job["timeout-minutes"] < GITHUB_JOB_LIMIT_MINUTES
    # What a student downloads: both PDFs and results/ (to commit).
    uploaded = [
        path
        for s in steps
        if s.get("uses", "").startswith("actions/upload-artifact@")
        for path in s["with"]["path"].split()
    ]
    assert sorted(uploaded) == ["build/report.en.pdf", "build/report.vi.pdf", "results/"]
    (pages,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert pages["with"]["path"] == "build/site"


class References(HTMLParser):
    """Every URL an HTML or SVG file points at (href, src, srcset, data, poster; CSS url())."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "xlink:href", "src", "data", "poster"):
                self.urls.append(value)
            elif name == "srcset":
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name == "style":
                self.urls += css_urls(value)

    handle_startendtag = handle_starttag


def css_urls(text: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""", text)]


def outside_references(site: Path) -> list[str]:
    """Each reference that is not a fragment, a web URL or a file inside the site."""
    bad = []
    for page in sorted(site.rglob("*")):
        if page.suffix == ".css":
            urls = css_urls(page.read_text())
        elif page.suffix in (".html", ".svg"):
            parser = References()
            parser.feed(page.read_text())
            urls = parser.urls
        else:
            continue
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "mailto", "data") or not (
                parts.scheme or parts.netloc or parts.path
            ):
                continue  # the web, or a fragment of this page
            relative = not (parts.scheme or parts.netloc or parts.path.startswith("/"))
            target = (page.parent / unquote(parts.path)).resolve()
            if not (relative and target.is_relative_to(site) and target.exists()):
                bad.append(f"{page.relative_to(site)}: {url}")
    return bad


def fresh_clone_and_venv(tmp_path: Path, data: Path) -> tuple[Path, Path, dict]:
    """A clone of the committed HEAD (the workflow checks out the commit it runs for, not this
    work tree), an empty venv, and the environment a `run:` step gets: the venv's `pip`,
    `python` and `nnlab` first, no NNLAB_ or PYTHON variables of the test's."""
    clone, venv = tmp_path / "clone", tmp_path / "venv"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NNLAB_", "PYTHON", "VIRTUAL_ENV"))}  # fmt: skip
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
        VIRTUAL_ENV=str(venv),
        NNLAB_DATA_DIR=str(data),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return clone, venv, env


def replay(steps: list[dict], clone: Path, env: dict) -> list[str]:
    """Run the steps one after the other as GitHub's runner does; the lines they printed."""
    output = []
    for step in steps:
        # GitHub's default shell for `run:` on Linux: bash --noprofile --norc -eo pipefail.
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=clone, env=env | step["env"], capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, f"{step['run']}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        output += (done.stdout + done.stderr).splitlines()
    return output


def check_published(clone: Path, output: list[str]) -> None:
    """build/site as the deploy job would publish it: both editions and their PDFs, nothing
    flagged, nothing pointing outside the site."""
    # nnlab's warnings (a stale run) and notes (a part the report left out) start their lines.
    # A note means part of the report was left out; the cover's empty keys are the student's
    # to fill in (report.toml), not a missing part.
    flagged = [line for line in output if line.startswith(("warning:", "note:"))
               and not line.startswith("note: the cover leaves out")]  # fmt: skip
    assert not flagged, flagged
    site = (clone / "build" / "site").resolve()
    home = (site / "index.html").read_text()
    assert (site / "assets" / "screen.css").is_file()
    for lang in LANGS:
        assert f'href="{lang}/index.html"' in home and f'href="{lang}/report.{lang}.pdf"' in home
        page = (site / lang / "index.html").read_text()
        assert f'<html lang="{lang}"' in page
        assert (site / lang / "figures").is_dir() and any((site / lang / "figures").iterdir())
        pdf = site / lang / f"report.{lang}.pdf"
        assert pdf.read_bytes() == (clone / "build" / f"report.{lang}.pdf").read_bytes()
        assert len(PdfReader(pdf).pages) > 10
    assert outside_references(site) == []


@pytest.mark.slow
def test_pages_render_in_a_fresh_clone_and_base_venv(tmp_path):
    data = tmp_path / "data"
    data.mkdir()  # a runner has no dataset cache
    clone, venv, env = fresh_clone_and_venv(tmp_path, data)
    steps, left_out = split_steps(load(clone / PAGES.relative_to(REPO))["jobs"]["build"], {})
    print("left out (GitHub's actions, sudo/apt):", *left_out, sep="\n  ")
    output = replay(steps, clone, env)
    for module in ("tensorflow", "keras"):  # the base install renders without them
        probe = f"import importlib.util as u; assert u.find_spec('{module}') is None"
        found = subprocess.run([venv / "bin" / "python", "-c", probe], env=env)
        assert found.returncode == 0, f"{module} is importable in the base venv"
    assert not any(data.iterdir()), "the render fetched or cached a dataset"
    check_published(clone, output)


@pytest.mark.slow
def test_train_in_a_fresh_clone_trains_only_what_the_restored_store_lacks(
    tmp_path, quick_build, data_dir
):
    """train.yml's steps on the quick profile, after a cache restore that brought back an
    earlier start's store less one model's runs (the suite's quick build stands in for it, and
    its fixture data for the runner's download): those runs are trained, no other, then the
    site is rendered and the results frozen."""
    clone, _venv, env = fresh_clone_and_venv(tmp_path, data_dir)
    env["NNLAB_OFFLINE"] = "1"
    workflow = load(clone / TRAIN.relative_to(REPO))
    job = workflow["jobs"]["train"]
    (restore,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/restore@")]
    store = clone / restore["with"]["path"]
    shutil.copytree(quick_build / "runs", store)
    missing = store / "quick" / "boston-cnn"
    seeds = sorted(folder.name for folder in missing.iterdir())
    shutil.rmtree(missing)
    restored = {path: path.read_bytes() for path in store.rglob("run.json")}
    steps, left_out = split_steps(job, dispatch_inputs(workflow, profile="quick"))
    print("left out (GitHub's actions, sudo/apt):", *left_out, sep="\n  ")
    output = replay(steps, clone, env)
    # Only the missing runs were trained (a changed key would retrain more: the clone is the
    # committed HEAD, the quick build this work tree).
    assert f"{len(seeds)} run(s) trained; rendering" in output, output[-20:]
    assert [path for path, record in restored.items() if path.read_bytes() != record] == []
    assert sorted(f.name for f in missing.iterdir() if (f / "run.json").is_file()) == seeds
    frozen = clone / "results" / "quick"
    models = {folder.name for folder in (store / "quick").iterdir()}
    assert {f.parent.parent.name for f in frozen.glob("*/seed-*/run.json")} == models
    assert sorted(f.parent.name for f in frozen.glob("boston-cnn/seed-*/run.json")) == seeds
    assert any((clone / "results" / "experiments-quick").rglob("run.json"))
    check_published(clone, output)
