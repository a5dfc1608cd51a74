"""Decision helpers: an interval against a bound, tests for and against, underpowered designs."""

from __future__ import annotations

import pandas as pd
import pytest

from lifetf.stats import holm
from lifetf.stats.decisions import Plan
from lifetf.suite.decide import (
    against_bound,
    count_rate,
    effect_or_margin,
    holm_family,
    one_sided,
    outcome_row,
    powered,
    sign_family,
    sign_test,
)
from lifetf.suite.verdict import Estimate


def test_against_bound_reads_every_interval():
    high, low, mid = (Estimate("share", v, v - 0.1, v + 0.1) for v in (0.8, 0.2, 0.5))
    assert against_bound(high, 0.5).verdict == "reproduced"
    assert against_bound(low, 0.5).verdict == "refuted"
    assert against_bound(mid, 0.5).verdict == "inconclusive"
    assert against_bound([low, low], 0.5, above=False).verdict == "reproduced"
    assert against_bound([low, high], 0.5, above=False).verdict == "refuted"
    with pytest.raises(ValueError, match="no interval"):
        against_bound(Estimate("share", 0.5), 0.5)


def test_one_sided_needs_its_condition_and_names_the_level():
    assert one_sided(0.001, 0.9, 0.01, "t").verdict == "reproduced"
    assert one_sided(0.001, 0.9, 0.01, "t", holds=False).verdict == "inconclusive"
    assert one_sided(0.5, 0.001, 0.01, "t").verdict == "refuted"
    assert one_sided(0.5, 0.5, 0.01, "t").verdict == "inconclusive"
    assert "p < 0.01" in one_sided(0.5, 0.5, 0.01, "t").threshold


def test_effect_or_margin():
    assert effect_or_margin(1e-4, 1e-3, 0.5, 0.3, "t").verdict == "reproduced"
    assert effect_or_margin(0.5, 1e-3, 0.1, 0.3, "t").verdict == "refuted"
    assert effect_or_margin(0.5, 1e-3, 0.4, 0.3, "t").verdict == "inconclusive"


def test_an_underpowered_plan_makes_any_verdict_inconclusive():
    decision = one_sided(1e-6, 0.9, 0.01, "t")
    assert powered(decision, Plan(64, 1e-4, True, "")).verdict == "reproduced"
    assert powered(decision, Plan(64, 0.2, False, "")).verdict == "inconclusive"


def test_count_rate_carries_counts_and_an_interval():
    e = count_rate("x", 3, 10)
    assert (e.successes, e.trials, e.value) == (3, 10, 0.3) and e.low < 0.3 < e.high
    assert count_rate("x", 0, 0).trials == 0


def test_sign_family_adjusts_raw_sign_tests_once_by_holm():
    from scipy import stats as sps

    decision, adjusted = sign_family({"a": 11, "b": 10}, {"a": 1, "b": 2}, 12, 0.05, "sign")
    raw = [sps.binomtest(k, 12, 0.5, "greater").pvalue for k in (11, 10)]
    assert adjusted == pytest.approx(dict(zip("ab", holm(raw), strict=True)))
    assert decision.verdict == "reproduced" and decision.p_value == max(adjusted.values())
    assert sign_family({"a": 1}, {"a": 11}, 12, 0.05, "sign")[0].verdict == "refuted"
    assert sign_family({"a": 6}, {"a": 6}, 12, 0.05, "sign")[0].verdict == "inconclusive"
    assert sign_family({"a": 12}, {"a": 0}, 12, 0.05, "s", holds=False)[0].verdict != "reproduced"
    with pytest.raises(ValueError, match="differ"):
        sign_family({"a": 1}, {"b": 1}, 12, 0.05, "sign")


def test_holm_family_needs_every_part_and_rejects_unequal_lists():
    decision, adjusted = holm_family([0.01, 0.02], [0.9, 0.9], 0.05, "t", condition="c holds")
    assert adjusted == pytest.approx([0.02, 0.02]) and decision.verdict == "reproduced"
    assert "c holds" in decision.threshold and "Holm over the 2" in decision.test
    assert holm_family([0.01, 0.2], [0.9, 0.9], 0.05, "t")[0].verdict == "inconclusive"
    assert holm_family([0.01, 0.9], [0.9, 0.001], 0.05, "t")[0].verdict == "refuted"
    for p_for, p_against in (([0.1], [0.1, 0.2]), ([], [])):
        with pytest.raises(ValueError, match="one test for and one against"):
            holm_family(p_for, p_against, 0.05, "t")


def test_sign_test_is_one_sided_binomial_both_ways():
    assert sign_test(12, 12, 0.01, "sign").verdict == "reproduced"
    assert sign_test(0, 12, 0.01, "sign").verdict == "refuted"
    assert sign_test(7, 12, 0.01, "sign").verdict == "inconclusive"
    assert sign_test(12, 12, 0.01, "sign").p_value == pytest.approx(0.5 ** 12)


def test_outcome_row_counts_and_spans():
    runs = pd.DataFrame({"success": [True, False, False, True], "match_rate": [1.0, 0.5, 0.5, 1.0]})
    row = outcome_row({"width": 2}, runs, note="x")
    assert row["width"] == 2 and row["successes"] == "2/4" and row["note"] == "x"
    assert row["rate [95% CI]"].startswith("0.50 [") and row["mean match rate"] == 0.75
