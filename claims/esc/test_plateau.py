"""ESC-PLATEAU: plateaus slow training down: the update nearly stops while the loss stays high."""

from __future__ import annotations

import numpy as np

from lifetf import stats
from lifetf.analysis.plateaus import GRAD_LIMIT, HIGH_LOSS_SHARE, STALL_SHARE, plateau_frame
from lifetf.stats.decisions import SignRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import count_rate, sign_test
from lifetf.suite.plots import plot_curves
from lifetf.suite.protocol import protocol
from lifetf.suite.trialsets import sweep_needs
from lifetf.suite.verdict import Estimate

ALPHA = 0.01  # one-sided sign test: the loss falls more slowly on plateaus

CLAIM = Claim(
    "ESC-PLATEAU", "C",
    "Plateaus slow training down: the update nearly stops while the loss stays high.",
    "004_0141badb430aedc6.txt", expected={"quick": "reproduced"},
    rule=SignRule(0.8, ALPHA),  # in 80% of runs the loss falls more slowly on a plateau
    needs=sweep_needs,
)


@CLAIM
def test_esc_plateau(suite, conclude, sweep):
    """On plateaus the loss hardly falls; the time spent on them shrinks with width."""
    base, every = suite.profile.sweep, suite.profile.sweep.record_every
    frame = plateau_frame(sweep.runs, base)
    eligible = frame.dropna(subset=["drop_on", "drop_off"])
    slower, m = int((eligible.drop_on < eligible.drop_off).sum()), len(eligible)
    plan = CLAIM.rule_for(suite.profile).at(m)  # underpowered with too few eligible runs
    decision = sign_test(slower, m, ALPHA, "exact one-sided sign test over runs (binomial, p0 = "
                         "1/2); Kendall tau-b of width against each run's plateau share "
                         "(reported)")
    by_width = {s: stats.rank_correlation(part.width, part.plateau_share, "less", "kendall")
                for s, part in frame.groupby("steps")}
    rel = suite.plot("esc-plateau-width", plot_curves, {
        f"{s} step(s)": part.groupby("width").plateau_share.mean().to_numpy()[None]
        for s, part in frame.groupby("steps")}, "width m", "share of training on a plateau",
        "Time on plateaus against width", x=np.array(sorted(frame.width.unique())))
    ratio = float(np.nanmedian(eligible.drop_on / eligible.drop_off.where(
        eligible.drop_off > 0))) if m else float("nan")
    table = frame.groupby(["steps", "width"]).agg(
        runs=("seed", "size"), successes=("success", "sum"),
        plateau_share_mean=("plateau_share", "mean"),
        runs_with_plateau=("plateau_chunks", lambda x: int((x > 0).sum())),
        median_drop_on=("drop_on", "median"), median_drop_off=("drop_off", "median")).reset_index()
    conclude(decision, plan,
        f"in {slower} of {m} runs with both kinds of high-loss chunk the loss fell more slowly "
        f"per {every} batches on a plateau than off it (median ratio {ratio:.2g}); one-sided "
        f"sign test p = {decision.p_value:.2g} against {ALPHA}; plateau time against width: "
        + "; ".join(f"{s} step(s): Kendall tau {t.statistic:.2f}, p = {t.p_value:.2g}"
                    for s, t in by_width.items()),
        estimates=[count_rate("runs where the loss falls more slowly on plateaus", slower, m),
                   Estimate("median loss drop on / off plateau, per chunk", ratio),
                   *[Estimate(f"Kendall tau, width vs plateau share ({s} steps)", t.statistic)
                     for s, t in by_width.items()]],
        protocol=protocol(base, suite.seeds(sweep.n), plateau_chunk=f"{every} batches whose "
                          f"mean gradient norm is < {GRAD_LIMIT} while the loss is >= "
                          f"{HIGH_LOSS_SHARE} x the constant predictor's loss",
                          loss_drop="mean loss of a chunk minus that of the next",
                          eligible="runs with high-loss chunks both on and off a plateau"),
        table=table.to_dict("records"), figures=[rel],
        notes=f"Plateaus cover a larger share of training for narrow networks and more steps "
              f"(table). A stall is {STALL_SHARE:.3g} of training or more on a plateau; see "
              f"LAND-FLAT-STUCK.")
