"""Which Keras backend trains the models, and the small per-backend part of training.

The models, losses and random streams are written once in ``keras.ops``. What differs between
TensorFlow and JAX (compiling a chunk of updates, taking gradients, the loop, the optimiser
step, float64 derivatives) sits behind :class:`~lifetf.nets.backends.base.Backend`, with one thin
module per backend. :func:`select` must run before Keras is imported; :func:`current` returns
the implementation for the backend Keras was imported with.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

from lifetf.nets.backends.base import Backend, BackendError, OptimizerLoop

__all__ = ["BACKENDS", "Backend", "BackendError", "OptimizerLoop", "current", "limit_threads",
           "precision", "select"]

BACKENDS = ("tensorflow", "jax")
DEFAULT_BACKEND = "tensorflow"
PRECISIONS = ("float32", "tf32")  # full float32 matrix products, or TF32 where a GPU has it
_MODULES = {"tensorflow": "tensorflow", "jax": "jax"}
INSTALL = {
    "tensorflow": "pip install -e . (TensorFlow is a main dependency)",
    "jax": "pip install -e '.[jax]' (on a GPU host: pip install 'jax[cuda13]', or use its JAX)",
}


def _has_gpu_device() -> bool:
    """Whether this machine exposes an NVIDIA device node (no CUDA call is made)."""
    return Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia").exists()


def quiet_logs() -> None:
    """TensorFlow's C++ log: warnings off; without a GPU also errors, since its CUDA build
    logs "failed call to cuInit" at level ERROR on every CPU-only run. A value the user set
    stays."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if _has_gpu_device() else "3")


def pool_cpu_memory() -> None:
    """TensorFlow's CPU tensors from its pooling (BFC) allocator, not one malloc each.

    A chunk's large tensors (a Firner chunk's window ids are 41 MB) went to malloc, which maps
    fresh pages for each and unmaps them after, so every chunk paid a page fault per 4 KiB:
    with the pool, one-step networks trained by window ran about 2x faster on the 2-core
    machine (README, Speed). Same arithmetic, same results. A value the user set stays.
    """
    os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")


def select(name: str | None = None, allow_tf32: bool = False) -> str:
    """Choose the backend before Keras is imported; returns its name.

    ``name`` defaults to ``$KERAS_BACKEND``, else TensorFlow. An unknown name, a backend whose
    package is not installed, or Keras already imported with another backend is a
    :class:`BackendError` with one readable line.
    """
    chosen = name or os.environ.get("KERAS_BACKEND") or DEFAULT_BACKEND
    if chosen not in BACKENDS:
        raise BackendError(f"unknown backend {chosen!r}: expected one of {', '.join(BACKENDS)}")
    if importlib.util.find_spec(_MODULES[chosen]) is None:
        raise BackendError(f"the {chosen} backend is selected but {_MODULES[chosen]} is not "
                           f"installed: {INSTALL[chosen]}")
    if "keras" in sys.modules:
        loaded = sys.modules["keras"].backend.backend()
        if loaded != chosen:
            raise BackendError(f"Keras was already imported with the {loaded} backend; select "
                               f"{chosen} before importing Keras (or set KERAS_BACKEND={chosen})")
    os.environ["KERAS_BACKEND"] = chosen
    os.environ["LIFETF_PRECISION"] = "tf32" if allow_tf32 else "float32"
    quiet_logs()
    if chosen == "tensorflow":
        pool_cpu_memory()
    if chosen == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()
    return chosen


def limit_threads(threads: int) -> None:
    """Let this process compute on ``threads`` cores (set before the backend starts)."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = (f"{flags} --xla_cpu_multi_thread_eigen=false "
                                       f"intra_op_parallelism_threads=1").strip()


def precision() -> str:
    """The precision mode of matrix products: 'float32' (default) or 'tf32' (opted in)."""
    mode = os.environ.get("LIFETF_PRECISION", "float32")
    if mode not in PRECISIONS:
        raise BackendError(f"LIFETF_PRECISION = {mode!r} is invalid: expected one of "
                           f"{', '.join(PRECISIONS)}")
    return mode


@lru_cache(maxsize=1)
def current() -> Backend:
    """The implementation for Keras' backend, configured for precision and determinism."""
    if "keras" not in sys.modules:
        select()
    import keras

    name = keras.backend.backend()
    if name == "tensorflow":
        from lifetf.nets.backends.tf_backend import TensorFlowBackend

        backend: Backend = TensorFlowBackend()
    elif name == "jax":
        from lifetf.nets.backends.jax_backend import JaxBackend

        backend = JaxBackend()
    else:
        raise BackendError(f"Keras runs on the {name} backend; lifetf supports "
                           f"{', '.join(BACKENDS)} (set KERAS_BACKEND)")
    backend.configure(allow_tf32=precision() == "tf32")
    return backend
