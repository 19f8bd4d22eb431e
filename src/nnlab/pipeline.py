"""The one answer to "which runs does this command use, and are they current?" (`plan`), and
training what is missing or out of date (`train_missing`).

Every command (train, runs, report, build, freeze, predict, bench) finds its runs through
`plan`, so they agree on where the runs are, which precision and settings they were asked for
(report.toml's overrides included), and whether each is done, missing, stale or failed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from nnlab import data, models, runs
from nnlab.config import TrainSettings, settings_for
from nnlab.errors import NnlabError
from nnlab.experiments import design
from nnlab.experiments.design import Trial


@dataclass
class Plan:
    spec: models.ModelSpec
    settings: TrainSettings
    seed: int
    path: Path
    status: runs.RunStatus
    inputs: dict
    trial: Trial | None = None  # an experiment's trial (experiments/design.py), else a lab run
    trial_offset: int = 0  # a trial's seed less the build's first seed

    @property
    def name(self) -> str:
        return self.trial.name if self.trial else self.spec.name

    def train_options(self, one_seed: bool = False) -> str:
        """The `nnlab train` options that make this run (`one_seed`: and no other seed)."""
        if self.trial is not None:
            return f"--seed {self.seed - self.trial_offset}"
        options = f"--dataset {self.spec.dataset} --seed {self.seed}"
        if one_seed:
            options += " --seeds 1"
        if self.settings.precision != "float32":
            options += f" --precision {self.settings.precision}"
        return options


# The states a report can use: a stale run is shown with a warning, a failed one as failed.
FINISHED = ("done", "stale", "failed")
# A preliminary report pauses training for its render (about half a minute): worth it only
# while the runs to come will take longer than this (a quick build's whole training will not).
PRELIMINARY_MIN_SECONDS = 300


@dataclass
class Selection:
    """The runs of one command, all from one source: the build's run store or results/."""

    source: str  # "build" or "frozen"
    root: Path
    profile: str
    plans: list[Plan]
    unverified: list[str] = field(default_factory=list)  # datasets whose checksum is unknown
    # The user's --config, repeated in every command named, and the --seed and --seeds they
    # gave, repeated in the command that makes every run asked for (`finish_command`).
    config_path: Path | None = None
    seed_options: str = ""

    def train_command(self, *options: str) -> str:
        """The `nnlab train` command for this selection's profile and config, with `options`."""
        words = ["nnlab train --profile", self.profile, *options]
        if self.config_path is not None:
            words += ["--config", shlex.quote(str(self.config_path))]
        return " ".join(words)

    def finish_command(self) -> str:
        """The `nnlab train` command that makes every run this selection asked for."""
        return self.train_command(*([self.seed_options] if self.seed_options else []))

    def by_state(self, state: str) -> list[Plan]:
        return [item for item in self.plans if item.status.state == state]

    def warnings(self) -> list[str]:
        """One line per stale run, naming what changed and the command that redoes it; one for
        data that could not be checked."""
        lines = [
            f"warning: run {p.name} (seed {p.seed}) in {self.root} is stale: "
            f"{p.status.reason}; redo it with: {self.train_command(p.train_options())}"
            for p in self.by_state("stale")
        ]
        if self.unverified and self.source == "build":
            names = " ".join(self.unverified)
            lines.append(
                f"note: {', '.join(self.unverified)} not cached here, so the runs' data "
                f"checksums were not compared (nnlab data fetch {names})"
            )
        return lines

    def require(self, states=FINISHED, one_seed: bool = False) -> None:
        """One error line for the first run not in `states`, naming the command that makes it
        (`one_seed`: that seed only, for a command that needs no other)."""
        for item in self.plans:
            if item.status.state not in states:
                raise self._not_ready(item, one_seed)

    def require_each_model(self) -> None:
        """One error line, as `require`'s, when some model has no finished run at all: a
        report (preliminary while runs are missing) needs one run of every model."""
        for name in dict.fromkeys(item.name for item in self.plans):
            mine = [item for item in self.plans if item.name == name]
            if not any(item.status.state in FINISHED for item in mine):
                raise self._not_ready(mine[0])

    def finished(self) -> Selection:
        """The same selection without the runs that are not finished yet."""
        return replace(self, plans=[p for p in self.plans if p.status.state in FINISHED])

    def _not_ready(self, item: Plan, one_seed: bool = False) -> NnlabError:
        where = "in the frozen results" if self.source == "frozen" else "in the build"
        return NnlabError(
            f"run {item.name} (seed {item.seed}, {self.profile} profile) is "
            f"{item.status.state} {where} ({item.status.reason}); make it with: "
            f"{self.train_command(item.train_options(one_seed))}"
        )


def overrides_for(training: dict[str, dict], precision: str) -> dict[str, dict]:
    """report.toml's per-model overrides, with a --precision other than float32 on top."""
    if precision == "float32":
        return dict(training)
    return {name: {**training.get(name, {}), "precision": precision} for name in models.SPECS}


def source_root(build: Path, profile: str, source: str = "auto") -> tuple[str, Path]:
    """The build's run store when it holds any run of `profile` (or when asked for), else the
    frozen results/ when they hold some; never a mix."""
    own = build / "runs"
    if source == "build" or any((own / profile).glob(f"*/seed-*/{runs.RECORD}")):
        return "build", own
    if source == "frozen" or any((runs.FROZEN_ROOT / profile).glob(f"*/seed-*/{runs.RECORD}")):
        return "frozen", runs.FROZEN_ROOT
    return "build", own


def plan(
    build: Path,
    profile: str,
    specs: list[models.ModelSpec],
    seeds: list[int] | dict[str, list[int]],
    overrides: dict[str, dict] | None = None,
    source: str = "auto",
    fetch: bool = False,
) -> Selection:
    """The status of every (model, seed) run. With fetch, missing or outdated datasets are
    fetched or rebuilt; without, a dataset that is not cached is not compared. Needs no
    TensorFlow. `seeds`: the same for every model, or per dataset."""
    overrides = overrides or {}
    per_dataset = seeds if isinstance(seeds, dict) else {spec.dataset: seeds for spec in specs}
    source, root = source_root(build, profile, source)
    checksums: dict[str, str | None] = {}
    plans = []
    for spec in specs:
        if spec.dataset not in checksums:
            checksums[spec.dataset] = dataset_checksum(spec.dataset, fetch)
        stage = runs.stage_for(spec.dataset)
        settings = settings_for(spec.dataset, profile, overrides.get(spec.name))
        for seed in per_dataset[spec.dataset]:
            inputs = runs.run_inputs(stage, spec, settings, checksums[spec.dataset], seed)
            path = runs.run_path(root, profile, spec.name, seed, settings.precision)
            state = runs.status(path, spec.name, inputs)
            plans.append(Plan(spec, settings, seed, path, state, inputs))
    unverified = [name for name, checksum in checksums.items() if checksum is None]
    return Selection(source, root, profile, plans, unverified)


def plan_experiments(
    build: Path, profile: str, first_seed: int, source: str, fetch: bool = False
) -> Selection:
    """The status of every trial of the theory chapters' experiments, from `source` ("build"
    or "frozen", as the lab runs it goes with: never a mix)."""
    root = build / "runs" if source == "build" else runs.FROZEN_ROOT
    checksums: dict[str, str | None] = {}
    plans = []
    for trial in design.trials(profile):
        dataset = trial.spec.dataset
        if dataset not in checksums:
            checksums[dataset] = dataset_checksum(dataset, fetch)
        stage = runs.stage_for(dataset, trial=True, split=trial.split is not None)
        for seed in range(first_seed, first_seed + trial.seeds):
            inputs = runs.run_inputs(
                stage, trial.spec, trial.settings, checksums[dataset], seed, trial.design
            )
            path = runs.run_path(root, design.namespace(profile), trial.name, seed)
            state = runs.status(path, trial.name, inputs)
            plans.append(
                Plan(
                    trial.spec, trial.settings, seed, path, state, inputs, trial, seed - first_seed
                )
            )
    unverified = [name for name, checksum in checksums.items() if checksum is None]
    return Selection(source, root, profile, plans, unverified)


def dataset_checksum(name: str, fetch: bool) -> str | None:
    checksum = data.cached_checksum(name)
    if checksum is None and fetch:
        checksum = data.load(name, fetch=True).checksum
    return checksum


def train_missing(
    selections: list[Selection], workers: int, echo=print, quiet: bool = False, on_finish=None,
    cluster: str | None = None,
) -> list[Plan]:  # fmt: skip
    """Train every plan of `selections` (lab runs, experiments) that is missing or stale,
    `workers` at a time or on the Dask cluster at `cluster`, in one schedule
    (parallel.train_parallel, which calls `on_finish` after each run); return those trained."""
    from nnlab import parallel
    from nnlab.tfload import require_tensorflow

    if any(selection.source != "build" for selection in selections):
        raise ValueError("training writes to the build's run store only")
    todo = [
        item
        for selection in selections
        for item in selection.by_state("missing") + selection.by_state("stale")
    ]
    if todo:
        require_tensorflow()
        parallel.train_parallel(
            todo, selections[0].profile, workers, echo, quiet, on_finish, cluster
        )
    return todo


def ready_for_a_preliminary_report(selections: list[Selection], seconds_left: float) -> bool:
    """Every lab model of the first selection has a finished run, and the runs still to come
    are estimated to take at least PRELIMINARY_MIN_SECONDS (`seconds_left`, the estimate's
    lower end): the moment a complete preliminary report is worth rendering."""
    labs = selections[0].plans
    names = {item.name for item in labs}
    complete = all(
        any(item.status.state in FINISHED for item in labs if item.name == name) for name in names
    )
    waiting = [item for s in selections for item in s.plans if item.status.state not in FINISHED]
    return complete and bool(waiting) and seconds_left >= PRELIMINARY_MIN_SECONDS


def measure_missing(selection: Selection, workers: int, echo=print) -> None:
    """Make the measurements (measurements.py) that the selection's finished runs lack: the
    runs trained by this build have theirs; these are runs measured by older code, or with
    other hand-made houses. In worker processes: this one never loads TensorFlow."""
    from nnlab import measurements, parallel
    from nnlab.tfload import require_tensorflow

    todo = [item for item in selection.plans if measurements.missing(item)]
    if todo:
        require_tensorflow()
        parallel.measure_parallel(todo, workers, echo)
