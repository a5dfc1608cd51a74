"""ESC-MINIBATCH: minibatch noise helps leave shallow minima that full-batch descent stays in."""

from __future__ import annotations

import numpy as np

from lifetf import stats
from lifetf.stats.decisions import TwoProportionRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import count_rate, effect_or_margin, outcome_row
from lifetf.suite.plots import plot_curves, plot_estimates
from lifetf.suite.protocol import protocol

ALPHA = 0.01  # each one-sided Fisher test
NOISE_MARGIN = 0.2  # the least advantage of noise alone that the claim implies
LEARNING_RATE = 0.5  # plain (stochastic) gradient descent, as the essay's claim
SMALL, EPOCHS, UPDATES = "small batches", "full batch, equal epochs", "full batch, equal updates"


def _arms(suite) -> dict:
    batch, epochs = (CLAIM.size(suite.profile, k) for k in ("batch", "epochs"))
    base = suite.profile.finite(optimizer="sgd", learning_rate=LEARNING_RATE)
    per_epoch = base.train_set // batch
    return {SMALL: base.replace(batch_size=batch, batches=epochs * per_epoch),
            EPOCHS: base.replace(batch_size=base.train_set, batches=epochs),
            UPDATES: base.replace(batch_size=base.train_set, batches=epochs * per_epoch)}


CLAIM = Claim(
    "ESC-MINIBATCH", "C",
    "Minibatch noise helps a model leave shallow local minima that full-batch descent stays "
    "in.", "004_0141badb430aedc6.txt", expected={"quick": "refuted"},
    # small batches 0.6 against full batch 0.1 where the claim holds, in both comparisons
    rule=TwoProportionRule(((0.6, 0.1), (0.6, 0.1)), ALPHA),
    sizes={"quick": {"batch": 4, "epochs": 250}, "paper": {"batch": 8, "epochs": 1000}},
    arms=lambda suite: list(_arms(suite).values()),
)


@CLAIM
def test_esc_minibatch(suite, conclude):
    """Small minibatches against full batch on one fixed set: equal epochs and equal updates."""
    (plan, n, seeds), arms = suite.planned(CLAIM), _arms(suite)
    runs = {name: suite.rows(e, seeds) for name, e in arms.items()}
    wins = {name: int(r.success.sum()) for name, r in runs.items()}
    p = {name: stats.fisher_two_proportions(wins[SMALL], n, wins[name], n, "greater").p_value
         for name in (EPOCHS, UPDATES)}
    noise = stats.difference_interval(wins[SMALL], n, wins[UPDATES], n)
    decision = effect_or_margin(
        max(p.values()), ALPHA, noise.high, NOISE_MARGIN,
        "one-sided Fisher exact tests, small batches > full batch, at equal epochs (the "
        "catalogue's comparison) and at equal updates (the control for the number of steps); "
        "Newcombe 95% interval of the advantage at equal updates")
    estimates = {name: count_rate(f"success, {name}", wins[name], n) for name in arms}
    figures = [suite.plot("esc-minibatch-success", plot_estimates, estimates, "success rate",
                          "Success: small batches, full batch at equal epochs and updates"),
               suite.plot("esc-minibatch", plot_curves, {name: np.stack(r.loss_curve) for name, r
                                                         in runs.items() if name != EPOCHS},
                          "chunk of 50 updates", "training loss (mean per chunk)",
                          "Small batches and full batch on one fixed training set", logy=True)]
    small = arms[SMALL]
    conclude(decision, plan,
        f"small batches {wins[SMALL]}/{n}; full batch {wins[EPOCHS]}/{n} at equal epochs "
        f"(Fisher p = {p[EPOCHS]:.2g}) and {wins[UPDATES]}/{n} at equal updates (p = "
        f"{p[UPDATES]:.2g}); upper 95% bound of the advantage of noise alone {noise.high:.2f} "
        f"against {NOISE_MARGIN}",
        estimates=list(estimates.values()),
        protocol=protocol(small, seeds, arms=f"{small.batch_size} boards a batch; full "
                          f"batch ({small.train_set}) for as many epochs, and for as many "
                          f"updates"),
        table=[outcome_row({"arm": name, "batch": e.batch_size, "updates": e.batches, "epochs":
                            e.batches * e.batch_size // e.train_set}, runs[name], **{
            "median final training loss": float(runs[name].final_loss.median())})
               for name, e in arms.items()],
        figures=figures,
        notes=f"The catalogue compares equal epochs, where full batch takes "
              f"{small.batches // arms[EPOCHS].batches}x fewer steps; the equal-update arm "
              f"separates the noise of small batches from their larger number of steps.")
