"""The verdict's companions in words, each from its record (comparisons.py) or the lab's seed
plan (seedplan.plan_summary): the protocol a statement rests on, the equivalence test, P(a CNN
run beats an RNN run), rerun agreement, the planning figures, the seed plan and the
multiplicity sentence. findings.verdict puts them in order."""

from __future__ import annotations

from nnlab import verdicts
from nnlab.experiments import design
from nnlab.report import context as ctx

NAMES = {"cnn": "CNN", "rnn": "RNN"}


def recipe_text(t, recipe: dict) -> str:
    """ "at most 50 epochs, early stopping with patience 5", or "5 epochs, no early
    stopping"; per model when the models were trained differently."""
    if "epochs" not in recipe:  # {kind: recipe}
        return "; ".join(f"{NAMES[kind]}: {recipe_text(t, own)}" for kind, own in recipe.items())
    if recipe.get("patience"):
        return t("recipe:patience", epochs=recipe["epochs"], patience=recipe["patience"])
    return t("recipe:epochs", epochs=recipe["epochs"])


def protocol_text(t, record: dict, n_test: int) -> str:
    """The protocol a record rests on, with its recipe and test split."""
    return t(f"protocol:{record['protocol']}", recipe=recipe_text(t, record["recipe"]),
             n_test=t.num(n_test))  # fmt: skip


def _runs(t, record: dict) -> str:
    return t("runs-count", **{kind: len(record["models"][kind]["seeds"]) for kind in ctx.KINDS})


def equivalence(t, record: dict, cite) -> str | None:
    """TOST against the margin, where the difference is not established."""
    found = record["equivalence"]
    if found is None:
        return None
    key = record["metric"]
    low, high = found["interval"]
    values = {"margin": t.metric_difference(key, found["margin"]), "unit": t(f"unit:{key}"),
              "share": t.pct(found["share"], 0), "low": t.metric_difference(key, low),
              "high": t.metric_difference(key, high), "p": t.pvalue(found["p_value"]),
              "smallest": t.metric_difference(key, found["smallest_margin"]),
              "ref": cite("schuirmann1987")}  # fmt: skip
    return t("v:equivalent" if found["equivalent"] else "v:not-equivalent", **values)


def prob_better(t, record: dict, cite) -> str | None:
    """P(a CNN run beats an RNN run) with its bootstrap interval, beside the cross pairs."""
    found = record["prob_cnn_better"]
    if record["p_value"] is None or found["interval"] is None:
        return None
    low, high = found["interval"]
    values = {"p": t.num(found["value"], 2), "pairs": record["cross_pairs"]["pairs"],
              "ref": cite("bouthillier2021"),
              "lab": t(f"lab-short:{record['dataset']}")}  # fmt: skip
    if low == high:  # every resample gives the same share: one model won every pair
        return t("v:prob-swept", runs=_runs(t, record), **values)
    return t("v:prob", low=t.num(low, 2), high=t.num(high, 2), **values)


def _outcome_name(t, outcome: str, ahead: str | None) -> str:
    behind = "rnn" if ahead == "cnn" else "cnn"
    return t(f"v:name:{outcome}", ahead=NAMES.get(ahead, ""), behind=NAMES.get(behind, ""))


def rerun(t, record: dict) -> str | None:
    """How often a rerun with fresh seeds repeats the outcome, now and at the planned seeds."""
    found = record["rerun"]
    if found is None:
        return None
    now, planned = found["at"]["now"], found["at"].get("planned")
    values = {"same": t.pct(now["same"], 0), "runs": _runs(t, record),
              "lab": t(f"lab-short:{record['dataset']}")}  # fmt: skip
    if planned is None:
        return t("v:rerun", **values)
    likeliest = planned["likeliest"]
    return t("v:rerun-plan", seeds=planned["seeds"][0], share=t.pct(likeliest["share"], 0),
             outcome=_outcome_name(t, likeliest["outcome"], likeliest["direction"]),
             **values)  # fmt: skip


def planning(t, record: dict, n_test: int) -> str | None:
    """How many seeds would settle the question (a range), or that this test set cannot."""
    found = record["planning"]
    if found is None:
        return None
    key = record["metric"]
    values = {"detectable": t.metric_difference(key, found["detectable_difference"]),
              "diff": t.metric_difference(key, abs(record["difference"])),
              "unit": t(f"unit:{key}"), "n_test": t.num(n_test),
              "power": t.pct(found["power_target"], 0)}  # fmt: skip
    needed, upper = found["seeds_needed"], found["seeds_needed_upper"]
    if needed == "unresolvable":
        shared = record["components"]["shared_se"]
        return t("v:plan:unresolvable", shared=t.metric_difference(key, shared),
                 least=t.metric_difference(key, found["least_resolvable"]), **values)  # fmt: skip
    if needed is None:
        return t("v:plan:more", most=t.num(found["max_seeds"]), **values)
    more = t("v:plan:more-than", most=t.num(found["max_seeds"]))
    upper_text = t.num(upper) if upper is not None else more
    return t("v:plan:seeds", needed=t.num(needed), upper=upper_text,
             level=t.pct(found["upper_level"], 0), **values)  # fmt: skip


def _minutes(t, seconds: float | None) -> str:
    return "—" if seconds is None else t("minutes", n=t.num(max(1.0, seconds / 60), 0))


def seed_plan(t, plan: dict | None, lab: str, metric: str, n_test: int) -> str | None:
    """The lab's seed plan, its power and cost, and whether this build follows it."""
    if plan is None:
        return None
    name = t(f"lab-short:{lab}")
    protocol = t(f"protocol-short:{plan['protocol']}", patience=design.SOUNDER_PATIENCE)
    values = {"lab": name, "seeds": plan["seeds"], "unit": t(f"unit:{metric}"),
              "diff": t.metric_difference(metric, abs(plan["pilot_difference"])),
              "protocol": protocol, "cost": _minutes(t, plan["cost_seconds"]),
              "n_test": t.num(n_test)}  # fmt: skip
    if plan["resolvable"]:
        text = t("v:seedplan", pilot=plan["pilot_seeds"], target=t.pct(plan["power_target"], 0),
                 power=t.pct(plan["power"], 0), **values)  # fmt: skip
    else:
        text = t("v:seedplan:unresolvable", **values)
    text += " " + t(f"v:seedplan:{plan['state']}", trained=plan["trained"], lab=name)
    if plan["state"] != "as-planned" and plan["power_trained"] is not None:
        text += " " + t("v:seedplan:power-now", trained=plan["trained"], lab=name,
                        power=t.pct(plan["power_trained"], 0))  # fmt: skip
    return text


def multiplicity(t, found: dict | None, cite) -> str | None:
    """One sentence: the labs' p-values adjusted together (Holm), and which stay below ALPHA."""
    if not found or len(found["labs"]) < 2:
        return None
    adjusted = found["holm_p"]
    listed = ", ".join(f"{t(f'lab-short:{lab}')} p {t.pvalue(p)}" for lab, p in adjusted.items())
    kept = [t(f"lab-short:{lab}") for lab, p in adjusted.items() if p < verdicts.ALPHA]
    kept_text = t("overall:holm-some", labs=", ".join(kept)) if kept else t("overall:holm-none")
    return t("overall:holm", n=len(adjusted), list=listed, kept=kept_text, ref=cite("holm1979"))
