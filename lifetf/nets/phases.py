"""Where the trainer's time goes, phase by phase, on the current backend.

Each phase is compiled and timed apart (best of a few repeats, after a warm-up), per batch of
all K members: **data** (a chunk's boards, targets and masks from the counter-based streams,
or its window counts when training by window, divided by the chunk's batches), **forward**
(the losses of one batch), **backward** (gradients minus forward), **optimiser and loop**
(one compiled chunk, per batch, minus the three before),
**evaluation** (success, match rate and truth tables of the trained members, per batch of the
protocol), and **setup, compile, Python** (a whole ``train_members`` call less its compiled
chunks and evaluation: building, compiling, numpy between chunks).
``python -m lifetf bench --phases`` prints the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lifetf.nets.experiment import Experiment

_QUICK = dict(board_size=8, batch_size=32, batches=3000, output="sigmoid",
              activation="leaky_relu")
PHASE_WORKLOADS = {
    "8x8, m=1, 1 step": Experiment(width=1, **_QUICK),
    "8x8, m=4, 1 step": Experiment(width=4, **_QUICK),
    "8x8, m=2, 3 steps": Experiment(width=2, steps=3, **_QUICK),
    "10x10, m=1, 1 step (Firner default)": Experiment(),
}
PHASES = ("data", "forward", "backward", "optimiser and loop", "evaluation",
          "setup, compile, Python")


@dataclass(frozen=True)
class PhaseTimes:
    """Milliseconds per batch (all members together) spent in each phase of one workload."""

    workload: str
    members: int
    milliseconds: dict[str, float]

    def row(self) -> list:
        total = sum(self.milliseconds.values())
        return [self.workload, self.members] + [
            f"{self.milliseconds[p]:.2f} ({100 * self.milliseconds[p] / total:.0f}%)"
            for p in PHASES] + [f"{total:.2f}"]


def _best(fn: Callable[[], object], repeats: int) -> float:
    """Least wall seconds of ``fn()`` over ``repeats`` calls, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def profile(name: str, experiment: Experiment, members: int = 64,
            repeats: int = 5) -> PhaseTimes:
    """Time each phase of training ``members`` seeds of ``experiment`` (see the module doc)."""
    from keras import ops

    from lifetf.nets.backends import current
    from lifetf.nets.train import _evaluate_rows, _Trainer, train_members

    backend, every = current(), experiment.record_every

    def block(tensors) -> None:
        for t in tensors if isinstance(tensors, (list, tuple)) else [tensors]:
            ops.convert_to_numpy(ops.reshape(t, (-1,))[:1])

    trainer = _Trainer(experiment, list(range(members)))
    start = ops.convert_to_tensor(np.int32(0))
    compiled = backend.compile(lambda s: trainer._prepare(s))

    def prepare(s):
        return trainer.tally(*compiled(s)) if trainer.tally else compiled(s)

    data = _best(lambda: block(prepare(start)), repeats) / every
    prepared = prepare(start)
    params = [ops.convert_to_tensor(w) for w in trainer.loop.weights()]
    if trainer.by_window:
        # one evaluation of the 512 windows per batch: `every` of them in one call, each at
        # slightly moved weights so that the compiler cannot share them
        (counts,) = prepared

        def chunk_loss(p):
            return ops.sum(ops.stack([ops.sum(trainer.window_losses(
                [w + 1e-7 * s for w in p], counts[s])) for s in range(every)]))
    else:
        # the chunk's batches as one batch of every * B boards per member: the same
        # arithmetic as `every` updates' passes, in one call (a call per batch would time
        # dispatch, not work)
        boards, targets = (ops.convert_to_tensor(np.concatenate(
            list(ops.convert_to_numpy(x)), axis=1)) for x in prepared[:2])

        def chunk_loss(p):
            return ops.sum(trainer.losses(p, boards, targets))

    forward = backend.compile(chunk_loss)
    gradient = backend.compile(backend.gradient(chunk_loss))
    ahead = _best(lambda: block(forward(params)), repeats) / every
    both = _best(lambda: block(gradient(params)), repeats) / every
    chunk = _best(lambda: trainer.run(0, every), repeats) / every
    evaluation = _best(lambda: _evaluate_rows(experiment, trainer.finish(),
                                              trainer.seeds), 1) / experiment.batches
    began = time.perf_counter()
    train_members(experiment, list(range(members)))
    whole = (time.perf_counter() - began) / experiment.batches
    milliseconds = {
        "data": data, "forward": ahead, "backward": max(both - ahead, 0.0),
        "optimiser and loop": max(chunk - data - both, 0.0), "evaluation": evaluation,
        "setup, compile, Python": max(whole - chunk - evaluation, 0.0)}
    return PhaseTimes(name, members, {k: 1e3 * v for k, v in milliseconds.items()})


def run(members: int = 64, repeats: int = 5) -> list[PhaseTimes]:
    """Profile every workload of PHASE_WORKLOADS; prints a table and returns the times."""
    from tabulate import tabulate

    from lifetf.nets.provenance import device_label, environment

    print(f"phases of the trainer on {environment()['backend']}, {device_label()}: "
          f"milliseconds per batch of {members} members (share of the total)", flush=True)
    times = []
    for name, experiment in PHASE_WORKLOADS.items():
        print(f"profiling {name} ...", flush=True)
        times.append(profile(name, experiment, members, repeats))
    print(tabulate([t.row() for t in times], headers=["workload", "K", *PHASES, "total"],
                   tablefmt="github"))
    return times
