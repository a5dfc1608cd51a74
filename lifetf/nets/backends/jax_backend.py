"""The JAX backend: ``jax.jit`` over ``lax.fori_loop``, ``value_and_grad`` over pure functions of
the parameters (the layers' ``stateless_call``) and ``optimizer.stateless_apply``; the state
buffers are donated to each chunk."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

import lifetf.nets.backends.base as base
from lifetf.paths import default_cache, is_url


class JaxLoop(base.OptimizerLoop):
    """Parameters (one (K, P) matrix, :class:`~lifetf.nets.backends.base.FlatParams`) and
    optimiser state as JAX arrays, carried through one jitted chunk."""

    def __init__(self, params: Sequence[np.ndarray], optimizer, member_losses: base.MemberLosses,
                 prepare: base.Prepare | None = None, tally: base.Tally | None = None):
        import keras

        self.layout = layout = base.FlatParams(params)
        holders = [keras.Variable(layout.flatten(params), trainable=True)]
        optimizer.build(holders)
        self.members = layout.members
        # numpy copies: the chunk donates the state's buffers, so they cannot serve twice
        self._fresh_slots = [np.array(v.value) for v in optimizer.variables]
        self.restart(params)

        def total(params, step, offset, prepared):
            losses = member_losses(layout.unflatten(params[0]), step, offset, *prepared)
            return jnp.sum(losses), losses

        value_and_grad = jax.value_and_grad(total, has_aux=True)

        def chunk(state, start, count, inputs):
            prepared = prepare(start, *inputs) if prepare else inputs
            prepared = tally(*prepared) if tally else prepared

            def body(i, carry):
                params, slots, loss_sum, norm_sum = carry
                (_, losses), grads = value_and_grad(params, start + i, i, prepared)
                params, slots = optimizer.stateless_apply(slots, grads, params)
                return params, slots, loss_sum + losses, norm_sum + base.member_norms(grads)

            zeros = jnp.zeros((self.members,), jnp.float32)
            params, slots, loss_sum, norm_sum = jax.lax.fori_loop(
                0, count, body, (state[0], state[1], zeros, zeros))
            return (params, slots), loss_sum, norm_sum

        self._chunk = jax.jit(chunk, donate_argnums=(0,))

    def run(self, start: int, count: int, *inputs) -> tuple[np.ndarray, np.ndarray]:
        self.state, loss, norm = self._chunk(self.state, jnp.int32(start), jnp.int32(count),
                                             tuple(inputs))
        return np.asarray(loss), np.asarray(norm)

    def weights(self) -> list[np.ndarray]:
        return self.layout.unflatten(np.asarray(self.state[0][0]))

    def restart(self, params: Sequence[np.ndarray]) -> None:
        self.state = ([jnp.asarray(self.layout.flatten(params))],
                      [jnp.asarray(slot) for slot in self._fresh_slots])


def compilation_cache() -> str | None:
    """Where JAX keeps compiled executables: ``$LIFETF_JAX_CACHE``, else ``jax-compiled`` in
    the trial store's folder (``$LIFETF_CACHE`` or ``.lifetf-cache``); None when that is a
    URL or ``$LIFETF_JAX_CACHE`` is empty (no persistent cache)."""
    if "LIFETF_JAX_CACHE" in os.environ:
        return os.environ["LIFETF_JAX_CACHE"] or None
    store = default_cache()
    return None if is_url(store) else os.path.join(store.removeprefix("file://"),
                                                    "jax-compiled")


@jax.custom_jvp
def _stored(x):
    """``x`` (float32) as its bits summed with a zero over a padded trailing axis: the same
    value, but a reduction, which XLA's CPU compiler does not fuse into consumers."""
    bits = jax.lax.bitcast_convert_type(x, jnp.uint32)
    padded = jnp.pad(bits[..., None], [(0, 0)] * x.ndim + [(0, 1)])
    return jax.lax.bitcast_convert_type(jnp.sum(padded, axis=-1, dtype=jnp.uint32), jnp.float32)


@_stored.defjvp
def _stored_jvp(primals, tangents):
    return _stored(primals[0]), tangents[0]


class JaxBackend(base.Backend):
    name = "jax"

    @property
    def data_by_batch(self) -> bool:
        # on the CPU a chunk's window ids batch by batch made Firner's default 1.4x faster per
        # model on one thread (0.21-0.25 s against 0.30-0.36); TensorFlow gained nothing
        return jax.default_backend() == "cpu"

    def configure(self, allow_tf32: bool) -> None:
        jax.config.update("jax_default_matmul_precision",
                          "tensorfloat32" if allow_tf32 else "highest")
        folder = compilation_cache()
        if folder:  # compiled steps persist across runs (1-5 s per shape on an H200)
            jax.config.update("jax_compilation_cache_dir", folder)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

    def optimizer_loop(self, params, optimizer, member_losses, prepare=None,
                       tally=None) -> base.OptimizerLoop:
        return JaxLoop(params, optimizer, member_losses, prepare, tally)

    def stored(self, x):
        # as on TensorFlow (tf_backend): XLA's CPU compiler recomputes element-wise producers
        # in every consumer; on a GPU it was not measured, so there x stays as it is. Only
        # inside a trace: run eagerly, nothing is fused, and each op would compile on first use
        if (not isinstance(x, jax.core.Tracer) or x.dtype != jnp.float32
                or jax.default_backend() != "cpu"):
            return x
        return _stored(x)

    def count_ids(self, ids, size: int):
        flat = jnp.reshape(ids, (-1,))
        return jax.ops.segment_sum(jnp.ones(flat.shape, jnp.float32), flat, num_segments=size)

    def compile(self, fn: Callable) -> Callable:
        return jax.jit(fn)

    def evaluator(self, fn: Callable) -> Callable:
        # run eagerly, every JAX operation compiles on first use with each new shape (20-30 ms
        # each on the CPU, about 50 per experiment's losses and predictions): one compile
        # of the whole function costs less
        return self.compile(fn)

    def gradient(self, fn: Callable) -> Callable:
        return jax.grad(fn)

    def derivatives(self, fn: Callable, hessian: bool) -> Callable:
        def first(theta, *args):
            return jax.value_and_grad(fn)(theta, *args)

        def second(theta, *args):
            value, grad = first(theta, *args)
            return value, grad, jax.hessian(fn)(theta, *args)

        return jax.jit(second if hessian else first)

    def float64(self):
        return jax.enable_x64(True)

    def device(self) -> base.DeviceInfo:
        device = jax.devices()[0]
        if device.platform == "cpu":
            return base.DeviceInfo("cpu", "cpu")
        return base.DeviceInfo(device.platform, str(device.device_kind))

    def versions(self) -> dict[str, str]:
        import keras

        return {"keras": keras.__version__, "jax": jax.__version__,
                "jaxlib": getattr(jax.lib, "__version__", jax.__version__)}
