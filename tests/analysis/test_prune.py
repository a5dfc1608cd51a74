"""lifetf.analysis.prune: magnitude pruning, parameter counts, re-evaluation of pruned nets."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.analysis.prune import (
    HAND_BUILT_NONZERO,
    MINIMAL_PARAMS,
    Pruning,
    effective_params,
    kept_params,
    pruned_scores,
)
from lifetf.nets.experiment import Experiment
from lifetf.nets.models import hand_built_weights, layer_specs, seeded_initial_weights

SWEEP = Experiment(output="sigmoid", activation="leaky_relu", board_size=8)


@pytest.mark.parametrize("threshold", [-0.1, float("nan"), "0.1", True])
def test_bad_thresholds_name_the_value(threshold):
    with pytest.raises(ValueError, match="Pruning.threshold = .* is invalid"):
        Pruning(threshold)


def test_pruning_zeroes_small_kernel_entries_and_keeps_biases():
    weights = [np.array([[[[0.01, -0.5]]]], np.float32), np.array([0.001, -0.002], np.float32)]
    pruned = Pruning(0.1).apply(weights)
    assert pruned[0].ravel().tolist() == [0.0, -0.5]
    assert np.array_equal(pruned[1], weights[1])
    assert weights[0].ravel()[0] == np.float32(0.01)  # the input is not changed
    assert all(np.array_equal(a, b) for a, b in zip(Pruning(0).apply(weights), weights,
                                                    strict=True))
    assert kept_params(pruned) == 1 + 2


def test_counts_of_full_hand_built_and_empty_networks():
    layers = SWEEP.replace(width=4).layers
    full = seeded_initial_weights(layers, "pytorch", 0)
    assert kept_params(full) == effective_params(full, layers) == SWEEP.replace(width=4).n_params
    minimal = SWEEP.layers
    assert sum(s.n_params for s in minimal) == MINIMAL_PARAMS
    exact = hand_built_weights("firner", "firner", 1, 1, "sigmoid")
    assert effective_params(exact, minimal) == HAND_BUILT_NONZERO
    # at width 4 the extra channels are zero: their units are removed, leaving the same 17
    wide = hand_built_weights("firner", "firner", 1, 4, "sigmoid")
    assert effective_params(wide, layers) == HAND_BUILT_NONZERO
    assert kept_params(wide) > HAND_BUILT_NONZERO  # kept counts every bias
    empty = Pruning(1e9).apply(full)
    assert effective_params(empty, layers) == 1  # only the output bias is left


def test_a_unit_without_outgoing_weights_takes_its_inputs_along():
    layers = layer_specs("firner", 1, 1, output="sigmoid")
    weights = hand_built_weights("firner", "firner", 1, 1, "sigmoid")
    weights[2][0, 0, 1, 0] = 0.0  # the second 3x3 unit no longer feeds the 1x1 layer
    assert effective_params(weights, layers) == HAND_BUILT_NONZERO - 1 - 5 - 1


def test_shapes_are_checked():
    layers = SWEEP.layers
    with pytest.raises(ValueError, match="arrays for"):
        effective_params(hand_built_weights("firner", "firner", 1, 2, "sigmoid")[:2], layers)
    with pytest.raises(ValueError, match="does not fit"):
        effective_params(hand_built_weights("firner", "firner", 1, 2, "sigmoid"), layers)
    with pytest.raises(ValueError, match="weight list"):
        kept_params([np.zeros(3)])


def test_pruned_scores_of_exact_and_destroyed_networks():
    experiment = SWEEP.replace(width=4)
    exact = hand_built_weights("firner", "firner", 1, 4, "sigmoid")
    noisy = [w + np.float32(1e-3) * (i % 2 == 0) for i, w in enumerate(exact)]
    scores = pruned_scores(experiment, [exact, noisy], Pruning(0.01))
    assert scores["success"].tolist() == [True, True]
    assert scores["effective"].tolist() == [HAND_BUILT_NONZERO, HAND_BUILT_NONZERO]
    gone = pruned_scores(experiment, [exact], Pruning(100.0))
    assert not gone["success"][0] and gone["effective"][0] == 1
    with pytest.raises(ValueError, match="at least one"):
        pruned_scores(experiment, [], Pruning(0.1))
