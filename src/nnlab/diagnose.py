"""Rules that name what a run's history shows (whether it trained, how it fits), where its
models go wrong, and IMDB test reviews whose own words contradict their label."""

from __future__ import annotations

import math
import re

import numpy as np

# --- Failure: whether a run learned at all, read from its history alone -------------------------
#
# The yardstick is the "null loss", the validation loss of a model that learned nothing:
# - a classifier: ln(classes), the cross-entropy of guessing every class alike (MNIST's ten
#   classes and IMDB's two are balanced within a few per cent, so guessing their shares costs
#   the same within 1 %);
# - a regressor: the validation MSE of always predicting the fitted examples' mean target
#   (mean_prediction_loss); one minus a run's share of it is its validation R².
# Nothing here reads the test set: whether a run trained is decided before it is scored.

# A run failed when its best validation loss stays at or above this share of the null loss.
# Classifiers: trained IMDB runs reach 0.41-0.49 of ln 2, MNIST runs 0.02-0.03 of ln 10, and an
# IMDB LSTM stuck at 0.665 (0.96 of ln 2) called 90 % of reviews positive. Regressors: the
# frozen Boston networks that trained reach 0.12-0.37 of the mean's loss (best validation MAE
# 2.2-3.2 thousand USD), the failed ones 0.75-1.45 (4.6-6.1); a half (validation R² 0.5) lies
# between them.
FAILED_SHARE = {"classification": 0.9, "regression": 0.5}
# A failed regressor whose last validation losses (their median: single epochs on Boston's 41
# validation districts are noisy) lie within this share of the null loss (0.67-1.33 times it)
# sits on the plateau where it does no better than predicting the mean. The Boston LSTMs
# stopped at epochs 7-14 sit at 0.96-1.24 of it; the wide CNN, still descending from ten times
# it when stopped, at 1.50-1.62.
PLATEAU_BAND = 1 / 3
# Why a run failed, in the order the rules try them.
FAILURE_CAUSES = ("diverged", "chance", "plateau", "stopped-improving", "out-of-epochs", "other")


def mean_prediction_loss(fitted, validation) -> float:
    """The MSE on `validation` of always predicting the mean of the `fitted` targets."""
    fitted = np.asarray(fitted, dtype=np.float64)
    validation = np.asarray(validation, dtype=np.float64)
    return float(np.mean((validation - fitted.mean()) ** 2))


def chance_loss(classes: int) -> float:
    """The cross-entropy of guessing each of `classes` classes alike: ln(classes)."""
    return math.log(classes)


def failure(task: str, history: dict, epochs_budget: int, null_loss: float | None) -> str | None:
    """Why a run failed to train, or None for one that learned, from its per-epoch `loss` and
    `val_loss` and the null loss of its validation examples (None where unknown: then only a
    diverged run is named). A run failed when its best validation loss stays at or above
    FAILED_SHARE of the null loss; its cause, the first that holds:

    - "diverged": a training or validation loss became NaN or infinite;
    - "chance" (classification): it stayed near the loss of guessing;
    - "plateau" (regression): the median of its last validation losses (the last
      NEAR_END_SHARE of the budget) lies within PLATEAU_BAND of the null loss: over its last
      epochs it did no better than predicting the mean;
    - "stopped-improving": early stopping ended it while its validation loss was still falling
      (`_still_falling`, as `fitting`'s still-improving rule reads it);
    - "out-of-epochs": it used its whole budget while its validation loss was still falling;
    - "other": it learned too little in another way.

    A run without validation history (validated once, or not a network) is not judged here.
    """
    losses = [*history.get("loss", []), *history.get("val_loss", [])]
    if not np.isfinite(np.asarray(losses, dtype=np.float64)).all():
        return "diverged"
    val = np.asarray(history.get("val_loss", []), dtype=np.float64)
    if val.size == 0 or null_loss is None or val.min() < FAILED_SHARE[task] * null_loss:
        return None
    if task == "classification":
        return "chance"
    near = _near(epochs_budget)
    if abs(np.median(val[-near:]) / null_loss - 1) <= PLATEAU_BAND:
        return "plateau"
    if _still_falling(val, near):
        return "stopped-improving" if val.size < epochs_budget else "out-of-epochs"
    return "other"


def at_chance_after_first_epoch(history: dict, classes: int) -> bool:
    """The restart rule a practitioner applies: a classifier whose validation loss after its
    first epoch is still near ln(classes) is started again with another seed."""
    validation = history.get("val_loss", [])
    threshold = FAILED_SHARE["classification"] * chance_loss(classes)
    return bool(validation) and validation[0] >= threshold


# --- Fitting: what a run's loss curves say -------------------------------------------------------

VERDICTS = ("failed", "underfitting", "overfitting", "still-improving", "good-fit")
# Epoch-to-epoch wiggle of the validation loss in our runs is ~2-3 %; a rise must be twice that
# before it counts as the model getting worse rather than noise.
OVERFIT_RISE = 0.05
# Overfitting also needs validation loss to end above training loss by this share of the best
# validation loss: the MNIST LSTM (seed 42) ends with a gap of 0.0003 on 0.077 (0.4 %), i.e. it
# fits unseen digits as well as its training digits, however its validation loss wiggled.
OVERFIT_GAP = 0.05
# A run whose training loss and best validation loss both fall by less than this share of their
# first-epoch values learned next to nothing (our real runs fall by 60-95 %).
UNDERFIT_DROP = 0.10
# "Near the end" of the budget: the last tenth of it (5 of 50 epochs), at least one epoch.
NEAR_END_SHARE = 0.10
# Smallest positive loss used as a denominator, so an exact zero loss cannot divide by zero.
_TINY = 1e-12


def _relative(change: float, base: float) -> float:
    return float(change / max(abs(base), _TINY))


def _near(epochs_budget: int) -> int:
    """How many epochs count as "near the end": NEAR_END_SHARE of the budget, at least one."""
    return max(1, round(NEAR_END_SHARE * epochs_budget))


def _late_fall(val: np.ndarray, best: int, near: int) -> float:
    """How far the best validation loss (index `best`) lies below every one `near` or more
    epochs before it, relative to the lowest of those; infinite when there is none (the best
    epoch is among the first `near`): a run still descending falls by OVERFIT_RISE or more."""
    earlier = val[: best - near + 1]
    return math.inf if earlier.size == 0 else _relative(earlier.min() - val[best], earlier.min())


def _still_falling(val: np.ndarray, near: int) -> bool:
    """Whether the validation loss was still falling when the run ended: its best epoch lies
    within `near` epochs of the last, at least OVERFIT_RISE below every one `near` or more
    epochs before it (a descent, not a plateau whose minimum fell late by chance)."""
    best = int(np.argmin(val))
    return val.size - 1 - best <= near and _late_fall(val, best, near) >= OVERFIT_RISE


def fitting(history: dict, epochs_budget: int, failure: str | None) -> dict:
    """Diagnose one run from its per-epoch `loss` and `val_loss` (epochs 1-based).

    The first rule that holds names the run:

    1. failed: `failure` (see `failure()`: the history against the null loss) is not None,
       or a loss is NaN/inf; the curves of a model that failed to train say nothing about fit.
    2. underfitting: over at least two epochs, the last training loss is less than
       UNDERFIT_DROP below the first epoch's AND the best validation loss is less than that
       below the first epoch's. Checked before overfitting: a model that has not learned
       cannot have memorised.
    3. overfitting: the validation loss at the last epoch stands at least OVERFIT_RISE above
       its minimum (the best epoch), the gap (val_loss - loss) widened since that epoch, and
       it ends at least OVERFIT_GAP of the best validation loss: validation got worse while
       training did not, and the model now fits its training data better than unseen data.
       `from_epoch` = best epoch + 1, where validation started rising; early stopping
       restores the best epoch's weights. A rise with a narrowing gap (both losses rising,
       common on Boston's 41 validation houses) is noise or instability, not overfitting.
    4. still-improving: the best validation epoch is within `near` (NEAR_END_SHARE of the
       budget, >= 1) epochs of the last, the run used its whole budget (a run ends early only
       when early stopping fired, i.e. validation had stopped improving), and the best
       validation loss is at least OVERFIT_RISE below every one `near` or more epochs before
       it (still descending, not a plateau whose minimum fell late by chance). More epochs
       would likely help. Checked after overfitting: a material rise with a widening gap
       after a late best epoch already shows the model past its best.
    5. good-fit: none of the above; validation reached its best and stayed there.

    Returns verdict, failure (its cause, "diverged" for a NaN/inf loss, or None), best_epoch,
    epochs_run, epochs_budget, loss and val_loss {"first", "best", "last"}, final_gap
    (val_loss - loss) {"best", "last"},
    train_drop and val_drop (relative falls from epoch 1), rise and rise_relative (last
    validation loss minus the best), from_epoch (overfitting only, else None), near (the
    epochs counted as near the end) and late_fall (how far the best validation loss lies below
    every one `near` or more epochs before it, relative; None when the best is among the first
    `near` epochs): the measure still-improving and good-fit are told apart by.
    """
    loss = np.asarray(history["loss"], dtype=np.float64)
    val = np.asarray(history["val_loss"], dtype=np.float64)
    epochs_run = len(loss)
    out = dict.fromkeys(
        ("best_epoch", "loss", "val_loss", "final_gap", "train_drop", "val_drop", "rise",
         "rise_relative", "from_epoch", "near", "late_fall")
    ) | {"verdict": "failed", "failure": failure, "epochs_run": epochs_run,
         "epochs_budget": epochs_budget}  # fmt: skip
    if epochs_run == 0 or len(val) != epochs_run or not np.isfinite([*loss, *val]).all():
        return {**out, "failure": failure or "diverged"}

    best = int(np.argmin(val))
    last = epochs_run - 1
    near = _near(epochs_budget)
    gap_best, gap_last = val[best] - loss[best], val[last] - loss[last]
    rise = val[last] - val[best]
    out |= {
        "best_epoch": best + 1,
        "loss": {"first": loss[0], "best": loss[best], "last": loss[last]},
        "val_loss": {"first": val[0], "best": val[best], "last": val[last]},
        "final_gap": {"best": gap_best, "last": gap_last},
        "train_drop": _relative(loss[0] - loss[last], loss[0]),
        "val_drop": _relative(val[0] - val[best], val[0]),
        "rise": rise,
        "rise_relative": _relative(rise, val[best]),
    }
    late_fall = _late_fall(val, best, near)
    out |= {"near": near, "late_fall": None if math.isinf(late_fall) else late_fall}

    if failure is not None:
        verdict = "failed"
    elif epochs_run >= 2 and max(out["train_drop"], out["val_drop"]) < UNDERFIT_DROP:
        verdict = "underfitting"
    elif (
        out["rise_relative"] >= OVERFIT_RISE
        and gap_last > gap_best
        and gap_last >= OVERFIT_GAP * val[best]
    ):
        verdict, out["from_epoch"] = "overfitting", best + 2
    elif epochs_run >= epochs_budget and _still_falling(val, near):
        verdict = "still-improving"
    else:
        verdict = "good-fit"
    return _plain({**out, "verdict": verdict})


def _plain(value):
    """NumPy scalars as Python floats (JSON- and template-friendly)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return float(value) if isinstance(value, np.floating) else value


def confused_pairs(confusion: list[list[int]], top: int = 3) -> list[dict]:
    """The `top` off-diagonal cells of a confusion matrix (rows: true class, columns:
    predicted), most frequent first, ties by (true, predicted); empty cells are left out.
    share_of_true is the cell's count over its row total: the share of that true class the
    model sent to this wrong class."""
    matrix = np.asarray(confusion, dtype=np.int64)
    rows = matrix.sum(axis=1)
    cells = [(int(matrix[t, p]), t, p) for t in range(len(matrix)) for p in range(len(matrix))
             if t != p and matrix[t, p] > 0]  # fmt: skip
    cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    return [
        {"true": t, "predicted": p, "count": n, "share_of_true": n / int(rows[t])}
        for n, t, p in cells[:top]
    ]


# --- Label noise: IMDB test reviews whose own words contradict their label ------------------------

# A rating out of 10 as it survives decoding ('/' and '.' are stripped): "9 10", "9 5 10"
# (9.5/10), "8 out of 10". Not a range ("scale of 1-10", "from 1-10", "a 1-10 scale"), nor
# followed by another number (a date such as "10/10/2005").
_RATING = re.compile(
    r"(?<!\d )(?<!scale of )(?<!from )(?<!between )"  # not mid-number, not a range
    r"\b(\d{1,2})(?: (\d))?(?: out of)? 10\b"  # whole, optional decimal digit, "out of", 10
    r"(?! \d| scale)"  # not a date, not "a 1-10 scale"
)
# IMDB's own labelling rule (Maas et al. 2011): a review rated <= 4 is negative, >= 7 positive;
# 5 and 6 were left out of the data set, so they are no cue either way.
NEGATIVE_AT_MOST, POSITIVE_AT_LEAST = 4.0, 7.0
# Phrases that state a verdict outright; weaker than a rating, so used only when no rating is.
# Each agrees with the label in >= 92 % of the 25,000 IMDB test reviews holding it (un-negated);
# "a masterpiece" (75 %: quoted opinions, sarcasm) did not make the list.
PHRASES = {
    "positive": ("a must see", "highly recommend", "highly recommended", "loved this movie"),
    "negative": ("worst movie", "worst film", "waste of time", "waste of money",
                 "don't waste your", "terrible movie"),
}  # fmt: skip
# A phrase with one of these among the NEGATION_WINDOW words before it is negated: "not a must
# see", "far from the worst film", "hardly a waste of time".
NEGATIONS = frozenset(("not", "no", "never", "hardly", "far", "isn't", "wasn't", "without"))
NEGATION_WINDOW = 3


def _phrase_cues(tokens: list[str]) -> dict[str, str]:
    text = " ".join(tokens)
    found: dict[str, str] = {}
    for says, phrases in PHRASES.items():
        for phrase in phrases:
            for match in re.finditer(rf"\b{re.escape(phrase)}\b", text):
                before = text[: match.start()].split()[-NEGATION_WINDOW:]
                if not NEGATIONS.intersection(before):
                    found.setdefault(says, phrase)
    return found


def _cues(tokens: list[str]) -> tuple[str, dict[str, str]]:
    """("rating"|"phrase", {"positive"|"negative": first cue found}): ratings if any, else
    phrases."""
    found: dict[str, str] = {}
    for match in _RATING.finditer(" ".join(tokens)):
        whole, decimal = match.group(1), match.group(2)
        score = float(f"{whole}.{decimal}" if decimal else whole)
        says = ("negative" if score <= NEGATIVE_AT_MOST
                else "positive" if POSITIVE_AT_LEAST <= score <= 10 else None)  # fmt: skip
        if says:
            found.setdefault(says, match.group(0))
    return ("rating", found) if found else ("phrase", _phrase_cues(tokens))


def label_noise(tokens: list[str], label: int) -> dict | None:
    """A strong sentiment cue in a decoded IMDB review that contradicts its label (1 positive,
    0 negative): {"cue": the words, "says": "positive"|"negative", "kind": "rating"|"phrase"};
    None when there is no cue, when the cues agree with the label, or when they point both ways.
    A rating out of 10 outranks phrases: a review with a rating is judged by its ratings only."""
    kind, cues = _cues(tokens)
    if len(cues) != 1:
        return None
    ((says, cue),) = cues.items()
    if (says == "positive") == bool(label):
        return None
    return {"cue": cue, "says": says, "kind": kind}
