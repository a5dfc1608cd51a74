"""The success sweep grid (widths x steps) that several claims share, and rate estimates.

GOL-WIDTH-HELPS trains the grid; GOL-STEPS-HURT, GOL-BEST-OF-K, GOL-LOSS-FOOLS, GOL-CORNERS,
LAND-FLAT-STUCK and ESC-PLATEAU read the same cached trials, so they run on one xdist worker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifetf import stats
from lifetf.suite.verdict import Estimate


def count_rate(name: str, wins: int, n: int) -> Estimate:
    """A proportion with its 95% Wilson interval and counts (nan when there are no trials)."""
    if n == 0:
        return Estimate(name, float("nan"), successes=0, trials=0)
    interval = stats.proportion_interval(wins, n, 0.95, "wilson")
    return Estimate(name, interval.estimate, interval.low, interval.high, wins, n)


def rate(name: str, rows: pd.DataFrame) -> Estimate:
    """The success proportion of a frame of trials."""
    return count_rate(name, int(rows.success.sum()), len(rows))


SWEEP_ALPHA = 0.01  # level of the one-sided trend tests
SWEEP_CANDIDATES = (16, 20, 24, 28, 32, 40, 48, 64)
# plausible success rates where the claims hold, milder than the pilot runs and post 1's figures
WIDTH_PLAUSIBLE = (0.02, 0.15, 0.35, 0.6)  # n = 1, rising with width
STEPS_PLAUSIBLE = (0.6, 0.1, 0.02)  # widest setting, falling with steps 1, 2, 3


def sweep_design(profile) -> tuple[stats.Design, stats.Design]:
    """Trials per grid cell: the fewest that give both trend tests false failure < 5e-4."""
    widths = len(profile.sweep_widths)
    steps = len(profile.sweep_steps)
    width_p = list(np.interp(np.linspace(0, 3, widths), range(4), WIDTH_PLAUSIBLE))
    # design_trend models the increasing alternative: give it the steps in reverse order
    steps_reversed = list(np.interp(np.linspace(0, 2, steps), range(3), STEPS_PLAUSIBLE[::-1]))

    def designs(n: int) -> tuple[stats.Design, stats.Design]:
        return (stats.design_trend([n] * widths, width_p, SWEEP_ALPHA),
                stats.design_trend([n] * steps, steps_reversed, SWEEP_ALPHA))

    for n in SWEEP_CANDIDATES:
        pair = designs(n)
        if max(d.false_failure for d in pair) <= 5e-4:
            return pair
    raise ValueError(f"no sweep size among {SWEEP_CANDIDATES} reaches a false-failure of 5e-4")


def sweep_cells(suite) -> tuple[int, dict[tuple[int, int], pd.DataFrame], list[str]]:
    """Trials of every (steps, width) cell of the sweep grid, trained or loaded from the cache."""
    width_design, _ = sweep_design(suite.profile)
    n = width_design.trials // len(suite.profile.sweep_widths)
    seeds = suite.seeds(n)
    cells, keys = {}, []
    for steps in suite.profile.sweep_steps:
        for width in suite.profile.sweep_widths:
            experiment = suite.profile.sweep.replace(steps=steps, width=width)
            cells[(steps, width)] = suite.store.rows(experiment, seeds)
            keys.append(experiment.key)
    return n, cells, keys


def sweep_protocol(suite, n: int) -> list[dict]:
    e = suite.profile.sweep
    return [
        {"setting": "network", "value": f"firner, {e.activation}, {e.output} output, "
                                         f"{e.init} init"},
        {"setting": "training", "value": f"Adam {e.learning_rate:g}, {e.batches} batches of "
                                          f"{e.batch_size} fresh {e.board_size}x{e.board_size} "
                                          f"boards, density {e.density}"},
        {"setting": "widths", "value": ", ".join(map(str, suite.profile.sweep_widths))},
        {"setting": "steps", "value": ", ".join(map(str, suite.profile.sweep_steps))},
        {"setting": "seeds per cell", "value": n},
    ]
