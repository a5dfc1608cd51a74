"""A run's shared state: concluding a claim against its declaration and the baseline."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifetf.suite.catalogue import get_claim
from lifetf.suite.profiles import get_profile
from lifetf.suite.session import Suite
from lifetf.suite.store import TrialStore
from lifetf.suite.verdict import Estimate, Verdict

sys.path.insert(0, str(Path(__file__).parent))
from test_store import FakeTrainer  # noqa: E402


def verdict(outcome: str = "reproduced") -> Verdict:
    return Verdict(claim_id="GOL-MINIMAL-FAILS", verdict=outcome, summary="a summary",
                   estimates=[Estimate("success rate", 2 / 48, 0.0, 0.2, 2, 48)])


def make_suite(tmp_path, baseline=None, establishing=False, profile="quick") -> Suite:
    return Suite(profile=get_profile(profile), seed_base=0, store=TrialStore(tmp_path / "cache"),
                 report_path=tmp_path / "REPORT.md", baseline=baseline or {},
                 check_baseline=not establishing, establishing=establishing)


MINIMAL = get_claim("GOL-MINIMAL-FAILS")


def test_conclude_stores_the_verdict_and_accepts_the_expected_one(tmp_path):
    suite = make_suite(tmp_path)
    assert suite.conclude(MINIMAL, verdict(), time.perf_counter()) == []
    assert (suite.results_dir / "GOL-MINIMAL-FAILS.json").exists()


def test_conclude_fails_an_unexpected_verdict_in_one_sentence(tmp_path):
    problems = make_suite(tmp_path).conclude(MINIMAL, verdict("refuted"), time.perf_counter())
    assert len(problems) == 1
    assert "expected to be reproduced but this run found refuted" in problems[0]


def test_a_claim_without_expectation_fails_unless_a_baseline_or_refresh_gives_one(tmp_path):
    from lifetf.suite.baseline import baseline_entry

    prune = get_claim("REG-PRUNE")
    assert prune.expected_for("paper") is None  # still to be established on GPUs
    result = Verdict(claim_id="REG-PRUNE", verdict="reproduced", summary="s", estimates=[])
    paper = make_suite(tmp_path, profile="paper")
    assert "no expected verdict" in paper.conclude(prune, result, time.perf_counter())[0]
    establish = make_suite(tmp_path, establishing=True, profile="paper")
    assert establish.conclude(prune, result, time.perf_counter()) == []
    with_entry = make_suite(tmp_path, {"REG-PRUNE": baseline_entry(result)}, profile="paper")
    assert with_entry.conclude(prune, result, time.perf_counter()) == []


def test_seed_base_moves_every_seed(tmp_path):
    suite = make_suite(tmp_path)
    suite.seed_base = 1000
    assert suite.seeds(3) == [1000, 1001, 1002]


@dataclass(frozen=True)
class ToyConfig:
    """A toy model's config as ``Suite.records`` takes it: kind, version and ``train``."""

    kind: str = "toy"
    version: str = "1"

    def train(self, seeds) -> np.ndarray:
        return np.array([(s, 0.5) for s in seeds], dtype=[("seed", int), ("value", float)])


def test_conclude_records_what_trained_the_trials_the_claim_read(tmp_path):
    from lifetf.nets.experiment import Experiment
    from lifetf.nets.provenance import environment, trained_with
    from lifetf.suite.store import load_verdicts

    suite = make_suite(tmp_path)
    suite.store.trainer = FakeTrainer()
    suite.begin()
    suite.rows(Experiment(batches=10), [0, 1, 2])
    suite.rows(Experiment(batches=10, width=2), [0])
    suite.records(ToyConfig(), [0, 1])
    result = verdict()
    assert suite.conclude(MINIMAL, result, time.perf_counter()) == []
    assert result.trained_with == {trained_with(environment()): 6}
    assert load_verdicts(suite.results_dir)[0].trained_with == result.trained_with
    suite.begin()  # the next claim reads nothing stored
    quiet = verdict()
    suite.conclude(MINIMAL, quiet, time.perf_counter())
    assert quiet.trained_with == {}
