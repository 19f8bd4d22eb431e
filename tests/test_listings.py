"""The report's Keras listings: generated from the specs, they build the very models that train."""

from __future__ import annotations

import re

import pytest

from nnlab import models
from nnlab.report import listings

LEARNING_RATE = 5e-4


@pytest.fixture(scope="module")
def keras():
    from nnlab.tfload import load_keras

    return load_keras()


def _config(layer) -> dict:
    config = dict(layer.get_config())
    config.pop("name", None)
    return config


@pytest.mark.parametrize("name", list(models.SPECS))
def test_generated_source_builds_the_same_model(keras, name):
    spec = models.SPECS[name]
    source = listings.keras_source(spec, LEARNING_RATE)
    namespace: dict = {}
    exec(compile(source, f"<listing {name}>", "exec"), namespace)
    listed = namespace["model"]
    built = models.build(spec, LEARNING_RATE)

    assert listed.count_params() == built.count_params()
    assert [type(layer).__name__ for layer in listed.layers] == [kind for kind, _ in spec.layers]
    assert [type(layer).__name__ for layer in listed.layers] == [
        type(layer).__name__ for layer in built.layers
    ]
    # Not only the shapes: every constructor argument (activation, return_sequences, rate...).
    for mine, theirs in zip(listed.layers, built.layers, strict=True):
        assert _config(mine) == _config(theirs)
    assert float(listed.optimizer.learning_rate) == pytest.approx(LEARNING_RATE)
    assert listed.loss == spec.loss


@pytest.mark.parametrize("name", list(models.SPECS))
def test_source_reads_like_notebook_code(name):
    source = listings.keras_source(models.SPECS[name], 1e-3)
    assert source.startswith("import keras\nfrom keras import layers\n")
    assert all(len(line) <= 88 for line in source.splitlines())
    assert "learning_rate=0.001)" in source
    assert "layers.Dense(" in source
    compile(source, name, "exec")


def test_arguments_positional_where_keras_users_write_them():
    source = listings.keras_source(models.SPECS["mnist-cnn"], 1e-3)
    assert "    keras.Input(shape=(28, 28, 1)),\n" in source
    assert '    layers.Conv2D(32, (3, 3), activation="relu"),\n' in source
    assert "    layers.MaxPooling2D(2),\n" in source
    assert "    layers.Flatten(),\n" in source
    assert '    layers.Dense(10, activation="softmax"),\n' in source
    rnn = listings.keras_source(models.SPECS["mnist-rnn"], 1e-3)
    assert "layers.Reshape((28, 28))," in rnn
    assert "layers.Dropout(0.2)," in rnn
    imdb = listings.keras_source(models.SPECS["imdb-cnn"], 1e-3)
    assert "keras.Input(shape=(300,))," in imdb
    assert "layers.Embedding(input_dim=10000, output_dim=128)," in imdb


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.001, "0.001"),
        (1e-05, "1e-05"),
        (0.5, "0.5"),
        (True, "True"),
        (None, "None"),
        (3, "3"),
        ((3, 3), "(3, 3)"),
        ((300,), "(300,)"),
        ("relu", '"relu"'),
        ('say "hi"', "'say \"hi\"'"),
        (["mae"], '["mae"]'),
        ({"a": 1}, '{"a": 1}'),
    ],
)
def test_literal(value, text):
    assert listings.literal(value) == text
    assert eval(text) == value


def test_long_calls_wrap_one_argument_a_line():
    spec = models.ModelSpec(
        "wide", "mnist", "cnn", (28, 28, 1),
        (("Conv2D", {"filters": 8, "kernel_size": (3, 3), "activation": "relu",
                     "padding": "same", "kernel_initializer": "glorot_uniform",
                     "bias_initializer": "zeros"}),),
        "mean_squared_error", ("mae",),
    )  # fmt: skip
    source = listings.keras_source(spec, 0.01)
    assert all(len(line) <= 88 for line in source.splitlines())
    assert "    layers.Conv2D(\n        8,\n        (3, 3),\n" in source
    assert '        bias_initializer="zeros",\n    ),\n])\n' in source
    compile(source, "wide", "exec")


def test_highlight_uses_css_classes_only():
    html = listings.highlight(listings.keras_source(models.SPECS["boston-rnn"], 1e-3))
    assert html.startswith('<div class="listing"><pre tabindex="0">')
    assert re.search(r'<span class="(kn|nn|n|mi|mf|s2|o|p)">', html)
    assert "style=" not in html
    assert "<table" not in html and "linenos" not in html
    assert html.__html__() is not None  # Markup: Jinja will not escape it again


def test_stylesheet_is_scoped_to_listings():
    css = listings.stylesheet()
    assert ".listing .k {" in css
    rules = [line for line in css.splitlines() if "{" in line]
    assert rules and all(rule.startswith(".listing") for rule in rules)


def test_layer_count_mnist_cnn_by_hand():
    # Conv2D, MaxPooling2D, Conv2D, MaxPooling2D, Conv2D, Flatten, Dense, Dense:
    # 8 layers; the 3 Conv2D and 2 Dense have weights.
    count = listings.layer_count(models.SPECS["mnist-cnn"])
    assert count == {"weighted": 5, "normalization": 0, "total": 8,
                     "weighted_kinds": ["Conv2D", "Dense"]}  # fmt: skip


def test_layer_count_boston_cnn_by_hand():
    # Conv1D, BN, Pool, Conv1D, BN, Pool, Conv1D, Flatten, Dense, Dropout, Dense: 11 layers;
    # 3 Conv1D + 2 Dense = 5 counted, the 2 BatchNormalization apart.
    count = listings.layer_count(models.SPECS["boston-cnn"])
    assert count == {"weighted": 5, "normalization": 2, "total": 11,
                     "weighted_kinds": ["Conv1D", "Dense"]}  # fmt: skip


@pytest.mark.parametrize("name", list(models.SPECS))
def test_layer_count_agrees_with_keras_and_meets_the_requirement(keras, name):
    spec = models.SPECS[name]
    count = listings.layer_count(spec)
    built = models.build(spec)
    assert count["total"] == len(built.layers)
    with_params = [type(layer).__name__ for layer in built.layers if layer.count_params() > 0]
    assert len(with_params) == count["weighted"] + count["normalization"]
    assert count["weighted"] >= 5
