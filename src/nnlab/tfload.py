"""Importing TensorFlow and Keras without their start-up notices.

TensorFlow's C++ code logs a oneDNN notice (twice) through Abseil before its own log level
(TF_CPP_MIN_LOG_LEVEL, set in nnlab/__init__.py) is read, so no setting silences it. The import
runs with the process's stderr captured; every other line is written back, so a real error
still shows.
"""

from __future__ import annotations

import os
import sys
import tempfile

_NOTICES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
)


def load_keras():
    """The keras module, TensorFlow imported behind it."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
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
