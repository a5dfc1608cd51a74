"""lifetf.analysis.landscape: symmetries, alignment, walks, barriers, Hessians, saddle search."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from lifetf.analysis import landscape as L
from lifetf.life.evaluate import board_scores
from lifetf.life.rules import evolve, random_boards
from lifetf.nets.ensemble import Ensemble
from lifetf.nets.models import (
    build_from_specs,
    hand_built_weights,
    layer_specs,
    seeded_initial_weights,
)

BOARDS = random_boards(64, 6, 0.5, seed=11)
COMBOS = list(itertools.product(("firner", "springer"), ("relu", "leaky_relu"),
                                ("sigmoid", "clamp")))


def targets_for(boards: np.ndarray, steps: int) -> np.ndarray:
    return evolve(boards, "firner", steps)


def scramble(layers, weights, rng: np.random.Generator) -> list[np.ndarray]:
    """A copy with every hidden layer's units randomly permuted and rescaled by c in [0.2, 5]."""
    out = [np.array(w, dtype=np.float64) for w in weights]
    for layer in range(len(layers) - 1):
        c = rng.uniform(0.2, 5.0, layers[layer].cout)
        out[2 * layer] *= c
        out[2 * layer + 1] *= c
        out[2 * layer + 2] /= c[None, None, :, None]
        out = L.permute(layers, out, layer, rng.permutation(layers[layer].cout))
    return [w.astype(np.float32) for w in out]


def random_net(layers, seed: int) -> list[np.ndarray]:
    """Kernels N(0, 0.8), biases U(0.2, 1): most units alive, so the outputs vary by board."""
    rng = np.random.default_rng(seed)
    weights = []
    for spec in layers:
        weights.append(rng.normal(0.0, 0.8, (spec.kernel, spec.kernel, spec.cin, spec.cout)))
        weights.append(rng.uniform(0.2, 1.0, spec.cout))
    return [w.astype(np.float32) for w in weights]


def predictions(layers, output, nets, boards) -> np.ndarray:
    """Outputs (K, N, H, W) of K networks on the same boards, through one Ensemble."""
    ensemble = Ensemble(layers, output, len(nets))
    ensemble.set_member_weights([list(w) for w in nets])
    return np.asarray(ensemble.predict(np.broadcast_to(boards, (len(nets), *boards.shape))))


def keras_loss(layers, output, weights, boards, targets) -> float:
    """The trainer's mean BCE, computed with an ordinary Keras model of the same weights."""
    model = build_from_specs(layers, output)
    model.set_weights(weights)
    logits = keras.Model(model.input, model.layers[-2].output)(boards[..., None].astype("float32"))
    logits = np.asarray(logits)[..., 0]
    y = targets.astype("float32")
    if output == "sigmoid":
        cells = keras.ops.binary_crossentropy(y, logits, from_logits=True)
    else:
        cells = keras.ops.binary_crossentropy(y, np.clip(logits, 0.0, 1.0))
    return float(np.mean(np.asarray(cells)))


# ---------------------------------------------------------------- weight lists


def test_flatten_round_trip() -> None:
    layers = layer_specs("springer", 2, 2)
    weights = seeded_initial_weights(layers, "pytorch", 1)
    vector = L.flatten(weights)
    assert vector.dtype == np.float64 and vector.shape == (sum(w.size for w in weights),)
    back = L.unflatten(vector, weights)
    assert all(b.dtype == np.float32 and b.shape == w.shape for b, w in zip(back, weights,
                                                                             strict=True))
    assert np.array_equal(L.flatten(back), vector)


def test_unflatten_names_bad_sizes() -> None:
    weights = hand_built_weights("firner", "firner", 1)
    with pytest.raises(ValueError, match="24.*25"):
        L.unflatten(np.zeros(24), weights)


def test_bad_weight_lists_are_named() -> None:
    layers = layer_specs("firner", 1)
    good = hand_built_weights("firner", "firner", 1)
    with pytest.raises(ValueError, match="5 arrays"):
        L.rescale(layers, good[:5])
    with pytest.raises(ValueError, match=r"weights\[2\] has shape \(1, 1, 2, 2\)"):
        L.rescale(layers, good[:2] + [np.zeros((1, 1, 2, 2))] + good[3:])
    with pytest.raises(ValueError, match="differ in length: 6 and 5"):
        L.distance(good, good[:5])
    with pytest.raises(ValueError, match=r"pairs\[0\]\[1\]"):
        L.walks(layers, "sigmoid", [(good, good[:4])], BOARDS, targets_for(BOARDS, 1))
    with pytest.raises(ValueError, match="points must be an integer >= 2, got 1"):
        L.walks(layers, "sigmoid", [(good, good)], BOARDS, targets_for(BOARDS, 1), points=1)
    with pytest.raises(ValueError, match="unknown output 'softmax'"):
        L.critical_point(layers, "softmax", good, BOARDS, targets_for(BOARDS, 1))
    with pytest.raises(ValueError, match=r"targets have shape \(64, 5, 5\)"):
        L.loss_and_gradient(layers, "sigmoid", good, BOARDS, np.zeros((64, 5, 5)))


def test_permute_validates_and_inverts() -> None:
    layers = layer_specs("firner", 1, 3)
    weights = seeded_initial_weights(layers, "pytorch", 2)
    perm = np.array([2, 0, 1, 5, 4, 3])
    moved = L.permute(layers, weights, 0, perm)
    back = L.permute(layers, moved, 0, np.argsort(perm))
    assert L.distance(back, weights) == 0.0
    with pytest.raises(ValueError, match="not a permutation"):
        L.permute(layers, weights, 0, [0, 0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="layer_index 2 is not a hidden layer"):
        L.permute(layers, weights, 2, [0])


# ---------------------------------------------------------------- symmetries and alignment


@pytest.mark.parametrize("arch,activation,output", COMBOS)
def test_rescale_keeps_function_and_normalises(arch: str, activation: str, output: str) -> None:
    layers = layer_specs(arch, 2, 2, activation=activation, output=output)
    weights = seeded_initial_weights(layers, "pytorch", 5)
    canonical = L.rescale(layers, weights)
    for layer in range(len(layers) - 1):
        norms = np.linalg.norm(L._incoming(canonical, layer), axis=1)
        assert np.allclose(norms, 1.0, atol=1e-6)
    outs = predictions(layers, output, [weights, canonical], BOARDS)
    assert np.abs(outs[0] - outs[1]).max() < 1e-5


def test_rescale_leaves_zero_units() -> None:
    layers = layer_specs("firner", 1, 2)
    weights = hand_built_weights("firner", "firner", 1, 2)  # units beyond the first pair are zero
    canonical = L.rescale(layers, weights)
    assert np.all(canonical[0][..., 2:] == 0) and np.all(canonical[1][2:] == 0)
    assert np.array_equal(canonical[2][:, :, 2:, :], weights[2][:, :, 2:, :])
    outs = predictions(layers, "sigmoid", [weights, canonical], BOARDS)
    assert np.abs(outs[0] - outs[1]).max() < 1e-5


@pytest.mark.parametrize("case", range(len(COMBOS)))
def test_align_undoes_permutation_and_rescaling(case: int) -> None:
    arch, activation, output = COMBOS[case]
    steps, width = 1 + case % 2, 1 + case % 3
    layers = layer_specs(arch, steps, width, activation=activation, output=output)
    net = random_net(layers, 200 + case)
    copy = scramble(layers, net, np.random.default_rng(case))
    outs = predictions(layers, output, [net, copy], BOARDS)
    assert outs[0].std() > 1e-3  # a network whose outputs vary, so that equality means something
    assert np.abs(outs[0] - outs[1]).max() < 1e-4

    ref, aligned = L.align(layers, net, copy)
    assert L.distance(ref, aligned) < 1e-4 * np.linalg.norm(L.flatten(ref))
    assert L.aligned_distance(layers, net, copy) < 1e-4 * np.linalg.norm(L.flatten(ref))
    outs_aligned = predictions(layers, output, [ref, aligned], BOARDS)
    assert np.abs(outs_aligned - outs[:1]).max() < 1e-4

    targets = targets_for(BOARDS, steps)
    smooth, raw = L.walks(layers, output, [(ref, aligned), (net, copy)], BOARDS, targets,
                          points=11)
    assert L.barrier(smooth.loss, smooth.alphas).over_line < 1e-5
    assert np.ptp(smooth.loss) < 1e-5 * max(1.0, smooth.loss[0])
    assert abs(raw.loss[0] - raw.loss[-1]) < 1e-5 * max(1.0, raw.loss[0])
    if case == 4:  # one fixed seed: the symmetry alone puts a barrier on the raw line
        assert L.barrier(raw.loss, raw.alphas).over_line > 0.1


def test_align_recovers_the_hand_built_solution() -> None:
    layers = layer_specs("firner", 1, 3)
    exact = hand_built_weights("firner", "firner", 1, 3)
    copy = scramble(layers, exact, np.random.default_rng(3))
    ref, aligned = L.align(layers, exact, copy)
    assert L.distance(ref, aligned) < 1e-5 * np.linalg.norm(L.flatten(ref))
    assert L.distance(exact, copy) > 1.0
    smooth, raw = L.walks(layers, "sigmoid", [(ref, aligned), (exact, copy)], BOARDS,
                          targets_for(BOARDS, 1), points=11)
    assert smooth.board_error.max() == 0.0 and np.ptp(smooth.loss) < 1e-6
    assert L.barrier(raw.loss, raw.alphas).over_line > 0.1  # a barrier made by the symmetry


# ---------------------------------------------------------------- barriers


def test_barrier_of_a_line_is_zero() -> None:
    t = np.linspace(0, 1, 21)
    result = L.barrier(3.0 - 2.0 * t, t)
    assert result.over_line == pytest.approx(0.0, abs=1e-12)
    assert result.over_mean == pytest.approx(1.0)  # max(3) above the ends' mean (2)


def test_barrier_of_a_bump_is_its_height() -> None:
    t = np.linspace(0, 1, 51)
    result = L.barrier(0.5 + 0.7 * np.exp(-(((t - 0.3) / 0.05) ** 2)), t)
    assert result.over_line == pytest.approx(0.7)
    assert result.over_mean == pytest.approx(0.7)
    assert result.peak_at == pytest.approx(0.3)


def test_barrier_over_mean_and_over_line_differ_when_ends_differ() -> None:
    t = np.linspace(0, 1, 11)
    values = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    result = L.barrier(values, t)
    assert result.over_line == pytest.approx(0.0, abs=1e-12)
    assert result.over_mean == pytest.approx(9.0 - 5.0)
    distances = 4.0 * t  # distances instead of alphas give the same t
    assert L.barrier(values, distances) == result


def test_barrier_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"values \(3,\) and alphas \(4,\)"):
        L.barrier(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="length >= 2"):
        L.barrier(np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match="finite"):
        L.barrier(np.array([0.0, np.nan]), np.array([0.0, 1.0]))


# ---------------------------------------------------------------- walks


@pytest.mark.parametrize("output", ["sigmoid", "clamp"])
def test_walk_ends_match_keras(output: str) -> None:
    layers = layer_specs("firner", 1, 2, activation="leaky_relu", output=output)
    a = hand_built_weights("firner", "firner", 1, 2, output)
    b = seeded_initial_weights(layers, "pytorch", 9)
    targets = targets_for(BOARDS, 1)
    (walk,) = L.walks(layers, output, [(a, b)], BOARDS, targets, points=6)
    assert np.allclose(walk.alphas, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert np.allclose(walk.distance, walk.alphas * L.distance(a, b))
    for end, weights in ((0, a), (-1, b)):
        assert walk.loss[end] == pytest.approx(
            keras_loss(layers, output, weights, BOARDS, targets), abs=1e-5)
        scores = board_scores(predictions(layers, output, [weights], BOARDS), targets)
        assert walk.board_error[end] == pytest.approx(1 - scores["match_rate"][0])
        assert walk.cell_error[end] == pytest.approx(1 - scores["cell_accuracy"][0])
    loss64, _ = L.loss_and_gradient(layers, output, b, BOARDS, targets)
    assert walk.loss[-1] == pytest.approx(loss64, abs=1e-5)


def test_walks_chunking_does_not_change_results() -> None:
    layers = layer_specs("springer", 1, 1)
    nets = [seeded_initial_weights(layers, "pytorch", s) for s in range(4)]
    pairs = [(nets[0], nets[1]), (nets[2], nets[3])]
    targets = targets_for(BOARDS, 1)
    whole = L.walks(layers, "sigmoid", pairs, BOARDS, targets, points=5)
    chunked = L.walks(layers, "sigmoid", pairs, BOARDS, targets, points=5, max_members=3)
    for w, c in zip(whole, chunked, strict=True):
        assert np.allclose(w.loss, c.loss, atol=1e-6)
        assert np.array_equal(w.board_error, c.board_error)
        assert np.array_equal(w.cell_error, c.cell_error)


@pytest.mark.parametrize("arch,activation,output", [
    ("firner", "leaky_relu", "sigmoid"), ("firner", "relu", "clamp"),
    ("springer", "relu", "sigmoid"), ("springer", "leaky_relu", "clamp")])
def test_one_window_networks_scored_by_window_score_as_on_every_cell(arch, activation, output):
    layers = layer_specs(arch, 1, 2, activation=activation, output=output)
    exact = hand_built_weights(arch, "firner", 1, 2, output)
    nets = [random_net(layers, 0), seeded_initial_weights(layers, "pytorch", 5), exact]
    targets = targets_for(BOARDS, 1)
    targets[::2, 0, 0] = 1 - targets[::2, 0, 0]  # one wrong target on every other board
    boards, targets = L._check_boards(BOARDS, targets)
    ensemble = Ensemble(layers, output, 2)  # two chunks, the second padded
    by_window = L._window_sums(ensemble, nets, L._window_counts(boards, targets))
    on_cells = L._cell_sums(ensemble, nets, boards, targets)
    assert by_window.shape == on_cells.shape == (3, len(nets))
    np.testing.assert_array_equal(by_window[1:], on_cells[1:])  # wrong cells and boards: counts
    np.testing.assert_allclose(by_window[0], on_cells[0], rtol=1e-5)  # summed in another order
    # not vacuous: the exact network misses just the flipped targets, the others more
    assert by_window[1:, -1].tolist() == [len(BOARDS) // 2] * 2
    assert (by_window[1, :-1] > len(BOARDS)).all()


def test_walks_score_by_window_only_one_window_networks_on_0_1_boards(monkeypatch):
    def refuse(*args):
        raise AssertionError("the other path was taken")

    one = layer_specs("firner", 1, 1)
    net = seeded_initial_weights(one, "pytorch", 0)
    targets = targets_for(BOARDS, 1)
    monkeypatch.setattr(L, "_cell_sums", refuse)
    L.evaluate_members(one, "clamp", [net], BOARDS, targets)
    monkeypatch.undo()
    monkeypatch.setattr(L, "_window_sums", refuse)
    L.evaluate_members(one, "clamp", [net], BOARDS * 0.5, targets)  # not 0/1 boards
    two = layer_specs("firner", 2, 1)  # its output sees a 5x5 window
    L.evaluate_members(two, "clamp", [seeded_initial_weights(two, "pytorch", 0)], BOARDS,
                       targets_for(BOARDS, 2))


# ---------------------------------------------------------------- Hessians


def test_hessian_matches_finite_differences() -> None:
    layers = layer_specs("firner", 1, 1, activation="leaky_relu")
    weights = seeded_initial_weights(layers, "pytorch", 4)
    boards = BOARDS[:16]
    targets = targets_for(boards, 1)
    loss, grad, hess = L.hessian(layers, "sigmoid", weights, boards, targets)
    assert np.allclose(hess, hess.T, atol=1e-12)
    loss2, grad2 = L.loss_and_gradient(layers, "sigmoid", weights, boards, targets)
    assert loss == pytest.approx(loss2) and np.allclose(grad, grad2)
    theta, h = L.flatten(weights), 1e-5
    columns = []
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        up = L.loss_and_gradient(layers, "sigmoid", L.unflatten(theta + step, weights), boards,
                                 targets)[1]
        down = L.loss_and_gradient(layers, "sigmoid", L.unflatten(theta - step, weights), boards,
                                   targets)[1]
        columns.append((up - down) / (2 * h))
    numeric = np.stack(columns, axis=1)
    assert np.allclose(hess, numeric, rtol=1e-3, atol=1e-3 * np.abs(hess).max())


def test_hand_built_solution_is_a_minimum() -> None:
    layers = layer_specs("firner", 1, 1, activation="relu", output="sigmoid")
    exact = hand_built_weights("firner", "firner", 1, 1, "sigmoid")
    point = L.critical_point(layers, "sigmoid", exact, BOARDS, targets_for(BOARDS, 1))
    assert point.grad_norm < 1e-3
    assert point.eigenvalues.min() >= -point.tolerance
    assert np.all(np.diff(point.eigenvalues) >= 0)
    assert point.kind == "minimum" and point.index == 0.0


def synthetic(eigenvalues: list[float]) -> L.CriticalPoint:
    values = np.array(sorted(eigenvalues))
    return L.CriticalPoint(0.0, 0.0, values, L.eigen_tolerance(values))


def test_kind_classification() -> None:
    assert synthetic([0.0, 1e-9, 1.0, 2.0]).kind == "minimum"
    saddle = synthetic([-1.0, 0.0, 2.0, 3.0])
    assert saddle.kind == "saddle" and saddle.index == pytest.approx(1 / 3)
    assert (saddle.n_negative, saddle.n_zero, saddle.n_positive) == (1, 1, 2)
    assert synthetic([-2.0, -1.0, 1e-8]).kind == "maximum"
    flat = synthetic([0.0, 0.0])
    assert flat.kind == "flat" and np.isnan(flat.index)
    assert L.eigen_tolerance(np.array([-4.0, 2.0])) == pytest.approx(4e-6 + 1e-9)


def test_shared_input_logits_match_the_ensemble() -> None:
    layers = layer_specs("springer", 2, 2, activation="leaky_relu")
    nets = [random_net(layers, s) for s in range(3)]
    ensemble = Ensemble(layers, "sigmoid", 3)
    ensemble.set_member_weights(nets)
    boards = BOARDS[:8].astype(np.float32)
    params = [np.stack([net[j] for net in nets]) for j in range(len(nets[0]))]
    shared = keras.ops.convert_to_numpy(L._shared_input_logits(ensemble, params, boards))
    direct = keras.ops.convert_to_numpy(
        ensemble.logits(np.broadcast_to(boards, (3, *boards.shape))))
    assert np.allclose(shared, direct, rtol=1e-5, atol=1e-5)


def test_find_critical_points_reduces_gradient_norm() -> None:
    layers = layer_specs("firner", 1, 1)
    boards = BOARDS[:16]
    targets = targets_for(boards, 1)
    starts = [seeded_initial_weights(layers, "pytorch", s) for s in range(4)]
    ends = L.find_critical_points(layers, "sigmoid", starts, boards, targets, steps=400,
                                  learning_rate=3e-3)
    assert len(ends) == 4 and all(e[0].shape == s[0].shape for e, s in zip(ends, starts,
                                                                            strict=True))

    def norm(weights):
        return np.linalg.norm(L.loss_and_gradient(layers, "sigmoid", weights, boards,
                                                  targets)[1])

    before = np.array([norm(w) for w in starts])
    after = np.array([norm(w) for w in ends])
    assert np.all(after < before) and np.median(after / before) < 0.1


def test_align_to_keeps_the_reference_and_recovers_a_scrambled_copy() -> None:
    layers = layer_specs("firner", 1, 2, activation="relu", output="sigmoid")
    reference = hand_built_weights("firner", "firner", 1, 2, "sigmoid")
    rng = np.random.default_rng(4)
    reference = [w + rng.normal(0, 0.3, w.shape).astype(np.float32) for w in reference]
    copy = [np.array(w) for w in reference]
    for layer in range(len(layers) - 1):
        copy = L.permute(layers, copy, layer, rng.permutation(layers[layer].cout))
    # unit norms everywhere: another scale, the same function
    scaled = L.match_scales(layers, L.rescale(layers, reference), copy)
    result = L.align_to(layers, reference, scaled)
    assert L.distance(reference, result) < 1e-4 * np.linalg.norm(L.flatten(reference))
