"""lifetf.nets.models: parameter counts, exact hand-built weights, initialisers, bad inputs."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from scipy import stats as sps

from lifetf.life.rules import random_boards, step
from lifetf.nets import models as M

ARCHS = ("firner", "springer")
RULES = ("firner", "conway")
SMALL = random_boards(1000, 5, 0.5, seed=2024)
LARGE = random_boards(3, 32, 0.5, seed=2025)
# the first blocks (where a wrong weight shows at once), a middle and the deepest network;
# GOL-CAPACITY checks every step count 1-20 of the sigmoid networks in the same CI run
SIGMOID_STEPS = (1, 2, 3, 4, 10, 20)
CLAMP_STEPS = SIGMOID_STEPS
LOSS_LIMIT = 1e-3


def outputs(model, boards: np.ndarray) -> np.ndarray:
    """A single-board Keras model's outputs (N, H, W) on (N, H, W) 0/1 boards."""
    return keras.ops.convert_to_numpy(
        model(boards[..., None].astype(np.float32), training=False))[..., 0]


def bce(out: np.ndarray, target: np.ndarray) -> float:
    p = np.clip(out.astype(np.float64), 1e-7, 1 - 1e-7)
    return float(-(target * np.log(p) + (1 - target) * np.log(1 - p)).mean())


def futures(boards: np.ndarray, rule: str, max_steps: int) -> dict[int, np.ndarray]:
    """The boards after 1..max_steps steps of ``rule`` (zero padding), one step at a time."""
    result, current = {}, boards
    for s in range(1, max_steps + 1):
        current = step(current, rule)
        result[s] = current
    return result


# ---------------------------------------------------------------- parameter counts


@pytest.mark.parametrize("m", [1, 2, 3, 8])
@pytest.mark.parametrize("steps", [1, 2, 5])
def test_firner_param_count(m: int, steps: int) -> None:
    layers = M.layer_specs("firner", steps, width=m)
    assert len(layers) == 3 * steps
    assert M.count_params(layers) == steps * (2 * m * m + 22 * m + 1)


def test_firner_minimal_has_25_params() -> None:
    assert M.count_params(M.layer_specs("firner", 1)) == 25


@pytest.mark.parametrize("steps", [1, 2, 3, 10])
def test_springer_param_count(steps: int) -> None:
    layers = M.layer_specs("springer", steps, width=1)
    assert len(layers) == 2 * steps + 1
    assert M.count_params(layers) == 23 * steps + 2


@pytest.mark.parametrize("m", [2, 4])
def test_springer_param_count_wide(m: int) -> None:
    steps = 3
    first = 9 * 2 * m + 2 * m + 2 * m * m + m
    later = 9 * m * 2 * m + 2 * m + 2 * m * m + m
    assert M.count_params(M.layer_specs("springer", steps, m)) == first + 2 * later + m + 1


def test_keras_model_param_count_matches() -> None:
    for arch in ARCHS:
        for m in (1, 3):
            model = M.build(arch, 2, width=m)
            assert model.count_params() == M.count_params(M.layer_specs(arch, 2, m))


def test_layer_specs_depth_and_output() -> None:
    assert len(M.layer_specs("firner", 4, depth=0.5)) == 6  # floor(4 * 0.5) = 2 blocks
    assert len(M.layer_specs("firner", 1, depth=0.1)) == 3  # at least one block
    sig = M.layer_specs("firner", 2, output="sigmoid")
    clamp = M.layer_specs("firner", 2, output="clamp")
    assert sig[-1].activation == "linear" and clamp[-1].activation == "relu"
    assert sig[2].activation == "relu"  # only the last block's last layer is linear
    assert M.layer_specs("springer", 2, output="clamp")[-1].activation == "linear"
    dropped = M.layer_specs("firner", 3, dropout=0.4)
    assert [s.dropout for s in dropped if s.kernel == 3] == [0.4, 0.4, 0.0]


# ---------------------------------------------------------------- hand-built weights are exact


def _check_exact(arch: str, rule: str, output: str, steps_list, width: int = 1) -> None:
    small_future = futures(SMALL, rule, max(steps_list))
    large_future = futures(LARGE, rule, max(steps_list))
    for steps in steps_list:
        model = M.hand_built(arch, rule, steps, width=width, output=output)
        small = outputs(model, SMALL)
        large = outputs(model, LARGE)
        where = f"{arch} net, {rule} rule, {output}, {steps} steps, width {width}"
        assert np.array_equal(small > 0.5, small_future[steps].astype(bool)), where
        assert np.array_equal(large > 0.5, large_future[steps].astype(bool)), where
        assert bce(small, small_future[steps]) < LOSS_LIMIT, where
        assert bce(large, large_future[steps]) < LOSS_LIMIT, where
        if output == "clamp":
            # every intermediate value is a small multiple of 1/2: the outputs are exactly 0 or 1
            assert np.isin(small, (0.0, 1.0)).all(), where
        else:
            # confident: each cell within sigmoid(-10) of its target
            assert np.abs(small - small_future[steps]).max() < 1e-4, where


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("arch", ARCHS)
def test_hand_built_exact_sigmoid(arch: str, rule: str) -> None:
    _check_exact(arch, rule, "sigmoid", SIGMOID_STEPS)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("arch", ARCHS)
def test_hand_built_exact_clamp(arch: str, rule: str) -> None:
    _check_exact(arch, rule, "clamp", CLAMP_STEPS)


@pytest.mark.parametrize("arch", ARCHS)
def test_hand_built_exact_when_wider(arch: str) -> None:
    # the extra channels carry zero weights and change nothing
    _check_exact(arch, "conway", "sigmoid", (1, 3), width=3)
    _check_exact(arch, "firner", "clamp", (2,), width=2)


def test_hand_built_weights_match_the_layers() -> None:
    for arch in ARCHS:
        for output in M.OUTPUTS:
            layers = M.layer_specs(arch, 3, 2, output=output)
            weights = M.hand_built_weights(arch, "conway", 3, 2, output)
            assert len(weights) == 2 * len(layers)
            for spec, kernel, bias in zip(layers, weights[::2], weights[1::2], strict=True):
                assert kernel.shape == (spec.kernel, spec.kernel, spec.cin, spec.cout)
                assert bias.shape == (spec.cout,)
                assert kernel.dtype == np.float32 and bias.dtype == np.float32


def test_hand_built_firner_rule_ignores_corners() -> None:
    for arch in ARCHS:
        weights = M.hand_built_weights(arch, "firner", 2)
        for kernel in weights[::2]:
            if kernel.shape[0] == 3:
                assert not kernel[[0, 0, 2, 2], [0, 2, 0, 2]].any()


def test_hand_built_needs_one_block_a_step() -> None:
    with pytest.raises(ValueError, match="0.5"):
        M.hand_built_weights("firner", "conway", 4, depth=0.5)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("arch", ARCHS)
def test_leaky_relu_hand_built_leaks(arch: str, rule: str) -> None:
    """With LeakyReLU (slope 0.01) the weights are exact for one step, but the leak accumulates."""
    future = futures(SMALL, rule, 5)
    one = outputs(M.hand_built(arch, rule, 1, output="sigmoid", activation="leaky_relu"), SMALL)
    assert np.array_equal(one > 0.5, future[1].astype(bool))
    five = outputs(M.hand_built(arch, rule, 5, output="sigmoid", activation="leaky_relu"), SMALL)
    boards_right = ((five > 0.5) == future[5].astype(bool)).reshape(len(SMALL), -1).all(axis=1)
    assert not boards_right.all()
    assert boards_right.mean() < 0.95


@pytest.mark.parametrize(("arch", "activation", "output", "width"), [
    ("firner", "relu", "sigmoid", 1), ("springer", "leaky_relu", "clamp", 2),
    ("firner", "leaky_relu", "clamp", 3), ("springer", "relu", "sigmoid", 1)])
def test_forward_computes_what_the_keras_model_computes(arch, activation, output, width):
    """The layer-free forward gives the built model's outputs bit for bit, on hand-built and
    on random weights (which leave the ReLU's kinks and the clamp's range)."""
    layers = M.layer_specs(arch, 3, width, 1.0, activation, output)
    exact = M.hand_built(arch, "conway", 3, width=width, output=output, activation=activation)
    randomised = M.build(arch, 3, width, activation=activation, output=output, seed=7)
    for model in (exact, randomised):
        for boards in (SMALL[:200], LARGE):
            mine = keras.ops.convert_to_numpy(
                M.forward(layers, output, model.get_weights(), boards[..., None]))[..., 0]
            assert np.array_equal(mine, outputs(model, boards)), model.name
    expected = f"expected {2 * len(layers)} weight arrays for {len(layers)} layers, got 2"
    with pytest.raises(ValueError, match=expected):
        M.forward(layers, output, exact.get_weights()[:2], LARGE[..., None])


def test_forward_many_shares_leading_layers_and_changes_no_output(monkeypatch) -> None:
    """The n-step hand-built networks share their first n - 1 steps: forward_many computes
    each shared layer once and returns, per network, what forward alone returns bit for bit;
    a network with other weights shares nothing."""
    nets = [(M.layer_specs("springer", s), "sigmoid",
             M.hand_built_weights("springer", "conway", s)) for s in (1, 2, 3, 4)]
    randomised = M.build("springer", 2, seed=3)
    nets.append((M.layer_specs("springer", 2), "sigmoid", randomised.get_weights()))
    boards = SMALL[:100, ..., None]
    alone = [keras.ops.convert_to_numpy(M.forward(*net, boards)) for net in nets]
    convs = []
    real_conv = keras.ops.conv
    monkeypatch.setattr(keras.ops, "conv", lambda *a, **k: convs.append(1) or real_conv(*a, **k))
    together = [keras.ops.convert_to_numpy(out) for out in M.forward_many(nets, boards)]
    for mine, expected in zip(together, alone, strict=True):
        assert np.array_equal(mine, expected)
    # springer: two layers a step and a final 1x1; the 4-step network's 8 step layers once,
    # each network's own final layer, and all 5 layers of the random one
    assert [len(layers) for layers, _, _ in nets] == [3, 5, 7, 9, 5]
    assert len(convs) == 8 + 4 + 5


# ---------------------------------------------------------------- initialisers

WIDE = M.layer_specs("springer", 3, width=8)  # 3x3 layers with fan_in 9 and 72, 1x1 with 16, 8


def _pooled(init: str, seeds=range(5)) -> list[tuple[M.LayerSpec, np.ndarray, np.ndarray]]:
    """(spec, kernels, biases) per layer, pooled over several independent draws."""
    draws = [M.initial_weights(WIDE, init, np.random.default_rng(s)) for s in seeds]
    return [
        (spec, np.concatenate([d[2 * i].ravel() for d in draws]),
         np.concatenate([d[2 * i + 1].ravel() for d in draws]))
        for i, spec in enumerate(WIDE)
    ]


def test_pytorch_init_bounds_and_uniformity() -> None:
    for spec, kernels, biases in _pooled("pytorch"):
        bound = 1.0 / math.sqrt(spec.kernel * spec.kernel * spec.cin)
        for values in (kernels, biases):
            assert np.abs(values).max() <= bound + 1e-7
        assert np.abs(kernels).max() > 0.9 * bound  # fills the range, not a narrower one
        if kernels.size >= 500:
            assert kernels.std() == pytest.approx(bound / math.sqrt(3), rel=0.08)
            assert abs(kernels.mean()) < 0.1 * bound
            assert sps.kstest(kernels, sps.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3


def test_keras_init_glorot_and_zero_bias() -> None:
    for spec, kernels, biases in _pooled("keras"):
        area = spec.kernel * spec.kernel
        limit = math.sqrt(6.0 / (area * spec.cin + area * spec.cout))
        assert np.abs(kernels).max() <= limit + 1e-7
        assert np.abs(kernels).max() > 0.9 * limit
        assert not biases.any()
        if kernels.size >= 500:
            assert kernels.std() == pytest.approx(limit / math.sqrt(3), rel=0.08)


def test_normalize_init() -> None:
    pooled = _pooled("normalize")
    kernels = np.concatenate([k for _, k, _ in pooled])
    biases = np.concatenate([b for _, _, b in pooled])
    assert kernels.std() == pytest.approx(0.02, rel=0.05)
    assert abs(kernels.mean()) < 0.002
    assert np.abs(biases).max() <= 1.0
    assert biases.min() < -0.5 and biases.max() > 0.5  # spread over [-1, 1], not a constant
    assert biases.std() == pytest.approx(1 / math.sqrt(3), rel=0.15)


@pytest.mark.parametrize("init", M.INITS)
def test_seeded_initial_weights(init: str) -> None:
    layers = M.layer_specs("firner", 2, width=2)
    a = M.seeded_initial_weights(layers, init, 7)
    b = M.seeded_initial_weights(layers, init, 7)
    c = M.seeded_initial_weights(layers, init, 8)
    assert len(a) == 2 * len(layers)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert any(not np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    # the kernels differ between seeds, whatever the init
    assert not np.array_equal(a[0], c[0])
    assert all(w.dtype == np.float32 for w in a)


def test_build_uses_seeded_weights() -> None:
    model = M.build("firner", 2, width=2, init="keras", seed=3)
    expected = M.seeded_initial_weights(M.layer_specs("firner", 2, 2), "keras", 3)
    assert all(np.array_equal(x, y) for x, y in zip(model.get_weights(), expected, strict=True))
    other = M.build("firner", 2, width=2, init="keras", seed=4)
    assert not np.array_equal(model.get_weights()[0], other.get_weights()[0])


def test_normalize_build_has_spatial_dropout() -> None:
    import keras

    model = M.build("firner", 3, init="normalize")
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.SpatialDropout2D)]
    assert len(drops) == 2  # after each 3x3 layer but the last block's
    assert all(layer.rate == pytest.approx(M.NORMALIZE_DROPOUT) for layer in drops)
    springer = M.build("springer", 2, init="normalize")
    assert sum(isinstance(layer, keras.layers.SpatialDropout2D) for layer in springer.layers) == 1
    for init in ("pytorch", "keras"):
        plain = M.build("firner", 3, init=init)
        assert not any(isinstance(layer, keras.layers.SpatialDropout2D) for layer in plain.layers)
    # dropout is off at inference: two calls agree
    x = SMALL[:8, ..., None].astype(np.float32)
    first = keras.ops.convert_to_numpy(model(x, training=False))
    assert np.array_equal(first, keras.ops.convert_to_numpy(model(x, training=False)))


def test_build_output_range() -> None:
    x = SMALL[:50, ..., None].astype(np.float32)
    for output in M.OUTPUTS:
        out = keras.ops.convert_to_numpy(M.build("springer", 2, output=output, seed=1)(x))
        assert out.shape == x.shape
        assert out.min() >= 0.0 and out.max() <= 1.0


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"arch": "resnet"}, "resnet"),
        ({"activation": "tanh"}, "tanh"),
        ({"output": "softmax"}, "softmax"),
        ({"init": "he"}, "'he'"),
        ({"width": 0}, "0"),
        ({"width": 1.5}, "1.5"),
        ({"steps": -2}, "-2"),
        ({"depth": -1.0}, "-1.0"),
    ],
)
def test_build_rejects_bad_arguments(kwargs: dict, named: str) -> None:
    args = {"arch": "firner", "steps": 1} | kwargs
    with pytest.raises(ValueError, match=named) as info:
        M.build(**args)
    assert named in str(info.value)


def test_layer_specs_and_init_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="'resnet'"):
        M.layer_specs("resnet", 1)
    with pytest.raises(ValueError, match="1.2"):
        M.layer_specs("firner", 1, dropout=1.2)
    with pytest.raises(ValueError, match="'he'"):
        M.initial_weights(M.layer_specs("firner", 1), "he", np.random.default_rng(0))
    with pytest.raises(ValueError, match="'tanh'"):
        M.hand_built("firner", "conway", 1, activation="tanh")
    with pytest.raises(ValueError, match="'life'"):
        M.hand_built_weights("firner", "life", 1)
    with pytest.raises(ValueError, match="0"):
        M.hand_built("springer", "conway", 1, width=0)
