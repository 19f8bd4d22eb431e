"""Render the editions into a site folder (make.make_report stages it): the HTML pages and the
PDFs (<site>/<lang>/report.<lang>.pdf)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from nnlab import cachekey, diagnose, figures, metrics, projectfiles, runfiles, stats
from nnlab.data import boston
from nnlab.errors import NnlabError
from nnlab.fsutil import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    ensure_dir,
    sha256_file,
)
from nnlab.report import contents, editions, findings, listings, prose, references, theory, views
from nnlab.report import context as ctx
from nnlab.report.assets import FigureStore
from nnlab.report.i18n import Translator

# The project folder holding templates/ and report/: the current folder when it has them (a
# plain `pip install`), else the source checkout this module lives in (an editable install).
_SOURCE_ROOT = Path(__file__).resolve().parents[3]
ROOT = Path.cwd() if (Path.cwd() / "templates" / "report.html").exists() else _SOURCE_ROOT


class Paths:
    """Where a render reads and writes; `site`: the folder the site is written to (a staging
    folder beside build/site, make.make_report), by default build/site itself."""

    def __init__(self, build: Path, root: Path = ROOT, site: Path | None = None):
        self.build = build
        self.site = site or build / "site"
        self.cache = build / "cache" / "figures"
        self.templates = root / "templates"
        self.content = root / "report" / "content"
        self.locale = root / "report" / "locale"
        self.notes = root / "report" / "notes"
        self.references = root / "report" / "references.toml"


def edition_context(
    lang: str, labs: list[ctx.Lab], paths: Paths, samples: dict, test_images, meta: dict,
    comparisons: dict, experiments: dict | None = None, verdicts: dict | None = None,
    gaps: dict | None = None,
) -> tuple[dict, FigureStore]:  # fmt: skip
    """An edition's template values; `experiments` (results.load_experiments) None: the
    theory chapters show no experiment."""
    t = Translator(paths.locale, lang)
    lang_dir = ensure_dir(paths.site / lang)
    code = figure_code(paths.locale, lang)
    store = FigureStore(paths.cache, lang_dir / "figures", lang, code)
    equation_store = FigureStore(paths.cache, lang_dir / "eq", "any", code)
    sizes = ctx.dataset_sizes(labs)

    def equation_file(latex: str) -> str:
        return equation_store.get(prose.equation_name(latex)[:-4], latex,
                                  lambda: figures.equation(latex))  # fmt: skip

    filters = {"num": t.num}
    cited = references.References(paths.references)
    facts = {"datasets": sizes, "boston": {"price_cap": boston.PRICE_CAP,
                                           "test_split": boston.TEST_SPLIT}}  # fmt: skip
    texts = prose.render_all(
        paths.content, lang, facts, filters, equation_file, cited.expand, t("Table")
    )
    edition = views.Edition(t, store, samples, test_images, cited.cite)
    lab_views = [
        views.lab_view(lab, sizes[lab.name], comparisons, (verdicts or {}).get(lab.name, []),
                       edition, (gaps or {}).get(lab.name), meta.get("plans", {}).get(lab.name))
        for lab in labs
    ]  # fmt: skip
    notes = prose.render_notes(paths.notes, lang, lambda image: note_image_url(lang_dir, image))
    tasks = set()
    for view in lab_views:
        view.notes = notes.get(view.name)
        view.first_of_task = view.task not in tasks
        tasks.add(view.task)
    trials = [run for found in (experiments or {}).values() for runs in found.values()
              for run in runs]  # fmt: skip
    machines = ctx.training_machines(labs, trials)
    values = {
        "lang": lang,
        "t": t,
        "meta": meta,
        "cover_date": format_date(
            dt.date.fromisoformat(meta["date"]), t("date-format"), locale=t.locale
        ),
        "chapters": contents.CHAPTERS,
        "code_css": Markup(code_stylesheet(paths)),
        "labs": lab_views,
        "prose": texts,
        "notes": notes,
        "sizes": sizes,
        "sources": ctx.data_sources(labs),
        "machines": machines,
        "references": cited.entries,
        "cite": cited.cite,
        "summary": {"rows": findings.summary_rows(lab_views)},
        "overall": findings.overall(
            t, lab_views, machines, meta["seed_counts"], cited.cite, meta.get("multiplicity")
        ),
        "environment": findings.environment(t, machines, lab_views, meta),
        "fitting_rules": findings.fitting_rules(t),
        "notebook_steps": findings.notebook_steps(),
        "seed_text": findings.seed_counts_text(t, meta["seed_counts"]),
        "preliminary": findings.preliminary(t, meta.get("pending", []), lab_views),
        "exhibits": {}
        if experiments is None
        else theory.exhibits(t, store, experiments, labs, meta["profile"], samples),
    }
    return values, store


def note_image_url(lang_dir: Path, image: projectfiles.CleanImage) -> str:
    """A note's cleaned picture written into the edition's folder, named by its content; its
    URL from the edition's page."""
    name = hashlib.sha256(image.data).hexdigest()[:16] + image.suffix
    atomic_write_bytes(ensure_dir(lang_dir / "notes") / name, image.data)
    return f"notes/{name}"


def figure_code(locale_dir: Path, lang: str) -> str:
    """What every figure of an edition is drawn by: the chart code and the edition's catalog
    (its labels and number formats)."""
    from nnlab.experiments import figures as experiment_figures
    from nnlab.experiments import lessons
    from nnlab.report import charts, i18n, theory_models, theory_training

    stage = cachekey.Stage(
        "figure",
        code=(figures, charts, i18n, ctx, metrics, experiment_figures, lessons, theory_training,
              theory_models),
    )  # fmt: skip
    catalog = sha256_file(locale_dir / lang / "LC_MESSAGES" / "messages.po")
    return cachekey.key(cachekey.dependencies(stage, files={"catalog": catalog}))


def code_stylesheet(paths: Paths) -> str:
    """The listings' colours: a file of the site (assets/code.css), inline in the PDF's HTML."""
    return listings.stylesheet() + (paths.templates / "code.css").read_text(encoding="utf-8")


# Every page of the site: no script at all, and images, styles and fonts only from the site
# itself (an inline style or handler is refused too). WeasyPrint ignores it.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src 'self'; style-src 'self'; "
                           "font-src 'self'; base-uri 'none'; form-action 'none'")  # fmt: skip


def make_env(paths: Paths) -> Environment:
    env = Environment(
        loader=FileSystemLoader(paths.templates),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["demote"] = prose.demote
    env.globals["content_security_policy"] = CONTENT_SECURITY_POLICY
    return env


def render(
    build: Path, labs: list[ctx.Lab], langs: list[str], formats: list[str], meta: dict,
    samples: dict, test_images=None, paths: Paths | None = None, log=print,
    experiments: dict | None = None, verdicts: dict | None = None, gaps: dict | None = None,
) -> dict:  # fmt: skip
    """Write the requested editions, one process per language (`experiments`: the theory
    experiments' runs, results.load_experiments, or None to show none). The pages link only
    to the editions and formats rendered (`meta`'s "editions" and "formats").

    Returns {"stages": seconds by stage and language, "figures": seconds by "lang/figure" for
    the figures drawn (reused ones cost nothing)}."""
    paths = paths or Paths(build)
    log("working out the test-set statistics of each lab…")
    comparisons = {
        lab.name: cached_comparison(lab, paths.build / "cache" / "stats") for lab in labs
    }
    ensure_dir(paths.site)
    for warning in prose.note_warnings(paths.notes, langs):
        log(warning)
    meta = {**meta, "editions": langs, "formats": formats}
    job = EditionJob(build, labs, formats, meta, samples, test_images, paths, comparisons, log,
                     experiments, verdicts, gaps)  # fmt: skip
    # The editions are independent and WeasyPrint is single-threaded: one core each. Never
    # forked once TensorFlow is loaded: a fork copies its locks, not its threads (a segfault).
    forkable = "fork" in multiprocessing.get_all_start_methods() and "tensorflow" not in sys.modules
    if len(langs) > 1 and forkable:
        results = _forked_editions(job, langs)
    else:
        results = [_render_edition(job, lang) for lang in langs]
    if "html" in formats:
        write_site_root(make_env(paths), paths, meta)
    return {
        part: {key: value for result in results for key, value in result[part].items()}
        for part in ("stages", "figures")
    }


# The test-set statistics of a lab's detailed runs: the code and the bootstrap's settings.
STATISTICS_STAGE = cachekey.Stage(
    "statistics",
    code=(stats, diagnose, metrics, ctx.comparison, ctx.typical_run, ctx.failure_of,
          ctx.null_loss),
    params={"resamples": stats.N_RESAMPLES, "bootstrap_seed": stats.BOOTSTRAP_SEED,
            "alpha": stats.ALPHA},
)  # fmt: skip


def cached_comparison(lab: ctx.Lab, cache_dir: Path) -> dict:
    """A lab's test-set statistics of its detailed runs (intervals, paired test). Reused while
    the predictions, the statistics code, the bootstrap's settings and the runs' null losses
    (context.null_loss) are unchanged."""
    predictions = {
        f"{kind} {position}": run.record.get("files", {}).get(runfiles.PREDICTIONS)
        for kind, runs in lab.repeats.items()
        for position, run in enumerate(runs)
    }
    # the typical runs depend on which runs failed, judged against each run's null loss
    null_losses = {
        f"{kind} {position}": ctx.null_loss(lab, run)
        for kind, runs in lab.repeats.items()
        for position, run in enumerate(runs)
    }
    deps = cachekey.dependencies(STATISTICS_STAGE, {"lab": lab.name, "null_losses": null_losses},
                                 predictions)  # fmt: skip
    path = cache_dir / f"{cachekey.key(deps)}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    result = {"first_seed": ctx.comparison(lab)}
    atomic_write_json(path, result)
    return result


@dataclass(frozen=True)
class EditionJob:
    """What every edition is rendered from."""

    build: Path
    labs: list
    formats: list[str]
    meta: dict
    samples: dict
    test_images: object
    paths: Paths
    comparisons: dict
    log: Callable
    experiments: dict | None
    verdicts: dict | None
    gaps: dict | None


def _forked_editions(job: EditionJob, langs: list[str]) -> list[dict]:
    return editions.forked(_render_edition, job, langs)


# The editions as the progress lines name them (the CLI speaks English).
EDITION_NAMES = {"vi": "Vietnamese", "en": "English"}


def _render_edition(job: EditionJob, lang: str) -> dict:
    paths, formats, log = job.paths, job.formats, job.log
    steps = 1 + len(formats)

    def progress(step: int, doing: str) -> None:  # plain words: the stages' names are internal
        log(f"{EDITION_NAMES[lang]} edition: {doing} ({step}/{steps})…")

    env = make_env(paths)
    timings = {}
    progress(1, "drawing the charts and working out the numbers")
    started = time.perf_counter()
    values, store = edition_context(
        lang, job.labs, paths, job.samples, job.test_images, job.meta, job.comparisons,
        job.experiments, job.verdicts, job.gaps,
    )  # fmt: skip
    timings[f"context-{lang}"] = time.perf_counter() - started
    if "html" in formats:
        progress(2, "writing the web page")
        started = time.perf_counter()
        html = env.get_template("report.html").render(**in_medium(values, "html"))
        atomic_write_text(paths.site / lang / "index.html", html)
        timings[f"html-{lang}"] = time.perf_counter() - started
    if "pdf" in formats:
        progress(steps, "writing the PDF")
        started = time.perf_counter()
        html = env.get_template("report.html").render(**in_medium(values, "pdf"))
        write_pdf(html, paths.site / lang, paths, paths.site / lang / f"report.{lang}.pdf")
        timings[f"pdf-{lang}"] = time.perf_counter() - started
    log(f"{EDITION_NAMES[lang]} edition: done ({store.generated} charts drawn, "
        f"{store.reused} kept from an earlier render)")  # fmt: skip
    drawn = {f"{lang}/{name}": seconds for name, seconds in store.draw_seconds.items()}
    return {"stages": timings, "figures": drawn}


def in_medium(values: dict, medium: str) -> dict:
    """An edition's values for one medium: the chapters it prints, their appendix letters."""
    return {**values, "medium": medium, "chapters": contents.shown(medium),
            "appendix_letters": contents.appendix_letters(medium)}  # fmt: skip


def write_site_root(env: Environment, paths: Paths, meta: dict) -> None:
    atomic_write_text(paths.site / "index.html", env.get_template("index.html").render(meta=meta))
    atomic_write_text(paths.site / ".nojekyll", "")
    assets = ensure_dir(paths.site / "assets")
    atomic_write_text(assets / "screen.css", (paths.templates / "screen.css").read_text("utf-8"))
    atomic_write_text(assets / "code.css", code_stylesheet(paths))


# The PDFs are archival copies: PDF/A-3b (fonts embedded, sRGB output intent, XMP metadata
# with the title from <title> and the language from <html lang>), tagged as well (headings,
# paragraphs, tables and figures in a structure tree) for screen readers and reflow.
PDF_VARIANT = "pdf/a-3b"


def write_pdf(html: str, base: Path, paths: Paths, target: Path) -> None:
    from weasyprint import CSS, HTML

    from nnlab.report.fetcher import ConfinedFetcher

    fetcher = ConfinedFetcher([paths.build, paths.templates])
    document = HTML(string=html, base_url=str(base.resolve()) + "/", url_fetcher=fetcher)
    stylesheet = CSS(filename=str(paths.templates / "print.css"), url_fetcher=fetcher)

    def write(tmp: Path) -> None:
        document.write_pdf(tmp, stylesheets=[stylesheet], pdf_variant=PDF_VARIANT, pdf_tags=True)
        # WeasyPrint leaves out what the fetcher refused with only a log line: refuse instead.
        if fetcher.refused:
            raise NnlabError(
                f"{target.name}: the report refers to files outside the build "
                f"that the PDF may not read: {', '.join(fetcher.refused)}"
            )

    atomic_write(target, write)


def build_meta(report_config: dict, profile: str, seeds: list[int], command: str) -> dict:
    """The cover's and appendix's facts: report.toml's [report] values (defaults filled in by
    projectconfig) and this rendering's own (`command`: the one the appendix shows)."""
    return {
        **report_config,
        "profile": profile,
        "seeds": seeds,
        "date": report_config["date"] or dt.date.today().isoformat(),
        "command": command,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
