"""Every claim's decision rule: its false-failure chance against a simulation of the rule.

Exact formulas must agree with plain Monte-Carlo simulation within 4 standard errors at a
number of trials where the chance is large enough to check; union bounds and conservative
approximations must not fall below it. Then each declared claim's own figure, at the trials
the quick profile plans, is checked the same way and kept below RISK.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lifetf.stats.decisions import (
    RISK,
    BestOfKRule,
    BoundRule,
    ConcordanceRule,
    PruneRule,
    RankCorrelationRule,
    RankSumRule,
    ShrinkRule,
    SignRule,
    TrendRule,
    TwoProportionRule,
    simulated,
)
from lifetf.suite.catalogue import catalogue
from lifetf.suite.profiles import get_profile

REPS = 4000
# (rule, n): each rule at a size where its chance of failing is between about 0.01 and 0.9
HARD = [
    (BoundRule(0.85, 0.5), 12),
    (BoundRule(0.15, 0.5, "upper", 2), 16),
    (TrendRule((0.02, 0.15, 0.35, 0.6), 0.01), 8),
    (BestOfKRule((0.02, 0.15, 0.35, 0.6)), 6),
    (TwoProportionRule(((0.95, 0.5),), 0.01), 8),
    (TwoProportionRule(((0.6, 0.1), (0.6, 0.1)), 0.01), 12),
    (SignRule(0.85, 0.01, 6), 24),
    (RankCorrelationRule(-0.5, 0.01), 24),
    (RankSumRule(0.9, 0.01, 4), 10),
    (ShrinkRule(-1.5, 1.0, 0.01, 0.5), 8),
    (ConcordanceRule(0.6, 0.95, 0.01, 0.85), 16),
    (PruneRule(0.9, 0.5, 0.95, 0.01), 16),
]


def check(rule, n: int, reps: int = REPS) -> None:
    formula = rule.false_failure(n)
    sim, se = simulated(rule, n, reps)
    if rule.exact:
        assert abs(sim - formula) <= 4 * se, (rule, n, formula, sim, se)
    else:
        assert sim <= formula + 4 * se, (rule, n, formula, sim, se)


@pytest.mark.parametrize("rule, n", HARD, ids=lambda x: type(x).__name__ if not
                         isinstance(x, int) else str(x))
def test_formula_agrees_with_simulation_where_failures_are_common(rule, n):
    check(rule, n)


RESULTS = Path(__file__).resolve().parents[2] / "reports" / "results" / "quick"


def _reported() -> list:
    """(claim, committed verdict) for every claim whose quick verdict reports a design figure."""
    found = []
    for claim in catalogue():
        path = RESULTS / f"{claim.id}.json"
        if claim.rule is not None and path.exists():
            found.append((claim, json.loads(path.read_text())))
    return found


@pytest.mark.parametrize("claim, reported", _reported(), ids=lambda x: getattr(x, "id", ""))
def test_each_reported_false_failure_is_the_rules_and_checked(claim, reported):
    """The figure a claim's committed quick verdict reports comes from its rule at the trials
    it reports, stays below RISK (unless the verdict says the design is underpowered), and a
    simulation of the rule agrees."""
    n = reported.get("design_trials")
    assert n, f"{claim.id}'s verdict records no design trials"
    rule = claim.rule_for(get_profile("quick"))
    figure = reported["false_failure"]
    if figure is None:
        assert "underpowered" in reported["design"]
        return
    assert math.isclose(figure, rule.false_failure(n), rel_tol=1e-6, abs_tol=1e-12)
    assert figure <= RISK
    check(rule, n, reps=20000)


def test_plans_take_the_fewest_candidates_and_respect_the_cap():
    rule = BoundRule(0.15, 0.5, "upper", 4)
    assert rule.plan().trials == 48  # GOL-MINIMAL-FAILS' 48 seeds per setting
    capped = TwoProportionRule(((0.25, 0.05), (0.25, 0.10)), 0.005).plan(64)
    assert (capped.trials, capped.powered) == (64, False) and "underpowered" in capped.design
    assert rule.at(8).powered is False and math.isclose(rule.at(0).false_failure, 1.0)
