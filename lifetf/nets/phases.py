"""Where the trainer's time goes, phase by phase, on the current backend.

Each phase is compiled and timed apart (best of a few repeats, after a warm-up), per batch of
all K members: **data** (a chunk's boards, targets and masks from the counter-based streams,
or its window counts when training by window, divided by the chunk's batches), **forward**
(the losses of the chunk's batches one by one in a compiled loop, as the updates take them),
**backward** (the same loop with gradients, minus forward), **optimiser and loop** (one
compiled chunk, per batch, minus the three before),
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


def _as_list(value) -> list:
    """A loss (one tensor) or gradients (a list of tensors) as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


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
    from lifetf.nets.train import _evaluate_rows, _Trainer, forget_compiled_loops, train_members

    backend, every = current(), experiment.record_every

    def block(tensors) -> None:
        for t in tensors if isinstance(tensors, (list, tuple)) else [tensors]:
            ops.convert_to_numpy(ops.reshape(t, (-1,))[:1])

    trainer = _Trainer(experiment, list(range(members)))
    start = ops.convert_to_tensor(np.int32(0))
    compiled = backend.compile(trainer._prepare)
    inputs = trainer.chunk_inputs(0)

    def prepare(s):
        prepared = compiled(s, *inputs)
        return trainer.tally(*prepared) if trainer.tally else prepared

    data = _best(lambda: block(prepare(start)), repeats) / every
    prepared = prepare(start)
    params = [ops.convert_to_tensor(w) for w in trainer.loop.weights()]

    def batch_loss(p, i, chunk):
        # weights moved a little per batch, as updates move them: else the compiler could
        # take a pass that reads no batch (the 512 windows' forward pass) out of the loop
        moved = [w + 1e-7 * ops.cast(i, "float32") for w in p]
        return ops.sum(trainer._member_losses(moved, start + i, i, *chunk))

    def batch_gradient(p, i, chunk):
        return backend.gradient(lambda q: batch_loss(q, i, chunk))(p)

    def over_batches(per_batch, outputs: int):
        # the chunk's batches one by one in a compiled loop, as the trainer's updates take
        # them (one batch of all the chunk's boards ran a 3-step network's passes in 13.6 ms
        # per batch against 17-22 in the loop, so the difference looked like the optimiser)
        def loop(p, *chunk):
            def body(i, totals):
                values = _as_list(per_batch(p, i, chunk))
                return [t + ops.sum(v) for t, v in zip(totals, values, strict=True)]

            return ops.fori_loop(0, every, body, [ops.zeros(())] * outputs)

        compiled_loop = backend.compile(loop)
        return lambda: block(compiled_loop(params, *prepared))

    ahead = _best(over_batches(batch_loss, 1), repeats) / every
    both = _best(over_batches(batch_gradient, len(params)), repeats) / every
    chunk = _best(lambda: trainer.run(0, every), repeats) / every
    evaluation = _best(lambda: _evaluate_rows(experiment, trainer.finish(),
                                              trainer.seeds), 1) / experiment.batches
    forget_compiled_loops()  # so that the whole call compiles its loop, as a first run does
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
