"""The Pages workflow's render is the one tested: its own steps, read from pages.yml.

The slow test runs the build job's `run:` steps in a fresh clone of the committed HEAD, with a
fresh virtual environment (no system site-packages: the base install, no TensorFlow) and an
empty data cache, and checks build/site as the deploy job would publish it. Two kinds of step
are left out, as they cannot run here: GitHub's own actions (`uses:` — checkout is the clone,
setup-python is the venv made from the Python running the tests; upload and deploy are
GitHub's) and steps needing sudo/apt (the system packages, which `make setup` installed here
from scripts/system-deps.sh: the fast test checks the workflow asks for no package that list
lacks). Its `pip install` reads the package index as the workflow's does (the wheels come from
pip's cache after `make setup`), so it needs the index that `make extras` needs.
"""

from __future__ import annotations

import os
import re
import shlex
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

WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"
LANGS = ("vi", "en")
# Step keys this test knows how to honour; any other (if:, shell:, working-directory:, …) fails
# the test rather than being silently ignored.
STEP_KEYS = {"name", "id", "run", "uses", "with"}


def build_job() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]


def split_steps(job: dict) -> tuple[list[dict], list[str]]:
    """The steps to run here, and a line for each one left out (with why)."""
    run, left_out = [], []
    for step in job["steps"]:
        unknown = set(step) - STEP_KEYS
        assert not unknown, f"pages.yml step {step} uses {unknown}: teach this test about them"
        if "uses" in step:
            left_out.append(f"{step['uses']}: a GitHub action")
        elif re.search(r"\b(sudo|apt-get|apt)\b", step["run"]):
            left_out.append(f"{step.get('name', step['run'])}: needs sudo/apt")
        else:
            assert "${{" not in step["run"], f"an expression this test cannot evaluate: {step}"
            run.append(step)
    return run, left_out


def test_workflow_python_and_system_packages_match_the_project():
    job = build_job()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    minimum = re.fullmatch(r">=\s*([\d.]+)", pyproject["project"]["requires-python"]).group(1)
    setup = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert [str(s["with"]["python-version"]) for s in setup] == [minimum]
    apt = " ".join(s["run"] for s in job["steps"] if "apt-get install" in s.get("run", ""))
    wanted = {w for w in shlex.split(apt.split("apt-get install", 1)[1]) if not w.startswith("-")}
    system_deps = (REPO / "scripts" / "system-deps.sh").read_text()
    listed = set(re.search(r"packages=\(([^)]*)\)", system_deps).group(1).split())
    assert wanted and wanted <= listed, wanted - listed  # this machine has what the runner gets
    run, left_out = split_steps(job)
    assert [s["run"].split()[:2] for s in run] == [["pip", "install"], ["nnlab", "report"]]
    assert len(left_out) == 4, left_out  # checkout, setup-python, apt, upload-pages-artifact


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


@pytest.mark.slow
def test_pages_render_in_a_fresh_clone_and_base_venv(tmp_path):
    clone, venv, data = tmp_path / "clone", tmp_path / "venv", tmp_path / "data"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    # The workflow checks out the commit it runs for: the committed HEAD, not this work tree.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    data.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NNLAB_", "PYTHON", "VIRTUAL_ENV"))}  # fmt: skip
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",  # `pip`, `python`, `nnlab`: the venv's
        VIRTUAL_ENV=str(venv),
        NNLAB_DATA_DIR=str(data),  # a runner has no dataset cache
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    steps, left_out = split_steps(yaml.safe_load((clone / WORKFLOW.relative_to(REPO)).read_text())
                                  ["jobs"]["build"])  # fmt: skip
    print("left out (GitHub's actions, sudo/apt):", *left_out, sep="\n  ")
    output = []
    for step in steps:
        # GitHub's default shell for `run:` on Linux: bash --noprofile --norc -eo pipefail.
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=clone, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, f"{step['run']}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        output += (done.stdout + done.stderr).splitlines()
    python = venv / "bin" / "python"
    for module in ("tensorflow", "keras"):  # the base install renders without them
        probe = f"import importlib.util as u; assert u.find_spec('{module}') is None"
        found = subprocess.run([python, "-c", probe], env=env)
        assert found.returncode == 0, f"{module} is importable in the base venv"
    # nnlab's warnings (a stale run) and notes (a part the report left out) start their lines.
    # A note means part of the report was left out; the cover's empty keys are the student's
    # to fill in (report.toml), not a missing part.
    flagged = [line for line in output if line.startswith(("warning:", "note:"))
               and not line.startswith("note: the cover leaves out")]  # fmt: skip
    assert not flagged, flagged
    assert not any(data.iterdir()), "the render fetched or cached a dataset"
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
