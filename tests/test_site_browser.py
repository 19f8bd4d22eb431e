"""The site in headless Chromium at a desktop width and a phone width: pages load, every image
decodes, no console errors, no serious accessibility violation (axe-core), and nothing widens
the page: wide tables scroll inside their wrapper, and no column shrinks to a word a line. A
scrolling table keeps its caption and its first column in view, and on a phone its key columns
(the summary's test metric, an architecture's parameters) start on screen; a phone draws no
chart's text under 9 px. No script: the contents list every section and stay a tap away on a
phone, and each heading links to its section in the other edition. Every page carries the
Content-Security-Policy; on a page with a hostile student's note no script runs, and on a copy
holding a script and a handler the policy alone refuses both.

tests/browser/axe.mjs drives Debian's Chromium through playwright-core (npm, installed by
`make setup` from package-lock.json) with a real viewport of the given CSS width. Chromium's
own `--window-size` is no substitute: headless Chromium never makes its window narrower than
500 px, so a 390 px "phone" check there laid the page out 500 px wide."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nnlab.projectconfig import REPORT_DEFAULTS
from nnlab.report.render import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "browser" / "axe.mjs"
# The browser itself, not Debian's /usr/bin/chromium wrapper script (which adds its own flags).
CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")) if p and Path(p).exists()),
    None,
)  # fmt: skip
NODE = shutil.which("node")
PAGES = ["index.html", "vi/index.html", "en/index.html"]
PHONE = 390
WIDTHS = [1280, PHONE]
BLOCKING = {"serious", "critical"}  # axe impacts that fail the test (minor/moderate: reported)
MIN_CHART_TEXT = 9  # px: the smallest chart text a phone may draw (font size × the image's scale)


def open_pages(site: Path, pages: list[str], widths: list[int], *extra: str) -> dict:
    """The pages at each width, measured and checked by tests/browser/axe.mjs:
    {(page, width): result}."""
    assert CHROMIUM, "chromium is not installed (scripts/system-deps.sh installs it)"
    assert NODE, "node is not installed (scripts/system-deps.sh installs it)"
    assert (REPO / "node_modules" / "axe-core").is_dir(), "npm packages missing: run `make setup`"
    result = subprocess.run(
        [NODE, str(SCRIPT), "--chromium", CHROMIUM, "--site", str(site), "--pages",
         ",".join(pages), "--widths", ",".join(map(str, widths)), *extra],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    return {(r["page"], r["width"]): r for r in report["results"]}


@pytest.fixture(scope="module")
def browser(rendered, tmp_path_factory) -> dict:
    """Every page at every width, measured and checked once."""
    shots = tmp_path_factory.mktemp("shots")
    return open_pages(rendered / "site", PAGES, WIDTHS, "--shots", str(shots))


def cases():
    return pytest.mark.parametrize(
        "page,width", [(p, w) for p in PAGES for w in WIDTHS], ids=lambda v: str(v)
    )


@cases()
def test_page_loads_cleanly(browser, page, width):
    r = browser[page, width]
    assert r["innerWidth"] == width, "the viewport is not the width asked for"
    assert r["broken"] == []
    assert r["console"] == []


@cases()
def test_no_horizontal_page_overflow(browser, page, width):
    r = browser[page, width]
    assert not r["overflow"], (
        f"page {r['scrollWidth']}px wide in a {r['clientWidth']}px viewport; "
        f"sticking out: {json.dumps(r['wide'], ensure_ascii=False)}"
    )


@cases()
def test_wide_tables_scroll_in_their_wrapper(browser, page, width):
    out = [t for t in browser[page, width]["tables"] if t["overflows"]]
    assert out == [], "tables past the viewport outside a scrolling wrapper"


@cases()
def test_no_column_squeezed_to_a_word_a_line(browser, page, width):
    assert browser[page, width]["squeezed"] == []


@cases()
def test_scrolling_tables_keep_their_caption_and_first_column_in_view(browser, page, width):
    """Inside its scrolling box a table's caption is never cut mid-word and its first column is
    whole, scrolled to the start and, for a column of row headers, to the end; the cells marked
    `key` are whole at the start (tests/browser/axe.mjs, `clipped`)."""
    assert browser[page, width]["clipped"] == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_phone_draws_no_chart_text_under_9px(browser, lang):
    """Each SVG chart's smallest text, its font size through the file's transforms times the
    width the page shows the image at over its natural width: a phone gets a chart drawn for
    its width (<picture>) or one that fits."""
    charts = browser[f"{lang}/index.html", PHONE]["charts"]
    assert len(charts) >= 10, "the charts were not measured"
    small = [c for c in charts if c["smallest"] < MIN_CHART_TEXT]
    assert small == [], json.dumps(small, indent=1, ensure_ascii=False)


@cases()
def test_no_script(browser, page, width):
    r = browser[page, width]
    assert (r["scripts"], r["handlers"]) == (0, [])
    assert r["csp"] == CONTENT_SECURITY_POLICY  # and none would run (test_the_policy_alone...)


# What a sanitiser might let through, put into a copy of the hostile note's page: the page's
# Content-Security-Policy alone must stop it (Chromium names each refusal on the console).
BYPASS = (
    '<script>document.title = "script ran"</script>'
    '<img alt="" src="../assets/logo.svg" onload="document.title = \'handler ran\'">'
)


@pytest.fixture(scope="module")
def hostile_browser(hostile_render, tmp_path_factory) -> dict:
    """The English page of conftest.HOSTILE_NOTE (and HOSTILE_SVG as the cover's logo), and a
    copy of it holding BYPASS, at a desktop width."""
    site = shutil.copytree(hostile_render / "site", tmp_path_factory.mktemp("hostile") / "site")
    page = (site / "en" / "index.html").read_text(encoding="utf-8")
    bypass = page.replace("</main>", BYPASS + "</main>")
    (site / "en" / "bypass.html").write_text(bypass, encoding="utf-8")
    return open_pages(site, ["en/index.html", "en/bypass.html"], [1280])


def test_no_script_runs_on_a_page_with_a_hostile_note(hostile_browser):
    r = hostile_browser["en/index.html", 1280]
    assert (r["scripts"], r["handlers"]) == (0, [])
    assert r["title"] == REPORT_DEFAULTS["title_en"]  # no script of the note's changed it
    assert r["csp"] == CONTENT_SECURITY_POLICY
    assert r["console"] == [] and r["broken"] == []  # the note's picture and the logo show


def test_the_policy_alone_stops_what_a_sanitiser_might_miss(hostile_browser):
    r = hostile_browser["en/bypass.html", 1280]
    assert r["scripts"] == 1 and r["handlers"] == ["img"]  # in the page...
    assert r["title"] == REPORT_DEFAULTS["title_en"]  # ...and neither ran
    refused = [line for line in r["console"] if "Content Security Policy" in line]
    assert len(refused) == 2, r["console"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_section_is_in_the_contents_and_in_the_other_edition(browser, lang):
    """Each chapter and section (a <section> with its own h1 or h2) is linked from the contents
    and links from its heading to the same id in the other edition; on a phone, half way down
    the page, a link back to the contents is in view."""
    r = browser[f"{lang}/index.html", PHONE]
    assert r["sections"] > 30
    assert r["unlisted"] == [] and r["unswitched"] == []
    assert r["contentsInView"]


@cases()
def test_no_serious_accessibility_violation(browser, page, width):
    found = [v for v in browser[page, width]["violations"] if v["impact"] in BLOCKING]
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_screenshot_of_each_edition(browser, lang):
    for width in WIDTHS:
        shot = Path(browser[f"{lang}/index.html", width]["screenshot"])
        assert shot.stat().st_size > 20_000
