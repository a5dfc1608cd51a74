"""The claim catalogue: each claim declared once, beside its test, and read from there.

A claim module in ``claims/<group>/test_<claim>.py`` holds one or more module-level
:class:`Claim` declarations (ID, statement, source, expected verdict per profile, decision
rule with its plausible effect, per-profile sizes, the trials it needs) and the tests they
decorate. :func:`catalogue` imports those modules and collects the declarations, so the report,
the baseline gate and ``lifetf plan`` read the same single declaration as the test.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lifetf.nets.provenance import PROJECT_ROOT
from lifetf.stats.decisions import Plan, Rule
from lifetf.suite.decide import powered
from lifetf.suite.verdict import VERDICTS, Verdict

CLAIMS_DIR = PROJECT_ROOT / "claims"
GROUPS = {"A": "gol", "B": "land", "C": "esc", "D": "out"}  # catalogue part -> folder


@dataclass(frozen=True)
class Claim:
    """One claim of the catalogue and everything its test needs to know about itself."""

    id: str
    group: str  # A (capacity), B (landscape), C (escaping minima), D (outputs, regularisation)
    statement: str
    source: str
    quote: str = ""
    expected: Mapping[str, str] = field(default_factory=dict)  # profile -> established verdict
    rule: Rule | Callable | None = None  # the decision rule with its plausible effect, or a
    # function of the profile giving it (a rule whose plausible rates follow the profile's grid)
    sizes: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # profile -> sizes
    arms: Callable | None = None  # suite -> the experiments it trains, at its planned trials
    needs: Callable | None = None  # suite -> [(Experiment, seeds)], when not from ``arms``
    trial_sets: tuple[str, ...] = ()  # shared trial sets it reads (lifetf.suite.trialsets)

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"Claim {self.id}: group {self.group!r} is not one of "
                             f"{', '.join(GROUPS)}")
        bad = {p: v for p, v in self.expected.items() if v not in VERDICTS}
        if bad:
            raise ValueError(f"Claim {self.id}: expected verdicts {bad} are not among "
                             f"{', '.join(VERDICTS)}")

    def expected_for(self, profile: str) -> str | None:
        return self.expected.get(profile)

    def size(self, profile, name: str):
        """A size of this claim under ``profile``: its own, else that of the profile it takes
        its sizes from (``Profile.sizes_from``), else quick's."""
        for key in (profile.name, profile.sizes_from, "quick"):
            if name in self.sizes.get(key, {}):
                return self.sizes[key][name]
        raise KeyError(f"{self.id} declares no size {name!r} for profile {profile.name!r}")

    def rule_for(self, profile) -> Rule:
        """The decision rule under ``profile``."""
        if self.rule is None:
            raise ValueError(f"{self.id} declares no decision rule")
        return self.rule if isinstance(self.rule, Rule) else self.rule(profile)

    def plan(self, profile) -> Plan:
        """Trials of this claim's rule within the profile's cap on trials."""
        return self.rule_for(profile).plan(profile.max_trials)

    def trials(self, suite) -> list:
        """The (experiment, seeds) this claim trains under the suite's profile and seeds."""
        if self.needs is not None:
            return list(self.needs(suite))
        if self.arms is None:
            return []
        seeds = suite.seeds(self.plan(suite.profile).trials)
        return [(e, seeds) for e in self.arms(suite)]

    def __call__(self, test: Callable) -> Callable:
        """Decorate the claim's test: it carries the claim (the plugin marks and groups it)."""
        test.claim = self
        return test

    def verdict(self, decision, plan: Plan | None, summary: str, **fields) -> Verdict:
        """This claim's Verdict from a decision (verdict, test, threshold, p-value) and the
        design it was made under (an underpowered design makes it inconclusive by design);
        ``fields`` are Verdict's other fields."""
        if plan is not None:
            decision = powered(decision, plan)
            if not plan.powered:
                summary += (f" With {plan.trials} trials per setting, the most this profile "
                            f"affords, the design's chance to fail when the claim holds is "
                            f"{plan.false_failure:.2g}, above its target: inconclusive by "
                            f"design.")
        return Verdict(
            claim_id=self.id, verdict=decision.verdict, summary=summary,
            test=decision.test, threshold=decision.threshold, p_value=decision.p_value,
            design=str(plan) if plan is not None else fields.pop("design", ""),
            false_failure=(plan.false_failure if plan is not None and plan.powered
                           else fields.pop("false_failure", None)),
            design_trials=plan.trials if plan is not None else None,
            **fields,
        )


def _claim_modules(root: Path) -> list[Path]:
    return sorted(path for folder in GROUPS.values() for path in
                  (root / folder).glob("test_*.py"))


def _import(path: Path):
    name = f"lifetf_claims.{path.parent.name}.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=4)
def catalogue(root: Path = CLAIMS_DIR) -> tuple[Claim, ...]:
    """Every declared claim, by group (A to D), then file, then order of declaration."""
    found: list[Claim] = []
    for path in _claim_modules(root):
        module = _import(path)
        found += [value for value in vars(module).values() if isinstance(value, Claim)]
    order = list(GROUPS)
    found.sort(key=lambda c: order.index(c.group))
    ids = [c.id for c in found]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"claims declared more than once: {', '.join(repeated)}")
    return tuple(found)


def get_claim(claim_id: str) -> Claim:
    """Look up a declared claim; a clear error names an unknown ID."""
    for claim in catalogue():
        if claim.id == claim_id:
            return claim
    raise ValueError(f"unknown claim ID {claim_id!r}")


def check_verdict(claim: Claim, verdict: Verdict, profile: str) -> str | None:
    """None if the verdict equals the claim's expected one, else a readable failure message."""
    expected = claim.expected_for(profile)
    if expected is None:
        return (f"{claim.id}: no expected verdict is recorded for profile {profile!r}; "
                f"this run found {verdict.verdict}: {verdict.summary}")
    if verdict.verdict != expected:
        return (f"{claim.id} ({claim.statement}) was expected to be {expected} but this run "
                f"found {verdict.verdict}: {verdict.summary}")
    return None
