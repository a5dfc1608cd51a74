"""A profile's work before it runs: every claim's experiments, models and estimated time.

The claims declare the trials they train (``Claim.needs``); the plan gathers them, removes
duplicates (claims that share trials), splits them into work units of (experiment, seeds) for
the executors, and prices them with the device's cost model (:mod:`lifetf.nets.costs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lifetf.nets.costs import MAX_MEMBERS, Calibration, members_per_graph
from lifetf.nets.experiment import Experiment
from lifetf.suite.catalogue import Claim, catalogue
from lifetf.suite.profiles import Profile


@dataclass(frozen=True)
class Unit:
    """One piece of work: train these seeds of this experiment (one graph)."""

    experiment: Experiment
    seeds: tuple[int, ...]

    def describe(self) -> str:
        return f"{self.experiment.key} seeds {self.seeds[0]}..{self.seeds[-1]}"


def needs(claims: Iterable[Claim], profile: Profile, seed_base: int = 0
          ) -> dict[str, list[tuple[Experiment, list[int]]]]:
    """Claim ID -> the (experiment, seeds) it trains under ``profile``."""
    from lifetf.suite.session import Suite

    suite = Suite(profile=profile, seed_base=seed_base, store=None, report_path=None)
    return {c.id: [(e, list(s)) for e, s in c.trials(suite)] for c in claims
            if c.trials(suite)}


def trials(by_claim: dict[str, list[tuple[Experiment, list[int]]]]
           ) -> dict[Experiment, list[int]]:
    """Every distinct trial, grouped by experiment (shared trials counted once)."""
    merged: dict[Experiment, set[int]] = {}
    for pairs in by_claim.values():
        for experiment, seeds in pairs:
            merged.setdefault(experiment, set()).update(seeds)
    return {e: sorted(s) for e, s in merged.items()}


def units(by_experiment: dict[Experiment, Sequence[int]], store=None,
          max_members: int = MAX_MEMBERS) -> list[Unit]:
    """Work units of at most ``max_members`` seeds (and the memory budget's members per
    graph), leaving out the trials the store already holds; the largest work first."""
    found = []
    for experiment, seeds in by_experiment.items():
        missing = store.missing(experiment, seeds) if store is not None else list(seeds)
        size = min(max_members, members_per_graph(experiment))
        found += [Unit(experiment, tuple(missing[i:i + size]))
                  for i in range(0, len(missing), size)]
    return sorted(found, key=lambda u: -u.experiment.batches * len(u.seeds) *
                  u.experiment.n_params)


@dataclass(frozen=True)
class Estimate:
    """The models and estimated device seconds of one claim (or of a whole profile)."""

    claim: str
    experiments: int
    models: int
    seconds: float


def estimate(profile: Profile, calibration: Calibration, seed_base: int = 0,
             claims: Iterable[Claim] | None = None) -> tuple[list[Estimate], Estimate]:
    """Per claim and in all (shared trials once): experiments, models, estimated seconds."""
    by_claim = needs(claims if claims is not None else catalogue(), profile, seed_base)

    def priced(pairs: dict[Experiment, Sequence[int]]) -> tuple[int, float]:
        models = sum(len(s) for s in pairs.values())
        seconds = 0.0
        for experiment, seeds in pairs.items():
            members = min(calibration.members, members_per_graph(experiment), len(seeds))
            seconds += len(seeds) * calibration.seconds_per_model(experiment, members)
        return models, seconds

    rows = []
    for claim_id, pairs in by_claim.items():
        models, seconds = priced(trials({claim_id: pairs}))
        rows.append(Estimate(claim_id, len(pairs), models, seconds))
    every = trials(by_claim)
    models, seconds = priced(every)
    return rows, Estimate("all (shared trials once)", len(every), models, seconds)
