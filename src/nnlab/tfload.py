"""Importing TensorFlow and Keras without their start-up notices, and with every GPU set to
take its memory as it needs it.

TensorFlow's C++ code logs a oneDNN notice (twice) through Abseil before its own log level
(TF_CPP_MIN_LOG_LEVEL, set in nnlab/__init__.py) is read, so no setting silences it. The import
runs with the process's stderr captured; every other line is written back, so a real error
still shows.

By default TensorFlow reserves nearly all of a GPU's memory for the first process that touches
it; `set_memory_growth` makes it allocate as needed instead, so a report or benchmark beside a
training worker (or two workers on one GPU) does not fail for memory. It must run before any
operation initialises the GPUs: `load_keras` calls it right after the import, and every
training worker's initialiser calls it before setting its thread pools.
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
    set_memory_growth(tensorflow.config)
    return keras


def set_memory_growth(config=None) -> list:
    """Memory growth on for every GPU TensorFlow sees (`config`: tf.config, or a stand-in in
    tests); returns those GPUs (physical devices), empty on a CPU. Where the GPUs were already
    initialised (TensorFlow used before nnlab loaded it) the setting can no longer change and
    is left as it is."""
    if config is None:
        load_keras()
        import tensorflow as tf

        config = tf.config
    found = config.list_physical_devices("GPU")
    for gpu in found:
        try:
            config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # "Physical devices cannot be modified after being initialized"
            break
    return found
