"""What training costs: members per graph under a memory budget, and a model of seconds per
model, calibrated per device.

Training time grows with the protocol's cells (batches x batch size x board cells) and the
network's blocks, and with the multiply-adds per cell and block in a way that depends on the
device: a small network leaves a GPU idle. So the model interpolates, in log-log, seconds per
model of a unit protocol at a few measured per-cell multiply-add counts (networks trained by
window, ``Experiment.by_window``, cost one measured figure per cell instead); adds a floor of
sequential steps (every update of a graph waits for the last, however few members train) and
a compile per graph. A calibration is a small JSON file: committed ones (the H200 from measured
runs, this project's 2-core CPU) and the one ``python -m lifetf bench --save-calibration``
writes for the machine it runs on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from lifetf.nets.experiment import Experiment

CALIBRATIONS = Path(__file__).resolve().parent / "calibrations"
DEFAULT_MEMORY_BUDGET = 2 * 2**30
MAX_MEMBERS = 256  # members per graph at most: more only lengthens each step's tensors


def member_bytes(experiment: Experiment) -> int:
    """Rough peak bytes one member needs per training step (activations, patches, gradients)."""
    cells = experiment.cells_per_batch
    floats = sum((9 if s.kernel == 3 else 1) * s.cin + 2 * s.cout for s in experiment.layers)
    return int(cells * floats * 4 * 4 + experiment.n_params * 4 * 8)


def members_per_graph(experiment: Experiment, budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """How many members fit in one graph under a memory budget (between 1 and MAX_MEMBERS)."""
    return int(max(1, min(MAX_MEMBERS, budget // max(1, member_bytes(experiment)))))


def macs_per_cell(experiment: Experiment) -> float:
    """Forward multiply-adds per board cell of one block (all layers / blocks)."""
    return sum(s.kernel**2 * s.cin * s.cout for s in experiment.layers) / experiment.blocks


@dataclass(frozen=True)
class Calibration:
    """Measured seconds per model of a unit protocol at several multiply-add counts per cell."""

    device: str
    backend: str
    source: str
    unit: dict
    points: tuple[tuple[float, float], ...]
    step_seconds: float  # the least time one update of a graph takes, whatever its size
    compile_seconds: float  # building and compiling one graph
    members: int  # members per graph this device trains at once
    # seconds per model of the unit protocol for networks trained by window
    # (Experiment.by_window: mostly drawing and counting the boards, whatever the width);
    # None in calibrations measured before trainer 4, which price them by their cells
    window_seconds: float | None = None

    @classmethod
    def load(cls, path: Path | str) -> Calibration:
        try:
            data = json.loads(Path(path).read_text())
            data["points"] = tuple(tuple(p) for p in sorted(data["points"]))
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise ValueError(f"calibration {path} is unreadable: {error}") from None

    def save(self, path: Path | str) -> Path:
        from dataclasses import asdict

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    def _per_unit(self, macs: float) -> float:
        """Seconds per model of the unit protocol at ``macs`` per cell: log-log interpolation
        between the points, extrapolated along the nearest segment."""
        xs = [math.log(x) for x, _ in self.points]
        ys = [math.log(y) for _, y in self.points]
        x = math.log(max(macs, 1e-9))
        if len(xs) == 1:
            return math.exp(ys[0]) * macs / self.points[0][0]
        i = 0 if x < xs[1] else len(xs) - 2 if x >= xs[-2] else max(
            j for j in range(len(xs) - 1) if xs[j] <= x)
        slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
        return math.exp(ys[i] + slope * (x - xs[i]))

    def seconds_per_model(self, experiment: Experiment, members: int | None = None) -> float:
        """Estimated training seconds of one model of ``experiment``, K members per graph."""
        members = members or self.members
        unit = self.unit
        scale = (experiment.batches * experiment.cells_per_batch
                 / (unit["batches"] * unit["batch_size"] * unit["cells"]))
        blocks = experiment.blocks
        if experiment.by_window and self.window_seconds is not None:
            compute = scale * self.window_seconds
        else:
            compute = scale * blocks * self._per_unit(macs_per_cell(experiment))
        floor = experiment.batches * self.step_seconds * blocks / members
        return max(compute, floor) + self.compile_seconds / members


def committed(device: str) -> Calibration:
    """The committed calibration for a device name ('NVIDIA H200', 'cpu', ...)."""
    name = device.lower()
    file = "nvidia-h200.json" if ("h200" in name or "h100" in name) else "cpu-2core.json"
    return Calibration.load(CALIBRATIONS / file)
