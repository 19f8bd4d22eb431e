"""An LSTM run's matrix products timed alone, at their own shapes: the arithmetic part of an epoch.

On a CPU, TensorFlow runs an LSTM layer as a loop over the time steps. Each step multiplies
the batch by the input kernel and the previous output by the recurrent kernel (forward), and
the backward pass adds two products per kernel: the gradient for the step's inputs and the one
for the weights. Timing exactly those products here, outside the model, says how much of an
epoch is arithmetic at these (small) shapes and how much is everything else: the gate
activations, the loop and the dispatch of many small ops.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """One matrix product of a time step: (m × k) @ (k × n), operands possibly transposed."""

    m: int
    k: int
    n: int
    transpose_a: bool = False
    transpose_b: bool = False

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n


def step_products(spec, layers: list[dict], batch: int) -> list[tuple[str, int, Product]]:
    """(pass, time steps, product) for every LSTM product of one batch, as TensorFlow runs them.

    Forward: x @ W with x (batch × width), W (width × 4·units). Backward (MatMul's gradient):
    dz @ Wᵀ for the inputs and xᵀ @ dz for the weights.
    """
    products = []
    shape = [None, *spec.input_shape]
    for (kind, kwargs), layer in zip(spec.layers, layers, strict=True):
        if kind == "LSTM":
            gates, steps = 4 * kwargs["units"], shape[1]
            for width in (shape[-1], kwargs["units"]):  # input kernel, then recurrent kernel
                products += [
                    ("forward", steps, Product(batch, width, gates)),
                    ("backward", steps, Product(batch, gates, width, transpose_b=True)),
                    ("backward", steps, Product(width, batch, gates, transpose_a=True)),
                ]
        shape = layer["output_shape"]
    return products


def seconds_per_product(product: Product, budget_s: float = 0.1, repeats: int = 3) -> float:
    """Median wall time of one product, run many times in a compiled TensorFlow loop."""
    from nnlab.tfload import load_keras

    load_keras()  # TensorFlow without its start-up notices
    import tensorflow as tf

    a = tf.random.normal((product.k, product.m) if product.transpose_a else (product.m, product.k))
    b = tf.random.normal((product.n, product.k) if product.transpose_b else (product.k, product.n))

    @tf.function
    def run(count):
        total = tf.constant(0.0)
        for _ in tf.range(count):
            # Reading one element keeps every product alive without adding real work.
            out = tf.matmul(a, b, transpose_a=product.transpose_a, transpose_b=product.transpose_b)
            total += out[0, 0]
        return total

    def per_product(count: int) -> float:
        started = time.perf_counter()
        run(tf.constant(count))
        return (time.perf_counter() - started) / count

    per_product(8)  # trace and warm the caches
    count = max(8, int(budget_s / per_product(8)))  # about budget_s per timing, whatever the size
    return statistics.median(per_product(count) for _ in range(repeats))


def epoch_products(spec, layers: list[dict], sizes: dict, validation_batch: int, timer) -> dict:
    """Seconds and FLOPs of one epoch's LSTM products (fit batches forward and backward,
    validation forward), each product timed once by `timer`. Batches are counted as n / batch."""
    fit_batches = sizes["n_fit"] / sizes["batch_size"]
    val_batches = sizes["n_val"] / validation_batch
    work = [(fit_batches, item) for item in step_products(spec, layers, sizes["batch_size"])]
    work += [(val_batches, item) for item in step_products(spec, layers, validation_batch)
             if item[0] == "forward"]  # fmt: skip
    measured: dict[Product, float] = {}
    seconds = flop_count = 0.0
    for batches, (_, steps, product) in work:
        if product not in measured:
            measured[product] = timer(product)
        seconds += batches * steps * measured[product]
        flop_count += batches * steps * product.flops
    return {
        "seconds": seconds,
        "flops": flop_count,
        "flops_per_s": flop_count / seconds if seconds else None,
        "shapes_timed": len(measured),
    }
