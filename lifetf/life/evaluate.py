"""Judging trained networks: whole-board success, match rate, cell accuracy, truth tables.

Success follows the posts: 1000 fresh random 5x5 boards at density 0.5 are predicted, outputs
rounded; a board matches when all its cells are right, a network succeeds when every board does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lifetf.life.rules import evolve, local_configurations, next_centre, random_boards
from lifetf.seeding import EVAL


@dataclass(frozen=True)
class EvalSet:
    """Fixed evaluation boards and their true future states."""

    boards: np.ndarray  # (N, H, W) uint8
    targets: np.ndarray  # (N, H, W) uint8


@lru_cache(maxsize=64)
def eval_set(
    rule: str, steps: int, n: int = 1000, size: int = 5, density: float = 0.5, seed: int = 0
) -> EvalSet:
    """The ``n`` seeded random test boards for ``rule`` and ``steps``, cached per process."""
    boards = random_boards(n, size, density, seed=np.random.SeedSequence([seed, EVAL]))
    boards.setflags(write=False)
    targets = evolve(boards, rule, steps)
    targets.setflags(write=False)
    return EvalSet(boards, targets)


def board_scores(predictions: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Per-member scores from outputs (K, N, H, W) in [0, 1] against targets (N, H, W).

    Returns arrays of length K: ``match_rate`` (boards entirely right), ``success`` (all boards
    right), ``cell_accuracy``, and ``all_dead_rate`` (boards predicted entirely dead).
    """
    predicted = np.asarray(predictions) > 0.5
    k, n = predicted.shape[:2]
    correct = predicted == np.asarray(targets, dtype=bool)[None]
    board_right = correct.reshape(k, n, -1).all(axis=2)
    match_rate = board_right.mean(axis=1)
    return {
        "match_rate": match_rate,
        "success": board_right.all(axis=1),
        "cell_accuracy": correct.reshape(k, -1).mean(axis=1),
        "all_dead_rate": (~predicted.reshape(k, n, -1).any(axis=2)).mean(axis=1),
    }



def truth_table_windows() -> np.ndarray:
    """All 512 binary 3x3 windows, in the order used by every truth table of the suite."""
    return local_configurations("conway", relevant_only=False)


def relevant_rows(rule: str) -> np.ndarray:
    """Indices into a 512-entry truth table of the windows that matter under ``rule``."""
    codes = _window_codes(truth_table_windows())
    index = {c: i for i, c in enumerate(codes)}
    relevant = local_configurations(rule, relevant_only=True)
    return np.array([index[c] for c in _window_codes(relevant)])


def truth_table_errors(tables: np.ndarray, rule: str) -> np.ndarray:
    """For (K, 512) learned one-step truth tables: how many relevant windows each gets wrong.

    Under ``firner`` only the 32 windows with dead corners are relevant (corners cannot matter);
    under ``conway`` all 512 are.
    """
    rows = relevant_rows(rule)
    truth = next_centre(truth_table_windows(), rule)
    return (np.asarray(tables)[:, rows] != truth[rows][None]).sum(axis=1)


def _window_codes(windows: np.ndarray) -> list[int]:
    flat = windows.reshape(len(windows), 9).astype(np.int64)
    return list((flat << np.arange(9)).sum(axis=1))
