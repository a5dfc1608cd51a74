"""ESC-SADDLES: most points where the gradient vanishes are saddles, not minima."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifetf import stats
from lifetf.analysis.landscape import CriticalPoint, critical_point, find_critical_points
from lifetf.life.rules import evolve
from lifetf.nets.train import starting_weights, training_set
from lifetf.stats.decisions import BoundRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import against_bound, count_rate
from lifetf.suite.plots import plot_scatter
from lifetf.suite.protocol import protocol
from lifetf.suite.trialsets import cell
from lifetf.suite.verdict import Estimate

BOUND = 0.5  # "most" near-critical points are saddles
CRITICAL_GRAD = 1e-3  # a point is near-critical when its full-batch gradient norm is below this
SEARCH_STEPS = 2000  # Adam steps on the squared gradient norm from each start
SEARCH_RATE = 1e-2
INITIAL = 96  # random initial points (cheap: no training needed)

CLAIM = Claim(
    "ESC-SADDLES", "C", "Most points where the gradient vanishes are saddles, not minima.",
    "004_0141badb430aedc6.txt", expected={"quick": "reproduced"},
    rule=BoundRule(0.8, BOUND),  # 80% saddles where the claim holds
)


def _points(suite, trained, ends) -> tuple[np.ndarray, list[str], object]:
    """Near-critical points reached from random initial weights and from the minimal sweep
    runs' ends, with their Hessian spectra (cached)."""
    fixed = suite.profile.finite(width=1)
    boards = training_set(fixed)
    targets = evolve(boards, trained.rule, 1)
    starts = [starting_weights(trained, s) for s in suite.seeds(INITIAL)] + list(ends.weights)
    origin = ["initial"] * INITIAL + ["trained"] * len(ends)

    def compute() -> np.ndarray:
        found = find_critical_points(trained.layers, trained.output, starts, boards, targets,
                                     SEARCH_STEPS, SEARCH_RATE)
        out = np.full((len(found), 3 + trained.n_params), np.nan)
        for i, weights in enumerate(found):
            point = critical_point(trained.layers, trained.output, weights, boards, targets)
            out[i, :3] = (point.loss, point.grad_norm, point.tolerance)
            out[i, 3:] = point.eigenvalues
        return out

    name = (f"saddles-{trained.key}-{fixed.key}-{suite.seed_base}-{INITIAL}-{len(ends)}-"
            f"{SEARCH_STEPS}-{SEARCH_RATE:g}")
    return suite.store.derived(name, compute), origin, fixed


@CLAIM
def test_esc_saddles(suite, conclude):
    """Near-critical points of tiny networks: how many are saddles, and index against loss.
    It reads only the sweep's cheapest cell (one step, m = 1, trained by window), so it does
    not run in the sweep's xdist group: the worker that trains the whole sweep is the longest."""
    trained, seeds, ends = cell("sweep", (1, 1), suite)
    data, origin, fixed = _points(suite, trained, ends)
    points = [CriticalPoint(float(r[0]), float(r[1]), r[3:], float(r[2])) for r in data]
    frame = pd.DataFrame([{"start": where, "loss": p.loss, "grad_norm": p.grad_norm,
                           "kind": p.kind, "index": p.index, "zero": p.n_zero}
                          for p, where in zip(points, origin, strict=True)])
    critical = frame[frame.grad_norm < CRITICAL_GRAD]
    curved = critical[critical.kind != "flat"]
    share = count_rate("saddles among near-critical points",
                       int((curved.kind == "saddle").sum()), len(curved))
    plan = CLAIM.rule_for(suite.profile).at(len(curved))
    decision = against_bound(share, BOUND, test="Wilson 95% interval of the share of "
                                                         "saddles; one-sided Spearman test of "
                                                         "index against loss (reported)")
    index = (stats.rank_correlation(curved["index"], curved.loss, "greater")
             if len(curved) >= 3 else None)
    rel = suite.plot("esc-saddles", plot_scatter, {
        kind: (part.loss.to_numpy(), part["index"].to_numpy())
        for kind, part in curved.groupby("kind")}, "full-batch training loss at the point",
        "index (share of curved directions going down)",
        "Near-critical points of tiny networks: index against loss", logx=True)
    table = frame.assign(near_critical=frame.grad_norm < CRITICAL_GRAD).groupby("start").agg(
        points=("loss", "size"), near_critical=("near_critical", "sum"),
        saddles=("kind", lambda k: int((k == "saddle").sum())),
        minima=("kind", lambda k: int((k == "minimum").sum())),
        median_grad_norm=("grad_norm", "median"), median_loss=("loss", "median"),
        median_zero_eigenvalues=("zero", "median")).reset_index()
    conclude(decision, plan,
        f"{len(critical)} of {len(frame)} searches reached a near-critical point (gradient norm "
        f"< {CRITICAL_GRAD:g}); {share.successes} of the {len(curved)} with curvature are "
        f"saddles: {share.span()} against {BOUND}; index "
        f"against loss: Spearman " + (f"{index.statistic:.2f} (p = {index.p_value:.2g})"
                                      if index else "n/a"),
        estimates=[share, count_rate("searches reaching a near-critical point", len(critical),
                                     len(frame))]
        + ([Estimate("Spearman rho, index vs loss", index.statistic)] if index else []),
        trials=len(frame), experiments=[trained.key],
        protocol=protocol(trained, seeds,
                          loss=f"full-batch BCE on {fixed.train_set} fixed boards "
                               f"(ESC-MINIBATCH's training set)",
                          starts=f"{INITIAL} random initial weights and the trained weights of "
                                 f"{len(seeds)} sweep runs",
                          search=f"Adam {SEARCH_RATE:g} on the squared gradient norm, "
                                 f"{SEARCH_STEPS} steps",
                          Hessian="exact (float64 autodiff on the Keras backend); an eigenvalue "
                                  "is zero within 1e-6 x the largest"),
        table=table.to_dict("records"), figures=[rel],
        notes="Points whose Hessian has no curved direction are counted as flat and left out of "
              "the share; searches that end with a larger gradient norm are only flat regions, "
              "not critical points (table).")
