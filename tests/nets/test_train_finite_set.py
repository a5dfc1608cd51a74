"""Training on a fixed finite set: epochs, per-member order, independence from the ensemble."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.nets.experiment import Experiment
from lifetf.nets.train import _Trainer, epoch_order, train_members, training_set

FINITE = Experiment(board_size=6, width=2, output="sigmoid", activation="leaky_relu",
                    train_set=12, batch_size=4, batches=60, record_every=10)


def test_training_set_depends_on_its_seed_only() -> None:
    same = training_set(FINITE.replace(batch_size=12, width=1))
    assert np.array_equal(training_set(FINITE), same)
    assert not np.array_equal(training_set(FINITE), training_set(FINITE.replace(train_set_seed=1)))
    with pytest.raises(ValueError, match="train_set = 0"):
        training_set(Experiment())


def test_every_epoch_visits_each_board_once() -> None:
    trainer = _Trainer(FINITE, [5, 9])
    boards = training_set(FINITE).astype(np.float32)
    chunk = boards[trainer.set_chunk_index(0)]  # 10 batches of 4 = 3 epochs and a third
    for k, seed in enumerate((5, 9)):
        seen = chunk[:, k].reshape(-1, 6, 6)
        for epoch in range(3):
            got = seen[epoch * 12 : (epoch + 1) * 12]
            assert np.array_equal(got, boards[epoch_order(FINITE, seed, epoch)])
    assert not np.array_equal(chunk[:, 0], chunk[:, 1])  # each member has its own order


def test_later_chunks_continue_the_epochs() -> None:
    trainer = _Trainer(FINITE, [5])
    boards = training_set(FINITE).astype(np.float32)
    first, second = boards[trainer.set_chunk_index(0)], boards[trainer.set_chunk_index(10)]
    stream = np.concatenate([first[:, 0], second[:, 0]]).reshape(-1, 6, 6)
    order = np.concatenate([epoch_order(FINITE, 5, e) for e in range(7)])[: len(stream)]
    assert np.array_equal(stream, boards[order])


def test_member_on_a_finite_set_trains_as_if_alone() -> None:
    together = train_members(FINITE, [3, 4, 5, 6])
    alone = train_members(FINITE, [5])
    for a, b in zip(together.weights[2], alone.weights[0], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # full batch: every update sees the whole set, so the final loss is on the training set
    full = train_members(FINITE.replace(batch_size=12), [3])
    assert full.final_loss[0] < full.initial_loss[0]
