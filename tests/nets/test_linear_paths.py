"""The two paths of a 1x1 layer's linear map compute the same function; the bench that chose the
unroll limit times both."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from lifetf.nets import ensemble
from lifetf.nets.backends import current
from lifetf.nets.ensemble import member_linear
from lifetf.nets.experiment import Experiment
from lifetf.nets.linear_paths import (
    LINEAR_WORKLOADS,
    compare,
    near_limit_entries,
    unroll_limit,
)


@pytest.mark.parametrize(("n_in", "n_out"), [(6, 3), (20, 1), (4, 2)])
def test_unrolled_and_product_paths_agree_with_their_gradients(n_in: int, n_out: int) -> None:
    rng = np.random.default_rng(3)
    x = ops.convert_to_tensor(rng.standard_normal((5, n_in, 300)).astype(np.float32))
    kernel = ops.convert_to_tensor(rng.standard_normal((5, n_in, n_out)).astype(np.float32))
    bias = ops.convert_to_tensor(rng.standard_normal((5, n_out)).astype(np.float32))
    weights = ops.convert_to_tensor(rng.standard_normal((5, n_out, 300)).astype(np.float32))

    def loss(unroll: bool):
        return lambda p: ops.sum(member_linear(p[0], p[1], p[2], unroll) * weights)

    outputs = [ops.convert_to_numpy(member_linear(x, kernel, bias, unroll))
               for unroll in (True, False)]
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
    grads = [current().gradient(loss(unroll))([x, kernel, bias]) for unroll in (True, False)]
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b),
                                   rtol=1e-4, atol=1e-4)


def test_the_benched_workloads_straddle_the_limit() -> None:
    """Each benched network's widest small 1x1 layer is above the limit (a product now) and
    was unrolled under the previous limit of 24 entries."""
    for experiment, _ in LINEAR_WORKLOADS.values():
        assert ensemble.UNROLL_LIMIT < near_limit_entries(experiment) <= 24
    assert near_limit_entries(Experiment(width=2)) == 8 <= ensemble.UNROLL_LIMIT
    with pytest.raises(ValueError, match="no 1x1 layer of at most 24 entries"):
        near_limit_entries(Experiment(width=30))


def test_the_limit_is_restored_even_after_an_error() -> None:
    before = ensemble.UNROLL_LIMIT
    with pytest.raises(RuntimeError), unroll_limit(3):
        assert ensemble.UNROLL_LIMIT == 3
        raise RuntimeError("inside")
    assert ensemble.UNROLL_LIMIT == before


def test_compare_times_both_paths_in_pairs() -> None:
    tiny = Experiment(board_size=6, batch_size=4, batches=20, record_every=5, width=3)
    times = compare("tiny", tiny, members=2, pairs=2, chunks=1)
    assert times.entries == 18 and times.members == 2
    assert len(times.unrolled_ms) == len(times.product_ms) == len(times.ratios()) == 2
    assert min(times.unrolled_ms + times.product_ms) > 0
