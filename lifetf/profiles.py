"""Run profiles: ``quick`` (CPU-sized, the default) and ``paper`` (original protocols, GPU).

A profile changes sizes only (boards, batches, widths, steps); the assertion logic and the
number of trials, which follows from each claim's statistical design, stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifetf.experiment import Experiment


@dataclass(frozen=True)
class Profile:
    """Sizes of every claim's experiments under one profile."""

    name: str
    description: str
    reference: Experiment  # Firner's default run: 10x10 boards, 5000 batches of 32, Adam 1e-3
    capacity_max_steps: int  # GOL-CAPACITY checks hand-built weights for 1..this many steps
    capacity_large_board: int  # and on boards of this size besides the 1000 5x5 test boards
    min_seeds: int = 1  # a floor on trials; each claim's design sets the number it needs

    def experiment(self, **changes) -> Experiment:
        """The profile's reference experiment with ``changes``."""
        return self.reference.replace(**changes)


_FIRNER_DEFAULT = Experiment()  # board 10, batch 32, 5000 batches: cheap enough for the CPU

PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        description="sized for a 2-core CPU: the whole suite within 15 minutes",
        reference=_FIRNER_DEFAULT,
        capacity_max_steps=20,
        capacity_large_board=32,
    ),
    "paper": Profile(
        name="paper",
        description="the original protocols of protocol.md (board sizes, batch counts), for a GPU",
        reference=_FIRNER_DEFAULT,
        capacity_max_steps=20,
        capacity_large_board=64,
    ),
}


def get_profile(name: str) -> Profile:
    """Look a profile up by name; a clear error lists the allowed names."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: expected one of {', '.join(PROFILES)}")
    return PROFILES[name]
