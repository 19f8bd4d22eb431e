"""The six built models: their parameter counts, and LSTMs that can take the cuDNN path."""

from __future__ import annotations

import pytest

from nnlab import models

# Parameter counts, from the layer shapes (MNIST CNN: 320 + 18,496 + 36,928 + 36,928 + 650). The
# IMDB CNN's Embedding holds the data's 10,000 words: 640,000 weights more than the notebook's
# 5,000-word table, which could not look up the ids from 5,000 on.
PARAMETERS = {
    "mnist-cnn": 93_322,
    "mnist-rnn": 127_690,
    "imdb-cnn": 1_854_209,
    "imdb-rnn": 1_822_977,
    "boston-cnn": 116_289,
    "boston-rnn": 724_481,
}


@pytest.fixture(scope="module")
def built():
    return {name: models.build(spec) for name, spec in models.SPECS.items()}


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_parameter_counts(built, name):
    assert built[name].count_params() == PARAMETERS[name]


@pytest.mark.parametrize("name", [name for name in PARAMETERS if name.endswith("-rnn")])
def test_lstm_layers_meet_the_cudnn_conditions(built, name):
    """On a GPU, Keras runs an LSTM with cuDNN only under these settings; otherwise it falls back
    to a step-by-step loop that is many times slower."""
    import keras

    lstms = [layer for layer in built[name].layers if isinstance(layer, keras.layers.LSTM)]
    assert lstms
    for layer in lstms:
        config = layer.get_config()
        assert config["activation"] == "tanh"
        assert config["recurrent_activation"] == "sigmoid"
        assert config["recurrent_dropout"] == 0
        assert config["unroll"] is False
        assert config["use_bias"] is True
        assert layer.use_cudnn in ("auto", True)
