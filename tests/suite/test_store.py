"""Tests for lifetf.suite.store: train only what is missing, detect corruption, write atomically."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lifetf.suite.store as store_module
from lifetf.nets.experiment import Experiment
from lifetf.nets.models import seeded_initial_weights
from lifetf.nets.train import ROW_COLUMNS, train
from lifetf.suite.store import TrialStore, load_verdicts, save_verdict
from lifetf.suite.verdict import Estimate, Verdict

EXPERIMENT = Experiment(batches=10)


def fake_row(experiment: Experiment, seed: int, seconds: float = 0.25) -> dict:
    """A row of the trainer's shape whose every value is a function of (experiment, seed)."""
    rng = np.random.default_rng([seed, experiment.steps, experiment.batches])
    one_step = experiment.steps == 1
    return {
        "seed": int(seed),
        "success": bool(seed % 2 == 0),
        "match_rate": float(rng.random()),
        "cell_accuracy": float(rng.random()),
        "all_dead_rate": float(rng.random()),
        "initial_loss": float(rng.random()),
        "final_loss": float(rng.random()),
        "truth_table": rng.integers(0, 2, 512).astype(np.uint8) if one_step else None,
        "table_errors": int(rng.integers(0, 32)) if one_step else -1,
        "train_seconds": seconds,
        "loss_curve": rng.random(7).astype(np.float32),
        "grad_norm_curve": rng.random(7).astype(np.float32),
        "weights": seeded_initial_weights(experiment.layers, experiment.init, seed),
    }


class FakeTrainer:
    """Stands in for lifetf.nets.train.train and records which seeds it was asked to train."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, experiment: Experiment, seeds, progress: bool = False) -> pd.DataFrame:
        self.calls.append([int(s) for s in seeds])
        return pd.DataFrame([fake_row(experiment, s) for s in seeds], columns=list(ROW_COLUMNS))

    @property
    def seeds_trained(self) -> int:
        return sum(len(c) for c in self.calls)


def assert_rows_equal(got: dict, expected: dict) -> None:
    assert set(got) >= set(ROW_COLUMNS)
    for name in ROW_COLUMNS:
        a, b = got[name], expected[name]
        if name == "weights":
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                assert np.array_equal(np.asarray(x), np.asarray(y))
        elif name == "truth_table" and (a is None or b is None):
            assert a is None and b is None
        elif isinstance(b, np.ndarray):
            assert np.array_equal(np.asarray(a), b), name
        elif isinstance(b, float):
            assert a == pytest.approx(b), name
        else:
            assert a == b, name


def assert_frame_matches(frame: pd.DataFrame, experiment: Experiment, seeds: list[int]) -> None:
    assert list(frame.columns) == list(ROW_COLUMNS)
    assert list(frame.seed) == seeds
    for record in frame.to_dict("records"):
        assert_rows_equal(record, fake_row(experiment, record["seed"]))


def tmp_files(root: Path) -> list[str]:
    return [name for _, _, names in os.walk(root) for name in names if name.endswith(".tmp")]


@pytest.fixture
def fake() -> FakeTrainer:
    return FakeTrainer()


@pytest.fixture
def store(tmp_path: Path, fake: FakeTrainer) -> TrialStore:
    return TrialStore(tmp_path / "cache", trainer=fake)


# ---------------------------------------------------------------- train only what is missing


def test_trains_missing_then_nothing(store: TrialStore, fake: FakeTrainer) -> None:
    seeds = [3, 1, 2]
    first = store.rows(EXPERIMENT, seeds)
    assert fake.calls == [seeds]
    assert store.trained == 3 and store.loaded == 0
    assert_frame_matches(first, EXPERIMENT, seeds)
    second = store.rows(EXPERIMENT, seeds)
    assert fake.calls == [seeds]  # nothing trained
    assert store.trained == 3 and store.loaded == 3
    assert_frame_matches(second, EXPERIMENT, seeds)
    assert second.attrs["experiment"] == EXPERIMENT.key


def test_a_new_store_on_the_same_root_reuses_the_files(tmp_path: Path, fake: FakeTrainer) -> None:
    TrialStore(tmp_path, trainer=fake).rows(EXPERIMENT, [0, 1])
    again = TrialStore(tmp_path, trainer=fake)
    frame = again.rows(EXPERIMENT, [1, 0])
    assert fake.calls == [[0, 1]]
    assert again.trained == 0 and again.loaded == 2
    assert_frame_matches(frame, EXPERIMENT, [1, 0])


def test_a_new_seed_trains_only_that_seed(store: TrialStore, fake: FakeTrainer) -> None:
    store.rows(EXPERIMENT, [0, 1, 2])
    frame = store.rows(EXPERIMENT, [0, 1, 2, 5])
    assert fake.calls == [[0, 1, 2], [5]]
    assert store.trained == 4
    assert_frame_matches(frame, EXPERIMENT, [0, 1, 2, 5])
    store.rows(EXPERIMENT, [5, 2])
    assert fake.seeds_trained == 4


def test_a_changed_experiment_trains_again(store: TrialStore, fake: FakeTrainer) -> None:
    store.rows(EXPERIMENT, [0, 1])
    other = EXPERIMENT.replace(steps=2)
    frame = store.rows(other, [0, 1])
    assert fake.calls == [[0, 1], [0, 1]]
    assert_frame_matches(frame, other, [0, 1])
    assert store.path(other, 0) != store.path(EXPERIMENT, 0)
    assert store.path(other, 0).parent.name == other.key
    # both are kept: neither trains again
    store.rows(EXPERIMENT, [0, 1])
    store.rows(other, [1, 0])
    assert len(fake.calls) == 2


def test_a_new_trainer_version_trains_again(store: TrialStore, fake: FakeTrainer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store.rows(EXPERIMENT, [0])
    old_path = store.path(EXPERIMENT, 0)
    monkeypatch.setattr(store_module, "TRAINER_VERSION", "test-version")
    assert store.path(EXPERIMENT, 0) != old_path
    store.rows(EXPERIMENT, [0])
    assert fake.calls == [[0], [0]]


def test_precision_mode_and_backend_are_part_of_the_key(store: TrialStore, fake: FakeTrainer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    store.rows(EXPERIMENT, [0])
    default = store.path(EXPERIMENT, 0)
    assert store_module.compute_key() == (f"{store_module.TRAINER_VERSION}|"
                                          f"{keras.backend.backend()}|float32")
    monkeypatch.setenv("LIFETF_PRECISION", "tf32")
    assert store.path(EXPERIMENT, 0) != default
    store.rows(EXPERIMENT, [0])
    assert fake.calls == [[0], [0]]


def test_disabled_cache_always_trains(tmp_path: Path, fake: FakeTrainer) -> None:
    root = tmp_path / "cache"
    store = TrialStore(root, enabled=False, trainer=fake)
    for _ in range(3):
        frame = store.rows(EXPERIMENT, [0, 1])
        assert_frame_matches(frame, EXPERIMENT, [0, 1])
    assert fake.calls == [[0, 1]] * 3
    assert store.trained == 6 and store.loaded == 0
    assert not root.exists() or not any(root.rglob("*"))
    # a disabled store ignores files an enabled one wrote
    TrialStore(root, trainer=fake).rows(EXPERIMENT, [0])
    assert store.load(EXPERIMENT, 0) is None
    store.rows(EXPERIMENT, [0])
    assert fake.calls[-1] == [0]


def test_rows_rejects_repeated_seeds(store: TrialStore) -> None:
    with pytest.raises(ValueError, match=r"\[1, 2, 1\]"):
        store.rows(EXPERIMENT, [1, 2, 1])


def test_rows_of_later_steps_keep_no_truth_table(store: TrialStore) -> None:
    deep = EXPERIMENT.replace(steps=3)
    store.rows(deep, [4])
    loaded = store.load(deep, 4)
    assert loaded["truth_table"] is None and loaded["table_errors"] == -1
    assert_rows_equal(loaded, fake_row(deep, 4))


# ---------------------------------------------------------------- corruption


def _corrupt_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "corrupt" in str(w.message)]


def test_truncated_garbled_and_empty_files_are_retrained(store: TrialStore,
                                                         fake: FakeTrainer) -> None:
    seeds = [0, 1, 2, 3, 4, 5]
    store.rows(EXPERIMENT, seeds)
    truncated, garbled, empty = (store.path(EXPERIMENT, s) for s in (1, 3, 4))
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    garbled.write_bytes(np.random.default_rng(0).bytes(garbled.stat().st_size))
    empty.write_bytes(b"")

    with pytest.warns(UserWarning, match="corrupt") as record:
        frame = store.rows(EXPERIMENT, seeds)
    messages = _corrupt_warnings(record)
    assert len(messages) == 3  # once per damaged file
    for path in (truncated, garbled, empty):
        assert sum(str(path) in m for m in messages) == 1
    assert fake.calls[-1] == [1, 3, 4]  # exactly the damaged trials are retrained
    assert_frame_matches(frame, EXPERIMENT, seeds)

    # the rewritten files load without complaint, and nothing is trained again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in seeds:
            assert_rows_equal(store.load(EXPERIMENT, seed), fake_row(EXPERIMENT, seed))
        store.rows(EXPERIMENT, seeds)
    assert len(fake.calls) == 2


def test_another_trials_file_is_corrupt(store: TrialStore, fake: FakeTrainer) -> None:
    store.rows(EXPERIMENT, [1, 2])
    shutil.copyfile(store.path(EXPERIMENT, 1), store.path(EXPERIMENT, 2))
    with pytest.warns(UserWarning, match="corrupt") as record:
        frame = store.rows(EXPERIMENT, [1, 2])
    messages = _corrupt_warnings(record)
    assert len(messages) == 1 and str(store.path(EXPERIMENT, 2)) in messages[0]
    assert fake.calls[-1] == [2]
    assert_frame_matches(frame, EXPERIMENT, [1, 2])
    # the same file under another experiment's name is caught the same way
    other = EXPERIMENT.replace(batches=11)
    target = store.path(other, 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(store.path(EXPERIMENT, 1), target)
    with pytest.warns(UserWarning, match="corrupt"):
        assert store.load(other, 1) is None
    assert not target.exists()  # a corrupt file is deleted


def test_atomic_writes_leave_no_temporary_files(store: TrialStore) -> None:
    store.rows(EXPERIMENT, list(range(8)))
    for seed in range(8):
        store.save(EXPERIMENT, fake_row(EXPERIMENT, seed))
    assert tmp_files(store.root) == []
    folder = store.path(EXPERIMENT, 0).parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["experiment.json"] + [store.path(EXPERIMENT, s).name for s in range(8)]
    )
    assert json.loads((folder / "experiment.json").read_text()) == EXPERIMENT.to_dict()


def test_atomic_write_failure_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    from lifetf.suite import io as io_module

    monkeypatch.setattr(io_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        io_module.atomic_write_bytes(target, b"new contents")
    assert target.read_bytes() == b"old"
    assert tmp_files(tmp_path) == []


# ---------------------------------------------------------------- concurrent writers

WRITERS = 3
MIN_ROUNDS = 5
READ_SECONDS = 2.0
SHARED_SEEDS = [0, 1, 2]


def _writer(root: str, experiment: Experiment, writer: int, ready, stop, compute: str,
            provenance: np.ndarray) -> None:
    """Save the same trials over and over (as xdist workers computing one trial would).

    The trial key's compute part and the provenance are the test process's, so that a writer
    imports no Keras backend (about 6 s of CPU each): what is checked is the files."""

    def refuse(*args, **kwargs):
        raise AssertionError("a writer must not train")

    store_module.compute_key = lambda: compute
    store_module._provenance_array = lambda: provenance
    store = TrialStore(root, trainer=refuse)
    rows = [fake_row(experiment, seed, seconds=float(writer)) for seed in SHARED_SEEDS]
    store.save(experiment, rows[0])
    assert "keras" not in sys.modules
    ready.wait(timeout=300)
    rounds = 0
    while (rounds < MIN_ROUNDS or not stop.is_set()) and rounds < 100_000:
        for row in rows:
            store.save(experiment, row)
        rounds += 1


def test_concurrent_writers_and_a_reader(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Barrier(WRITERS + 1), context.Event()
    workers = [
        context.Process(target=_writer, args=(str(root), EXPERIMENT, w, ready, stop,
                                              store_module.compute_key(),
                                              store_module._provenance_array()))
        for w in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    reader = TrialStore(root, trainer=FakeTrainer())
    seen = 0
    try:
        ready.wait(timeout=300)  # every writer has started: from here they all write at once
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            deadline = time.monotonic() + READ_SECONDS
            while time.monotonic() < deadline:
                for seed in SHARED_SEEDS:
                    loaded = reader.load(EXPERIMENT, seed)
                    if loaded is not None:
                        seen += 1
                        writer = loaded["train_seconds"]
                        assert writer in {float(w) for w in range(WRITERS)}
                        assert_rows_equal(loaded, fake_row(EXPERIMENT, seed, seconds=writer))
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * WRITERS
    assert _corrupt_warnings(caught) == []  # the reader never saw a partial file
    assert seen >= 10  # and it did read while the writers were replacing the files
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in SHARED_SEEDS:
            loaded = reader.load(EXPERIMENT, seed)
            assert loaded is not None
            assert_rows_equal(loaded, fake_row(EXPERIMENT, seed, loaded["train_seconds"]))
    assert tmp_files(root) == []
    description = reader.path(EXPERIMENT, 0).parent / "experiment.json"
    assert json.loads(description.read_text()) == EXPERIMENT.to_dict()


# ---------------------------------------------------------------- verdict files


def _verdict(claim_id: str, verdict: str = "reproduced") -> Verdict:
    return Verdict(
        claim_id=claim_id,
        verdict=verdict,
        summary="success rate 0.2 [0.1, 0.35] below 0.5",
        estimates=[Estimate("success rate", 0.2, 0.1, 0.35, 8, 40), Estimate("ratio", 1.5)],
        test="one-sided binomial",
        p_value=0.003,
        threshold="< 0.5",
        design="40 trials",
        false_failure=0.01,
        trials=40,
        experiments=[EXPERIMENT.key],
        protocol=[{"setting": "width", "value": "1"}],
        table=[{"width": 1, "rate": 0.2}, {"width": 2, "rate": 0.6}],
        figures=["figures/x.png"],
        notes="note",
        seconds=12.5,
        profile="quick",
        seed_base=3,
        recorded_at="2024-01-02T03:04:05+00:00",
    )


def test_verdict_round_trip(tmp_path: Path) -> None:
    results = tmp_path / "results"
    first, second = _verdict("GOL-WIDTH-HELPS"), _verdict("GOL-CAPACITY", "refuted")
    path = save_verdict(first, results)
    assert path == results / "GOL-WIDTH-HELPS.json"
    save_verdict(second, results)
    loaded = load_verdicts(results)
    assert loaded == [second, first]  # sorted by file name
    assert loaded[1].estimates[0] == first.estimates[0]
    assert tmp_files(results) == []
    # saving again replaces the file
    save_verdict(_verdict("GOL-CAPACITY", "inconclusive"), results)
    assert [v.verdict for v in load_verdicts(results)] == ["inconclusive", "reproduced"]


def test_verdict_with_numpy_values(tmp_path: Path) -> None:
    verdict = _verdict("GOL-DENSITY")
    verdict.table = [{"rate": np.float64(0.25), "n": np.int64(4), "xs": np.arange(3)}]
    save_verdict(verdict, tmp_path)
    (loaded,) = load_verdicts(tmp_path)
    assert loaded.table == [{"rate": 0.25, "n": 4, "xs": [0, 1, 2]}]


def test_unreadable_verdict_files_are_skipped(tmp_path: Path) -> None:
    save_verdict(_verdict("GOL-CAPACITY"), tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "wrong.json").write_text(json.dumps({"claim_id": "X", "verdict": "maybe"}))
    with pytest.warns(UserWarning, match="unreadable") as record:
        loaded = load_verdicts(tmp_path)
    assert [v.claim_id for v in loaded] == ["GOL-CAPACITY"]
    assert len([w for w in record if "unreadable" in str(w.message)]) == 2


def test_no_verdicts_in_a_missing_folder(tmp_path: Path) -> None:
    assert load_verdicts(tmp_path / "nothing") == []


# ---------------------------------------------------------------- with the real trainer


def test_real_trainer_is_cached(tmp_path: Path) -> None:
    experiment = Experiment(batches=20, record_every=10)
    store = TrialStore(tmp_path, trainer=train)
    first = store.rows(experiment, [0, 1])
    assert store.trained == 2 and store.loaded == 0
    second = store.rows(experiment, [0, 1])
    assert store.trained == 2 and store.loaded == 2
    fresh = TrialStore(tmp_path, trainer=train)
    third = fresh.rows(experiment, [1, 0])
    assert fresh.trained == 0
    for frame in (second, third):
        for record in frame.to_dict("records"):
            original = first[first.seed == record["seed"]].iloc[0].to_dict()
            assert_rows_equal(record, original)
    assert first.loss_curve[0].shape == (2,)
    # each trial records what computed it
    import keras

    recorded = fresh.provenance(experiment, 0)
    assert recorded["backend"] == keras.backend.backend()
    assert recorded["precision"] == "float32" and recorded["keras"] == keras.__version__
    assert recorded["device"] and recorded["commit"]


# ---------------------------------------------------------------- stores at an fsspec URL


def test_a_memory_url_store_trains_once_and_reads_back() -> None:
    import uuid

    url = f"memory://lifetf-{uuid.uuid4().hex}"
    fake = FakeTrainer()
    store = TrialStore(url, trainer=fake)
    first = store.rows(EXPERIMENT, [0, 1])
    again = TrialStore(url, trainer=fake).rows(EXPERIMENT, [1, 0])
    assert fake.calls == [[0, 1]]
    for record in again.to_dict("records"):
        assert_rows_equal(record, first[first.seed == record["seed"]].iloc[0].to_dict())
    assert store.location.problem() is None


def test_writes_are_create_only_at_a_url_and_locally(tmp_path: Path) -> None:
    import uuid

    from lifetf.suite.io import Location

    for root in (f"memory://lifetf-{uuid.uuid4().hex}", tmp_path):
        location = Location(root)
        assert location.create("a/b.bin", b"first") is True
        assert location.create("a/b.bin", b"second") is False
        assert location.read("a/b.bin") == b"first"
        assert location.read("a/missing.bin") is None


def _race_to_a_memory_store(writers: int = 4, seeds: int = 6) -> None:
    """``writers`` threads store the same ``seeds`` trials in a fresh memory store: each trial
    file is created exactly once, and every trial reads back."""
    import threading
    import uuid

    rows = [fake_row(EXPERIMENT, seed) for seed in range(seeds)]
    store = TrialStore(f"memory://lifetf-{uuid.uuid4().hex}")
    real, created = store.location.create, []

    def counting(name, data):
        ok = real(name, data)
        if ok and name.endswith(".npz"):
            created.append(name)
        return ok

    store.location.create = counting
    threads = [threading.Thread(target=lambda: [store.save(EXPERIMENT, r) for r in rows])
               for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created) == sorted({store.name(EXPERIMENT, s) for s in range(seeds)})
    assert all(store.load(EXPERIMENT, s) is not None for s in range(seeds))


def test_concurrent_writers_to_a_memory_store() -> None:
    """Threads racing to store the same trials: each trial is created exactly once.

    The interpreter switches threads every microsecond and the race runs ten times, so that a
    create that checks and then writes in two steps is caught (without the lock in
    ``Location.create``, 70 of 200 single races at this interval created a trial twice).
    """
    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(10):
            _race_to_a_memory_store()
    finally:
        sys.setswitchinterval(interval)


def test_an_unwritable_store_is_named_in_one_line(tmp_path: Path) -> None:
    from lifetf.suite.io import Location

    assert "/proc/nope" in Location("/proc/nope").problem()
    assert "not a writable" in Location("/proc/nope").problem()


class Versions:
    """What ``lifetf.nets.provenance.environment()`` reports, switched between this process's
    own and an older release of its framework (as if another process had trained)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from lifetf.nets import provenance

        self._monkeypatch, self._provenance = monkeypatch, provenance
        self.now = provenance.environment()
        self.framework = "tensorflow" if "tensorflow" in self.now else "jax"
        self.older = {**self.now, self.framework: "0.0.1"}

    def use(self, environment: dict) -> None:
        self._monkeypatch.setattr(self._provenance, "environment", lambda: environment)


@pytest.fixture
def versions(monkeypatch: pytest.MonkeyPatch) -> Versions:
    return Versions(monkeypatch)


def test_a_trial_trained_with_other_framework_versions_is_reused_with_one_warning(
        store: TrialStore, fake: FakeTrainer, versions: Versions) -> None:
    now, framework = versions.now, versions.framework
    versions.use(versions.older)
    store.rows(EXPERIMENT, [0, 1])  # trained and recorded as if by an older framework
    versions.use(now)
    with pytest.warns(UserWarning, match=f"trials in .*/trials were trained with {framework} "
                                         f"0.0.1, not this process's "
                                         f"{framework} {now[framework]}.*--no-cache") as caught:
        store.rows(EXPERIMENT, [0, 1])
    assert len([w for w in caught if "trained with" in str(w.message)]) == 1  # once per store
    assert fake.calls == [[0, 1]]  # reused, not retrained
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.rows(EXPERIMENT, [0])  # the same versions again: no second warning
        store.rows(EXPERIMENT, [2])  # trained here, by this process's versions
        store.rows(EXPERIMENT, [2])


def test_trained_with_counts_the_recorded_versions_of_each_returned_trial(
        store: TrialStore, fake: FakeTrainer, versions: Versions) -> None:
    from lifetf.nets import provenance
    from lifetf.suite.store import NOT_SEEN

    now, framework = versions.now, versions.framework
    older = {**versions.older, "device": "NVIDIA H200"}
    versions.use(older)
    store.rows(EXPERIMENT, [0, 1])  # trained and recorded as if elsewhere, by other versions
    old_label = provenance.trained_with(older)
    assert f"{framework} 0.0.1" in old_label and old_label.endswith(" on NVIDIA H200")
    assert store.trained_with({EXPERIMENT.key: [0, 1]}) == {old_label: 2}
    versions.use(now)
    reader = TrialStore(store.root, trainer=fake)  # a later process on the same store
    with pytest.warns(UserWarning, match="trained with"):
        reader.rows(EXPERIMENT, [0, 1, 2])  # two reused, one trained here
    here = provenance.trained_with(now)
    assert here != old_label and f"{framework} {now[framework]}" in here
    assert reader.trained_with({EXPERIMENT.key: [0, 1, 2, 3]}) == {old_label: 2, here: 1,
                                                                   NOT_SEEN: 1}
    assert reader.trained_with({}) == {}


def _toy_records(seeds) -> np.ndarray:
    return np.array([(s, s / 2) for s in seeds], dtype=[("seed", int), ("value", float)])


def test_toy_records_carry_their_provenance_and_a_foreign_file_is_replaced(
        tmp_path: Path, versions: Versions) -> None:
    from lifetf.nets import provenance
    from lifetf.suite.store import records_key

    calls = []

    def compute(seeds=(0, 1)):
        calls.append(list(seeds))
        return _toy_records(seeds)

    now, framework, older = versions.now, versions.framework, versions.older
    versions.use(older)
    first = TrialStore(tmp_path).records("toy", "1", EXPERIMENT, [0, 1], compute)
    versions.use(now)
    reader = TrialStore(tmp_path)
    with pytest.warns(UserWarning, match=f"records in .*/records were trained with {framework} "
                                         "0.0.1"):
        again = reader.records("toy", "1", EXPERIMENT, [0, 1], compute)
    assert np.array_equal(first, again) and calls == [[0, 1]]
    key = records_key("toy", EXPERIMENT)
    assert reader.trained_with({key: [0, 1]}) == {provenance.trained_with(older): 2}
    (file,) = (tmp_path / "records").glob("toy-*.npz")
    file.write_bytes(store_module._npz_bytes({"records": _toy_records([5, 6]),
                                              "provenance": np.array("{}")}))
    with pytest.warns(UserWarning, match=r"corrupt cached records .*other seeds"):
        assert np.array_equal(reader.records("toy", "1", EXPERIMENT, [0, 1], compute), first)
    assert len(calls) == 2 and reader.trained_with({key: [0]}) == {provenance.trained_with(now): 1}
    assert np.array_equal(TrialStore(tmp_path).records("toy", "1", EXPERIMENT, [0, 1], compute),
                          first) and len(calls) == 2  # the file was replaced by the right one


def test_a_version_warning_raised_as_an_error_leaves_the_trial_in_place(
        store: TrialStore, fake: FakeTrainer, versions: Versions) -> None:
    versions.use(versions.older)
    store.rows(EXPERIMENT, [0])
    versions.use(versions.now)
    reader = TrialStore(store.root, trainer=fake)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under pytest -W error
        with pytest.raises(UserWarning, match="trained with"):
            reader.load(EXPERIMENT, 0)
        assert reader.load(EXPERIMENT, 0) is not None  # warned once; the file is still there
    assert fake.calls == [[0]]
