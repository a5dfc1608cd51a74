"""Learned functions: identical pairs, the column-shuffle null, distances by function."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.analysis.functions import (
    distances_by_function,
    guaranteed_pairs,
    identical_pairs,
    most_common_errors,
    shared_function_test,
    shuffle_columns,
)
from lifetf.nets.models import LayerSpec


def test_identical_pairs_counts_within_groups_only() -> None:
    a = np.array([[0, 1], [0, 1], [0, 1], [1, 1]])  # three equal rows: 3 pairs
    b = np.array([[0, 1]])  # equal to a's rows but in another group
    assert identical_pairs([a, b]) == 3
    assert identical_pairs([np.zeros((0, 2))]) == 0
    assert guaranteed_pairs([a, b], 1 / 2) == 1  # 2 of 4 share: one pair; 0 of 1


def test_shuffle_columns_keeps_each_column() -> None:
    table = np.arange(20).reshape(5, 4) % 3
    shuffled = shuffle_columns(table, np.random.default_rng(1))
    assert shuffled.shape == table.shape
    for column in range(4):
        assert sorted(shuffled[:, column]) == sorted(table[:, column])


def test_shared_function_test_rejects_a_shared_function_and_not_noise() -> None:
    rng = np.random.default_rng(0)
    # ten of twenty runs learn one function, the others random ones
    shared = np.vstack([np.tile(rng.integers(0, 2, 12), (10, 1)), rng.integers(0, 2, (10, 12))])
    result = shared_function_test([shared], np.random.default_rng(1), 999, 0.01)
    assert result.observed >= 45
    assert result.p_value == pytest.approx(1 / 1000)  # no shuffle comes near 45 pairs
    assert result.chance < 5 and result.critical < 45
    noise = rng.integers(0, 2, (10, 12))
    assert shared_function_test([noise], np.random.default_rng(2), 999, 0.01).p_value > 0.05
    with pytest.raises(ValueError, match="permutations must be at least 1, got 0"):
        shared_function_test([noise], rng, 0, 0.01)


def test_distances_by_function_splits_pairs() -> None:
    layers = [LayerSpec(1, 1, 1, "linear")]
    weights = [[np.full((1, 1, 1, 1), float(i)), np.zeros(1)] for i in (0, 1, 3)]
    tables = np.array([[1, 0], [1, 0], [0, 0]])
    same, other = distances_by_function(layers, weights, tables)
    assert same == [pytest.approx(1.0)]  # runs 0 and 1 share a function
    assert sorted(other) == pytest.approx([2.0, 3.0])


def test_most_common_errors() -> None:
    truth = np.array([1, 0, 1, 0])
    table = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0]])
    assert most_common_errors(table, truth) == (2, 1, 1)  # misses the birth at window 2
