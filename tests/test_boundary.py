"""The seam between training and rendering: the report reads run files, never training code."""

from __future__ import annotations

import json
import subprocess
import sys

# Every module of nnlab.report imported in a fresh interpreter: what got loaded with them.
PROBE = """
import importlib, json, pkgutil, sys
import nnlab.report
for module in pkgutil.walk_packages(nnlab.report.__path__, "nnlab.report."):
    importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""
TRAINING = {"nnlab.training", "nnlab.experiments.train", "nnlab.tfload", "nnlab.parallel"}


def test_rendering_imports_no_tensorflow_and_no_training_code():
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        ).stdout
    )
    assert "nnlab.report.render" in loaded and "nnlab.report.views" in loaded
    assert not [name for name in loaded if name.split(".")[0] in ("tensorflow", "keras")]
    assert not TRAINING & set(loaded)
