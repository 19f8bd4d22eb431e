"""The site in headless Chromium: pages load, every image decodes, no console errors, and the
layout fits a phone's width."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"]  # fmt: skip
PROBE = """<script>
window.addEventListener("load", () => {
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
    .map(i => i.getAttribute("src"));
  const root = document.documentElement;
  root.setAttribute("data-broken", JSON.stringify(broken));
  root.setAttribute("data-overflow", String(root.scrollWidth > window.innerWidth + 1));
  root.setAttribute("data-loaded", "yes");
});
</script>"""


def open_in_chromium(page: Path, tmp_path: Path, width: int) -> tuple[str, str]:
    """Load a probed copy of `page` (same folder, so relative URLs resolve); DOM and log."""
    assert CHROMIUM, "chromium is not installed (scripts/system-deps.sh installs it)"
    probe = page.with_name(".probe-" + page.name)
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    try:
        result = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
             f"--window-size={width},900", "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        probe.unlink()
    return result.stdout, result.stderr


@pytest.mark.parametrize("page", ["index.html", "vi/index.html", "en/index.html"])
@pytest.mark.parametrize("width", [1280, 390])
def test_page_loads_cleanly(rendered, tmp_path, page, width):
    dom, log = open_in_chromium(rendered / "site" / page, tmp_path, width)
    assert 'data-loaded="yes"' in dom, log[-2000:]
    broken = json.loads(re.search(r"data-broken=\"([^\"]*)\"", dom).group(1).replace("&quot;", '"'))
    assert broken == []
    assert 'data-overflow="false"' in dom, f"horizontal scrolling at {width}px"
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert console == []


def test_screenshot_of_each_edition(rendered, tmp_path):
    for lang in ("vi", "en"):
        shot = tmp_path / f"{lang}.png"
        subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600",
             f"--screenshot={shot}", (rendered / "site" / lang / "index.html").as_uri()],
            capture_output=True, timeout=120, check=True,
        )  # fmt: skip
        assert shot.stat().st_size > 20_000
