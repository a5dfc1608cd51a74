"""``Experiment``: everything that defines a training run, validated, with a stable key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lifetf.checks import FieldChecks, stable_key
from lifetf.life.rules import RULES
from lifetf.nets.models import (
    ACTIVATIONS,
    ARCHS,
    INITS,
    NORMALIZE_DROPOUT,
    OUTPUTS,
    LayerSpec,
    layer_specs,
    n_blocks,
    sees_one_window,
)

OPTIMIZERS = ("adam", "sgd")
WINDOWS = 512  # distinct binary 3x3 windows
# fields added after trials were first cached: left out of the key at their defaults, so the
# keys (and cached trials) of every experiment that does not use them stay valid
LATER_FIELDS = {"train_set": 0, "train_set_seed": 0}
STARTS = ("random", "hand_built")
# fields that change a run's numbers (its boards, starting weights, length or evaluation) but
# not its compiled training graph: trainers that differ only in these share one compiled loop
# (the boards' density reaches the loop as an input; the initialisation only sets the starting
# weights, once the channel dropout it implies is written out)
RUN_ONLY_FIELDS = ("batches", "data_stream", "start", "sign_flips", "train_set_seed",
                   "eval_boards", "eval_size", "eval_density", "eval_seed", "density", "init")


CHECK = FieldChecks("Experiment")


@dataclass(frozen=True)
class Experiment:
    """One training protocol; a trial is an (Experiment, seed) pair.

    Defaults are the reference run of Firner's script: firner rule and network, 1 step, width 1,
    ReLU, clamped output, PyTorch-default initialisation, fresh 10x10 boards at density 0.5,
    Adam 1e-3, 5000 batches of 32; success is judged on 1000 random 5x5 boards.
    """

    rule: str = "firner"
    arch: str = "firner"
    steps: int = 1
    width: int = 1
    depth: float = 1.0
    activation: str = "relu"
    output: str = "clamp"
    init: str = "pytorch"
    start: str = "random"  # "hand_built": start from the exact weights (then sign flips apply)
    sign_flips: int = 0  # number of randomly chosen weights whose sign is flipped at the start
    dropout: float | None = None  # channel dropout; None: 0.4 with init="normalize", else 0
    board_size: int = 10
    density: float = 0.5
    torus: bool = False
    batch_size: int = 32
    batches: int = 5000
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    l1: float = 0.0  # L1 penalty on kernels, added to each member's loss
    data_stream: int = 0  # picks another board stream for the same seed (same initialisation)
    eval_boards: int = 1000
    eval_size: int = 5
    eval_density: float = 0.5
    eval_seed: int = 20230101
    record_every: int = 50  # batches per point of the loss and gradient-norm curves
    train_set: int = 0  # 0: fresh boards every batch; N: one fixed set of N boards, in epochs
    train_set_seed: int = 0  # picks the fixed training set (shared by every seed)

    def __post_init__(self) -> None:
        CHECK.choice("rule", self.rule, RULES)
        CHECK.choice("arch", self.arch, ARCHS)
        CHECK.choice("activation", self.activation, ACTIVATIONS)
        CHECK.choice("output", self.output, OUTPUTS)
        CHECK.choice("init", self.init, INITS)
        CHECK.choice("start", self.start, STARTS)
        CHECK.choice("optimizer", self.optimizer, OPTIMIZERS)
        CHECK.integer("steps", self.steps, 1)
        CHECK.integer("width", self.width, 1)
        CHECK.number("depth", self.depth, 0.0, 100.0, "()")
        CHECK.integer("sign_flips", self.sign_flips, 0)
        if self.dropout is not None:
            CHECK.number("dropout", self.dropout, 0.0, 0.99)
        CHECK.integer("board_size", self.board_size, 3)
        CHECK.number("density", self.density, 0.0, 1.0)
        CHECK.flag("torus", self.torus)
        CHECK.integer("batch_size", self.batch_size, 1)
        CHECK.integer("batches", self.batches, 0)
        CHECK.number("learning_rate", self.learning_rate, 0.0, 10.0, "()")
        CHECK.number("l1", self.l1, 0.0, 10.0)
        CHECK.integer("data_stream", self.data_stream, 0)
        CHECK.integer("eval_boards", self.eval_boards, 1)
        CHECK.integer("eval_size", self.eval_size, 1)
        CHECK.number("eval_density", self.eval_density, 0.0, 1.0)
        CHECK.integer("eval_seed", self.eval_seed, 0)
        CHECK.integer("record_every", self.record_every, 1)
        CHECK.integer("train_set", self.train_set, 0)
        CHECK.integer("train_set_seed", self.train_set_seed, 0)
        if self.train_set and self.batch_size > self.train_set:
            CHECK.fail("batch_size", self.batch_size,
                       f"at most the {self.train_set} boards of the fixed training set")
        if self.start == "hand_built" and self.blocks != self.steps:
            CHECK.fail("depth", self.depth, "1.0 when starting from the hand-built weights")
        if self.start == "random" and self.sign_flips:
            CHECK.fail("sign_flips", self.sign_flips, "0 unless start='hand_built'")
        if self.sign_flips > self.n_params:
            CHECK.fail("sign_flips", self.sign_flips, f"at most the {self.n_params} parameters")
        # equal experiments must share a key: store 1 and 1.0 alike in the float fields
        for name in ("depth", "dropout", "density", "learning_rate", "l1", "eval_density"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))

    @property
    def channel_dropout(self) -> float:
        """The channel dropout in force: explicit, or Firner's 40% under the normalize option."""
        if self.dropout is not None:
            return float(self.dropout)
        return NORMALIZE_DROPOUT if self.init == "normalize" else 0.0

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        return layer_specs(
            self.arch,
            self.steps,
            self.width,
            self.depth,
            self.activation,
            self.output,
            self.channel_dropout,
        )

    @property
    def cells_per_batch(self) -> int:
        """Board cells in one training batch (batch size x board area)."""
        return self.batch_size * self.board_size**2

    @property
    def blocks(self) -> int:
        """The network's step blocks: its 3x3 layers, one per block in both architectures."""
        return n_blocks(self.steps, self.depth)

    @property
    def by_window(self) -> bool:
        """Whether training takes each batch's loss over its window counts instead of its cells.

        For a one-step target and a network whose output cell sees only its 3x3 input window,
        a batch's mean loss is the sum over the 512 windows of (occurrences / cells) times the
        loss of that window: the same function and gradient, for 512 evaluations per member
        instead of one per cell (2048 to 12800 at the quick and paper sizes). Smaller batches
        keep the cells, and so does a torus (its target wraps around while the network's input
        is zero-padded).
        """
        return (self.steps == 1 and not self.torus and self.cells_per_batch > WINDOWS
                and sees_one_window(self.layers))

    @property
    def n_params(self) -> int:
        return sum(spec.n_params for spec in self.layers)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def key_dict(self) -> dict:
        """The fields that make up the key: those added later count only when not at default."""
        data = self.to_dict()
        for name, default in LATER_FIELDS.items():
            if data[name] == default:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Experiment:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown Experiment fields: {', '.join(unknown)}")
        return cls(**data)

    @property
    def key(self) -> str:
        """Stable 16-hex-digit key from every field (sha256 of canonical JSON, not ``hash()``)."""
        return stable_key(self.key_dict())

    def replace(self, **changes) -> Experiment:
        return dataclasses.replace(self, **changes)

    @property
    def graph_signature(self) -> Experiment:
        """This experiment with the fields of RUN_ONLY_FIELDS at their defaults and its channel
        dropout written out: equal for experiments whose training graphs are the same, which may
        share one compiled loop."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)
                    if f.name in RUN_ONLY_FIELDS}
        return self.replace(**defaults, dropout=self.channel_dropout)

    def describe(self) -> str:
        """A short human-readable label, listing only fields that differ from the defaults."""
        default = Experiment()
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ", ".join(parts) if parts else "reference protocol"
