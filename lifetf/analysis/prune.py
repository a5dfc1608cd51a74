"""Magnitude pruning of trained Game of Life networks: prune, count what is kept, re-evaluate.

A weight list is a plain Keras model's [kernel0, bias0, kernel1, bias1, ...] (as stored with
every trial). Pruning at threshold t sets every kernel entry with |w| < t to exactly zero; biases
are never pruned (the L1 penalty of the trainer does not touch them either). Two sizes are
counted: ``kept`` (nonzero kernel entries plus every bias) and ``effective`` (the same after
removing hidden units that no longer matter: a unit with no nonzero outgoing weight is dead, and
a unit with no nonzero incoming weight outputs a constant that folds into the next layer's biases;
what is left is the size of the smaller network one could build).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifetf.life.evaluate import board_scores, eval_set
from lifetf.nets.experiment import Experiment
from lifetf.nets.models import LayerSpec

MINIMAL_PARAMS = 25  # the minimal (m = 1) one-step network, biases included
HAND_BUILT_NONZERO = 17  # nonzero parameters of the hand-built exact m = 1 weights


@dataclass(frozen=True)
class Pruning:
    """Magnitude pruning: kernel entries with |w| < ``threshold`` become exactly zero."""

    threshold: float

    def __post_init__(self) -> None:
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
            raise ValueError(f"Pruning.threshold = {t!r} is invalid: expected a finite number "
                             f">= 0")
        object.__setattr__(self, "threshold", float(t))

    def apply(self, weights: Sequence[np.ndarray]) -> list[np.ndarray]:
        """A pruned copy of one network's weights (kernels at even positions, biases at odd)."""
        _check_pairs(weights)
        return [np.where(np.abs(w) < self.threshold, 0.0, w).astype(np.float32) if i % 2 == 0
                else np.array(w, np.float32) for i, w in enumerate(weights)]


def _check_pairs(weights: Sequence[np.ndarray]) -> None:
    if len(weights) == 0 or len(weights) % 2:
        raise ValueError(f"expected a weight list [kernel0, bias0, ...], got {len(weights)} "
                         f"arrays")


def kept_params(weights: Sequence[np.ndarray]) -> int:
    """Nonzero kernel entries plus every bias."""
    _check_pairs(weights)
    return sum(int(np.count_nonzero(w)) if i % 2 == 0 else int(np.size(w))
               for i, w in enumerate(weights))


def effective_params(weights: Sequence[np.ndarray], layers: Sequence[LayerSpec]) -> int:
    """Parameters of the smaller network left once units that no longer matter are removed.

    For a chain of convolutions (each layer's input is the previous layer's output), hidden
    units are removed until none changes: a unit whose outgoing weights are all zero (its
    incoming weights and bias go), or whose incoming weights are all zero (a constant, folded
    into the next layer's biases: its bias and outgoing weights go). The output unit stays.
    """
    _check_pairs(weights)
    if len(weights) != 2 * len(layers):
        raise ValueError(f"{len(weights)} arrays for {len(layers)} layers")
    for spec, kernel in zip(layers, weights[::2], strict=True):
        if kernel.shape != (spec.kernel, spec.kernel, spec.cin, spec.cout):
            raise ValueError(f"kernel of shape {kernel.shape} does not fit {spec}")
    links = [np.abs(k).reshape(-1, k.shape[2], k.shape[3]).sum(axis=0) > 0 for k in weights[::2]]
    alive = [np.ones(spec.cout, bool) for spec in layers]
    changed = True
    while changed:
        changed = False
        for i in range(len(layers) - 1):  # hidden layers only
            inputs = alive[i - 1] if i > 0 else np.ones(layers[0].cin, bool)
            fed = (links[i] & inputs[:, None]).any(axis=0)
            used = (links[i + 1] & alive[i + 1][None, :]).any(axis=1)
            keep = alive[i] & fed & used
            if (keep != alive[i]).any():
                alive[i], changed = keep, True
    total = 0
    for i, (spec, kernel) in enumerate(zip(layers, weights[::2], strict=True)):
        inputs = alive[i - 1] if i > 0 else np.ones(spec.cin, bool)
        live = kernel[:, :, inputs][..., alive[i]]
        total += int(np.count_nonzero(live)) + int(alive[i].sum())
    return total


def pruned_scores(
    experiment: Experiment, members: Sequence[Sequence[np.ndarray]], pruning: Pruning
) -> dict[str, np.ndarray]:
    """Scores of every pruned member on the experiment's test boards, plus its sizes.

    Returns arrays of length K: ``success``, ``match_rate``, ``cell_accuracy``, ``all_dead_rate``
    (as :func:`lifetf.life.evaluate.board_scores`), ``kept`` and ``effective``.
    """
    if not members:
        raise ValueError("members must hold at least one weight list")
    pruned = [pruning.apply(w) for w in members]
    from lifetf.nets.ensemble import Ensemble  # Keras only once a model is built

    ensemble = Ensemble(experiment.layers, experiment.output, len(pruned))
    ensemble.set_member_weights(pruned)
    tests = eval_set(experiment.rule, experiment.steps, experiment.eval_boards,
                     experiment.eval_size, experiment.eval_density, experiment.eval_seed)
    boards = np.broadcast_to(tests.boards[None], (len(pruned), *tests.boards.shape))
    scores = board_scores(np.asarray(ensemble.predict(boards)), tests.targets)
    scores["kept"] = np.array([kept_params(w) for w in pruned])
    scores["effective"] = np.array([effective_params(w, experiment.layers) for w in pruned])
    return scores
