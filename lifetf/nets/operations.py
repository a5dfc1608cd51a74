"""Time per compiled operation of the trainer's updates, from XLA's own trace (TensorFlow).

The phase table (:mod:`lifetf.nets.phases`) says which pass costs; this says which operation
inside the compiled loop does: each XLA operation that runs once per update (a fusion, a dot, a
concatenation) with its milliseconds per update, from TensorFlow's profiler over one chunk.
XLA emits those events only when ``XLA_FLAGS`` holds :data:`TRACE_FLAG` before it first
compiles, so the command line sets it (``python -m lifetf bench --ops``) before TensorFlow starts,
with one thread, as each ``-n 2`` pytest worker trains (with more, XLA splits its loops into
parallel calls whose events nest).
"""

from __future__ import annotations

import collections
import glob
import os
import re
import tempfile
import time
from dataclasses import dataclass

from lifetf.nets.experiment import Experiment

TRACE_FLAG = "--xla_cpu_enable_xprof_traceme=true"


class TraceError(RuntimeError):
    """No per-operation trace here: the wrong backend, or XLA started without the flag."""


HLO_NAME = re.compile(r"^[a-z][\w-]*(\.\w+)*$")  # 'dot.17', 'multiply_add_fusion.6', ...


def check_backend(name: str) -> None:
    """Raise TraceError unless ``name`` is the backend whose profiler gives the trace."""
    if name != "tensorflow":
        raise TraceError(f"the per-operation trace needs --backend tensorflow (TensorFlow's "
                         f"profiler), got --backend {name}")


def enable_trace() -> None:
    """Ask XLA for per-operation trace events (effective only before it first compiles)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if TRACE_FLAG not in flags.split():
        os.environ["XLA_FLAGS"] = f"{flags} {TRACE_FLAG}".strip()


@dataclass(frozen=True)
class OperationTimes:
    """Milliseconds per update of each traced operation of one workload's loop body."""

    workload: str
    members: int
    update_ms: float  # one whole update: the traced chunk's wall time per update
    operations: dict[str, float]  # XLA operation name -> milliseconds per update

    def by_kind(self) -> dict[str, float]:
        """Milliseconds per update per kind of operation (dot, concatenate, fusion, ...)."""
        totals: dict[str, float] = collections.Counter()
        for name, ms in self.operations.items():
            totals[operation_kind(name)] += ms
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


def operation_kind(name: str) -> str:
    """An operation's kind: 'dot.17' -> 'dot', 'multiply_add_fusion.6' -> 'fusion'."""
    base = name.split(".")[0]
    return "fusion" if base.endswith("fusion") else base


def _traced_events(logdir: str) -> dict[str, tuple[float, int]]:
    """Event name -> (total milliseconds, count) over every plane and line of the trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    if not files:
        raise RuntimeError(f"TensorFlow's profiler wrote no trace under {logdir}")
    space = xplane_pb2.XSpace()
    with open(files[0], "rb") as handle:
        space.ParseFromString(handle.read())
    events: dict[str, list] = collections.defaultdict(lambda: [0.0, 0])
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                entry = events[names.get(event.metadata_id, "?")]
                entry[0] += event.duration_ps / 1e9
                entry[1] += 1
    return {name: (ms, count) for name, (ms, count) in events.items()}


def profile(name: str, experiment: Experiment, members: int = 64) -> OperationTimes:
    """Trace one warm chunk of ``experiment``'s updates and time each operation per update."""
    from lifetf.nets.backends import current

    check_backend(current().name)
    import tensorflow as tf

    from lifetf.nets.train import _Trainer
    every = experiment.record_every
    trainer = _Trainer(experiment, list(range(members)))
    trainer.run(0, every)  # compile and warm up
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            began = time.perf_counter()
            trainer.run(0, every)
            seconds = time.perf_counter() - began
        finally:
            tf.profiler.experimental.stop()
        events = _traced_events(logdir)
    # the loop body's operations run once per update: `every` times in the chunk
    per_update = {event: ms / every for event, (ms, count) in events.items()
                  if count == every and HLO_NAME.match(event)}
    if not per_update:
        raise TraceError(f"XLA traced no operations: set XLA_FLAGS={TRACE_FLAG} before "
                           f"TensorFlow first compiles (python -m lifetf bench --ops does)")
    return OperationTimes(name, members, 1e3 * seconds / every, per_update)


def run(members: int = 64, top: int = 12) -> list[OperationTimes]:
    """Trace every workload of the phase table; print each one's totals per kind of operation
    and its costliest operations."""
    from tabulate import tabulate

    from lifetf.nets.phases import PHASE_WORKLOADS

    results = []
    for name, experiment in PHASE_WORKLOADS.items():
        times = profile(name, experiment, members)
        results.append(times)
        print(f"\n{name}, K = {members}: {times.update_ms:.2f} ms per update", flush=True)
        kinds = [[kind, f"{ms:.2f}", f"{100 * ms / times.update_ms:.0f}%"]
                 for kind, ms in times.by_kind().items()]
        print(tabulate(kinds, headers=["kind", "ms per update", "share"], tablefmt="github"))
        costliest = sorted(times.operations.items(), key=lambda item: -item[1])[:top]
        print(tabulate([[op, f"{ms:.3f}"] for op, ms in costliest],
                       headers=["operation", "ms per update"], tablefmt="github"))
    return results
