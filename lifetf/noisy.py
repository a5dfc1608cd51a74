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
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifetf.keyed import cached_records

# Bump when a change alters what the two-input trainer computes: part of every cache name.
NOISY_VERSION = "1"

REGULARISERS = ("none", "dropout", "l1")
_DATA, _INIT, _MASK = 0xDA7A, 0x1417, 0xD809
CHUNK = 100  # updates per compiled call (and per draw of dropout masks)


def _fail(field: str, value: object, expected: str) -> None:
    raise ValueError(f"NoisyConfig.{field} = {value!r} is invalid: expected {expected}")


def _int_at_least(field: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        _fail(field, value, f"an integer >= {low}")


def _number_in(field: str, value: object, low: float, high: float, closed_low: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low <= value if closed_low else low < value) and value < high
    if not ok:
        _fail(field, value, f"a number in {'[' if closed_low else '('}{low}, {high})")


@dataclass(frozen=True)
class NoisyConfig:
    """One two-input protocol; a trial is a (config, seed) pair."""

    regulariser: str = "none"
    dropout: float = 0.5  # input dropout rate (used when regulariser == "dropout")
    l1: float = 0.01  # L1 weight (used when regulariser == "l1")
    noise: float = 1.0  # standard deviation of the noise on the copy x2
    samples: int = 200  # training points per seed
    steps: int = 2000  # full-batch Adam updates
    learning_rate: float = 0.01
    init_scale: float = 0.1  # initial weights ~ N(0, init_scale), bias 0

    def __post_init__(self) -> None:
        if self.regulariser not in REGULARISERS:
            _fail("regulariser", self.regulariser, f"one of {', '.join(REGULARISERS)}")
        _number_in("dropout", self.dropout, 0.0, 1.0, closed_low=True)
        _number_in("l1", self.l1, 0.0, 10.0, closed_low=True)
        _number_in("noise", self.noise, 0.0, 100.0, closed_low=False)
        _int_at_least("samples", self.samples, 2)
        _int_at_least("steps", self.steps, 0)
        _number_in("learning_rate", self.learning_rate, 0.0, 10.0, closed_low=False)
        _number_in("init_scale", self.init_scale, 0.0, 10.0, closed_low=True)
        for name in ("dropout", "l1", "noise", "learning_rate", "init_scale"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def replace(self, **changes) -> NoisyConfig:
        return dataclasses.replace(self, **changes)


def _rng(seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, purpose]))


def noisy_data(config: NoisyConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Member ``seed``'s training set: inputs (samples, 2) [x1, x2] and labels (samples,)."""
    rng = _rng(seed, _DATA)
    x1 = rng.normal(size=config.samples)
    x2 = x1 + config.noise * rng.normal(size=config.samples)
    return np.stack([x1, x2], axis=1).astype(np.float32), (x1 > 0).astype(np.float32)


def initial_weights(config: NoisyConfig, seed: int) -> np.ndarray:
    """Member ``seed``'s start [w1, w2, b]; the same for every regulariser."""
    w = _rng(seed, _INIT).normal(0.0, config.init_scale, 2)
    return np.array([w[0], w[1], 0.0], np.float32)


def _mask_key(seed: int) -> int:
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, _MASK]).generate_state(1)
    return int(state[0] & 0x7FFFFFFF)


def fit(config: NoisyConfig, seeds: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Train one member per seed in one graph; returns weights (K, 3) [w1, w2, b] and losses.

    The loss returned is each member's final mean cross-entropy on its training set, without
    dropout and without the penalty.
    """
    import keras
    import tensorflow as tf

    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    data = [noisy_data(config, s) for s in seeds]
    x = tf.constant(np.stack([d[0] for d in data]))  # (K, N, 2)
    y = tf.constant(np.stack([d[1] for d in data]))  # (K, N)
    start = np.stack([initial_weights(config, s) for s in seeds])
    w = tf.Variable(start[:, :2])
    b = tf.Variable(start[:, 2])
    keys = tf.constant([_mask_key(s) for s in seeds], tf.int64)
    optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, epsilon=1e-8)
    optimizer.build([w, b])
    k, n = len(seeds), config.samples
    dropout = config.regulariser == "dropout"

    @tf.function
    def draw(chunk):
        """Inverted-dropout masks (CHUNK, K, N, 2) of one chunk, one stateless op per member.

        Drawn outside XLA (per-member random ops are slow inside it, see lifetf.train); member
        k's masks at step t depend only on (seed_k, t).
        """
        per_member = [tf.random.stateless_uniform((CHUNK, n, 2), seed=tf.stack([keys[i], chunk]),
                                                  alg="philox") for i in range(k)]
        keep = tf.cast(tf.stack(per_member, axis=1) >= config.dropout, tf.float32)
        return keep / (1.0 - config.dropout)

    def losses(inputs):
        logits = tf.einsum("kni,ki->kn", inputs, w) + b[:, None]
        return tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits), axis=1)

    @tf.function(jit_compile=True)
    def run(masks, count):
        """``count`` full-batch updates (masks used only with dropout)."""

        def step(i):
            inputs = x * masks[i] if dropout else x
            with tf.GradientTape() as tape:
                loss = losses(inputs)
                if config.regulariser == "l1":
                    loss = loss + config.l1 * tf.reduce_sum(tf.abs(w), axis=1)
                total = tf.reduce_sum(loss)
            optimizer.apply(tape.gradient(total, [w, b]), [w, b])
            return (i + 1,)

        tf.while_loop(lambda i: i < count, step, (tf.constant(0),))
        return tf.constant(0)

    no_masks = tf.zeros((1, 1, 1, 1))
    for chunk in range(math.ceil(config.steps / CHUNK)):
        count = min(CHUNK, config.steps - chunk * CHUNK)
        masks = draw(tf.constant(chunk, tf.int64)) if dropout else no_masks
        run(masks, tf.constant(count))
    final = losses(x).numpy()
    return np.concatenate([w.numpy(), b.numpy()[:, None]], axis=1), final


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


def noisy_records(store, config: NoisyConfig, seeds: Sequence[int]) -> np.ndarray:
    """:func:`train_noisy`, cached in ``store`` by (config, seeds, NOISY_VERSION)."""
    return cached_records(store, "noisy", NOISY_VERSION, config, seeds,
                          lambda: train_noisy(config, seeds))


def weight_ratio(records: np.ndarray) -> np.ndarray:
    """|w2| / |w1| per member: the noisy input's weight relative to the exact one's."""
    return np.abs(records["w2"]) / np.maximum(np.abs(records["w1"]), 1e-12)
