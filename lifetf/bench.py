"""Benchmark: one Keras ``fit`` per seed against the vectorised trainer, on the reference run.

Each way runs in its own subprocess so that its peak resident memory is its own. The
one-by-one way is timed on a few seeds and scaled per model; both include building, compiling,
data and training.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np

from lifetf.experiment import Experiment


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def fit_one_by_one(experiment: Experiment, seeds: list[int]) -> float:
    """Seconds per model when each seed gets its own Keras model and ``fit`` call."""
    import keras

    from lifetf.models import build
    from lifetf.rules import evolve, random_boards

    began = time.perf_counter()
    for seed in seeds:
        n = experiment.batches * experiment.batch_size
        boards = random_boards(n, experiment.board_size, experiment.density, seed=seed)
        targets = evolve(boards, experiment.rule, experiment.steps)
        model = build(experiment.arch, experiment.steps, experiment.width, experiment.depth,
                      experiment.activation, experiment.output, experiment.init, seed)
        model.compile(
            optimizer=keras.optimizers.Adam(experiment.learning_rate, epsilon=1e-8),
            loss="binary_crossentropy",
        )
        model.fit(boards[..., None].astype("float32"), targets[..., None].astype("float32"),
                  batch_size=experiment.batch_size, epochs=1, shuffle=False, verbose=0)
    return (time.perf_counter() - began) / len(seeds)


def vectorised(experiment: Experiment, seeds: list[int]) -> float:
    """Seconds per model when all seeds train together in one graph (evaluation included)."""
    from lifetf.train import train

    began = time.perf_counter()
    train(experiment, seeds)
    return (time.perf_counter() - began) / len(seeds)


def worker(way: str, seeds: int, batches: int) -> None:
    """Run one way in this process and print its figures as JSON on the last line."""
    experiment = Experiment(batches=batches)
    chosen = list(range(seeds))
    per_model = fit_one_by_one(experiment, chosen) if way == "fit" else vectorised(
        experiment, chosen)
    print(json.dumps({"way": way, "seeds": seeds, "seconds_per_model": per_model,
                      "peak_rss_mib": _peak_rss_mib()}))


def run(seeds: int = 64, fit_seeds: int = 3, batches: int = 5000) -> dict:
    """Both ways in subprocesses; prints and returns seconds per model, ratio and peak memory."""
    results = {}
    for way, n in (("fit", fit_seeds), ("vectorised", seeds)):
        print(f"timing {way}: {n} models of {batches} batches ...", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "lifetf", "bench", "--worker", way, "--seeds", str(n),
             "--batches", str(batches)],
            check=False, capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the {way} benchmark failed:\n{done.stderr[-3000:]}")
        results[way] = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = results["fit"]["seconds_per_model"] / results["vectorised"]["seconds_per_model"]
    from tabulate import tabulate

    rows = [
        [way, r["seeds"], f"{r['seconds_per_model']:.3f}", f"{r['peak_rss_mib']:.0f}"]
        for way, r in results.items()
    ]
    print(f"reference experiment: {Experiment(batches=batches).describe()}")
    print(tabulate(rows, headers=["way", "models timed", "seconds per model", "peak RSS (MiB)"],
                   tablefmt="github"))
    print(f"speed-up of the vectorised trainer per model: {ratio:.1f}x")
    results["ratio"] = float(np.round(ratio, 2))
    return results
