"""nnlab: train and compare a CNN and an LSTM on three Keras datasets, and report on it."""

__version__ = "0.1.0"

import os

# TensorFlow's C++ logs (harmless graph warnings included) drown the progress lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
