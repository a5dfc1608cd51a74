"""Training many independent networks at once: one compiled chunk of updates for all members.

Each member k has its own seed s_k: its initial weights come from s_k alone (numpy, PCG64),
and at batch t it draws its boards and dropout masks from the counter-based generator of
:mod:`lifetf.seeding` keyed by (s_k, purpose, data stream) with counter t, inside the compiled
step. The loss is the sum of the members' mean losses and Adam is element-wise, so member k
follows the path it would follow if trained alone, whatever K is, whichever members train
beside it and whichever Keras backend (TensorFlow or JAX) runs it. One-step networks whose
output sees one 3x3 window take each batch's loss from how often each of the 512 windows occurs
in it (:attr:`Experiment.by_window`): the same function, for far fewer evaluations.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lifetf import seeding
from lifetf.life.evaluate import board_scores, eval_set, truth_table_errors, truth_table_windows
from lifetf.life.rules import next_centre, ops_evolve, ops_window_codes
from lifetf.nets.backends import current
from lifetf.nets.costs import DEFAULT_MEMORY_BUDGET, members_per_graph
from lifetf.nets.experiment import WINDOWS, Experiment
from lifetf.nets.models import hand_built_weights, seeded_initial_weights
from lifetf.nets.trial_rows import ROW_COLUMNS

if TYPE_CHECKING:  # Keras is imported when the first ensemble is built, not with this module
    from lifetf.nets.backends.base import OptimizerLoop
    from lifetf.nets.ensemble import Ensemble

LOSS_BOARDS = 256  # fixed boards of the training distribution on which initial/final loss is taken
# finished trainers' compiled loops kept for the next trainer of the same graph: enough for the
# success sweep's 12 graphs and the later experiments that share them (LAND-BARRIERS' hand-built
# starts, GOL-CORNERS), which a smaller cache had evicted
KEPT_LOOPS = 32

# compiled loops of finished trainers, by (backend, graph signature, members, unroll limit),
# oldest first
_idle_loops: OrderedDict[tuple, OptimizerLoop] = OrderedDict()


def forget_compiled_loops() -> None:
    """Drop the compiled loops kept for reuse, so that the next trainer traces and compiles its
    own (the benchmarks time that, and the tests compare reused loops with fresh ones)."""
    _idle_loops.clear()


def training_set(experiment: Experiment) -> np.ndarray:
    """The fixed finite training set (N, H, W) of an experiment with ``train_set`` = N > 0.

    It depends on ``train_set_seed`` alone, so every seed (and every batch size) sees the same set.
    """
    if not experiment.train_set:
        raise ValueError("Experiment.train_set = 0 draws fresh boards; it has no fixed set")
    size = experiment.board_size
    keys = seeding.stream_keys([experiment.train_set_seed], seeding.TRAIN_SET)
    boards = seeding.bernoulli(keys, np.zeros(1), (experiment.train_set, size, size),
                               experiment.density, xp=np)[0, 0]
    return boards.astype(np.uint8)


def loss_boards(experiment: Experiment) -> np.ndarray:
    """The LOSS_BOARDS fixed boards (float32) of the training distribution, shared by members."""
    size = experiment.board_size
    keys = seeding.stream_keys([experiment.eval_seed], seeding.LOSS_BOARDS)
    return seeding.bernoulli(keys, np.zeros(1), (LOSS_BOARDS, size, size), experiment.density,
                             xp=np)[0, 0]


def epoch_order(experiment: Experiment, seed: int, epoch: int) -> np.ndarray:
    """Member ``seed``'s order of the fixed training set in ``epoch`` (its own stream)."""
    return seeding.permutation(seed, seeding.SHUFFLE, epoch, experiment.train_set,
                               experiment.data_stream)


def starting_weights(experiment: Experiment, seed: int) -> list[np.ndarray]:
    """Member ``seed``'s starting weights: random from its own seed, or hand-built with flips."""
    if experiment.start == "random":
        return seeded_initial_weights(experiment.layers, experiment.init, seed)
    weights = hand_built_weights(
        experiment.arch, experiment.rule, experiment.steps, experiment.width, experiment.output
    )
    if experiment.sign_flips:
        # flip among the nonzero parameters: the sign of a zero weight means nothing
        sizes = [w.size for w in weights]
        flat = np.concatenate([w.ravel() for w in weights])
        nonzero = np.flatnonzero(flat)
        if experiment.sign_flips > len(nonzero):
            raise ValueError(f"Experiment.sign_flips = {experiment.sign_flips} exceeds the "
                             f"{len(nonzero)} nonzero hand-built weights")
        chosen = seeding.choose(seed, seeding.FLIPS, nonzero, experiment.sign_flips)
        flat[chosen] = -flat[chosen]
        weights = [part.reshape(w.shape) for part, w in zip(
            np.split(flat, np.cumsum(sizes)[:-1]), weights, strict=True)]
    return weights


def make_optimizer(experiment: Experiment):
    """The experiment's Keras optimiser (Adam with PyTorch's epsilon, or plain SGD)."""
    import keras

    if experiment.optimizer == "adam":
        # epsilon 1e-8 as in PyTorch's Adam, which the original experiments used
        return keras.optimizers.Adam(learning_rate=experiment.learning_rate, epsilon=1e-8)
    return keras.optimizers.SGD(learning_rate=experiment.learning_rate)


BCE_EPSILON = 1e-7  # outputs are clipped to [eps, 1 - eps] before the log, as Keras does


def cell_losses(output: str, targets, logits, activate):
    """Per-cell binary cross-entropy of 0/1 ``targets`` (from logits for a sigmoid output).

    Written out for 0/1 targets, so each cell costs one log (and one exp from logits): with a
    sigmoid, softplus(-s z) = relu(-s z) + log(1 + exp(-|z|)) with s = 2 y - 1; with the clamp,
    -log of the clipped probability given to the true state. The same function as Keras'
    binary cross-entropy on such targets, at a fraction of its cost on the CPU.
    """
    from keras import ops

    alive = targets > 0.5
    if output == "sigmoid":
        signed = ops.where(alive, -logits, logits)
        return ops.maximum(signed, 0.0) + ops.log(1.0 + ops.exp(-ops.abs(logits)))
    outputs = ops.clip(activate(logits), BCE_EPSILON, 1.0 - BCE_EPSILON)
    return -ops.log(ops.where(alive, outputs, 1.0 - outputs))


class _Trainer:
    """One ensemble of members of one experiment, trained on the current Keras backend.

    Everything its compiled loop reads that is not part of the experiment's
    :attr:`~Experiment.graph_signature` (the members' keys, the boards' density threshold, a
    fixed set and its positions)
    reaches the loop as inputs of each chunk (:meth:`chunk_inputs`), never as constants. So with
    ``reuse``, a trainer whose (signature, members) match a finished one's takes over that
    loop, restarted from its own weights, and traces and compiles nothing; the loop computes
    what a fresh one would, bit for bit.
    """

    def __init__(self, experiment: Experiment, seeds: Sequence[int], reuse: bool = False):
        self.experiment = experiment
        self.seeds = [int(s) for s in seeds]
        self.k = len(self.seeds)
        from lifetf.nets import ensemble as ensemble_module
        from lifetf.nets.ensemble import Ensemble, truth_table_inputs

        self.ensemble = Ensemble(experiment.layers, experiment.output, self.k)
        starts = [starting_weights(experiment, s) for s in self.seeds]
        stacked = [np.stack([w[j] for w in starts]).astype(np.float32)
                   for j in range(len(starts[0]))]
        self.data_keys = seeding.stream_keys(self.seeds, seeding.DATA, experiment.data_stream)
        # the fresh boards' density, as an input of the loop rather than a constant in it
        self.density_threshold = np.asarray(seeding.bernoulli_threshold(experiment.density))
        self.dropout_keys = {
            i: seeding.stream_keys(self.seeds, seeding.DROPOUT, experiment.data_stream, i)
            for i in self.ensemble.dropout_layers
        }
        self.train_boards = (training_set(experiment).astype(np.float32)
                             if experiment.train_set else None)
        self.shuffle_keys = seeding.stream_keys(self.seeds, seeding.SHUFFLE,
                                                experiment.data_stream)
        self.by_window = experiment.by_window
        if self.by_window:
            windows = truth_table_windows()
            self.windows = truth_table_inputs()  # (1, 9, P)
            self.window_targets = next_centre(windows, experiment.rule)[None].astype(np.float32)
        if self.by_window and experiment.record_every * self.k * WINDOWS > np.iinfo(np.int32).max:
            raise ValueError(f"{self.k} members x {experiment.record_every} batches per chunk "
                             f"is too many to number their windows in int32: train fewer "
                             f"members per graph")
        self.tally = self._count_windows if self.by_window else None
        # fixed_loss's computation: one function for both its calls (one compile on JAX)
        self._fixed_losses = current().evaluator(self._losses_after_evolving)
        # what the trace reads besides the experiment: the backend, the members and the 1x1
        # layers' unroll limit (which the linear-paths bench varies)
        self.reuse_key = ((current().name, experiment.graph_signature, self.k,
                           ensemble_module.UNROLL_LIMIT) if reuse else None)
        self.loop = _idle_loops.pop(self.reuse_key, None) if reuse else None
        if self.loop is not None:
            self.loop.restart(stacked)
        else:
            self.loop = current().optimizer_loop(stacked, make_optimizer(experiment),
                                                 self._member_losses, self._prepare, self.tally)

    # -- data and loss ----------------------------------------------------------------------

    def losses(self, params, boards, targets, masks=None):
        """Each member's mean binary cross-entropy (K,), plus its L1 penalty if any."""
        from keras import ops

        logits = self.ensemble.apply(params, boards, masks)
        cells = cell_losses(self.experiment.output, targets, logits, self.ensemble.activate)
        return self._penalised(params, ops.mean(cells, axis=(1, 2, 3)))

    def window_losses(self, params, counts):
        """The same losses as :meth:`losses` from each member's window counts (K, 512) of a
        batch (networks trained :attr:`by window <Experiment.by_window>`)."""
        from keras import ops

        exp = self.experiment
        logits = self.ensemble.apply_windows(params, self.windows)
        cells = cell_losses(exp.output, self.window_targets, logits, self.ensemble.activate)
        total = ops.sum(cells * counts, axis=1)
        return self._penalised(params, total / float(exp.cells_per_batch))

    def _penalised(self, params, losses):
        """``losses`` plus each member's L1 penalty on its kernels, if the experiment has one."""
        from keras import ops

        if self.experiment.l1:
            penalty = None
            for kernel in params[0::2]:
                term = ops.sum(ops.abs(kernel), axis=(1, 2, 3, 4))
                penalty = term if penalty is None else penalty + term
            losses = losses + self.experiment.l1 * penalty
        return losses

    def _counters(self, start):
        """The global batch numbers of the chunk from ``start``: the counters of its draws."""
        from keras import ops

        return ops.arange(self.experiment.record_every, dtype="int32") + start

    def chunk_inputs(self, start: int) -> tuple:
        """What the compiled chunk from ``start`` reads besides the weights: the members' data
        keys, the fresh boards' density threshold, their dropout keys (one array per dropout
        layer) and, with a fixed set, the set and the chunk's positions in it
        (:meth:`set_chunk_index`)."""
        keys = (self.data_keys, self.density_threshold, *self.dropout_keys.values())
        if self.train_boards is None:
            return keys
        return (*keys, self.train_boards, self.set_chunk_index(start))

    def chunk_boards(self, start, data_keys, threshold, *set_inputs):
        """The boards (S, K, B, H, W) of one chunk (record_every updates from ``start``): drawn
        per member from its stream (``data_keys``) with the global batch numbers as counters
        and the density's ``threshold``, or gathered from the fixed set (``set_inputs``: the set
        and the positions)."""
        from keras import ops

        if self.train_boards is None:
            return self._fresh_boards(data_keys, threshold, self._counters(start))
        set_boards, index = set_inputs
        return ops.take(set_boards, index, axis=0)

    def _fresh_boards(self, data_keys, threshold, counters):
        """(len(counters), K, B, H, W) boards drawn per member from its data stream at the
        given global batch numbers, live where a draw falls below ``threshold``."""
        exp = self.experiment
        shape = (exp.batch_size, exp.board_size, exp.board_size)
        return seeding.bernoulli_below(data_keys, counters, shape, threshold)

    def _prepare(self, start, *inputs) -> tuple:
        """What the updates of one chunk read, from :meth:`chunk_inputs`: boards, targets and
        dropout masks, or (training by window) each cell's window id (:meth:`window_ids`),
        which :meth:`_count_windows` turns into each batch's window counts.

        Masks are (S, K, C, B, 1, 1), scaled by 1/(1-p).
        """
        exp = self.experiment
        data_keys, threshold, *rest = inputs
        dropout_keys, set_inputs = rest[:len(self.dropout_keys)], rest[len(self.dropout_keys):]
        if self.by_window:
            return (self.window_ids(start, data_keys, threshold, *set_inputs),)
        boards = self.chunk_boards(start, data_keys, threshold, *set_inputs)
        targets = ops_evolve(boards, exp.rule, exp.steps, exp.torus)
        counters, masks = self._counters(start), []
        for i, keys in zip(self.dropout_keys, dropout_keys, strict=True):
            spec = exp.layers[i]
            keep = seeding.bernoulli(keys, counters, (spec.cout, exp.batch_size, 1, 1),
                                     1.0 - spec.dropout)
            masks.append(keep * (1.0 / (1.0 - spec.dropout)))
        return (boards, targets, *masks)

    def window_ids(self, start, data_keys, threshold, *set_inputs):
        """(S, K, cells) int32: each cell's 3x3 window code (0..511) plus 512 (s K + k) for
        batch s of member k, so that one flat count of the chunk's ids holds every batch's and
        member's window counts apart, in order (the offsets are added in the compiled step,
        where they cost nothing; outside it they took 0.4 ms per Firner batch).

        Where the backend says so (:attr:`Backend.data_by_batch`: JAX on the CPU), fresh boards
        are drawn and coded batch by batch in a compiled loop. Same boards, same ids.
        """
        from keras import ops

        exp = self.experiment
        cells = exp.cells_per_batch
        members = ops.reshape(ops.arange(self.k, dtype="int32") * WINDOWS, (1, self.k, 1))

        def ids(boards, first_batch):
            codes = ops.reshape(ops_window_codes(boards), (-1, self.k, cells))
            batches = ops.arange(codes.shape[0], dtype="int32") + first_batch
            return codes + ops.reshape(batches * (self.k * WINDOWS), (-1, 1, 1)) + members

        if self.train_boards is not None or not current().data_by_batch:
            return ids(self.chunk_boards(start, data_keys, threshold, *set_inputs), 0)

        def one_batch(i, chunk):
            boards = self._fresh_boards(data_keys, threshold, ops.reshape(start + i, (1,)))
            return ops.slice_update(chunk, (i, 0, 0), ids(boards, i))

        empty = ops.zeros((exp.record_every, self.k, cells), "int32")
        return ops.fori_loop(0, exp.record_every, one_batch, empty)

    def _count_windows(self, ids) -> tuple:
        """(S, K, cells) window ids -> ((S, K, 512) float32 counts,): how often each 3x3
        window occurs in each (S, K) batch (the tally between prepare and the updates)."""
        from keras import ops

        steps = ids.shape[0]
        counts = current().count_ids(ops.reshape(ids, (-1,)), steps * self.k * WINDOWS)
        return (ops.reshape(counts, (steps, self.k, WINDOWS)),)

    def _member_losses(self, params, step, offset, *prepared):
        """The loss of one update, on its slice of the chunk's boards and masks (or of its
        window counts, when training by window)."""
        if self.by_window:
            (counts,) = prepared
            return self.window_losses(params, counts[offset])
        boards, targets, *masks = prepared
        chosen = {i: m[offset] for i, m in zip(self.dropout_keys, masks, strict=True)}
        return self.losses(params, boards[offset], targets[offset], chosen)

    def set_chunk_index(self, start: int) -> np.ndarray:
        """Fixed-set positions of batches start..start+record_every-1, (steps, K, B) int32.

        Batch t holds positions t*B .. t*B+B-1 of the member's endless sequence of epochs, each
        epoch one pass over the set in the member's own order for that epoch.
        """
        exp = self.experiment
        n, b = exp.train_set, exp.batch_size
        positions = (start + np.arange(exp.record_every))[:, None] * b + np.arange(b)[None]
        epochs, within = np.divmod(positions, n)
        first = int(epochs.min())
        orders = seeding.permutations(self.shuffle_keys, np.arange(first, epochs.max() + 1), n)
        # orders[e - first, k] is member k's order in epoch e; pick position `within` of it
        index = orders[epochs - first, :, within]  # (steps, B, K)
        return np.ascontiguousarray(np.swapaxes(index, 1, 2)).astype(np.int32)

    # -- training ---------------------------------------------------------------------------

    def run(self, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Train batches start..start+count-1 (start a multiple of record_every, count <= it);
        returns each member's mean loss and mean gradient norm over them."""
        every = self.experiment.record_every
        if start % every or not 0 < count <= every:
            raise ValueError(f"a chunk starts at a multiple of {every} and holds 1..{every} "
                             f"batches, got start={start}, count={count}")
        loss, norm = self.loop.run(start, count, *self.chunk_inputs(start))
        return loss / count, norm / count

    def fixed_loss(self) -> np.ndarray:
        """Each member's loss, without dropout, on its training data: the fixed training set when
        there is one, else LOSS_BOARDS fixed boards of the training distribution."""
        from keras import ops

        exp = self.experiment
        shared = self.train_boards if self.train_boards is not None else loss_boards(exp)
        boards = np.broadcast_to(shared[None], (self.k, *shared.shape))
        losses = self._fixed_losses(self.loop.weights(), ops.convert_to_tensor(boards))
        return np.asarray(ops.convert_to_numpy(losses))

    def _losses_after_evolving(self, params, boards):
        """:meth:`losses` of ``boards`` against the rule's evolution of them."""
        exp = self.experiment
        return self.losses(params, boards, ops_evolve(boards, exp.rule, exp.steps, exp.torus))

    def finish(self) -> Ensemble:
        """The ensemble holding the trained weights; with ``reuse``, the compiled loop is kept
        (the last :data:`KEPT_LOOPS`) for the next trainer of the same graph."""
        self.ensemble.set_stacked_weights(self.loop.weights())
        if self.reuse_key is not None:
            _idle_loops[self.reuse_key] = self.loop
            _idle_loops.move_to_end(self.reuse_key)
            while len(_idle_loops) > KEPT_LOOPS:
                _idle_loops.popitem(last=False)
        return self.ensemble


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
) -> pd.DataFrame:
    """Train one ensemble holding every seed in ``seeds``; one row per seed (see ROW_COLUMNS)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    began = time.perf_counter()
    trainer = _Trainer(experiment, seeds, reuse=True)
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
    rows = _evaluate_rows(experiment, trainer.finish(), seeds)
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
    from keras import ops

    tests = eval_set(
        experiment.rule,
        experiment.steps,
        experiment.eval_boards,
        experiment.eval_size,
        experiment.eval_density,
        experiment.eval_seed,
    )
    k = len(seeds)
    params = [variable.value for variable in ensemble.trainable_variables]
    outputs_of = current().evaluator(lambda params, boards: ensemble.activate(
        ensemble.apply(params, boards)))  # the members' predict, from their trained weights

    def predict(boards: np.ndarray) -> np.ndarray:
        return ops.convert_to_numpy(outputs_of(params, ops.convert_to_tensor(boards)))

    boards = np.broadcast_to(tests.boards[None], (k, *tests.boards.shape))
    scores = board_scores(predict(boards), tests.targets)
    rows: dict = {"seed": seeds}
    rows.update({name: list(values) for name, values in scores.items()})
    if experiment.blocks == 1:
        windows = truth_table_windows()
        outputs = predict(np.broadcast_to(windows[None], (k, *windows.shape)))
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
) -> pd.DataFrame:
    """Train ``experiment`` once per seed, as many members per graph as the budget allows."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    per_graph = members_per_graph(experiment, memory_budget)
    parts = [
        train_members(experiment, seeds[i : i + per_graph], progress)
        for i in range(0, len(seeds), per_graph)
    ]
    return pd.concat(parts, ignore_index=True)
