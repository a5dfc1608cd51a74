"""LAND-SAME-MINIMA: several runs end at nearly the same solution."""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu

from lifetf import seeding
from lifetf.analysis.functions import (
    distances_by_function,
    guaranteed_pairs,
    identical_pairs,
    most_common_errors,
    shared_function_test,
)
from lifetf.life.evaluate import relevant_rows, truth_table_windows
from lifetf.life.rules import next_centre
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import Decision
from lifetf.suite.plots import plot_histograms
from lifetf.suite.protocol import protocol
from lifetf.suite.trialsets import sweep_needs
from lifetf.suite.verdict import Estimate

ALPHA = 0.01  # permutation test: identical learned functions beyond chance
PERMUTATIONS = 5000
SHARED = 1 / 2  # the alternative of the design: half the failed runs share one function

CLAIM = Claim(
    "LAND-SAME-MINIMA", "B", "Several runs end at nearly the same solution.",
    "000_99adcdd6275fb052.txt", "several of the lines end up at nearly the same location",
    expected={"quick": "reproduced"}, needs=sweep_needs,
)


@CLAIM
def test_land_same_minima(suite, conclude, sweep):
    """Failed runs end at the same learned function far more often than chance."""
    base, widths = suite.profile.sweep, suite.profile.sweep_widths
    rows = relevant_rows(base.rule)
    failed = {m: sweep.runs[(1, m)][~sweep.runs[(1, m)].success] for m in widths}
    groups = [np.stack(f.truth_table)[:, rows] if len(f) else
              np.zeros((0, len(rows)), np.uint8) for f in failed.values()]
    rng = seeding.numpy_rng(suite.seed_base, seeding.PERMUTATION, 11)
    shared = shared_function_test(groups, rng, PERMUTATIONS, ALPHA)
    observed, chance, critical = shared.observed, shared.chance, shared.critical
    guaranteed = guaranteed_pairs(groups, SHARED)
    verdict = ("reproduced" if shared.p_value < ALPHA and observed >= 2 * chance else
               "refuted" if observed <= chance else "inconclusive")
    decision = Decision(verdict, f"permutation test ({PERMUTATIONS} data sets in which each "
                                 f"configuration's column is shuffled across the runs of a "
                                 f"width, keeping how often it is predicted alive)",
                        f"reproduced: p < {ALPHA} and at least twice the chance count; refuted: "
                        f"no more identical pairs than chance", shared.p_value)
    minimal = failed[widths[0]]
    same, other = distances_by_function(base.replace(width=widths[0], steps=1).layers,
                                        list(minimal.weights), groups[0])
    distance_p = mannwhitneyu(same, other, alternative="less").pvalue if same and other else None
    truth = next_centre(truth_table_windows(), base.rule)[rows]
    common = {m: most_common_errors(t, truth) for m, t in zip(widths, groups, strict=True)
              if len(t)}
    rel = suite.plot("land-same-minima", plot_histograms, {
        "same learned function": np.array(same), "different functions": np.array(other)},
        f"aligned parameter distance between failed m = {widths[0]} networks",
        "Failed minimal networks: distance by learned function")
    median = {k: float(np.median(v)) if v else float("nan")
              for k, v in (("same", same), ("other", other))}
    runs = sum(len(t) for t in groups)
    conclude(decision, None,
        f"{observed} pairs of failed one-step runs (same width) learned identical truth tables "
        f"against {chance:.1f} expected by chance (column-shuffle permutation p = "
        f"{shared.p_value:.2g}); failed m = {widths[0]} networks with the same function lie at "
        f"median aligned distance {median['same']:.3g} against {median['other']:.3g} for different "
        f"functions (Mann-Whitney p = " + (f"{distance_p:.2g}" if distance_p else "n/a") + ")",
        design=f"{runs} failed runs; if half of each width's failed runs shared one function "
               f"there would be at least {guaranteed} identical pairs, beyond the null's "
               f"{1 - ALPHA:.0%} quantile of {critical:.0f}, so the test rejects whenever that "
               f"holds" + ("" if guaranteed > critical else
                           " -- NOT the case here: too few failed runs"),
        false_failure=0.0 if guaranteed > critical else 1.0,
        estimates=[Estimate("identical pairs", float(observed)),
                   Estimate("identical pairs expected by chance", chance),
                   Estimate("median aligned distance, same function", median["same"]),
                   Estimate("median aligned distance, different functions", median["other"])],
        trials=runs, experiments=sweep.keys,
        protocol=protocol(base, suite.seeds(sweep.n), learned_function=f"the one-step truth "
                          f"table over the {len(rows)} windows that matter"),
        table=[{"width": m, "failed runs": len(t),
                "distinct learned functions": len(np.unique(t, axis=0)) if len(t) else 0,
                "identical pairs": identical_pairs([t]),
                "largest group sharing one function": common.get(m, (0,))[0]}
               for m, t in zip(widths, groups, strict=True)],
        figures=[rel],
        notes="Successful runs all learn the one true table, so only failed runs count. Most "
              "common function: " + "; ".join(
                  f"m = {m}: {k} of {len(failed[m])} share a table that gets {w} of {len(truth)} "
                  f"windows wrong (missing births {b})" for m, (k, w, b) in common.items()) + ".")
