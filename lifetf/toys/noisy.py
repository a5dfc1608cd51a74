"""The two-input problem: one input decides the class exactly, the other is a noisy copy of it.

Per seed, a fixed training set of ``samples`` points: x1 ~ N(0, 1), x2 = x1 + noise * N(0, 1)
and y = 1[x1 > 0], so x1 alone separates the classes perfectly while x2 only correlates with
them. A logistic model p = sigmoid(w1 x1 + w2 x2 + b) is trained full-batch with Adam, with no
regulariser, with dropout on the two inputs (inverted scaling, masks drawn per step), or with
an L1 penalty lambda (|w1| + |w2|) added to the mean binary cross-entropy. K members train in
one XLA graph; member k's data, initial weights and dropout masks come from its own seed (the
masks from a stateless stream keyed by (seed, step)), so its result does not depend on K.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lifetf import seeding
from lifetf.checks import FieldChecks
from lifetf.nets.backends import current

# Bump when a change alters what the two-input trainer computes: part of every cache name.
# 2: dropout masks from the counter-based generator; one trainer for both Keras backends.
NOISY_VERSION = "2"
CHUNK = 100  # updates per compiled call (and per draw of dropout masks)

REGULARISERS = ("none", "dropout", "l1")


CHECK = FieldChecks("NoisyConfig")


@dataclass(frozen=True)
class NoisyConfig:
    """One two-input protocol; a trial is a (config, seed) pair."""

    kind: ClassVar[str] = "noisy"  # the store's name for these records
    version: ClassVar[str] = NOISY_VERSION

    regulariser: str = "none"
    dropout: float = 0.5  # input dropout rate (used when regulariser == "dropout")
    l1: float = 0.01  # L1 weight (used when regulariser == "l1")
    noise: float = 1.0  # standard deviation of the noise on the copy x2
    samples: int = 200  # training points per seed
    steps: int = 2000  # full-batch Adam updates
    learning_rate: float = 0.01
    init_scale: float = 0.1  # initial weights ~ N(0, init_scale), bias 0

    def __post_init__(self) -> None:
        CHECK.choice("regulariser", self.regulariser, REGULARISERS)
        CHECK.number("dropout", self.dropout, 0.0, 1.0, "[)")
        CHECK.number("l1", self.l1, 0.0, 10.0, "[)")
        CHECK.number("noise", self.noise, 0.0, 100.0, "()")
        CHECK.integer("samples", self.samples, 2)
        CHECK.integer("steps", self.steps, 0)
        CHECK.number("learning_rate", self.learning_rate, 0.0, 10.0, "()")
        CHECK.number("init_scale", self.init_scale, 0.0, 10.0, "[)")
        for name in ("dropout", "l1", "noise", "learning_rate", "init_scale"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def replace(self, **changes) -> NoisyConfig:
        return dataclasses.replace(self, **changes)

    def train(self, seeds: Sequence[int]) -> np.ndarray:
        """One record per seed (see :func:`train_noisy`)."""
        return train_noisy(self, seeds)

    def settings(self) -> dict[str, str]:
        """The protocol in words (setting -> value), for a report; the regulariser apart."""
        return {
            "data": f"per seed {self.samples} points: x_exact ~ N(0, 1), x_noisy = x_exact + "
                    f"{self.noise:g} N(0, 1), class 1[x_exact > 0]",
            "model": "logistic regression on both inputs, binary cross-entropy",
            "training": f"full-batch Adam {self.learning_rate:g}, {self.steps} updates, initial "
                        f"weights N(0, {self.init_scale:g})"}


def noisy_data(config: NoisyConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Member ``seed``'s training set: inputs (samples, 2) [x1, x2] and labels (samples,)."""
    rng = seeding.numpy_rng(seed, seeding.NOISY_DATA)
    x1 = rng.normal(size=config.samples)
    x2 = x1 + config.noise * rng.normal(size=config.samples)
    return np.stack([x1, x2], axis=1).astype(np.float32), (x1 > 0).astype(np.float32)


def initial_weights(config: NoisyConfig, seed: int) -> np.ndarray:
    """Member ``seed``'s start [w1, w2, b]; the same for every regulariser."""
    w = seeding.numpy_rng(seed, seeding.NOISY_INIT).normal(0.0, config.init_scale, 2)
    return np.array([w[0], w[1], 0.0], np.float32)


def fit(config: NoisyConfig, seeds: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Train one member per seed in one graph; returns weights (K, 3) [w1, w2, b] and losses.

    The loss returned is each member's final mean cross-entropy on its training set, without
    dropout and without the penalty. Dropout masks come from the counter-based generator keyed
    by (seed, update).
    """
    import keras
    from keras import ops

    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    data = [noisy_data(config, s) for s in seeds]
    x = np.stack([d[0] for d in data])  # (K, N, 2)
    y = np.stack([d[1] for d in data])  # (K, N)
    start = np.stack([initial_weights(config, s) for s in seeds])
    keys = seeding.stream_keys(seeds, seeding.NOISY_MASK)
    keep = 1.0 - config.dropout

    def losses(params, inputs):
        w, b = params
        logits = ops.einsum("kni,ki->kn", inputs, w) + b[:, None]
        return ops.mean(ops.binary_crossentropy(y, logits, from_logits=True), axis=1)

    def prepare(start):
        """The chunk's inverted-dropout masks (CHUNK, K, N, 2), keyed by (seed, update)."""
        if config.regulariser != "dropout":
            return ()
        counters = ops.arange(CHUNK, dtype="int32") + start
        return (seeding.bernoulli(keys, counters, x.shape[1:], keep) * (1.0 / keep),)

    def member_losses(params, step, offset, *masks):
        inputs = x * masks[0][offset] if masks else x
        loss = losses(params, inputs)
        if config.regulariser == "l1":
            loss = loss + config.l1 * ops.sum(ops.abs(params[0]), axis=1)
        return loss

    optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, epsilon=1e-8)
    loop = current().optimizer_loop([start[:, :2], start[:, 2]], optimizer, member_losses,
                                     prepare)
    for first in range(0, config.steps, CHUNK):
        loop.run(first, min(CHUNK, config.steps - first))
    w, b = loop.weights()
    final = np.asarray(ops.convert_to_numpy(losses([w, b], x)))
    return np.concatenate([w, b[:, None]], axis=1), final


def train_noisy(config: NoisyConfig, seeds: Sequence[int]) -> np.ndarray:
    """Train one member per seed: a structured array (seed, w1, w2, b, loss, accuracy).

    ``accuracy`` is the share of the member's training points classified correctly.
    """
    weights, losses = fit(config, seeds)
    records = np.zeros(len(seeds), dtype=[("seed", np.int64), ("w1", np.float64),
                                          ("w2", np.float64), ("b", np.float64),
                                          ("loss", np.float64), ("accuracy", np.float64)])
    records["seed"] = seeds
    records["w1"], records["w2"], records["b"] = weights.T
    records["loss"] = losses
    for i, seed in enumerate(seeds):
        x, y = noisy_data(config, seed)
        records["accuracy"][i] = float(((x @ weights[i, :2] + weights[i, 2] > 0) == (y > 0.5))
                                       .mean())
    return records


def weight_ratio(records: np.ndarray) -> np.ndarray:
    """|w2| / |w1| per member: the noisy input's weight relative to the exact one's."""
    return np.abs(records["w2"]) / np.maximum(np.abs(records["w1"]), 1e-12)
