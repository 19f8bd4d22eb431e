"""Both editions rendered from quick-profile runs: files, structure, numbers, catalogs, safety."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, copy_build, run_nnlab
from pypdf import PdfReader

from nnlab import runs
from nnlab.config import QUICK_SEEDS
from nnlab.data import DATASETS
from nnlab.report.i18n import LANGUAGES, Translator, catalog
from nnlab.report.prose import section_names
from nnlab.results import read_run

pytestmark = pytest.mark.slow
LOCALE = REPO / "report" / "locale"
CONTENT = REPO / "report" / "content"


class Page(HTMLParser):
    """Collects what the checks need: lang, ids, links, images, metric cells, script tags."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.ids, self.links, self.images, self.scripts = set(), [], [], 0
        self.metric_cells: dict[str, str] = {}
        self.seed_cells: dict[str, str] = {}
        self._metric = None
        self._cells = self.metric_cells

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "script":
            self.scripts += 1
        for attribute, cells in (("data-metric", self.metric_cells),
                                 ("data-seed-metric", self.seed_cells)):  # fmt: skip
            if attribute in attrs:
                self._metric, self._cells = attrs[attribute], cells
                cells[self._metric] = ""

    def handle_data(self, data):
        if self._metric:
            self._cells[self._metric] += data

    def handle_endtag(self, tag):
        if tag == "td":
            self._metric = None


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_outputs_exist(rendered):
    site = rendered / "site"
    for path in ("index.html", ".nojekyll", "assets/screen.css", "vi/index.html", "en/index.html",
                 "vi/report.vi.pdf", "en/report.en.pdf"):  # fmt: skip
        assert (site / path).exists(), path
    for lang in LANGUAGES:
        assert (rendered / f"report.{lang}.pdf").stat().st_size > 50_000


@pytest.mark.parametrize("lang", LANGUAGES)
def test_html_edition_is_whole_and_links_resolve(rendered, lang):
    page_path = rendered / "site" / lang / "index.html"
    page = parse(page_path)
    assert page.lang == lang
    assert page.scripts == 0  # the site works without JavaScript
    for section in ("intro", "mnist", "imdb", "boston", "layers", "theory", "fixes", "appendix"):
        assert section in page.ids
    for src in page.images:
        assert (page_path.parent / src).is_file(), src
    for href in page.links:
        if href.startswith("#"):
            assert href[1:] in page.ids, href
        else:
            assert not href.startswith(("http:", "https:", "/")), href  # relative only
            target, _, anchor = href.partition("#")
            assert (page_path.parent / target).is_file(), href
            if anchor:  # the same section in the other edition
                assert anchor in parse(page_path.parent / target).ids, href


@pytest.mark.parametrize("lang", LANGUAGES)
def test_html_numbers_equal_run_metrics(rendered, lang):
    t = Translator(LOCALE, lang)
    page = parse(rendered / "site" / lang / "index.html")
    checked = 0
    shown = detail_seeds(rendered)
    for key, text in page.metric_cells.items():
        dataset, kind, metric = key.split("-", 2)
        seed = shown[dataset][kind]
        folder = rendered / "runs" / "quick" / f"{dataset}-{kind}" / f"seed-{seed}"
        value = read_run(folder, f"{dataset}-{kind}", runs.read_record(folder)).metrics[metric]
        percent = metric in {"accuracy", "precision_macro", "recall_macro", "f1_macro"}
        expected = t.pct(value) if percent else None
        if expected is None:
            digits = {"log_loss": 4, "mse": 2, "mae": 3, "rmse": 3, "r2": 3}[metric]
            expected = t.num(value, digits)
        assert text.strip().startswith(expected), (key, text, expected)
        checked += 1
    assert checked == 2 * (5 + 5 + 4)


def detail_seeds(build) -> dict[str, dict[str, int]]:
    """The seed each model's detailed section shows: verdicts.json's detail_seed (the typical
    run that trained), else the first seed (no run of that model trained)."""
    import json

    found = json.loads((build / "verdicts.json").read_text(encoding="utf-8"))
    return {
        c["dataset"]: {kind: c["models"][kind]["detail_seed"] or c["models"][kind]["seeds"][0]
                       for kind in ("cnn", "rnn")}
        for c in found["comparisons"] if c["protocol"] == "notebook" and c["population"] == "all"
    }  # fmt: skip


def toc_entries(text: str) -> list[tuple[str, int]]:
    """The contents page's entries, (title, page number), from its text: its heading line,
    then "title ........ 12" lines (a long title may wrap), then the page's own number."""
    entries, pending = [], ""
    for line in text.splitlines()[1:-1]:
        pending = f"{pending} {line}".strip()
        if found := re.fullmatch(r"(.+?)\s*\.{3,}\s*(\d+)", pending):
            entries.append((found.group(1), int(found.group(2))))
            pending = ""
    assert pending == "", pending  # every line read belongs to an entry
    return entries


def pdf_outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """The PDF's bookmarks in reading order: (depth, title, the page it opens, from 1)."""
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pdf_has_toc_sections_and_page_numbers(rendered, lang):
    """Each contents entry's number is the page its heading is printed on: the page that
    heading's bookmark opens, and a page whose text holds the title."""
    t = Translator(LOCALE, lang)
    reader = PdfReader(rendered / f"report.{lang}.pdf")
    assert len(reader.pages) > 15
    toc = reader.pages[1].extract_text()
    assert toc.splitlines()[0] == t("Contents") and toc.splitlines()[-1] == "2"
    entries = toc_entries(toc)
    assert len(entries) >= 30  # the chapters and their sections
    marks = pdf_outline(reader)
    chapters = [title for depth, title, _ in marks if depth == 0]
    assert len(chapters) >= 9  # cover title, intro, summary, 3 labs, theory, fixes, appendix
    assert set(chapters[1:]) <= {title for title, _ in entries}  # every chapter is listed
    later = iter(marks)  # a lab's section titles repeat: each entry takes the next bookmark
    for title, page in entries:
        opened = next((at for _, name, at in later if name == title), None)
        assert opened == page, (title, page, opened)
        assert title in " ".join(reader.pages[page - 1].extract_text().split()), (title, page)
    assert [page for _, page in entries] == sorted(page for _, page in entries)
    assert reader.pages[5].extract_text().strip().splitlines()[-1].strip() == "6"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pdf_has_no_empty_pages(rendered, lang):
    reader = PdfReader(rendered / f"report.{lang}.pdf")
    empty = [n + 1 for n, page in enumerate(reader.pages) if len(page.extract_text().strip()) < 5]
    assert empty == []


def _is_t(name: str | None) -> bool:
    return name == "t"  # the Translator, t("key", **values), in templates and Python alike


def python_keys() -> tuple[set[str], set[str]]:
    """The message ids src/nnlab/**/*.py passes to a translator `t(...)` (or `x.t(...)`): the
    literal ids (both arms of `"a" if c else "b"`), and the built ones (f"lab-short:{name}",
    "exp:x-" + k) as patterns, each piece of computed text matching any text."""

    def literals(node) -> list[str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            body, orelse = literals(node.body), literals(node.orelse)
            return body + orelse if body is not None and orelse is not None else None
        return None

    def pattern(node) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return re.escape(node.value)
        if isinstance(node, ast.JoinedStr):
            return "".join(pattern(part) for part in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return pattern(node.left) + pattern(node.right)
        return ".+"

    found, built = set(), set()
    for path in (REPO / "src" / "nnlab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            if not _is_t(getattr(func, "id", None) or getattr(func, "attr", None)):
                continue
            if (keys := literals(node.args[0])) is not None:
                found |= set(keys)
            elif (regex := pattern(node.args[0])) != ".+":  # a bare variable: not static
                built.add(regex)
    return found, built


def template_keys() -> tuple[set[str], set[str]]:
    """The message ids every template under templates/ (macros included) passes to `t(...)`:
    literal ids (both arms of `"a" if c else "b"`) and built ones ("lab-short:" ~ lab.name)
    as patterns, as python_keys does."""
    from jinja2 import Environment, nodes

    def literals(node) -> list[str] | None:
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
            body, orelse = literals(node.expr1), literals(node.expr2)
            return body + orelse if body is not None and orelse is not None else None
        return None

    def pattern(node) -> str:
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            return re.escape(node.value)
        if isinstance(node, nodes.Concat):
            return "".join(pattern(part) for part in node.nodes)
        return ".+"

    env = Environment()
    found, built, templates = set(), set(), sorted((REPO / "templates").rglob("*.html"))
    assert len(templates) > 30 and REPO / "templates" / "macros.html" in templates
    for path in templates:
        for call in env.parse(path.read_text(encoding="utf-8")).find_all(nodes.Call):
            if not (call.args and _is_t(getattr(call.node, "name", None)
                                        or getattr(call.node, "attr", None))):  # fmt: skip
                continue
            if (keys := literals(call.args[0])) is not None:
                found |= set(keys)
            elif (regex := pattern(call.args[0])) != ".+":
                built.add(regex)
    return found, built


def test_catalogs_complete_in_both_languages():
    """Every message id the report uses, in a template or in Python, has a non-empty text in
    both catalogs; ids built from a name ("lab-short:" ~ lab) match some id in both."""
    from babel.messages.pofile import read_po

    from nnlab.report import contents

    entries = {}
    for lang in LANGUAGES:
        with open(LOCALE / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
            entries[lang] = {m.id: m.string for m in read_po(handle) if m.id}
        assert [key for key, text in entries[lang].items() if not text.strip()] == [], lang
    vi, en = catalog(LOCALE, "vi"), catalog(LOCALE, "en")
    assert set(vi) == set(en) == set(entries["vi"])
    python, python_built = python_keys()
    templates, templates_built = template_keys()
    titles = {c.title for c in contents.CHAPTERS if c.title}
    titles |= {s.title for c in contents.CHAPTERS for s in c.sections}  # t(section.title)
    used = python | templates | titles
    assert len(python) > 100 and len(templates) > 100  # the ids were found
    for lang, messages in (("vi", vi), ("en", en)):
        assert sorted(used - set(messages)) == [], lang
        unmatched = [regex for regex in python_built | templates_built
                     if not any(re.fullmatch(regex, key) for key in messages)]  # fmt: skip
        assert len(python_built) > 10 and len(templates_built) > 10
        assert sorted(unmatched) == [], lang


def test_prose_parallel_in_both_languages():
    assert section_names(CONTENT, "vi") == section_names(CONTENT, "en")
    total = 0
    for name in section_names(CONTENT, "en"):
        levels = {
            lang: [len(m) for m in re.findall(r"^(#+) ", (CONTENT / lang / f"{name}.md")
                                              .read_text(), re.M)]
            for lang in LANGUAGES
        }  # fmt: skip
        assert levels["vi"] == levels["en"], name
        total += len(levels["en"])
    assert total > 30


def test_user_text_is_escaped(rendered, data_dir, tmp_path):
    build = copy_build(rendered, tmp_path / "copy")  # re-rendered with the payload: its own
    payload = '<script>alert(1)</script>"onerror="alert(2)'
    config = tmp_path / "report.toml"
    config.write_text(
        f"[report]\nauthor = '{payload}'\ntitle_en = '{payload}'\ncourse = '{payload}'\n",
        encoding="utf-8",
    )
    result = run_nnlab(["report", "--profile", "quick", "--format", "html", "--lang", "en",
                        "--config", str(config)], data_dir, build)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for page in (build / "site" / "en" / "index.html", build / "site" / "index.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert '"onerror="' not in html


def test_pdf_fetcher_refuses_outside_files_and_network(tmp_path):
    from weasyprint import HTML

    from nnlab.report.fetcher import ConfinedFetcher

    inside = tmp_path / "ok.svg"
    inside.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    fetcher = ConfinedFetcher([tmp_path])
    html = (f'<p>x</p><img src="file:///etc/passwd"><img src="http://example.com/a.png">'
            f'<img src="{inside.as_uri()}">')  # fmt: skip
    pdf = HTML(string=html, base_url=str(tmp_path) + "/", url_fetcher=fetcher).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert "file:///etc/passwd" in fetcher.refused
    assert "http://example.com/a.png" in fetcher.refused
    assert inside.as_uri() not in fetcher.refused


def test_missing_run_is_one_line(tmp_path, data_dir):
    result = run_nnlab(["report", "--profile", "quick"], data_dir, tmp_path / "empty")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is missing in the build" in lines[0]
    assert "make it with: nnlab train --profile quick --dataset mnist --seed 42" in lines[0]


def test_frozen_results_render_without_runs_or_data(rendered, data_dir, tmp_path):
    """The GitHub Pages path: `nnlab freeze`, then render elsewhere from results/ alone."""
    project = tmp_path / "clone"
    project.mkdir()
    frozen = run_nnlab(["freeze", "--profile", "quick", "--to", str(project / "results")],
                       data_dir, rendered)  # fmt: skip
    assert frozen.returncode == 0, frozen.stderr
    assert not list((project / "results").rglob("model.keras"))
    result = run_nnlab(["report", "--profile", "quick", "--lang", "en", "--format", "html"],
                       tmp_path / "no-data", tmp_path / "fresh-build", cwd=project)  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = parse(tmp_path / "fresh-build" / "site" / "en" / "index.html")
    assert len(page.metric_cells) == 28
    html = (tmp_path / "fresh-build" / "site" / "en" / "index.html").read_text(encoding="utf-8")
    assert 'id="experiment-capacity"' in html  # the experiments were frozen with the runs
    for src in page.images:
        assert (tmp_path / "fresh-build" / "site" / "en" / src).is_file()


def test_svgs_use_only_fonts_the_reader_has(rendered):
    """Equations are outlines (mathtext's STIX/CM fonts exist only inside Matplotlib); charts
    name only DejaVu Sans, which the set-up installs."""
    site = rendered / "site" / "en"
    for svg in (site / "eq").glob("*.svg"):
        assert "font-family" not in svg.read_text(), svg.name
    fonts = set()
    for svg in (site / "figures").glob("*.svg"):
        fonts |= set(re.findall(r"font-family: ?'([^']+)'", svg.read_text()))
    assert fonts == {"DejaVu Sans"}


def test_every_site_file_is_readable_by_a_web_server(rendered):
    """Files get 0666 less the umask (as `cp` would), not mkstemp's 0600: a web server running
    as another user must read them."""
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    files = [p for p in (rendered / "site").rglob("*") if p.is_file()]
    assert len(files) > 40
    modes = {stat.S_IMODE(p.stat().st_mode) for p in files}
    assert modes == {0o666 & ~mask}, {oct(m) for m in modes}


def test_a_stale_run_is_rendered_with_a_warning_naming_what_changed(rendered, data_dir, tmp_path):
    build = copy_build(rendered, tmp_path / "copy")
    config = tmp_path / "report.toml"
    config.write_text("[training.boston-cnn]\nepochs = 3\n", encoding="utf-8")
    result = run_nnlab(["report", "--profile", "quick", "--format", "html", "--lang", "en",
                        "--config", str(config)], data_dir, build)  # fmt: skip
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    # one line per seed of boston-cnn, none for the other models
    assert len(warnings) == QUICK_SEEDS
    seeds = range(42, 42 + QUICK_SEEDS)
    for seed, line in zip(seeds, warnings, strict=True):
        assert f"run boston-cnn (seed {seed})" in line
        assert "its training settings (epochs 1 → 3) changed" in line
        assert line.endswith(
            f"redo it with: nnlab train --profile quick --dataset boston --seed {seed} "
            f"--config {config}"
        )


def test_a_corrupt_run_names_the_command_that_redoes_it(rendered, data_dir, tmp_path):
    build = copy_build(rendered, tmp_path / "copy")
    history = build / "runs" / "quick" / "imdb-rnn" / "seed-42" / "history.csv"
    history.write_text(history.read_text() + "9,9,9\n")
    result = run_nnlab(["report", "--profile", "quick", "--format", "html"], data_dir, build)
    assert result.returncode == 0, result.stderr[-2000:]  # a preliminary report without it
    [line] = [line for line in result.stderr.splitlines() if "history.csv" in line]
    assert "history.csv is missing or altered" in line
    assert "the run will be redone" not in line  # report never trains: it names the command
    assert line.endswith("make it with: nnlab train --profile quick --dataset imdb --seed 42")


def test_a_catalog_edit_redraws_the_figures(tmp_path):
    import shutil

    from nnlab.report.assets import FigureStore
    from nnlab.report.render import figure_code

    locale = tmp_path / "locale"
    shutil.copytree(LOCALE, locale)
    drawn = []

    def draw(store: FigureStore) -> None:
        store.get("curves", {"run": "same inputs"}, lambda: drawn.append(1) or "<svg/>")

    before = figure_code(locale, "vi")
    draw(FigureStore(tmp_path / "cache", tmp_path / "out", "vi", before))
    draw(FigureStore(tmp_path / "cache", tmp_path / "out", "vi", figure_code(locale, "vi")))
    assert len(drawn) == 1  # unchanged: reused
    po = locale / "vi" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    edited = text.replace(
        'msgid "validation"\nmsgstr "kiểm định"', 'msgid "validation"\nmsgstr "xác thực"'
    )
    assert edited != text
    po.write_text(edited, encoding="utf-8")
    after = figure_code(locale, "vi")
    assert after != before and figure_code(locale, "en") == figure_code(LOCALE, "en")
    draw(FigureStore(tmp_path / "cache", tmp_path / "out", "vi", after))
    assert len(drawn) == 2


def test_the_statistics_cache_is_keyed_by_its_settings(tmp_path, monkeypatch):
    import numpy as np

    from nnlab import stats
    from nnlab.report import context as ctx
    from nnlab.report.render import STATISTICS_STAGE, cached_comparison
    from nnlab.results import RunResult

    rng = np.random.default_rng(0)
    y = rng.normal(20, 5, 60)
    runs_ = {kind: RunResult(f"boston-{kind}", {"files": {"predictions.npz": kind}}, {}, y,
                             y + rng.normal(0, s, 60), tmp_path, {})
             for kind, s in (("cnn", 1.0), ("rnn", 3.0))}  # fmt: skip
    lab = ctx.Lab("boston", runs_, {k: [r] for k, r in runs_.items()})
    first = cached_comparison(lab, tmp_path / "stats")
    assert cached_comparison(lab, tmp_path / "stats") == first
    assert len(list((tmp_path / "stats").iterdir())) == 1
    # as an edit of the constant does: the value and the stage that declares it
    monkeypatch.setattr(stats, "N_RESAMPLES", 500)
    monkeypatch.setitem(STATISTICS_STAGE.params, "resamples", 500)
    cached_comparison(lab, tmp_path / "stats")
    assert len(list((tmp_path / "stats").iterdir())) == 2  # recomputed, not reused
    # the runs' null losses decide which runs failed, so which run is typical: in the key too
    settings = {"epochs": 50, "batch_size": 32, "validation_split": 0.1, "patience": 5}
    for run in runs_.values():
        run.record.update(n_train=404, inputs={"params": {"settings": settings}})
    lab.train_targets = np.r_[np.zeros(363), np.full(41, 3.0)]
    cached_comparison(lab, tmp_path / "stats")
    assert len(list((tmp_path / "stats").iterdir())) == 3


def test_a_refused_image_stops_the_pdf_with_its_name(tmp_path):
    from nnlab.errors import NnlabError
    from nnlab.report.render import Paths, write_pdf

    paths = Paths(tmp_path / "build")
    (tmp_path / "build").mkdir()
    target = tmp_path / "build" / "report.en.pdf"
    target.write_bytes(b"old")
    with pytest.raises(NnlabError, match="file:///etc/hostname"):
        write_pdf('<p>x</p><img src="file:///etc/hostname">', tmp_path / "build", paths, target)
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_seed_is_reported_with_its_own_metric(rendered, lang):
    """The headline table: each model's main metric for each of its seeds."""
    t = Translator(LOCALE, lang)
    page = parse(rendered / "site" / lang / "index.html")
    assert len(page.seed_cells) == 2 * QUICK_SEEDS * len(DATASETS)
    for key, text in page.seed_cells.items():
        dataset, kind, seed = key.split("-")
        folder = rendered / "runs" / "quick" / f"{dataset}-{kind}" / f"seed-{seed}"
        scores = read_run(folder, f"{dataset}-{kind}", runs.read_record(folder)).metrics
        expected = t.pct(scores["accuracy"]) if dataset != "boston" else t.num(scores["mae"], 3)
        assert text.strip().startswith(expected), (key, text, expected)
    html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
    assert t("v:untested-both") not in html and t("uncertainty:one-seed") not in html


def test_a_one_seed_report_says_training_variation_was_not_measured(rendered, data_dir, tmp_path):
    build = copy_build(rendered, tmp_path / "copy")
    result = run_nnlab(["report", "--profile", "quick", "--seeds", "1", "--format", "html"],
                       data_dir, build)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for lang in LANGUAGES:
        t = Translator(LOCALE, lang)
        html = (build / "site" / lang / "index.html").read_text(encoding="utf-8")
        page = parse(build / "site" / lang / "index.html")
        assert sorted(page.seed_cells) == sorted(
            f"{lab}-{kind}-42" for lab in ("mnist", "imdb", "boston") for kind in ("cnn", "rnn")
        )
        assert html.count('id="verdict-') == 3  # each lab's verdict, stated once
        assert t("uncertainty:one-seed") in html


TOOL_WORDS = ("nnlab", "profile", "công cụ này", "this tool", "cấu hình full", "máy chạy")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_edition_mentions_the_tool(rendered, lang):
    """The report is the student's: the tool and its command stay in build/provenance.json;
    the appendix names the machines as a student would."""
    html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body).lower()  # what a reader sees
    for word in TOOL_WORDS:
        assert word not in text, word


def test_two_panel_charts_are_stacked_for_phones(rendered):
    """A phone gets each two-panel chart with its panels one above the other (portrait, so
    their text is not shrunk to half the screen's width), and every other chart with a phone
    variant redrawn narrower; the PDF gets the wide ones."""
    html = (rendered / "site" / "vi" / "index.html").read_text(encoding="utf-8")
    phones = re.findall(r'<source media="\(max-width: 40rem\)" srcset="([^"]+)">', html)
    stacked = [src for src in phones if re.search(r"-(curves|confusion|probabilities|"
                                                  r"diagnostics)-phone\.svg$", src)]  # fmt: skip
    assert len(stacked) >= 7  # curves ×3, confusion ×2, probabilities, diagnostics

    def size(src):
        svg = (rendered / "site" / "vi" / src).read_text(encoding="utf-8")
        return tuple(float(v) for v in re.search(
            r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())  # fmt: skip

    for src in phones:
        width, height = size(src)
        if src in stacked:
            assert height > width, src
        else:
            assert width < size(src.replace("-phone.svg", ".svg"))[0], src


EXPERIMENTS = ("batch-size", "early-stopping", "validation", "data-size", "capacity", "gradients")


def test_the_theory_chapters_show_each_experiment_or_leave_it_out_cleanly(
    rendered, data_dir, tmp_path
):
    import shutil

    for lang in LANGUAGES:
        html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
        for name in EXPERIMENTS:
            assert f'id="experiment-{name}"' in html
        assert "<!-- experiment:" not in html  # every marker replaced by its experiment
        # the gradient experiment stands inside the RNN section, before its stacking part
        rnn = html[html.index('id="theory_rnn"') :]
        assert rnn.index('id="experiment-gradients"') < rnn.index("return_sequences=True")
    build = copy_build(rendered, tmp_path / "copy")
    shutil.rmtree(build / "site")
    result = run_nnlab(["report", "--profile", "quick", "--format", "html", "--no-experiments"],
                       data_dir, build)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for lang in LANGUAGES:
        html = (build / "site" / lang / "index.html").read_text(encoding="utf-8")
        assert 'class="experiment"' not in html
        assert "figures/theory-" not in html  # no experiment figure is referenced
        assert 'id="theory_rnn"' in html and 'id="theory_fitting"' in html
        assert not list((build / "site" / lang / "figures").glob("theory-*"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_verdicts_json_and_the_report_state_the_same_verdicts(rendered, lang):
    import json

    t = Translator(LOCALE, lang)

    def spaced(text):  # as the block's own whitespace is read: a no-break space as a space
        return re.sub(r"\s+", " ", text)

    found = json.loads((rendered / "verdicts.json").read_text(encoding="utf-8"))
    assert found["pending"] == []
    html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
    notebook = [c for c in found["comparisons"] if c["protocol"] == "notebook"]
    assert sorted({c["dataset"] for c in notebook}) == ["boston", "imdb", "mnist"]
    for record in notebook:
        block = re.search(rf'id="verdict-{record["dataset"]}">(.*?)</div>', html, re.S)
        assert block, record["dataset"]
        text = re.sub(r"\s+", " ", block.group(1))
        if record["population"] == "all":  # the reliability line: failures per model, Fisher
            failed = {kind: len(record["models"][kind]["failed"]) for kind in ("cnn", "rnn")}
            if any(failed.values()):
                assert spaced(t.pvalue(record["reliability"]["p_value"])) in text
                assert f"{failed['rnn']}" in text
        elif record["p_value"] is not None:  # the decision: its p-value and cross pairs
            assert spaced(t.pvalue(record["p_value"])) in text
            if record["outcome"] == "consistent":
                direction = record["direction"]
                assert f"({record['cross_pairs'][direction]}" in text
    detail = detail_seeds(rendered)
    for lab, seeds in detail.items():
        assert t("detail-heading", **seeds) in html, lab


# --- length and repetition ------------------------------------------------------------------------

MAX_PDF_PAGES = 36  # a lab report's length, appendices included (#20)
LONG_SENTENCE = 60  # characters: a sentence this long is stated once per edition


class Prose(HTMLParser):
    """What a reader reads of an edition: its text by block, without the site's navigation,
    code listings, the page title and quoted reviews (IMDB holds duplicate reviews under
    different ids: a quote may repeat, the report's own prose may not)."""

    SKIP = {"nav", "pre", "script", "style", "title", "blockquote"}
    BLOCKS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "caption", "figcaption", "div",
              "blockquote", "summary", "tr", "section", "aside", "br"}  # fmt: skip

    def __init__(self):
        super().__init__()
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in self.SKIP
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        self.skipping -= tag in self.SKIP
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def sentences(html: str) -> list[str]:
    """An edition's sentences: each block split after . ! ? before a capital, digit or quote."""
    reader = Prose()
    reader.feed(html)
    out = []
    for block in "".join(reader.parts).split("\n"):
        text = " ".join(block.split())
        out += [s for s in re.split(r"(?<=[.!?])\s+(?=[\"“(\[]?[A-ZÀ-Ỹ0-9])", text) if s]
    return out


def test_sentences_are_split_as_a_reader_reads_them():
    html = ("<nav><p>Contents. Contents.</p></nav><p>One sentence here. Another one (7 words).</p>"
            "<pre>x = 1. y = 2.</pre><li>Bài 1. Đây là câu.</li>")  # fmt: skip
    assert sentences(html) == ["One sentence here.", "Another one (7 words).", "Bài 1.",
                               "Đây là câu."]  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_long_sentence_is_stated_twice_in_an_edition(rendered, lang):
    html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
    found = Counter(s for s in sentences(html) if len(s) >= LONG_SENTENCE)
    assert len(found) > 100  # the edition's prose was read
    assert [s for s, n in found.items() if n > 1] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_pdf_keeps_to_a_lab_reports_length(rendered, lang):
    assert len(PdfReader(rendered / f"report.{lang}.pdf").pages) <= MAX_PDF_PAGES


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reference_material_is_on_the_site_not_in_the_pdf(rendered, lang):
    """The Keras layer chapter is the site's own appendix; the PDF keeps one short table of
    versions, seeds and machines; neither publishes checksums (build/provenance.json does)."""
    t = Translator(LOCALE, lang)
    html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
    pdf = " ".join(page.extract_text() for page in PdfReader(rendered / f"report.{lang}.pdf").pages)
    assert 'id="layers"' in html and "SHA-256" not in html
    assert "SHA-256" not in pdf and t("Layer reference") not in pdf
    assert t("Training machine") in pdf and t("Libraries") in pdf
    assert html.count('id="verdict-') == 3  # each lab's verdict, stated once


def test_the_published_report_holds_no_build_records(rendered):
    """The site is the student's report: no checksums, tool commands or internal run names;
    build/provenance.json keeps them for a rerun."""
    for lang in LANGUAGES:
        html = (rendered / "site" / lang / "index.html").read_text(encoding="utf-8")
        assert not re.search(r"\b[0-9a-f]{64}\b", html), lang  # a SHA-256
        assert "nnlab report" not in html and "nnlab build" not in html, lang
        assert "mnist-cnn (" not in html and "(family" not in html, lang
    record = json.loads((rendered / "provenance.json").read_text())
    assert record["command"].startswith("nnlab build")
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", source["sha256"]) for source in record["data"].values()
    )
    runs = [run for group in record["machines"] for run in group["runs"]]
    assert any(run.startswith("mnist-cnn (") for run in runs)
