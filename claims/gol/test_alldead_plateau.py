"""GOL-ALLDEAD-PLATEAU: at long horizons failed networks predict all-dead; post 1's ~50% is the
share of random boards that die out, not guessing."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from lifetf import seeding
from lifetf.life.rules import all_dead_shares
from lifetf.stats.decisions import BoundRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import against_bound, count_rate
from lifetf.suite.plots import plot_curve_and_points
from lifetf.suite.protocol import protocol
from lifetf.suite.verdict import Estimate

COLLAPSE_BOARDS = 0.95  # a network "predicts all-dead" when it does so on >= 95% of test boards
MATCH_TOLERANCE = 0.03  # collapsed networks' match rate vs the exact all-dead share
HORIZON = 20  # steps of the exact all-dead curve


def _deep(suite) -> list:
    sizes = {name: CLAIM.size(suite.profile, name) for name in ("steps", "width")}
    return [suite.profile.sweep.replace(steps=s, width=sizes["width"]) for s in sizes["steps"]]


def _seeds(suite) -> list[int]:
    # the rule counts failed networks over all horizons: split the planned trials between them
    steps = CLAIM.size(suite.profile, "steps")
    return suite.seeds(max(8, math.ceil(CLAIM.plan(suite.profile).trials / len(steps))))


CLAIM = Claim(
    "GOL-ALLDEAD-PLATEAU", "A",
    "The ~50% ratio of correct predictions at 10-20 steps is networks predicting all-dead, "
    "not guessing.", "protocol.md (post 1, post 2 fig. 2)",
    expected={"quick": "reproduced"},
    # share of failed deep networks that collapse where the claim holds (pilot: 42/42)
    rule=BoundRule(0.85, 0.5),
    sizes={"quick": {"steps": (10,), "width": 1}, "paper": {"steps": (10, 20), "width": 5}},
    needs=lambda suite: [(e, _seeds(suite)) for e in _deep(suite)],
)


@CLAIM
def test_gol_alldead_plateau(suite, conclude):
    """At long horizons, failed networks predict all-dead; ~50% is the share of boards that die."""
    rule, density = suite.profile.sweep.rule, suite.profile.sweep.eval_density
    shares = suite.store.derived(f"alldead-{rule}-5x5-d{density}-n{HORIZON}",
                                 lambda: all_dead_shares(rule, HORIZON, 5, density))
    seeds, rows, frames = _seeds(suite), [], []
    for experiment in _deep(suite):
        trials = suite.rows(experiment, seeds)
        failed = trials[~trials.success]
        collapsed = failed[failed.all_dead_rate >= COLLAPSE_BOARDS]
        frames.append((experiment.steps, failed, collapsed))
        rows.append({"steps": experiment.steps,
                     "all-dead share (exact)": float(shares[experiment.steps]),
                     "mean match rate": float(trials.match_rate.mean()),
                     "failed": f"{len(failed)}/{len(seeds)}",
                     "collapsed to all-dead": f"{len(collapsed)}/{len(failed)}",
                     "collapsed nets' mean match rate": float(collapsed.match_rate.mean())
                     if len(collapsed) else None})
    failed_total = sum(len(f) for _, f, _ in frames)
    share = count_rate("failed networks collapsed to all-dead",
                       sum(len(c) for _, _, c in frames), failed_total)
    gaps = [abs(float(c.match_rate.mean()) - float(shares[s])) for s, _, c in frames if len(c)]
    decision = against_bound(share, 0.5, test="Wilson interval of the collapsed share; their "
                             "mean match rate against the exact all-dead share")
    close = max(gaps, default=1.0) <= MATCH_TOLERANCE
    decision = replace(decision, verdict="inconclusive" if decision.verdict == "reproduced"
                       and not close else decision.verdict,
                       threshold=decision.threshold + f"; reproduced also needs every collapsed "
                       f"group's mean match rate within {MATCH_TOLERANCE} of the exact share")
    jitter = seeding.numpy_rng(0, seeding.FIGURE)
    rel = suite.plot(
        "gol-alldead-plateau", plot_curve_and_points, np.arange(1, HORIZON + 1), shares[1:],
        "exact all-dead share of random 5x5 boards",
        {"trained networks' match rate": (
            np.concatenate([np.full(len(f), s) + jitter.uniform(-0.2, 0.2, len(f))
                            for s, f, _ in frames]),
            np.concatenate([f.match_rate.to_numpy() for _, f, _ in frames]))},
        "steps", "share of test boards", "Boards that die out, and what failed networks match")
    deep = [s for s, _, _ in frames]
    conclude(decision, CLAIM.rule_for(suite.profile).at(failed_total),
        f"{share.successes} of {failed_total} failed networks at steps "
        f"{', '.join(map(str, deep))} predicted all-dead on >= {COLLAPSE_BOARDS:.0%} of boards "
        f"({share.span()}); the exact share of random 5x5 boards that die out is "
        + ", ".join(f"{shares[s]:.3f} at {s}" for s in deep),
        estimates=[share] + [Estimate(f"exact all-dead share at {s} steps", float(shares[s]))
                             for s in deep],
        protocol=protocol(_deep(suite)[0], seeds, steps=", ".join(map(str, deep)),
                          all_dead_share="exact: every 5x5 board enumerated with its "
                                         "probability (density 0.5)"),
        table=rows + [{"steps": s, "all-dead share (exact)": float(shares[s])}
                      for s in range(1, HORIZON + 1) if s not in deep],
        figures=[rel], notes=f"Largest gap: {max(gaps, default=0):.3f}.")
