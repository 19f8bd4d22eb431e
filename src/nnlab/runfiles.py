"""The files a run folder holds, by name, and their readers: what training writes and the
report, `predict` and `bench` read. Needs no TensorFlow and no training code."""

from __future__ import annotations

import csv
from pathlib import Path

HISTORY = "history.csv"  # Keras's CSVLogger, one row per epoch (and epoch_seconds)
PREDICTIONS = "predictions.npz"  # y_true, outputs (and Boston's scaler_*)
MODEL = "model.keras"  # the lab's runs only
VOCABULARY = "vocabulary.txt"  # IMDB runs: the words behind the ids the model was trained on
GRADIENTS = "gradients.npz"  # the gradient experiment's trials: norms per time step


def model_checksum(record: dict) -> str | None:
    """The run's model file's SHA-256; a frozen run keeps the checksum but not the file."""
    return record.get("model_sha256") or record.get("files", {}).get(MODEL)


def read_history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = rows[0].keys() if rows else []
    return {column: [float(row[column]) for row in rows] for column in columns}


def drop_empty_columns(path: Path) -> None:
    """Without validation data, Keras's CSVLogger still writes val_* columns, all "NA"."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    kept = [key for key in rows[0] if any(row[key] != "NA" for row in rows)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
