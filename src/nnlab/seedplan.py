"""How many seeds the verdict rule (verdicts.py) needs, and how often a rerun with fresh seeds
repeats its outcome (NumPy and SciPy; no TensorFlow).

Both are simulated from the variance components the rule measures (each model's seed spread,
the test sampling the runs share), taking the observed difference as the truth: a rerun draws
new seed scores from a normal with each model's spread, keeps the same test set (so its shared
term), and is judged by the rule itself (verdicts.decide). The draws come from a fixed seed, so
the same runs give the same figures. The power is that of the rule as it is applied (Welch's
variances and Satterthwaite's df re-estimated in every rerun), not a normal approximation.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, stats

from nnlab import metrics, verdicts
from nnlab.metric_table import METRICS

POWER = 0.90  # a seed plan's target, and the power every planning figure is stated at
# The most seeds per model a planning sentence names; beyond that it says "more than".
MAX_SEEDS = 200
SIMULATIONS = 20_000
SIMULATION_SEED = 2028
# "Seeds needed" is also given with each model's seed spread at this one-sided upper bound
# (chi-square on the spread's degrees of freedom): a spread from 3 seeds is itself uncertain.
UPPER_LEVEL = 0.80
METHOD = (
    f"simulated reruns ({SIMULATIONS} draws, seed {SIMULATION_SEED}) of the verdict rule, the "
    "observed difference and seed spreads taken as the truth, the test set kept"
)


def outcome_shares(components: dict, difference: float, seeds: tuple[int, int],
                   higher_is_better: bool) -> dict:  # fmt: skip
    """The share of reruns with `seeds` = (CNN, RNN) fresh seeds that end in each outcome:
    {"established": {"cnn", "rnn"}, "consistent": {"cnn", "rnn"}, "none"}."""
    spread = components["seed_sd"]
    return _shares(float(difference), float(spread["cnn"]), float(spread["rnn"]),
                   float(components["shared_se"]), components["shared_df"], tuple(seeds),
                   higher_is_better)  # fmt: skip


@functools.lru_cache(maxsize=256)  # a lab's populations often hold the same runs
def _shares(difference, cnn_sd, rnn_sd, shared_se, shared_df, seeds, higher_is_better) -> dict:
    rng = np.random.default_rng(SIMULATION_SEED)
    cnn = difference + cnn_sd * rng.standard_normal((SIMULATIONS, seeds[0]))
    rnn = rnn_sd * rng.standard_normal((SIMULATIONS, seeds[1]))
    estimate = cnn.mean(axis=1) - rnn.mean(axis=1)
    terms = [(cnn.var(axis=1, ddof=1) / seeds[0], seeds[0] - 1),
             (rnn.var(axis=1, ddof=1) / seeds[1], seeds[1] - 1),
             (shared_se**2, shared_df)]  # fmt: skip
    p_value = verdicts.p_values(estimate, *verdicts.combine(terms))
    if higher_is_better:
        swept = (cnn.min(axis=1) > rnn.max(axis=1), rnn.min(axis=1) > cnn.max(axis=1))
    else:
        swept = (cnn.max(axis=1) < rnn.min(axis=1), rnn.max(axis=1) < cnn.min(axis=1))
    outcome, ahead = verdicts.decide(estimate, p_value, *swept, higher_is_better)
    share = {name: {kind: float(np.mean((outcome == name) & (ahead == kind)))
                    for kind in verdicts.KINDS}
             for name in ("established", "consistent")}  # fmt: skip
    return {**share, "none": float(np.mean(outcome == "none"))}


def _true_ahead(difference: float, higher_is_better: bool) -> str:
    return "cnn" if (difference > 0) == higher_is_better else "rnn"


def power(components: dict, difference: float, seeds: int, higher_is_better: bool) -> float:
    """The share of reruns with `seeds` per model that establish the true direction."""
    shares = outcome_shares(components, difference, (seeds, seeds), higher_is_better)
    return shares["established"][_true_ahead(difference, higher_is_better)]


def unresolvable(components: dict, difference: float) -> tuple[bool, float]:
    """Whether no number of seeds reaches POWER: with the seed terms gone, the shared test
    sampling alone needs at least (z_{1-ALPHA/2} + z_POWER) shared standard errors. Also
    returns that least resolvable difference."""
    least = stats.norm.ppf(1 - verdicts.ALPHA / 2) + stats.norm.ppf(POWER)
    least *= components["shared_se"]
    return (difference == 0 or abs(difference) <= least), float(least)


def seeds_needed(components: dict, difference: float, higher_is_better: bool):
    """The fewest seeds per model whose rerun establishes `difference` with POWER; None when
    more than MAX_SEEDS; "unresolvable" when no number does."""
    if unresolvable(components, difference)[0]:
        return "unresolvable"

    def enough(n: int) -> bool:
        return power(components, difference, n, higher_is_better) >= POWER

    low, high = 1, 2  # doubling, then halving: few reruns, and none with many seeds unneeded
    while not enough(high):
        if high == MAX_SEEDS:
            return None
        low, high = high, min(2 * high, MAX_SEEDS)
    while high - low > 1:  # enough(high), not enough(low) (a t-test needs 2 seeds)
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def upper_spread(components: dict, seeds: dict[str, int]) -> dict:
    """The components with each model's seed spread at its one-sided UPPER_LEVEL bound."""
    scale = {kind: math.sqrt((n - 1) / stats.chi2.ppf(1 - UPPER_LEVEL, n - 1))
             for kind, n in seeds.items()}  # fmt: skip
    spread = {kind: components["seed_sd"][kind] * scale[kind] for kind in verdicts.KINDS}
    return {**components, "seed_sd": spread}


def detectable(components: dict, seeds: tuple[int, int], higher_is_better: bool) -> float:
    """The smallest difference these seeds establish with POWER."""
    spread = components["seed_sd"]
    terms = [(spread["cnn"] ** 2 / seeds[0], seeds[0] - 1),
             (spread["rnn"] ** 2 / seeds[1], seeds[1] - 1),
             (components["shared_se"] ** 2, components["shared_df"])]  # fmt: skip
    se = float(verdicts.combine(terms)[0])

    def gap(d: float) -> float:
        shares = outcome_shares(components, d, seeds, higher_is_better)
        return shares["established"][_true_ahead(d, higher_is_better)] - POWER

    return float(optimize.brentq(gap, 1e-9 * se, 30 * se, xtol=1e-4 * se))


def planning(record: dict) -> dict:
    """A record's planning figures: the difference its seeds detect with POWER, the seeds per
    model the observed difference needs (point value, and with the seed spreads at their upper
    bound), and the least difference any number of seeds resolves on this test set."""
    components, higher = record["components"], record["higher_is_better"]
    seeds = {kind: len(record["models"][kind]["seeds"]) for kind in verdicts.KINDS}
    difference = record["difference"]
    return {
        "power_target": POWER,
        "detectable_difference": detectable(components, (seeds["cnn"], seeds["rnn"]), higher),
        "seeds_needed": seeds_needed(components, difference, higher),
        "seeds_needed_upper": seeds_needed(upper_spread(components, seeds), difference, higher),
        "upper_level": UPPER_LEVEL,
        "max_seeds": MAX_SEEDS,
        "least_resolvable": unresolvable(components, difference)[1],
        "sweep_by_chance": sweep_by_chance(components, (seeds["cnn"], seeds["rnn"])),
    }


def sweep_by_chance(components: dict, seeds: tuple[int, int]) -> float:
    """How often one of two equal models wins every cross pair ("consistent") by chance, with
    these seed spreads and a test set drawn afresh (its sampling gives one model an edge)."""
    rng = np.random.default_rng(SIMULATION_SEED)
    edge = components["shared_se"] * rng.standard_normal((SIMULATIONS, 1))
    cnn = edge + components["seed_sd"]["cnn"] * rng.standard_normal((SIMULATIONS, seeds[0]))
    rnn = components["seed_sd"]["rnn"] * rng.standard_normal((SIMULATIONS, seeds[1]))
    swept = (cnn.min(axis=1) > rnn.max(axis=1)) | (rnn.min(axis=1) > cnn.max(axis=1))
    return float(swept.mean())


def _likeliest(shares: dict) -> dict:
    found = [(shares["none"], "none", None)] + [
        (share, name, kind) for name in ("established", "consistent")
        for kind, share in shares[name].items()
    ]  # fmt: skip
    share, name, kind = max(found, key=lambda item: item[0])
    return {"outcome": name, "direction": kind, "share": share}


def rerun_agreement(record: dict, planned: int) -> dict:
    """The chance that a rerun with fresh seeds states the record's outcome (and direction) at
    the record's seeds, each outcome's share, and the same at `planned` seeds per model when
    that is another count (with the likeliest outcome there)."""
    components, higher = record["components"], record["higher_is_better"]
    outcome, ahead = record["outcome"], record["direction"]
    counts = tuple(len(record["models"][kind]["seeds"]) for kind in verdicts.KINDS)
    out = {"method": METHOD, "at": {}}
    for label, seeds in (("now", counts), ("planned", (planned, planned))):
        if label == "planned" and seeds == counts:
            continue
        shares = outcome_shares(components, record["difference"], seeds, higher)
        same = shares["none"] if outcome == "none" else shares[outcome][ahead]
        out["at"][label] = {"seeds": list(seeds), "same": same, "shares": shares,
                            "likeliest": _likeliest(shares)}  # fmt: skip
    return out


def _pilot_components(plan, n_test: int) -> dict:
    return {"seed_sd": dict(zip(verdicts.KINDS, plan.seed_sd, strict=True)),
            "shared_se": plan.shared_se, "shared_df": n_test - 1}  # fmt: skip


def plan_summary(lab, trained: int, default: int, seconds_per_seed: float | None) -> dict:
    """A lab's seed plan (labs.SeedPlan) as the report states it: its power at the pilot's
    difference, whether this build follows it ("as-planned"), has the default seeds below it
    ("below-plan") or overrides it ("overridden": --seeds or report.toml's `seeds`), and its
    cost at `seconds_per_seed` (one CNN and one RNN run, as measured on these runs)."""
    plan, n_test = lab.plan, lab.full_sizes[1]
    higher = METRICS[metrics.main_metric(lab.task)].higher_is_better
    components = _pilot_components(plan, n_test)
    resolvable = not unresolvable(components, plan.difference)[0]

    def at(seeds: int) -> float | None:
        return power(components, plan.difference, seeds, higher) if resolvable else None

    if trained == plan.seeds:
        state = "as-planned"
    else:
        state = "overridden" if trained != default else "below-plan"
    cost = None if seconds_per_seed is None else plan.seeds * seconds_per_seed
    return {"seeds": plan.seeds, "pilot_seeds": plan.pilot_seeds, "protocol": plan.protocol,
            "pilot_difference": plan.difference, "pilot_seed_sd": components["seed_sd"],
            "pilot_shared_se": plan.shared_se, "resolvable": resolvable,
            "power_target": POWER, "power": at(plan.seeds), "trained": trained,
            "power_trained": at(trained), "state": state,
            "seconds_per_seed": seconds_per_seed, "cost_seconds": cost}  # fmt: skip
