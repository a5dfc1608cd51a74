"""Executors: train work units of (experiment, seeds) into the trial store.

Executors only produce trials; the claim tests only read them. ``inprocess`` (the default)
trains unit after unit in this process, importing nothing more. ``ray`` sends units to a Ray
cluster (``ray.init(address=...)``, ``$RAY_ADDRESS``, or a local cluster): one long-lived actor
per GPU (or per CPU slot) keeps its compiled steps warm; memory settings of JAX and TensorFlow
are made in each actor before it imports them. A unit whose actor dies is given to a fresh
actor; trials are written create-only, one atomic file each, so a retried unit trains only
what is missing and no trial is lost or written twice.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence

from lifetf.nets.experiment import Experiment
from lifetf.suite.plan import Unit

EXECUTORS = ("inprocess", "ray")
RETRIES = 3  # a unit is given to a fresh actor at most this many times


class ExecutorError(RuntimeError):
    """An executor that cannot run as asked (unknown, not installed, cluster unreachable)."""


class Progress:
    """One progress line over all units: units done, trials trained, elapsed time."""

    def __init__(self, units: Sequence[Unit], enabled: bool = True):
        self.total = len(units)
        self.trials = sum(len(u.seeds) for u in units)
        self.done = 0
        self.trained = 0
        self.enabled = enabled and self.total > 0
        self.began = time.perf_counter()

    def advance(self, unit: Unit) -> None:
        self.done += 1
        self.trained += len(unit.seeds)
        if self.enabled:
            elapsed = time.perf_counter() - self.began
            print(f"\r[lifetf] {self.done}/{self.total} units, {self.trained}/{self.trials} "
                  f"trials, {elapsed:.0f} s", end="" if self.done < self.total else "\n",
                  file=sys.stderr, flush=True)


def run_inprocess(units: Sequence[Unit], store, progress: bool = True) -> int:
    """Train every unit here, one after another; returns the trials trained."""
    bar = Progress(units, progress)
    before = store.trained
    for unit in units:
        store.rows(unit.experiment, list(unit.seeds))
        bar.advance(unit)
    return store.trained - before


class _Trainer:
    """The body of a Ray actor: one backend, one store, compiled steps kept between units."""

    def __init__(self, backend: str, allow_tf32: bool, store_root: str, gpu_fraction: float):
        # memory settings before JAX or TensorFlow is imported in this process
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        if gpu_fraction < 1:
            os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 * gpu_fraction:.2f}")
        os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
        from lifetf.nets.backends import select

        select(backend, allow_tf32)
        from lifetf.suite.store import TrialStore

        self.store = TrialStore(store_root)

    def train(self, experiment: dict, seeds: list[int], crash_after: int | None = None) -> int:
        """Train the unit's missing seeds; ``crash_after`` (tests only) kills this process
        after that many trials were stored, as a machine lost mid-unit would."""
        from lifetf.nets.train import train

        experiment = Experiment.from_dict(experiment)
        missing = self.store.missing(experiment, seeds)
        if not missing:
            return 0
        rows = train(experiment, missing).to_dict("records")
        for i, row in enumerate(rows):
            if crash_after is not None and i == crash_after:
                os._exit(1)
            self.store.save(experiment, row)
        return len(rows)


def check_ray(address: str | None, timeout: float = 5.0) -> None:
    """Ray must be installed, and a ``host:port`` (or ``ray://host:port``) cluster address
    (``address`` or ``$RAY_ADDRESS``) must accept a connection: Ray itself would wait minutes
    for an absent head node before failing."""
    if importlib.util.find_spec("ray") is None:
        raise ExecutorError("the ray executor needs Ray: pip install -e '.[ray]'")
    address = address or os.environ.get("RAY_ADDRESS")
    if not address or address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(f"Ray address {address!r} is not host:port, 'auto' or 'local'")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise ExecutorError(f"cannot reach the Ray cluster at {address!r}: {error}") from None


def run_ray(units: Sequence[Unit], store_root: str, backend: str, allow_tf32: bool = False,
            address: str | None = None, gpus_per_actor: float = 1.0, actors: int | None = None,
            progress: bool = True, crash: Callable[[int, int], int | None] | None = None) -> int:
    """Train the units on a Ray cluster; returns the trials trained.

    ``crash(unit_index, attempt)`` (tests only) may return a number of trials after which the
    actor running that attempt dies.
    """
    try:
        import ray
    except ImportError:
        raise ExecutorError("the ray executor needs Ray: pip install -e '.[ray]'") from None
    address = address or os.environ.get("RAY_ADDRESS")
    check_ray(address)
    try:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     **({} if address else {"num_cpus": actors or os.cpu_count()}))
    except Exception as error:  # any connection failure: one line, before training
        raise ExecutorError(f"cannot reach the Ray cluster at {address!r}: "
                            f"{type(error).__name__}: {error}") from None
    resources = ray.cluster_resources()
    gpus = resources.get("GPU", 0)
    slots = actors or (int(gpus / gpus_per_actor) if gpus else int(resources.get("CPU", 1)))
    options = {"num_gpus": gpus_per_actor} if gpus else {"num_cpus": 1}
    actor_class = ray.remote(max_restarts=0)(_Trainer).options(**options)

    def start():
        return actor_class.remote(backend, allow_tf32, str(store_root), gpus_per_actor)

    bar = Progress(units, progress)
    pending = [(i, 0) for i in range(len(units))]
    running: dict = {}
    idle = [start() for _ in range(max(1, min(slots, len(units))))]
    trained = 0
    while pending or running:
        while pending and idle:
            index, attempt = pending.pop(0)
            actor = idle.pop()
            unit = units[index]
            after = crash(index, attempt) if crash else None
            ref = actor.train.remote(unit.experiment.to_dict(), list(unit.seeds), after)
            running[ref] = (index, attempt, actor)
        done, _ = ray.wait(list(running), num_returns=1)
        index, attempt, actor = running.pop(done[0])
        try:
            trained += ray.get(done[0])
            bar.advance(units[index])
            idle.append(actor)
        except ray.exceptions.RayActorError:
            if attempt + 1 >= RETRIES:
                raise ExecutorError(f"unit {units[index].describe()} failed {RETRIES} times: "
                                    f"its actor died each time") from None
            pending.append((index, attempt + 1))
            idle.append(start())  # a fresh actor in place of the dead one
    return trained


def run(executor: str, units: Sequence[Unit], store, backend: str, allow_tf32: bool = False,
        address: str | None = None, progress: bool = True) -> int:
    """Train ``units`` into ``store`` with the named executor; returns the trials trained."""
    if executor not in EXECUTORS:
        raise ExecutorError(f"unknown executor {executor!r}: expected one of "
                            f"{', '.join(EXECUTORS)}")
    if executor == "inprocess":
        return run_inprocess(units, store, progress)
    return run_ray(units, store.location.label, backend, allow_tf32, address,
                   progress=progress)
