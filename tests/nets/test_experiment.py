"""Tests for lifetf.nets.experiment: a stable key, immutability, validation naming the bad value."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lifetf.nets.experiment import Experiment

ROOT = Path(__file__).resolve().parents[2]

# one valid alternative value per field (sign_flips needs start="hand_built", handled below)
ALTERNATIVES = {
    "rule": "conway",
    "arch": "springer",
    "steps": 2,
    "width": 2,
    "depth": 2.0,
    "activation": "leaky_relu",
    "output": "sigmoid",
    "init": "keras",
    "start": "hand_built",
    "sign_flips": 1,
    "dropout": 0.1,
    "board_size": 12,
    "density": 0.375,
    "torus": True,
    "batch_size": 16,
    "batches": 100,
    "optimizer": "sgd",
    "learning_rate": 0.01,
    "l1": 1e-4,
    "data_stream": 1,
    "eval_boards": 100,
    "eval_size": 6,
    "eval_density": 0.4,
    "eval_seed": 1,
    "record_every": 10,
    "train_set": 64,
    "train_set_seed": 3,
}

SAMPLE = Experiment(rule="conway", width=3, steps=2, output="sigmoid", density=0.375,
                    batches=1234)


def key_in_fresh_process(hash_seed: str) -> str:
    code = (
        "from lifetf.nets.experiment import Experiment; "
        "print(Experiment(rule='conway', width=3, steps=2, output='sigmoid', density=0.375, "
        "batches=1234).key); print(Experiment().key)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=hash_seed)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout


# ---------------------------------------------------------------- the key


def test_key_is_stable_across_processes() -> None:
    here = f"{SAMPLE.key}\n{Experiment().key}\n"
    assert key_in_fresh_process("1") == here
    assert key_in_fresh_process("4242") == here


def test_key_format() -> None:
    key = Experiment().key
    assert len(key) == 16
    int(key, 16)


def test_alternatives_cover_every_field() -> None:
    assert set(ALTERNATIVES) == {f.name for f in dataclasses.fields(Experiment)}


@pytest.mark.parametrize("field", sorted(ALTERNATIVES))
def test_key_changes_with_every_field(field: str) -> None:
    base = Experiment(start="hand_built") if field == "sign_flips" else Experiment()
    changed = base.replace(**{field: ALTERNATIVES[field]})
    assert changed != base
    assert changed.key != base.key


def test_all_alternative_keys_distinct() -> None:
    keys = {Experiment().key}
    for field, value in ALTERNATIVES.items():
        base = Experiment(start="hand_built") if field == "sign_flips" else Experiment()
        keys.add(base.replace(**{field: value}).key)
    assert len(keys) == len(ALTERNATIVES) + 1


def test_equal_experiments_have_equal_keys() -> None:
    a = Experiment(rule="conway", width=3, steps=2, output="sigmoid", density=0.375, batches=1234)
    assert a == SAMPLE and a is not SAMPLE
    assert a.key == SAMPLE.key
    assert Experiment().replace(width=3).replace(width=1).key == Experiment().key
    assert Experiment.from_dict(SAMPLE.to_dict()) == SAMPLE
    assert Experiment.from_dict(SAMPLE.to_dict()).key == SAMPLE.key


def test_numerically_equal_values_give_equal_keys() -> None:
    """1 and 1.0 are the same depth: equal experiments must share a cache key."""
    assert Experiment(depth=1) == Experiment(depth=1.0)
    assert Experiment(depth=1).key == Experiment().key
    assert Experiment(density=1).key == Experiment(density=1.0).key
    assert Experiment(learning_rate=1).key == Experiment(learning_rate=1.0).key
    assert Experiment(l1=0).key == Experiment().key


def test_hashable() -> None:
    a, b = Experiment(), Experiment()
    assert hash(a) == hash(b)
    table = {a: "reference", SAMPLE: "sample"}
    assert table[b] == "reference"
    assert len({a, b, SAMPLE}) == 2


def test_frozen() -> None:
    experiment = Experiment()
    with pytest.raises(dataclasses.FrozenInstanceError):
        experiment.width = 2  # type: ignore[misc]
    assert experiment.width == 1
    changed = experiment.replace(width=2)
    assert changed.width == 2 and experiment.width == 1


def test_dict_round_trip() -> None:
    data = SAMPLE.to_dict()
    assert data["rule"] == "conway" and data["width"] == 3
    assert Experiment.from_dict(data) == SAMPLE
    flipped = Experiment(start="hand_built", sign_flips=2)
    assert Experiment.from_dict(flipped.to_dict()) == flipped


def test_derived_properties() -> None:
    assert Experiment().n_params == 25
    assert Experiment().channel_dropout == 0.0
    assert Experiment(init="normalize").channel_dropout == pytest.approx(0.4)
    assert Experiment(init="normalize", dropout=0.0).channel_dropout == 0.0
    assert Experiment().describe() == "reference protocol"
    assert "width=3" in SAMPLE.describe()
    assert Experiment().cells_per_batch == 32 * 10 * 10
    assert Experiment(board_size=8, batch_size=4).cells_per_batch == 256


@pytest.mark.parametrize("arch", ["firner", "springer"])
@pytest.mark.parametrize(("steps", "depth", "blocks"), [(1, 1.0, 1), (3, 1.0, 3), (3, 0.5, 1),
                                                         (4, 1.5, 6)])
def test_blocks_are_the_networks_3x3_layers(arch: str, steps: int, depth: float,
                                            blocks: int) -> None:
    experiment = Experiment(arch=arch, steps=steps, depth=depth)
    assert experiment.blocks == blocks
    assert sum(spec.kernel == 3 for spec in experiment.layers) == blocks


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field", "named"),
    [
        ({"rule": "life"}, "rule", "'life'"),
        ({"arch": "resnet"}, "arch", "'resnet'"),
        ({"width": 0}, "width", "0"),
        ({"width": True}, "width", "True"),
        ({"steps": -1}, "steps", "-1"),
        ({"steps": 1.5}, "steps", "1.5"),
        ({"density": 1.5}, "density", "1.5"),
        ({"density": float("nan")}, "density", "nan"),
        ({"batch_size": 0}, "batch_size", "0"),
        ({"batches": -5}, "batches", "-5"),
        ({"learning_rate": 0}, "learning_rate", "0"),
        ({"learning_rate": -0.1}, "learning_rate", "-0.1"),
        ({"init": "he"}, "init", "'he'"),
        ({"sign_flips": 3}, "sign_flips", "3"),  # with start="random"
        ({"start": "hand_built", "sign_flips": 26}, "sign_flips", "26"),  # more than 25 params
        ({"start": "hand_built", "steps": 2, "depth": 0.5}, "depth", "0.5"),
        ({"optimizer": "rmsprop"}, "optimizer", "'rmsprop'"),
        ({"activation": "tanh"}, "activation", "'tanh'"),
        ({"output": "softmax"}, "output", "'softmax'"),
        ({"dropout": 1.0}, "dropout", "1.0"),
        ({"board_size": 2}, "board_size", "2"),
        ({"torus": 1}, "torus", "1"),
        ({"record_every": 0}, "record_every", "0"),
    ],
)
def test_validation_names_the_bad_value(changes: dict, field: str, named: str) -> None:
    with pytest.raises(ValueError) as info:
        Experiment(**changes)
    message = str(info.value)
    assert field in message
    assert named in message


def test_replace_is_validated() -> None:
    with pytest.raises(ValueError, match="'life'"):
        Experiment().replace(rule="life")


def test_from_dict_rejects_unknown_fields() -> None:
    data = Experiment().to_dict() | {"colour": "blue"}
    with pytest.raises(ValueError, match="colour"):
        Experiment.from_dict(data)


def test_from_dict_validates_values() -> None:
    with pytest.raises(ValueError, match="-1"):
        Experiment.from_dict(Experiment().to_dict() | {"steps": -1})


def test_later_fields_leave_earlier_keys_unchanged() -> None:
    """Fields added after trials were cached count in the key only away from their defaults."""
    # the reference experiment's key before train_set/train_set_seed existed
    assert Experiment().key == "582fa935c040a910"
    assert "train_set" not in Experiment().key_dict()
    assert Experiment(train_set=8, batch_size=8).key != Experiment(batch_size=8).key


def test_batch_larger_than_the_training_set_is_rejected() -> None:
    with pytest.raises(ValueError, match="Experiment.batch_size = 64 is invalid"):
        Experiment(train_set=32, batch_size=64)
