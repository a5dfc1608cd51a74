"""The order in which tests reach pytest-xdist's workers: the longest claims first.

pytest-xdist hands tests out in collection order (trial-set groups first, largest first), so a
long claim collected after the unit tests can run alone at the end while the other worker
idles. Starting the claims in order of their last measured time, and filling in with the short
unit tests afterwards, shortens ``pytest tests/ claims/ -n 2`` without changing what any test
computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from lifetf.paths import REPORTS
from lifetf.suite.session import results_dir_for
from lifetf.suite.store import load_verdicts

T = TypeVar("T")


def past_seconds(report_path: Path, profile: str, backend: str,
                 fallback: Path | None = REPORTS / "REPORT.md") -> dict[str, float]:
    """Each claim's time in the last stored run of ``profile`` on ``backend`` (TensorFlow's run
    where this backend has none): the durations to schedule by. Runs stored beside the report
    come first, then those beside ``fallback`` (the project's own), so that a report written
    elsewhere (``--report /tmp/x.md``) still starts the longest claims first."""
    for report in dict.fromkeys(r for r in (report_path, fallback) if r is not None):
        for name in dict.fromkeys((backend, "tensorflow")):
            verdicts = load_verdicts(results_dir_for(report, profile, 0, name))
            if verdicts:
                return {v.claim_id: float(v.seconds) for v in verdicts}
    return {}


def longest_claims_first(items: Sequence[T], claims: Sequence[str | None],
                         seconds: dict[str, float]) -> list[T]:
    """``items`` reordered: the claims (``claims[i]`` is item i's claim ID, None for a unit
    test) by their past ``seconds``, longest first (claims without a time before them: they may
    be long), then everything else in its own order."""
    if len(items) != len(claims):
        raise ValueError(f"{len(items)} items but {len(claims)} claim IDs")
    order = sorted((i for i, c in enumerate(claims) if c is not None),
                   key=lambda i: -seconds.get(claims[i], float("inf")))
    rest = [i for i, c in enumerate(claims) if c is None]
    return [items[i] for i in order + rest]
