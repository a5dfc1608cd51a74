"""Run profiles: ``quick`` (CPU-sized, the default) and ``paper`` (original protocols, GPU).

A profile changes sizes only (boards, batches, widths, steps); the assertion logic and the
number of trials, which follows from each claim's statistical design, stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifetf.nets.experiment import Experiment


@dataclass(frozen=True)
class Profile:
    """Sizes of every claim's experiments under one profile."""

    name: str
    description: str
    reference: Experiment  # Firner's default run: 10x10 boards, 5000 batches of 32, Adam 1e-3
    capacity_max_steps: int  # GOL-CAPACITY checks hand-built weights for 1..this many steps
    capacity_large_board: int  # and on boards of this size besides the 1000 5x5 test boards
    sweep: Experiment  # the success sweep's protocol (sigmoid + LeakyReLU in the original)
    sweep_widths: tuple[int, ...]  # GOL-WIDTH-HELPS and GOL-STEPS-HURT grid
    sweep_steps: tuple[int, ...]
    deep_steps: tuple[int, ...]  # GOL-ALLDEAD-PLATEAU: the long horizons of post 1
    deep_width: int
    springer: Experiment  # Springer & Kenyon's setting: conway rule, their network, sigmoid
    tricks_width: int  # GOL-TRICKS compares the tricks at this width (post 1: m = 5)
    max_trials: int  # the most trials per setting the profile affords; a claim whose design needs
    # more is underpowered here and reported inconclusive by design, not by chance
    min_seeds: int = 1  # a floor on trials; each claim's design sets the number it needs
    # part B, the landscape: walks between a fine-tuned hand-built end and trained ends
    landscape_wide: int = 4  # the wide network of LAND-WIDTH-SMOOTHS (post 2: m = 5)
    finetune_batches: int = 1000  # further training of the hand-built end (post 2: 1000 of 128)
    walk_boards: int = 512  # boards of the training distribution on which walks are evaluated
    init_width: int = 3  # LAND-INIT-DECIDES: a width where about half the runs succeed
    # part C, escaping minima: a fixed finite training set
    escape_width: int = 3  # width of the ESC-MINIBATCH and ESC-OVERFIT networks
    minibatch_set: int = 32  # boards in ESC-MINIBATCH's training set
    minibatch_batch: int = 4  # the small minibatch (full batch = the whole set)
    minibatch_epochs: int = 250
    overfit_set: int = 4  # boards in ESC-OVERFIT's small training set
    # part D, outputs and regularisation
    outputs_epochs: int = 30  # OUT-SOFTMAX-HIDES: epochs of the 8x8-digit classifiers
    noisy_steps: int = 2000  # REG-NOISY-INPUT: full-batch Adam updates of the two-input model
    prune_width: int = 4  # REG-PRUNE: the overcomplete width (post 1's tricks run: m = 5)

    def experiment(self, **changes) -> Experiment:
        """The profile's reference experiment with ``changes``."""
        return self.reference.replace(**changes)


_FIRNER_DEFAULT = Experiment()  # board 10, batch 32, 5000 batches: cheap enough for the CPU
_SWEEP = dict(output="sigmoid", activation="leaky_relu")
_SPRINGER = dict(rule="conway", arch="springer", output="sigmoid")

PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        description="sized for a 2-core CPU: the whole suite within 15 minutes",
        reference=_FIRNER_DEFAULT,
        capacity_max_steps=20,
        capacity_large_board=32,
        sweep=Experiment(board_size=8, batch_size=32, batches=3000, **_SWEEP),
        sweep_widths=(1, 2, 3, 4),
        sweep_steps=(1, 2, 3),
        deep_steps=(10,),
        deep_width=1,
        springer=Experiment(board_size=8, batch_size=32, batches=3000, **_SPRINGER),
        tricks_width=2,
        max_trials=64,
    ),
    "paper": Profile(
        name="paper",
        description="the original protocols of protocol.md (board sizes, batch counts), for a GPU",
        reference=_FIRNER_DEFAULT,
        capacity_max_steps=20,
        capacity_large_board=64,
        sweep=Experiment(board_size=10, batch_size=128, batches=10000, **_SWEEP),
        sweep_widths=(1, 2, 5, 10, 20, 50, 100),
        sweep_steps=(1, 2, 3, 5, 10, 20),
        deep_steps=(10, 20),
        deep_width=5,
        # about 1 million training boards in batches of 8 (Springer & Kenyon, secondary); their
        # board size is not known, so Firner's 10x10 is kept
        springer=Experiment(board_size=10, batch_size=8, batches=125000, **_SPRINGER),
        tricks_width=5,
        max_trials=512,
        landscape_wide=5,
        finetune_batches=1000,
        walk_boards=128000,  # 1000 batches of 128, as post 2
        init_width=5,
        escape_width=5,
        minibatch_set=128,
        minibatch_batch=8,
        minibatch_epochs=1000,
        overfit_set=4,
        outputs_epochs=30,  # no original protocol: the quick sizes
        noisy_steps=2000,
        prune_width=5,
    ),
}


def get_profile(name: str) -> Profile:
    """Look a profile up by name; a clear error lists the allowed names."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: expected one of {', '.join(PROFILES)}")
    return PROFILES[name]
