"""The phase profile: every phase timed, none negative, shares that add up."""

from __future__ import annotations

from lifetf.nets.experiment import Experiment
from lifetf.nets.phases import PHASES, profile


def test_every_phase_is_timed_and_the_row_adds_up():
    times = profile("tiny", Experiment(board_size=6, batches=100, batch_size=8), members=3,
                    repeats=1)
    assert tuple(times.milliseconds) == PHASES
    assert all(v >= 0 for v in times.milliseconds.values())
    assert times.milliseconds["forward"] > 0 and times.milliseconds["data"] > 0
    row = times.row()
    assert row[:2] == ["tiny", 3] and float(row[-1]) > 0
    assert sum(int(cell.split("(")[1].rstrip("%)")) for cell in row[2:-1]) in range(97, 104)
