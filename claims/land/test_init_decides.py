"""LAND-INIT-DECIDES: the random initialisation determines where training converges."""

from __future__ import annotations

import numpy as np

from lifetf import seeding, stats
from lifetf.analysis.landscape import aligned_distance
from lifetf.life.evaluate import relevant_rows
from lifetf.stats.decisions import ConcordanceRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import Decision, count_rate
from lifetf.suite.plots import plot_bars
from lifetf.suite.protocol import protocol
from lifetf.suite.verdict import Estimate

ALPHA = 0.01  # permutation test: same-initialisation pairs agree more than chance
DETERMINES = 0.85  # "determines": same-initialisation pairs agree on the outcome this often


def _pair(suite) -> tuple:
    """The same seeds trained with board stream 0 and with stream 1: same initial weights."""
    first = suite.profile.sweep.replace(width=CLAIM.size(suite.profile, "width"), steps=1)
    return first, first.replace(data_stream=1)


CLAIM = Claim(
    "LAND-INIT-DECIDES", "B", "The random initialisation determines where training converges.",
    "000_99adcdd6275fb052.txt", expected={"quick": "reproduced"},
    # success rate 0.6 and same-initialisation agreement 0.95 where the claim holds
    rule=ConcordanceRule(0.6, 0.95, ALPHA, DETERMINES),
    sizes={"quick": {"width": 3, "pairs": 64}, "paper": {"width": 5, "pairs": 64}},
    needs=lambda suite: [(e, suite.seeds(CLAIM.size(suite.profile, "pairs")))
                         for e in _pair(suite)],
)


@CLAIM
def test_land_init_decides(suite, conclude, sweep):
    """Runs sharing an initialisation but not the data order agree on outcome and function.
    (Stream 0 of the first seeds is a sweep cell: the test runs with the sweep's readers.)"""
    n = CLAIM.size(suite.profile, "pairs")
    first, second = _pair(suite)
    a, b = suite.rows(first, suite.seeds(n)), suite.rows(second, suite.seeds(n))
    rows = relevant_rows(first.rule)
    ta, tb = np.stack(a.truth_table)[:, rows], np.stack(b.truth_table)[:, rows]
    outcome, chance = stats.agreement_test(a.success, b.success)  # chance: random pairing
    tables, chance_identical = stats.permutation_test(ta, tb, lambda x, y: float(np.mean(
        (x == y).all(axis=1))), seeding.numpy_rng(suite.seed_base, seeding.PERMUTATION))
    concordance = count_rate("outcome agreement, same initialisation",
                             int((a.success == b.success).sum()), n)
    identical = int((ta == tb).all(axis=1).sum())
    median = {name: float(np.median([aligned_distance(first.layers, x, y) for x, y in
                                     zip(a.weights, b.weights.iloc[js], strict=True)]))
              for name, js in (("same initialisation", np.arange(n)),
                               ("different (seed s with s - 1)", np.roll(np.arange(n), 1)))}
    verdict = ("refuted" if concordance.high < DETERMINES else "reproduced"
               if outcome.p_value < ALPHA else "inconclusive")
    decision = Decision(verdict, "exact permutation test (random re-pairing) of outcome "
                                 "agreement; Wilson interval of the same-initialisation "
                                 "agreement; permutation test of identical truth tables "
                                 "(reported)",
                        f"refuted: upper 95% bound of the agreement < {DETERMINES}; reproduced: "
                        f"p < {ALPHA}; else inconclusive", outcome.p_value)
    rel = suite.plot("land-init-decides", plot_bars, {
        "same init": concordance.value, "different inits": chance,
        "same init, same table": identical / n, "different, same table": chance_identical},
        "share of pairs", "Agreement of runs with the same and different initialisations",
        errors={"same init": (concordance.low, concordance.high)})
    conclude(decision, CLAIM.rule_for(suite.profile).at(n),
        f"runs with the same initialisation and another data order agreed on the outcome in "
        f"{concordance.successes}/{n} pairs ({concordance.span()}) against {chance:.2f} for "
        f"different initialisations (exact permutation p = {outcome.p_value:.2g}); identical "
        f"learned truth tables in {identical}/{n} against {chance_identical * n:.1f} by chance "
        f"(p = {tables.p_value:.2g}); 'determines' needs an upper bound of at least {DETERMINES}",
        estimates=[concordance, Estimate("outcome agreement, different inits", chance),
                   count_rate("identical truth tables, same initialisation", identical, n),
                   Estimate("identical truth tables, different inits", chance_identical),
                   *(Estimate(f"median aligned distance, {k}", v) for k, v in median.items())],
        protocol=protocol(first, suite.seeds(n), pairs="seed s with board stream 0 and with "
                          "board stream 1: the same initial weights, other boards in another "
                          "order"),
        table=[{"pairs": "same initialisation, other data order", "n": n,
                "same outcome": f"{concordance.successes}/{n}",
                "identical truth table": f"{identical}/{n}",
                "median aligned distance": median["same initialisation"]},
               {"pairs": "different initialisations (random re-pairing)", "n": n,
                "same outcome": f"{chance * n:.1f}/{n} (expected)",
                "identical truth table": f"{chance_identical * n:.1f}/{n} (mean)",
                "median aligned distance": median["different (seed s with s - 1)"]}],
        figures=[rel],
        notes=f"Both runs succeeded in {int((a.success & b.success).sum())} pairs and both "
              f"failed in {int((~a.success & ~b.success).sum())}. The truth tables are over the "
              f"{len(rows)} windows that matter.")
