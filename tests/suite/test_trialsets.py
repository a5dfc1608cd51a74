"""Shared trial sets: each is gathered once per run, and the time it took is kept for the report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lifetf.nets.train import KEPT_LOOPS
from lifetf.suite.profiles import get_profile
from lifetf.suite.session import Suite
from lifetf.suite.store import TrialStore
from lifetf.suite.trialsets import SETS, SetTiming, cell, load, load_timings, sweep_experiments

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
    assert timing.trained == timing.trials
    assert not list((suite.results_dir / "trialsets").glob("*.tmp"))


def _suite(tmp_path, trainer):
    return Suite(profile=get_profile("quick"), seed_base=0,
                 store=TrialStore(tmp_path / "cache", trainer=trainer),
                 report_path=tmp_path / "REPORT.md")


def test_a_run_that_reads_the_set_back_keeps_the_record_of_its_training(tmp_path):
    load("minimal", _suite(tmp_path, FakeTrainer()))
    suite = _suite(tmp_path, FakeTrainer())  # a second run on the same store and results
    (trained,) = load_timings(suite.results_dir)
    load("minimal", suite)
    assert load_timings(suite.results_dir) == [trained] and trained.trained > 0


def test_a_run_that_trains_part_of_the_set_replaces_the_record(tmp_path):
    load("minimal", _suite(tmp_path, FakeTrainer()))
    (first,) = load_timings(_suite(tmp_path, FakeTrainer()).results_dir)
    victim = next((tmp_path / "cache").rglob("*.npz"))  # one trial lost from the store
    victim.unlink()
    suite = _suite(tmp_path, FakeTrainer())
    load("minimal", suite)
    (second,) = load_timings(suite.results_dir)
    assert second.trained == 1 and second != first


def test_one_cell_of_a_set_is_the_sets_runs_and_is_noted(tmp_path):
    trainer = FakeTrainer()
    suite = _suite(tmp_path, trainer)
    suite.begin()
    experiment, seeds, runs = cell("minimal", ("firner", "keras"), suite)
    assert suite.read == {experiment.key: set(seeds)}
    assert trainer.seeds_trained == len(seeds) == SETS["minimal"][1](suite.profile).trials
    whole = load("minimal", suite)  # the set then trains only its other cells
    read_back = whole.runs[("firner", "keras")]
    for column in ("seed", "success", "final_loss"):
        assert read_back[column].tolist() == runs[column].tolist()
    assert whole.experiments[("firner", "keras")] == experiment
    assert trainer.seeds_trained == len(seeds) * len(whole.experiments)
    with pytest.raises(KeyError, match=r"no experiment \('firner', 'relu'\)"):
        cell("minimal", ("firner", "relu"), suite)


@pytest.mark.parametrize(("earlier", "defers"), [
    (None, False),
    (SetTiming("sweep", 400.0, 12, 336, "t", trained=336), True),
    (SetTiming("sweep", 400.0, 12, 336, "t", trained=None), False),  # recorded before `trained`
    (SetTiming("sweep", 400.0, 12, 336, "t", trained=0), False),
    (SetTiming("sweep", 400.0, 12, 300, "t", trained=300), False),  # another size of the set
    (SetTiming("minimal", 400.0, 12, 336, "t", trained=336), False),
])
def test_only_a_read_back_defers_to_a_record_of_the_same_set_trained(earlier, defers):
    read_back = SetTiming("sweep", 1.5, 12, 336, "u", trained=0)
    assert read_back.defers_to(earlier) is defers
    assert not SetTiming("sweep", 9.0, 12, 336, "u", trained=5).defers_to(earlier)


def test_timings_round_trip_and_unreadable_files_are_named_and_skipped(tmp_path):
    first = SetTiming("sweep", 412.5, 12, 336, "2026-11-30T10:00:00+00:00")
    first.save(tmp_path)
    (tmp_path / "trialsets" / "broken.json").write_text("{not json")
    (tmp_path / "trialsets" / "other.json").write_text('{"name": "x"}')
    with pytest.warns(UserWarning, match="unreadable trial-set timing") as caught:
        assert load_timings(tmp_path) == [first]
    assert len(caught) == 2  # broken.json and other.json, each named once
    assert load_timings(tmp_path / "nowhere") == []


def test_records_written_before_the_trained_count_still_load(tmp_path):
    (tmp_path / "trialsets").mkdir()
    (tmp_path / "trialsets" / "sweep.json").write_text(
        '{"name": "sweep", "seconds": 370.22, "experiments": 12, "trials": 336, '
        '"recorded_at": "2026-11-30T21:22:28+00:00"}')
    (timing,) = load_timings(tmp_path)
    assert timing.trained is None and timing.seconds == 370.22


@pytest.mark.parametrize("profile", ["quick", "gpu"])
def test_the_sweeps_graphs_fit_in_the_kept_loops(profile):
    """Claims that train after the success sweep (LAND-BARRIERS' hand-built starts, GOL-CORNERS)
    share some of its graphs; their trainers reuse its compiled loops only while every sweep
    graph is still kept (8 kept loops were too few for the quick sweep's 12)."""
    graphs = {e.graph_signature for e in sweep_experiments(get_profile(profile)).values()}
    assert len(graphs) < KEPT_LOOPS
