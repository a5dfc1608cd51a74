"""The engine around the claims: baseline gate, verdict checks, options, CLI parsing, baselines."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lifetf.cli import main, parse_seeds
from lifetf.life.rules import all_dead_shares, evolve
from lifetf.suite.baseline import baseline_entry, compare, load_baseline, update_baseline
from lifetf.suite.profiles import get_profile
from lifetf.suite.session import Suite
from lifetf.suite.store import TrialStore
from lifetf.suite.verdict import Estimate, Verdict, get_claim

ROOT = Path(__file__).resolve().parent.parent


def _verdict(verdict: str = "reproduced", wins: int = 2, n: int = 48) -> Verdict:
    return Verdict(
        claim_id="GOL-MINIMAL-FAILS",
        verdict=verdict,
        summary="a summary",
        estimates=[Estimate("success rate", wins / n, 0.0, 0.2, wins, n)],
    )


def test_gate_passes_an_unchanged_claim():
    assert compare(_verdict(), baseline_entry(_verdict())) == []


def test_gate_reports_a_changed_verdict():
    problems = compare(_verdict("refuted"), baseline_entry(_verdict()))
    assert any("verdict changed from reproduced (baseline) to refuted" in p for p in problems)


def test_gate_reports_a_moved_proportion_with_both_numbers():
    problems = compare(_verdict(wins=30), baseline_entry(_verdict(wins=2)))
    assert len(problems) == 1
    assert "2/48" in problems[0] and "30/48" in problems[0] and "Fisher" in problems[0]


def test_gate_tolerates_sampling_noise():
    assert compare(_verdict(wins=4), baseline_entry(_verdict(wins=2))) == []


def test_update_baseline_merges_and_reloads(tmp_path):
    path = tmp_path / "baseline-quick.json"
    update_baseline(path, [_verdict()], "quick")
    assert load_baseline(path)["GOL-MINIMAL-FAILS"]["verdict"] == "reproduced"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        load_baseline(path)


def _suite(tmp_path, baseline=None, establishing=False, profile="quick") -> Suite:
    return Suite(
        profile=get_profile(profile),
        seed_base=0,
        store=TrialStore(tmp_path / "cache"),
        report_path=tmp_path / "REPORT.md",
        baseline=baseline or {},
        check_baseline=not establishing,
        establishing=establishing,
    )


def test_conclude_stores_the_verdict_and_accepts_the_expected_one(tmp_path):
    suite = _suite(tmp_path)
    assert suite.conclude(_verdict(), time.perf_counter()) == []
    assert (suite.results_dir / "GOL-MINIMAL-FAILS.json").exists()


def test_conclude_fails_an_unexpected_verdict_in_one_sentence(tmp_path):
    problems = _suite(tmp_path).conclude(_verdict("refuted"), time.perf_counter())
    assert len(problems) == 1
    assert "expected to be reproduced but this run found refuted" in problems[0]


def test_a_claim_without_expectation_fails_unless_a_baseline_or_refresh_gives_one(tmp_path):
    # REG-PRUNE's paper verdict is still to be established on a GPU
    assert get_claim("REG-PRUNE").expected_for("paper") is None
    verdict = Verdict(claim_id="REG-PRUNE", verdict="reproduced", summary="s", estimates=[])
    paper = _suite(tmp_path, profile="paper")
    assert "no expected verdict" in paper.conclude(verdict, time.perf_counter())[0]
    establish = _suite(tmp_path, establishing=True, profile="paper")
    assert establish.conclude(verdict, time.perf_counter()) == []
    entry = {"REG-PRUNE": baseline_entry(verdict)}
    with_entry = _suite(tmp_path, baseline=entry, profile="paper")
    assert with_entry.conclude(verdict, time.perf_counter()) == []


def test_seed_base_moves_every_seed(tmp_path):
    suite = _suite(tmp_path)
    suite.seed_base = 1000
    assert suite.seeds(3) == [1000, 1001, 1002]


@pytest.mark.parametrize(
    "option", [["--profile", "fast"], ["--seed-base", "-1"], ["--report", "out.txt"]]
)
def test_bad_options_are_usage_errors_naming_the_value(option):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "claims/", "--collect-only", "-q", *option],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert option[1] in done.stderr


def test_parse_seeds():
    assert parse_seeds("1-3") == [1, 2, 3]
    assert parse_seeds("4,9,2") == [4, 9, 2]
    for bad in ("1-x", "5-2", "1,1", "-3"):
        with pytest.raises(Exception, match="invalid seeds"):
            parse_seeds(bad)


def test_cli_train_rejects_bad_experiment(capsys):
    assert main(["train", "--density", "2", "--seeds", "1", "--no-cache"]) == 2
    assert "Experiment.density = 2.0" in capsys.readouterr().err


@pytest.mark.parametrize("rule", ["firner", "conway"])
def test_all_dead_shares_match_brute_force(rule):
    size, steps = 4, 6
    codes = np.arange(1 << (size * size))
    boards = ((codes[:, None] >> np.arange(size * size)) & 1).astype(np.uint8)
    boards = boards.reshape(-1, size, size)
    expected = [float((~evolve(boards, rule, s).reshape(len(codes), -1).any(1)).mean())
                for s in range(steps + 1)]
    assert np.allclose(all_dead_shares(rule, steps, size), expected)


def test_all_dead_shares_weighs_density():
    shares = all_dead_shares("firner", 0, 3, density=0.3)
    assert shares[0] == pytest.approx(0.7**9)


def test_derived_results_are_cached_and_corruption_recomputed(tmp_path):
    store = TrialStore(tmp_path)
    calls = []
    compute = lambda: calls.append(1) or np.arange(3.0)  # noqa: E731
    assert store.derived("x", compute).tolist() == [0, 1, 2]
    assert store.derived("x", compute).tolist() == [0, 1, 2]
    assert len(calls) == 1
    next((tmp_path / "derived").glob("x-*.npy")).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="corrupt"):
        assert store.derived("x", compute).tolist() == [0, 1, 2]
    assert len(calls) == 2


def test_paper_profile_is_the_original_protocol_and_its_experiments_validate():
    paper = get_profile("paper")
    assert (paper.sweep.board_size, paper.sweep.batch_size, paper.sweep.batches) == (10, 128, 10000)
    assert (paper.sweep.output, paper.sweep.activation) == ("sigmoid", "leaky_relu")
    assert paper.sweep_steps == (1, 2, 3, 5, 10, 20) and max(paper.sweep_widths) >= 100
    assert paper.reference.batches == 5000 and paper.reference.batch_size == 32
    for steps in paper.sweep_steps:
        for width in paper.sweep_widths:
            assert paper.sweep.replace(steps=steps, width=width).n_params > 0
    assert paper.springer.replace(start="hand_built", sign_flips=8).rule == "conway"
    with pytest.raises(ValueError, match="unknown profile 'gpu'"):
        get_profile("gpu")


def test_bound_verdict_reads_the_interval_against_the_bound():
    from lifetf.suite.verdict import bound_verdict

    assert bound_verdict(Estimate("share", 0.8, 0.6, 0.9), 0.5) == "reproduced"
    assert bound_verdict(Estimate("share", 0.2, 0.1, 0.4), 0.5) == "refuted"
    assert bound_verdict(Estimate("share", 0.5, 0.3, 0.7), 0.5) == "inconclusive"
    with pytest.raises(ValueError, match="no interval"):
        bound_verdict(Estimate("share", 0.5), 0.5)
