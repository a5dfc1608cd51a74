"""Run profiles: the shared protocols and budgets of ``quick`` (a 2-core CPU, the default),
``gpu`` (one H100/H200-class GPU: the original per-trial protocols, the whole suite in at most 8
minutes) and ``paper`` (the original protocols and grids, for many GPUs).

A profile changes sizes only (boards, batches, grids, the most trials it affords); the tests,
their statistics and their decision rules stay the same. Sizes that belong to one claim are
declared beside that claim (``Claim.sizes``); the protocols several claims share live here.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifetf.nets.experiment import Experiment


@dataclass(frozen=True)
class Profile:
    """The protocols and budget that the claims of one profile share."""

    name: str
    description: str
    reference: Experiment  # Firner's default run: 10x10 boards, 5000 batches of 32, Adam 1e-3
    sweep: Experiment  # the success sweep's protocol (sigmoid + LeakyReLU in the original)
    sweep_widths: tuple[int, ...]  # the sweep's grid (GOL-WIDTH-HELPS, GOL-STEPS-HURT, ...)
    sweep_steps: tuple[int, ...]
    springer: Experiment  # Springer & Kenyon's setting: conway rule, their network, sigmoid
    max_trials: int  # the most trials per setting the profile affords; a design that needs
    # more is underpowered here and its claim inconclusive by design, not by chance
    escape_width: int = 3  # width of the fixed-set networks (ESC-MINIBATCH, -OVERFIT, -SADDLES)
    fixed_set: int = 32  # boards of the fixed training set they share
    sizes_from: str = "quick"  # whose sizes a claim uses when it declares none for this profile

    def experiment(self, **changes) -> Experiment:
        """The profile's reference experiment with ``changes``."""
        return self.reference.replace(**changes)

    def finite(self, **changes) -> Experiment:
        """The sweep protocol on the shared fixed training set (the ESC claims)."""
        return self.sweep.replace(width=self.escape_width, steps=1, train_set=self.fixed_set,
                                  train_set_seed=1).replace(**changes)


_FIRNER_DEFAULT = Experiment()  # board 10, batch 32, 5000 batches: cheap enough for the CPU
_SWEEP = dict(output="sigmoid", activation="leaky_relu")
_SPRINGER = dict(rule="conway", arch="springer", output="sigmoid")

PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        description="sized for a 2-core CPU",
        reference=_FIRNER_DEFAULT,
        sweep=Experiment(board_size=8, batch_size=32, batches=3000, **_SWEEP),
        sweep_widths=(1, 2, 3, 4),
        sweep_steps=(1, 2, 3),
        springer=Experiment(board_size=8, batch_size=32, batches=3000, **_SPRINGER),
        max_trials=128,
    ),
    "gpu": Profile(
        name="gpu",
        description="one H100/H200-class GPU: the original per-trial protocols (boards, batch "
                    "sizes and counts), grids and trials cut to fit 8 minutes",
        reference=_FIRNER_DEFAULT,
        sweep=Experiment(board_size=10, batch_size=128, batches=10000, **_SWEEP),
        sweep_widths=(1, 2, 5, 10, 20),
        sweep_steps=(1, 2, 3, 5),
        springer=Experiment(board_size=10, batch_size=8, batches=125000, **_SPRINGER),
        max_trials=512,
        escape_width=5,
        fixed_set=128,
        sizes_from="paper",
    ),
    "paper": Profile(
        name="paper",
        description="the original protocols and grids of protocol.md, for many GPUs",
        reference=_FIRNER_DEFAULT,
        sweep=Experiment(board_size=10, batch_size=128, batches=10000, **_SWEEP),
        sweep_widths=(1, 2, 5, 10, 20, 50, 100),
        sweep_steps=(1, 2, 3, 5, 10, 20),
        # about 1 million training boards in batches of 8 (Springer & Kenyon, secondary); their
        # board size is not known, so Firner's 10x10 is kept
        springer=Experiment(board_size=10, batch_size=8, batches=125000, **_SPRINGER),
        max_trials=512,
        escape_width=5,
        fixed_set=128,
        sizes_from="paper",
    ),
}


def get_profile(name: str) -> Profile:
    """Look a profile up by name; a clear error lists the allowed names."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: expected one of {', '.join(PROFILES)}")
    return PROFILES[name]
