"""Shared trial sets: each is gathered once per run, and the time it took is kept for the report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lifetf.suite.profiles import get_profile
from lifetf.suite.session import Suite
from lifetf.suite.store import TrialStore
from lifetf.suite.trialsets import SETS, SetTiming, load, load_timings

sys.path.insert(0, str(Path(__file__).parent))
from test_store import FakeTrainer  # noqa: E402


def test_loading_a_set_stores_its_time_and_size(tmp_path):
    trainer = FakeTrainer()
    suite = Suite(profile=get_profile("quick"), seed_base=0,
                  store=TrialStore(tmp_path / "cache", trainer=trainer),
                  report_path=tmp_path / "REPORT.md")
    trials = load("minimal", suite)
    (timing,) = load_timings(suite.results_dir)
    experiments, plan = SETS["minimal"]
    assert timing.name == "minimal" and timing.seconds >= 0
    assert timing.experiments == len(trials.experiments) == len(experiments(suite.profile))
    assert timing.trials == trainer.seeds_trained == timing.experiments * plan(suite.profile).trials
    assert not list((suite.results_dir / "trialsets").glob("*.tmp"))


def test_timings_round_trip_and_unreadable_files_are_named_and_skipped(tmp_path):
    first = SetTiming("sweep", 412.5, 12, 336, "2026-11-30T10:00:00+00:00")
    first.save(tmp_path)
    (tmp_path / "trialsets" / "broken.json").write_text("{not json")
    (tmp_path / "trialsets" / "other.json").write_text('{"name": "x"}')
    with pytest.warns(UserWarning, match="unreadable trial-set timing") as caught:
        assert load_timings(tmp_path) == [first]
    assert len(caught) == 2  # broken.json and other.json, each named once
    assert load_timings(tmp_path / "nowhere") == []
