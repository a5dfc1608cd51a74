"""Benchmark of the two paths of a 1x1 layer's per-member linear map (unrolled multiply-adds or
one batched product, :func:`lifetf.nets.ensemble.member_linear`), for the networks whose 1x1
layers sit near :data:`~lifetf.nets.ensemble.UNROLL_LIMIT`: both paths timed in alternating
pairs in one run, so their ratio is this machine's (``python -m lifetf bench --linear-paths``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from lifetf.nets import ensemble
from lifetf.nets.bench import QUICK_SWEEP
from lifetf.nets.experiment import Experiment

COMPARED_UP_TO = 24  # the previous unroll limit: layers up to it were compared both ways

# the networks of the quick and gpu profiles whose widest 1x1 layer has 17-24 entries per member
LINEAR_WORKLOADS = {
    "2 steps, m=3 (6 -> 3)": (QUICK_SWEEP.replace(steps=2, width=3), 28),
    "3 steps, m=3 (6 -> 3)": (QUICK_SWEEP.replace(steps=3, width=3), 28),
    "2 steps, m=20 (20 -> 1)": (QUICK_SWEEP.replace(steps=2, width=20), 8),
}


@dataclass(frozen=True)
class PathTimes:
    """Milliseconds per update of one workload with its widest unrolled-able 1x1 layers run
    each way, one pair of fresh trainers per entry."""

    workload: str
    members: int
    entries: int  # the per-member kernel entries of the layers that change path
    unrolled_ms: tuple[float, ...]
    product_ms: tuple[float, ...]

    def ratios(self) -> tuple[float, ...]:
        """Unrolled over product, pair by pair (> 1: the product is faster)."""
        return tuple(u / p for u, p in zip(self.unrolled_ms, self.product_ms, strict=True))


def near_limit_entries(experiment: Experiment) -> int:
    """The largest per-member kernel entries of the experiment's 1x1 layers up to
    COMPARED_UP_TO, the range in which the two paths were compared."""
    sizes = [s.cin * s.cout for s in experiment.layers
             if s.kernel == 1 and s.cin * s.cout <= COMPARED_UP_TO]
    if not sizes:
        raise ValueError(f"{experiment.describe()} has no 1x1 layer of at most "
                         f"{COMPARED_UP_TO} entries")
    return max(sizes)


@contextmanager
def unroll_limit(limit: int) -> Iterator[None]:
    """Trainers built (and traced) inside take ``limit`` as the unroll limit."""
    saved = ensemble.UNROLL_LIMIT
    ensemble.UNROLL_LIMIT = limit
    try:
        yield
    finally:
        ensemble.UNROLL_LIMIT = saved


def update_ms(experiment: Experiment, members: int, limit: int, chunks: int) -> float:
    """Best milliseconds per update over ``chunks`` warm chunks of a trainer (whose compiled
    loop an earlier call with the same limit left, else a fresh one: only warm chunks count)."""
    from lifetf.nets.train import _Trainer

    every = experiment.record_every
    with unroll_limit(limit):
        trainer = _Trainer(experiment, list(range(members)), reuse=True)
        trainer.run(0, every)  # trace and compile under this limit, or warm up
        best = float("inf")
        for _ in range(chunks):
            began = time.perf_counter()
            trainer.run(0, every)
            best = min(best, time.perf_counter() - began)
        trainer.finish()  # its loop serves the next call of this limit
    return 1e3 * best / every


def compare(name: str, experiment: Experiment, members: int, pairs: int = 2,
            chunks: int = 3) -> PathTimes:
    """Both paths of ``experiment``'s near-limit 1x1 layers, in ``pairs`` alternating pairs."""
    entries = near_limit_entries(experiment)
    unrolled, product = [], []
    for _ in range(pairs):
        unrolled.append(update_ms(experiment, members, entries, chunks))
        product.append(update_ms(experiment, members, entries - 1, chunks))
    return PathTimes(name, members, entries, tuple(unrolled), tuple(product))


def run(pairs: int = 2) -> list[PathTimes]:
    """Compare both paths on every workload of LINEAR_WORKLOADS; prints a table."""
    from tabulate import tabulate

    results = []
    for name, (experiment, members) in LINEAR_WORKLOADS.items():
        print(f"timing {name}: {members} members, {pairs} pairs ...", flush=True)
        results.append(compare(name, experiment, members, pairs))
    rows = [[t.workload, t.members, t.entries, " / ".join(f"{ms:.1f}" for ms in t.unrolled_ms),
             " / ".join(f"{ms:.1f}" for ms in t.product_ms),
             " / ".join(f"{r:.2f}" for r in t.ratios())] for t in results]
    print(tabulate(rows, headers=["workload", "K", "entries", "unrolled (ms/update)",
                                  "product (ms/update)", "unrolled / product"],
                   tablefmt="github"))
    print(f"the trainer unrolls 1x1 layers of at most {ensemble.UNROLL_LIMIT} entries")
    return results
