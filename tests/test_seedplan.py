"""Seed plans and rerun agreement (seedplan.py): the simulation against normal theory and exact
counts, and each lab's registered plan (labs.SeedPlan) against its pilot runs in results/."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from nnlab import labs, metrics, seedplan, verdicts

RESULTS = Path(__file__).resolve().parents[1] / "results" / "full"


def _components(cnn_sd: float, rnn_sd: float, shared_se: float = 0.0) -> dict:
    return {"seed_sd": {"cnn": cnn_sd, "rnn": rnn_sd}, "shared_se": shared_se,
            "shared_df": 10**6}  # fmt: skip


def test_power_matches_normal_theory_with_many_seeds():
    """200 seeds a model, seed spread 1, no shared term: the standard error is 0.1, so a
    difference of (1.96 + 1.2816) x 0.1 is established in 90 % of reruns."""
    difference = (stats.norm.ppf(0.975) + stats.norm.ppf(0.90)) * 0.1
    found = seedplan.power(_components(1.0, 1.0), difference, 200, True)
    assert found == pytest.approx(0.90, abs=0.01)


def test_two_equal_models_sweep_every_pair_in_one_lab_in_ten_at_three_seeds():
    """Exchangeable runs: one model ranks above the other's three in 2 / C(6, 3) = 10 % of labs;
    a large shared test-set term makes sweeps more common."""
    assert seedplan.sweep_by_chance(_components(1.0, 1.0), (3, 3)) == pytest.approx(
        2 / math.comb(6, 3), abs=0.006
    )
    assert seedplan.sweep_by_chance(_components(1.0, 1.0, 1.0), (3, 3)) > 0.15


def _record(difference: float, outcome: str, seeds: int, components: dict) -> dict:
    direction = None if outcome == "none" else "cnn"
    return {"components": components, "higher_is_better": True, "difference": difference,
            "outcome": outcome, "direction": direction,
            "models": {kind: {"seeds": list(range(seeds))} for kind in verdicts.KINDS}}  # fmt: skip


def test_rerun_agreement_on_a_simulated_known_case():
    """An established difference at the 90 % power point repeats in about 90 % of reruns at
    200 seeds; at the planned 800 seeds (standard error halved) almost always."""
    difference = (stats.norm.ppf(0.975) + stats.norm.ppf(0.90)) * 0.1
    found = seedplan.rerun_agreement(_record(difference, "established", 200,
                                             _components(1.0, 1.0)), planned=800)  # fmt: skip
    assert found["at"]["now"]["same"] == pytest.approx(0.90, abs=0.01)
    planned = found["at"]["planned"]
    assert planned["likeliest"]["outcome"] == "established" and planned["same"] > 0.99


def test_no_difference_is_repeated_as_none_in_most_reruns():
    found = seedplan.rerun_agreement(_record(0.0, "none", 3, _components(1.0, 1.0)), planned=3)
    shares = found["at"]["now"]["shares"]
    assert "planned" not in found["at"]
    assert found["at"]["now"]["same"] == shares["none"]
    established = sum(shares["established"].values())
    assert established == pytest.approx(0.05, abs=0.015)  # the rule's calibration
    assert sum(shares["consistent"].values()) == pytest.approx(0.10 - 0.03, abs=0.03)


def test_seeds_needed_is_a_range_and_the_test_set_can_make_it_unresolvable():
    components = _components(0.005, 0.005, 0.0005)
    record = {**_record(0.01, "consistent", 3, components), "metric": "accuracy"}
    found = seedplan.planning(record)
    assert 2 < found["seeds_needed"] < found["seeds_needed_upper"] <= seedplan.MAX_SEEDS
    assert found["detectable_difference"] > 0.01  # 3 seeds are not enough for it
    wide_test = _components(0.005, 0.005, 0.01)
    assert seedplan.seeds_needed(wide_test, 0.01, True) == "unresolvable"
    assert seedplan.seeds_needed(components, 0.0005 * 3.3, True) is None


def _pilot(lab: labs.Lab) -> dict:
    """The pilot's components from its runs in results/ (the first `pilot_seeds` seeds)."""
    values = {}
    for kind in verdicts.KINDS:
        runs = []
        for seed in range(42, 42 + lab.plan.pilot_seeds):
            with np.load(
                RESULTS / f"{lab.name}-{kind}" / f"seed-{seed}" / "predictions.npz"
            ) as npz:
                y_true, outputs = npz["y_true"], npz["outputs"]
            runs.append((metrics.predicted_labels(outputs) == y_true.astype(int)).astype(float))
        values[kind] = runs
    return verdicts.difference_test(values, True)


@pytest.mark.parametrize("name", ["mnist", "imdb"])
def test_the_registered_plan_is_the_pilots_90_percent_power_point(name):
    lab = labs.LABS[name]
    found = _pilot(lab)
    assert lab.plan.difference == pytest.approx(found["difference"], rel=1e-3)
    spread = found["components"]["seed_sd"]
    assert lab.plan.seed_sd == pytest.approx((spread["cnn"], spread["rnn"]), rel=1e-3)
    assert lab.plan.shared_se == pytest.approx(found["components"]["shared_se"], rel=1e-3)
    components = {**found["components"], "shared_df": lab.full_sizes[1] - 1}
    assert lab.plan.seeds == seedplan.seeds_needed(components, found["difference"], True)
    summary = seedplan.plan_summary(lab, lab.plan.seeds, lab.plan.seeds, 60.0)
    assert summary["power"] >= seedplan.POWER and summary["state"] == "as-planned"
    fewer = seedplan.power(components, found["difference"], lab.plan.seeds - 1, True)
    assert fewer < seedplan.POWER


def test_boston_keeps_its_seeds_because_no_count_resolves_its_pilot():
    lab = labs.LABS["boston"]
    summary = seedplan.plan_summary(lab, 10, 10, 20.0)
    assert not summary["resolvable"] and summary["power"] is None
    assert lab.plan.seeds == lab.plan.pilot_seeds and summary["state"] == "as-planned"
    assert summary["cost_seconds"] == 200.0


def test_the_plan_state_says_below_plan_or_overridden():
    lab = labs.LABS["imdb"]
    below = seedplan.plan_summary(lab, lab.plan.pilot_seeds, lab.plan.pilot_seeds, None)
    assert below["state"] == "below-plan" and below["power_trained"] < seedplan.POWER
    assert seedplan.plan_summary(lab, 7, 3, None)["state"] == "overridden"
    assert seedplan.plan_summary(lab, lab.plan.seeds, 3, None)["state"] == "as-planned"
