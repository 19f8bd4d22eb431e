"""`nnlab predict` on quick-profile runs, with real inputs and every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES, run_nnlab
from PIL import Image

from nnlab.data import mnist

pytestmark = pytest.mark.slow
HOUSE = "10.0,0.0,9.0,1.0,0.5,5.0,50.0,1.0,4.0,400.0,20.0,400.0,25.0"


def predict(args, quick_build, data_dir):
    return run_nnlab(["predict", *args, "--profile", "quick"], data_dir, quick_build)


def one_line_error(result) -> str:
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnlab: error:"), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_boston_features_and_csv_agree(quick_build, data_dir, tmp_path):
    single = predict(["boston", "--features", HOUSE, "--json"], quick_build, data_dir)
    assert single.returncode == 0, single.stderr
    [answer] = json.loads(single.stdout)
    assert set(answer) == {"cnn", "rnn"} and all(np.isfinite(list(answer.values())))
    # The same house from a CSV whose columns come in another order.
    names = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO",
             "B", "LSTAT"]  # fmt: skip
    values = HOUSE.split(",")
    csv = tmp_path / "houses.csv"
    csv.write_text(",".join(reversed(names)) + "\n" + ",".join(reversed(values)) + "\n")
    both = predict(["boston", "--csv", str(csv), "--json"], quick_build, data_dir)
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout)[0] == pytest.approx(answer, rel=1e-5)


def test_mnist_image_of_any_size_and_colour(quick_build, data_dir, tmp_path):
    digit = mnist.from_folder(FIXTURES / "mnist")["x_test"][0]  # a real 7
    big = Image.fromarray(255 - digit).resize((140, 160)).convert("RGB")  # black on white
    path = tmp_path / "digit.png"
    big.save(path)
    result = predict(["mnist", str(path), "--json"], quick_build, data_dir)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    for kind in ("cnn", "rnn"):
        probabilities = [item["probability"] for item in answer[kind]]
        assert len(probabilities) == 3 and probabilities == sorted(probabilities, reverse=True)


def test_mnist_conversion_matches_the_mnist_way(tmp_path):
    from nnlab.predict import mnist_image

    digit = mnist.from_folder(FIXTURES / "mnist")["x_test"][0]
    path = tmp_path / "inverted-large.png"
    Image.fromarray(255 - digit).resize((280, 280)).save(path)
    converted = mnist_image(path)
    assert converted.shape == (28, 28) and converted.dtype == np.uint8
    assert converted[0].max() < 50 and converted[:, 0].max() < 50  # dark border: digit centred
    ys, xs = np.nonzero(converted > 50)
    assert abs(ys.mean() - 14) < 2.5 and abs(xs.mean() - 14) < 2.5
    # It still looks like the original digit (correlation with MNIST's own rendering).
    assert np.corrcoef(converted.ravel(), digit.ravel())[0, 1] > 0.6


@pytest.mark.parametrize(
    ("features", "needle"),
    [("1,2,3", "expected 13"), (HOUSE.replace("25.0", "nan"), "finite"),
     (HOUSE.replace("25.0", "inf"), "finite"), (HOUSE.replace("25.0", "abc"), "number")],
)  # fmt: skip
def test_bad_boston_features(quick_build, data_dir, features, needle):
    assert needle in one_line_error(predict(["boston", "--features", features], quick_build,
                                            data_dir))  # fmt: skip


def test_bad_imdb_and_mnist_inputs(quick_build, data_dir, tmp_path):
    assert "empty" in one_line_error(predict(["imdb", "   "], quick_build, data_dir))
    text = tmp_path / "not-an-image.png"
    text.write_text("hello")
    assert "not a readable image" in one_line_error(predict(["mnist", str(text)], quick_build,
                                                            data_dir))  # fmt: skip
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    assert "blank" in one_line_error(predict(["mnist", str(blank)], quick_build, data_dir))
    huge = tmp_path / "huge.png"
    Image.new("1", (9000, 9000)).save(huge)  # 81 megapixels, a few kB on disk
    assert "too large" in one_line_error(predict(["mnist", str(huge)], quick_build, data_dir))


def test_missing_run_names_the_fix(tmp_path, data_dir):
    result = run_nnlab(["predict", "boston", "--features", HOUSE], data_dir, tmp_path)
    assert "nnlab train --profile full --dataset boston --seed 42" in one_line_error(result)


def test_a_house_outside_the_training_range_is_priced_with_a_warning(quick_build, data_dir):
    # The notebook's first house: B = 400 is above every training house's 396.9.
    result = predict(["boston", "--features", HOUSE, "--json"], quick_build, data_dir)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert any(line.startswith("warning: B [400.0] is outside the training data's range")
               for line in warnings), result.stderr  # fmt: skip
    assert all("extrapolation" in line for line in warnings)


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [(0, "-1", "CRIM must be at least 0"), (12, "1e9", "LSTAT must be between 0 and 100"),
     (3, "0.5", "CHAS is 1 by the Charles River")],
)  # fmt: skip
def test_impossible_houses_are_refused(quick_build, data_dir, column, value, needle):
    values = HOUSE.split(",")
    values[column] = value
    result = predict(["boston", "--features", ",".join(values)], quick_build, data_dir)
    assert needle in one_line_error(result)


def test_imdb_text_with_the_vocabulary_saved_with_the_run(quick_build, data_dir, tmp_path):
    """The data cache may be rebuilt (a tokenizer fix) or gone: the run keeps its own words."""
    text = ["imdb", "This film was a delight", "--json", "--profile", "quick"]
    with_cache = run_nnlab(["predict", *text], data_dir, quick_build)
    without = run_nnlab(["predict", *text], tmp_path / "no-data", quick_build)
    assert with_cache.returncode == without.returncode == 0, without.stderr
    answer = json.loads(with_cache.stdout)
    assert 0 <= answer["cnn"] <= 1 and 0 <= answer["rnn"] <= 1 and answer["tokens"] == 5
    assert json.loads(without.stdout) == answer
