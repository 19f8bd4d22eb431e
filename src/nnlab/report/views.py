"""One typed view per lab: everything a lab chapter shows, built in one place.

context.py computes from the runs; charts.py draws; this module gathers both into the values
the templates read (templates/lab/*.html), so rendering only renders. What only one lab shows
lives in its own details class, built by the function its registry entry names (labs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup

from nnlab import labs as registry
from nnlab import metrics, samples
from nnlab.data import boston
from nnlab.models import IMDB_MAXLEN, IMDB_VOCAB, SPECS
from nnlab.report import charts, findings, listings
from nnlab.report import context as ctx
from nnlab.report.assets import FigureStore
from nnlab.results import RunResult

# How much of a misread test review the report quotes.
SHOWN_CHARS = 300


@dataclass
class MnistDetails:
    disagree_count: int


@dataclass
class ImdbDetails:
    train_reviews: list[dict]  # the first training reviews, decoded
    # per model, its most confident mistakes: text (shortened) and any label-noise cue
    wrong_reviews: dict[str, list[dict]]
    vocabulary: int = IMDB_VOCAB  # words with their own id; the rest read "?"
    threshold: float = metrics.THRESHOLD  # P(positive) above it: classified positive


@dataclass
class BostonDetails:
    houses: dict | None  # the first training houses (raw features), training price range
    handmade: list[dict] | None  # the notebook's hand-made houses, priced and read
    largest_errors: list[dict]
    handmade_sentences: list[str] = field(default_factory=list)  # the prices, in words
    price_cap: float = boston.PRICE_CAP


@dataclass
class Discussion:
    """A lab's sentences (findings.py), which its results, cost and discussion print."""

    curves: list[str]  # what the learning curves show, per model
    mistakes: list[str]  # the most confused classes, or the largest errors
    training: list[str]  # each model's own training settings, in words
    cost: str | None  # what training cost, from the runs that trained
    cost_basis: str | None  # which runs and thread counts those times come from
    suits: str  # whether the architecture suits the data
    verdict: dict  # findings.verdict: the lab's verdict (name, lines)
    detail_failed: list[str]  # a failed detailed run, with its cause
    gap: list[str]  # the BatchNormalization train/inference gap, where measured
    paired_test: str | None  # the detailed runs' paired test on the test set


@dataclass
class LabView:
    name: str
    task: str
    complete: bool  # both first-seed runs produced test predictions
    runs: dict[str, RunResult]  # the first seed's run per kind
    sizes: dict  # split sizes
    figures: dict[str, str]  # chart name → relative URL
    metric_rows: list[dict]  # the first seed's test metrics
    label_errors: list[dict]  # classifiers: the notebook's MSE of class labels
    comparison: dict | None  # the first seed's test-set statistics
    seeds: dict | None  # each seed's main metric, mean ± sd, failures
    verdicts: list[dict]  # comparisons.lab_comparisons: every comparison across seeds
    cost: dict | None  # context.training_cost: times from comparable runs only
    fit: dict[str, str]  # per kind, the first seed's fitting verdict (diagnose.fitting)
    listings: dict[str, Markup]  # per kind, the model as highlighted Keras code
    layer_counts: dict[str, dict]  # per kind, listings.layer_count
    details: MnistDetails | ImdbDetails | BostonDetails | None = None
    plan: dict | None = None  # comparisons.seed_plan: the lab's seed plan and this build's seeds
    discussion: Discussion | None = None
    notes: Markup | None = None  # the student's own remarks (report/notes/<lang>/<lab>.md)
    # the first lab of its task (classification, regression): explanations shared by the
    # labs of a task are given there in full, and the later labs refer back to them
    first_of_task: bool = True


@dataclass
class Edition:
    """What one language's chapters need besides the labs."""

    t: object  # i18n.Translator
    store: FigureStore
    samples: dict
    test_images: dict | None
    cite: Callable  # references.References.cite


def mnist_details(lab: ctx.Lab, view: LabView, edition: Edition) -> MnistDetails | None:
    if not lab.complete:
        return None
    wrong = ctx.misclassified_digits(lab)
    if edition.test_images is not None:
        view.figures.update(
            charts.mnist_gallery_figures(wrong, edition.store, edition.t, edition.test_images)
        )
    return MnistDetails(wrong["disagree_count"])


def imdb_details(lab: ctx.Lab, view: LabView, edition: Edition) -> ImdbDetails:
    extracts = edition.samples.get(lab.name, {})
    texts = extracts.get("test", {})
    wrong = {}
    if lab.complete:
        outputs = {kind: run.outputs.reshape(-1) for kind, run in lab.runs.items()}
        quoted = set()  # a review both models misread is quoted once, under the first
        for kind, items in ctx.misclassified_reviews(lab).items():
            wrong[kind] = []
            for item in items:
                text = texts.get(str(item["index"]), "")
                noise = findings.noisy_label({**item, "text": text})
                other = "rnn" if kind == "cnn" else "cnn"
                words = len(text.split())
                other_p = float(outputs[other][item["index"]])
                note = findings.review_note(edition.t, item, other, other_p, words)
                # the part the model read: the end of a review cut to IMDB_MAXLEN ids; else
                # the opening and the closing lines, where the reviewer sums up
                shown = (samples.shorten(text, SHOWN_CHARS, tail=True) if words > IMDB_MAXLEN
                         else samples.ends(text, SHOWN_CHARS))  # fmt: skip
                again = item["index"] in quoted
                quoted.add(item["index"])
                wrong[kind].append({**item, "text": None if again else shown,
                                    "noise": noise, "note": note})  # fmt: skip
    train = [{**review, "text": samples.shorten(review["text"], SHOWN_CHARS)}
             for review in extracts.get("train", [])]  # fmt: skip
    return ImdbDetails(train, wrong)


def boston_details(lab: ctx.Lab, view: LabView, edition: Edition) -> BostonDetails:
    houses = edition.samples.get(lab.name)
    priced = ctx.handmade_houses(lab) if lab.complete else None
    if priced:
        ranges = findings.training_ranges(lab.runs["cnn"])
        for house in priced:
            house["outside"] = findings.handmade_reading(house["features"], ranges)
            house["described"] = [
                edition.t(
                    f"feature:{name}:{int(value)}" if name == "CHAS" else f"feature:{name}",
                    value=edition.t.short(value),
                )
                for name, value in zip(boston.FEATURES, house["features"], strict=True)
                if name in findings.DESCRIBED_FEATURES
            ]
    sentences = findings.handmade_sentences(edition.t, priced, (houses or {}).get("price_range"))
    largest = ctx.largest_errors(lab) if lab.complete else []
    return BostonDetails(houses, priced, largest, sentences)


def learning_rate(run: RunResult) -> float:
    return run.settings["learning_rate"]


def lab_view(
    lab: ctx.Lab,
    sizes: dict,
    comparisons: dict,
    records: list[dict],
    edition: Edition,
    gap: dict | None = None,
    plan: dict | None = None,
) -> LabView:
    compared = comparisons.get(lab.name) or {}
    view = LabView(
        name=lab.name,
        task=lab.task,
        complete=lab.complete,
        runs=lab.runs,
        sizes=sizes,
        figures=charts.lab_figures(lab, edition.store, edition.t, edition.samples),
        metric_rows=ctx.metric_rows(lab) if lab.complete else [],
        label_errors=(
            ctx.label_error_rows(lab) if lab.complete and lab.task == "classification" else []
        ),
        comparison=compared.get("first_seed"),
        seeds=ctx.seed_table(lab),
        verdicts=records,
        cost=ctx.training_cost(lab),
        fit={
            kind: findings.fitting(run, lab)["verdict"]
            for kind, run in lab.runs.items()
            if run.history
        },
        listings={
            kind: listings.highlight(listings.keras_source(SPECS[run.name], learning_rate(run)))
            for kind, run in lab.runs.items()
        },
        layer_counts={
            kind: listings.layer_count(SPECS[run.name]) for kind, run in lab.runs.items()
        },  # fmt: skip
    )
    view.plan = plan
    view.details = registry.resolve(registry.LABS[lab.name].details)(lab, view, edition)
    t, cite = edition.t, edition.cite
    view.discussion = Discussion(
        curves=findings.curves(t, lab),
        mistakes=findings.mistakes(t, lab),
        training=findings.training_setup(t, lab.name, lab.runs, cite),
        cost=findings.cost(t, view.cost),
        cost_basis=findings.cost_basis(t, view.cost) if view.cost else None,
        suits=findings.suitability(t, view),
        verdict=findings.verdict(t, view, cite),
        detail_failed=findings.detail_failed(t, view),
        gap=findings.gap_sentences(t, gap),
        paired_test=(
            findings.paired_test(t, lab.name, lab.task, view.comparison, cite)
            if view.comparison
            else None
        ),
    )
    if lab.complete and view.comparison:
        comparison = view.comparison
        view.figures["intervals"] = edition.store.get(
            f"{lab.name}-intervals",
            comparison,
            lambda: charts.interval_figure(comparison, lab.task, t),
        )
    return view
