"""Fixtures the trainer's tests share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from lifetf.nets.train import forget_compiled_loops

TRAINED = ("success", "initial_loss", "final_loss", "loss_curve", "grad_norm_curve", "weights")


def _assert_same_rows(a: pd.DataFrame, b: pd.DataFrame, columns: Sequence[str] = TRAINED) -> None:
    assert list(a.seed) == list(b.seed)
    for column in columns:
        for x, y in zip(a[column], b[column], strict=True):
            for u, v in zip(x if column == "weights" else [x], y if column == "weights" else [y],
                            strict=True):
                np.testing.assert_array_equal(u, v, err_msg=column)


@pytest.fixture
def assert_same_rows() -> Callable[..., None]:
    """(a, b, columns=every trained column): two frames of trial rows hold the same seeds and,
    column by column, the same values bit for bit (each weight array of a row apart)."""
    return _assert_same_rows


@pytest.fixture
def no_kept_loops():
    """No compiled loop kept from an earlier trainer, before the test or after it (modules
    whose tests compare fresh and reused loops use it for every test)."""
    forget_compiled_loops()
    yield
    forget_compiled_loops()
