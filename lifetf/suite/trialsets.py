"""Trial sets that several claims read: the success sweep and the minimal networks' runs.

Each set is declared once here: its experiments, its number of seeds (from the decision rules
of the claims that size it), and how to load it. The pytest plugin serves each set as a
fixture of the same name, and every test that asks for it runs in the set's xdist group, on
the worker that trains it. A claim that reads one cheap experiment of a set takes it with
:func:`cell` instead, so that it can run on any worker (at worst training that one experiment
a second time, to the same results).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from lifetf.nets.experiment import Experiment
from lifetf.stats.decisions import BoundRule, Plan, TrendRule
from lifetf.suite.io import atomic_write_json, read_json_record, read_json_records

SWEEP_ALPHA = 0.01  # level of the sweep's one-sided trend tests
SWEEP_RISK = 5e-4  # each of the two trend claims sized at half the usual risk: they share trials
# plausible success rates where the claims hold, milder than the pilot runs and post 1's figures
WIDTH_PLAUSIBLE = (0.02, 0.15, 0.35, 0.6)  # one step, rising with width
STEPS_PLAUSIBLE = (0.02, 0.1, 0.6)  # widest setting, as success rises with fewer steps


def _interpolated(rates: tuple[float, ...], settings: int) -> tuple[float, ...]:
    """The plausible rates stretched over ``settings`` settings (a profile's grid)."""
    import numpy as np

    return tuple(float(p) for p in np.interp(np.linspace(0, len(rates) - 1, settings),
                                              range(len(rates)), rates))


def width_rule(profile) -> TrendRule:
    """GOL-WIDTH-HELPS: success rises with width, one-sided Cochran-Armitage at SWEEP_ALPHA."""
    return TrendRule(_interpolated(WIDTH_PLAUSIBLE, len(profile.sweep_widths)), SWEEP_ALPHA)


def steps_rule(profile) -> TrendRule:
    """GOL-STEPS-HURT: success falls with steps (rates given in the claimed direction)."""
    return TrendRule(_interpolated(STEPS_PLAUSIBLE, len(profile.sweep_steps)), SWEEP_ALPHA)


def sweep_plans(profile) -> tuple[Plan, Plan]:
    """Seeds per grid cell: the fewest that give both trend claims SWEEP_RISK."""
    width = width_rule(profile).plan(profile.max_trials, SWEEP_RISK)
    steps = steps_rule(profile).plan(profile.max_trials, SWEEP_RISK)
    n = max(width.trials, steps.trials)
    return width_rule(profile).at(n), steps_rule(profile).at(n)


def sweep_experiments(profile) -> dict[tuple[int, int], Experiment]:
    """(steps, width) -> the sweep's experiment of that grid cell."""
    return {(s, m): profile.sweep.replace(steps=s, width=m)
            for s in profile.sweep_steps for m in profile.sweep_widths}


# -- the minimal networks' runs: GOL-MINIMAL-FAILS and GOL-BRUTE-FORCE --------------------------

MINIMAL_SETTINGS = tuple((rule, init) for rule in ("firner", "conway")
                         for init in ("pytorch", "keras"))
# 3x the published ~5% (Springer & Kenyon) and 0/20 (Firner); "usually fails": below one half
MINIMAL_RULE = BoundRule(plausible=0.15, bound=0.5, side="upper", settings=len(MINIMAL_SETTINGS))


def minimal_experiments(profile) -> dict[tuple[str, str], Experiment]:
    """(rule, init) -> the reference protocol at width 1, one step."""
    return {(rule, init): profile.experiment(rule=rule, init=init, width=1, steps=1)
            for rule, init in MINIMAL_SETTINGS}


# -- every set: its experiments and the plan that sizes it --------------------------------------

SETS = {
    "sweep": (sweep_experiments, lambda profile: sweep_plans(profile)[0]),
    "minimal": (minimal_experiments, lambda profile: MINIMAL_RULE.plan(profile.max_trials)),
}


class Runs(Mapping):
    """A set's runs by label. Reading a label's runs calls ``note(experiment key, seeds)``: the
    suite's ledger of what the running claim used, which its verdict reports."""

    def __init__(self, frames: dict[tuple, pd.DataFrame], experiments: dict[tuple, Experiment],
                 seeds: list[int], note: Callable[[str, list[int]], None]) -> None:
        self._frames, self._experiments, self._seeds, self._note = (
            frames, experiments, seeds, note)

    def __getitem__(self, label: tuple) -> pd.DataFrame:
        frame = self._frames[label]
        self._note(self._experiments[label].key, self._seeds)
        return frame

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)


@dataclass(frozen=True)
class TrialSet:
    """Trials several claims read: one experiment per label, the same n seeds each."""

    plan: Plan
    runs: Mapping[tuple, pd.DataFrame]
    experiments: dict[tuple, Experiment]

    @property
    def n(self) -> int:
        return self.plan.trials

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.experiments.values()]

    def wins(self, *label) -> int:
        return int(self.runs[label].success.sum())


def _resolved(name: str, suite) -> tuple[dict[tuple, Experiment], Plan, list[int]]:
    """The named set under the suite's profile: its experiments by label, its plan, its seeds."""
    experiments, plan = SETS[name]
    sized = plan(suite.profile)
    return experiments(suite.profile), sized, suite.seeds(sized.trials)


def set_needs(name: str, suite) -> list[tuple[Experiment, list[int]]]:
    """The (experiment, seeds) of the named set under the suite's profile."""
    chosen, _, seeds = _resolved(name, suite)
    return [(e, seeds) for e in chosen.values()]


@dataclass(frozen=True)
class SetTiming:
    """How long a run spent getting one trial set (training what the store lacked, reading the
    rest): time the claims' own times leave out, since several claims share it."""

    name: str
    seconds: float
    experiments: int
    trials: int
    recorded_at: str
    trained: int | None = None  # of the trials, those this run trained (None: not recorded)

    def save(self, results_dir: Path) -> Path:
        """Written atomically beside the run's verdict files, in ``trialsets/``."""
        return atomic_write_json(_timing_path(results_dir, self.name), asdict(self))

    def defers_to(self, earlier: SetTiming | None) -> bool:
        """Whether this record should not replace ``earlier``: this run only read the set back
        from the store, and ``earlier`` timed training the same set, which says more."""
        return (earlier is not None and self.trained == 0 and bool(earlier.trained)
                and (earlier.name, earlier.experiments, earlier.trials)
                == (self.name, self.experiments, self.trials))


def _timings_dir(results_dir: Path) -> Path:
    return Path(results_dir) / "trialsets"


def _timing_path(results_dir: Path, name: str) -> Path:
    return _timings_dir(results_dir) / f"{name}.json"


def _parse_timing(data: dict) -> SetTiming:
    return SetTiming(**data)


def load_timings(results_dir: Path) -> list[SetTiming]:
    """The stored timings of a run's trial sets; unreadable files are named and skipped."""
    return read_json_records(_timings_dir(results_dir), _parse_timing, "trial-set timing")


def _stored_timing(results_dir: Path, name: str) -> SetTiming | None:
    """The set's stored timing, if there is a readable one."""
    return read_json_record(_timing_path(results_dir, name), _parse_timing, "trial-set timing")


def load(name: str, suite) -> TrialSet:
    """The named set's trials, trained now or read from the store; the time it took is stored
    with the run's results, for the report, unless the run only read the set back and the stored
    record timed its training (so a rerun, or a run resumed from the store, keeps that time)."""
    started = time.perf_counter()
    trained_before = suite.store.trained
    chosen, plan, seeds = _resolved(name, suite)
    frames = {label: suite.store.rows(e, seeds) for label, e in chosen.items()}
    timing = SetTiming(name, round(time.perf_counter() - started, 2), len(chosen),
                       len(chosen) * len(seeds),
                       datetime.now(UTC).isoformat(timespec="seconds"),
                       trained=suite.store.trained - trained_before)
    if not timing.defers_to(_stored_timing(suite.results_dir, name)):
        timing.save(suite.results_dir)
    return TrialSet(plan, Runs(frames, chosen, seeds, suite.note), chosen)


def cell(name: str, label: tuple, suite) -> tuple[Experiment, list[int], pd.DataFrame]:
    """One experiment of the named set with the set's seeds and its runs (read from the store,
    or trained now), noted in the suite's ledger like a read through the set."""
    chosen, _, seeds = _resolved(name, suite)
    if label not in chosen:
        raise KeyError(f"trial set {name!r} has no experiment {label!r}; it has "
                       f"{', '.join(map(str, chosen))}")
    return chosen[label], seeds, suite.rows(chosen[label], seeds)


def sweep_needs(suite):
    return set_needs("sweep", suite)


def minimal_needs(suite):
    return set_needs("minimal", suite)
