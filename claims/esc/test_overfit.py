"""ESC-OVERFIT: the global minimum of the training loss may overfit; other minima generalise."""

from __future__ import annotations

import numpy as np

from lifetf import stats
from lifetf.stats.decisions import RankCorrelationRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import count_rate, one_sided
from lifetf.suite.plots import plot_scatter
from lifetf.suite.protocol import protocol
from lifetf.suite.verdict import Estimate

ALPHA = 0.01  # each one-sided Spearman test


def _experiment(suite):
    boards = CLAIM.size(suite.profile, "set")
    return suite.profile.finite(train_set=boards, batch_size=boards)


CLAIM = Claim(
    "ESC-OVERFIT", "C",
    "The global minimum of the training loss may overfit; other minima generalise better.",
    "004_0141badb430aedc6.txt", expected={"quick": "refuted"},
    rule=RankCorrelationRule(-0.5, ALPHA),  # training loss vs test error where it holds
    sizes={"quick": {"set": 4}, "paper": {"set": 4}},
    arms=lambda suite: [_experiment(suite)],
)


@CLAIM
def test_esc_overfit(suite, conclude):
    """On a small fixed training set: do lower training losses generalise worse?"""
    (plan, _, seeds), experiment = suite.planned(CLAIM), _experiment(suite)
    runs = suite.rows(experiment, seeds)
    train_loss = runs.final_loss.to_numpy(float)
    test_error = 1.0 - runs.cell_accuracy.to_numpy(float)
    negative = stats.rank_correlation(train_loss, test_error, "less")
    positive = stats.rank_correlation(train_loss, test_error, "greater")
    decision = one_sided(negative.p_value, positive.p_value, ALPHA,
                         "one-sided Spearman rank correlation tests in both directions")
    order = np.argsort(train_loss)
    best = int(order[0])
    groups = {"lowest tenth of training loss": order[: max(1, len(order) // 10)],
              "the other runs": order[max(1, len(order) // 10):]}
    success = runs.success.to_numpy()
    rel = suite.plot("esc-overfit", plot_scatter, {
        "failed": (train_loss[~success], test_error[~success]),
        "succeeded": (train_loss[success], test_error[success])},
        "final training loss (on the training set)", "test cell error (1000 fresh 5x5 boards)",
        f"Training loss against test error, {experiment.train_set} training boards", logx=True)
    conclude(decision, plan,
        f"over {len(runs)} runs on {experiment.train_set} fixed training boards, Spearman rho "
        f"(training loss, test cell error) = {negative.statistic:.2f}; negative (overfitting) "
        f"p = {negative.p_value:.2g}, positive p = {positive.p_value:.2g} against {ALPHA}; "
        f"{int((test_error < test_error[best]).sum())} runs generalise better than the run "
        f"with the lowest training loss",
        estimates=[Estimate("Spearman rho, training loss vs test error", negative.statistic),
                   count_rate("success on the test boards", int(success.sum()), len(runs)),
                   Estimate("lowest training loss", float(train_loss[best])),
                   Estimate("test cell error of that run", float(test_error[best]))],
        protocol=protocol(experiment, seeds,
                          test="1000 random 5x5 boards (success, cell error)"),
        table=[{"runs": name, "n": len(idx),
                "median training loss": float(np.median(train_loss[idx])),
                "median test cell error": float(np.median(test_error[idx])),
                "successes": int(success[idx].sum())} for name, idx in groups.items()],
        figures=[rel],
        notes="Each run's training loss is its mean BCE on the whole training set after "
              "training; its test error is the share of wrong cells on the test boards.")
