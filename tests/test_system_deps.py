"""scripts/system-deps.sh on each platform it tells apart, faked: stand-in `uname`, `brew`,
`dpkg-query`, `id` and `node` on a PATH that holds nothing else (but grep), so the script sees
only the platform the test gives it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

SCRIPT = REPO / "scripts" / "system-deps.sh"
BASH = shutil.which("bash")
MAC_PACKAGES = ["pango", "poppler", "font-noto-sans", "font-dejavu"]


def stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


def run_script(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BASH, str(SCRIPT)], env={"PATH": str(folder)}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


@pytest.fixture
def bin_dir(tmp_path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "grep").symlink_to(shutil.which("grep"))
    return folder


def fake_brew(folder: Path, installed: list[str]) -> None:
    """`brew list --formula|--cask NAME…` succeeds only when every NAME is installed."""
    names = " ".join(installed)
    stub(
        folder,
        "brew",
        f"""[ "$1" = list ] || exit 2
shift 2
for name in "$@"; do case " {names} " in *" $name "*) ;; *) exit 1 ;; esac; done""",
    )


def test_macos_with_everything_from_homebrew_passes(bin_dir):
    stub(bin_dir, "uname", "echo Darwin")
    fake_brew(bin_dir, MAC_PACKAGES)
    done = run_script(bin_dir)
    assert (done.returncode, done.stderr) == (0, "")


def test_macos_missing_a_package_prints_the_one_brew_command(bin_dir):
    stub(bin_dir, "uname", "echo Darwin")
    fake_brew(bin_dir, ["pango"])
    done = run_script(bin_dir)
    assert done.returncode == 1
    commands = [line.strip() for line in done.stderr.splitlines() if "brew install" in line]
    assert commands == ["brew install " + " ".join(MAC_PACKAGES)]
    assert "Homebrew first" not in done.stderr


def test_macos_without_homebrew_says_to_install_it_first(bin_dir):
    stub(bin_dir, "uname", "echo Darwin")
    done = run_script(bin_dir)
    assert done.returncode == 1
    assert "Homebrew first" in done.stderr and "brew install pango" in done.stderr


@pytest.mark.parametrize("platform", ["MINGW64_NT-10.0-19045", "MSYS_NT-10.0", "CYGWIN_NT-10.0"])
def test_windows_is_sent_to_wsl2(bin_dir, platform):
    stub(bin_dir, "uname", f"echo {platform}")
    done = run_script(bin_dir)
    assert done.returncode == 1
    assert "WSL2 with Ubuntu" in done.stderr and "wsl --install -d Ubuntu" in done.stderr


def test_linux_without_apt_is_said_to_be_unsupported(bin_dir):
    stub(bin_dir, "uname", "echo Linux")
    done = run_script(bin_dir)
    assert done.returncode == 1
    assert "Linux without apt" in done.stderr and "not supported" in done.stderr
    assert "libpango-1.0-0" in done.stderr  # what to look for in its own package manager


def test_debian_as_a_user_prints_the_apt_command_for_what_is_missing(bin_dir):
    stub(bin_dir, "uname", "echo Linux")
    # Every package installed but Chromium; Node.js 18+ present; not root.
    stub(bin_dir, "dpkg-query", '[ "${!#}" = chromium ] || echo "install ok installed"')
    stub(bin_dir, "id", "echo 1000")
    stub(bin_dir, "node", "exit 0")
    stub(bin_dir, "npm", "exit 0")
    done = run_script(bin_dir)
    assert done.returncode == 1
    assert "sudo apt-get install -y chromium" in done.stderr
