"""Straight walks from the known solution to trained minima: LAND-BARRIERS and
LAND-WIDTH-SMOOTHS (one set of walks, between fine-tuned hand-built ends and sweep runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from lifetf import seeding
from lifetf.analysis.landscape import align_to, barrier, walks
from lifetf.life.rules import evolve, random_boards
from lifetf.stats.decisions import BoundRule, RankSumRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import against_bound, count_rate, holm_family
from lifetf.suite.plots import plot_histograms, plot_walks
from lifetf.suite.protocol import protocol
from lifetf.suite.verdict import Estimate

POINTS = 51  # as post 2
LOSS_BARRIER = 0.1  # a barrier: the loss peaks >= 0.1 nats per cell above the straight chord
ERROR_BARRIER = 0.1  # on board error: >= 10% more boards wrong than the chord
BOUND = 0.5  # "barriers separate the minima": most walks cross one
ALPHA = 0.01  # each one-sided Mann-Whitney test, Holm-adjusted over four
METRICS = ("loss", "board_error", "cell_error")
SIZES = {"quick": {"wide": 4, "finetune": 1000, "boards": 512},
         "paper": {"wide": 5, "finetune": 1000, "boards": 128000}}  # post 2: m = 5, 1000 x 128


def _ends(suite) -> dict[tuple[int, int], tuple]:
    """(width, steps) -> (fine-tuned hand-built end, trained end) experiments; 28 seeds each
    (the sweep's, whose trials the trained ends are)."""
    wide, finetune = (BARRIERS.size(suite.profile, k) for k in ("wide", "finetune"))
    settings = [(w, s) for w in (1, wide) for s in (1, 2)]
    return {(w, s): (suite.profile.sweep.replace(width=w, steps=s, start="hand_built",
                                                 batches=finetune),
                     suite.profile.sweep.replace(width=w, steps=s)) for w, s in settings}


def _needs(suite):
    from lifetf.suite.trialsets import sweep_plans

    seeds = suite.seeds(sweep_plans(suite.profile)[0].trials)
    return [(e, seeds) for pair in _ends(suite).values() for e in pair]


BARRIERS = Claim(
    "LAND-BARRIERS", "B",
    "Straight walks from a known good solution to trained minima climb over peaks of high "
    "loss.", "000_99adcdd6275fb052.txt", expected={"quick": "reproduced"},
    rule=BoundRule(0.85, BOUND),  # post 2: every walk
    sizes=SIZES, needs=_needs,
)
WIDTH_SMOOTHS = Claim(
    "LAND-WIDTH-SMOOTHS", "B",
    "Wider networks have a smoother surface: barriers shrink, more endpoints are good.",
    "000_99adcdd6275fb052.txt", expected={"quick": "inconclusive"},
    rule=RankSumRule(0.9, ALPHA, tests=4), sizes=SIZES, needs=_needs,
)


def _curves(suite, tuned, trained, n: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Curves (walk, raw/aligned, metric + distance, point) of one setting, cached."""
    seeds = suite.seeds(n)
    a_rows, b_rows = suite.rows(tuned, seeds), suite.rows(trained, seeds)
    boards_n = BARRIERS.size(suite.profile, "boards")

    def compute() -> np.ndarray:
        boards = random_boards(boards_n, trained.board_size, trained.density,
                               seed=seeding.numpy_rng(trained.eval_seed, seeding.WALK_BOARDS))
        targets = evolve(boards, trained.rule, trained.steps)
        pairs = list(zip(a_rows.weights, b_rows.weights, strict=True))
        aligned = [(a, align_to(trained.layers, a, b)) for a, b in pairs]
        out = np.zeros((n, 2, len(METRICS) + 1, POINTS))
        for kind, chosen in enumerate((pairs, aligned)):
            for i, w in enumerate(walks(trained.layers, trained.output, chosen, boards, targets,
                                        POINTS)):
                out[i, kind] = [w.loss, w.board_error, w.cell_error, w.distance]
        return out

    name = f"walks-{tuned.key}-{trained.key}-{suite.seed_base}-{n}-{boards_n}"
    return suite.store.derived(name, compute), b_rows


def _walk_frame(suite, sweep) -> tuple[pd.DataFrame, dict]:
    """One row per walk with its barriers; the curves per setting for the plots."""
    rows, curves = [], {}
    for (width, steps), (tuned, trained) in _ends(suite).items():
        data, b_rows = _curves(suite, tuned, trained, sweep.n)
        curves[(width, steps)] = (data, b_rows.success.to_numpy())
        for i in range(sweep.n):
            row = {"width": width, "steps": steps, "seed": i,
                   "trained end": "succeeded" if b_rows.success.iloc[i] else "failed",
                   "final_loss": float(b_rows.final_loss.iloc[i])}
            for kind, name in enumerate(("raw", "aligned")):
                for j, metric in enumerate(METRICS):
                    b = barrier(data[i, kind, j], np.linspace(0, 1, POINTS))
                    row[f"{name} {metric} barrier"] = b.over_line
                    row[f"{name} {metric} over mean"] = b.over_mean
            rows.append(row)
    return pd.DataFrame(rows), curves


def _walk_figures(suite, curves) -> list[str]:
    figures = []
    for (width, steps), (data, success) in curves.items():
        groups = {f"{name}, {label}": [(data[i, kind, -1], data[i, kind, 0])
                                       for i in np.flatnonzero(mask)]
                  for kind, name in enumerate(("raw", "aligned"))
                  for label, mask in (("failed end", ~success), ("successful end", success))
                  if mask.any()}
        figures.append(suite.plot(
            f"land-walks-m{width}-n{steps}", plot_walks, groups, "distance from the fine-tuned "
            "hand-built end", "loss (mean BCE per cell)",
            f"Walks from the known solution, m = {width}, {steps} step(s)"))
    return figures


def _keys(suite) -> list[str]:
    return [e.key for pair in _ends(suite).values() for e in pair]


@BARRIERS
def test_land_barriers(suite, conclude, sweep):
    """Straight walks from the known solution to trained minima cross loss barriers."""
    frame, curves = _walk_frame(suite, sweep)
    minimal = frame[frame.width == 1]
    share = count_rate("walks to minimal networks with an aligned loss barrier",
                       int((minimal["aligned loss barrier"] >= LOSS_BARRIER).sum()), len(minimal))
    raw = count_rate("the same, raw (before alignment)",
                     int((minimal["raw loss barrier"] >= LOSS_BARRIER).sum()), len(minimal))
    errors = count_rate("walks with an aligned board-error barrier", int(
        (minimal["aligned board_error barrier"] >= ERROR_BARRIER).sum()), len(minimal))
    decision = against_bound(share, BOUND, test="Wilson 95% interval of the barrier share")
    table = frame.assign(raw_barrier=frame["raw loss barrier"] >= LOSS_BARRIER,
                         aligned_barrier=frame["aligned loss barrier"] >= LOSS_BARRIER,
                         error_barrier=frame["aligned board_error barrier"] >= ERROR_BARRIER
                         ).groupby(["width", "steps", "trained end"]).agg(
        walks=("seed", "size"), raw_loss_barrier_median=("raw loss barrier", "median"),
        aligned_loss_barrier_median=("aligned loss barrier", "median"),
        aligned_loss_over_mean_median=("aligned loss over mean", "median"),
        with_raw_barrier=("raw_barrier", "sum"), with_aligned_barrier=("aligned_barrier", "sum"),
        aligned_board_error_barrier_median=("aligned board_error barrier", "median"),
        with_error_barrier=("error_barrier", "sum")).reset_index()
    tuned, trained = next(iter(_ends(suite).values()))
    conclude(decision, BARRIERS.rule_for(suite.profile).at(len(minimal)),
        f"{share.successes} of {len(minimal)} walks from the fine-tuned hand-built network to "
        f"trained minimal networks (m = 1, 1 and 2 steps) cross a loss barrier of at least "
        f"{LOSS_BARRIER} after aligning permutations and ReLU rescalings: {share.span()} "
        f"against {BOUND}; before alignment {raw.successes}/{raw.trials}",
        estimates=[share, raw, errors], trials=len(frame), experiments=_keys(suite),
        protocol=protocol(trained, suite.seeds(sweep.n),
                          end_A=f"the hand-built weights after {tuned.batches} further batches",
                          end_B="a sweep network trained from random initialisation (same seed)",
                          walk=f"{POINTS} points on the straight line; loss, board and cell "
                               f"error on fixed random boards of the training distribution",
                          alignment="end B's hidden units permuted to match end A (weight "
                                    "matching with linear_sum_assignment on unit-norm weights), "
                                    "then rescaled to end A's incoming norms",
                          settings=", ".join(f"m = {w}, {s} step(s)" for w, s in _ends(suite))),
        table=table.to_dict("records"), figures=_walk_figures(suite, curves),
        notes="A barrier is the peak of the curve above the straight line between its ends; "
              "'over mean' is the peak above the mean of the two end values. The wide "
              "networks' walks are LAND-WIDTH-SMOOTHS' data.")


@WIDTH_SMOOTHS
def test_land_width_smooths(suite, conclude, sweep):
    """Barriers shrink and trained ends get better from the minimal width to a wide one."""
    frame, _ = _walk_frame(suite, sweep)
    wide, cells = max(frame.width), dict(list(frame.groupby(["width", "steps"])))
    p_for, p_against, rows = [], [], []
    for steps in (1, 2):
        narrow, broad = cells[(1, steps)], cells[(wide, steps)]
        for measure, column in (("aligned loss barrier", "aligned loss barrier"),
                                ("trained end's loss", "final_loss")):
            forward, back = (mannwhitneyu(narrow[column], broad[column], alternative=side)
                             for side in ("greater", "less"))
            p_for.append(float(forward.pvalue))
            p_against.append(float(back.pvalue))
            rows.append({"steps": steps, "measure": measure,
                         "median, m = 1": float(narrow[column].median()),
                         f"median, m = {wide}": float(broad[column].median()),
                         "P(m = 1 larger)": float(forward.statistic / len(narrow) / len(broad)),
                         "p (one-sided)": float(forward.pvalue)})
    decision, adjusted = holm_family(p_for, p_against, ALPHA, "one-sided Mann-Whitney tests "
                                     "(m = 1 larger) of aligned loss barriers and of the trained "
                                     "ends' final loss, at 1 and 2 steps")
    medians = {(w, s): float(cells[(w, s)]["aligned loss barrier"].median())
               for w in (1, wide) for s in (1, 2)}
    rel = suite.plot("land-width-smooths", plot_histograms, {
        f"m = {w}, {s} step(s)": cells[(w, s)]["aligned loss barrier"].to_numpy()
        for w, s in medians}, "aligned loss barrier (nats per cell above the chord)",
        "Barrier heights of walks to minimal and wide networks")
    conclude(decision, WIDTH_SMOOTHS.rule_for(suite.profile).at(sweep.n),
        "median aligned loss barrier " + "; ".join(
            f"{s} step(s): m = 1 {medians[(1, s)]:.3g}, m = {wide} {medians[(wide, s)]:.3g}"
            for s in (1, 2))
        + "; Holm-adjusted one-sided p-values (barrier, end loss per steps) "
        + ", ".join(f"{q:.2g}" for q in adjusted) + f" against {ALPHA}",
        estimates=[Estimate(f"median aligned loss barrier, m = {w}, {s} step(s)", v)
                   for (w, s), v in medians.items()],
        trials=len(frame), experiments=_keys(suite),
        protocol=[{"setting": "walks", "value": "as LAND-BARRIERS"},
                  {"setting": "widths", "value": f"1 and {wide}"}],
        table=rows, figures=[rel], notes="The walk plots of every setting are in LAND-BARRIERS.")
