"""Training by window: a batch's loss from its 512 window counts equals its mean over cells.

For a one-step target and a network whose output cell sees one 3x3 window, the trainer takes
each member's loss as a count-weighted sum over the 512 windows (``Experiment.by_window``). These
tests check that it is the same function, value and gradient, as the loss over cells.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from lifetf.life.evaluate import truth_table_windows
from lifetf.life.rules import ops_evolve, ops_window_codes
from lifetf.nets.backends import current
from lifetf.nets.experiment import Experiment
from lifetf.nets.train import _Trainer

SEEDS = [0, 1, 2, 3]
CASES = {
    "firner-clamp": Experiment(board_size=8),
    "firner-sigmoid-leaky": Experiment(board_size=8, output="sigmoid", activation="leaky_relu",
                                       width=2),
    "springer-conway-l1": Experiment(rule="conway", arch="springer", output="sigmoid",
                                     board_size=9, width=3, l1=1e-3),
}
FIXED_SET = Experiment(board_size=8, train_set=40)  # by window, on a fixed set of boards


def test_window_codes_follow_the_truth_table_order() -> None:
    windows = truth_table_windows().astype(np.float32)
    codes = ops.convert_to_numpy(ops_window_codes(ops.convert_to_tensor(windows)))
    assert (codes[:, 1, 1] == np.arange(512)).all()


def test_window_codes_match_a_numpy_count() -> None:
    boards = (np.random.default_rng(3).random((5, 7, 6)) < 0.5).astype(np.float32)
    padded = np.pad(boards, ((0, 0), (1, 1), (1, 1)))
    expected = np.zeros(boards.shape, np.int64)
    for j in range(9):
        dy, dx = divmod(j, 3)
        expected += padded[:, dy:dy + 7, dx:dx + 6].astype(np.int64) << j
    got = ops.convert_to_numpy(ops_window_codes(ops.convert_to_tensor(boards)))
    np.testing.assert_array_equal(got, expected)


def test_the_backend_counts_ids_as_numpy_does() -> None:
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 3 * 512, size=(6, 2048)).astype(np.int32)
    ids[0] = 511  # one id many times
    counts = ops.convert_to_numpy(current().count_ids(ops.convert_to_tensor(ids), 4 * 512))
    assert counts.shape == (4 * 512,) and counts.dtype == np.float32
    np.testing.assert_array_equal(counts, np.bincount(ids.ravel(), minlength=4 * 512))
    assert not counts[3 * 512:].any()  # ids never drawn stay at zero


@pytest.mark.parametrize("experiment", [CASES["firner-clamp"], FIXED_SET],
                         ids=["fresh boards", "fixed set"])
def test_the_trainer_counts_each_batch_of_each_member_apart(experiment: Experiment,
                                                             monkeypatch) -> None:
    assert experiment.by_window
    trainer = _Trainer(experiment, SEEDS)
    start = 7 * experiment.record_every
    inputs = trainer.chunk_inputs(start)
    ids = trainer._prepare(ops.convert_to_tensor(np.int32(start)), *inputs)[0]
    (counts,) = trainer.tally(ids)
    ids = ops.convert_to_numpy(ids)
    # the other data step (batch by batch, or the chunk at once) gives the same ids
    monkeypatch.setattr(type(current()), "data_by_batch", not current().data_by_batch)
    again = trainer.window_ids(ops.convert_to_tensor(np.int32(start)), *inputs)
    np.testing.assert_array_equal(ops.convert_to_numpy(again), ids)
    steps, members = ids.shape[:2]
    rows = (np.arange(steps)[:, None] * members + np.arange(members))[..., None]  # s K + k
    np.testing.assert_array_equal(ids // 512, np.broadcast_to(rows, ids.shape))
    # the codes are those of the boards the chunk draws (or gathers), batch by batch
    boards = ops.convert_to_numpy(trainer.chunk_boards(ops.convert_to_tensor(np.int32(start)),
                                                       *inputs))
    codes = ops.convert_to_numpy(ops_window_codes(ops.convert_to_tensor(boards)))
    np.testing.assert_array_equal(ids % 512, codes.reshape(steps, members, -1))
    assert counts.shape == (steps, members, 512)
    for s, k in [(0, 0), (0, 3), (steps - 1, 2)]:
        np.testing.assert_array_equal(ops.convert_to_numpy(counts[s, k]),
                                      np.bincount(ids[s, k] % 512, minlength=512))


@pytest.mark.parametrize("name", sorted(CASES))
def test_window_loss_and_gradient_equal_the_cell_loss(name: str) -> None:
    experiment = CASES[name]
    assert experiment.by_window
    trainer = _Trainer(experiment, SEEDS)
    start = ops.convert_to_tensor(np.int32(0))
    inputs = trainer.chunk_inputs(0)
    (counts,) = trainer.tally(*trainer._prepare(start, *inputs))
    boards = trainer.chunk_boards(start, *inputs)[0]
    targets = ops_evolve(boards, experiment.rule, 1, experiment.torus)
    rng = np.random.default_rng(11)
    params = [ops.convert_to_tensor(w + rng.normal(0, 0.3, w.shape).astype(np.float32))
              for w in trainer.loop.weights()]
    backend = current()
    by_cell = ops.convert_to_numpy(trainer.losses(params, boards, targets))
    by_window = ops.convert_to_numpy(trainer.window_losses(params, counts[0]))
    np.testing.assert_allclose(by_window, by_cell, rtol=2e-6)
    grad_cell = backend.gradient(lambda p: ops.sum(trainer.losses(p, boards, targets)))(params)
    grad_window = backend.gradient(lambda p: ops.sum(trainer.window_losses(p, counts[0])))(params)
    for a, b in zip(grad_window, grad_cell, strict=True):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b),
                                   rtol=1e-4, atol=1e-6)


def test_small_batches_deeper_targets_and_tori_keep_the_cells() -> None:
    assert Experiment(init="normalize", width=5).by_window  # one block: no dropout
    assert not Experiment(board_size=8, batch_size=8).by_window  # 512 cells
    assert not Experiment(steps=2).by_window
    assert not Experiment(steps=2, depth=0.5).by_window  # one block, 2-step target
    assert not Experiment(torus=True).by_window  # wrapped target, zero-padded input


def test_a_deeper_network_refuses_windows() -> None:
    trainer = _Trainer(Experiment(steps=2, batches=0), SEEDS)
    with pytest.raises(ValueError, match="one 3x3 window"):
        trainer.ensemble.apply_windows(trainer.loop.weights(), np.zeros((1, 9, 512), np.float32))


@pytest.mark.parametrize("case", sorted(CASES))
def test_windows_every_member_reads_give_what_a_copy_per_member_gives(case: str) -> None:
    """(1, 9, 512) windows take one plain product for all members; a (K, 9, 512) copy takes
    the batched one. Same values and weight gradients."""
    experiment = CASES[case]
    trainer = _Trainer(experiment, SEEDS)
    params = [ops.convert_to_tensor(w) for w in trainer.loop.weights()]
    shared = trainer.windows
    copied = np.repeat(shared, len(SEEDS), axis=0)

    def total(p, windows):
        return ops.sum(ops.square(trainer.ensemble.apply_windows(p, windows)))

    for windows in (shared, copied):
        assert trainer.ensemble.apply_windows(params, windows).shape == (len(SEEDS), 512)
    np.testing.assert_allclose(ops.convert_to_numpy(total(params, shared)),
                               ops.convert_to_numpy(total(params, copied)), rtol=1e-6)
    gradient = current().gradient
    for got, want in zip(gradient(lambda p: total(p, shared))(params),
                         gradient(lambda p: total(p, copied))(params), strict=True):
        np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(want),
                                   rtol=1e-5, atol=1e-6)
