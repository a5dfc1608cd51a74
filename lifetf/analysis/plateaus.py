"""Plateaus in training curves: stretches where the gradient is tiny while the loss stays high.

The trainer records, per member, the mean loss and the mean gradient norm of every chunk of
``record_every`` batches. A chunk is *on a plateau* when its gradient norm is below
``GRAD_LIMIT`` while its loss is at least ``HIGH_LOSS_SHARE`` of the loss of the best constant
predictor (the network has learned little beyond the share of live cells). A *stall* is a run of
consecutive plateau chunks covering at least ``STALL_SHARE`` of training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from lifetf.life.rules import evolve, random_boards
from lifetf.nets.experiment import Experiment
from lifetf.seeding import PLATEAU_BOARDS, numpy_rng

GRAD_LIMIT = 0.05  # a quarter of the typical gradient norm (0.1-0.3) of descending runs
HIGH_LOSS_SHARE = 0.8  # "the loss stays high": >= 80% of the constant predictor's loss
STALL_SHARE = 1 / 15  # a stall lasts at least 1/15 of training (200 of 3000 batches)


@lru_cache(maxsize=32)
def constant_loss(rule: str, steps: int, board_size: int, density: float) -> float:
    """BCE of the best constant prediction: the entropy of the share of live target cells."""
    boards = random_boards(20000, board_size, density,
                           seed=numpy_rng(steps, PLATEAU_BOARDS))
    live = float(evolve(boards, rule, steps).mean())
    live = min(max(live, 1e-7), 1 - 1e-7)
    return float(-(live * np.log(live) + (1 - live) * np.log(1 - live)))


@dataclass(frozen=True)
class PlateauSummary:
    """One run's plateaus: chunk counts, longest stall and the loss drop on and off plateaus."""

    chunks: int
    plateau_chunks: int
    longest: int  # longest run of consecutive plateau chunks
    stalled: bool  # longest >= the stall length
    drop_on: float  # mean loss decrease per chunk that starts on a plateau (nan if none)
    drop_off: float  # the same for high-loss chunks off a plateau (nan if none)
    stall_before_low: bool  # a stall happened before the loss first fell below the high level

    @property
    def plateau_share(self) -> float:
        return self.plateau_chunks / self.chunks if self.chunks else float("nan")


def plateau_mask(loss: np.ndarray, grad_norm: np.ndarray, high: float) -> np.ndarray:
    """Chunks on a plateau: gradient norm below GRAD_LIMIT and loss at least ``high``."""
    loss, grad_norm = np.asarray(loss, float), np.asarray(grad_norm, float)
    if loss.shape != grad_norm.shape or loss.ndim != 1:
        raise ValueError(f"loss and gradient-norm curves must be 1-D of one length, got "
                         f"{loss.shape} and {grad_norm.shape}")
    return (grad_norm < GRAD_LIMIT) & (loss >= high)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of every run of True values."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def summarise(loss: np.ndarray, grad_norm: np.ndarray, reference_loss: float) -> PlateauSummary:
    """Plateau summary of one run whose best constant predictor has ``reference_loss``."""
    high = HIGH_LOSS_SHARE * reference_loss
    mask = plateau_mask(loss, grad_norm, high)
    loss = np.asarray(loss, float)
    n = len(loss)
    need = max(1, int(np.ceil(STALL_SHARE * n)))
    runs = _runs(mask)
    longest = max((length for _, length in runs), default=0)
    drops = -np.diff(loss)  # drop over the chunk that follows each chunk
    starts_high = loss[:-1] >= high
    on = mask[:-1] & starts_high
    off = ~mask[:-1] & starts_high
    below = np.flatnonzero(loss < high)
    first_low = int(below[0]) if below.size else n
    return PlateauSummary(
        chunks=n,
        plateau_chunks=int(mask.sum()),
        longest=longest,
        stalled=longest >= need,
        drop_on=float(drops[on].mean()) if on.any() else float("nan"),
        drop_off=float(drops[off].mean()) if off.any() else float("nan"),
        stall_before_low=any(length >= need and start < first_low < n for start, length in runs),
    )


def plateau_frame(cells: dict[tuple[int, int], pd.DataFrame], base: Experiment) -> pd.DataFrame:
    """One row per trained run of a (steps, width) grid of ``base``: its plateau summary."""
    rows = []
    for (steps, width), frame in cells.items():
        reference = constant_loss(base.rule, steps, base.board_size, base.density)
        for run in frame.itertuples(index=False):
            summary = summarise(run.loss_curve, run.grad_norm_curve, reference)
            rows.append({"steps": steps, "width": width, "seed": int(run.seed),
                         "success": bool(run.success), "final_loss": float(run.final_loss),
                         "plateau_share": summary.plateau_share, **asdict(summary)})
    return pd.DataFrame(rows)
