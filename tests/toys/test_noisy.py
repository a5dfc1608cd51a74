"""Tests for lifetf.toys.noisy: the two-input data, per-seed trials, regularisers and the cache."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.suite.store import TrialStore
from lifetf.toys.noisy import (
    NOISY_VERSION,
    REGULARISERS,
    NoisyConfig,
    fit,
    initial_weights,
    noisy_data,
    train_noisy,
    weight_ratio,
)

SEED = 7
CROWD = [s for s in range(64) if s != SEED] + [SEED]  # seed 7 among 63 others
SHORT = NoisyConfig(steps=130)


@pytest.mark.parametrize("change, message", [
    ({"regulariser": "l2"}, "NoisyConfig.regulariser = 'l2' is invalid: expected one of none"),
    ({"dropout": 1.0}, "NoisyConfig.dropout = 1.0 is invalid"),
    ({"l1": -0.1}, "NoisyConfig.l1 = -0.1 is invalid"),
    ({"noise": 0}, "NoisyConfig.noise = 0 is invalid"),
    ({"samples": 1}, "NoisyConfig.samples = 1 is invalid: expected an integer >= 2"),
    ({"steps": 1.5}, "NoisyConfig.steps = 1.5 is invalid"),
])
def test_bad_configs_name_the_field_and_value(change, message):
    with pytest.raises(ValueError, match=message):
        NoisyConfig(**change)


def test_one_input_decides_the_class_and_the_other_is_a_noisy_copy():
    x, y = noisy_data(NoisyConfig(samples=20000), 3)
    assert x.shape == (20000, 2) and y.shape == (20000,)
    assert np.array_equal(y, (x[:, 0] > 0).astype(np.float32))
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1] - 1 / np.sqrt(2)) < 0.02
    assert ((x[:, 1] > 0) == (y > 0.5)).mean() < 0.8  # x2 alone misclassifies a lot
    again, _ = noisy_data(NoisyConfig(samples=20000), 3)
    assert np.array_equal(x, again)
    assert not np.array_equal(x, noisy_data(NoisyConfig(samples=20000), 4)[0])


def test_starts_do_not_depend_on_the_regulariser():
    for regulariser in REGULARISERS:
        config = NoisyConfig(regulariser=regulariser)
        assert np.array_equal(initial_weights(config, 5), initial_weights(NoisyConfig(), 5))


@pytest.mark.parametrize("regulariser", REGULARISERS)
def test_a_member_trains_the_same_alone_and_in_a_crowd(regulariser):
    config = SHORT.replace(regulariser=regulariser)
    solo, solo_loss = fit(config, [SEED])
    crowd, crowd_loss = fit(config, CROWD)
    np.testing.assert_allclose(solo[0], crowd[-1], atol=1e-5)
    np.testing.assert_allclose(solo_loss[0], crowd_loss[-1], rtol=1e-5)
    assert not np.allclose(crowd[0], crowd[1])


def test_dropout_masks_change_training_and_l1_shrinks_weights():
    seeds = [0, 1, 2, 3]
    plain = train_noisy(SHORT, seeds)
    dropped = train_noisy(SHORT.replace(regulariser="dropout"), seeds)
    assert not np.allclose(plain["w1"], dropped["w1"])
    strong = train_noisy(SHORT.replace(regulariser="l1", l1=1.0), seeds)
    assert np.all(np.abs(strong["w1"]) + np.abs(strong["w2"])
                  < np.abs(plain["w1"]) + np.abs(plain["w2"]))
    assert plain["accuracy"].min() > 0.75  # it learns (chance: 0.5) within 130 updates
    assert list(plain["seed"]) == seeds


def test_weight_ratio():
    records = np.zeros(3, dtype=[("w1", float), ("w2", float)])
    records["w1"] = [2.0, -4.0, 0.0]
    records["w2"] = [-1.0, 1.0, 0.0]
    np.testing.assert_allclose(weight_ratio(records), [0.5, 0.25, 0.0])


def test_records_are_cached_by_config(tmp_path):
    calls = []

    def records(store, config):
        return store.records("noisy", NOISY_VERSION, config, [0, 1],
                             lambda: calls.append(1) or train_noisy(config, [0, 1]))

    store = TrialStore(tmp_path)
    first = records(store, SHORT)
    assert np.array_equal(first, records(store, SHORT))
    assert len(calls) == 1
    records(store, SHORT.replace(regulariser="l1"))
    assert len(calls) == 2
