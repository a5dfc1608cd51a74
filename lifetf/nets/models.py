"""The Firner and Springer-Kenyon networks, their initialisers and their hand-built exact weights.

A network is described by a tuple of :class:`LayerSpec` (convolutions with their activation and
channel dropout) plus an output kind. The same description builds an ordinary Keras model
(:func:`build`) and the many-member ensemble of :mod:`lifetf.nets.ensemble`, so both compute the
same function from the same weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifetf.life.rules import get_rule

ARCHS = ("firner", "springer")
ACTIVATIONS = ("relu", "leaky_relu")
OUTPUTS = ("sigmoid", "clamp")
INITS = ("keras", "pytorch", "normalize")
LEAKY_SLOPE = 0.01  # PyTorch's default negative slope, as in Firner's code (Keras' default is 0.3)
NORMALIZE_DROPOUT = 0.4  # Firner's "normalize" option inserts 40% channel dropout


@dataclass(frozen=True)
class LayerSpec:
    """One convolution: kernel size (1 or 3), channels in and out, activation, dropout after it."""

    kernel: int
    cin: int
    cout: int
    activation: str  # "relu", "leaky_relu" or "linear"
    dropout: float = 0.0

    @property
    def n_params(self) -> int:
        return self.kernel * self.kernel * self.cin * self.cout + self.cout


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}: expected one of {', '.join(allowed)}")


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def n_blocks(steps: int, depth: float = 1.0) -> int:
    """Number of step blocks: floor(steps * depth), at least 1."""
    if not depth > 0:
        raise ValueError(f"depth multiplier must be positive, got {depth!r}")
    return max(1, math.floor(steps * depth))


def layer_specs(arch: str, steps: int, width: int = 1, depth: float = 1.0,
                activation: str = "relu", output: str = "sigmoid",
                dropout: float = 0.0) -> tuple[LayerSpec, ...]:
    """The layers of ``arch`` for ``steps`` steps at width multiplier ``width``.

    ``firner``: per block a 3x3 conv 1->2m, 1x1 2m->m, 1x1 m->1 (the last block's last layer is
    linear with a sigmoid output). ``springer``: per step a 3x3 conv ->2m and a 1x1 ->m, then one
    final linear 1x1 m->1. ``dropout`` is channel dropout after every 3x3 layer but the last's.
    """
    _check_choice("architecture", arch, ARCHS)
    _check_choice("activation", activation, ACTIVATIONS)
    _check_choice("output", output, OUTPUTS)
    steps = _check_positive_int("steps", steps)
    m = _check_positive_int("width", width)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
    blocks = n_blocks(steps, depth)
    layers: list[LayerSpec] = []
    if arch == "firner":
        for b in range(blocks):
            last = b == blocks - 1
            drop = 0.0 if last else dropout
            final_act = "linear" if (last and output == "sigmoid") else activation
            layers += [
                LayerSpec(3, 1, 2 * m, activation, drop),
                LayerSpec(1, 2 * m, m, activation),
                LayerSpec(1, m, 1, final_act),
            ]
    else:
        cin = 1
        for b in range(blocks):
            drop = 0.0 if b == blocks - 1 else dropout
            layers += [
                LayerSpec(3, cin, 2 * m, activation, drop),
                LayerSpec(1, 2 * m, m, activation),
            ]
            cin = m
        layers.append(LayerSpec(1, m, 1, "linear"))
    return tuple(layers)


def sees_one_window(specs: tuple[LayerSpec, ...]) -> bool:
    """Whether a network's output cell is a function of its 3x3 input window alone: one 3x3
    layer, the first, then 1x1 layers, and no dropout (whose masks act per board)."""
    return (specs[0].kernel == 3 and all(s.kernel == 1 for s in specs[1:])
            and not any(s.dropout > 0 for s in specs))


def count_params(layers: tuple[LayerSpec, ...]) -> int:
    """Total trainable parameters of a network description."""
    return sum(spec.n_params for spec in layers)


def _fans(spec: LayerSpec) -> tuple[int, int]:
    area = spec.kernel * spec.kernel
    return area * spec.cin, area * spec.cout


def initial_weights(
    layers: tuple[LayerSpec, ...], init: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """Fresh weights [kernel0, bias0, kernel1, ...] for one network, fans counted per network.

    ``keras``: Glorot uniform kernels, zero biases (Keras' default). ``pytorch``: kernels and
    biases uniform in +-1/sqrt(fan_in) (PyTorch's conv default). ``normalize``: Firner's option,
    kernels Normal(0, 0.02), biases Uniform(-1, 1). Kernels have Keras' (kh, kw, cin, cout) layout.
    """
    _check_choice("initialisation", init, INITS)
    weights: list[np.ndarray] = []
    for spec in layers:
        shape = (spec.kernel, spec.kernel, spec.cin, spec.cout)
        fan_in, fan_out = _fans(spec)
        if init == "keras":
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            kernel = rng.uniform(-limit, limit, shape)
            bias = np.zeros(spec.cout)
        elif init == "pytorch":
            bound = 1.0 / math.sqrt(fan_in)
            kernel = rng.uniform(-bound, bound, shape)
            bias = rng.uniform(-bound, bound, spec.cout)
        else:
            kernel = rng.normal(0.0, 0.02, shape)
            bias = rng.uniform(-1.0, 1.0, spec.cout)
        weights += [kernel.astype(np.float32), bias.astype(np.float32)]
    return weights


def seeded_initial_weights(
    layers: tuple[LayerSpec, ...], init: str, seed: int
) -> list[np.ndarray]:
    """Initial weights of the member with ``seed``: the same whatever else trains beside it."""
    from lifetf.seeding import INIT, numpy_rng

    return initial_weights(layers, init, numpy_rng(seed, INIT))


def _step_filters(rule: str, centre: float, neighbour: float) -> np.ndarray:
    mask = get_rule(rule).neighbourhood_mask
    kernel = neighbour * mask
    kernel[1, 1] = centre
    return kernel


def hand_built_weights(arch: str, rule: str, steps: int, width: int = 1, output: str = "sigmoid",
                       depth: float = 1.0) -> list[np.ndarray]:
    """Exact weights computing ``steps`` steps of ``rule`` (with ReLU), extra channels zero.

    Let x = 0.5 * centre + live neighbours; the next state is alive iff 2.5 <= x <= 3.5.
    ``firner`` (protocol.md): h1 = relu(x - 2), h2 = relu(x - 3.5), g = relu(1 - 2 h1 + 10 h2)
    is 0 for alive and >= 1 for dead, out = relu(1 - 2 g) (or sigmoid(10 - 20 g)).
    ``springer`` (two layers a step): h1 = relu(2.5 - x), h2 = relu(x - 3.5), out = relu(1 - 2 h1
    - 2 h2) is exactly 1 for alive and 0 for dead; the final 1x1 is 20 out - 10 before a sigmoid
    (or the identity before the clamp).
    """
    get_rule(rule)
    layers = layer_specs(arch, steps, width, depth, "relu", output)
    blocks = n_blocks(steps, depth)
    if blocks != steps:
        raise ValueError(
            f"hand-built weights compute one step a block; depth {depth!r} gives {blocks} "
            f"blocks for {steps} steps"
        )
    weights = [
        w
        for spec in layers
        for w in (
            np.zeros((spec.kernel, spec.kernel, spec.cin, spec.cout), np.float32),
            np.zeros(spec.cout, np.float32),
        )
    ]
    if arch == "firner":
        for b in range(blocks):
            k3, b3, k1, b1, k0, b0 = weights[6 * b : 6 * b + 6]
            k3[:, :, 0, 0] = _step_filters(rule, 0.5, 1.0)
            k3[:, :, 0, 1] = _step_filters(rule, 0.5, 1.0)
            b3[:2] = (-2.0, -3.5)
            k1[0, 0, 0, 0], k1[0, 0, 1, 0], b1[0] = -2.0, 10.0, 1.0
            if b == blocks - 1 and output == "sigmoid":
                k0[0, 0, 0, 0], b0[0] = -20.0, 10.0
            else:
                k0[0, 0, 0, 0], b0[0] = -2.0, 1.0
    else:
        for b in range(blocks):
            k3, b3, k1, b1 = weights[4 * b : 4 * b + 4]
            k3[:, :, 0, 0] = _step_filters(rule, -0.5, -1.0)
            k3[:, :, 0, 1] = _step_filters(rule, 0.5, 1.0)
            b3[:2] = (2.5, -3.5)
            k1[0, 0, 0, 0], k1[0, 0, 1, 0], b1[0] = -2.0, -2.0, 1.0
        kf, bf = weights[-2:]
        if output == "sigmoid":
            kf[0, 0, 0, 0], bf[0] = 20.0, -10.0
        else:
            kf[0, 0, 0, 0], bf[0] = 1.0, 0.0
    return weights


# The activations and the clamp are written with ``where`` so that their gradients at the kinks
# are the same on every backend, and PyTorch's (the original code's): ReLU and LeakyReLU take
# the slope of the negative side at exactly 0 (TensorFlow's leaky_relu does; JAX's takes 1),
# and the clamp passes the gradient on the closed interval [0, 1] (JAX's clip splits it at ties).


def relu(x):
    """max(x, 0); gradient 0 at x = 0."""
    from keras import ops

    return ops.where(x > 0, x, ops.zeros_like(x))


def leaky_relu(x):
    """x for x > 0, LEAKY_SLOPE * x otherwise; gradient LEAKY_SLOPE at x = 0."""
    from keras import ops

    return ops.where(x > 0, x, LEAKY_SLOPE * x)


def clamp(x):
    """x clipped to [0, 1]; gradient 1 on the closed interval, 0 outside."""
    from keras import ops

    return ops.where(x < 0, ops.zeros_like(x), ops.where(x > 1, ops.ones_like(x), x))


def keras_activation(name: str):
    """The activation function for a layer spec's activation name."""
    if name == "leaky_relu":
        return leaky_relu
    if name == "relu":
        return relu
    return lambda x: x


def build_from_specs(layers: tuple[LayerSpec, ...], output: str, name: str = "life"):
    """An ordinary Keras model (input (H, W, 1), any H and W) for a network description."""
    import keras

    inputs = keras.Input(shape=(None, None, 1))
    x = inputs
    for i, spec in enumerate(layers):
        x = keras.layers.Conv2D(
            spec.cout,
            spec.kernel,
            padding="same",
            activation=keras_activation(spec.activation),
            name=f"conv{i}_{spec.kernel}x{spec.kernel}",
        )(x)
        if spec.dropout > 0:
            x = keras.layers.SpatialDropout2D(spec.dropout, name=f"drop{i}")(x)
    if output == "sigmoid":
        x = keras.layers.Activation("sigmoid", name="sigmoid")(x)
    else:
        x = keras.layers.Lambda(clamp, name="clamp")(x)
    return keras.Model(inputs, x, name=name)


def forward(layers: tuple[LayerSpec, ...], output: str, weights: list, boards):
    """What :func:`build_from_specs`' model computes on (B, H, W, 1) boards with ``weights``
    ([kernel0, bias0, ...]), in inference, without building layers: the same ops in the same
    order as Keras' Conv2D, so the same numbers, at a fraction of a model's build and call cost
    (for checking many weight sets, such as every hand-built network)."""
    return forward_many([(layers, output, weights)], boards)[0]


def forward_many(networks: Sequence[tuple[tuple[LayerSpec, ...], str, list]], boards) -> list:
    """:func:`forward` of each (layers, output, weights) on the same boards. A leading run of
    layers that networks share (same specs, same weights) is computed once: the n-step
    hand-built networks share their first n - 1 steps, so checking steps 1..20 costs about
    as much as the 20-step network alone. Same ops on the same inputs, so the same numbers."""
    from keras import activations, ops

    start = ops.convert_to_tensor(boards, "float32")
    reached: dict[tuple, object] = {}  # a prefix of layers (specs and weights) -> its output
    outputs = []
    for layers, output, weights in networks:
        if len(weights) != 2 * len(layers):
            raise ValueError(f"expected {2 * len(layers)} weight arrays for {len(layers)} "
                             f"layers, got {len(weights)}")
        prefix: tuple = ()
        x = start
        for spec, kernel, bias in zip(layers, weights[::2], weights[1::2], strict=True):
            kernel, bias = np.asarray(kernel, np.float32), np.asarray(bias, np.float32)
            prefix += ((spec, kernel.shape, kernel.tobytes(), bias.tobytes()),)
            if prefix in reached:
                x = reached[prefix]
                continue
            x = ops.conv(x, ops.convert_to_tensor(kernel), strides=[1, 1], padding="same",
                         dilation_rate=(1, 1), data_format="channels_last")
            x = ops.add(x, ops.reshape(ops.convert_to_tensor(bias), (1, 1, 1, spec.cout)))
            x = keras_activation(spec.activation)(x)
            reached[prefix] = x
        outputs.append(activations.sigmoid(x) if output == "sigmoid" else clamp(x))
    return outputs


def build(arch: str, steps: int, width: int = 1, depth: float = 1.0, activation: str = "relu",
          output: str = "sigmoid", init: str = "pytorch", seed: int = 0):
    """A Keras model of ``arch`` for ``steps`` steps, initialised from ``seed`` with ``init``.

    ``init="normalize"`` also inserts Firner's 40% channel dropout after each 3x3 layer but the
    last block's.
    """
    _check_choice("initialisation", init, INITS)
    dropout = NORMALIZE_DROPOUT if init == "normalize" else 0.0
    layers = layer_specs(arch, steps, width, depth, activation, output, dropout)
    model = build_from_specs(layers, output, name=f"{arch}_n{steps}_m{width}")
    model.set_weights(seeded_initial_weights(layers, init, seed))
    return model


def hand_built(arch: str, rule: str, steps: int, width: int = 1, output: str = "sigmoid",
               activation: str = "relu"):
    """A Keras model of ``arch`` carrying the exact hand-built weights for ``rule``."""
    layers = layer_specs(arch, steps, width, 1.0, activation, output)
    model = build_from_specs(layers, output, name=f"{arch}_{rule}_exact_n{steps}_m{width}")
    model.set_weights(hand_built_weights(arch, rule, steps, width, output))
    return model
