"""The report's contents manifest: its chapters and sections in reading order.

The table of contents (site sidebar, PDF contents page) and the body are both rendered from
this list, so they cannot disagree. To add a section: add its template under
templates/chapters/ (or templates/lab/ for a section of every lab chapter), add it here with
its catalog title, and give the view (views.py) whatever values it shows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    id: str  # anchor; a lab section's anchor is "<lab>-<id>"
    title: str  # catalog message id
    # its experiments (report/theory.py, templates/theory/), each at its marker line in the
    # section's text (<!-- experiment:NAME -->), else after the text
    experiments: tuple[str, ...] = ()
    # its text holds <!-- fitting-rules -->: diagnose.fitting's rules, with their thresholds
    fitting_rules: bool = False


@dataclass(frozen=True)
class Chapter:
    id: str  # anchor, and the template templates/chapters/<id>.html
    title: str  # catalog message id; a lab chapter's title is its lab's "lab-title:<lab>"
    sections: tuple[Section, ...] = ()
    per_lab: bool = False  # one chapter per lab (anchor "<lab>"), sections in templates/lab/
    # the editions' media it is printed in: a reference the reader looks up only when
    # needed stays on the site, so the PDF keeps to a lab report's length
    media: tuple[str, ...] = ("html", "pdf")
    appendix: bool = False  # lettered A, B, … in the order the medium shows the appendices


LAB_SECTIONS = (
    Section("data", "Data and preprocessing"),
    Section("models", "Architectures"),
    Section("training", "Training"),
    Section("results", "Test results"),
    Section("errors", "Error analysis"),
    Section("cost", "Training cost"),
    Section("discussion", "Discussion"),
)

THEORY_SECTIONS = (
    Section("theory_epoch_batch", "Epochs, batches and iterations", ("batch-size",)),
    Section(
        "theory_splits", "Training, validation and test sets", ("early-stopping", "validation")
    ),
    Section(
        "theory_fitting",
        "Overfitting and underfitting",
        ("data-size", "capacity"),
        fitting_rules=True,
    ),
    Section("theory_cnn", "CNN architecture"),
    Section("theory_rnn", "RNN, LSTM and GRU architecture", ("gradients",)),
)

CHAPTERS = (
    Chapter("intro", "Introduction"),
    Chapter("summary", "Summary of results"),
    Chapter("lab", "", LAB_SECTIONS, per_lab=True),
    Chapter("conclusion", "Overall conclusion"),
    Chapter("theory", "Theory", THEORY_SECTIONS),
    Chapter("fixes", "Changes from the original notebook"),
    Chapter("references", "References"),
    Chapter("layers", "Layer reference", media=("html",), appendix=True),
    Chapter("appendix", "Appendix: environment and provenance", appendix=True),
)


def shown(medium: str) -> list[Chapter]:
    """The chapters one medium prints, in reading order."""
    return [chapter for chapter in CHAPTERS if medium in chapter.media]


def appendix_letters(medium: str) -> dict[str, str]:
    """Each appendix's letter in this medium: "A" for the first one it shows."""
    appendices = [chapter.id for chapter in shown(medium) if chapter.appendix]
    return {name: chr(ord("A") + index) for index, name in enumerate(appendices)}
