"""GOL-CORNERS: the corner weights of the 3x3 filters, irrelevant under Firner's rule, fade."""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu

from lifetf.nets.train import starting_weights
from lifetf.stats.decisions import ShrinkRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import sign_test
from lifetf.suite.plots import plot_curves
from lifetf.suite.protocol import protocol
from lifetf.suite.verdict import Estimate

SNAPSHOTS = (0.1, 1 / 3, 1.0)  # fractions of the sweep's batches when weights are read
WIDTH = 2
ALPHA = 0.01
SHRINK = 0.5  # "go to zero": the median corner/edge ratio at least halves over training


def corner_edge_ratio(weights: list[np.ndarray]) -> float:
    """Mean |corner| over mean |edge| weight of the first 3x3 layer's filters."""
    kernel = np.abs(weights[0][:, :, 0, :])
    corners = kernel[[0, 0, 2, 2], [0, 2, 0, 2]].mean()
    edges = kernel[[0, 1, 1, 2], [1, 0, 2, 1]].mean()
    return float(corners / max(edges, 1e-12))


def _snapshots(suite) -> dict[str, list]:
    """rule -> the experiments whose ends are the snapshots (runs of that length share the
    longer run's boards and updates)."""
    base = suite.profile.sweep.replace(width=WIDTH, steps=1)
    every = base.record_every
    checkpoints = sorted({max(every, round(base.batches * f / every) * every) for f in SNAPSHOTS})
    return {rule: [base.replace(rule=rule, batches=b) for b in checkpoints]
            for rule in ("firner", "conway")}


CLAIM = Claim(
    "GOL-CORNERS", "A",
    "The corner weights of the 3x3 filters, which do not influence the output, go to zero "
    "during training.", "000_99adcdd6275fb052.txt", expected={"quick": "reproduced"},
    # where corners "go to zero", each network's log factor of the ratio ~ Normal(-1.5, 1)
    rule=ShrinkRule(-1.5, 1.0, ALPHA, SHRINK),
    arms=lambda suite: [e for runs in _snapshots(suite).values() for e in runs],
)


@CLAIM
def test_gol_corners(suite, conclude, sweep):
    """Corner weights shrink relative to edge weights under firner, not under conway."""
    (plan, n, seeds), snapshots = suite.planned(CLAIM), _snapshots(suite)
    ratios = {rule: {0: np.array([corner_edge_ratio(starting_weights(runs[0], s))
                                  for s in seeds])} for rule, runs in snapshots.items()}
    for rule, runs in snapshots.items():
        for e in runs:
            ratios[rule][e.batches] = np.array([corner_edge_ratio(w)
                                                for w in suite.rows(e, seeds).weights])
    first, last = ratios["firner"][0], ratios["firner"][max(ratios["firner"])]
    change = np.log(last / first)
    fell = int((change < 0).sum())
    factor = float(np.exp(np.median(change)))
    decision = sign_test(fell, n, ALPHA, "sign test, one-sided (the firner ratio falls); "
                         "Mann-Whitney against the conway control reported",
                         holds=factor <= SHRINK, condition=f"the median factor <= {SHRINK}")
    conway_last = ratios["conway"][max(ratios["conway"])]
    control = mannwhitneyu(last, conway_last, alternative="less")
    x = np.array(sorted(ratios["firner"]))
    rel = suite.plot("gol-corners", plot_curves, {
        f"{rule} rule": np.stack([ratios[rule][b] for b in x], axis=1) for rule in ratios},
        "batches", "mean |corner| / mean |edge| (first 3x3 layer)",
        "Corner against edge weights during training", x=x)
    conclude(decision, plan,
        f"under the firner rule the median corner/edge ratio went from {np.median(first):.3f} "
        f"to {np.median(last):.3f} (median factor {factor:.2f}; it fell in {fell}/{n} "
        f"networks, sign test p = {decision.p_value:.2g}); under conway it ended at "
        f"{np.median(conway_last):.3f} (rank-sum p = {control.pvalue:.2g})",
        estimates=[Estimate("median factor of the firner corner/edge ratio", factor),
                   Estimate("median final ratio, firner", float(np.median(last))),
                   Estimate("median final ratio, conway", float(np.median(conway_last)))],
        protocol=protocol(snapshots["firner"][-1], seeds,
                          snapshots="weights after " + ", ".join(str(b) for b in x[1:])
                          + " batches (runs of that length share the longer run's boards)"),
        table=[{"rule": rule, "batches": b, "median corner/edge ratio": float(np.median(v)),
                "quartiles": f"{np.quantile(v, 0.25):.3f} - {np.quantile(v, 0.75):.3f}"}
               for rule, by in ratios.items() for b, v in by.items()],
        figures=[rel],
        notes=f"Control: at the end the firner ratio is below the conway ratio with one-sided "
              f"Mann-Whitney p = {control.pvalue:.2g}.")
