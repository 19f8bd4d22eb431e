"""The six lab models as data (layer lists copied from the notebook), and one builder.

The only change to the notebook's architectures: the IMDB CNN's Embedding holds the data's
10,000 words (the notebook said 5,000, so ids >= 5,000 were out of range).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nnlab.errors import NnlabError

MNIST_SHAPE = (28, 28, 1)
IMDB_MAXLEN = 300
IMDB_VOCAB = 10_000
BOSTON_SHAPE = (13, 1)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    dataset: str
    kind: str  # "cnn" or "rnn"
    input_shape: tuple[int, ...]
    layers: tuple[tuple[str, dict], ...]  # (keras.layers class name, constructor arguments)
    loss: str
    metrics: tuple[str, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def _layers(*items) -> tuple[tuple[str, dict], ...]:
    return tuple((kind, dict(kwargs)) for kind, kwargs in items)


def _conv_stack(conv: str, pool: str, filters, kernel) -> list:
    stack = []
    for count in filters:
        stack += [(conv, {"filters": count, "kernel_size": kernel, "activation": "relu"})]
        stack += [(pool, {"pool_size": 2})]
    return stack


def _lstm_stack(units, dropout: float, dropout_after_last: bool) -> list:
    stack = []
    for position, count in enumerate(units):
        last = position == len(units) - 1
        stack.append(("LSTM", {"units": count, "return_sequences": not last}))
        if not last or dropout_after_last:
            stack.append(("Dropout", {"rate": dropout}))
    return stack


_RELU = {"activation": "relu"}

SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "mnist-cnn",
            "mnist",
            "cnn",
            MNIST_SHAPE,
            _layers(
                *_conv_stack("Conv2D", "MaxPooling2D", (32, 64), (3, 3)),
                ("Conv2D", {"filters": 64, "kernel_size": (3, 3), **_RELU}),
                ("Flatten", {}),
                ("Dense", {"units": 64, **_RELU}),
                ("Dense", {"units": 10, "activation": "softmax"}),
            ),
            "sparse_categorical_crossentropy",
            ("accuracy",),
        ),
        ModelSpec(
            "mnist-rnn",
            "mnist",
            "rnn",
            MNIST_SHAPE,
            _layers(
                ("Reshape", {"target_shape": (28, 28)}),
                *_lstm_stack((64, 64, 64, 64), 0.2, dropout_after_last=True),
                ("Dense", {"units": 64, **_RELU}),
                ("Dense", {"units": 10, "activation": "softmax"}),
            ),
            "sparse_categorical_crossentropy",
            ("accuracy",),
        ),
        ModelSpec(
            "imdb-cnn",
            "imdb",
            "cnn",
            (IMDB_MAXLEN,),
            _layers(
                ("Embedding", {"input_dim": IMDB_VOCAB, "output_dim": 128}),
                *_conv_stack("Conv1D", "MaxPooling1D", (128, 128, 128, 128), 5),
                ("Flatten", {}),
                ("Dense", {"units": 128, **_RELU}),
                ("Dropout", {"rate": 0.5}),
                ("Dense", {"units": 1, "activation": "sigmoid"}),
            ),
            "binary_crossentropy",
            ("accuracy",),
        ),
        ModelSpec(
            "imdb-rnn",
            "imdb",
            "rnn",
            (IMDB_MAXLEN,),
            _layers(
                ("Embedding", {"input_dim": IMDB_VOCAB, "output_dim": 128}),
                *_lstm_stack((128, 128, 128, 128), 0.5, dropout_after_last=False),
                ("Dense", {"units": 128, **_RELU}),
                ("Dense", {"units": 1, "activation": "sigmoid"}),
            ),
            "binary_crossentropy",
            ("accuracy",),
        ),
        ModelSpec(
            "boston-cnn",
            "boston",
            "cnn",
            BOSTON_SHAPE,
            _layers(
                ("Conv1D", {"filters": 64, "kernel_size": 2, **_RELU}),
                ("BatchNormalization", {}),
                ("MaxPooling1D", {"pool_size": 2}),
                ("Conv1D", {"filters": 128, "kernel_size": 2, **_RELU}),
                ("BatchNormalization", {}),
                ("MaxPooling1D", {"pool_size": 2}),
                ("Conv1D", {"filters": 256, "kernel_size": 2, **_RELU}),
                ("Flatten", {}),
                ("Dense", {"units": 128, **_RELU}),
                ("Dropout", {"rate": 0.5}),
                ("Dense", {"units": 1}),
            ),
            "mean_squared_error",
            ("mae",),
        ),
        ModelSpec(
            "boston-rnn",
            "boston",
            "rnn",
            BOSTON_SHAPE,
            _layers(
                ("LSTM", {"units": 64, "return_sequences": True}),
                ("Dropout", {"rate": 0.3}),
                ("BatchNormalization", {}),
                ("LSTM", {"units": 128, "return_sequences": True}),
                ("Dropout", {"rate": 0.3}),
                ("BatchNormalization", {}),
                ("LSTM", {"units": 256, "return_sequences": True}),
                ("Dropout", {"rate": 0.3}),
                ("LSTM", {"units": 128}),
                ("Dense", {"units": 128, **_RELU}),
                ("Dense", {"units": 1}),
            ),
            "mean_squared_error",
            ("mae",),
        ),
    )
}
MODEL_NAMES = tuple(SPECS)
KINDS = ("cnn", "rnn")


def select(dataset: str | None = None, kind: str | None = None) -> list[ModelSpec]:
    if kind is not None and kind not in KINDS:
        raise NnlabError(f"unknown model kind '{kind}' (choose from cnn, rnn)")
    return [
        spec
        for spec in SPECS.values()
        if (dataset is None or spec.dataset == dataset) and (kind is None or spec.kind == kind)
    ]


def build(spec: ModelSpec, learning_rate: float = 1e-3):
    """A compiled Keras model for `spec` (Adam, the notebook's loss and metric)."""
    from nnlab.tfload import load_keras

    keras = load_keras()

    model = keras.Sequential(name=spec.name.replace("-", "_"))
    model.add(keras.Input(shape=spec.input_shape))
    for kind, kwargs in spec.layers:
        model.add(getattr(keras.layers, kind)(**kwargs))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=spec.loss,
        metrics=list(spec.metrics),
    )
    return model


def describe(model) -> list[dict]:
    """Layer table from a built model: name, type, output shape, parameter count."""
    return [
        {
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": [None if d is None else int(d) for d in layer.output.shape],
            "params": int(layer.count_params()),
        }
        for layer in model.layers
    ]
