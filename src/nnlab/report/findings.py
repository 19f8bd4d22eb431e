"""What the report says in words about the runs: each statement chosen by a rule from the
measured values (diagnose.py for fitting, failures and label noise), then phrased through the
edition's catalog. Nothing here is typed in: change the runs and the sentences change.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from markupsafe import Markup

from nnlab import config, diagnose, metrics, runfiles
from nnlab import labs as registry
from nnlab.data import boston
from nnlab.experiments import design
from nnlab.models import IMDB_MAXLEN
from nnlab.report import comparisons, split_protocol
from nnlab.report import context as ctx
from nnlab.report import verdict_sentences as said

NAMES = {"cnn": "CNN", "rnn": "RNN"}


def fitting(run, lab: ctx.Lab) -> dict:
    """diagnose.fitting for one run of `lab`'s data, with why it failed if it did."""
    budget = run.settings["epochs"]
    return diagnose.fitting(run.history, budget, ctx.failure_of(lab, run))


def loss_text(t, value: float) -> str:
    """A loss with three significant digits: 0.0460, 0.294, 13.1."""
    magnitude = int(np.floor(np.log10(abs(value)))) if value else 0
    return t.num(value, min(4, max(0, 2 - magnitude)))


def fitting_sentence(t, model: str, found: dict, patience, lab: str = "") -> str:
    verdict = found["verdict"]
    if verdict == "failed":  # the same failure in two labs reads the same: the lab is named
        return t("fit:failed", model=model, lab=lab, what=t(f"failure:{found['failure']}"))
    values = {"model": model, "best": found["best_epoch"], "run": found["epochs_run"],
              "budget": found["epochs_budget"], "val": loss_text(t, found["val_loss"]["best"]),
              "train": loss_text(t, found["loss"]["last"])}  # fmt: skip
    if verdict == "overfitting":
        kept = t("fit:kept-best", best=found["best_epoch"]) if patience else t("fit:kept-last")
        rise = t.pct(found["rise_relative"], 0)
        return t("fit:overfitting", rise=rise, start=found["from_epoch"], **values) + " " + kept
    if verdict == "underfitting":
        return t("fit:underfitting", drop=t.pct(found["train_drop"], 0), **values)
    # A best epoch near the end reads as still falling or levelled off by one threshold, shown
    # with the run's own fall, so two curves lowest in their last epoch do not seem to disagree.
    fall = found["late_fall"]
    late = found["epochs_run"] - found["best_epoch"] <= found["near"]
    if verdict == "still-improving" and fall is not None:
        key = "fit:still-improving-fall"
    elif verdict == "good-fit" and late and fall is not None and fall < diagnose.OVERFIT_RISE:
        key = "fit:good-fit-late"
    else:
        return t(f"fit:{verdict}", **values)
    return t(key, fall=t.pct(fall, 1), near=found["near"], rise=t.pct(diagnose.OVERFIT_RISE, 0),
             **values)  # fmt: skip


def verdict_counts(t, runs: list, lab: ctx.Lab) -> str:
    """How runs' diagnoses split, in the rules' order, e.g. "overfitting in 2 seeds, good fit
    in 1 seed"."""
    counts = Counter(fitting(run, lab)["verdict"] for run in runs)
    return ", ".join(
        t("fit:count-one" if counts[v] == 1 else "fit:count", verdict=t("verdict-name:" + v),
          n=counts[v])
        for v in diagnose.VERDICTS if counts[v]
    )  # fmt: skip


def fitting_counts(t, lab: ctx.Lab) -> list[str]:
    """How the seeds' diagnoses split, e.g. "over all 3 seeds: the CNN overfits in 2 seeds,
    ...; the RNN ...": one sentence when both models have that many seeds with curves."""
    found = {}
    for kind in ctx.KINDS:
        runs = [run for run in lab.repeats[kind] if run.history]
        if len(runs) >= 2:
            found[kind] = (len(runs), verdict_counts(t, runs, lab))
    name = t(f"lab-short:{lab.name}")
    if len(found) == 2 and found["cnn"][0] == found["rnn"][0]:
        return [t("fit:seeds-both", n=found["cnn"][0], lab=name, cnn=found["cnn"][1],
                  rnn=found["rnn"][1])]  # fmt: skip
    return [t("fit:seeds", model=NAMES[kind], n=n, lab=name, counts=counts)
            for kind, (n, counts) in found.items()]  # fmt: skip


def curves(t, lab: ctx.Lab) -> list[str]:
    """The learning curves in words: each typical run's diagnosis, then the seeds' split."""
    out = []
    for kind, run in lab.runs.items():
        if not run.history:
            continue
        patience = run.settings.get("patience")
        out.append(fitting_sentence(t, NAMES[kind], fitting(run, lab), patience,
                                    t(f"lab-short:{lab.name}")))  # fmt: skip
    return out + fitting_counts(t, lab)


def mistakes(t, lab: ctx.Lab) -> list[str]:
    """Which classes are confused most (classifiers), or the largest errors (regression)."""
    if not lab.complete:
        return []
    if lab.task == "regression":
        top = ctx.largest_errors(lab, count=2)
        worst = top[0]
        out = [t("errors:largest", index=worst["index"], actual=t.num(worst["actual"], 1),
                 cnn=t.num(worst["cnn"], 1), rnn=t.num(worst["rnn"], 1))]  # fmt: skip
        capped = [row for row in top if row["capped"]]
        if capped:  # a price recorded at the cap may be higher: part of the error is the label's
            names = [f"#{row['index']}" for row in capped]
            districts = names[0] if len(names) == 1 else f"{names[0]} {t('exp:and')} {names[1]}"
            out.append(t("errors:capped" if len(capped) > 1 else "errors:capped-one",
                         districts=districts, cap=t.num(boston.PRICE_CAP, 1),
                         largest=count_word(t, len(top))))  # fmt: skip
        return out
    out = []
    for kind, run in lab.runs.items():
        pairs = diagnose.confused_pairs(run.metrics["confusion_matrix"], top=3)
        if not pairs:
            continue
        if registry.LABS[lab.name].binary:
            by = {(p["true"], p["predicted"]): p["count"] for p in pairs}
            out.append(mistake_balance(t, NAMES[kind], by.get((0, 1), 0), by.get((1, 0), 0)))
            continue
        listed = ", ".join(
            t("errors:pair", true=p["true"], pred=p["predicted"], n=t.num(p["count"]),
              share=t.pct(p["share_of_true"], 1))
            for p in pairs
        )  # fmt: skip
        out.append(t("errors:pairs", model=NAMES[kind], pairs=listed))
    return out


# A binary classifier "leans" to one class when at least this share of its mistakes go that way.
LEAN_SHARE = 0.6


def mistake_balance(t, model: str, false_positives: int, false_negatives: int) -> str:
    """Which way a binary classifier's mistakes go: the finding a confusion matrix hides."""
    total = false_positives + false_negatives
    counts = {"model": model, "fp": t.num(false_positives), "fn": t.num(false_negatives)}
    if not total or max(false_positives, false_negatives) < LEAN_SHARE * total:
        return t("errors:imdb", **counts)
    positive = false_positives > false_negatives
    return t("errors:imdb-lean", **counts, total=t.num(total),
             side=t("positive" if positive else "negative"),
             share=t.pct(max(false_positives, false_negatives) / total, 0))  # fmt: skip


def count_word(t, n: int) -> str:
    """A small count as a word ("bốn", "four"), else as a number."""
    key = f"count-word:{n}"
    return t(key) if key in t.messages else t.num(n)


def outcome(lab_view) -> str:
    """'cnn' or 'rnn' when the lab's deciding comparison (the notebook's protocol, the runs
    that trained) established a winner, else 'none'."""
    record = comparisons.find(lab_view.verdicts)
    return (record or {}).get("winner") or "none"


def paired_test(t, lab: str, task: str, comparison: dict, cite) -> str:
    """The detailed runs' paired test on the test set (CNN minus RNN): the difference with its
    interval, the test's p-value, and whether it tells these two networks apart."""
    difference, test = comparison["difference"], comparison["test"]
    key = metrics.main_metric(task)
    text = t(f"verdict:{task}", diff=t.metric_difference(key, difference["value"]),
             low=t.metric_difference(key, difference["low"]),
             high=t.metric_difference(key, difference["high"]), p=t.pvalue(test["p_value"]),
             ref=cite("mcnemar1947" if task == "classification" else "student1908"))  # fmt: skip
    short = t(f"lab-short:{lab}")
    if not comparison["significant"]:
        return Markup(" ").join([text, t("significant:no", lab=short)])
    ahead = comparison["better"]
    behind = "rnn" if ahead == "cnn" else "cnn"
    verdict = t(f"significant:yes:{task}", better=ahead.upper(), worse=behind.upper(), lab=short)
    return Markup(" ").join([text, verdict])


def mean_sentence(t, record: dict) -> str:
    """ "the CNN's accuracy is 0.86 percentage points higher than the RNN's on average" (no
    "average" when each model has one run), with the 95 % interval when there is one."""
    key = record["metric"]
    cnn_ahead = (record["difference"] >= 0) == record["higher_is_better"]
    ahead, behind = ("cnn", "rnn") if cnn_ahead else ("rnn", "cnn")
    single = all(len(record["models"][kind]["seeds"]) == 1 for kind in ctx.KINDS)
    text = t(f"v:{'one' if single else 'mean'}:{key}", ahead=NAMES[ahead], behind=NAMES[behind],
             diff=t.metric_difference(key, abs(record["difference"])))  # fmt: skip
    if record["interval"] is None:
        return text
    # the interval of the stated amount: the difference's own sign is dropped from the text
    # ("lower by 2.59"), so its interval is turned the same way
    sign = 1 if record["difference"] >= 0 else -1
    low, high = sorted(sign * v for v in record["interval"])
    return text + " " + t("v:interval", low=t.metric_difference(key, low),
                          high=t.metric_difference(key, high))  # fmt: skip


def outcome_sentence(t, record: dict, cite) -> str:
    """Established, the same direction in every pair of runs but not established, or no
    consistent difference; with the test's p-value and the cross pairs."""
    pairs = record["cross_pairs"]
    counts = {kind: len(record["models"][kind]["seeds"]) for kind in ctx.KINDS}
    if record["p_value"] is None:  # a model with one run: no seed variance to test against
        single = [NAMES[kind] for kind, n in counts.items() if n == 1]
        return t("v:untested-both") if len(single) == 2 else t("v:untested", model=single[0])
    direction = record["direction"] or ("cnn" if pairs["cnn"] >= pairs["rnn"] else "rnn")
    other = "rnn" if direction == "cnn" else "cnn"
    chance = (record.get("planning") or {}).get("sweep_by_chance")
    values = {"ahead": NAMES[direction], "behind": NAMES[other], "won": pairs[direction],
              "pairs": pairs["pairs"], "ref": cite("welch1947"),
              "runs": t("runs-count", cnn=counts["cnn"], rnn=counts["rnn"]),
              "chance": t.pct(chance, 0) if chance is not None else "—"}  # fmt: skip
    return t(f"v:{record['outcome']}", p=t.pvalue(record["p_value"]), **values)


def reliability_sentence(t, record: dict, cite) -> str:
    """Failed runs per model, and Fisher's exact test on them."""
    found, lab = record["reliability"], t(f"lab-short:{record['dataset']}")
    if not found["cnn"]["failed"] and not found["rnn"]["failed"]:
        return t("v:reliability-all-trained", lab=lab)
    return t("v:reliability", lab=lab, cnn=found["cnn"]["failed"], cnn_runs=found["cnn"]["runs"],
             rnn=found["rnn"]["failed"], rnn_runs=found["rnn"]["runs"],
             p=t.pvalue(found["p_value"]), ref=cite("fisher1922"))  # fmt: skip


def verdict(t, lab_view, cite) -> dict:
    """The lab's verdict, stated once: reliability, accuracy when trained (the decision), every
    run, the planning figure, and each sounder protocol with whether it changed the outcome.
    "headline": the decision in one sentence, for the summary."""
    records = lab_view.verdicts
    decision = comparisons.find(records)
    everything = comparisons.find(records, population="all")
    if everything is None:
        return {"lines": [], "headline": None, "name": None}
    sizes = lab_view.sizes
    lines = [t("v:rests-on", lab=t(f"lab-short:{lab_view.name}"), n_train=t.num(sizes["n_train"]),
               n_test=t.num(sizes["n_test"])),
             reliability_sentence(t, everything, cite)]  # fmt: skip
    split = comparisons.find(records, split_protocol.PROTOCOL, "all")
    split_lines = [split_sentence(t, split, records, sizes["n_test"], cite)] if split else []
    if decision is None:  # a model none of whose runs trained: only reliability is decided
        untrained = [NAMES[kind] for kind in ctx.KINDS
                     if len(everything["models"][kind]["failed"])
                     == everything["models"][kind]["runs"]]  # fmt: skip
        lines.append(t("v:no-trained", models=" & ".join(untrained),
                       lab=t(f"lab-short:{lab_view.name}")))  # fmt: skip
        lines.append(t("v:all", sentence=mean_sentence(t, everything),
                       outcome=t(f"outcome:{everything['outcome']}")))  # fmt: skip
        lines += split_lines
        headline = t("v:headline-untrained", models=" & ".join(untrained))
        name = t("v:name:untrained", models=" & ".join(untrained))
        return {"lines": lines, "headline": headline, "name": on_notebook(t, name, sizes)}
    n_test = sizes["n_test"]
    protocol_text = said.protocol_text(t, decision, n_test)
    lines.append(t("v:trained", protocol=protocol_text, sentence=mean_sentence(t, decision)) + " "
                 + outcome_sentence(t, decision, cite))  # fmt: skip
    lines += companions(t, decision, cite, n_test)
    if everything["models"] != decision["models"]:
        lines.append(t("v:all", sentence=mean_sentence(t, everything),
                       outcome=t(f"outcome:{everything['outcome']}")))  # fmt: skip
    plan = said.seed_plan(t, lab_view.plan, lab_view.name, decision["metric"], n_test)
    if plan:
        lines.append(plan)
    for protocol in comparisons.PROTOCOLS[1:]:
        other = comparisons.find(records, protocol, "all")
        if other is None:
            continue
        # Like with like: every run under each protocol (a sounder protocol's point is that
        # fewer runs fail, which the trained-only comparison leaves out by design).
        same = (other["outcome"], other["winner"]) == (everything["outcome"], everything["winner"])
        kept = other
        restarted = {
            NAMES[kind]: sorted(set(everything["models"][kind]["seeds"])
                                - set(kept["models"][kind]["seeds"]))
            for kind in ctx.KINDS
        }  # fmt: skip
        lines.append(t(
            f"v:protocol:{protocol}", sentence=mean_sentence(t, other),
            outcome=t(f"outcome:{other['outcome']}"),
            changed=t("v:unchanged" if same else "v:changed"),
            patience=design.SOUNDER_PATIENCE,
            n=min(len(other["models"][kind]["seeds"]) for kind in ctx.KINDS),
            restarted="; ".join(f"{m} {', '.join(map(str, s))}" for m, s in restarted.items() if s),
        ))  # fmt: skip
        lines += companions(t, comparisons.find(records, protocol) or other, cite, n_test)
    lines += split_lines
    headline = t("v:headline", protocol=protocol_text, sentence=mean_sentence(t, decision),
                 outcome=t(f"outcome:{decision['outcome']}"))  # fmt: skip
    return {
        "lines": lines,
        "headline": headline,
        "name": on_notebook(t, verdict_name(t, decision), sizes),
    }


def on_notebook(t, text: str, sizes: dict) -> str:
    """A verdict's name (what the summary and the discussion call it) with the protocol it
    rests on: the notebook's, on Keras's own test set."""
    return t("v:name:on-notebook", name=text, n_test=t.num(sizes["n_test"]))


def split_sentence(t, record: dict, records: list[dict], n_test: int, cite) -> str:
    """The split protocol's comparison (split_protocol.py): its design, the mean difference
    over the splits with its interval and p-value, and whether it resolves what the same
    recipe on the lab's own test set could not."""
    found = record["design"]
    seeds = found["seeds_per_split"]
    text = t("v:kfold", folds=found["folds"], repeats=found["repeats"],
             districts=t.num(found["districts"]), splits=record["splits"],
             seeds=t("v:kfold-seeds" if seeds > 1 else "v:kfold-seed", n=seeds),
             patience=found["patience"], sentence=mean_sentence(t, record),
             outcome=t(f"outcome:{record['outcome']}"), p=t.pvalue(record["p_value"]),
             ref=cite("nadeau2003", "bouckaert2004"))  # fmt: skip
    same = comparisons.find(records, split_protocol.SAME_RECIPE, "all")
    if same is None:
        return text
    key, unit = record["metric"], t(f"unit:{record['metric']}")
    values = {
        "n_test": t.num(n_test),
        "unit": unit,
        "winner": NAMES.get(record["winner"]),
        "width": t.metric_difference(key, record["interval"][1] - record["interval"][0]),
    }
    if record["resolves"]:
        relation = "resolves"
    elif record["outcome"] == "established":
        relation = "agrees" if record["winner"] == same["winner"] else "differs"
        values["other"] = NAMES.get(same["winner"])
    elif same["outcome"] == "established":
        relation = "unconfirmed"
    elif same["interval"] is None:
        relation = "unresolved-alone"
    else:
        relation = "unresolved"
        values["width_same"] = t.metric_difference(key, same["interval"][1] - same["interval"][0])
    return Markup(" ").join([text, t(f"v:kfold:{relation}", **values)])


def companions(t, record: dict, cite, n_test: int) -> list[str]:
    """What follows a tested comparison: equivalence where not established, P(a CNN run beats
    an RNN run), rerun agreement and how many seeds would settle it."""
    found = [said.equivalence(t, record, cite), said.prob_better(t, record, cite),
             said.rerun(t, record), said.planning(t, record, n_test)]  # fmt: skip
    return [line for line in found if line]


def verdict_name(t, record: dict) -> str:
    """The verdict in a few words, as the summary and the discussion name it beside their link
    to the verdict (stated once, in the lab's results)."""
    if record["p_value"] is None:
        single = [NAMES[k] for k in ctx.KINDS if len(record["models"][k]["seeds"]) == 1]
        if len(single) == 2:
            return t("v:name:untested-both")
        return t("v:name:untested", model=single[0])
    pairs = record["cross_pairs"]
    ahead = record.get("winner") or record["direction"] or (
        "cnn" if pairs["cnn"] >= pairs["rnn"] else "rnn")  # fmt: skip
    behind = "rnn" if ahead == "cnn" else "cnn"
    return t(f"v:name:{record['outcome']}", ahead=NAMES[ahead], behind=NAMES[behind])


# The control explains the gap when it shrinks the validation/training ratio at least this much.
GAP_EXPLAINED = 0.5


def gap_sentences(t, found: dict | None) -> list[str]:
    """The Boston CNN's validation-loss gap in numbers (gap.boston_cnn), and what they show:
    BatchNormalization's moving averages are named only when the control supports it."""
    if not found or found["lab"] is None or found["control"] is None:
        return []
    start, end = found["window"]
    out = [t("gap:ratio", start=start, end=end, lab=t.num(found["lab"], 1), n=found["lab_runs"],
             control=t.num(found["control"], 1), m=found["control_runs"],
             momentum=t.num(design.BN_MOMENTUM, 2),
             default=t.num(design.KERAS_BN_MOMENTUM, 2))]  # fmt: skip
    measured = found["inference"]
    if measured:
        out.append(t("gap:inference", n=found["measured_runs"],
                     inference=loss_text(t, measured["train_loss_inference"]),
                     running=loss_text(t, measured["train_loss_running"]),
                     val=loss_text(t, measured["validation_loss"])))  # fmt: skip
    explained = found["control"] <= GAP_EXPLAINED * found["lab"]
    out.append(t("gap:bn-yes" if explained else "gap:bn-no"))
    mae = found.get("test_mae")
    if mae:
        values = {"control": t.num(mae["control"], 2), "lab": t.num(mae["lab"], 2),
                  "seeds": _seed_range(mae["seeds"])}  # fmt: skip
        epochs = {*mae["control_epochs"], *mae["lab_epochs"]}
        if len(epochs) == 1:  # every run went the same length: the epochs are no difference
            out.append(t("gap:test-mae-same", epochs=epochs.pop(), **values))
        else:
            out.append(t("gap:test-mae", **values,
                         control_epochs=listed(t, [str(n) for n in mae["control_epochs"]]),
                         lab_epochs=listed(t, [str(n) for n in mae["lab_epochs"]])))  # fmt: skip
    return out


def detail_failed(t, lab_view) -> list[str]:
    """A warning for each model none of whose runs trained: its detailed sections then show a
    failed run, which describes a model that learned nothing."""
    table = lab_view.seeds
    if not table:
        return []
    out = []
    for kind, row in table["rows"].items():
        shown = next(cell for cell in row["cells"] if cell["detail"])
        if shown["failure"]:
            out.append(t("errors:detail-failed", model=NAMES[kind], seed=shown["seed"],
                         lab=t(f"lab-short:{lab_view.name}"),
                         what=t(f"failure:{shown['failure']}")))  # fmt: skip
    return out


def suitability(t, lab_view) -> str:
    """The introduction's question for this data set: did the model made for it win?"""
    winner = outcome(lab_view)
    return t(f"suits:{lab_view.name}:{winner}")


def cost(t, found: dict | None) -> str | None:
    """A fair cost comparison (`found`: context.training_cost): time per epoch, then whole runs
    with their epoch counts, each mean naming how many runs it covers. Models timed on other
    thread counts are compared only as a bound (context.slower_per_epoch)."""
    if not found or None in (found["cnn"]["epoch_seconds"], found["rnn"]["epoch_seconds"]):
        return None
    cnn, rnn = found["cnn"], found["rnn"]
    threads = {"cnn_threads": cnn["threads"], "rnn_threads": rnn["threads"]}
    slow = ctx.slower_per_epoch(found)
    if slow is None:
        return t("cost:not-comparable", **threads)
    fast = "cnn" if slow == "rnn" else "rnn"
    ratio = t.num(found[slow]["epoch_seconds"] / found[fast]["epoch_seconds"], 1)
    seconds = {kind: seconds_text(t, found[kind]["epoch_seconds"]) for kind in ctx.KINDS}
    if found["same_threads"]:
        per_epoch = t("cost:per-epoch", **seconds, fast=NAMES[fast], ratio=ratio)
    else:
        per_epoch = t("cost:per-epoch-bound", **seconds, **threads, slow=NAMES[slow],
                      ratio=ratio, slow_threads=found[slow]["threads"],
                      fast_threads=found[fast]["threads"])  # fmt: skip
    epochs = {kind: round(found[kind]["epochs_run"], 1) for kind in ctx.KINDS}
    runs = {"cnn_fit": t.num(cnn["fit_seconds"], 0), "rnn_fit": t.num(rnn["fit_seconds"], 0)}
    if epochs["cnn"] == epochs["rnn"]:  # the same length: whole runs compare directly
        return per_epoch + " " + t("cost:same-epochs", epochs=t.short(epochs["cnn"]),
                                   cnn_runs=runs_text(t, cnn), rnn_runs=runs_text(t, rnn),
                                   **runs)  # fmt: skip
    return per_epoch + " " + t("cost:other-epochs", cnn_epochs=t.short(epochs["cnn"]),
                               rnn_epochs=t.short(epochs["rnn"]), cnn_runs=runs_text(t, cnn),
                               rnn_runs=runs_text(t, rnn), **runs)  # fmt: skip


def seconds_text(t, seconds: float) -> str:
    """A timing as precise as it is repeatable: epoch times vary by several per cent between
    runs, so 23 s, 1.6 s, 0.19 s rather than 23.26 s."""
    return t.num(seconds, 0 if seconds >= 10 else 1 if seconds >= 1 else 2)


def runs_text(t, found_kind: dict) -> str:
    """Which runs a model's cost averages: "mean of 10 runs" or "one run, seed 51"."""
    seeds = found_kind["seeds"]
    if len(seeds) == 1:
        return t("cost:one-run", seed=seeds[0])
    return t("cost:mean-of", n=len(seeds))


def cost_basis(t, found: dict) -> str:
    """The runs and thread counts a lab's times come from, per model."""
    return "; ".join(
        t("cost:basis-model", model=NAMES[kind], seeds=_seed_range(found[kind]["seeds"]),
          threads=found[kind]["threads"] or t("default"))
        for kind in ctx.KINDS
    )  # fmt: skip


def failures(lab_view) -> list[tuple[str, str, int, int]]:
    """(lab, model, failed runs, runs) for each kind with at least one failed run."""
    table = lab_view.seeds
    if not table:
        return []
    return [
        (lab_view.name, NAMES[kind], len(row["failed"]), len(row["cells"]))
        for kind, row in table["rows"].items()
        if row["failed"]
    ]


def seed_ranges(seeds: list[int]) -> str:
    """Seeds as runs of consecutive numbers: [44, 45, 46, 50] -> "44–46, 50"."""
    ordered = sorted(set(seeds))
    spans: list[list[int]] = []
    for seed in ordered:
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def pending_by_model(pending: list[dict], lab_names) -> tuple[dict[str, list[int]], int]:
    """The runs still to come: each lab model's seeds (by run name, of the labs `lab_names`),
    and how many experiment trials."""
    waiting: dict[str, list[int]] = {}
    trials = 0
    for item in pending:
        lab, _, kind = item["run"].partition("-")
        if lab in lab_names and kind in NAMES:
            waiting.setdefault(item["run"], []).append(item["seed"])
        else:
            trials += 1
    return waiting, trials


def preliminary(t, pending: list[dict], lab_views: list) -> str | None:
    """The banner of a report rendered while runs are still missing: which runs are to come,
    and how many runs each lab's verdict rests on so far."""
    if not pending:
        return None
    waiting, trials = pending_by_model(pending, {view.name for view in lab_views})
    runs = [t("preliminary:run" if len(seeds) > 1 else "preliminary:run-one",
              lab=t(f"lab-short:{name.split('-')[0]}"), model=NAMES[name.split("-")[1]],
              seeds=seed_ranges(seeds))
            for name, seeds in waiting.items()]  # fmt: skip
    if trials:
        runs.append(t("preliminary:trials", n=trials))
    rest = []
    for view in lab_views:
        record = comparisons.find(view.verdicts, population="all")
        if record:
            counts = {kind: len(record["models"][kind]["seeds"]) for kind in ctx.KINDS}
            rest.append(f"{t(f'lab-short:{view.name}')}: {t('runs-count', **counts)}")
    return t("preliminary", count=len(pending), runs="; ".join(runs), seeds="; ".join(rest))


def seed_counts_text(t, counts: dict[str, int]) -> str:
    """How many seeds each lab's models were trained with, e.g. "3 seeds (MNIST, IMDB) and 10
    seeds (Boston)"."""
    groups: dict[int, list[str]] = {}
    for lab, count in counts.items():
        groups.setdefault(count, []).append(t(f"lab-short:{lab}"))
    parts = [t("seeds-for", n=n, labs=", ".join(labs)) for n, labs in sorted(groups.items())]
    return (
        t("seeds-and", first=", ".join(parts[:-1]), last=parts[-1])
        if len(parts) > 1
        else t("seeds-all", n=next(iter(groups)))
    )


def overall(t, lab_views: list, machines: dict, seed_counts: dict[str, int], cite=None,
            multiplicity: dict | None = None) -> dict:  # fmt: skip
    """The overall conclusion: the verdicts together, the home-ground answer, cost, failures
    and the limits of what was measured."""
    winners = {view.name: outcome(view) for view in lab_views}
    decided = [comparisons.find(view.verdicts) for view in lab_views]
    # A lab whose deciding comparison has no test (a model with one trained run, or none) is
    # untested, not "no consistent difference".
    tally = Counter(
        "untested" if r is None or r["p_value"] is None else r.get("winner") or r["outcome"]
        for r in decided
    )
    parts = [
        t(f"overall:tally-{key}", n=tally[key])
        for key in ("cnn", "rnn", "consistent", "none", "untested")
        if tally[key]
    ]
    tally_line = t("overall:tally", labs=len(lab_views), parts="; ".join(parts))
    home = [t(f"suits:{name}:{winner}") for name, winner in winners.items()]

    ratios = {}  # lab -> (RNN's time per epoch over the CNN's, whether it is a lower bound)
    for view in lab_views:
        found = view.cost
        if found and ctx.slower_per_epoch(found):
            ratio = found["rnn"]["epoch_seconds"] / found["cnn"]["epoch_seconds"]
            ratios[view.name] = (ratio, not found["same_threads"])
    cost_line = None
    if ratios:
        key = "overall:cost-cnn" if min(r for r, _ in ratios.values()) > 1 else "overall:cost-mixed"
        items = [t("overall:cost-bound" if bound else "overall:cost-ratio",
                   lab=t(f"lab-short:{lab}"), ratio=t.num(ratio, 1))
                 for lab, (ratio, bound) in ratios.items()]  # fmt: skip
        cost_line = t(key, ratios=", ".join(items))
    failed = [item for view in lab_views for item in failures(view)]
    failed_lines = [
        t("overall:failed", lab=t(f"lab-short:{lab}"), model=m, count=c, total=n)
        for lab, m, c, n in failed
    ]
    test_sizes = {view.name: view.sizes["n_test"] for view in lab_views}
    limits = [
        t("limit:seeds", seeds=seed_counts_text(t, seed_counts))
        if min(seed_counts.values()) > 1
        else t("limit:one-seed"),
        t("limit:cpu", count=len(machines["cpu_types"]))
        if len(machines["cpu_types"]) > 1
        else t("limit:cpu-one"),
        t("limit:boston", n=t.num(test_sizes.get("boston", 0))),
        t("limit:architectures"),
        t("limit:imdb-vocabulary"),
    ]
    held = said.multiplicity(t, multiplicity, cite) if cite else None
    return {"verdicts": tally_line, "multiplicity": held, "home": home, "cost": cost_line,
            "failures": failed_lines, "limits": limits}  # fmt: skip


def summary_rows(lab_views: list) -> list[dict]:
    """The summary table: per model its main metric over the seeds, and its training cost."""
    rows = []
    for view in lab_views:
        cost_found = view.cost or {}
        for kind in ctx.KINDS:
            row = (view.seeds or {}).get("rows", {}).get(kind)
            rows.append({
                "lab": view.name, "kind": kind, "key": (view.seeds or {}).get("key"),
                "mean": row["mean"] if row else None, "std": row["std"] if row else None,
                "n": row["n"] if row else 0, "failed": len(row["failed"]) if row else 0,
                "cost": cost_found.get(kind),
            })  # fmt: skip
    return rows


def noisy_label(item: dict) -> dict | None:
    """A confidently misread test review whose own words contradict its label."""
    tokens = str(item.get("text", "")).split()
    return diagnose.label_noise(tokens, int(item["true"])) if tokens else None


# The features a hand-made house is described by, in words (catalog "feature:<name>").
DESCRIBED_FEATURES = ("CRIM", "CHAS", "RM", "AGE", "DIS", "TAX", "PTRATIO", "LSTAT")


def handmade_reading(house: list[float], ranges: np.ndarray | None) -> list[str]:
    """The features of a hand-made house that lie outside the training houses' range
    (`ranges`: training_ranges): a price there is an extrapolation."""
    if ranges is None:
        return []
    low, high = ranges
    return [
        boston.FEATURES[index]
        for index, value in enumerate(house)
        if value < low[index] or value > high[index]
    ]


def training_ranges(run) -> np.ndarray | None:
    """The training features' (min, max) per column, saved with a Boston run's scaler."""
    if run.folder is None or not (run.folder / runfiles.PREDICTIONS).exists():
        return None
    with np.load(run.folder / runfiles.PREDICTIONS, allow_pickle=False) as npz:
        if "scaler_min" not in npz.files:
            return None
        return np.stack([npz["scaler_min"], npz["scaler_max"]])


# The libraries a reader installs to redo the runs, by the names their projects use.
LIBRARY_NAMES = {"tensorflow": "TensorFlow", "tensorflow-cpu": "TensorFlow", "keras": "Keras",
                 "numpy": "NumPy", "scikit-learn": "scikit-learn", "python": "Python"}  # fmt: skip


def _seed_range(seeds: list[int]) -> str:
    """42–44 for consecutive seeds, else the list."""
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


def environment(t, machines: dict, lab_views: list, meta: dict) -> dict:
    """The appendix's short table: library versions, each lab's seeds, one line per machine."""
    versions = machines["versions"]
    libraries = ", ".join(
        f"{LIBRARY_NAMES[name]} {versions[name]}" for name in LIBRARY_NAMES if name in versions
    )
    groups: dict[str, list[str]] = {}
    for view in lab_views:
        seeds = (view.seeds or {}).get("seeds") or meta["seeds"]
        groups.setdefault(_seed_range(seeds), []).append(t(f"lab-short:{view.name}"))
    seeds = "; ".join(f"{text} ({', '.join(labs)})" for text, labs in groups.items())
    lines = []
    for line in machines["lines"]:
        used = [t(f"lab-short:{lab}") for lab in line["labs"]]
        if line["trials"]:
            used.append(t("machine:trials", n=line["trials"]))
        lines.append(t("machine:line", name=line["name"], cores=line["cores"] or "?",
                       used=", ".join(used)))  # fmt: skip
    return {"libraries": libraries, "seeds": seeds, "machines": lines}


# The settings the training sentence states, in its order.
STATED_SETTINGS = ("learning_rate", "epochs", "patience", "batch_size", "validation_split",
                   "precision")  # fmt: skip


def training_setup(t, lab_name: str, runs: dict, cite) -> list[str]:
    """How each model was trained, from its own run's settings (run.json): one sentence for
    both when they share them, else one per model."""
    settings = {kind: run.settings for kind, run in runs.items()}
    shared = all(settings["cnn"].get(key) == settings["rnn"].get(key) for key in STATED_SETTINGS)
    groups = [(t("training:both"), settings["cnn"])] if shared else [
        (t("model-name", model=NAMES[kind], lab=t(f"lab-short:{lab_name}")), settings[kind])
        for kind in ctx.KINDS
    ]  # fmt: skip
    out = []
    for who, s in groups:
        epochs = t("epochs:at-most" if s.get("patience") else "epochs:exactly", n=s["epochs"])
        sentence = t("training-setup", who=who, optimizer=Markup("Adam ") + cite("kingma2015"),
                     lr=t.short(s["learning_rate"]), loss=t(f"loss:{lab_name}"), epochs=epochs,
                     batch=s["batch_size"], val=t.pct(s["validation_split"], 0))  # fmt: skip
        if s.get("patience"):
            sentence += " " + t("early-stopping-setup", patience=s["patience"])
        if s.get("precision", "float32") != "float32":
            sentence += " " + t("training-precision", precision=s["precision"])
        out.append(sentence)
    return out


def fitting_rules(t) -> list[tuple[str, str]]:
    """diagnose.fitting's rules, (verdict, its rule in one sentence), in the order they are
    tried, with the thresholds diagnose.py uses; the first says what a failed run is."""
    rise = t.pct(diagnose.OVERFIT_RISE, 0)
    values = {
        "failed": {task: t.pct(share, 0) for task, share in diagnose.FAILED_SHARE.items()},
        "underfitting": {"drop": t.pct(diagnose.UNDERFIT_DROP, 0)},
        "overfitting": {"rise": rise, "gap": t.pct(diagnose.OVERFIT_GAP, 0)},
        "still-improving": {"near": t.pct(diagnose.NEAR_END_SHARE, 0), "rise": rise},
        "good-fit": {},
    }
    return [(verdict, t(f"rule:{verdict}", **values[verdict])) for verdict in diagnose.VERDICTS]


def notebook_steps() -> dict:
    """The notebook's fractional iteration count against whole steps (config.split_sizes):
    every sample is used, the last batch holding the rest."""
    example = config.NOTEBOOK_BATCH_EXAMPLE
    settings = config.TrainSettings(epochs=1, batch_size=example["batch_size"],
                                    validation_split=0.0, patience=None)  # fmt: skip
    steps = config.split_sizes(example["samples"], settings)["steps_per_epoch"]
    full, rest = divmod(example["samples"], example["batch_size"])
    return {"samples": example["samples"], "batch": example["batch_size"],
            "claimed": example["iterations"], "steps": steps, "full": full,
            "used": full * example["batch_size"], "rest": rest}  # fmt: skip


def handmade_sentences(t, priced: list[dict] | None, price_range) -> list[str]:
    """The hand-made houses' prices in two sentences: whether every price lies within the
    training prices' range (those outside named), and today's CNN against the prices the
    notebook printed."""
    if not priced:
        return []
    out = []
    if price_range is not None:
        low, high = price_range
        outside = [
            t("house:price-item", model=NAMES[kind], n=number, price=t.num(house[kind], 1))
            for number, house in enumerate(priced, start=1)
            for kind in ctx.KINDS
            if not low <= house[kind] <= high
        ]
        values = {"low": t.num(low, 1), "high": t.num(high, 1)}
        if outside:
            out.append(t("house:some-outside", items="; ".join(outside), **values))
        else:
            count = count_word(t, len(priced) * len(ctx.KINDS))
            out.append(t("house:all-inside", n=count, **values))
    prices = listed(t, [t.num(house["notebook"], 1) for house in priced])
    spread = [house["seeds"].get("cnn") for house in priced]
    if None in spread:
        return out
    ranges = listed(t, [t("range", low=t.num(s["low"], 1), high=t.num(s["high"], 1))
                        for s in spread])  # fmt: skip
    outside = [str(number) for number, (house, s) in enumerate(zip(priced, spread, strict=True), 1)
               if not s["low"] <= house["notebook"] <= s["high"]]  # fmt: skip
    verdict = (t("house:notebook-outside", houses=listed(t, outside)) if outside
               else t("house:notebook-inside"))  # fmt: skip
    out.append(t("house:notebook", count=count_word(t, len(priced)), prices=prices,
                 n=spread[0]["n"], ranges=ranges, verdict=verdict))  # fmt: skip
    return out


def listed(t, items: list[str]) -> str:
    """ "a, b and c" in the edition's language."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {t('exp:and')} {items[-1]}"


def review_note(t, item: dict, other: str, other_p: float, words: int) -> str:
    """A confidently misread IMDB review in numbers: what the other model said, and whether
    the review was cut to the models' input length. Its ids are the start marker and one per
    word; truncation keeps the last IMDB_MAXLEN, so a review of more words loses the marker
    and its first words."""
    right = (other_p > metrics.THRESHOLD) == bool(item["true"])
    out = [t("review:other-right" if right else "review:other-wrong", model=NAMES[other],
             p=t.num(other_p, 3))]  # fmt: skip
    if words > IMDB_MAXLEN:
        out.append(t("review:cut", words=t.num(words), read=t.num(IMDB_MAXLEN),
                     unread=t.num(words - IMDB_MAXLEN)))  # fmt: skip
    return " ".join(out)
