"""The state one run of ``pytest claims/`` shares: profile, seeds, trial store, result paths."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lifetf.suite.baseline import compare
from lifetf.suite.profiles import Profile
from lifetf.suite.store import TrialStore, save_verdict
from lifetf.suite.verdict import Verdict, check_verdict, get_claim

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORTS = PROJECT_ROOT / "reports"


def default_report(backend: str) -> Path:
    """reports/REPORT.md for TensorFlow (the default backend), reports/REPORT-<backend>.md else."""
    return REPORTS / ("REPORT.md" if backend == "tensorflow" else f"REPORT-{backend}.md")


def results_name(profile: str, seed_base: int = 0, backend: str = "tensorflow") -> str:
    """'quick', 'quick-jax', 'quick-seedbase1000', ...: one name per profile, backend and seeds."""
    name = profile if backend == "tensorflow" else f"{profile}-{backend}"
    return name if seed_base == 0 else f"{name}-seedbase{seed_base}"


def results_dir_for(report_path: Path, profile: str, seed_base: int,
                    backend: str = "tensorflow") -> Path:
    """Where a run's verdict files live: beside the report, one folder per profile, backend and
    seed base."""
    return report_path.parent / "results" / results_name(profile, seed_base, backend)


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

    def conclude(self, verdict: Verdict, started: float) -> list[str]:
        """Stamp and store the verdict; return the problems (expected verdict, baseline gate)."""
        verdict.profile = self.profile.name
        verdict.seed_base = self.seed_base
        verdict.backend = self.backend
        verdict.seconds = round(time.perf_counter() - started, 2)
        verdict.recorded_at = datetime.now(UTC).isoformat(timespec="seconds")
        save_verdict(verdict, self.results_dir)
        entry = self.baseline.get(verdict.claim_id)
        expected = get_claim(verdict.claim_id).expected_for(self.profile.name)
        if expected is None and (entry is not None or self.establishing):
            # no verdict in the registry for this profile: the baseline is the expectation, and
            # a run that refreshes the baseline establishes it
            mismatch = None
        else:
            mismatch = check_verdict(verdict, self.profile.name)
        problems = [mismatch] if mismatch else []
        if self.check_baseline:
            if mismatch and entry is not None:
                # the verdict mismatch is already reported; keep only the estimate checks
                entry = {**entry, "verdict": verdict.verdict}
            problems += compare(verdict, entry)
        return problems
