"""Importing TensorFlow and Keras without their start-up notices.

TensorFlow's C++ code logs a oneDNN notice (twice) through Abseil before its own log level
(TF_CPP_MIN_LOG_LEVEL, set in nnlab/__init__.py) is read, so no setting silences it. The import
runs with the process's stderr captured; every other line is written back, so a real error
still shows.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile

from nnlab.errors import NnlabError

_NOTICES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
)


INSTALL_HINT = (
    "TensorFlow is not installed (the base install only renders reports); install it with: "
    "pip install -e '.[cpu]' (or '.[gpu]' on a machine with an NVIDIA GPU), or run: make setup"
)


def require_tensorflow() -> None:
    """One line naming the install command when TensorFlow or Keras is missing (checked
    without importing them)."""
    for name in ("tensorflow", "keras"):
        try:
            found = importlib.util.find_spec(name)
        except ValueError:  # blocked in sys.modules
            found = None
        if found is None:
            raise NnlabError(INSTALL_HINT)


def load_keras():
    """The keras module, TensorFlow imported behind it."""
    if sys.modules.get("keras") is not None:
        return sys.modules["keras"]
    require_tensorflow()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not any(notice in line for notice in _NOTICES):
                    sys.stderr.write(line)
    # TensorFlow's retracing warnings count calls across every model of the process: training
    # six models in one process trips them without anything being slow or wrong.
    tensorflow.get_logger().setLevel("ERROR")
    return keras
