"""Benchmark: seconds per model of the vectorised trainer at the quick and paper sizes, its
arithmetic rate against the device's measured float32 peak, and one Keras ``fit`` per seed.

Everything is timed in one run on the current backend, so ratios compare like with like:

- the **peak** is a large float32 matrix product timed here (the device's reachable rate);
- the **trainer** trains K members of each protocol; the steady state is timed over a window
  of batches after a warm-up chunk (compilation excluded and reported apart) and scaled to the
  protocol's batches; its rate is the network's training arithmetic (forward multiply-adds,
  times 2 FLOP, times 3 for the forward and backward passes) per second;
- **one fit per seed** (the way the original code trains) times Keras ``fit`` on a few seeds of
  Firner's default protocol, scaled per model, for the speed-up ratio.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass

import numpy as np

from lifetf.nets.experiment import Experiment

FIRNER_DEFAULT = Experiment()  # 5000 batches of 32 10x10 boards, m = 1, ReLU, clamp
QUICK_SWEEP = Experiment(board_size=8, batch_size=32, batches=3000, output="sigmoid",
                         activation="leaky_relu", width=2)
PAPER = dict(board_size=10, batch_size=128, batches=10000, output="sigmoid",
             activation="leaky_relu")
WORKLOADS = {
    "firner default (5000 x 32, m=1)": FIRNER_DEFAULT,
    "quick sweep (3000 x 32, 8x8, m=2)": QUICK_SWEEP,
    "paper, m=1 (10000 x 128)": Experiment(width=1, **PAPER),
    "paper tricks, m=5 (10000 x 128)": Experiment(width=5, init="normalize", **PAPER),
    # two-step networks train on their cells: these price every network that is not
    # trained by window (Experiment.by_window) in the cost model
    **{f"quick sweep, 2 steps, m={m}": QUICK_SWEEP.replace(steps=2, width=m) for m in (1, 2, 5)},
}


def training_flops(experiment: Experiment) -> float:
    """FLOP of training one model: 2 per multiply-add, 3 passes (forward, two backward)."""
    per_cell = sum(s.kernel**2 * s.cin * s.cout for s in experiment.layers)
    cells = experiment.batches * experiment.cells_per_batch
    return 6.0 * per_cell * cells


def matmul_peak(size: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of a float32 size x size matrix product on the current backend (best of runs)."""
    from keras import ops

    from lifetf.nets.backends import current

    product = current().compile(lambda a, b: ops.matmul(a, b))
    rng = np.random.default_rng(0)
    a = ops.convert_to_tensor(rng.standard_normal((size, size), np.float32))
    b = ops.convert_to_tensor(rng.standard_normal((size, size), np.float32))
    ops.convert_to_numpy(product(a, b))  # compile and warm up
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        ops.convert_to_numpy(product(a, b)[:1, :1])
        best = min(best, time.perf_counter() - began)
    return 2.0 * size**3 / best


@dataclass(frozen=True)
class Timing:
    """One workload's figures."""

    workload: str
    members: int
    seconds_per_batch: float  # one update of the whole graph (all members), steady state
    seconds_per_model: float  # the full protocol, steady state
    compile_seconds: float  # building and compiling the first chunk (once per graph)
    gflops: float  # achieved training arithmetic rate, counted on every cell
    trained_on: str  # "cells", or "windows" (Experiment.by_window: less arithmetic)

    def row(self, peak: float) -> list:
        return [self.workload, self.members, self.trained_on, f"{self.seconds_per_model:.4g}",
                f"{self.compile_seconds:.1f}", f"{self.gflops:.2f}",
                f"{100 * self.gflops * 1e9 / peak:.1f}%"]


TABLE_HEADERS = ["workload", "K", "trained on", "seconds per model", "compile (s)",
                 "GFLOP/s (per cell)", "of peak"]
RATE_NOTE = ("GFLOP/s counts the arithmetic of training on every cell (forward multiply-adds "
             "x 2 x 3); networks trained on windows do less, so for them it is the rate a "
             "cell-by-cell trainer would need to match them")


def trained_on(experiment: Experiment) -> str:
    """What the trainer's passes run over: 'windows' (the 512 of a one-step network that sees
    one 3x3 window, weighted by their counts) or 'cells'."""
    return "windows" if experiment.by_window else "cells"


def time_trainer(name: str, experiment: Experiment, members: int, window: int) -> Timing:
    """Steady-state seconds per model of ``members`` members, over ``window`` timed batches."""
    from lifetf.nets.train import _Trainer

    every = experiment.record_every
    window = max(every, window // every * every)
    began = time.perf_counter()
    trainer = _Trainer(experiment, list(range(members)))
    trainer.run(0, every)
    compiled = time.perf_counter() - began
    began = time.perf_counter()
    for start in range(every, every + window, every):
        trainer.run(start, every)
    per_batch = (time.perf_counter() - began) / window
    per_model = per_batch * experiment.batches / members
    return Timing(name, members, per_batch, per_model, compiled,
                  training_flops(experiment) / per_model / 1e9,
                  trained_on(experiment))


def calibration(result: dict):
    """A cost model (lifetf.nets.costs) from a run's timings: seconds per model of the unit
    protocol at each workload's multiply-adds per cell and block."""
    from lifetf.nets.costs import Calibration, macs_per_cell

    unit = {"batches": 10000, "batch_size": 128, "cells": 100}
    points, window = {}, []
    for timing in result["timings"]:
        e = WORKLOADS[timing["workload"]]
        blocks = e.blocks
        scale = (e.batches * e.cells_per_batch
                 / (unit["batches"] * unit["batch_size"] * unit["cells"]))
        if e.by_window:
            window.append(timing["seconds_per_model"] / scale)
        else:
            points[macs_per_cell(e)] = timing["seconds_per_model"] / scale / blocks
    if not points:
        raise ValueError("a calibration needs at least one workload trained on its cells "
                         "(the two-step ones)")
    env = result["environment"]
    return Calibration(
        device=result["device"], backend=env["backend"],
        source=f"python -m lifetf bench on {result['device']} ({env['backend']}, commit "
               f"{env['commit']})", unit=unit, points=tuple(sorted(points.items())),
        step_seconds=min(t["seconds_per_batch"] for t in result["timings"]),
        compile_seconds=float(np.mean([t["compile_seconds"] for t in result["timings"]])),
        members=max(t["members"] for t in result["timings"]),
        window_seconds=float(np.max(window)) if window else None)


def fit_one_by_one(experiment: Experiment, seeds: list[int], batches: int) -> float:
    """Seconds per model when each seed gets its own Keras model and ``fit`` call (scaled from
    ``batches`` batches to the protocol's)."""
    import keras

    from lifetf.life.rules import evolve, random_boards
    from lifetf.nets.models import build

    began = time.perf_counter()
    for seed in seeds:
        n = batches * experiment.batch_size
        boards = random_boards(n, experiment.board_size, experiment.density, seed=seed)
        targets = evolve(boards, experiment.rule, experiment.steps)
        model = build(experiment.arch, experiment.steps, experiment.width, experiment.depth,
                      experiment.activation, experiment.output, experiment.init, seed)
        model.compile(optimizer=keras.optimizers.Adam(experiment.learning_rate, epsilon=1e-8),
                      loss="binary_crossentropy")
        model.fit(boards[..., None].astype("float32"), targets[..., None].astype("float32"),
                  batch_size=experiment.batch_size, epochs=1, shuffle=False, verbose=0)
    per_model = (time.perf_counter() - began) / len(seeds)
    return per_model * experiment.batches / batches


def run(members: int = 64, window: int = 500, fit_seeds: int = 2, fit_batches: int = 1000,
        workloads: tuple[str, ...] = tuple(WORKLOADS)) -> dict:
    """Time everything on the current backend; prints a table and returns the figures."""
    from tabulate import tabulate

    from lifetf.nets.provenance import device_label, environment

    unknown = sorted(set(workloads) - set(WORKLOADS))
    if unknown:
        raise ValueError(f"unknown workloads {unknown}: expected some of {list(WORKLOADS)}")
    env = environment()
    print(f"backend {env['backend']} on {device_label()}; timing a {2048}^2 float32 matmul",
          flush=True)
    peak = matmul_peak()
    timings = []
    for name in workloads:
        print(f"timing {name}: {members} members, {window} batches ...", flush=True)
        timings.append(time_trainer(name, WORKLOADS[name], members, window))
    print(f"timing one Keras fit per seed: {fit_seeds} seeds of {fit_batches} batches ...",
          flush=True)
    fit = fit_one_by_one(FIRNER_DEFAULT, list(range(fit_seeds)), fit_batches)
    reference = timings[0].seconds_per_model if workloads[0] == next(iter(WORKLOADS)) else None
    print(tabulate([t.row(peak) for t in timings], headers=TABLE_HEADERS, tablefmt="github"))
    print(RATE_NOTE)
    print(f"measured float32 peak (2048^2 matmul): {peak / 1e9:.1f} GFLOP/s")
    print(f"one Keras fit per seed, firner default: {fit:.3f} s per model"
          + (f"; the vectorised trainer is {fit / reference:.0f}x faster" if reference else ""))
    result = {"environment": env, "device": device_label(), "peak_gflops": peak / 1e9,
              "fit_seconds_per_model": fit,
              "timings": [t.__dict__ for t in timings]}
    if reference:
        result["speedup_over_fit"] = fit / reference
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak resident memory: {result['peak_rss_mib']:.0f} MiB")
    print(json.dumps(result))
    return result
