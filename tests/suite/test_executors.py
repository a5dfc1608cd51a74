"""Executors and plans: units cover every needed trial once; Ray trains the same trials as the
in-process executor, and a unit whose worker dies is retried without losing or doubling one."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from lifetf.nets.experiment import Experiment
from lifetf.suite.catalogue import catalogue
from lifetf.suite.executors import ExecutorError, run, run_inprocess, run_ray
from lifetf.suite.plan import Unit, estimate, needs, trials, units
from lifetf.suite.profiles import get_profile
from lifetf.suite.store import TrialStore

TINY = Experiment(board_size=5, batch_size=4, batches=60, record_every=20)
OTHER = TINY.replace(width=2)


def test_units_chunk_the_missing_trials_and_skip_stored_ones(tmp_path):
    store = TrialStore(tmp_path)
    work = units({TINY: range(10), OTHER: range(3)}, store, max_members=4)
    assert sorted(len(u.seeds) for u in work) == [2, 3, 4, 4]
    assert {s for u in work if u.experiment == TINY for s in u.seeds} == set(range(10))
    run_inprocess([Unit(TINY, (0, 1))], store, progress=False)
    left = units({TINY: range(10)}, store, max_members=4)
    assert {s for u in left for s in u.seeds} == set(range(2, 10))


def test_the_plan_gathers_shared_trials_once():
    quick = get_profile("quick")
    by_claim = needs([c for c in catalogue() if c.id in ("GOL-WIDTH-HELPS", "GOL-STEPS-HURT")],
                     quick)
    assert by_claim["GOL-WIDTH-HELPS"] == by_claim["GOL-STEPS-HURT"]
    merged = trials(by_claim)
    assert len(merged) == len(quick.sweep_widths) * len(quick.sweep_steps)


def test_estimates_price_every_claim_and_the_whole_profile():
    from lifetf.nets.costs import committed

    rows, total = estimate(get_profile("gpu"), committed("NVIDIA H200"))
    assert total.models >= max(r.models for r in rows) and total.seconds > 0
    assert total.seconds <= sum(r.seconds for r in rows) + 1e-9  # shared trials once


def test_unknown_executor_is_named():
    with pytest.raises(ExecutorError, match="unknown executor 'dask': expected one of"):
        run("dask", [], None, "tensorflow")


# CI sets LIFETF_REQUIRE_RAY=1: there a missing Ray fails these tests instead of skipping them
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None
                               and not os.environ.get("LIFETF_REQUIRE_RAY"),
                               reason="Ray is not installed (pip install -e '.[ray]')")


@needs_ray
@pytest.mark.xdist_group("ray")
def test_ray_retries_a_killed_worker_and_trains_what_inprocess_trains(tmp_path):
    """Two local workers; the first attempt at unit 0 dies after storing one trial."""
    import keras
    import ray

    work = [Unit(TINY, (0, 1, 2)), Unit(OTHER, (0, 1))]
    attempts = []

    def crash(index: int, attempt: int) -> int | None:
        attempts.append((index, attempt))
        return 1 if (index, attempt) == (0, 0) else None

    ray_store = TrialStore(tmp_path / "ray")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        trained = run_ray(work, str(ray_store.root), keras.backend.backend(), actors=2,
                          progress=False, crash=crash)
    finally:
        ray.shutdown()
    assert (0, 1) in attempts  # unit 0 was given to a fresh worker
    assert trained == 4  # the retry trained only the two trials the dead worker had not stored
    local = TrialStore(tmp_path / "local")
    run_inprocess(work, local, progress=False)
    for unit in work:
        for seed in unit.seeds:
            a, b = ray_store.load(unit.experiment, seed), local.load(unit.experiment, seed)
            assert a is not None and a["success"] == b["success"]
            for x, y in zip(a["weights"], b["weights"], strict=True):
                np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    files = list((tmp_path / "ray").rglob("*.npz"))
    assert len(files) == 5 and not list((tmp_path / "ray").rglob("*.tmp"))


@needs_ray
def test_an_unreachable_cluster_is_one_clear_error():
    with pytest.raises(ExecutorError, match="cannot reach the Ray cluster at '127.0.0.1:1'"):
        run_ray([Unit(TINY, (0,))], "unused", "tensorflow", address="127.0.0.1:1",
                progress=False)
    os.environ.pop("RAY_ADDRESS", None)
