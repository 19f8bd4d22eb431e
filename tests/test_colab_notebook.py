"""notebooks/colab.ipynb, run here as Colab runs it, less the cells only Colab can run.

The cells tagged `colab-only` (the clone, Google Drive, the installs) are removed; the kernel
starts in a fresh clone of the committed HEAD (as the clone cell leaves it), with nnlab as the
test suite has it and the fixture data. New parameters are put in a cell after the parameters
cell, as papermill does: the quick profile, and a copy of the suite's quick build as BUILD_DIR,
so the notebook's `nnlab build` finds every run done and only renders.
"""

from __future__ import annotations

import ast
import base64
import io
import re
import shlex
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, copy_build
from nbclient import NotebookClient
from PIL import Image

NOTEBOOK = REPO / "notebooks" / "colab.ipynb"
README = REPO / "README.md"
COLAB_ONLY = "colab-only"
PARAMETERS = {"REPO_URL", "PROFILE", "SEEDS", "BUILD_DIR"}


def tagged(notebook, tag: str) -> list:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


def readme_zip_contents() -> list[str]:
    """The paths the README says the notebook's zip holds."""
    text = " ".join(README.read_text().split())
    said = re.search(r"`nnlab-report\.zip` holds (.*?) \(", text)
    assert said, "the README no longer says what nnlab-report.zip holds"
    return re.findall(r"`([^`]+)`", said.group(1))


def test_the_notebook_has_one_parameters_cell_and_tags_what_only_colab_can_run():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    (parameters,) = tagged(notebook, "parameters")
    assigned = {target.id for node in ast.parse(parameters.source).body for target in node.targets}
    assert assigned == PARAMETERS
    # Every other cell reads them, never sets them.
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell is not parameters:
            names = {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)
                     and isinstance(n.ctx, ast.Store)}  # fmt: skip
            assert not names & PARAMETERS, cell.source
    colab_only = " ".join(cell.source for cell in tagged(notebook, COLAB_ONLY))
    for step in ('"git", "clone"', "drive.mount", '"pip", "install"', ".[gpu]", "apt-get install"):
        assert step in colab_only
    # The system packages are the Debian list's (what `make setup` installs here).
    (apt,) = [
        node.value.split("apt-get install", 1)[1]
        for cell in tagged(notebook, COLAB_ONLY)
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.Constant) and "apt-get install" in str(node.value)
    ]
    wanted = {w for w in shlex.split(apt) if not w.startswith("-")}
    listed = set(
        re.search(r"packages=\(([^)]*)\)", (REPO / "scripts/system-deps.sh").read_text())
        .group(1)
        .split()
    )
    assert "libpango-1.0-0" in wanted and wanted <= listed, wanted - listed
    assert "colab.research.google.com/github/" in README.read_text()
    assert f"blob/main/{NOTEBOOK.relative_to(REPO)}" in README.read_text()


@pytest.mark.slow
def test_the_notebook_builds_and_zips_what_the_readme_says(
    tmp_path, monkeypatch, quick_build, data_dir
):
    clone, build = tmp_path / "clone", copy_build(quick_build, tmp_path / "build")
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (parameters,) = tagged(notebook, "parameters")
    notebook.cells = [c for c in notebook.cells if COLAB_ONLY not in c.metadata.get("tags", [])]
    injected = nbformat.v4.new_code_cell(f'PROFILE = "quick"\nBUILD_DIR = "{build}"')
    notebook.cells.insert(notebook.cells.index(parameters) + 1, injected)
    for name, value in {"NNLAB_DATA_DIR": str(data_dir), "NNLAB_OFFLINE": "1",
                        "TF_CPP_MIN_LOG_LEVEL": "3"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NNLAB_BUILD_DIR", raising=False)  # the notebook sets it from BUILD_DIR
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(clone)}}
    ).execute()

    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "0 run(s) trained; rendering" in printed  # the progress lines reach the notebook
    assert "report written:" in printed and "run(s) frozen into results" in printed
    images = [
        output["data"]["image/png"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == 1, "the Vietnamese PDF's first page is shown once"
    page = Image.open(io.BytesIO(base64.b64decode(images[0])))
    assert page.height > page.width > 500  # an A4 page, portrait, at a readable size

    archive = build / "nnlab-report.zip"
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        said = readme_zip_contents()
        assert sorted(said) == sorted(
            ["build/site/", "build/report.vi.pdf", "build/report.en.pdf", "results/"]
        )
        for path in said:
            assert any(name == path or name.startswith(path) for name in names), path
        assert all(any(name == p or name.startswith(p) for p in said) for name in names)
        for lang in ("vi", "en"):
            pdf = zipped.read(f"build/report.{lang}.pdf")
            assert pdf == (build / f"report.{lang}.pdf").read_bytes()
            assert f"build/site/{lang}/index.html" in names
        frozen = {Path(n).parts[2] for n in names if re.match(r"results/quick/[^/]+/seed-\d+/", n)}
        assert frozen == {folder.name for folder in (build / "runs" / "quick").iterdir()}
        assert any(name.startswith("results/full/") for name in names)  # the committed runs
    assert not list(build.glob("*.partial"))
