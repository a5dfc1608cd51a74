"""The claim catalogue (ID, statement, source, quote, expected verdict) and ``Verdict``."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

VERDICTS = ("reproduced", "refuted", "inconclusive")


@dataclass(frozen=True)
class Claim:
    """A catalogue entry; ``expected`` maps a profile to the verdict the suite established."""

    id: str
    group: str
    statement: str
    source: str
    quote: str = ""
    expected: dict[str, str] = field(default_factory=dict)

    def expected_for(self, profile: str) -> str | None:
        return self.expected.get(profile)


@dataclass(frozen=True)
class Estimate:
    """A named estimate with its interval; proportions also keep their counts for the gate."""

    name: str
    value: float
    low: float | None = None
    high: float | None = None
    successes: int | None = None
    trials: int | None = None

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


def bound_verdict(estimate: Estimate, bound: float) -> str:
    """The verdict of a claim that a rate exceeds ``bound``: reproduced when the interval lies
    above it, refuted when it lies below, inconclusive when it straddles it."""
    if estimate.low is None or estimate.high is None:
        raise ValueError(f"{estimate.name} has no interval to compare with {bound}")
    if estimate.low > bound:
        return "reproduced"
    if estimate.high < bound:
        return "refuted"
    return "inconclusive"


def _json_default(value):
    """numpy scalars and arrays in tables become plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a verdict")


SOURCE_000 = "000_99adcdd6275fb052.txt"
SOURCE_004 = "004_0141badb430aedc6.txt"

CATALOGUE: tuple[Claim, ...] = (
    Claim(
        "GOL-CAPACITY",
        "A",
        "The minimal network can represent n steps exactly: with hand-built weights the loss is "
        "~0 and all test boards match.",
        "protocol.md (post 1), paper",
        "the known high quality solution",
        {"quick": "reproduced", "paper": "reproduced"},
    ),
    Claim(
        "GOL-MINIMAL-FAILS",
        "A",
        "The minimal network trained from random initialisation usually fails.",
        f"{SOURCE_000}, protocol.md",
        "the networks ... were certainly getting stuck",
        {"quick": "reproduced", "paper": "reproduced"},
    ),
    Claim("GOL-WIDTH-HELPS", "A", "Wider networks succeed more often.", f"{SOURCE_000}, paper",
          "Adding more parameters to the DNN smooths out the loss surface",
          expected={"quick": "reproduced"}),
    Claim("GOL-STEPS-HURT", "A", "At a fixed width, more steps means less success.",
          "protocol.md (post 1)",
          expected={"quick": "reproduced"}),
    Claim("GOL-ALLDEAD-PLATEAU", "A",
          "The ~50% ratio of correct predictions at 10-20 steps is networks predicting all-dead, "
          "not guessing.", "protocol.md (post 1, post 2 fig. 2)",
          expected={"quick": "reproduced"}),
    Claim("GOL-LOSS-FOOLS", "A",
          "Training loss goes down and per-cell accuracy looks high even when training fails.",
          SOURCE_000,
          "Just because the loss goes down during training doesn't mean that the place where "
          "we end up is any good.",
          expected={"quick": "reproduced"}),
    Claim("GOL-BEST-OF-K", "A",
          "Training several networks and keeping the best copes with unlucky initialisations.",
          SOURCE_000, "we always train several networks for a task rather than a single one",
          expected={"quick": "reproduced"}),
    Claim("GOL-TRICKS", "A",
          "Sigmoid output, LeakyReLU and the normalize initialisation make training succeed far "
          "more often than the plain ReLU network at the same width.", "protocol.md (post 1)",
          expected={"quick": "refuted"}),
    Claim("GOL-DENSITY", "A",
          "A critical live-cell density of the training boards makes minimal networks converge "
          "far more often.", "paper",
          expected={"quick": "inconclusive"}),
    Claim("GOL-SIGN-FLIP", "A",
          "Flipping the sign of one weight of the initialisation can make training fail.",
          "paper",
          expected={"quick": "reproduced"}),
    Claim("GOL-BRUTE-FORCE", "A",
          "A 3x3 receptive field has 2^9 binary states; with the corners ignored, 2^5 = 32.",
          SOURCE_000,
          expected={"quick": "reproduced"}),
    Claim("GOL-CORNERS", "A",
          "The corner weights of the 3x3 filters, which do not influence the output, go to zero "
          "during training.", SOURCE_000,
          expected={"quick": "reproduced"}),
    Claim("LAND-BARRIERS", "B",
          "Straight walks from a known good solution to trained minima climb over peaks of high "
          "loss.", SOURCE_000, expected={"quick": "reproduced"}),
    Claim("LAND-WIDTH-SMOOTHS", "B",
          "Wider networks have a smoother surface: barriers shrink, more endpoints are good.",
          SOURCE_000, expected={"quick": "inconclusive"}),
    Claim("LAND-SAME-MINIMA", "B", "Several runs end at nearly the same solution.", SOURCE_000,
          "several of the lines end up at nearly the same location",
          expected={"quick": "reproduced"}),
    Claim("LAND-INIT-DECIDES", "B",
          "The random initialisation determines where training converges.", SOURCE_000,
          expected={"quick": "reproduced"}),
    Claim("LAND-FLAT-STUCK", "B",
          "Parameters stall where the surface is flat: tiny gradients while the loss stays high.",
          f"{SOURCE_000}, {SOURCE_004}", expected={"quick": "reproduced"}),
    Claim("ESC-MINIBATCH", "C",
          "Minibatch noise helps a model leave shallow local minima that full-batch descent "
          "stays in.", SOURCE_004, expected={"quick": "refuted"}),
    Claim("ESC-SADDLES", "C",
          "Most points where the gradient vanishes are saddles, not minima.", SOURCE_004,
          expected={"quick": "reproduced"}),
    Claim("ESC-PLATEAU", "C",
          "Plateaus slow training down: the update nearly stops while the loss stays high.",
          SOURCE_004, expected={"quick": "reproduced"}),
    Claim("ESC-OVERFIT", "C",
          "The global minimum of the training loss may overfit; other minima generalise better.",
          SOURCE_004, expected={"quick": "refuted"}),
    Claim("OUT-SOFTMAX-HIDES", "D",
          "A softmax output looks confident even on meaningless input; independent sigmoid "
          "outputs can say none of these.", SOURCE_000,
          "we force those outputs into a range that looks correct, regardless of what nonsense "
          "is coming out of the last layer of the network",
          expected={"quick": "inconclusive"}),
    Claim("REG-NOISY-INPUT", "D",
          "Dropout or L1 drives the weight of a noisily correlated input towards zero.",
          SOURCE_000, "dropout can be used to force the weight of the noisy input to 0",
          expected={"quick": "refuted"}),
    Claim("REG-PRUNE", "D",
          "An L1 penalty forces parameters to zero so the network can be pruned.", SOURCE_000,
          "apply something like L1 or L2 loss to force some parameters to 0 and then prune them "
          "after training so that the end result is a smaller network",
          expected={"quick": "reproduced"}),
)

_BY_ID = {claim.id: claim for claim in CATALOGUE}


def get_claim(claim_id: str) -> Claim:
    """Look up a catalogue entry; a clear error names an unknown ID."""
    try:
        return _BY_ID[claim_id]
    except KeyError:
        raise ValueError(f"unknown claim ID {claim_id!r}") from None


def check_verdict(verdict: Verdict, profile: str) -> str | None:
    """None if the verdict equals the expected one, else a readable failure message."""
    claim = get_claim(verdict.claim_id)
    expected = claim.expected_for(profile)
    if expected is None:
        return (
            f"{claim.id}: no expected verdict is recorded for profile {profile!r}; "
            f"this run found {verdict.verdict}: {verdict.summary}"
        )
    if verdict.verdict != expected:
        return (
            f"{claim.id} ({claim.statement}) was expected to be {expected} but this run found "
            f"{verdict.verdict}: {verdict.summary}"
        )
    return None
