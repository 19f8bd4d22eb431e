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
