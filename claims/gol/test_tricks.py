"""GOL-TRICKS: sigmoid output, LeakyReLU and the normalize option against the plain network."""

from __future__ import annotations

from lifetf import stats
from lifetf.stats.decisions import TwoProportionRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import effect_or_margin, outcome_row, rate
from lifetf.suite.plots import plot_estimates
from lifetf.suite.protocol import protocol

PLAIN, ALL = "plain (ReLU, clamp, pytorch init)", "all three"
TRICKS = {PLAIN: {}, "sigmoid output": {"output": "sigmoid"},
          "LeakyReLU": {"activation": "leaky_relu"}, "normalize init (+ dropout)":
          {"init": "normalize"},
          ALL: {"output": "sigmoid", "activation": "leaky_relu", "init": "normalize"}}
ALPHA = 1e-3  # for "reproduced"; small, because "refuted" is the other decidable outcome
FAR = 0.3  # "far more often": at least 0.3 more success (the plausible effect is 0.5)
SINGLE = 24  # trials for each single trick, shown for context only


def _arms(suite) -> dict[str, tuple]:
    """Setting -> (experiment, seeds): all three and the plain network sized by the design."""
    n = CLAIM.plan(suite.profile).trials
    base = suite.profile.sweep.replace(width=CLAIM.size(suite.profile, "width"), steps=1,
                                       output="clamp", activation="relu", init="pytorch")
    return {name: (base.replace(**change), suite.seeds(n if name in (PLAIN, ALL) else
                                                       min(n, SINGLE)))
            for name, change in TRICKS.items()}


CLAIM = Claim(
    "GOL-TRICKS", "A",
    "Sigmoid output, LeakyReLU and the normalize initialisation make training succeed far "
    "more often than the plain ReLU network at the same width.", "protocol.md (post 1)",
    expected={"quick": "refuted"},
    rule=TwoProportionRule(((0.6, 0.1),), ALPHA),  # all tricks and plain, where it holds
    sizes={"quick": {"width": 2}, "paper": {"width": 5}},  # post 1: m = 5
    needs=lambda suite: list(_arms(suite).values()),
)


@CLAIM
def test_gol_tricks(suite, conclude):
    """Each trick alone and all together against the plain network, equal width and budget."""
    plan, arms = CLAIM.plan(suite.profile), _arms(suite)
    runs = {name: suite.rows(e, seeds) for name, (e, seeds) in arms.items()}
    n, plain, every = plan.trials, int(runs[PLAIN].success.sum()), int(runs[ALL].success.sum())
    upper = stats.difference_interval(every, n, plain, n, 0.9, "bootstrap").high
    decision = effect_or_margin(
        stats.fisher_two_proportions(every, n, plain, n, alternative="greater").p_value, ALPHA,
        upper, FAR, "Fisher exact test, one-sided (all tricks > plain); one-sided 95% "
                    "bootstrap upper bound of the difference")
    estimates = {name: rate(f"success, {name}", r) for name, r in runs.items()}
    width = arms[PLAIN][0].width
    rel = suite.plot("gol-tricks", plot_estimates, estimates, "success rate",
                     f"Tricks at width {width} (equal budget), 95% Wilson intervals")
    conclude(decision, plan,
        f"at width {width} all three tricks succeeded {every}/{n} against {plain}/{n} for the "
        f"plain network (one-sided Fisher p = {decision.p_value:.2g}; 95% upper bound of the "
        f"difference {upper:.2f}, against {FAR} for 'far more')",
        estimates=[estimates[ALL], estimates[PLAIN]],
        protocol=protocol(arms[PLAIN][0], arms[PLAIN][1],
                          post_1="with the tricks and m = 5 one step trained successfully every "
                                 "time (batch 128, 10000 batches)"),
        table=[outcome_row({"setting": name}, r, **{"mean cell accuracy": float(
            r.cell_accuracy.mean())}) for name, r in runs.items()],
        figures=[rel],
        notes=f"A true difference of 0 is refuted unless its bound exceeds {FAR}, about 5 "
              f"standard errors away at this size.")
