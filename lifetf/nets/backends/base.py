"""The interface every Keras backend implements for lifetf: what training needs beyond keras.ops.

A loss is written once in ``keras.ops`` as ``member_losses(params, step, offset, *inputs)``:
``params`` is the list of parameter tensors (each with a leading member axis of size K),
``step`` the global update number (an int32 scalar: it keys the random streams), ``offset``
the update's position within the running chunk, and the result each member's loss, shape (K,).
The total that is differentiated is the sum over members; with an element-wise optimiser such
as Adam each member follows the path it would follow alone.

An optional ``prepare(start, *inputs)`` runs once per chunk, inside the compiled function and
before its loop: it draws the chunk's boards and masks, which the updates then read as
``prepared`` tensors. (Drawn inside the loop body, XLA would copy the generator into every
consumer of the boards.)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

MemberLosses = Callable[..., object]  # (params, step, offset, *prepared) -> (K,) losses
Prepare = Callable[..., tuple]  # (start, *inputs) -> the tensors every update of a chunk reads
# (*prepared) -> the tensors the updates read, from prepare's: a step with the backend's own
# kernels, run between prepare and the updates (counting the windows: XLA's CPU scatter is slow)
Tally = Callable[..., tuple]


class BackendError(RuntimeError):
    """A backend that cannot be used as asked (unknown, not installed, imported too late)."""


@dataclass(frozen=True)
class DeviceInfo:
    """What a backend computes on: 'cpu' or 'gpu', and a readable name."""

    platform: str
    name: str


def member_norms(grads: Sequence) -> object:
    """Each member's gradient norm (K,) over all parameter tensors (leading member axis)."""
    from keras import ops

    squares = [ops.sum(ops.reshape(ops.square(g), (ops.shape(g)[0], -1)), axis=1) for g in grads]
    total = squares[0]
    for extra in squares[1:]:
        total = total + extra
    return ops.sqrt(total)


class FlatParams:
    """Parameter tensors with a leading member axis, held as one (K, P) matrix.

    The loops train the matrix, so each update is one optimiser step on one tensor instead of
    one per layer (with dozens of small tensors the per-kernel cost of the updates dominated);
    the losses still see the list of tensors. Element-wise optimisers give the same updates.
    """

    def __init__(self, params: Sequence[np.ndarray]):
        self.shapes = [tuple(np.shape(p)) for p in params]
        self.members = self.shapes[0][0]
        self.sizes = [int(np.prod(shape[1:])) for shape in self.shapes]

    def flatten(self, params: Sequence[np.ndarray]) -> np.ndarray:
        """The (K, P) float32 matrix of numpy parameters."""
        return np.concatenate([np.reshape(p, (self.members, -1)) for p in params],
                              axis=1).astype(np.float32)

    def unflatten(self, flat) -> list:
        """The parameter tensors of a (K, P) tensor (slices of it, any backend or numpy)."""
        from keras import ops

        parts, start = [], 0
        for shape, size in zip(self.shapes, self.sizes, strict=True):
            part = flat[:, start:start + size]
            parts.append(np.reshape(part, shape) if isinstance(flat, np.ndarray)
                         else ops.reshape(part, shape))
            start += size
        return parts


class OptimizerLoop(ABC):
    """Parameters trained by a Keras optimiser, one compiled chunk of updates per :meth:`run`."""

    @abstractmethod
    def run(self, start: int, count: int, *inputs) -> tuple[np.ndarray, np.ndarray]:
        """Apply ``count`` updates numbered start..start+count-1.

        Returns each member's summed loss and summed gradient norm over those updates, (K,)
        each, as numpy arrays. ``inputs`` are tensors every update of the chunk may read.
        """

    @abstractmethod
    def weights(self) -> list[np.ndarray]:
        """The current parameters as numpy arrays, in the order given."""

    @abstractmethod
    def restart(self, params: Sequence[np.ndarray]) -> None:
        """Start again from ``params`` (shaped as the first ones) with the optimiser's state as
        it was before the first update, keeping the compiled chunk."""


class Backend(ABC):
    """Compilation, loops, gradients and devices of one Keras backend."""

    name: str

    @abstractmethod
    def configure(self, allow_tf32: bool) -> None:
        """Full float32 matrix products (unless ``allow_tf32``) and deterministic kernels."""

    @abstractmethod
    def optimizer_loop(
        self, params: Sequence[np.ndarray], optimizer, member_losses: MemberLosses,
        prepare: Prepare | None = None, tally: Tally | None = None,
    ) -> OptimizerLoop:
        """A loop training ``params`` (float32, leading member axis) with ``optimizer``; each
        chunk's ``prepare`` (compiled), then ``tally`` of its tensors, feed the updates."""

    # whether the compiled data step of training by window loops over a chunk's batches
    # (keeping one batch's intermediates in cache) instead of taking the chunk at once
    data_by_batch: bool = False

    @abstractmethod
    def count_ids(self, ids, size: int):
        """int32 ids in [0, size), any shape -> (size,) float32: how often each occurs."""

    def stored(self, x):
        """``x`` unchanged, bit for bit and in its gradient, but computed once into memory
        inside compiled code, where the compiler would otherwise recompute it in every consumer
        (the backends say where that pays). Here: ``x`` itself."""
        return x

    @abstractmethod
    def compile(self, fn: Callable) -> Callable:
        """``fn`` (tensors in, tensors out) compiled with XLA."""

    def evaluator(self, fn: Callable) -> Callable:
        """``fn`` (tensors in, tensors out) as this backend best runs a computation called a
        few times outside the training loop (the members' fixed-set losses and predictions).
        Here: ``fn`` itself, whose operations run eagerly at once."""
        return fn

    @abstractmethod
    def gradient(self, fn: Callable) -> Callable:
        """params -> gradients of the scalar ``fn(params)``; differentiable again (nestable)."""

    @abstractmethod
    def derivatives(self, fn: Callable, hessian: bool) -> Callable:
        """(theta, *args) -> (value, gradient[, Hessian]) of a scalar ``fn`` of a 1-D theta."""

    @abstractmethod
    def float64(self) -> AbstractContextManager:
        """A scope in which float64 tensors really are float64 (JAX needs x64 switched on)."""

    @abstractmethod
    def device(self) -> DeviceInfo:
        """The device computations run on by default."""

    @abstractmethod
    def versions(self) -> dict[str, str]:
        """Versions of Keras and of this backend's framework."""
