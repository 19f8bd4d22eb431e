"""nnlab.config (settings, profiles, Keras's validation split) and nnlab.projectconfig."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nnlab import config, projectconfig
from nnlab.errors import NnlabError
from nnlab.models import MODEL_NAMES

REPO = Path(__file__).resolve().parents[1]
FULL_TRAIN_SIZES = {"mnist": 60_000, "imdb": 25_000, "boston": 404}

# --- config: settings and splits ------------------------------------------------------------


@pytest.mark.parametrize(
    "dataset, n_fit, n_val, steps",
    [("mnist", 54_000, 6_000, 844), ("imdb", 22_500, 2_500, 176), ("boston", 363, 41, 12)],
)
def test_split_sizes_at_full_settings(dataset, n_fit, n_val, steps):
    settings = config.settings_for(dataset, "full")
    sizes = config.split_sizes(FULL_TRAIN_SIZES[dataset], settings)
    assert sizes["n_train"] == FULL_TRAIN_SIZES[dataset]
    assert (sizes["n_fit"], sizes["n_val"], sizes["steps_per_epoch"]) == (n_fit, n_val, steps)
    assert sizes["batch_size"] == settings.batch_size
    assert sizes["max_epochs"] == settings.epochs
    assert sizes["val_split"] == 0.1


def test_split_sizes_cut_like_keras():
    # Keras validates on the samples after int(n * (1 - split)): 404 * 0.9 = 363.6 -> 363.
    settings = config.settings_for("boston", "full")
    # Where fit(validation_split=0.1) cuts these sizes: after int(n * 0.9) samples.
    fitted = {1: 0, 9: 8, 10: 9, 11: 9, 99: 89, 404: 363, 511: 459, 512: 460, 60_000: 54_000}
    for n, n_fit in fitted.items():
        sizes = config.split_sizes(n, settings)
        assert (sizes["n_fit"], sizes["n_val"]) == (n_fit, n - n_fit)


def test_settings_full_are_the_notebooks():
    assert config.settings_for("mnist", "full") == config.TrainSettings(5, 64, 0.1, None)
    assert config.settings_for("imdb", "full") == config.TrainSettings(5, 128, 0.1, 2)
    assert config.settings_for("boston", "full") == config.TrainSettings(50, 32, 0.1, 5)
    full = config.settings_for("boston", "full")
    assert full.train_limit is None and full.test_limit is None
    assert full.learning_rate == 1e-3 and full.precision == "float32"


@pytest.mark.parametrize("dataset", ["mnist", "imdb", "boston"])
def test_settings_quick_shrinks_only_epochs_and_sample_counts(dataset):
    full = config.settings_for(dataset, "full")
    quick = config.settings_for(dataset, "quick")
    assert (quick.epochs, quick.train_limit, quick.test_limit) == (1, 512, 256)
    assert dataclasses.replace(quick, epochs=full.epochs, train_limit=None, test_limit=None) == full


def test_settings_overrides_apply_after_the_profile():
    settings = config.settings_for("boston", "quick", {"epochs": 3, "learning_rate": 0.01})
    assert settings.epochs == 3 and settings.learning_rate == 0.01
    assert settings.train_limit == 512
    assert config.settings_for("boston", "full", {}) == config.settings_for("boston", "full")


@pytest.mark.parametrize("profile", ["slow", "", "Quick", "FULL"])
def test_unknown_profile_is_an_error(profile):
    with pytest.raises(NnlabError, match="unknown profile") as caught:
        config.settings_for("mnist", profile)
    assert "full, quick" in str(caught.value)


def test_settings_as_dict_is_plain():
    as_dict = config.settings_for("imdb", "quick").as_dict()
    assert as_dict["epochs"] == 1 and as_dict["patience"] == 2
    assert set(as_dict) == {f.name for f in dataclasses.fields(config.TrainSettings)}


# --- projectconfig --------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "report.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(NnlabError) as caught:
        projectconfig.load(write(tmp_path, text))
    message = str(caught.value)
    assert message and "\n" not in message  # always one line
    return message


def test_the_repository_config_loads():
    loaded = projectconfig.load(REPO / "report" / "report.toml")
    assert set(loaded.report) <= set(projectconfig.REPORT_KEYS)
    assert isinstance(loaded.report["author"], str) and loaded.report["author"]
    assert loaded.report["title_en"].startswith("Comparing")
    assert all(name in MODEL_NAMES for name in loaded.training)
    # The file shows the defaults, and names its student (no student is a default).
    own = {"author", "student_id"}
    assert {k: v for k, v in loaded.report.items() if k not in own} == {
        k: v for k, v in projectconfig.REPORT_DEFAULTS.items() if k not in own}  # fmt: skip
    assert (
        projectconfig.REPORT_DEFAULTS["author"] == projectconfig.REPORT_DEFAULTS["student_id"] == ""
    )


def test_absent_default_config_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loaded = projectconfig.load()
    assert loaded.report == projectconfig.REPORT_DEFAULTS and loaded.training == {}


def test_missing_explicit_file_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "mine.toml"
    with pytest.raises(NnlabError, match="config file not found") as caught:
        projectconfig.load(missing)
    assert str(missing) in str(caught.value)


def test_bad_toml_syntax_is_one_line_with_its_line(tmp_path):
    message = load_error(tmp_path, '[report]\nauthor = "a"\ncourse = \n')
    assert "bad TOML syntax" in message
    assert "line 3" in message
    assert str(tmp_path / "report.toml") in message


def test_unknown_report_key_names_key_and_line(tmp_path):
    message = load_error(tmp_path, '[report]\nauthor = "a"\n\ncolour = "red"\n')
    assert "'colour'" in message
    assert "line 4" in message
    assert "author" in message  # the known keys are listed


def test_unknown_section_names_it(tmp_path):
    message = load_error(tmp_path, '[report]\nauthor = "a"\n[reprot]\ncourse = "b"\n')
    assert "'reprot'" in message and "line 3" in message


def test_wrong_type_names_key_line_and_expected_type(tmp_path):
    message = load_error(tmp_path, '[report]\ncourse = "x"\nauthor = 3\n')
    assert "'author'" in message
    assert "line 3" in message
    assert "must be text, got a whole number" in message


def test_report_must_be_a_table(tmp_path):
    message = load_error(tmp_path, 'report = "me"\n')
    assert "must be a table" in message and "line 1" in message


def test_unknown_model_under_training(tmp_path):
    message = load_error(tmp_path, "[training.boston-lstm]\nepochs = 2\n")
    assert "unknown model 'boston-lstm'" in message
    assert "boston-rnn" in message  # the known names are listed


def test_unknown_model_names_its_line(tmp_path):
    message = load_error(tmp_path, '[report]\nauthor = "a"\n\n[training.boston-lstm]\nepochs = 2\n')
    assert "line 4" in message


@pytest.mark.parametrize("value", ["0", "-0.5", "0.0", "nan", "inf", "+inf", "-inf"])
def test_learning_rate_must_be_finite_and_positive(tmp_path, value):
    message = load_error(tmp_path, f"[training.mnist-cnn]\nlearning_rate = {value}\n")
    assert "'learning_rate' (line 2) must be a finite number > 0" in message


@pytest.mark.parametrize("key", ["epochs", "batch_size"])
@pytest.mark.parametrize("value", [0, -3])
def test_counts_must_be_at_least_one(tmp_path, key, value):
    message = load_error(tmp_path, f"[training.imdb-rnn]\n{key} = {value}\n")
    assert f"'{key}'" in message and "line 2" in message and "at least 1" in message


def test_training_value_types(tmp_path):
    message = load_error(tmp_path, '[training.imdb-rnn]\nepochs = "3"\n')
    assert "'epochs' (line 2) must be a whole number, got text" in message
    message = load_error(tmp_path, "[training.imdb-rnn]\nepochs = true\n")
    assert "must be a whole number, got true or false" in message
    message = load_error(tmp_path, "[training.imdb-rnn]\nepochs = 2.5\n")
    assert "must be a whole number, got a number" in message
    message = load_error(tmp_path, '[training.imdb-rnn]\nlearning_rate = "fast"\n')
    assert "must be a number, got text" in message
    message = load_error(tmp_path, "[training.imdb-rnn]\npatience = 3\n")
    assert "unknown key 'patience'" in message


def test_unknown_precision_is_an_error(tmp_path):
    message = load_error(tmp_path, '[training.imdb-rnn]\nprecision = "float16"\n')
    assert "'precision'" in message and "mixed_bfloat16" in message


def test_valid_training_override_is_returned(tmp_path):
    loaded = projectconfig.load(write(tmp_path, "[training.boston-cnn]\nepochs = 2\n"))
    assert loaded.training == {"boston-cnn": {"epochs": 2}}
    assert loaded.report == projectconfig.REPORT_DEFAULTS


def test_valid_overrides_are_converted_to_their_types(tmp_path):
    text = (
        '[report]\nauthor = "A"\ndate = ""\n\n'
        '[training.imdb-rnn]\nlearning_rate = 1\nprecision = "mixed_bfloat16"\nbatch_size = 64\n'
    )
    loaded = projectconfig.load(write(tmp_path, text))
    assert loaded.report == {**projectconfig.REPORT_DEFAULTS, "author": "A"}
    overrides = loaded.training["imdb-rnn"]
    assert overrides == {"learning_rate": 1.0, "precision": "mixed_bfloat16", "batch_size": 64}
    assert type(overrides["learning_rate"]) is float
    settings = config.settings_for("imdb", "full", overrides)
    assert settings.batch_size == 64 and settings.precision == "mixed_bfloat16"


def test_training_must_be_a_table(tmp_path):
    message = load_error(tmp_path, "training = 3\n")
    assert "training" in message


def test_bad_value_names_the_line_of_its_own_table(tmp_path):
    text = "[training.mnist-cnn]\nepochs = 3\n\n[training.boston-cnn]\nepochs = 0\n"
    message = load_error(tmp_path, text)
    assert "line 5" in message


def test_seed_count_from_the_file(tmp_path):
    assert projectconfig.load(write(tmp_path, "seeds = 5\n")).seeds == 5
    assert projectconfig.load(write(tmp_path, "[report]\n")).seeds is None
    assert config.seeds_for("boston", 42, None) == list(range(42, 52))
    assert config.seeds_for("mnist", 42, 2) == [42, 43]
    assert config.seeds_for("boston", 42, None, "quick") == [42, 43]  # the smoke build's


@pytest.mark.parametrize(
    ("value", "got"),
    [("0", "0"), ("-2", "-2"), ("1001", "1001"), ("1000000000", "1000000000"),
     ("2.5", "a number"), ("true", "true or false"), ('"3"', "text")],
)  # fmt: skip
def test_a_bad_seed_count_names_its_line(tmp_path, value, got):
    message = load_error(tmp_path, f'seeds = {value}\n[report]\nauthor = "a"\n')
    assert f"'seeds' (line 1) must be a whole number from 1 to 1,000, got {got}" in message


def test_the_largest_seed_count_loads(tmp_path):
    assert projectconfig.load(write(tmp_path, f"seeds = {config.MAX_SEEDS}\n")).seeds == 1000


@pytest.mark.parametrize(("value", "ok"), [(10_000, True), (10_001, False), (10**9, False)])
def test_epochs_are_capped_before_any_plan_is_made(tmp_path, value, ok):
    text = f"[training.boston-cnn]\nepochs = {value}\n"
    if ok:
        assert projectconfig.load(write(tmp_path, text)).training["boston-cnn"]["epochs"] == value
    else:
        assert "'epochs' (line 2) must be at most 10,000" in load_error(tmp_path, text)


# A key set in an inline table or as a dotted key is found on its line, like one under a header.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('training = { boston-cnn = { epochs = "x" } }\n',
         "training.boston-cnn: key 'epochs' (line 1) must be a whole number, got text"),
        ('[training]\nboston-cnn.epochs = "x"\n',
         "training.boston-cnn: key 'epochs' (line 2) must be a whole number, got text"),
        ('\n"training"."boston-cnn".epochs = 0\n',
         "training.boston-cnn: 'epochs' (line 2) must be at least 1"),
        ("report.author = 3\n", "report: key 'author' (line 1) must be text, got a whole number"),
        ('[report]\nauthor = { name = "a" }\n',
         "report: key 'author' (line 2) must be text, got a table"),
        ('report = { author = "a", colour = "red" }\n', "unknown key 'colour' (line 1)"),
        ("[report]\ndate = 2026-11-29\n", "'date' (line 2) must be text, got a date"),
        ("[training]\nboston-lstm = { epochs = 1 }\n",
         "unknown model 'boston-lstm' in [training] (line 2)"),
        ("training = { boston-cnn = 3 }\n", "[training.boston-cnn] must be a table (line 1)"),
    ],
)  # fmt: skip
def test_inline_and_dotted_tables_name_the_line(tmp_path, text, expected):
    message = load_error(tmp_path, text)
    assert expected in message
    for python_type in ("str", "int", "float", "dict", "bool", "list"):
        assert f"got {python_type}" not in message and f"be {python_type}" not in message


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "report.toml"
    path.write_bytes('[report]\nauthor = "Nguyễn Quang Thắng"\n'.encode("utf-8-sig"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert projectconfig.load(path).report["author"] == "Nguyễn Quang Thắng"


def test_repository_url_is_not_a_key(tmp_path):
    """It was accepted and never used: now it is an unknown key, as any other."""
    assert "unknown key 'repository_url' (line 2)" in load_error(
        tmp_path, '[report]\nrepository_url = "https://example.org"\n'
    )


def test_the_cover_date_must_be_a_date(tmp_path):
    message = load_error(tmp_path, '[report]\ndate = "29/11/2026"\n')
    assert "'date' (line 2) must be YYYY-MM-DD" in message


def test_the_cover_logo_must_be_an_image_inside_the_project(tmp_path, monkeypatch):
    """The logo is relative to the project folder (the current one) and decoded when the config
    is read: the one-line errors name the key and its line (tests/test_content_safety.py
    checks each way an image is refused)."""
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    assert "must be a .png" in load_error(tmp_path, '[report]\nlogo = "notes.txt"\n')
    assert "'logo' (line 2): logo.png is missing" in load_error(
        tmp_path, '[report]\nlogo = "logo.png"\n'
    )
    Image.new("RGB", (8, 4), "navy").save(tmp_path / "logo.png")
    absolute = tmp_path / "logo.png"
    assert "is an absolute path" in load_error(tmp_path, f'[report]\nlogo = "{absolute}"\n')
    loaded = projectconfig.load(write(tmp_path, '[report]\nlogo = "logo.png"\n'))
    assert loaded.report["logo"] == "logo.png"


@pytest.mark.parametrize("key", ["title_en", "author", "university"])
def test_a_control_character_on_the_cover_is_refused(tmp_path, key):
    """A control character would make the PDF's XML metadata invalid (the title goes there)."""
    message = load_error(tmp_path, f'[report]\n{key} = "A \\u0007 title"\n')
    assert f"'{key}' (line 2) holds the control character U+0007" in message


@pytest.mark.parametrize("title", ['""', '"   "'])
def test_an_empty_title_is_refused(tmp_path, title):
    message = load_error(tmp_path, f"[report]\ntitle_vi = {title}\n")
    assert "'title_vi' (line 2) is empty" in message


def test_cover_keys_left_out_are_empty_and_known(tmp_path):
    loaded = projectconfig.load(write(tmp_path, '[report]\nlecturer = "TS. Nguyễn Văn A"\n'))
    assert loaded.report["lecturer"] == "TS. Nguyễn Văn A"
    assert loaded.report["university"] == loaded.report["class_name"] == ""
