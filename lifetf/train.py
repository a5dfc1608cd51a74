"""Training many independent networks at once: one compiled step for all members.

Each member k has its own seed s_k: its initial weights come from s_k alone, and at batch t it
draws its boards from a stateless random stream keyed by (s_k, t). The loss is the sum of the
members' mean losses and Adam is element-wise, so member k follows the path it would follow if
trained alone, whatever K is and whichever members train beside it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lifetf.ensemble import Ensemble
from lifetf.evaluate import board_scores, eval_set, truth_table_errors, truth_table_windows
from lifetf.experiment import Experiment
from lifetf.models import hand_built_weights, n_blocks, seeded_initial_weights

# Bump when a change alters what training computes: it is part of every cache key.
TRAINER_VERSION = "2"

LOSS_BOARDS = 256  # fixed boards of the training distribution on which initial/final loss is taken
DEFAULT_MEMORY_BUDGET = 2 * 2**30

ROW_COLUMNS = (
    "seed",
    "success",
    "match_rate",
    "cell_accuracy",
    "all_dead_rate",
    "initial_loss",
    "final_loss",
    "truth_table",
    "table_errors",
    "train_seconds",
    "loss_curve",
    "grad_norm_curve",
    "weights",
)


def _stream_key(seed: int, purpose: int, data_stream: int = 0) -> int:
    """A 31-bit key for one member's random stream, derived with SeedSequence (not ``hash``)."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, purpose, data_stream]).generate_state(1)
    return int(state[0] & 0x7FFFFFFF)


_DATA, _DROPOUT, _FLIPS, _SHUFFLE, _SET = 0xDA7A, 0xD809, 0xF11B, 0x5F1E, 0x5E7


def training_set(experiment: Experiment) -> np.ndarray:
    """The fixed finite training set (N, H, W) of an experiment with ``train_set`` = N > 0.

    It depends on ``train_set_seed`` alone, so every seed (and every batch size) sees the same set.
    """
    from lifetf.rules import random_boards

    if not experiment.train_set:
        raise ValueError("Experiment.train_set = 0 draws fresh boards; it has no fixed set")
    return random_boards(
        experiment.train_set, experiment.board_size, experiment.density,
        seed=np.random.SeedSequence([experiment.train_set_seed, _SET]),
    )


def epoch_order(experiment: Experiment, seed: int, epoch: int) -> np.ndarray:
    """Member ``seed``'s order of the fixed training set in ``epoch`` (its own stream)."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, _SHUFFLE, experiment.data_stream,
                                    int(epoch)])
    return np.random.default_rng(state).permutation(experiment.train_set)


def starting_weights(experiment: Experiment, seed: int) -> list[np.ndarray]:
    """Member ``seed``'s starting weights: random from its own seed, or hand-built with flips."""
    if experiment.start == "random":
        return seeded_initial_weights(experiment.layers, experiment.init, seed)
    weights = hand_built_weights(
        experiment.arch, experiment.rule, experiment.steps, experiment.width, experiment.output
    )
    if experiment.sign_flips:
        # flip among the nonzero parameters: the sign of a zero weight means nothing
        rng = np.random.default_rng(_stream_key(seed, _FLIPS))
        sizes = [w.size for w in weights]
        flat = np.concatenate([w.ravel() for w in weights])
        nonzero = np.flatnonzero(flat)
        if experiment.sign_flips > len(nonzero):
            raise ValueError(f"Experiment.sign_flips = {experiment.sign_flips} exceeds the "
                             f"{len(nonzero)} nonzero hand-built weights")
        chosen = rng.choice(nonzero, size=experiment.sign_flips, replace=False)
        flat[chosen] = -flat[chosen]
        weights = [part.reshape(w.shape) for part, w in zip(
            np.split(flat, np.cumsum(sizes)[:-1]), weights, strict=True)]
    return weights


def member_bytes(experiment: Experiment) -> int:
    """Rough peak bytes one member needs per training step (activations, patches, gradients)."""
    cells = experiment.batch_size * experiment.board_size**2
    floats = sum((9 if s.kernel == 3 else 1) * s.cin + 2 * s.cout for s in experiment.layers)
    return int(cells * floats * 4 * 4 + experiment.n_params * 4 * 8)


def members_per_graph(experiment: Experiment, budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """How many members fit in one graph under a memory budget (between 1 and 64)."""
    return int(max(1, min(64, budget // max(1, member_bytes(experiment)))))


def _make_optimizer(experiment: Experiment):
    import keras

    if experiment.optimizer == "adam":
        # epsilon 1e-8 as in PyTorch's Adam, which the original experiments used
        return keras.optimizers.Adam(learning_rate=experiment.learning_rate, epsilon=1e-8)
    return keras.optimizers.SGD(learning_rate=experiment.learning_rate)


class _Trainer:
    """The compiled training step for one ensemble of members of one experiment."""

    def __init__(self, experiment: Experiment, seeds: Sequence[int], jit_compile: bool = True):
        import tensorflow as tf

        self.tf = tf
        self.experiment = experiment
        self.seeds = [int(s) for s in seeds]
        self.k = len(self.seeds)
        self.ensemble = Ensemble(experiment.layers, experiment.output, self.k)
        self.ensemble.set_member_weights([starting_weights(experiment, s) for s in self.seeds])
        self.optimizer = _make_optimizer(experiment)
        self.optimizer.build(self.ensemble.variables)
        self.data_keys = tf.constant(
            [_stream_key(s, _DATA, experiment.data_stream) for s in self.seeds], tf.int64
        )
        self.dropout_keys = tf.constant(
            [_stream_key(s, _DROPOUT, experiment.data_stream) for s in self.seeds], tf.int64
        )
        self.dropout_layers = [i for i, s in enumerate(experiment.layers) if s.dropout > 0]
        self._draw = tf.function(self._draw_chunk, jit_compile=False)
        self._draw_masks = tf.function(self.chunk_masks, jit_compile=False)
        self.train_boards = training_set(experiment) if experiment.train_set else None
        self._run = tf.function(self._train_chunk, jit_compile=jit_compile)

    # -- data -------------------------------------------------------------------------------

    def boards(self, step, keys, n: int, size: int, density: float):
        """Each member's (n, size, size) boards from its stream at ``step`` (the fixed-loss set)."""
        tf = self.tf
        per_member = [
            tf.random.stateless_uniform(
                (n, size, size), seed=tf.stack([keys[k], step]), alg="philox"
            )
            for k in range(self.k)
        ]
        return tf.cast(tf.stack(per_member) < density, tf.float32)

    def chunk_boards(self, chunk):
        """Boards of one chunk of ``record_every`` batches, (steps, K, B, H, W).

        Member k's boards for batch t come from its own stream keyed by (seed_k, t // chunk),
        one random op per member and chunk, so they depend on neither K nor the total batches.
        """
        tf = self.tf
        exp = self.experiment
        shape = (exp.record_every, exp.batch_size, exp.board_size, exp.board_size)
        per_member = [
            tf.random.stateless_uniform(shape, seed=tf.stack([self.data_keys[k], chunk]),
                                        alg="philox")
            for k in range(self.k)
        ]
        return tf.cast(tf.stack(per_member, axis=1) < exp.density, tf.float32)

    def set_chunk_boards(self, start: int) -> np.ndarray:
        """Batches start..start+record_every-1 from the fixed set, (steps, K, B, H, W).

        Batch t holds positions t*B .. t*B+B-1 of the member's endless sequence of epochs, each
        epoch one pass over the set in the member's own order for that epoch.
        """
        exp = self.experiment
        n, b = exp.train_set, exp.batch_size
        positions = (start + np.arange(exp.record_every))[:, None] * b + np.arange(b)[None]
        epochs, within = np.divmod(positions, n)
        index = np.empty((exp.record_every, self.k, b), np.int64)
        for k, seed in enumerate(self.seeds):
            for epoch in np.unique(epochs):
                here = epochs == epoch
                index[:, k][here] = epoch_order(exp, seed, int(epoch))[within[here]]
        return self.train_boards[index].astype(np.float32)

    def chunk_masks(self, chunk):
        """Channel-dropout masks of one chunk, layer -> (steps, K, C, B, 1, 1), scaled 1/(1-p)."""
        tf = self.tf
        exp = self.experiment
        masks = {}
        for i in self.dropout_layers:
            spec = exp.layers[i]
            shape = (exp.record_every, spec.cout, exp.batch_size, 1, 1)
            draws = [
                tf.random.stateless_uniform(
                    shape, seed=tf.stack([self.dropout_keys[k], chunk * 64 + i]), alg="philox"
                )
                for k in range(self.k)
            ]
            keep = tf.cast(tf.stack(draws, axis=1) >= spec.dropout, tf.float32)
            masks[i] = keep / (1.0 - spec.dropout)
        return masks

    # -- loss -------------------------------------------------------------------------------

    def member_losses(self, boards, targets, masks=None):
        """Each member's mean binary cross-entropy (K,), plus its L1 penalty if any."""
        from keras import ops

        logits = self.ensemble.logits(boards, masks)
        if self.experiment.output == "sigmoid":
            cells = ops.binary_crossentropy(targets, logits, from_logits=True)
        else:
            cells = ops.binary_crossentropy(targets, self.ensemble.activate(logits))
        losses = ops.mean(cells, axis=(1, 2, 3))
        if self.experiment.l1:
            kernels = [conv.kernel for conv in self.ensemble.convs]
            penalty = sum(ops.sum(ops.abs(w), axis=(1, 2, 3, 4)) for w in kernels)
            losses = losses + self.experiment.l1 * penalty
        return losses

    def _targets(self, boards):
        from lifetf.rules import tf_evolve

        return tf_evolve(boards, self.experiment.rule, self.experiment.steps, self.experiment.torus)

    def _update(self, boards, masks):
        """One optimiser step on given boards; returns each member's loss and gradient norm."""
        tf = self.tf
        variables = self.ensemble.variables
        targets = self._targets(boards)
        with tf.GradientTape() as tape:
            losses = self.member_losses(boards, targets, masks)
            total = tf.reduce_sum(losses)
        grads = tape.gradient(total, variables)
        sq = tf.add_n([tf.reduce_sum(tf.reshape(g * g, (self.k, -1)), axis=1) for g in grads])
        self.optimizer.apply(grads, variables)
        return losses, tf.sqrt(sq)

    def _draw_chunk(self, chunk):
        """Random inputs of one chunk, drawn outside XLA (per-member random ops are slow in it)."""
        return self.chunk_boards(chunk), self.chunk_masks(chunk)

    def _train_chunk(self, boards, masks, count):
        """``count`` updates on a chunk's boards in one XLA computation; mean loss and norm."""
        tf = self.tf

        def body(i, loss_sum, norm_sum):
            step_masks = {layer: m[i] for layer, m in masks.items()}
            losses, norms = self._update(boards[i], step_masks)
            return i + 1, loss_sum + losses, norm_sum + norms

        zeros = tf.zeros((self.k,), tf.float32)
        _, loss_sum, norm_sum = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0), zeros, zeros)
        )
        n = tf.cast(tf.maximum(count, 1), tf.float32)
        return loss_sum / n, norm_sum / n

    def run(self, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Train batches start..start+count-1 (start a multiple of record_every, count <= it)."""
        tf = self.tf
        every = self.experiment.record_every
        if start % every or not 0 < count <= every:
            raise ValueError(f"a chunk starts at a multiple of {every} and holds 1..{every} "
                             f"batches, got start={start}, count={count}")
        chunk = tf.constant(start // self.experiment.record_every, tf.int64)
        if self.train_boards is None:
            boards, masks = self._draw(chunk)
        else:
            boards = tf.constant(self.set_chunk_boards(start))
            masks = self._draw_masks(chunk)
        loss, norm = self._run(boards, masks, tf.constant(count, tf.int32))
        return loss.numpy(), norm.numpy()

    def fixed_loss(self) -> np.ndarray:
        """Each member's loss, without dropout, on its training data: the fixed training set when
        there is one, else one fixed set of boards from the training distribution."""
        tf = self.tf
        exp = self.experiment
        if self.train_boards is not None:
            boards = tf.constant(np.broadcast_to(self.train_boards[None].astype(np.float32),
                                                 (self.k, *self.train_boards.shape)))
            return self.member_losses(boards, self._targets(boards)).numpy()
        keys = tf.constant([exp.eval_seed] * self.k, tf.int64)
        boards = self.boards(tf.constant(-1, tf.int64), keys, LOSS_BOARDS, exp.board_size,
                             exp.density)
        return self.member_losses(boards, self._targets(boards)).numpy()


def _progress_bar(total: int, enabled: bool, label: str):
    if not enabled:
        return None
    import keras

    print(label, file=sys.stderr, flush=True)
    return keras.utils.Progbar(total, unit_name="batch")


def train_members(
    experiment: Experiment,
    seeds: Sequence[int],
    progress: bool = False,
    jit_compile: bool = True,
) -> pd.DataFrame:
    """Train one ensemble holding every seed in ``seeds``; one row per seed (see ROW_COLUMNS)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    began = time.perf_counter()
    trainer = _Trainer(experiment, seeds, jit_compile=jit_compile)
    initial_loss = trainer.fixed_loss()
    loss_curve: list[np.ndarray] = []
    norm_curve: list[np.ndarray] = []
    bar = _progress_bar(
        experiment.batches, progress, f"training {len(seeds)} members: {experiment.describe()}"
    )
    done = 0
    while done < experiment.batches:
        count = min(experiment.record_every, experiment.batches - done)
        loss, norm = trainer.run(done, count)
        loss_curve.append(loss)
        norm_curve.append(norm)
        done += count
        if bar is not None:
            bar.update(done, values=[("loss", float(np.mean(loss)))])
    final_loss = trainer.fixed_loss()
    seconds = time.perf_counter() - began
    rows = _evaluate_rows(experiment, trainer.ensemble, seeds)
    rows["initial_loss"] = initial_loss.astype(float)
    rows["final_loss"] = final_loss.astype(float)
    rows["train_seconds"] = seconds / len(seeds)
    curves_l = np.stack(loss_curve, axis=1) if loss_curve else np.zeros((len(seeds), 0))
    curves_n = np.stack(norm_curve, axis=1) if norm_curve else np.zeros((len(seeds), 0))
    rows["loss_curve"] = list(curves_l.astype(np.float32))
    rows["grad_norm_curve"] = list(curves_n.astype(np.float32))
    rows["weights"] = trainer.ensemble.all_weights()
    return pd.DataFrame({c: rows[c] for c in ROW_COLUMNS})


def _evaluate_rows(experiment: Experiment, ensemble: Ensemble, seeds: list[int]) -> dict:
    """Success, match rate, cell accuracy and truth tables of every member."""
    tests = eval_set(
        experiment.rule,
        experiment.steps,
        experiment.eval_boards,
        experiment.eval_size,
        experiment.eval_density,
        experiment.eval_seed,
    )
    k = len(seeds)
    boards = np.broadcast_to(tests.boards[None], (k, *tests.boards.shape))
    scores = board_scores(np.asarray(ensemble.predict(boards)), tests.targets)
    rows: dict = {"seed": seeds}
    rows.update({name: list(values) for name, values in scores.items()})
    if n_blocks(experiment.steps, experiment.depth) == 1:
        windows = truth_table_windows()
        outputs = np.asarray(ensemble.predict(np.broadcast_to(windows[None], (k, *windows.shape))))
        tables = (outputs[:, :, 1, 1] > 0.5).astype(np.uint8)
        rows["truth_table"] = list(tables)
        rows["table_errors"] = list(truth_table_errors(tables, experiment.rule).astype(int))
    else:
        rows["truth_table"] = [None] * k
        rows["table_errors"] = [-1] * k
    return rows


def train(
    experiment: Experiment,
    seeds: Sequence[int],
    progress: bool = False,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    jit_compile: bool = True,
) -> pd.DataFrame:
    """Train ``experiment`` once per seed, as many members per graph as the budget allows."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    per_graph = members_per_graph(experiment, memory_budget)
    parts = [
        train_members(experiment, seeds[i : i + per_graph], progress, jit_compile)
        for i in range(0, len(seeds), per_graph)
    ]
    return pd.concat(parts, ignore_index=True)
