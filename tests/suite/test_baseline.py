"""The regression gate: a changed verdict or a moved proportion fails, sampling noise does not."""

from __future__ import annotations

import pytest

from lifetf.suite.baseline import baseline_entry, compare, load_baseline, update_baseline
from lifetf.suite.verdict import Estimate, Verdict


def verdict(outcome: str = "reproduced", wins: int = 2, n: int = 48) -> Verdict:
    return Verdict(claim_id="GOL-MINIMAL-FAILS", verdict=outcome, summary="a summary",
                   estimates=[Estimate("success rate", wins / n, 0.0, 0.2, wins, n)])


def test_gate_passes_an_unchanged_claim():
    assert compare(verdict(), baseline_entry(verdict())) == []


def test_gate_reports_a_changed_verdict():
    problems = compare(verdict("refuted"), baseline_entry(verdict()))
    assert any("verdict changed from reproduced (baseline) to refuted" in p for p in problems)


def test_gate_reports_a_moved_proportion_with_both_numbers():
    problems = compare(verdict(wins=30), baseline_entry(verdict(wins=2)))
    assert len(problems) == 1
    assert "2/48" in problems[0] and "30/48" in problems[0] and "Fisher" in problems[0]


def test_gate_tolerates_sampling_noise():
    assert compare(verdict(wins=4), baseline_entry(verdict(wins=2))) == []


def test_update_baseline_merges_and_reloads(tmp_path):
    path = tmp_path / "baseline-quick.json"
    update_baseline(path, [verdict()], "quick")
    assert load_baseline(path)["GOL-MINIMAL-FAILS"]["verdict"] == "reproduced"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        load_baseline(path)
