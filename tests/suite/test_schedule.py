"""The order of the tests under pytest-xdist: the longest claims first, then the unit tests."""

from __future__ import annotations

import pytest

from lifetf.suite.schedule import longest_claims_first, past_seconds
from lifetf.suite.store import save_verdict
from lifetf.suite.verdict import Verdict


def test_claims_go_first_longest_first_and_unknown_claims_before_known_ones():
    items = ["unit-a", "short", "long", "unit-b", "new"]
    claims = [None, "S", "L", None, "N"]
    order = longest_claims_first(items, claims, {"S": 2.0, "L": 170.0})
    assert order == ["new", "long", "short", "unit-a", "unit-b"]


def test_without_past_times_the_claims_keep_their_order_ahead_of_the_unit_tests():
    assert longest_claims_first(["u", "a", "b"], [None, "A", "B"], {}) == ["a", "b", "u"]


def test_mismatched_lengths_are_named():
    with pytest.raises(ValueError, match="2 items but 1 claim IDs"):
        longest_claims_first(["a", "b"], ["A"], {})


def _stored(tmp_path, folder: str, claim: str, seconds: float) -> None:
    save_verdict(Verdict(claim_id=claim, verdict="reproduced", summary="s", estimates=[],
                         seconds=seconds), tmp_path / "results" / folder)


def test_past_times_come_from_this_backend_else_from_tensorflow(tmp_path):
    report = tmp_path / "REPORT.md"
    _stored(tmp_path, "quick", "GOL-TRICKS", 35.0)
    assert past_seconds(report, "quick", "jax", fallback=None) == {"GOL-TRICKS": 35.0}
    _stored(tmp_path, "quick-jax", "GOL-TRICKS", 50.0)
    assert past_seconds(report, "quick", "jax", fallback=None) == {"GOL-TRICKS": 50.0}
    assert past_seconds(report, "paper", "jax", fallback=None) == {}


def test_a_report_written_elsewhere_schedules_by_the_projects_stored_times(tmp_path):
    project = tmp_path / "project" / "REPORT.md"
    _stored(project.parent, "quick", "GOL-ALLDEAD-PLATEAU", 188.0)
    elsewhere = tmp_path / "elsewhere" / "REPORT.md"
    assert past_seconds(elsewhere, "quick", "tensorflow", fallback=project) == {
        "GOL-ALLDEAD-PLATEAU": 188.0}
    _stored(elsewhere.parent, "quick", "GOL-TRICKS", 40.0)  # its own runs come first
    assert past_seconds(elsewhere, "quick", "tensorflow", fallback=project) == {
        "GOL-TRICKS": 40.0}
    # the committed quick run is the default fallback: a fresh folder still gets its times
    assert past_seconds(tmp_path / "fresh" / "REPORT.md", "quick", "tensorflow")
