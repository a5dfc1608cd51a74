"""Training runs that the cross-backend tests compare: run here, and in a subprocess on the other
Keras backend (``python tests/backend_runs.py OUT.npz`` with KERAS_BACKEND set).

The clamp runs use PyTorch's initialisation, as the original experiments do. With Keras' zero
biases many cells sit exactly on the clamp's kink at 0, where a rounding difference of 1e-7
decides whether a gradient flows: there per-seed curves of the two backends part after 60-120
batches for some seeds (measured: 7 of 16 at firner m = 2), as they would under any change of
summation order.
"""

from __future__ import annotations

import sys

import numpy as np

from lifetf.nets.experiment import Experiment

SEEDS = list(range(8))
SHORT = dict(board_size=8, batches=200, record_every=1)  # per-batch losses over 200 batches
LOSS_RUNS = {
    "firner-relu-clamp": Experiment(**SHORT),
    "firner-leaky-sigmoid-dropout": Experiment(activation="leaky_relu", output="sigmoid",
                                               init="normalize", width=2, steps=2, **SHORT),
    "springer-relu-sigmoid": Experiment(rule="conway", arch="springer", output="sigmoid",
                                        **SHORT),
    "springer-leaky-clamp": Experiment(rule="conway", arch="springer", activation="leaky_relu",
                                       width=2, **SHORT),
    "fixed-set-sgd": Experiment(width=3, train_set=32, batch_size=4, optimizer="sgd",
                                learning_rate=0.5, **SHORT),
}
# a cheap setting where about half the runs succeed (33 of 64 when it was chosen)
OUTCOME_RUN = Experiment(board_size=6, batch_size=16, batches=1000, learning_rate=3e-3,
                         output="sigmoid", activation="leaky_relu", width=4)
OUTCOME_SEEDS = list(range(64))


def draws() -> np.ndarray:
    """Boards drawn through keras.ops on this backend, for a bit-for-bit comparison."""
    from keras import ops

    from lifetf import seeding

    keys = seeding.stream_keys(range(3), seeding.DATA, 0)
    return np.asarray(ops.convert_to_numpy(seeding.random_words(keys, np.arange(4), 999)))


def run_all() -> dict[str, np.ndarray]:
    """Per-seed loss curves of every LOSS_RUN, the outcomes of OUTCOME_RUN, and some draws."""
    from lifetf.nets.train import train_members

    out = {"draws": draws()}
    for name, experiment in LOSS_RUNS.items():
        rows = train_members(experiment, SEEDS)
        out[name] = np.stack(rows.loss_curve.to_numpy())
    out["outcomes"] = train_members(OUTCOME_RUN, OUTCOME_SEEDS).success.to_numpy()
    return out


if __name__ == "__main__":
    np.savez(sys.argv[1], **run_all())
