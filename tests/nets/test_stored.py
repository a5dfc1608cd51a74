"""``Backend.stored`` computes each layer's activations once inside compiled code instead of in
every consumer (a CPU speed measure: README, Speed, stop 41). It must change no value, no
derivative and no trained weight; only the recorded training loss may round differently."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from lifetf.nets import backends
from lifetf.nets.experiment import Experiment
from lifetf.nets.train import forget_compiled_loops, train_members

pytestmark = pytest.mark.usefixtures("no_kept_loops")  # every test starts without kept loops

# a 2-step network trained on its cells, with unrolled 1x1 layers (width 2: a 3x3 layer of
# 4 channels, so its activations are stored) and dropout
ON_CELLS = Experiment(steps=2, width=2, init="normalize", board_size=6, batch_size=16,
                      batches=100, activation="leaky_relu", output="sigmoid", dropout=0.1)
SEEDS = [5, 0, 8]
EXACT = ("success", "initial_loss", "final_loss", "grad_norm_curve", "weights")


def test_stored_keeps_every_bit_and_passes_the_gradient_through():
    backend = backends.current()
    x = np.array([[-0.0, 0.0, 1.5, -2.25, np.inf, 3e-39, np.nan]], np.float32)
    out = np.asarray(ops.convert_to_numpy(backend.compile(backend.stored)(x)))
    np.testing.assert_array_equal(out.view(np.uint32), x.view(np.uint32))
    w = np.array([[0.5, -1.0, 2.0]], np.float32)
    grad = backend.compile(backend.gradient(lambda p: ops.sum(backend.stored(p) ** 2 * w)))
    theta = np.array([[1.0, 2.0, -3.0]], np.float32)
    np.testing.assert_array_equal(ops.convert_to_numpy(grad(theta)), 2 * theta * w)


def test_stored_leaves_eager_tensors_alone():
    """Run eagerly nothing is fused, and on JAX each operation would compile on first use."""
    x = ops.convert_to_tensor(np.array([[1.5, -2.0, 3.0]], np.float32))
    assert backends.current().stored(x) is x


def test_second_derivatives_pass_through_stored():
    backend = backends.current()
    w = np.array([0.5, -1.0, 2.0], np.float32)
    derivatives = backend.derivatives(lambda t: ops.sum(backend.stored(t) ** 3 * w), True)
    theta = np.array([1.0, 2.0, -3.0], np.float32)
    value, grad, hessian = (np.asarray(ops.convert_to_numpy(v)) for v in derivatives(theta))
    np.testing.assert_allclose(value, np.sum(theta**3 * w), rtol=1e-6)
    np.testing.assert_allclose(grad, 3 * theta**2 * w, rtol=1e-6)
    np.testing.assert_allclose(hessian, np.diag(6 * theta * w), rtol=1e-6)


def test_training_with_stored_activations_gives_the_same_weights(monkeypatch,
                                                                 assert_same_rows):
    backend_class = type(backends.current())
    original, calls = backend_class.stored, []

    def counted(self, x):
        calls.append(x)
        return original(self, x)

    monkeypatch.setattr(backend_class, "stored", counted)
    with_store = train_members(ON_CELLS, SEEDS)
    assert calls  # the trainer's graph went through it
    forget_compiled_loops()
    monkeypatch.setattr(backend_class, "stored", lambda self, x: x)
    without = train_members(ON_CELLS, SEEDS)
    assert list(with_store.seed) == SEEDS
    assert_same_rows(with_store, without, EXACT)
    # the training loss each update records is summed by a loop that XLA compiles differently
    # once its inputs come from memory, so it may round differently in its last bits; a point
    # of the curve averages 50 of them (the suite's float tolerance, as in test_ensemble)
    for a, b in zip(with_store.loss_curve, without.loss_curve, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=0)
