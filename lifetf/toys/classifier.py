"""Small digit classifiers with a softmax head or independent sigmoid heads, many seeds at once.

The data are scikit-learn's bundled 8x8 digits (1797 images, no download), scaled to [0, 1] and
split once, stratified, with a fixed split seed. The network is 64 -> hidden (ReLU) -> 10 with
either a softmax and categorical cross-entropy or 10 sigmoids and binary cross-entropy on one-hot
targets. K members train in one XLA graph: every weight has a leading member axis, the loss is
the sum of the members' mean losses and Adam is element-wise, so each member follows the path it
would follow alone. Member k's initial weights and minibatch order come from its seed only (the
same for both heads), so a result depends only on (config, seed).

Trained members are probed on held-out real images and on meaningless inputs: uniform noise,
Gaussian noise with the training pixels' mean and spread (clipped to [0, 1]) and blank images
of constant intensity; for each input the largest of the 10 outputs is kept.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from lifetf import seeding
from lifetf.checks import FieldChecks
from lifetf.nets.backends import current

# Bump when a change alters what the classifier trainer computes: part of every cache name.
# 2: epoch orders from the counter-based generator; one trainer for both Keras backends.
CLASSIFIER_VERSION = "2"

HEADS = ("softmax", "sigmoid")
PROBES = ("real", "uniform", "gaussian", "blank")  # the held-out images and three noise kinds
N_PIXELS = 64
DIGITS_SAMPLES = 1797  # images in scikit-learn's bundled digits
N_CLASSES = 10


CHECK = FieldChecks("ClassifierConfig")


@dataclass(frozen=True)
class ClassifierConfig:
    """One classifier protocol; a trial is a (config, seed) pair."""

    kind: ClassVar[str] = "classifier"  # the store's name for these records
    version: ClassVar[str] = CLASSIFIER_VERSION

    head: str = "softmax"
    hidden: int = 32
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    test_fraction: float = 1 / 3
    split_seed: int = 0
    noise_inputs: int = 1000  # uniform and Gaussian noise images each
    blank_levels: int = 101  # constant images at intensities 0, 1/(n-1), ..., 1
    probe_seed: int = 0

    def __post_init__(self) -> None:
        CHECK.choice("head", self.head, HEADS)
        CHECK.integer("hidden", self.hidden, 1)
        CHECK.integer("epochs", self.epochs, 0)
        CHECK.integer("batch_size", self.batch_size, 1)
        CHECK.number("learning_rate", self.learning_rate, 0.0, 10.0, "()")
        CHECK.number("test_fraction", self.test_fraction, 0.0, 1.0, "()")
        CHECK.integer("split_seed", self.split_seed, 0)
        CHECK.integer("noise_inputs", self.noise_inputs, 1)
        CHECK.integer("blank_levels", self.blank_levels, 2)
        CHECK.integer("probe_seed", self.probe_seed, 0)
        if self.batch_size > self.train_size:
            CHECK.fail("batch_size", self.batch_size,
                       f"at most the {self.train_size} training images")
        for name in ("learning_rate", "test_fraction"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def replace(self, **changes) -> ClassifierConfig:
        return dataclasses.replace(self, **changes)

    def train(self, seeds: Sequence[int]) -> np.ndarray:
        """One record per seed (see :func:`train_classifiers`)."""
        return train_classifiers(self, seeds)

    def settings(self) -> dict[str, str]:
        """The protocol in words (setting -> value), for a report; both heads alike."""
        return {
            "data": f"scikit-learn's 8x8 digits ({DIGITS_SAMPLES} images, /16), stratified "
                    f"split, split seed {self.split_seed}: {self.train_size} training images",
            "network": f"64 -> {self.hidden} ReLU -> 10; softmax + categorical cross-entropy, or "
                       f"10 sigmoids + binary cross-entropy; the same initial weights per seed",
            "training": f"Adam {self.learning_rate:g}, {self.epochs} epochs of minibatches of "
                        f"{self.batch_size}",
            "meaningless inputs": f"{self.noise_inputs} uniform-noise images, "
                                  f"{self.noise_inputs} Gaussian-noise images (the training "
                                  f"pixels' mean and sd), {self.blank_levels} blank images of "
                                  f"constant intensity"}

    @property
    def train_size(self) -> int:
        """Training images of the split (scikit-learn rounds the held-out count up)."""
        return DIGITS_SAMPLES - math.ceil(self.test_fraction * DIGITS_SAMPLES)

    @property
    def steps_per_epoch(self) -> int:
        """Minibatches per epoch (the last, incomplete one is dropped)."""
        return self.train_size // self.batch_size


# -- data -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigitsSplit:
    """scikit-learn's 8x8 digits scaled to [0, 1], split into training and held-out images."""

    x_train: np.ndarray  # (n, 64) float32
    y_train: np.ndarray  # (n,) int64
    x_test: np.ndarray
    y_test: np.ndarray


@lru_cache(maxsize=8)
def digits_split(test_fraction: float = 1 / 3, split_seed: int = 0) -> DigitsSplit:
    """The fixed stratified split of the bundled digits (read-only arrays, cached per process)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    parts = train_test_split(x, data.target.astype(np.int64), test_size=test_fraction,
                             random_state=split_seed, stratify=data.target)
    for part in parts:
        part.setflags(write=False)
    x_train, x_test, y_train, y_test = parts
    return DigitsSplit(x_train, y_train, x_test, y_test)


def probe_inputs(config: ClassifierConfig) -> dict[str, np.ndarray]:
    """The inputs every trained member is probed on: kind -> (N, 64) float32 in [0, 1]."""
    split = digits_split(config.test_fraction, config.split_seed)
    rng = seeding.numpy_rng(config.probe_seed, seeding.CLASSIFIER_PROBE)
    n = config.noise_inputs
    mean, spread = float(split.x_train.mean()), float(split.x_train.std())
    levels = np.linspace(0.0, 1.0, config.blank_levels)
    return {
        "real": np.asarray(split.x_test),
        "uniform": rng.uniform(0.0, 1.0, (n, N_PIXELS)).astype(np.float32),
        "gaussian": np.clip(rng.normal(mean, spread, (n, N_PIXELS)), 0, 1).astype(np.float32),
        "blank": np.repeat(levels[:, None], N_PIXELS, axis=1).astype(np.float32),
    }


# -- members --------------------------------------------------------------------------------------


def initial_weights(hidden: int, seed: int) -> list[np.ndarray]:
    """Member ``seed``'s start [W1, b1, W2, b2]: Glorot-uniform kernels (Keras' default), zero
    biases; it does not depend on the head, so both heads start from the same weights."""
    rng = seeding.numpy_rng(seed, seeding.CLASSIFIER_INIT)
    weights = []
    for fan_in, fan_out in ((N_PIXELS, hidden), (hidden, N_CLASSES)):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weights += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                    np.zeros(fan_out, np.float32)]
    return weights


def batch_order(config: ClassifierConfig, seed: int) -> np.ndarray:
    """Member ``seed``'s training-image indices, (epochs * steps_per_epoch, batch_size)."""
    used = config.steps_per_epoch * config.batch_size
    if not config.epochs:
        return np.zeros((0, config.batch_size), np.int32)
    # epoch e's order is the permutation at counter e of the seed's stream, all drawn at once
    keys = seeding.stream_keys([seed], seeding.CLASSIFIER_ORDER)
    order = seeding.permutations(keys, np.arange(config.epochs), config.train_size)[:, 0, :used]
    return order.reshape(-1, config.batch_size).astype(np.int32)


def _forward(x, weights):
    """Logits (K, N, 10) of inputs (K, N, 64) through the member axis of [W1, b1, W2, b2]."""
    from keras import ops

    w1, b1, w2, b2 = weights
    hidden = ops.relu(ops.einsum("kni,kih->knh", x, w1) + b1[:, None, :])
    return ops.einsum("knh,kho->kno", hidden, w2) + b2[:, None, :]


def _member_losses(logits, labels, head: str):
    """Each member's mean loss (K,): categorical CE (softmax) or mean BCE over 10 sigmoids."""
    from keras import ops

    if head == "softmax":
        return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True),
                        axis=1)
    targets = ops.one_hot(labels, N_CLASSES)
    return ops.mean(ops.binary_crossentropy(targets, logits, from_logits=True), axis=(1, 2))


def _numpy(tensor) -> np.ndarray:
    from keras import ops

    return np.asarray(ops.convert_to_numpy(tensor))


def _probabilities(logits: np.ndarray, head: str) -> np.ndarray:
    if head == "softmax":
        shifted = logits - logits.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)
    return 1.0 / (1.0 + np.exp(-logits))


def fit(config: ClassifierConfig, seeds: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
    """Train one member per seed in one graph; returns the stacked weights and final losses.

    The weights are [W1 (K, 64, h), b1 (K, h), W2 (K, h, 10), b2 (K, 10)]; the losses are each
    member's mean training loss over its last epoch.
    """
    import keras
    from keras import ops

    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    split = digits_split(config.test_fraction, config.split_seed)
    starts = [initial_weights(config.hidden, s) for s in seeds]
    stacked = [np.stack([w[j] for w in starts]) for j in range(4)]
    order = np.stack([batch_order(config, s) for s in seeds], axis=1)  # (T, K, B)
    x_train, y_train = np.asarray(split.x_train), np.asarray(split.y_train)

    def member_losses(params, step, offset, order):
        index = order[step]
        logits = _forward(ops.take(x_train, index, axis=0), params)
        return _member_losses(logits, ops.take(y_train, index, axis=0), config.head)

    optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, epsilon=1e-8)
    loop = current().optimizer_loop(stacked, optimizer, member_losses)
    steps = int(order.shape[0])
    last_epoch = min(steps, max(1, config.steps_per_epoch))
    if steps - last_epoch:
        loop.run(0, steps - last_epoch, order)
    if last_epoch:
        loss_sum, _ = loop.run(steps - last_epoch, last_epoch, order)
        losses = loss_sum / last_epoch
    else:
        losses = np.full(len(seeds), np.nan, np.float32)
    return loop.weights(), losses


def max_outputs(config: ClassifierConfig, weights: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Largest output of every member on every probe input: kind -> (K, N)."""
    k = weights[0].shape[0]
    result = {}
    for kind, x in probe_inputs(config).items():
        logits = _numpy(_forward(np.broadcast_to(x[None], (k, *x.shape)), weights))
        result[kind] = _probabilities(logits.astype(np.float64), config.head).max(axis=-1)
    return result


def accuracy(config: ClassifierConfig, weights: list[np.ndarray]) -> np.ndarray:
    """Each member's accuracy on the held-out real images (K,)."""
    split = digits_split(config.test_fraction, config.split_seed)
    k = weights[0].shape[0]
    logits = _numpy(_forward(np.broadcast_to(split.x_test[None], (k, *split.x_test.shape)),
                             weights))
    return (logits.argmax(axis=-1) == split.y_test[None]).mean(axis=1)


def train_classifiers(config: ClassifierConfig, seeds: Sequence[int]) -> np.ndarray:
    """Train and probe one member per seed: a structured array with one record per seed.

    Fields: ``seed``, ``accuracy`` (held-out), ``loss`` (last epoch) and, per probe kind,
    ``max_<kind>`` (the largest output on each of that kind's inputs).
    """
    weights, losses = fit(config, seeds)
    outputs = max_outputs(config, weights)
    dtype = [("seed", np.int64), ("accuracy", np.float64), ("loss", np.float64)]
    dtype += [(f"max_{kind}", np.float32, (v.shape[1],)) for kind, v in outputs.items()]
    records = np.zeros(len(seeds), dtype=dtype)
    records["seed"] = seeds
    records["accuracy"] = accuracy(config, weights)
    records["loss"] = losses
    for kind, v in outputs.items():
        records[f"max_{kind}"] = v
    return records
