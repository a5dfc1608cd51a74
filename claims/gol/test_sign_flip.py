"""GOL-SIGN-FLIP: flipping the sign of one weight of the exact solution can make training fail."""

from __future__ import annotations

from lifetf import stats
from lifetf.stats.decisions import TwoProportionRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import count_rate, one_sided, outcome_row
from lifetf.suite.plots import plot_rates
from lifetf.suite.protocol import protocol

FLIPS = (0, 1, 2, 4, 8)
ALPHA = 0.01


def _arms(suite) -> list:
    return [suite.profile.springer.replace(start="hand_built", sign_flips=k) for k in FLIPS]


CLAIM = Claim(
    "GOL-SIGN-FLIP", "A",
    "Flipping the sign of one weight of the initialisation can make training fail.", "paper",
    expected={"quick": "reproduced"},
    # success from the exact weights, and after one flip, where the claim holds
    rule=TwoProportionRule(((0.95, 0.5),), ALPHA),
    arms=_arms,
)


@CLAIM
def test_gol_sign_flip(suite, conclude):
    """Start from the exact weights with k signs flipped: success against k (Springer's setting)."""
    (plan, n, seeds), arms = suite.planned(CLAIM), _arms(suite)
    runs = [suite.rows(e, seeds) for e in arms]
    wins = [int(r.success.sum()) for r in runs]
    decision = one_sided(
        stats.fisher_two_proportions(wins[0], n, wins[1], n, alternative="greater").p_value,
        stats.fisher_two_proportions(wins[0], n, wins[1], n, alternative="less").p_value,
        ALPHA, "Fisher exact test, one-sided (no flip > one flip); trend over flips reported")
    trend = stats.trend_test(wins, [n] * len(FLIPS), scores=list(FLIPS),
                             alternative="decreasing")
    rel = suite.plot("gol-sign-flip", plot_rates, {"conway rule, springer net, m = 1": [
        (f, w, n) for f, w in zip(FLIPS, wins, strict=True)]}, "weights whose sign was flipped",
        "Training from the exact weights with flips")
    conclude(decision, plan,
        f"from the exact weights {wins[0]}/{n} runs succeeded; with one sign flipped "
        f"{wins[1]}/{n}; one-sided Fisher p = {decision.p_value:.2g} against the level {ALPHA}",
        estimates=[count_rate(f"success with {k} flips", w, n) for k, w in zip(FLIPS, wins,
                                                                                strict=True)],
        protocol=protocol(arms[1], seeds, flips=", ".join(map(str, FLIPS)) + " randomly "
                          "chosen nonzero weights, chosen per seed"),
        table=[outcome_row({"sign flips": k}, r, **{"mean final loss": float(
            r.final_loss.mean())}) for k, r in zip(FLIPS, runs, strict=True)],
        figures=[rel],
        notes=f"Trend over {FLIPS} flips (one-sided, decreasing): p = {trend.p_value:.2g}.")
