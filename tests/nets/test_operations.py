"""The per-operation profile: XLA's traced operations of the update loop, per update."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lifetf.nets.operations import TRACE_FLAG, enable_trace, operation_kind


def test_operation_kinds_group_numbered_and_fused_operations():
    assert operation_kind("dot.17") == "dot"
    assert operation_kind("multiply_add_fusion.6") == "fusion"
    assert operation_kind("reduce-window.5") == "reduce-window"
    assert operation_kind("concatenate") == "concatenate"


def test_enable_trace_adds_the_flag_once(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    enable_trace()
    enable_trace()
    assert os.environ["XLA_FLAGS"].split() == ["--xla_cpu_multi_thread_eigen=false", TRACE_FLAG]


def test_a_two_step_network_traces_its_products_inside_the_update():
    pytest.importorskip("tensorflow")
    code = (
        "import json; from lifetf.nets import operations;"
        "from lifetf.nets.backends import limit_threads, select;"
        "operations.enable_trace(); limit_threads(1); select('tensorflow', False);"
        "from lifetf.nets.experiment import Experiment;"
        "t = operations.profile('tiny', Experiment(board_size=6, batch_size=4, steps=2, "
        "batches=20, record_every=10), members=3);"
        "print(json.dumps([t.update_ms, t.operations, t.by_kind()]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    assert done.returncode == 0, done.stderr[-2000:]
    update_ms, operations, kinds = json.loads(done.stdout.strip().splitlines()[-1])
    assert update_ms > 0 and all(ms >= 0 for ms in operations.values())
    # two 3x3 layers on cells: their forward and weight-gradient products run every update
    assert sum(1 for name in operations if operation_kind(name) == "dot") >= 4
    assert sum(kinds.values()) <= update_ms * 1.05


def test_the_command_names_the_backend_it_cannot_trace():
    pytest.importorskip("jax")
    done = subprocess.run([sys.executable, "-m", "lifetf", "bench", "--ops", "--backend", "jax"],
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("got --backend jax")
