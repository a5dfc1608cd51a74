"""A finished trainer's compiled loop serves the next trainer of the same graph signature
(lifetf.nets.train): restarted from that trainer's weights, with its own keys and data as the
chunk's inputs, it trains what a freshly compiled loop trains, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.nets import train as training
from lifetf.nets.experiment import RUN_ONLY_FIELDS, Experiment
from lifetf.nets.linear_paths import unroll_limit
from lifetf.nets.train import _Trainer, forget_compiled_loops, train_members

pytestmark = pytest.mark.usefixtures("no_kept_loops")  # every test starts without kept loops

SEEDS = [4, 1, 9]
SMALL = dict(board_size=6, batch_size=16, batches=100, activation="leaky_relu",
             output="sigmoid")
CASES = {
    "by window": Experiment(rule="conway", arch="springer", **SMALL),
    "on cells, with dropout": Experiment(steps=2, init="normalize", **SMALL),
    "fixed set, sgd": Experiment(width=3, train_set=16, optimizer="sgd", learning_rate=0.5,
                                 **SMALL),
}


def same_graph_other_run(experiment: Experiment) -> Experiment:
    """Other boards at another density, another initialisation (the same dropout), another
    length and evaluation, and (for a fixed set) another set."""
    other_init = "keras" if experiment.init != "keras" else "pytorch"
    changes = dict(data_stream=1, batches=experiment.batches + 50, eval_seed=5, density=0.4,
                   init=other_init, dropout=experiment.channel_dropout)
    if experiment.train_set:
        changes["train_set_seed"] = 3
    return experiment.replace(**changes)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_reused_loop_trains_what_a_fresh_one_trains(name: str, assert_same_rows) -> None:
    first = CASES[name]
    assert first.by_window == (not name.startswith("on cells"))
    second = same_graph_other_run(first)
    assert second.graph_signature == first.graph_signature and second.key != first.key
    fresh_first = train_members(first, SEEDS)  # compiles the loop that the next two reuse
    (kept,) = training._idle_loops.values()
    reused_second, reused_first = train_members(second, SEEDS), train_members(first, SEEDS)
    assert list(training._idle_loops.values()) == [kept]  # no other loop was built
    forget_compiled_loops()
    fresh_second = train_members(second, SEEDS)
    assert_same_rows(reused_second, fresh_second)
    assert_same_rows(reused_first, fresh_first)
    # the runs differ, so equal rows are not vacuous
    assert not np.array_equal(fresh_first.loss_curve[0][:2], fresh_second.loss_curve[0][:2])


def test_the_next_trainer_of_the_same_graph_takes_the_finished_loop() -> None:
    experiment = CASES["by window"]
    every = experiment.record_every
    done = _Trainer(experiment, SEEDS, reuse=True)
    done.run(0, every)
    done.finish()
    taker = _Trainer(experiment.replace(data_stream=2, start="hand_built", sign_flips=1),
                     SEEDS, reuse=True)
    assert taker.loop is done.loop
    # the loop is taken: another trainer of that graph builds its own while the taker trains
    assert _Trainer(experiment, SEEDS, reuse=True).loop is not done.loop
    taker.finish()
    for other in (_Trainer(experiment, SEEDS[:2], reuse=True),  # other members: other shapes
                  _Trainer(experiment.replace(learning_rate=1e-2), SEEDS, reuse=True),
                  _Trainer(experiment, SEEDS)):  # reuse is asked for (train_members asks)
        assert other.loop is not done.loop
    with unroll_limit(0):  # the same experiment traced under another unroll limit
        assert _Trainer(experiment, SEEDS, reuse=True).loop is not done.loop


def test_the_graph_signature_forgets_only_the_run_only_fields() -> None:
    base = CASES["on cells, with dropout"]
    defaults = Experiment()
    for name in RUN_ONLY_FIELDS:
        assert getattr(base.graph_signature, name) == getattr(defaults, name)
    assert base.graph_signature.replace(
        **{name: getattr(base, name) for name in RUN_ONLY_FIELDS}) == base.replace(
        dropout=base.channel_dropout)
    assert base.replace(density=0.3).graph_signature == base.graph_signature
    # the initialisation is forgotten, but not the channel dropout it implies
    assert base.replace(init="keras", dropout=0.4).graph_signature == base.graph_signature
    assert base.replace(init="pytorch").graph_signature != base.graph_signature
    assert base.replace(learning_rate=1e-2).graph_signature != base.graph_signature


def test_at_most_kept_loops_are_kept(monkeypatch) -> None:
    monkeypatch.setattr(training, "KEPT_LOOPS", 2)
    experiment = CASES["by window"].replace(batches=0)
    for members in (1, 2, 3):
        _Trainer(experiment, list(range(members)), reuse=True).finish()
    assert [key[2] for key in training._idle_loops] == [2, 3]
