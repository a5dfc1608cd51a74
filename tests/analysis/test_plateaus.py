"""Plateau detection in recorded training curves."""

from __future__ import annotations

import numpy as np
import pytest

from lifetf.analysis.plateaus import GRAD_LIMIT, constant_loss, plateau_mask, summarise


def test_constant_loss_is_the_entropy_of_the_live_share() -> None:
    loss = constant_loss("firner", 1, 8, 0.5)
    assert 0.5 < loss < np.log(2)


def test_a_long_flat_stretch_is_a_stall() -> None:
    chunks = 60
    loss = np.r_[np.full(30, 0.65), np.linspace(0.6, 0.05, 30)]
    grad = np.r_[np.full(30, GRAD_LIMIT / 5), np.full(30, 0.2)]
    summary = summarise(loss, grad, reference_loss=0.66)
    assert summary.chunks == chunks
    assert summary.plateau_chunks == 30
    assert summary.longest == 30 and summary.stalled
    assert summary.stall_before_low  # the loss fell below the high level after the stall
    assert summary.drop_on < summary.drop_off


def test_low_loss_or_large_gradient_is_no_plateau() -> None:
    loss = np.r_[np.full(10, 0.02), np.full(10, 0.65)]
    grad = np.r_[np.full(10, 0.001), np.full(10, 0.3)]
    assert not plateau_mask(loss, grad, high=0.5).any()
    summary = summarise(loss, grad, 0.66)
    assert not summary.stalled and np.isnan(summary.drop_on)


def test_short_flat_stretch_is_not_a_stall() -> None:
    loss = np.full(60, 0.65)
    grad = np.full(60, 0.2)
    grad[10:12] = 0.001
    summary = summarise(loss, grad, 0.66)
    assert summary.plateau_chunks == 2 and not summary.stalled


def test_mismatched_curves_are_rejected() -> None:
    with pytest.raises(ValueError, match="one length"):
        plateau_mask(np.zeros(3), np.zeros(4), 0.5)
