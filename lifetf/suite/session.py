"""The state one run of ``pytest claims/`` shares: profile, seeds, trial store, result paths."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lifetf.stats.decisions import Plan
from lifetf.suite.baseline import compare
from lifetf.suite.catalogue import Claim, check_verdict
from lifetf.suite.profiles import Profile
from lifetf.suite.store import TrialStore, records_key, save_verdict
from lifetf.suite.trialsets import SetTiming, load_timings
from lifetf.suite.verdict import Verdict


def results_name(profile: str, seed_base: int = 0, backend: str = "tensorflow") -> str:
    """'quick', 'quick-jax', 'quick-seedbase1000', ...: one name per profile, backend and seeds."""
    name = profile if backend == "tensorflow" else f"{profile}-{backend}"
    return name if seed_base == 0 else f"{name}-seedbase{seed_base}"


def results_dir_for(report_path: Path, profile: str, seed_base: int,
                    backend: str = "tensorflow") -> Path:
    """Where a run's verdict files live: beside the report, one folder per profile, backend and
    seed base."""
    return report_path.parent / "results" / results_name(profile, seed_base, backend)


def stored_runs(report_path: Path, seed_base: int) -> dict[str, list[Verdict]]:
    """The stored verdicts of every profile and backend beside the report, keyed
    ``"profile, backend"`` (those with any), for the report's side-by-side table."""
    from lifetf.nets.backends import BACKENDS
    from lifetf.suite.profiles import PROFILES
    from lifetf.suite.store import load_verdicts

    found = {f"{p}, {b}": load_verdicts(results_dir_for(report_path, p, seed_base, b))
             for p in PROFILES for b in BACKENDS}
    return {name: verdicts for name, verdicts in found.items() if verdicts}


@dataclass(frozen=True)
class ReportInputs:
    """What a report is written from: every stored run beside it, this run's verdicts, and
    this run's trial-set timings."""

    runs: dict[str, list[Verdict]]
    verdicts: list[Verdict]
    timings: list[SetTiming]
    results_dir: Path


def report_inputs(report_path: Path, profile: str, seed_base: int,
                  backend: str) -> ReportInputs:
    """The stored results a report of (profile, seed base, backend) at ``report_path`` shows."""
    runs = stored_runs(report_path, seed_base)
    results = results_dir_for(report_path, profile, seed_base, backend)
    return ReportInputs(runs, runs.get(f"{profile}, {backend}", []), load_timings(results),
                        results)


@dataclass
class Suite:
    """Everything a claim test needs from the run: sizes, seeds, trials, where results go."""

    profile: Profile
    seed_base: int
    store: TrialStore
    report_path: Path
    backend: str = "tensorflow"
    baseline: dict[str, dict] = field(default_factory=dict)
    check_baseline: bool = True
    establishing: bool = False  # --update-baseline: this run records the expected verdicts
    # what the running claim has read: experiment (or toy config) key -> seeds; a verdict that
    # names no trials or experiments of its own gets these
    read: dict[str, set[int]] = field(default_factory=dict)
    read_experiments: list[str] = field(default_factory=list)

    @property
    def results_dir(self) -> Path:
        return results_dir_for(self.report_path, self.profile.name, self.seed_base, self.backend)

    @property
    def figures_dir(self) -> Path:
        return self.report_path.parent / "figures"

    def seeds(self, n: int, offset: int = 0) -> list[int]:
        """``n`` trial seeds, shifted by the run's seed base (and ``offset`` for a second set)."""
        return [self.seed_base + offset + i for i in range(n)]

    def figure(self, name: str) -> tuple[Path, str]:
        """(absolute path, path relative to the report) for a figure of this profile."""
        file = f"{results_name(self.profile.name, self.seed_base, self.backend)}-{name}.png"
        return self.figures_dir / file, f"figures/{file}"

    def planned(self, claim: Claim) -> tuple[Plan, int, list[int]]:
        """The claim's plan under this profile, its trials per arm and their seeds."""
        plan = claim.plan(self.profile)
        return plan, plan.trials, self.seeds(plan.trials)

    def plot(self, name: str, draw, *args, **kwargs) -> str:
        """Draw a figure of this profile with ``draw(*args, path=..., **kwargs)``; returns its
        path relative to the report."""
        path, rel = self.figure(name)
        draw(*args, path=path, **kwargs)
        return rel

    def begin(self) -> None:
        """A claim test starts: forget what the previous one read."""
        self.read, self.read_experiments = {}, []

    def note(self, key: str, seeds, experiment: bool = True) -> None:
        """Record that the running claim used ``key``'s trials for ``seeds``."""
        self.read.setdefault(key, set()).update(int(s) for s in seeds)
        if experiment and key not in self.read_experiments:
            self.read_experiments.append(key)

    def rows(self, experiment, seeds):
        """The trials of ``experiment`` for ``seeds``: cached, or trained now."""
        self.note(experiment.key, seeds)
        return self.store.rows(experiment, seeds)

    def records(self, config, seeds):
        """A toy model's records for ``seeds`` (``config.train``), cached under its
        ``kind`` and ``version``."""
        self.note(records_key(config.kind, config), seeds, experiment=False)
        return self.store.records(config.kind, config.version, config, seeds,
                                  lambda: config.train(seeds))

    def conclude(self, claim: Claim, verdict: Verdict, started: float) -> list[str]:
        """Stamp and store the verdict; return the problems (expected verdict, baseline gate)."""
        verdict.profile = self.profile.name
        verdict.trials = verdict.trials or sum(len(s) for s in self.read.values())
        verdict.experiments = verdict.experiments or list(self.read_experiments)
        verdict.trained_with = self.store.trained_with(self.read)
        verdict.seed_base = self.seed_base
        verdict.backend = self.backend
        verdict.seconds = round(time.perf_counter() - started, 2)
        verdict.recorded_at = datetime.now(UTC).isoformat(timespec="seconds")
        save_verdict(verdict, self.results_dir)
        entry = self.baseline.get(verdict.claim_id)
        expected = claim.expected_for(self.profile.name)
        if expected is None and (entry is not None or self.establishing):
            # no verdict in the registry for this profile: the baseline is the expectation, and
            # a run that refreshes the baseline establishes it
            mismatch = None
        else:
            mismatch = check_verdict(claim, verdict, self.profile.name)
        problems = [mismatch] if mismatch else []
        if self.check_baseline:
            if mismatch and entry is not None:
                # the verdict mismatch is already reported; keep only the estimate checks
                entry = {**entry, "verdict": verdict.verdict}
            problems += compare(verdict, entry)
        return problems
