"""Profiles change sizes only; the paper profile holds the original protocols."""

from __future__ import annotations

import pytest

from lifetf.suite.profiles import PROFILES, get_profile


def test_paper_profile_is_the_original_protocol_and_its_experiments_validate():
    paper = get_profile("paper")
    assert (paper.sweep.board_size, paper.sweep.batch_size, paper.sweep.batches) == (10, 128, 10000)
    assert (paper.sweep.output, paper.sweep.activation) == ("sigmoid", "leaky_relu")
    assert paper.sweep_steps == (1, 2, 3, 5, 10, 20) and max(paper.sweep_widths) >= 100
    assert paper.reference.batches == 5000 and paper.reference.batch_size == 32
    for steps in paper.sweep_steps:
        for width in paper.sweep_widths:
            assert paper.sweep.replace(steps=steps, width=width).n_params > 0
    assert paper.springer.replace(start="hand_built", sign_flips=8).rule == "conway"
    assert paper.finite().train_set == paper.fixed_set


def test_unknown_profile_names_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown profile 'fast': expected one of " +
                       ", ".join(PROFILES)):
        get_profile("fast")
