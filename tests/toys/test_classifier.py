"""lifetf.toys.classifier: data, probes, per-seed trials, their cache in the store."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.suite.store import TrialStore
from lifetf.toys.classifier import (
    CLASSIFIER_VERSION,
    HEADS,
    PROBES,
    ClassifierConfig,
    batch_order,
    digits_split,
    fit,
    initial_weights,
    probe_inputs,
    train_classifiers,
)

SEED = 7
CROWD = [s for s in range(64) if s != SEED] + [SEED]  # seed 7 among 63 others
SHORT = ClassifierConfig(epochs=2, noise_inputs=50, blank_levels=11)


@pytest.mark.parametrize("change, message", [
    ({"head": "tanh"}, "ClassifierConfig.head = 'tanh' is invalid: expected one of softmax"),
    ({"hidden": 0}, "ClassifierConfig.hidden = 0 is invalid: expected an integer >= 1"),
    ({"learning_rate": -1}, "ClassifierConfig.learning_rate = -1 is invalid"),
    ({"test_fraction": 1.0}, "ClassifierConfig.test_fraction = 1.0 is invalid"),
    ({"batch_size": 2000}, "at most the 1198 training images"),
    ({"epochs": True}, "ClassifierConfig.epochs = True is invalid"),
])
def test_bad_configs_name_the_field_and_value(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ClassifierConfig(**change)


def test_the_split_is_fixed_stratified_and_read_only():
    split = digits_split()
    assert len(split.y_train) == ClassifierConfig().train_size == 1198
    assert len(split.y_test) == 599
    assert split.x_train.shape == (1198, 64) and split.x_train.dtype == np.float32
    assert 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0
    counts = np.bincount(split.y_test, minlength=10)
    assert counts.min() >= 58 and counts.max() <= 61  # a third of each class's ~180 images
    again = digits_split.__wrapped__()
    assert np.array_equal(again.x_test, split.x_test)
    with pytest.raises(ValueError):
        split.x_train[0, 0] = 1.0


def test_probes_are_meaningless_inputs_in_range_and_fixed():
    probes = probe_inputs(SHORT)
    assert tuple(probes) == PROBES
    assert probes["uniform"].shape == probes["gaussian"].shape == (50, 64)
    assert probes["blank"].shape == (11, 64)
    assert np.all(probes["blank"] == probes["blank"][:, :1])  # each blank image is constant
    for kind, x in probes.items():
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0, kind
    assert np.array_equal(probe_inputs(SHORT)["gaussian"], probes["gaussian"])


def test_starts_and_batch_orders_depend_on_the_seed_only():
    a, b = initial_weights(32, 3), initial_weights(32, 3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(initial_weights(32, 4)[0], a[0])
    order = batch_order(SHORT, 3)
    assert order.shape == (2 * SHORT.steps_per_epoch, SHORT.batch_size)
    epoch = order[: SHORT.steps_per_epoch].ravel()
    assert len(set(epoch.tolist())) == epoch.size  # no image twice within an epoch
    assert np.array_equal(order, batch_order(SHORT, 3))
    assert not np.array_equal(order, batch_order(SHORT, 4))


@pytest.mark.parametrize("head", HEADS)
def test_a_member_trains_the_same_alone_and_in_a_crowd(head):
    config = SHORT.replace(head=head)
    solo, solo_loss = fit(config, [SEED])
    crowd, crowd_loss = fit(config, CROWD)
    for w_solo, w_crowd in zip(solo, crowd, strict=True):
        np.testing.assert_allclose(w_solo[0], w_crowd[-1], atol=1e-5)
    np.testing.assert_allclose(solo_loss[0], crowd_loss[-1], rtol=1e-5)
    assert not np.allclose(crowd[0][0], crowd[0][1])  # members differ


def test_both_heads_start_alike_and_learn_the_digits():
    records = {head: train_classifiers(SHORT.replace(head=head, epochs=10), [0, 1])
               for head in HEADS}
    for head, r in records.items():
        assert list(r["seed"]) == [0, 1]
        assert r["accuracy"].min() > 0.85, head
        for kind in PROBES:
            values = r[f"max_{kind}"]
            assert values.min() >= 0.0 and values.max() <= 1.0
    assert records["softmax"]["max_uniform"].min() >= 0.1 - 1e-6  # softmax max >= 1/10
    untrained = {head: fit(SHORT.replace(head=head, epochs=0), [5])[0] for head in HEADS}
    for a, b in zip(untrained["softmax"], untrained["sigmoid"], strict=True):
        assert np.array_equal(a, b)


def test_records_are_cached_by_config_seeds_and_version(tmp_path):
    calls, trained = [], []

    def records(store, config, seeds, version=CLASSIFIER_VERSION):
        def compute():  # real records once; later misses need only be counted
            calls.append(list(seeds))
            if not trained:
                trained.append(train_classifiers(config, seeds))
            return trained[0].copy()
        return store.records("classifier", version, config, seeds, compute)

    store = TrialStore(tmp_path)
    first = records(store, SHORT, [0, 1])
    second = records(store, SHORT, [0, 1])
    assert len(calls) == 1 and np.array_equal(first, second)
    records(store, SHORT, [1, 0])  # other seeds (or order): another result
    records(store, SHORT.replace(hidden=8), [0, 1])
    records(store, SHORT, [0, 1], version="test-bump")
    assert len(calls) == 4
    records(TrialStore(tmp_path, enabled=False), SHORT, [0, 1])
    assert len(calls) == 5
