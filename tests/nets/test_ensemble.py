"""Tests for lifetf.nets.ensemble and the vectorised trainer: a member trains exactly as if alone.

The key property of the suite: member k of a K-member ensemble starts from the weights of its own
seed and follows the same path whatever else trains beside it, so a trial's result does not
depend on how trials were batched together.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pandas as pd
import pytest

from lifetf.life.rules import evolve, random_boards
from lifetf.nets.ensemble import UNROLL_LIMIT, Ensemble
from lifetf.nets.experiment import Experiment
from lifetf.nets.models import hand_built_weights, layer_specs, seeded_initial_weights
from lifetf.nets.train import ROW_COLUMNS, starting_weights, train_members

SEED = 7
OTHERS = [s for s in range(64) if s != SEED]  # 63 other seeds
CROWD = OTHERS + [SEED]
PAIR = [3, 2]  # a second small ensemble, in another order than in the crowd
TOLERANCE = 1e-5

CONFIGS = {
    "reference": Experiment(batches=200),
    "tricks": Experiment(init="normalize", activation="leaky_relu", output="sigmoid", width=2,
                         steps=2, batches=100),
}


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    assert len(a) == len(b)
    assert all(x.shape == y.shape for x, y in zip(a, b, strict=True))
    pairs = zip(a, b, strict=True)
    return max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in pairs)


def row(frame: pd.DataFrame, seed: int) -> pd.Series:
    matches = frame[frame.seed == seed]
    assert len(matches) == 1
    return matches.iloc[0]


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def runs(request) -> dict:
    """One configuration trained alone (seed 7), in a crowd of 64, in a pair, and untrained."""
    experiment = CONFIGS[request.param]
    return {
        "experiment": experiment,
        "solo": train_members(experiment, [SEED]),
        "crowd": train_members(experiment, CROWD),
        "pair": train_members(experiment, PAIR),
        "start": train_members(experiment.replace(batches=0), CROWD),
    }


# one worker trains both configurations' runs once and runs every test that reads them (under
# `-n 2` the module fixture was otherwise trained on each worker that got one of its tests)
SHARED_RUNS = pytest.mark.xdist_group("ensemble-runs")

# ---------------------------------------------------------------- the key property


@SHARED_RUNS
def test_rows_have_the_documented_columns(runs) -> None:
    for name in ("solo", "crowd", "pair", "start"):
        assert tuple(runs[name].columns) == ROW_COLUMNS
    assert list(runs["crowd"].seed) == CROWD
    assert list(runs["pair"].seed) == PAIR


@SHARED_RUNS
def test_starting_weights_do_not_depend_on_the_ensemble(runs) -> None:
    experiment = runs["experiment"]
    start = runs["start"]
    for seed in CROWD:
        weights = row(start, seed).weights
        assert max_diff(weights, starting_weights(experiment, seed)) == 0.0
        assert max_diff(weights, seeded_initial_weights(experiment.layers, experiment.init,
                                                        seed)) == 0.0
    # and seeds really give different starts
    assert max_diff(row(start, 0).weights, row(start, 1).weights) > 0.01


@SHARED_RUNS
def test_member_trains_as_if_alone(runs) -> None:
    solo, crowd = row(runs["solo"], SEED), row(runs["crowd"], SEED)
    assert max_diff(solo.weights, crowd.weights) < TOLERANCE
    assert solo.success == crowd.success
    assert solo.match_rate == pytest.approx(crowd.match_rate, abs=1e-9)
    # losses are means over thousands of cells: float32 sums in another order (XLA reduces a
    # batch of 64 members differently from one) agree to a few ulps of the mean
    assert solo.initial_loss == pytest.approx(crowd.initial_loss, rel=1e-5, abs=1e-6)
    assert solo.final_loss == pytest.approx(crowd.final_loss, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(solo.loss_curve, crowd.loss_curve, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(solo.grad_norm_curve, crowd.grad_norm_curve, rtol=1e-4, atol=1e-5)


@SHARED_RUNS
def test_members_of_another_small_ensemble_agree(runs) -> None:
    for seed in PAIR:
        pair, crowd = row(runs["pair"], seed), row(runs["crowd"], seed)
        assert max_diff(pair.weights, crowd.weights) < TOLERANCE
        assert pair.success == crowd.success
        assert pair.final_loss == pytest.approx(crowd.final_loss, rel=1e-5, abs=1e-6)


@SHARED_RUNS
def test_training_moves_the_weights(runs) -> None:
    """The comparisons above are not vacuous: training changes (most) members' weights."""
    start, crowd = runs["start"], runs["crowd"]
    moved = [max_diff(row(start, s).weights, row(crowd, s).weights) > 1e-3 for s in CROWD]
    assert sum(moved) >= len(CROWD) // 4
    assert any(max_diff(row(start, s).weights, row(crowd, s).weights) > 1e-3 for s in PAIR)
    # independent members end in different places
    assert max_diff(row(crowd, 2).weights, row(crowd, 3).weights) > 1e-3


def test_per_member_fan() -> None:
    """PyTorch-default bounds are those of one network: the scale does not shrink with K."""
    experiment = Experiment(batches=0)  # firner net, width 1, pytorch init
    crowd = train_members(experiment, list(range(64)))
    singles = [train_members(experiment, [s]) for s in (0, 1, 2)]
    for s, single in zip((0, 1, 2), singles, strict=True):
        assert max_diff(single.weights[0], row(crowd, s).weights) == 0.0
    layers = experiment.layers
    for i, spec in enumerate(layers):
        bound = 1.0 / math.sqrt(spec.kernel * spec.kernel * spec.cin)
        pooled = np.concatenate([np.ravel(w[2 * i]) for w in crowd.weights])
        single = np.concatenate([np.ravel(s.weights[0][2 * i]) for s in singles])
        for values in (pooled, single):
            assert np.abs(values).max() <= bound + 1e-6
        assert np.abs(pooled).max() > 0.9 * bound
        if spec.kernel == 3:  # 64 * 18 = 1152 values: the std of Uniform(-b, b) is b / sqrt(3)
            assert pooled.std() == pytest.approx(bound / math.sqrt(3), rel=0.08)
            assert single.std() > 0.5 * bound / math.sqrt(3)


# ---------------------------------------------------------------- the ensemble itself

NETWORKS = [
    ("firner", 1, 1, "relu", "sigmoid"),
    ("firner", 2, 2, "leaky_relu", "clamp"),
    ("springer", 2, 3, "relu", "clamp"),  # wide: the batched matrix-product path
    ("springer", 1, 1, "leaky_relu", "sigmoid"),
]


@pytest.mark.parametrize(("arch", "steps", "width", "activation", "output"), NETWORKS)
def test_exported_member_reproduces_predict(arch, steps, width, activation, output) -> None:
    layers = layer_specs(arch, steps, width, 1.0, activation, output)
    members = 4
    ensemble = Ensemble(layers, output, members)
    per_member = [seeded_initial_weights(layers, "pytorch", 100 + k) for k in range(members)]
    ensemble.set_member_weights(per_member)
    boards = random_boards(members * 16, (7, 9), 0.5, seed=5).reshape(members, 16, 7, 9)
    predicted = np.asarray(ensemble.predict(boards))
    assert predicted.shape == (members, 16, 7, 9)
    for k in range(members):
        model = ensemble.export_member(k)
        assert max_diff(model.get_weights(), per_member[k]) == 0.0
        single = keras.ops.convert_to_numpy(
            model(boards[k][..., None].astype(np.float32), training=False))[..., 0]
        assert np.abs(single - predicted[k]).max() < 1e-5
    # members differ from one another
    assert np.abs(predicted[0] - predicted[1]).max() > 1e-3


def test_wide_layers_use_both_linear_paths() -> None:
    layers = layer_specs("springer", 2, 3)
    sizes = [s.kernel * s.kernel * s.cin * s.cout for s in layers]
    assert min(sizes) <= UNROLL_LIMIT < max(sizes)


@pytest.mark.parametrize("arch", ["firner", "springer"])
def test_ensemble_with_hand_built_weights_is_exact(arch: str) -> None:
    rules = ("conway", "firner")
    layers = layer_specs(arch, 3, 1, 1.0, "relu", "sigmoid")
    ensemble = Ensemble(layers, "sigmoid", len(rules))
    ensemble.set_member_weights([hand_built_weights(arch, r, 3) for r in rules])
    boards = random_boards(200, 8, 0.5, seed=9)
    predicted = np.asarray(ensemble.predict(np.stack([boards, boards])))
    for k, rule in enumerate(rules):
        assert np.array_equal(predicted[k] > 0.5, evolve(boards, rule, 3).astype(bool))


def test_member_weight_accessors() -> None:
    layers = layer_specs("firner", 1, 2)
    ensemble = Ensemble(layers, "clamp", 3)
    per_member = [seeded_initial_weights(layers, "keras", s) for s in (4, 5, 6)]
    ensemble.set_member_weights(per_member)
    for k in range(3):
        assert max_diff(ensemble.member_weights(k), per_member[k]) == 0.0
        assert max_diff(ensemble.all_weights()[k], per_member[k]) == 0.0
    with pytest.raises(ValueError, match="2"):
        ensemble.set_member_weights(per_member[:2])


def test_train_members_rejects_bad_seeds() -> None:
    experiment = Experiment(batches=0)
    with pytest.raises(ValueError):
        train_members(experiment, [])
    with pytest.raises(ValueError, match=r"\[1, 1\]"):
        train_members(experiment, [1, 1])
