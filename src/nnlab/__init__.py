"""nnlab: train and compare a CNN and an LSTM on three Keras datasets, and report on it."""

__version__ = "0.1.0"
