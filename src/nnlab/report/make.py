"""`nnlab report`: a selection's runs in, both editions out. Imports no TensorFlow."""

from __future__ import annotations

from pathlib import Path

from nnlab import config, metrics, pipeline, projectconfig, projectfiles, samples, verdicts
from nnlab import labs as registry
from nnlab.data import cache
from nnlab.errors import NnlabError
from nnlab.fsutil import (
    atomic_symlink,
    atomic_write_bytes,
    atomic_write_json,
    ensure_dir,
)
from nnlab.report import comparisons, findings, gap
from nnlab.report import context as ctx
from nnlab.report.i18n import LANGUAGES
from nnlab.report.render import Paths, build_meta, render
from nnlab.results import load_all, load_experiments, read_run
from nnlab.staging import staged_folder

VERDICTS = "verdicts.json"  # every comparison the report states, for a grader's script
PROVENANCE = "provenance.json"  # the build's records, kept out of the published report


def gallery_indices(labs: list[ctx.Lab]) -> dict[str, list[int]]:
    """The test items each lab's galleries show (labs.Lab.gallery), by lab name."""
    wanted = {}
    for lab in labs:
        entry = registry.LABS[lab.name]
        if lab.complete and entry.gallery:
            wanted[lab.name] = registry.resolve(entry.gallery)(lab)
    return wanted


def _samples_for(build: Path, selection, labs: list[ctx.Lab], log) -> dict:
    """The data extracts the report shows (sample digits, galleries, reviews, districts), from
    the same source as the runs. Without them the report would lose those parts: refused."""
    wanted = gallery_indices(labs)
    if selection.source == "frozen":
        found = samples.load(samples.FROZEN)
        lacking = [name for name in ctx.LABS if name not in found]
        if lacking:
            raise NnlabError(
                f"{samples.FROZEN} lacks the data samples the report shows "
                f"({', '.join(lacking)}); freeze them again from a rendered build: "
                f"nnlab freeze --profile {selection.profile}"
            )
        return found
    found = samples.load(build / "samples")
    if samples.covers(found, wanted):
        return found
    uncached = [name for name in ctx.LABS if not cache.read_meta(name, cache.data_dir())]
    if uncached:
        raise NnlabError(
            f"the report shows data samples (digits, reviews, districts) that {build / 'samples'} "
            f"lacks, and {', '.join(uncached)} is not cached to take them from; fetch it first: "
            f"nnlab data fetch {' '.join(uncached)}"
        )
    return samples.load(samples.export(build, wanted, log=log))


def digit_lookup(found: dict) -> dict | None:
    """The MNIST galleries' test images, by test index."""
    mnist = found.get("mnist")
    if not mnist or "gallery_index" not in mnist:
        return None
    return dict(zip(mnist["gallery_index"].tolist(), mnist["gallery_images"], strict=True))


def precision_rows(build: Path, selection, labs: list[ctx.Lab]) -> list[dict]:
    """Each reduced-precision run beside its float32 twin: training time and main metric."""
    twins = pipeline.plan(
        build,
        selection.profile,
        [item.spec for item in selection.plans],
        [selection.plans[0].seed],
        {},
        selection.source,
    )
    twin_records = {item.spec.name: item for item in twins.by_state("done")}
    rows = []
    for lab in labs:
        key = metrics.main_metric(lab.task)
        for run in lab.runs.values():
            twin = twin_records.get(run.name)
            if twin is None or run.failed or twin.path == run.folder:
                continue
            base = read_run(twin.path, run.name, twin.status.record)
            rows.append(
                {
                    "name": run.name,
                    "metric": key,
                    "fit_float32": base.record["fit_seconds"],
                    "fit_reduced": run.record["fit_seconds"],
                    "speedup": base.record["fit_seconds"] / run.record["fit_seconds"],
                    "metric_float32": base.metrics[key],
                    "metric_reduced": run.metrics[key],
                }
            )
    return rows


def _site_logo(site: Path, logo: str) -> str:
    """The cover's logo, decoded and cleaned (projectfiles.image), written into the site (the
    PDF reads only files of the build); its URL from an edition's page, or "" for none."""
    if not logo:
        return ""
    cleaned = projectfiles.image(Path.cwd(), logo)
    name = "logo" + cleaned.suffix
    atomic_write_bytes(ensure_dir(site / "assets") / name, cleaned.data)
    return f"../assets/{name}"


# The cover's keys a lab report normally fills, which report.toml leaves empty by default.
COVER_KEYS = ("university", "faculty", "lecturer", "class_name")


def cover_note(report_config: dict) -> str | None:
    """One line naming the cover's empty keys and where to set them, or None."""
    empty = [key for key in COVER_KEYS if not str(report_config.get(key, "")).strip()]
    if not empty:
        return None
    return (f"note: the cover leaves out {', '.join(empty)}; set them under [report] in "
            f"{projectconfig.DEFAULT_PATH}")  # fmt: skip


def make_report(
    build: Path, selection, langs: list[str], formats: list[str], report_config: dict,
    command: str, log=print, experiments=None,
    equivalence_share: float = verdicts.EQUIVALENCE_SHARE,
) -> dict:  # fmt: skip
    """Render `langs` in `formats` from the selection's finished runs (`command`: what the
    appendix shows). All or nothing: the site is written into a staging folder and swapped in
    for build/site only when every part succeeded; build/report.<lang>.pdf then point into it."""
    # A preliminary report while runs are missing: from what is finished, with the rest named.
    waiting = comparisons.pending([selection, *([experiments] if experiments else [])])
    for item in selection.by_state("missing"):
        if item.status.record is None and item.status.reason != "not trained yet":
            # altered or half-gone: named, so it is not mistaken for a run still to come
            log(f"note: run {item.name} (seed {item.seed}) is left out: {item.status.reason}; "
                f"make it with: {selection.train_command(item.train_options())}")  # fmt: skip
    selection = selection.finished()
    found = load_all(selection)
    labs = ctx.build_labs(found)
    sample_data = _samples_for(build, selection, labs, log)
    # Again with the training targets the extracts hold: a regressor's failure is judged
    # against them. The galleries above are the classifiers', which need none.
    labs = ctx.build_labs(found, ctx.training_targets(sample_data))
    boston = next(lab for lab in labs if lab.name == "boston")
    if boston.complete and ctx.handmade_houses(boston) is None:
        log(
            "note: the hand-made houses are not priced for today's houses; the report leaves "
            f"them out until: {selection.train_command('--dataset boston')}"
        )
    seeds = sorted({item.seed for item in selection.plans})
    note = cover_note(report_config)
    if note:
        log(note)
    meta = build_meta(report_config, selection.profile, seeds, command)
    meta["runs_source"] = selection.source
    meta["precisions"] = sorted({item.settings.precision for item in selection.plans})
    if meta["precisions"] != ["float32"]:  # set the runs beside their float32 twins, if any
        meta["precision_rows"] = precision_rows(build, selection, labs)
    shown = None
    if experiments is not None:
        shown = load_experiments(experiments)
        left_out = sorted({item.trial.experiment for item in experiments.plans} - set(shown))
        if left_out:
            log(
                f"note: experiments {', '.join(left_out)} are not all trained; the theory "
                f"chapters leave them out until: {selection.finish_command()}"
            )
    meta["seed_counts"] = {
        lab.name: len({run.record["seed"] for runs in lab.repeats.values() for run in runs})
        for lab in labs
    }
    records = {lab.name: comparisons.lab_comparisons(lab, shown, equivalence_share)
               for lab in labs}  # fmt: skip
    meta["multiplicity"] = comparisons.adjust(records)
    meta["plans"] = {
        lab.name: comparisons.seed_plan(lab, meta["seed_counts"][lab.name],
                                        config.default_seed_count(lab.name, selection.profile))
        for lab in labs
    }  # fmt: skip
    meta["pending"] = waiting
    if waiting:
        per_model, trials = findings.pending_by_model(waiting, registry.NAMES)
        to_come = [
            f"{name}: {'seed' if len(seeds) == 1 else 'seeds'} {findings.seed_ranges(seeds)}"
            for name, seeds in per_model.items()
        ]
        to_come += [f"{trials} experiment trial(s)"] if trials else []
        log(
            f"note: a preliminary report: {len(waiting)} run(s) still to come "
            f"({'; '.join(to_come)}); the final one replaces it after: "
            f"{selection.finish_command()}"
        )
    with staged_folder(build / "site") as site:
        meta["logo_url"] = _site_logo(site, report_config["logo"])
        timings = render(
            build, labs, langs, formats, meta, sample_data, digit_lookup(sample_data),
            paths=Paths(build, site=site), log=log, experiments=shown, verdicts=records,
            gaps={"boston": gap.boston_cnn(boston, shown)},
        )  # fmt: skip
    _link_pdfs(build, langs if "pdf" in formats else [])
    atomic_write_json(
        build / VERDICTS,
        comparisons.as_json(
            [r for lab in labs for r in records[lab.name]],
            waiting,
            {"plans": meta["plans"], "multiplicity": meta["multiplicity"]},
        ),
    )
    atomic_write_json(build / PROVENANCE, provenance_record(meta, labs, shown))
    return timings


def provenance_record(meta: dict, labs: list, experiments: dict | None) -> dict:
    """What the report leaves out for its reader but a rerun needs: the command, the data
    sources with their checksums, and where each run was trained (machine, libraries,
    threads), the lab's runs and the experiments' trials alike."""
    trials = [run for found in (experiments or {}).values() for runs in found.values()
              for run in runs]  # fmt: skip
    return {
        "command": meta["command"],
        "generated": meta["generated"],
        "profile": meta["profile"],
        "runs_source": meta["runs_source"],
        "precisions": meta["precisions"],
        "data": ctx.data_sources(labs),
        "machines": ctx.training_machines(labs, trials)["groups"],
    }


def _link_pdfs(build: Path, langs: list[str]) -> None:
    """build/report.<lang>.pdf: a link to the edition's PDF in the site, so that it changes
    with the site, at once; none for an edition the site does not hold."""
    for lang in LANGUAGES:
        link = build / f"report.{lang}.pdf"
        if lang in langs:
            atomic_symlink(Path("site") / lang / link.name, link)
        else:
            link.unlink(missing_ok=True)
