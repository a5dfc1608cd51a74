"""The cost model: networks trained by window are priced by their own measured figure."""

from __future__ import annotations

import pytest

from lifetf.nets.bench import TABLE_HEADERS, WORKLOADS, Timing, calibration, trained_on
from lifetf.nets.costs import committed
from lifetf.nets.experiment import Experiment


def fake_result(seconds: dict[str, float]) -> dict:
    timings = [{"workload": name, "seconds_per_model": value, "seconds_per_batch": 0.01,
                "compile_seconds": 2.0, "members": 64} for name, value in seconds.items()]
    return {"device": "test cpu", "environment": {"backend": "tensorflow", "commit": "abc"},
            "timings": timings}


def test_window_workloads_give_the_window_figure_and_cell_workloads_the_points() -> None:
    # window-trained workloads measured much cheaper than the ones trained on their cells
    seconds = {name: 1.0 if e.by_window else 5.0 for name, e in WORKLOADS.items()}
    model = calibration(fake_result(seconds))
    cell_names = [n for n, e in WORKLOADS.items() if not e.by_window]
    assert len(model.points) == len(cell_names) == 3
    assert model.window_seconds is not None and model.window_seconds > 0
    paper = Experiment(width=1, board_size=10, batch_size=128, batches=10000)
    assert paper.by_window
    # the unit protocol is paper-sized: its price is the window figure plus the compile share
    assert model.seconds_per_model(paper) == pytest.approx(
        model.window_seconds + model.compile_seconds / model.members)
    deeper = paper.replace(steps=2)
    assert not deeper.by_window
    assert model.seconds_per_model(deeper) > 2 * model.seconds_per_model(paper)


def test_a_calibration_without_cell_workloads_is_refused() -> None:
    only_window = {n: 1.0 for n, e in WORKLOADS.items() if e.by_window}
    with pytest.raises(ValueError, match="trained on its cells"):
        calibration(fake_result(only_window))


def test_calibrations_from_before_trainer_4_price_every_network_by_its_cells() -> None:
    old = committed("NVIDIA H200")
    assert old.window_seconds is None
    paper = Experiment(width=1, board_size=10, batch_size=128, batches=10000)
    assert old.seconds_per_model(paper) > 0


def test_the_bench_table_says_what_each_workload_trains_on() -> None:
    labels = {name: trained_on(e) for name, e in WORKLOADS.items()}
    assert labels["firner default (5000 x 32, m=1)"] == "windows"
    assert labels["quick sweep, 2 steps, m=1"] == "cells"
    timing = Timing("w", 64, 0.01, 0.5, 2.0, 10.0, labels["quick sweep, 2 steps, m=1"])
    row = timing.row(peak=100e9)
    assert len(row) == len(TABLE_HEADERS) and row[2] == "cells" and row[-1] == "10.0%"
