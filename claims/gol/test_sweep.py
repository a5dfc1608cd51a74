"""The success sweep (widths x steps): GOL-WIDTH-HELPS, GOL-STEPS-HURT, GOL-BEST-OF-K and
GOL-LOSS-FOOLS read the same trials (lifetf.suite.trialsets)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifetf import stats
from lifetf.life.evaluate import eval_set
from lifetf.stats.decisions import BestOfKRule, BoundRule, best_of_k_passes
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import (
    Decision,
    against_bound,
    count_rate,
    one_sided,
    outcome_row,
    rate,
)
from lifetf.suite.plots import plot_curves, plot_rates
from lifetf.suite.protocol import protocol
from lifetf.suite.trialsets import (
    SWEEP_ALPHA,
    WIDTH_PLAUSIBLE,
    steps_rule,
    sweep_needs,
    sweep_plans,
    width_rule,
)

SOURCE = "000_99adcdd6275fb052.txt"
BEST_OF = (1, 2, 4, 8)

WIDTH_HELPS = Claim(
    "GOL-WIDTH-HELPS", "A", "Wider networks succeed more often.", f"{SOURCE}, paper",
    "Adding more parameters to the DNN smooths out the loss surface",
    expected={"quick": "reproduced"}, rule=width_rule, needs=sweep_needs)
STEPS_HURT = Claim(
    "GOL-STEPS-HURT", "A", "At a fixed width, more steps means less success.",
    "protocol.md (post 1)", expected={"quick": "reproduced"}, rule=steps_rule,
    needs=sweep_needs)
BEST_OF_K = Claim(
    "GOL-BEST-OF-K", "A",
    "Training several networks and keeping the best copes with unlucky initialisations.",
    SOURCE, "we always train several networks for a task rather than a single one",
    expected={"quick": "reproduced"}, rule=BestOfKRule(WIDTH_PLAUSIBLE, max(BEST_OF)),
    needs=sweep_needs)
LOSS_FOOLS = Claim(
    "GOL-LOSS-FOOLS", "A",
    "Training loss goes down and per-cell accuracy looks high even when training fails.",
    SOURCE, "Just because the loss goes down during training doesn't mean that the place "
    "where we end up is any good.",
    expected={"quick": "reproduced"}, rule=BoundRule(0.8, 0.5, settings=2), needs=sweep_needs)


def _trend(wins: list[int], n: int, claimed: str) -> Decision:
    """A one-sided Cochran-Armitage test in the claimed direction, the reverse as refutation."""
    other = "decreasing" if claimed == "increasing" else "increasing"
    forward = stats.trend_test(wins, [n] * len(wins), alternative=claimed)
    backward = stats.trend_test(wins, [n] * len(wins), alternative=other)
    return one_sided(forward.p_value, backward.p_value, SWEEP_ALPHA,
                     f"Cochran-Armitage trend test, one-sided ({claimed})")


@WIDTH_HELPS
def test_gol_width_helps(suite, conclude, sweep):
    """Success rate rises with width (one-sided Cochran-Armitage trend test per step count)."""
    widths, all_steps, n = suite.profile.sweep_widths, suite.profile.sweep_steps, sweep.n
    decisions = {s: _trend([sweep.wins(s, m) for m in widths], n, "increasing")
                 for s in all_steps}
    holm = stats.holm([d.p_value for d in decisions.values()])
    first = all_steps[0]
    rows = [outcome_row({"steps": s, "width": m}, sweep.runs[(s, m)], **{
        "trend p (increasing)": decisions[s].p_value, "Holm-adjusted p": h})
        for s, h in zip(all_steps, holm, strict=True) for m in widths]
    rel = suite.plot("gol-width-helps", plot_rates, {
        f"{s} step{'s' if s > 1 else ''}": [(m, sweep.wins(s, m), n) for m in widths]
        for s in all_steps}, "width multiplier m", "Success rate against width (95% Wilson "
        "intervals)", logx=max(widths) > 10)
    widest = rate(f"success at m={widths[-1]}, {first} step", sweep.runs[(first, widths[-1])])
    narrowest = rate(f"success at m={widths[0]}, {first} step", sweep.runs[(first, widths[0])])
    conclude(decisions[first], sweep_plans(suite.profile)[0],
        f"at {first} step success rose from {narrowest.successes}/{n} (m={widths[0]}) to "
        f"{widest.successes}/{n} (m={widths[-1]}); one-sided trend test p = "
        f"{decisions[first].p_value:.2g} against the level {SWEEP_ALPHA}",
        estimates=[widest, narrowest] + [
            rate(f"success at m={m}, {s} steps", sweep.runs[(s, m)]) for s in all_steps
            for m in widths if (s, m) not in ((first, widths[0]), (first, widths[-1]))],
        protocol=protocol(suite.profile.sweep, suite.seeds(n), widths=str(widths),
                          steps=str(all_steps)),
        table=rows, figures=[rel],
        notes=f"Other step counts: Holm-adjusted p = {', '.join(f'{h:.2g}' for h in holm)}.")


@STEPS_HURT
def test_gol_steps_hurt(suite, conclude, sweep):
    """At the widest setting, success falls with the number of steps (one-sided trend test)."""
    width, all_steps, n = suite.profile.sweep_widths[-1], suite.profile.sweep_steps, sweep.n
    wins = [sweep.wins(s, width) for s in all_steps]
    decision = _trend(wins, n, "decreasing")
    rel = suite.plot("gol-steps-hurt", plot_rates, {f"m = {width}": [
        (s, w, n) for s, w in zip(all_steps, wins, strict=True)]}, "steps predicted",
        f"Success rate against steps at width {width}")
    conclude(decision, sweep_plans(suite.profile)[1],
        f"at width {width} success went " + " -> ".join(f"{w}/{n}" for w in wins)
        + f" over steps {', '.join(map(str, all_steps))}; one-sided trend test p = "
          f"{decision.p_value:.2g} against the level {SWEEP_ALPHA}",
        estimates=[rate(f"success at {s} steps, m={width}", sweep.runs[(s, width)])
                   for s in all_steps],
        protocol=protocol(suite.profile.sweep, suite.seeds(n), width=width),
        table=[outcome_row({"steps": s}, sweep.runs[(s, width)]) for s in all_steps],
        figures=[rel])


@BEST_OF_K
def test_gol_best_of_k(suite, conclude, sweep):
    """Best-of-k success from the sweep's trials against 1 - (1 - p)^k."""
    first, widths, n, k = suite.profile.sweep_steps[0], suite.profile.sweep_widths, sweep.n, \
        max(BEST_OF)
    rows, passing = [], []
    for m in widths:
        outcomes = sweep.runs[(first, m)].success.to_numpy()
        wins, interval = int(outcomes.sum()), stats.proportion_interval(int(outcomes.sum()), n)
        rows += [{"width": m, "k": j, "one run": f"{wins}/{n}",
                  "best of k (from the trials)": stats.best_of_k(outcomes, j),
                  "1-(1-p)^k": stats.best_of_k_expected(interval.estimate, j),
                  "95% CI": f"[{stats.best_of_k_expected(interval.low, j):.3f}, "
                            f"{stats.best_of_k_expected(interval.high, j):.3f}]"}
                 for j in BEST_OF]
        passing += [m] if best_of_k_passes(wins, n, k) else []
    decision = Decision("reproduced" if passing else "inconclusive",
                        "Wilson intervals of one run's rate, mapped through 1-(1-p)^k",
                        f"reproduced if at some width 1-(1-low)^{k} > high; the empirical "
                        f"best-of-k (drawn without replacement from the same trials) is shown "
                        f"beside the formula")
    rel = suite.plot("gol-best-of-k", plot_curves, {f"m = {m}": np.array([[
        r["best of k (from the trials)"] for r in rows if r["width"] == m]]) for m in widths},
        "networks trained (k)", "chance that the best of k succeeds",
        f"Best of k at {first} step", x=np.array(BEST_OF))
    best = max(passing, key=lambda m: sweep.wins(first, m)) if passing else widths[0]
    conclude(decision, BEST_OF_K.rule.at(n),
        f"keeping the best of {k} raised success significantly at widths {passing} (lower 95% "
        f"bound of 1-(1-p)^{k} above the upper bound of one run)" if passing else
        f"at no width did best-of-{k} beat one run beyond the intervals",
        estimates=[rate(f"one run at m={m}", sweep.runs[(first, m)])
                   for m in [best] + [w for w in widths if w != best]],
        protocol=protocol(suite.profile.sweep, suite.seeds(n), widths=str(widths)),
        table=rows, figures=[rel])


@LOSS_FOOLS
def test_gol_loss_fools(suite, conclude, sweep):
    """Failed runs: the loss fell and per-cell accuracy beats the all-dead predictor."""
    failed = pd.concat([r[~r.success].assign(steps=s) for (s, _), r in sweep.runs.items()],
                       ignore_index=True)
    winners = pd.concat([r[r.success] for r in sweep.runs.values()], ignore_index=True)
    all_dead = {s: 1.0 - float(eval_set(suite.profile.sweep.rule, s).targets.mean())
                for s in suite.profile.sweep_steps}  # the all-dead predictor's cell accuracy
    total = len(failed)
    fell = count_rate("failed runs whose loss fell",
                      int((failed.final_loss < failed.initial_loss).sum()), total)
    above = count_rate("failed runs beating all-dead cell accuracy", int(
        (failed.cell_accuracy > failed.steps.map(all_dead)).sum()), total)
    decision = against_bound([fell, above], 0.5, test="Wilson intervals of the two shares "
                                                      "among failed runs")
    record = suite.profile.sweep.record_every
    curves = {"failed runs": np.stack(failed.loss_curve.to_numpy())[:40]}
    if len(winners):
        curves["successful runs"] = np.stack(winners.loss_curve.to_numpy())[:40]
    rel = suite.plot("gol-loss-fools", plot_curves, curves, "batch", "training loss (mean BCE)",
                     "Training loss of sweep runs", logy=True,
                     x=np.arange(1, len(failed.loss_curve[0]) + 1) * record)
    columns = ["initial_loss", "final_loss", "cell_accuracy", "match_rate"]
    table = [{"runs": name, "count": len(runs),
              **{f"median {c.replace('_', ' ')}": float(runs[c].median()) if len(runs) else None
                 for c in columns}}
             for name, runs in (("failed", failed), ("successful", winners))]
    conclude(decision, LOSS_FOOLS.rule.at(total),
        f"of {total} failed runs the loss fell in {fell.successes} ({fell.span()}) and per-cell "
        f"accuracy beat the all-dead predictor in {above.successes}; median cell accuracy "
        f"{failed.cell_accuracy.median():.3f} while no run got every board",
        estimates=[fell, above],
        protocol=protocol(suite.profile.sweep, suite.seeds(sweep.n)),
        table=table, figures=[rel],
        notes="Initial and final loss are taken on the same 256 fixed training-size boards; "
              "cell accuracy and board match on the 1000 random 5x5 test boards.")
