"""The regression gate: each claim's verdict and key estimates as committed, and the comparison.

A changed verdict fails. An estimate with counts (successes of trials) fails when a two-sided
Fisher exact test rejects "same proportion as the baseline" at 1e-3, so the gate fails when the
claim's numbers really moved, not when other seeds wobble.
"""

from __future__ import annotations

import json
from pathlib import Path

from lifetf.stats import fisher_two_proportions
from lifetf.suite.io import atomic_write_json
from lifetf.suite.verdict import Verdict

GATE_ALPHA = 1e-3


def load_baseline(path: Path) -> dict[str, dict]:
    """Claim ID -> {verdict, estimates}; an absent file is an empty baseline."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        return dict(data["claims"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"baseline file {path} is unreadable: {error}") from None


def baseline_entry(verdict: Verdict) -> dict:
    """What the baseline keeps of one verdict."""
    return {
        "verdict": verdict.verdict,
        "estimates": [
            {"name": e.name, "value": e.value, "successes": e.successes, "trials": e.trials}
            for e in verdict.estimates
        ],
    }


def compare(verdict: Verdict, entry: dict | None) -> list[str]:
    """Readable problems of ``verdict`` against its baseline entry (none if it holds)."""
    if entry is None:
        return []
    problems = []
    if verdict.verdict != entry["verdict"]:
        problems.append(
            f"{verdict.claim_id}: verdict changed from {entry['verdict']} (baseline) to "
            f"{verdict.verdict}: {verdict.summary}"
        )
    old = {e["name"]: e for e in entry.get("estimates", [])}
    for estimate in verdict.estimates:
        before = old.get(estimate.name)
        if before is None or estimate.successes is None or before.get("successes") is None:
            continue
        result = fisher_two_proportions(
            estimate.successes, estimate.trials, before["successes"], before["trials"]
        )
        if result.p_value < GATE_ALPHA:
            problems.append(
                f"{verdict.claim_id}: {estimate.name} moved from {before['successes']}/"
                f"{before['trials']} (baseline) to {estimate.successes}/{estimate.trials}; "
                f"Fisher exact p = {result.p_value:.2g} < {GATE_ALPHA:g}"
            )
    return problems


def update_baseline(path: Path, verdicts: list[Verdict], profile: str) -> None:
    """Merge these verdicts into the baseline file (refreshing it on purpose)."""
    claims = load_baseline(path)
    for verdict in verdicts:
        claims[verdict.claim_id] = baseline_entry(verdict)
    payload = {"profile": profile, "alpha": GATE_ALPHA, "claims": dict(sorted(claims.items()))}
    atomic_write_json(path, payload)
