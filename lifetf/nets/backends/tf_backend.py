"""The TensorFlow backend: ``tf.function`` with XLA, a ``while_loop`` over a chunk of updates,
``GradientTape`` gradients and the Keras optimiser applied to ``tf.Variable`` parameters."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from functools import lru_cache

import numpy as np
import tensorflow as tf

import lifetf.nets.backends.base as base


@lru_cache(maxsize=1)
def _has_gpu() -> bool:
    """Whether TensorFlow sees a GPU (asked once: the answer cannot change in a process)."""
    return bool(tf.config.list_physical_devices("GPU"))


class TensorFlowLoop(base.OptimizerLoop):
    """Parameters held in one ``tf.Variable`` (:class:`~lifetf.nets.backends.base.FlatParams`);
    one XLA-compiled ``while_loop`` per chunk. With a ``tally``, the chunk is three calls in one
    graph: the compiled ``prepare``, the tally with TensorFlow's own kernels, the compiled loop."""

    def __init__(self, params: Sequence[np.ndarray], optimizer, member_losses: base.MemberLosses,
                 prepare: base.Prepare | None = None, tally: base.Tally | None = None):
        self.layout = base.FlatParams(params)
        self.flat = tf.Variable(self.layout.flatten(params))
        self.members = self.layout.members
        self.optimizer = optimizer
        optimizer.build([self.flat])
        self._fresh_slots = [v.value.numpy() for v in optimizer.variables]
        self.member_losses = member_losses
        self.prepare = prepare
        if tally is None:
            self._chunk = tf.function(self._train_chunk, jit_compile=True, autograph=False)
            return
        compiled_prepare = tf.function(prepare or (lambda start, *inputs: inputs),
                                       jit_compile=True, autograph=False)
        compiled_updates = tf.function(self._updates, jit_compile=True, autograph=False)

        def chunk(start, count, *inputs):
            return compiled_updates(start, count, *tally(*compiled_prepare(start, *inputs)))

        self._chunk = tf.function(chunk, autograph=False)

    def _train_chunk(self, start, count, *inputs):
        prepared = self.prepare(start, *inputs) if self.prepare else inputs
        return self._updates(start, count, *prepared)

    def _updates(self, start, count, *prepared):
        flat = self.flat

        def body(i, loss_sum, norm_sum):
            with tf.GradientTape() as tape:
                losses = self.member_losses(self.layout.unflatten(flat), start + i, i, *prepared)
                total = tf.reduce_sum(losses)
            grads = tape.gradient(total, [flat])
            self.optimizer.apply(grads, [flat])
            return i + 1, loss_sum + losses, norm_sum + base.member_norms(grads)

        zeros = tf.zeros((self.members,), tf.float32)
        _, loss_sum, norm_sum = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0, tf.int32), zeros, zeros)
        )
        return loss_sum, norm_sum

    def run(self, start: int, count: int, *inputs) -> tuple[np.ndarray, np.ndarray]:
        loss, norm = self._chunk(tf.constant(start, tf.int32), tf.constant(count, tf.int32),
                                 *inputs)
        return loss.numpy(), norm.numpy()

    def weights(self) -> list[np.ndarray]:
        return self.layout.unflatten(self.flat.numpy())

    def restart(self, params: Sequence[np.ndarray]) -> None:
        self.flat.assign(self.layout.flatten(params))
        for variable, fresh in zip(self.optimizer.variables, self._fresh_slots, strict=True):
            variable.assign(fresh)


def _through_memory(x):
    """``x`` (float32) as its bits summed with a zero over a padded trailing axis: the same
    value, but a reduction, which XLA's CPU compiler does not fuse into consumers."""
    bits = tf.bitcast(x, tf.uint32)
    padded = tf.pad(bits[..., None], [[0, 0]] * x.shape.rank + [[0, 1]])
    return tf.bitcast(tf.reduce_sum(padded, axis=-1), tf.float32)


@tf.custom_gradient
def _stored(x):
    return _through_memory(x), lambda upstream: upstream


class TensorFlowBackend(base.Backend):
    name = "tensorflow"

    def configure(self, allow_tf32: bool) -> None:
        threads = int(os.environ.get("TF_NUM_INTRAOP_THREADS", "0"))
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:  # TensorFlow already started: it keeps its thread pools
                pass
        tf.config.experimental.enable_tensor_float_32_execution(allow_tf32)
        if _has_gpu():
            tf.config.experimental.enable_op_determinism()

    def optimizer_loop(self, params, optimizer, member_losses, prepare=None,
                       tally=None) -> base.OptimizerLoop:
        return TensorFlowLoop(params, optimizer, member_losses, prepare, tally)

    def stored(self, x):
        # XLA's CPU compiler copies element-wise producers into every consumer, so without
        # this each layer's activations were recomputed in the loss, the next layer's patches
        # and every fusion of the backward pass (README, Speed: stop 41). Not on a GPU, where
        # it was not measured, nor eagerly, where nothing is fused.
        if (not isinstance(x, tf.Tensor) or x.dtype != tf.float32 or tf.executing_eagerly()
                or _has_gpu()):
            return x
        return _stored(x)

    def count_ids(self, ids, size: int):
        # outside XLA this is TensorFlow's bincount kernel, several times faster on the CPU
        # than the scatter-add XLA compiles (about 2.3x for a chunk's window codes, one thread);
        # one flat count beat the kernel's per-row form (axis=-1) by 10-40% here
        return tf.raw_ops.Bincount(arr=tf.reshape(ids, [-1]), size=size,
                                   weights=tf.zeros([0], tf.float32))

    def compile(self, fn: Callable) -> Callable:
        return tf.function(fn, jit_compile=True, autograph=False)

    def gradient(self, fn: Callable) -> Callable:
        def grad(params):
            with tf.GradientTape() as tape:
                tape.watch(params)
                value = fn(params)
            return tape.gradient(value, params)

        return grad

    def derivatives(self, fn: Callable, hessian: bool) -> Callable:
        def first(theta, *args):
            with tf.GradientTape() as tape:
                tape.watch(theta)
                value = fn(theta, *args)
            return value, tape.gradient(value, theta)

        def second(theta, *args):
            with tf.GradientTape() as outer:
                outer.watch(theta)
                value, grad = first(theta, *args)
            # pfor falls back to a while_loop for Conv2DBackpropFilter (with a warning each
            # trace) and measured slower here, so the Jacobian is taken row by row
            return value, grad, outer.jacobian(grad, theta, experimental_use_pfor=False)

        return tf.function(second if hessian else first, reduce_retracing=True, autograph=False)

    def float64(self):
        return nullcontext()

    def device(self) -> base.DeviceInfo:
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            names = [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                     for g in gpus]
            return base.DeviceInfo("gpu", ", ".join(names))
        return base.DeviceInfo("cpu", "cpu")

    def versions(self) -> dict[str, str]:
        import keras

        return {"keras": keras.__version__, "tensorflow": tf.__version__}
