"""What a claim test establishes: ``Verdict`` and its ``Estimate``s (values with intervals)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

VERDICTS = ("reproduced", "refuted", "inconclusive")


@dataclass(frozen=True)
class Estimate:
    """A named estimate with its interval; proportions also keep their counts for the gate."""

    name: str
    value: float
    low: float | None = None
    high: float | None = None
    successes: int | None = None
    trials: int | None = None

    def span(self, digits: int = 2) -> str:
        """'0.25 [0.15, 0.39]': the value and its interval, for a summary sentence."""
        if self.low is None or self.high is None:
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def __str__(self) -> str:
        if self.low is None or self.high is None:
            return f"{self.name} = {self.value:.3g}"
        text = f"{self.name} = {self.value:.3g} [{self.low:.3g}, {self.high:.3g}]"
        if self.successes is not None and self.trials is not None:
            text += f" ({self.successes}/{self.trials})"
        return text


@dataclass
class Verdict:
    """What one claim test established, with everything the report and the gate need."""

    claim_id: str
    verdict: str
    summary: str  # one readable sentence: the estimate, interval and threshold
    estimates: list[Estimate]
    test: str = ""
    p_value: float | None = None
    threshold: str = ""
    design: str = ""  # trials, test, and the chance the test fails when the claim holds
    false_failure: float | None = None
    trials: int = 0
    experiments: list[str] = field(default_factory=list)  # Experiment keys
    protocol: list[dict] = field(default_factory=list)  # rows: setting -> value
    table: list[dict] = field(default_factory=list)  # the results table
    figures: list[str] = field(default_factory=list)  # paths relative to the report
    notes: str = ""
    seconds: float = 0.0
    profile: str = ""
    seed_base: int = 0
    recorded_at: str = ""  # ISO date-time of the run
    backend: str = "tensorflow"  # the Keras backend that trained the models
    design_trials: int | None = None  # the trials (per arm or setting) the design was evaluated at
    # framework versions and device -> how many of the claim's trials they trained, from the
    # trials' own records (None: a verdict file older than this field)
    trained_with: dict[str, int] | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {self.verdict!r}")

    @property
    def key_estimate(self) -> Estimate | None:
        return self.estimates[0] if self.estimates else None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Verdict:
        data = dict(data)
        data["estimates"] = [Estimate(**e) for e in data.get("estimates", [])]
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=_json_default)


def _json_default(value):
    """numpy scalars and arrays in tables become plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a verdict")


def quartiles(values, digits: int = 3) -> str:
    """'median (first quartile - third quartile)' for a report table."""
    import numpy as np

    q1, q2, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return f"{q2:.{digits}g} ({q1:.{digits}g} - {q3:.{digits}g})"
