"""The catalogue is read from the claims' declarations: every ID of claims.md exactly once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lifetf.stats.decisions import Rule
from lifetf.suite.catalogue import Claim, catalogue, get_claim
from lifetf.suite.profiles import PROFILES

SHARED = Path(__file__).resolve().parents[3] / "shared" / "claims.md"


def test_every_catalogue_id_is_declared_once_with_a_quick_expectation():
    ids = [c.id for c in catalogue()]
    assert len(ids) == len(set(ids)) == 24
    if SHARED.exists():
        listed = re.findall(r"^\| ([A-Z]+-[A-Z0-9-]+) \|", SHARED.read_text(), re.MULTILINE)
        assert sorted(listed) == sorted(ids)
    for claim in catalogue():
        assert claim.expected_for("quick") in ("reproduced", "refuted", "inconclusive")


def test_claims_come_in_catalogue_parts():
    groups = [c.group for c in catalogue()]
    assert groups == sorted(groups) and set(groups) == {"A", "B", "C", "D"}


@pytest.mark.parametrize("claim", catalogue(), ids=lambda c: c.id)
def test_declared_rules_and_sizes_resolve_for_every_profile(claim):
    for profile in PROFILES.values():
        if claim.rule is not None:
            assert isinstance(claim.rule_for(profile), Rule)
        for name in claim.sizes.get("quick", {}):
            claim.size(profile, name)


def test_bad_declarations_are_named():
    with pytest.raises(ValueError, match="group 'E'"):
        Claim("X-1", "E", "s", "src")
    with pytest.raises(ValueError, match="'maybe'"):
        Claim("X-1", "A", "s", "src", expected={"quick": "maybe"})
    with pytest.raises(ValueError, match="unknown claim ID 'X-1'"):
        get_claim("X-1")
