"""GOL-DENSITY: a critical live-cell density of the training boards helps minimal networks."""

from __future__ import annotations

from lifetf import stats
from lifetf.stats.decisions import TwoProportionRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import holm_family, outcome_row, rate
from lifetf.suite.plots import plot_rates
from lifetf.suite.protocol import protocol

DENSITIES = (0.2, 0.38, 0.5)
ALPHA = 0.01  # family-wise over the two one-sided comparisons (Holm); each designed at 0.005


def _arms(suite) -> list:
    return [suite.profile.springer.replace(density=d, width=1, steps=1) for d in DENSITIES]


CLAIM = Claim(
    "GOL-DENSITY", "A",
    "A critical live-cell density of the training boards makes minimal networks converge far "
    "more often.", "paper", expected={"quick": "inconclusive"},
    # a peak at d0 = 0.38 where the claim holds: 0.25 against 0.05 (at 0.2) and 0.10 (at 0.5)
    rule=TwoProportionRule(((0.25, 0.05), (0.25, 0.10)), ALPHA / 2),
    arms=_arms,
)


@CLAIM
def test_gol_density(suite, conclude):
    """Minimal Springer networks at training densities 0.2, 0.38, 0.5: is the peak interior?"""
    (plan, n, seeds), arms = suite.planned(CLAIM), _arms(suite)
    runs = {e.density: suite.rows(e, seeds) for e in arms}
    wins = {d: int(r.success.sum()) for d, r in runs.items()}
    centre, edges = DENSITIES[1], (DENSITIES[0], DENSITIES[2])
    p = {side: [stats.fisher_two_proportions(wins[centre], n, wins[d], n, alternative=side)
                .p_value for d in edges] for side in ("greater", "less")}
    decision, adjusted = holm_family(p["greater"], p["less"], ALPHA, "two one-sided Fisher "
                                     "exact tests (d0 = 0.38 above each edge density)")
    rel = suite.plot("gol-density", plot_rates, {"conway rule, springer net, m = 1": [
        (d, wins[d], n) for d in DENSITIES]}, "live-cell density of the training boards",
        "Minimal networks against training density")
    conclude(decision, plan,
        ", ".join(f"{wins[d]}/{n} at density {d}" for d in DENSITIES)
        + f"; Holm-adjusted one-sided Fisher p = {adjusted[0]:.2g} (vs {edges[0]}) and "
          f"{adjusted[1]:.2g} (vs {edges[1]}).",
        estimates=[rate(f"success at density {d}", r) for d, r in runs.items()],
        protocol=protocol(arms[1], seeds, densities=", ".join(map(str, DENSITIES))),
        table=[outcome_row({"density": d}, r) for d, r in runs.items()],
        figures=[rel])
