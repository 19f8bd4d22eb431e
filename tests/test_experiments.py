"""The theory experiments: their rules on synthetic histories (checked against Keras itself
where Keras has the rule), the gradient probe on a model whose decay is known, and the
sentences the report builds from them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlab.experiments import design, lessons


class _FakeModel:
    """What Keras's EarlyStopping touches: a stop flag and weights (here: the epoch number)."""

    def __init__(self):
        self.stop_training = False
        self.epoch = 0
        self.restored = None
        self.metrics = []

    def get_weights(self):
        return [self.epoch]

    def set_weights(self, weights):
        self.restored = weights[0]


def keras_early_stopping(val_losses: list[float], patience: int) -> dict | None:
    """Drive the lab's real callback over a validation curve, epoch by epoch."""
    from nnlab.tfload import load_keras

    keras = load_keras()
    callback = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    model = _FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    stopped = None
    for epoch, value in enumerate(val_losses):
        model.epoch = epoch + 1
        callback.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            stopped = epoch + 1
            break
    callback.on_train_end()
    return None if stopped is None else {"stop": stopped, "kept": model.restored}


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(st.integers(1, 12).map(float), min_size=1, max_size=40),
    st.integers(1, 6),
)
def test_replayed_early_stopping_stops_and_keeps_what_keras_does(losses, patience):
    expected = keras_early_stopping(losses, patience)
    found = lessons.early_stop(losses, patience)
    if expected is None:
        assert found is None
    else:
        assert (found["stop"], found["kept"]) == (expected["stop"], expected["kept"])
        assert found["kept_loss"] == losses[found["kept"] - 1]


def test_a_validation_loss_that_turns_up_is_found_with_its_epoch():
    """A U-shaped validation loss under epoch-to-epoch noise turns up around its minimum; the
    same noise around a flat loss does not, however far its last epoch sits from its lowest."""
    rng = np.random.default_rng(0)
    epochs = np.arange(300)
    noise = rng.normal(0, 1.5, 300)
    train = 40 * np.exp(-epochs / 40) + 3
    u_shaped = 8 + 30 * np.exp(-epochs / 30) + 0.0002 * (epochs - 150).clip(0) ** 2 + noise
    found = lessons.turn_up({"val_loss": u_shaped, "loss": train})
    assert found["turned_up"] and found["window"] == lessons.SMOOTHING
    assert 120 <= found["best"] <= 190
    assert found["train_final"] < found["train_at_best"]
    flat = 8 + noise
    assert flat[-1] > 1.3 * flat.min()  # the single epochs differ by far more than 5 %
    assert not lessons.turn_up({"val_loss": flat, "loss": train})["turned_up"]


def test_gradient_decay_counts_the_steps_back_to_one_percent():
    norms = 0.5 ** np.arange(20)[::-1]  # the last step 1, each step back halves it
    found = lessons.gradient_decay(norms)
    assert found["vanished_after"] == 7  # 0.5**7 = 0.0078 is the first below 1 %
    assert found["first_share"] == pytest.approx(0.5**19)
    assert lessons.gradient_decay(np.ones(5))["vanished_after"] is None


def test_the_gradient_probe_measures_a_known_geometric_decay():
    """A linear SimpleRNN whose state is halved each step: the loss depends on the input t
    steps before the end with weight 0.5**t, so its gradient there is exactly that."""
    from nnlab.experiments.train import input_gradient_norms
    from nnlab.tfload import load_keras

    keras = load_keras()
    steps = 12
    cell = keras.layers.SimpleRNN(
        1,
        activation="linear",
        use_bias=False,
        kernel_initializer="ones",
        recurrent_initializer=keras.initializers.Constant(0.5),
    )
    inputs = np.random.default_rng(0).normal(size=(3, steps, 1)).astype("float32")
    norms = input_gradient_norms([cell], inputs, None, lambda y, outputs: outputs * 3)
    expected = 0.5 ** np.arange(steps)[::-1]
    np.testing.assert_allclose(norms, expected, rtol=1e-5)


def _run(seed, kind, val, test, task_key="accuracy", patience=None, best=None):
    history = {f"val_{task_key}": val, "val_loss": val}
    settings = {"patience": patience}
    record = {"seed": seed, "inputs": {"params": {"settings": settings}}, "best_epoch": best}
    return SimpleNamespace(history=history, record=record, metrics={task_key: test},
                           settings=settings)  # fmt: skip


def test_validation_against_test_reads_the_kept_epoch_and_ranks_the_pick():
    repeats = {
        # early stopping kept epoch 2 (0.90); the last epoch (0.99) is not what was kept
        "cnn": [_run(42, "cnn", [0.80, 0.90, 0.99], 0.86, patience=2, best=2)],
        "rnn": [
            _run(42, "rnn", [0.85, 0.95], 0.80, patience=2, best=2),
            _run(43, "rnn", [0.70, 0.88], 0.91, patience=2, best=2),
        ],
    }
    found = lessons.validation_vs_test("imdb", repeats)
    assert [p["val"] for p in found["points"]] == [0.90, 0.95, 0.88]
    assert found["chosen"]["seed"] == 42 and found["chosen"]["kind"] == "rnn"
    assert found["chosen_rank"] == 3  # the best on validation is the worst on test
    assert found["mean_difference"] == pytest.approx((0.04 + 0.15 - 0.03) / 3)


def test_every_design_trains_what_it_names_and_the_quick_one_is_a_miniature():
    full, quick = design.trials("full"), design.trials("quick")
    assert {t.experiment for t in full} == set(design.EXPERIMENTS)
    assert {t.experiment for t in quick} == set(design.EXPERIMENTS)
    sizes = [t.fit_limit for t in full if t.experiment == "data-size"]
    assert sizes == [500, 2_000, 10_000, 54_000]
    # About 600 updates per size at batch 64: 8, 32, 157 and 844 steps an epoch.
    epochs = [t.settings.epochs for t in full if t.experiment == "data-size"]
    assert epochs == [75, 19, 4, 1]
    widths = [a.get("filters") or a.get("units") for _, a in design.WIDE_CNN.layers]
    base = [a.get("filters") or a.get("units") for _, a in design.SPECS["boston-cnn"].layers]
    assert widths[:-1] == [None if w is None else 2 * w for w in base[:-1]]
    assert widths[-1] == base[-1] == 1  # one output, one price
    assert 10 * sum(t.settings.epochs for t in quick) < sum(t.settings.epochs for t in full)


def test_the_early_stopping_sentences_name_the_epochs_the_curve_shows(tmp_path):
    from nnlab.report import theory
    from nnlab.report.assets import FigureStore
    from nnlab.report.i18n import Translator
    from nnlab.report.render import Paths

    val = [30, 20, 12, 9, 8, 8.5, 8.8, 9.5, 9.9, 10.4, 10.8, 11.0]  # lowest at epoch 5
    train = [40, 25, 15, 11, 9, 8, 7, 6.5, 6, 5.5, 5.2, 5.0]
    record = {"seed": 42, "dataset": "boston", "files": {}, "fit_seconds": 1.0}
    long_run = SimpleNamespace(history={"loss": train, "val_loss": val}, record=record,
                               metrics={"mae": 3.9})  # fmt: skip
    lab_record = {**record, "epochs_run": 10, "inputs": {"params": {"settings": {"epochs": 50}}}}
    lab_run = SimpleNamespace(record=lab_record, metrics={"mae": 3.1}, history={},
                              settings={"epochs": 50})  # fmt: skip
    boston = SimpleNamespace(repeats={"cnn": [lab_run]})
    t = Translator(Paths(tmp_path).locale, "en")
    store = FigureStore(tmp_path / "cache", tmp_path / "figures", "en", "code")
    exhibit = theory.early_stopping(t, store, {"epochs-300": [long_run]}, boston)
    text = " ".join(exhibit.sentences)
    # averaged over 2 epochs (a fifth of 12): lowest around epoch 5 (8.25), 10.9 at the end
    assert (
        "averaged over 2 epochs was lowest around epoch 5 (8.2) and then turned up: over "
        "the last 2 epochs it averaged 10.9, 32% higher"
    ) in text
    # Keras's rule: five epochs without a new best after epoch 5, so it stops at epoch 10
    assert "would have stopped at epoch 10 and kept the weights of epoch 5" in text
    assert "near where the averaged validation loss was lowest" in text
    # 3.9 after 12 epochs vs 3.1, worded as an observation on the test set, not a choice
    assert "higher after training on" in text and "observation on the test set" in text
    assert (tmp_path / "figures" / "theory-long-run.svg").exists()
