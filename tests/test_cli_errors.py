"""Every bad command line is one `nnlab: error:` line on stderr, exit code 2, no traceback.

The one-line formatting lives in nnlab.cli.main, so main() itself runs in-process (with sys.argv
patched); none of these paths imports TensorFlow.
"""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import pytest
from conftest import run_nnlab
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnlab import cli

pytestmark = pytest.mark.usefixtures("isolated")  # conftest.isolated
DATASETS = ("mnist", "imdb", "boston")
PROFILES = ("full", "quick")
KINDS = ("cnn", "rnn")
LANGS = ("vi", "en", "all")
SUBCOMMANDS = (
    [],
    ["data"],
    ["data", "fetch"],
    ["data", "info"],
    ["models"],
    ["train"],
    ["runs"],
    ["report"],
    ["build"],
    ["freeze"],
)
FAST = settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # capsys is read per example
)


def invalid(valid: tuple[str, ...]):
    """Option values click must refuse: any text except the valid ones (argv has no NUL)."""
    return st.text(max_size=12).filter(lambda value: value not in valid and "\x00" not in value)


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `nnlab ARGV` through nnlab.cli.main."""
    capsys.readouterr()
    code = 0
    with mock.patch.object(sys, "argv", ["nnlab", *argv]):
        try:
            cli.main()
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nnlab: error: ")
    assert lines[0][len("nnlab: error: ") :].strip()
    assert code == 2
    return lines[0]


def assert_rejected(argv: list[str], capsys) -> str:
    code, out, err = run_main(argv, capsys)
    assert out == ""
    return assert_one_line_error(code, err)


# --- option values --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "runs"])
@FAST
@given(value=invalid(DATASETS))
def test_unknown_dataset(command, value, capsys):
    line = assert_rejected([command, f"--dataset={value}"], capsys)
    assert "--dataset" in line


@pytest.mark.parametrize("option", ["--kind", "--model"])
@pytest.mark.parametrize("command", ["train", "runs"])
@FAST
@given(value=invalid(KINDS))
def test_unknown_kind(command, option, value, capsys):
    line = assert_rejected([command, f"{option}={value}"], capsys)
    assert "--kind" in line


@pytest.mark.parametrize("command", ["train", "runs"])
@FAST
@given(value=invalid(PROFILES))
def test_unknown_profile(command, value, capsys):
    line = assert_rejected([command, f"--profile={value}"], capsys)
    assert "--profile" in line


@FAST
@given(value=invalid(LANGS))
def test_unknown_report_language(value, capsys):
    line = assert_rejected(["report", f"--lang={value}"], capsys)
    assert "--lang" in line


@pytest.mark.parametrize("command", ["train", "runs", "report"])
def test_well_known_bad_values(command, capsys):
    assert "'xx'" in assert_rejected([command, "--profile", "xx"], capsys)
    if command != "report":
        assert "'MNIST'" in assert_rejected([command, "--dataset", "MNIST"], capsys)
        assert "'lstm'" in assert_rejected([command, "--kind", "lstm"], capsys)
        assert "'lstm'" in assert_rejected([command, "--model", "lstm"], capsys)


def test_report_lang_xx(capsys):
    assert "'xx'" in assert_rejected(["report", "--lang", "xx"], capsys)


def test_report_format_docx(capsys):
    line = assert_rejected(["report", "--format", "docx"], capsys)
    assert "--format" in line and "'docx'" in line


@pytest.mark.parametrize("command", ["train", "runs", "report"])
@pytest.mark.parametrize("seed", ["abc", "1.5", "", "4x2", "seven"])
def test_non_numeric_seed(command, seed, capsys):
    line = assert_rejected([command, "--seed", seed], capsys)
    assert "--seed" in line and "integer" in line


@pytest.mark.parametrize("command", ["train", "runs", "report"])
@pytest.mark.parametrize("count", ["0", "-1"])
def test_seed_count_below_one(command, count, capsys):
    line = assert_rejected([command, "--seeds", count], capsys)
    assert "--seeds" in line


@pytest.mark.parametrize(
    "argv",
    [["train", "--dataset"], ["runs", "--nosuch"], ["nosuch"], ["data", "nosuch"]],
    ids=["missing-value", "unknown-option", "unknown-command", "unknown-data-command"],
)
def test_malformed_command_lines(argv, capsys):
    assert_rejected(argv, capsys)


@pytest.mark.parametrize("command", ["info", "fetch"])
def test_data_with_an_unknown_name(command, capsys):
    line = assert_rejected(["data", command, "nosuch"], capsys)
    assert "'nosuch'" in line


@pytest.mark.parametrize("command", ["report", "build"])
@pytest.mark.parametrize("option", ["--dataset", "--kind", "--model"])
def test_report_and_build_have_no_subset_options(command, option, capsys):
    """Both cover every lab: a subset option is unknown there, as any unknown option."""
    line = assert_rejected([command, option, "cnn" if option != "--dataset" else "mnist"], capsys)
    assert f"No such option '{option}'" in line


@pytest.mark.parametrize("option", ["--kind", "--model"])
def test_kind_and_its_alias_model_select_the_same_runs(option, capsys):
    code, out, err = run_main(
        ["runs", "--seeds", "1", "--dataset", "boston", option, "rnn"], capsys
    )
    assert code == 0 and "Traceback" not in err
    assert [line.split()[0] for line in out.splitlines()] == ["boston-rnn"]


# --- config files ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["runs", "train"])
def test_config_with_an_unknown_key(command, tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text('[report]\nauthor = "a"\nauthr = "b"\n', encoding="utf-8")
    line = assert_rejected(
        [command, "--seeds", "1", "--dataset", "boston", "--config", str(path)], capsys
    )
    assert "'authr'" in line and "line 3" in line


def test_config_file_that_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "missing.toml"
    line = assert_rejected(["runs", "--config", str(missing)], capsys)
    assert str(missing) in line


def test_config_with_bad_syntax(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text("[training.boston-cnn\nepochs = 2\n", encoding="utf-8")
    line = assert_rejected(["runs", "--config", str(path)], capsys)
    assert "line 1" in line


def test_config_that_is_a_folder(tmp_path, capsys):
    folder = tmp_path / "configs"
    folder.mkdir()
    assert_rejected(["runs", "--config", str(folder)], capsys)


def test_config_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "utf16.toml"
    path.write_bytes('[report]\nauthor = "Thắng"\n'.encode("utf-16"))
    assert_rejected(["runs", "--config", str(path)], capsys)


@pytest.mark.parametrize(
    "logo,make,reason",
    [
        ("logo.png", lambda path: path.symlink_to("/etc/passwd"), "is a symbolic link"),
        ("../logo.png", None, "is outside"),  # refused as written: never looked for
        ("/etc/passwd.png", None, "is an absolute path"),
        ("logo.png", lambda path: path.write_text("text\n", encoding="utf-8"), "not a readable"),
        ("logo.png", lambda path: path.write_bytes(b""), "is empty"),
        ("logo.svg", lambda path: path.write_text('<!DOCTYPE svg [<!ENTITY x "y">]><svg/>'),
         "has a DTD"),
    ],
    ids=["symlink-to-passwd", "up-and-out", "absolute", "text-as-png", "empty", "svg-with-dtd"],
)  # fmt: skip
def test_a_logo_that_is_not_a_real_image_of_the_project_is_one_line(
    tmp_path, capsys, logo, make, reason
):
    """Refused before anything is published (the PDF's cover used to print the word "Logo")."""
    if make:
        make(tmp_path / logo)
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.toml").write_text(f'[report]\nlogo = "{logo}"\n', "utf-8")
    line = assert_rejected(["runs", "--seeds", "1", "--dataset", "boston"], capsys)
    assert f"report: 'logo' (line 2): {logo} " in line and reason in line


@pytest.mark.parametrize("title", ['"A\\u0007B"', '""'], ids=["control-character", "empty"])
def test_a_title_the_pdf_cannot_carry_is_one_line(tmp_path, capsys, title):
    path = tmp_path / "mine.toml"
    path.write_text(f"[report]\ntitle_en = {title}\n", encoding="utf-8")
    line = assert_rejected(["runs", "--config", str(path)], capsys)
    assert "'title_en' (line 2)" in line


# --- folders --------------------------------------------------------------------------------


def test_unwritable_build_folder_is_one_line(data_dir, tmp_path):
    blocker = tmp_path / "file.txt"  # root ignores chmod: a path under a file fails instead
    blocker.write_text("not a folder\n", encoding="utf-8")
    build = blocker / "build"
    result = run_nnlab(
        ["train", "--seeds", "1", "--dataset", "boston", "--profile", "quick"],
        data_dir,
        build,
        timeout=120,
    )
    assert result.stdout == ""
    line = assert_one_line_error(result.returncode, result.stderr)
    assert str(build) in line
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"


def test_runs_without_the_dataset_say_its_checksum_was_not_compared(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNLAB_DATA_DIR", str(tmp_path / "empty-cache"))
    code, out, err = run_main(["runs", "--seeds", "1", "--dataset", "boston"], capsys)
    assert code == 0 and "Traceback" not in err
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["boston-cnn", "missing"],
        ["boston-rnn", "missing"],
    ]
    assert "boston not cached here" in err and "nnlab data fetch boston" in err


# --- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", SUBCOMMANDS, ids=lambda argv: " ".join(argv) or "nnlab")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_exits_zero_with_usage(argv, flag, capsys):
    code, out, err = run_main([*argv, flag], capsys)
    assert code == 0
    assert err == ""
    assert out.startswith("Usage: ")
    assert " ".join(["nnlab", *argv]) in out.splitlines()[0]


def test_version_exits_zero(capsys):
    code, out, err = run_main(["--version"], capsys)
    assert code == 0 and err == ""
    assert "0.1.0" in out


def test_help_as_a_real_process(data_dir, tmp_path):
    result = run_nnlab(["--help"], data_dir, tmp_path / "build", timeout=120)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: ")
    for command in ("data", "train", "runs", "report", "build", "freeze", "models"):
        assert f"  {command} " in result.stdout
    assert result.stderr == ""
    assert not (tmp_path / "build").exists()


def test_bench_without_trained_runs_is_one_line(capsys):
    """bench reads fit and predict times from the runs; with none it says what to run."""
    line = assert_rejected(["bench", "--profile", "quick"], capsys)
    assert "no finished quick runs" in line and "nnlab train --profile quick" in line


def test_an_internal_error_keeps_its_traceback_and_says_it_is_a_bug(monkeypatch, capsys):
    """Only the user's own input becomes one line; a bug (here an OSError no module expected)
    shows where it happened."""
    from nnlab import models

    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(models, "select", broken)
    code, out, err = run_main(["runs", "--profile", "quick"], capsys)
    assert code == 1
    assert "Traceback (most recent call last)" in err and "Input/output error" in err
    assert err.strip().splitlines()[-1].startswith("nnlab: internal error: this is a bug")


def test_training_without_tensorflow_names_the_install_command(data_dir, tmp_path):
    """The base install renders reports only; `nnlab train` there says how to get TensorFlow."""
    import subprocess

    from conftest import REPO, nnlab_env

    code = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; "
            "sys.argv = ['nnlab', 'train', '--profile', 'quick', '--dataset', 'boston']; "
            "from nnlab.cli import main; main()")  # fmt: skip
    env = nnlab_env(data_dir, tmp_path / "build")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env, timeout=120
    )
    line = assert_one_line_error(result.returncode, result.stderr)
    assert "TensorFlow is not installed" in line and "pip install -e '.[cpu]'" in line


# --- inputs that size work, and inputs the commands used to crash on --------------------------

HOUSE = "10.0,0.0,9.0,1.0,0.5,5.0,50.0,1.0,4.0,400.0,20.0,400.0,25.0"


@pytest.mark.parametrize("command", ["train", "runs", "report"])
def test_a_huge_seed_count_in_report_toml_is_refused_before_any_plan(command, tmp_path, capsys):
    """A billion seeds was a MemoryError while listing them, before the 12-hour guard spoke."""
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.toml").write_text("seeds = 1000000000\n", encoding="utf-8")
    line = assert_rejected([command, "--profile", "quick"], capsys)
    assert "'seeds' (line 1) must be a whole number from 1 to 1,000, got 1000000000" in line


@pytest.mark.parametrize("command", ["train", "runs", "report"])
def test_a_huge_seed_count_on_the_command_line_is_refused(command, capsys):
    line = assert_rejected([command, "--seeds", "1000000000"], capsys)
    assert "--seeds" in line and "1<=x<=1000" in line


def test_a_huge_epoch_count_is_refused_before_any_plan(tmp_path, capsys):
    config = tmp_path / "mine.toml"
    config.write_text("[training.boston-cnn]\nepochs = 1000000000\n", encoding="utf-8")
    line = assert_rejected(["train", "--dataset", "boston", "--config", str(config)], capsys)
    assert "'epochs' (line 2) must be at most 10,000" in line


@pytest.mark.parametrize("command", ["train", "runs", "report", "freeze"])
@pytest.mark.parametrize("seed", ["-3", "-1", str(2**31)])
def test_a_seed_numpy_cannot_take_is_refused(command, seed, capsys):
    """NumPy takes seeds from 0 to 2**32 - 1: a first seed outside 0..2**31 - 1 (room for up
    to 1,000 seeds after it) is refused here, not mid-training."""
    line = assert_rejected([command, "--seed", seed], capsys)
    assert "--seed" in line and "0<=x<=2147483647" in line


def test_predict_boston_with_empty_features_is_one_line(capsys):
    line = assert_rejected(["predict", "boston", "--features", ""], capsys)
    assert "expected 13 comma-separated features" in line and "got 0" in line


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels (no image data: only the header is
    ever read for an image this large)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("width", "height"),
    [(7000, 7000), (10_000, 10_000), (20_000, 20_000)],
    ids=["49-megapixels", "100-megapixels-pillow-warns", "400-megapixels-pillow-refuses"],
)
def test_predict_mnist_refuses_a_huge_image_from_its_header(width, height, tmp_path, capsys):
    """The 40-megapixel cap speaks before any decoding, and before Pillow's own (larger) cap
    warns or raises its DecompressionBombError."""
    image = tmp_path / "huge.png"
    image.write_bytes(png_header(width, height))
    line = assert_rejected(["predict", "mnist", str(image)], capsys)
    assert "image too large; at most 40,000,000 pixels" in line


def test_predict_without_models_says_the_frozen_results_hold_none(monkeypatch, capsys):
    """The report shows the frozen runs as trained, but results/ keeps no models: predict says
    so, and names the one run to train (one seed, not all ten)."""
    from conftest import REPO

    monkeypatch.chdir(REPO)  # its results/ (the build folder stays the test's own, empty)
    line = assert_rejected(["predict", "boston", "--features", HOUSE], capsys)
    assert "hold the report's boston runs but no trained models" in line
    assert line.endswith(
        "train the one run that predict needs: "
        "nnlab train --profile full --dataset boston --seed 42 --seeds 1"
    )


def test_predict_names_the_users_config_in_its_command(monkeypatch, tmp_path, capsys):
    from conftest import REPO

    config = tmp_path / "my config.toml"
    config.write_text("[report]\n", encoding="utf-8")
    monkeypatch.chdir(REPO)
    line = assert_rejected(
        ["predict", "boston", "--features", HOUSE, "--seed", "7", "--config", str(config)], capsys
    )
    assert "run boston-cnn (seed 7, full profile) is missing in the build" in line
    assert line.endswith(f"--dataset boston --seed 7 --seeds 1 --config '{config}'")


def test_data_info_only_reads_the_cache(tmp_path, monkeypatch, capsys):
    """An empty data folder: info names what is missing and the command that fetches it, and
    downloads nothing (it used to fetch 135 MB without a word)."""
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    monkeypatch.setenv("NNLAB_DATA_DIR", str(empty))
    line = assert_rejected(["data", "info"], capsys)
    assert f"mnist, imdb, boston not cached in {empty}" in line
    assert line.endswith("fetch with: nnlab data fetch mnist imdb boston")
    assert list(empty.iterdir()) == []


def test_data_info_names_the_cached_ones_when_some_are_missing(
    data_dir, tmp_path, monkeypatch, capsys
):
    import shutil

    partial = tmp_path / "partial"
    shutil.copytree(data_dir, partial)
    for path in partial.glob("mnist*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    monkeypatch.setenv("NNLAB_DATA_DIR", str(partial))
    line = assert_rejected(["data", "info"], capsys)
    assert "mnist not cached" in line and "nnlab data fetch mnist" in line
    assert line.endswith("or ask only for the cached: nnlab data info imdb boston")
    code, out, err = run_main(["data", "info", "boston"], capsys)
    assert code == 0 and err == "" and out.startswith("boston: ")


@pytest.mark.parametrize(
    ("command", "says", "never"),
    [
        ("report", "Report on each model's runs", ["Train each", "--dataset", "--kind"]),
        ("runs", "List each model's runs", ["Train each"]),
        ("freeze", "Freeze each model's runs", ["Train each"]),
        ("train", "Train each model", []),
        ("build", "Train each model", ["--dataset", "--kind"]),
    ],
)
def test_help_describes_the_options_for_each_command(command, says, never, capsys):
    """`report --help` described --seeds as training and named options report does not have."""
    code, out, err = run_main([command, "--help"], capsys)
    assert code == 0 and err == ""
    flat = " ".join(out.split())
    assert says in flat
    for text in never:
        assert text not in flat


def test_runs_aligns_long_trial_names(capsys):
    code, out, err = run_main(["runs", "--profile", "quick", "--seeds", "1"], capsys)
    assert code == 0 and "Traceback" not in err
    lines = out.splitlines()
    names = [line.split()[0] for line in lines]
    assert max(map(len, names)) > 19  # an experiment's trial name, longer than the old column
    starts = {line.index("missing") for line in lines}
    folders = {line.index(str(Path("runs"))) for line in lines}
    assert len(starts) == 1 and len(folders) == 1, out
