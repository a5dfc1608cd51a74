"""LAND-FLAT-STUCK: runs stall where the surface is flat: tiny gradients, the loss stays high."""

from __future__ import annotations

import numpy as np

from lifetf import stats
from lifetf.analysis.plateaus import GRAD_LIMIT, HIGH_LOSS_SHARE, STALL_SHARE, plateau_frame
from lifetf.stats.decisions import BoundRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import against_bound, count_rate
from lifetf.suite.plots import plot_curves
from lifetf.suite.protocol import protocol
from lifetf.suite.trialsets import sweep_needs

BOUND = 0.1  # "can stall" in a way that matters: at least one run in ten stalls

CLAIM = Claim(
    "LAND-FLAT-STUCK", "B",
    "Parameters stall where the surface is flat: tiny gradients while the loss stays high.",
    "000_99adcdd6275fb052.txt, 004_0141badb430aedc6.txt", expected={"quick": "reproduced"},
    rule=BoundRule(0.25, BOUND),  # a quarter of the runs stall where the claim holds
    needs=sweep_needs,
)


@CLAIM
def test_land_flat_stuck(suite, conclude, sweep):
    """Runs stall for long stretches with tiny gradients while the loss stays high."""
    base, every = suite.profile.sweep, suite.profile.sweep.record_every
    frame = plateau_frame(sweep.runs, base)
    failed, succeeded = frame[~frame.success], frame[frame.success]
    share = count_rate("runs with a stall", int(frame.stalled.sum()), len(frame))
    in_failed = count_rate("failed runs with a stall", int(failed.stalled.sum()), len(failed))
    in_succeeded = count_rate("successful runs with a stall", int(succeeded.stalled.sum()),
                              len(succeeded))
    fisher = stats.fisher_two_proportions(in_failed.successes, max(len(failed), 1),
                                          in_succeeded.successes, max(len(succeeded), 1),
                                          "greater")
    decision = against_bound(share, BOUND, test="Wilson 95% interval of the share of stalled "
                                                "runs; Fisher exact test (stalls more common in "
                                                "failed runs, reported)")
    # curves of the grid cell whose outcomes are most mixed, failed against successful
    (steps, width), cell = max(sweep.runs.items(), key=lambda item: min(
        item[1].success.sum(), (~item[1].success).sum()))
    groups = {"failed": cell[~cell.success], "succeeded": cell[cell.success]}
    batches = every * np.arange(1, len(cell.loss_curve.iloc[0]) + 1)
    figures = [suite.plot(
        f"land-flat-stuck-{curve.split('_')[0]}", plot_curves,
        {k: np.stack(v[curve]) for k, v in groups.items() if len(v)}, "batch",
        f"{label} (mean per {every} batches)", f"{label.capitalize()}, m = {width}, {steps} "
        f"step(s)", logy=True, x=batches) for curve, label in (
        ("loss_curve", "training loss"), ("grad_norm_curve", "gradient norm"))]
    table = frame.groupby(["steps", "width"]).agg(
        runs=("seed", "size"), successes=("success", "sum"), stalled=("stalled", "sum"),
        longest_stall_batches=("longest", lambda x: int(x.max()) * every),
        stalls_before_success=("stall_before_low", "sum")).reset_index()
    conclude(decision, CLAIM.rule_for(suite.profile).at(len(frame)),
        f"{share.successes} of {len(frame)} sweep runs stalled (gradient norm < {GRAD_LIMIT} "
        f"with the loss >= {HIGH_LOSS_SHARE} x the constant predictor's for at least "
        f"{STALL_SHARE:.3g} of training): {share.span()} against the bound {BOUND}; failed "
        f"runs {in_failed.successes}/{in_failed.trials}, successful runs "
        f"{in_succeeded.successes}/{in_succeeded.trials}",
        estimates=[share, in_failed, in_succeeded],
        protocol=protocol(base, suite.seeds(sweep.n), stall=f"consecutive {every}-batch chunks "
                          f"with gradient norm < {GRAD_LIMIT} and loss >= {HIGH_LOSS_SHARE} x "
                          f"the constant predictor's loss, covering >= {STALL_SHARE:.3g} of "
                          f"training"),
        table=table.to_dict("records"), figures=figures,
        notes=f"Plateaus before success: {int(succeeded.stall_before_low.sum())} of "
              f"{len(succeeded)} successful runs stalled before their loss first fell below "
              f"the high level; stalls are mostly where training ends badly (Fisher p = "
              f"{fisher.p_value:.2g}).")
