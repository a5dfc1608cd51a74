"""The functions trained networks learn: truth tables shared by runs, and what they get wrong.

A learned function is a run's one-step truth table over the windows that matter (a row of 0/1).
Runs are grouped (one group per width, say); two runs of a group share a function when their
rows are identical. Whether runs share functions more often than chance is tested against a
null that shuffles each window's column across the runs of a group: every window keeps how
often it is predicted alive, the joint structure that makes two tables equal is broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifetf.analysis.landscape import aligned_distance
from lifetf.nets.models import LayerSpec


def identical_pairs(groups: Sequence[np.ndarray]) -> int:
    """Pairs of runs within a group (rows of a (runs, windows) table) with identical rows."""
    total = 0
    for table in groups:
        if len(table) > 1:
            _, counts = np.unique(table, axis=0, return_counts=True)
            total += int((counts * (counts - 1) // 2).sum())
    return total


def shuffle_columns(table: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each column permuted on its own: marginals kept, joint structure broken."""
    return np.take_along_axis(table, rng.permuted(np.indices(table.shape)[0], axis=0), axis=0)


def guaranteed_pairs(groups: Sequence[np.ndarray], share: float) -> int:
    """Identical pairs there must be when a ``share`` of each group's runs learn one function."""
    return sum(k * (k - 1) // 2 for k in (int(share * len(t)) for t in groups))


@dataclass(frozen=True)
class SharedFunctions:
    """Identical pairs observed, their permutation p-value, and the null's mean and quantile."""

    observed: int
    p_value: float
    chance: float  # the null's mean: identical pairs expected by chance
    critical: float  # the null's (1 - alpha) quantile: the count the test needs to reject
    permutations: int


def shared_function_test(groups: Sequence[np.ndarray], rng: np.random.Generator,
                         permutations: int, alpha: float) -> SharedFunctions:
    """Do runs of a group learn identical functions more often than the column-shuffle null?
    p-value (1 + #null >= observed) / (1 + permutations)."""
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, got {permutations}")
    observed = identical_pairs(groups)
    null = np.array([identical_pairs([shuffle_columns(t, rng) for t in groups])
                     for _ in range(permutations)])
    return SharedFunctions(observed, float((1 + (null >= observed).sum()) / (1 + permutations)),
                           float(null.mean()), float(np.quantile(null, 1 - alpha)), permutations)


def distances_by_function(layers: Sequence[LayerSpec], weights: Sequence, tables: np.ndarray,
                          ) -> tuple[list[float], list[float]]:
    """Aligned parameter distances of every pair of runs: (pairs with the same function, pairs
    with different functions)."""
    same, other = [], []
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            d = aligned_distance(layers, weights[i], weights[j])
            (same if (tables[i] == tables[j]).all() else other).append(d)
    return same, other


def most_common_errors(table: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """(runs sharing the most common function, windows it gets wrong, of those the births it
    misses) for one group's (runs, windows) table against the true row."""
    values, counts = np.unique(table, axis=0, return_counts=True)
    wrong = truth != values[np.argmax(counts)]
    return int(counts.max()), int(wrong.sum()), int((wrong & truth.astype(bool)).sum())
