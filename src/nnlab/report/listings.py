"""Each model as the Keras code a student would write in the notebook, generated from its spec.

The listing is produced from `nnlab.models.ModelSpec` (the same data `models.build` reads), so
the code shown in the report cannot drift from the model that was trained. No TensorFlow is
needed here: the source is text, highlighted with Pygments into CSS classes only (no inline
styles, no line-number tables), with `stylesheet()` giving the token colours for `.listing`.
"""

from __future__ import annotations

from markupsafe import Markup
from pygments import highlight as _pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from nnlab.models import ModelSpec

MAX_LINE = 88
INDENT = "    "
HEADER = "import keras\nfrom keras import layers\n"
# The one built-in light style whose token colours all reach 4.5:1 contrast on the listing's
# #f5f7fa background (WCAG AA; axe checks it).
STYLE = "xcode"

# Which constructor arguments Keras users write positionally, in order. Only the longest
# leading run present in a layer's kwargs goes positional (filters without kernel_size would,
# kernel_size without filters would not); everything else is written as a keyword.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "Conv1D": ("filters", "kernel_size"),
    "Conv2D": ("filters", "kernel_size"),
    "Dense": ("units",),
    "LSTM": ("units",),
    "Dropout": ("rate",),
    "MaxPooling1D": ("pool_size",),
    "MaxPooling2D": ("pool_size",),
    "Reshape": ("target_shape",),
}

# Layers whose weights transform the features: kernels, recurrent matrices, embedding tables.
# These are what "at least 5 layers" counts. BatchNormalization also holds weights (a scale and
# a shift per channel, plus running statistics) but is counted apart, as "normalization", so
# the requirement is never met by counting it; every lab model meets it without.
WEIGHTED_PREFIXES = ("Conv",)
WEIGHTED = frozenset({"Dense", "LSTM", "GRU", "SimpleRNN", "Embedding"})
NORMALIZATION = frozenset({"BatchNormalization", "LayerNormalization"})


def literal(value) -> str:
    """`value` as Python source: strings in double quotes, tuples as tuples, floats shortest."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        if '"' not in value and "\\" not in text:
            text = '"' + text[1:-1] + '"'
        return text
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(float(value))  # shortest round-trip form: 0.001, 0.5, 1e-05
    if isinstance(value, tuple):
        items = [literal(item) for item in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    # numpy scalars and the like
    if hasattr(value, "item"):
        return literal(value.item())
    raise TypeError(f"cannot write {type(value).__name__} as a Python literal: {value!r}")


def _arguments(kind: str, kwargs: dict) -> list[str]:
    positional = []
    for key in POSITIONAL.get(kind, ()):
        if key not in kwargs:
            break
        positional.append(key)
    args = [literal(kwargs[key]) for key in positional]
    args += [f"{key}={literal(value)}" for key, value in kwargs.items() if key not in positional]
    return args


def _call(prefix: str, args: list[str], indent: str, suffix: str = "") -> list[str]:
    """`prefix(args)suffix` on one line when it fits, else one argument a line (trailing comma)."""
    line = f"{indent}{prefix}({', '.join(args)}){suffix}"
    if len(line) <= MAX_LINE or not args:
        return [line]
    inner = indent + INDENT
    return [f"{indent}{prefix}(", *(f"{inner}{arg}," for arg in args), f"{indent}){suffix}"]


def keras_source(spec: ModelSpec, learning_rate: float) -> str:
    """The notebook code that builds and compiles `spec`: a Sequential model with an Input,
    then `model.compile` with Adam at `learning_rate`, the spec's loss and metrics."""
    lines = [HEADER, "model = keras.Sequential(["]
    lines += _call("keras.Input", [f"shape={literal(tuple(spec.input_shape))}"], INDENT, ",")
    for kind, kwargs in spec.layers:
        lines += _call(f"layers.{kind}", _arguments(kind, kwargs), INDENT, ",")
    lines.append("])")
    optimizer = f"keras.optimizers.Adam(learning_rate={literal(float(learning_rate))})"
    compile_args = [
        f"optimizer={optimizer}",
        f"loss={literal(spec.loss)}",
        f"metrics={literal(list(spec.metrics))}",
    ]
    lines += _call("model.compile", compile_args, "")
    return "\n".join(lines) + "\n"


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(style=STYLE, cssclass="listing", nobackground=True)


def highlight(source: str) -> Markup:
    """`<div class="listing"><pre>…</pre></div>` with token spans (CSS classes, no styles)."""
    html = _pygments_highlight(source, PythonLexer(), _formatter())
    # A long line scrolls inside the block on a phone: keyboard users must reach it too.
    return Markup(html.replace("<pre>", '<pre tabindex="0">', 1))


def stylesheet() -> str:
    """Pygments' token colours scoped to `.listing`. Its line-number rules are left out: one
    of them (`pre { line-height }`) is unscoped and would restyle every <pre> of the page."""
    formatter = _formatter()
    rules = formatter.get_background_style_defs(".listing")
    rules += formatter.get_token_style_defs(".listing")
    return "\n".join(rules) + "\n"


def has_weights(kind: str) -> bool:
    """Whether a layer class is one that "at least 5 layers" counts (see WEIGHTED)."""
    return kind in WEIGHTED or kind.startswith(WEIGHTED_PREFIXES)


def layer_count(spec: ModelSpec) -> dict:
    """How the "at least 5 layers" requirement is met, from the spec alone (the Input is not
    a layer): `weighted` counts Conv*, Dense, LSTM (and other RNN) and Embedding layers;
    `normalization` counts BatchNormalization apart (it has weights, but is not counted toward
    the requirement); `total` counts every layer, pooling, dropout, reshape and flatten too;
    `weighted_kinds` names the counted layers' classes."""
    kinds = [kind for kind, _ in spec.layers]
    return {
        "weighted": sum(has_weights(kind) for kind in kinds),
        "normalization": sum(kind in NORMALIZATION for kind in kinds),
        "total": len(kinds),
        # the counted layers' classes, in order of first use, e.g. ["Conv2D", "Dense"]
        "weighted_kinds": list(dict.fromkeys(kind for kind in kinds if has_weights(kind))),
    }
