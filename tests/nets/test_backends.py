"""Tests for lifetf.nets.backends: choosing a backend, precision settings, and agreement between the
TensorFlow and JAX backends (the same boards, starting weights and losses)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from scipy.stats import binom

from lifetf.nets import backends
from lifetf.nets.backends import BACKENDS, BackendError, current, select

HERE = Path(__file__).resolve().parent
OTHER = next(name for name in BACKENDS if name != keras.backend.backend())
LOSS_RTOL = 1e-4  # per-seed losses of the two backends over the first 200 batches
OUTCOME_AGREEMENT = 0.95  # share of 64 seeds whose success outcome must agree


def test_unknown_backend_names_the_allowed_ones():
    with pytest.raises(BackendError, match="unknown backend 'torch': expected one of "
                                           "tensorflow, jax"):
        select("torch")


def test_missing_backend_names_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jax" else real(name, *a))
    with pytest.raises(BackendError, match=r"jax is not installed: pip install -e '\.\[jax\]'"):
        select("jax")


def test_keras_imported_with_another_backend_is_refused(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    with pytest.raises(BackendError, match=f"already imported with the "
                                           f"{keras.backend.backend()} backend"):
        select(OTHER)


def test_tensorflow_tensors_come_from_the_pooling_allocator(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    for name in ("KERAS_BACKEND", "LIFETF_PRECISION", "XLA_FLAGS", "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # select() sets them: restore after
    monkeypatch.delenv("TF_CPU_ALLOCATOR_USE_BFC", raising=False)
    select(keras.backend.backend())
    expected = "true" if keras.backend.backend() == "tensorflow" else None
    assert os.environ.get("TF_CPU_ALLOCATOR_USE_BFC") == expected
    monkeypatch.setenv("TF_CPU_ALLOCATOR_USE_BFC", "false")  # the user's choice stays
    select(keras.backend.backend())
    assert os.environ["TF_CPU_ALLOCATOR_USE_BFC"] == "false"


def test_current_backend_is_keras_backend_with_full_float32():
    backend = current()
    assert backend.name == keras.backend.backend()
    assert backends.precision() == "float32"
    if backend.name == "tensorflow":
        import tensorflow as tf

        assert not tf.config.experimental.tensor_float_32_execution_enabled()
    else:
        import jax

        assert jax.config.jax_default_matmul_precision == "highest"
    versions = backend.versions()
    assert versions["keras"] == keras.__version__ and backend.name in versions


def test_bad_precision_mode_is_named(monkeypatch):
    monkeypatch.setenv("LIFETF_PRECISION", "bf16")
    with pytest.raises(BackendError, match="LIFETF_PRECISION = 'bf16' is invalid"):
        backends.precision()


def test_cli_rejects_an_unknown_backend(capsys):
    from lifetf.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["train", "--backend", "torch", "--seeds", "1"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'torch'" in err and "tensorflow" in err and "jax" in err


# ---------------------------------------------------------------- the two backends agree


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> dict[str, dict[str, np.ndarray]]:
    """The runs of tests/backend_runs.py here and, in a subprocess, on the other backend."""
    if importlib.util.find_spec(OTHER) is None:
        pytest.skip(f"the {OTHER} backend is not installed here: nothing to compare with")
    sys.path.insert(0, str(HERE))
    import backend_runs

    out = tmp_path_factory.mktemp("other") / "runs.npz"
    env = {**os.environ, "KERAS_BACKEND": OTHER, "PYTHONPATH": str(HERE.parents[1])}
    done = subprocess.run([sys.executable, str(HERE / "backend_runs.py"), str(out)], env=env,
                          capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as data:
        other = {name: data[name] for name in data.files}
    return {keras.backend.backend(): backend_runs.run_all(), OTHER: other}


AGREEMENT = pytest.mark.xdist_group("backends")  # one worker runs the shared fixture once


@AGREEMENT
def test_boards_are_bit_identical_on_both_backends(both):
    first, second = both.values()
    assert np.array_equal(first["draws"], second["draws"])


@AGREEMENT
@pytest.mark.parametrize("name", ["firner-relu-clamp", "firner-leaky-sigmoid-dropout",
                                  "springer-relu-sigmoid", "springer-leaky-clamp",
                                  "fixed-set-sgd"])
def test_per_seed_losses_agree_over_200_batches(both, name):
    first, second = (runs[name] for runs in both.values())
    assert first.shape == second.shape == (8, 200)
    np.testing.assert_allclose(first, second, rtol=LOSS_RTOL, atol=1e-7)


@AGREEMENT
def test_success_outcomes_agree_for_most_seeds(both):
    """Design: the outcomes can differ only where float rounding tips a run into another basin.
    If that happens to at most 0.5% of seeds, this test fails (more than 3 of 64 differ) with
    chance 1 - Binomial(64, 0.005).cdf(3) = 4e-4."""
    first, second = (runs["outcomes"] for runs in both.values())
    allowed = len(first) - int(np.ceil(OUTCOME_AGREEMENT * len(first)))
    assert allowed == 3 and 1 - binom.cdf(allowed, len(first), 0.005) < 1e-3
    differ = int((first != second).sum())
    assert differ <= allowed, f"{differ} of {len(first)} seeds changed their outcome"
    # not vacuous: the setting has successes and failures
    assert 5 < first.sum() < len(first) - 5


def test_jax_compiled_steps_persist_beside_the_trial_store(monkeypatch):
    pytest.importorskip("jax")
    from lifetf.nets.backends.jax_backend import compilation_cache

    monkeypatch.delenv("LIFETF_JAX_CACHE", raising=False)
    monkeypatch.setenv("LIFETF_CACHE", "/tmp/lifetf-store")
    assert compilation_cache() == "/tmp/lifetf-store/jax-compiled"
    monkeypatch.setenv("LIFETF_CACHE", "s3://bucket/lifetf")  # no local folder: no cache
    assert compilation_cache() is None
    monkeypatch.setenv("LIFETF_JAX_CACHE", "/tmp/elsewhere")
    assert compilation_cache() == "/tmp/elsewhere"
    monkeypatch.setenv("LIFETF_JAX_CACHE", "")
    assert compilation_cache() is None
