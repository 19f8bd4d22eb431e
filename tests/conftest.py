"""Shared fixtures: a data cache built from the committed real-data fixtures, and quick builds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnlab import data
from nnlab.data import boston, cache, imdb, mnist

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
# One quick Boston CNN run (one seed): the cheapest real training, for the fault tests.
TRAIN_BOSTON_CNN = ["train", "--profile", "quick", "--quiet", "--seeds", "1", "--dataset",
                    "boston", "--model", "cnn"]  # fmt: skip


def make_fixture_cache(root: Path) -> Path:
    """Convert the fixture files exactly as the real archives are converted, then cache them."""
    converted = {
        "mnist": mnist.from_folder(FIXTURES / "mnist"),
        "imdb": imdb.from_reviews(json.loads((FIXTURES / "imdb" / "reviews.json").read_text())),
        "boston": boston.from_csv_text((FIXTURES / "boston_house_prices.csv").read_text()),
    }
    for name, arrays in converted.items():
        meta = {"source": f"test fixture {name}", "archive_sha256": "-"}
        cache.store(name, arrays, meta, root, data.converter_version(name))
    return root


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return make_fixture_cache(tmp_path_factory.mktemp("data"))


def nnlab_env(data_dir: Path, build: Path) -> dict:
    env = dict(os.environ)
    env.update(
        NNLAB_DATA_DIR=str(data_dir),
        NNLAB_BUILD_DIR=str(build),
        NNLAB_OFFLINE="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_nnlab(
    args: list[str], data_dir: Path, build: Path, **kwargs
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnlab", *args],
        cwd=kwargs.pop("cwd", REPO),
        env=nnlab_env(data_dir, build),
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 900),
        **kwargs,
    )


@pytest.fixture(scope="session")
def quick_build(tmp_path_factory, data_dir) -> Path:
    """The smoke build, shared by the end-to-end tests: `nnlab build --profile quick`, every
    stage (the six models on two seeds each, the experiments' trials, the measurements) and
    both editions, HTML and PDF."""
    build = tmp_path_factory.mktemp("build")
    result = run_nnlab(["build", "--profile", "quick", "--quiet"], data_dir, build)
    assert result.returncode == 0, result.stderr[-3000:]
    return build


@pytest.fixture(scope="session")
def rendered(quick_build) -> Path:
    """The quick build, for the tests that read its report (both editions, HTML and PDF)."""
    return quick_build


@pytest.fixture
def isolated(monkeypatch, tmp_path, data_dir):
    """For a command run in this process: the fixture data, a throwaway build folder, no
    network, and no report/report.toml (the working folder is the test's own)."""
    monkeypatch.setenv("NNLAB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NNLAB_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)


def copy_build(build: Path, target: Path) -> Path:
    """A test's own copy of a shared build, for a test that writes into it: the shared
    fixtures stay as every other test expects them, whatever order the tests run in."""
    shutil.copytree(build, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


@pytest.fixture(autouse=True)
def no_network(request, monkeypatch):
    """Tests reach no network unless marked `network` (subprocesses run with NNLAB_OFFLINE=1
    on the fixture cache, so they never fetch); this machine's loopback stays open (a test's
    own Dask cluster: test_cluster.py)."""
    if request.node.get_closest_marker("network"):
        return
    import socket

    real_connect = socket.socket.connect

    def guarded(self, address):
        loopback = address[0] in ("127.0.0.1", "::1", "localhost")
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback:
            raise OSError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


# A student's note holding every active thing one could write in Markdown: raw <script>,
# handlers, a javascript: link, a frame, a form, a meta refresh, styles, and an attr_list
# handler (no raw HTML needed), beside plain prose, a table and a picture of its own.
HOSTILE_NOTE = """A remark with a [link](https://example.org/) and a picture of its own:

![my own chart](chart.png)

<script>document.title = "script ran"</script>
<img alt="again" src="chart.png" onerror="document.title='onerror ran'" onload="document.title='onload ran'">
[a trap](javascript:document.title=1)
<iframe src="https://example.net/frame"></iframe>
<form action="https://example.net/form"><input name="q"><button>Send</button></form>
<meta http-equiv="refresh" content="0; url=https://example.net/refresh">
<style>main { display: none }</style>
<p style="position: fixed">styled</p>

| model | accuracy |
|---|---|
| CNN | 0.99 |

Hover me
{: onmouseover="document.title='hover ran'" #contents }
"""  # noqa: E501
# A cover logo that runs script when opened at its own URL, and fetches from outside.
HOSTILE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
 width="120" height="60" onload="document.title='logo ran'">
<script>document.title = 'logo script ran'</script>
<rect width="120" height="60" fill="#234"/>
<a xlink:href="javascript:document.title=1"><text x="10" y="35" fill="#fff">HV</text></a>
<image href="https://example.net/track.png" width="1" height="1"/>
<foreignObject width="9" height="9"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
</svg>
"""
NOTE_PICTURE = (37, 23)  # the note's picture's size, unlike any chart's, to find it in the PDF


def hostile_project(root: Path) -> Path:
    """A project folder (its templates, prose and catalogs) whose English MNIST note is
    HOSTILE_NOTE, with its picture, and whose report.toml names HOSTILE_SVG as the logo."""
    from PIL import Image

    project = root / "project"
    shutil.copytree(REPO / "templates", project / "templates")
    for folder in ("content", "locale"):
        shutil.copytree(REPO / "report" / folder, project / "report" / folder)
    shutil.copyfile(REPO / "report" / "references.toml", project / "report" / "references.toml")
    notes = project / "report" / "notes" / "en"
    notes.mkdir(parents=True)
    (notes / "mnist.md").write_text(HOSTILE_NOTE, encoding="utf-8")
    Image.new("RGB", NOTE_PICTURE, (200, 40, 40)).save(notes / "chart.png")
    (project / "logo.svg").write_text(HOSTILE_SVG, encoding="utf-8")
    (project / "report" / "report.toml").write_text('[report]\nlogo = "logo.svg"\n', "utf-8")
    return project


@pytest.fixture(scope="session")
def hostile_render(rendered, data_dir, tmp_path_factory) -> Path:
    """A copy of the quick build with its English edition (HTML and PDF) rendered again from
    hostile_project: the build folder."""
    root = tmp_path_factory.mktemp("hostile")
    project = hostile_project(root)
    build = copy_build(rendered, root / "build")
    result = run_nnlab(["report", "--profile", "quick", "--lang", "en"], data_dir, build,
                       cwd=project)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return build
