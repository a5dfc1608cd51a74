"""GOL-MINIMAL-FAILS and GOL-BRUTE-FORCE: the minimal networks' runs (one trial set)."""

from __future__ import annotations

import numpy as np

from lifetf.life.rules import get_rule, local_configurations, next_centre
from lifetf.stats.decisions import Deterministic
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import Decision, against_bound, outcome_row, rate
from lifetf.suite.plots import plot_estimates, plot_histograms
from lifetf.suite.protocol import protocol
from lifetf.suite.trialsets import MINIMAL_RULE, minimal_needs
from lifetf.suite.verdict import Estimate

PUBLISHED = {("firner", "pytorch"): "0/20 (Firner, post 1, default settings)",
             ("conway", "pytorch"): "about 5% (Springer & Kenyon, secondary; their network)"}

MINIMAL_FAILS = Claim(
    "GOL-MINIMAL-FAILS", "A",
    "The minimal network trained from random initialisation usually fails.",
    "000_99adcdd6275fb052.txt, protocol.md", "the networks ... were certainly getting stuck",
    expected={"quick": "reproduced", "paper": "reproduced"},
    rule=MINIMAL_RULE, needs=minimal_needs,
)

BRUTE_FORCE = Claim(
    "GOL-BRUTE-FORCE", "A",
    "A 3x3 receptive field has 2^9 binary states; with the corners ignored, 2^5 = 32.",
    "000_99adcdd6275fb052.txt", expected={"quick": "reproduced"},
    rule=Deterministic("enumeration of the windows; success against the learned truth tables"),
    needs=minimal_needs,
)


@MINIMAL_FAILS
def test_gol_minimal_fails(suite, conclude, minimal):
    """Width 1, one step, both rules, both initialisations: success is rare."""
    n = minimal.n
    estimates = [rate(f"success rate ({rule} rule, {init} init)", runs)
                 for (rule, init), runs in minimal.runs.items()]
    decision = against_bound(estimates, MINIMAL_RULE.bound, above=False,
                             test="Wilson 95% interval of each setting's success proportion")
    labels = [f"{r}/{i}" for r, i in minimal.runs]
    rel = suite.plot("gol-minimal-fails", plot_estimates, dict(zip(labels, estimates,
        strict=True)), "success rate", "Minimal networks (m = 1, one step): success rate")
    worst = max(estimates, key=lambda e: e.high)
    table = [outcome_row({"rule": r, "init": i}, runs, **{
        "median cell accuracy": float(runs.cell_accuracy.median()),
        "published": PUBLISHED.get((r, i), "—")}) for (r, i), runs in minimal.runs.items()]
    reference = next(iter(minimal.experiments.values()))
    conclude(decision, minimal.plan,
        f"the highest upper 95% bound of the four success rates is {worst.high:.3f} "
        f"({worst.name}: {worst.successes}/{worst.trials}), against the bound "
        f"{MINIMAL_RULE.bound} that 'usually fails' needs",
        estimates=estimates,
        protocol=protocol(reference, suite.seeds(n), rules="firner and conway",
                          initialisations="pytorch (uniform +-1/sqrt(fan_in)), keras (Glorot "
                                          "uniform, zero bias)"),
        table=table, figures=[rel])


def _corners_irrelevant() -> bool:
    """Under the firner rule, windows that agree on the 5 relevant cells agree on the next
    state: the truth table does not depend on the corners."""
    windows = local_configurations("conway")
    by_relevant: dict[tuple, set[int]] = {}
    for window, value in zip(windows, next_centre(windows, "firner"), strict=True):
        key = tuple(window[r, c] for r, c in get_rule("firner").relevant_cells)
        by_relevant.setdefault(key, set()).add(int(value))
    return len(by_relevant) == 32 and all(len(v) == 1 for v in by_relevant.values())


@BRUTE_FORCE
def test_gol_brute_force(suite, conclude, minimal):
    """Count the 3x3 configurations, and read the learned truth tables over exactly those."""
    distinct = len({w.tobytes() for w in local_configurations("conway")})
    relevant = len(local_configurations("firner", relevant_only=True))
    corner_free = _corners_irrelevant()
    runs = {rule: minimal.runs[(rule, "pytorch")] for rule in ("firner", "conway")}
    consistent = all(((r.table_errors == 0) == r.success).all() for r in runs.values())
    errors = {rule: r[~r.success].table_errors.to_numpy() for rule, r in runs.items()}
    right = distinct == 512 and relevant == 32 and corner_free
    decision = Decision("reproduced" if right and consistent else "refuted", "enumeration",
                        "2^9 = 512 and 2^5 = 32 windows; success iff the learned table is right "
                        "on every relevant window")
    rel = suite.plot("gol-brute-force", plot_histograms, {
        f"{r} rule (of {32 if r == 'firner' else 512})": e.astype(float)
        for r, e in errors.items() if len(e)}, "configurations a failed network gets wrong",
        "Learned one-step truth tables of failed minimal networks")
    table = [{"rule": r, "configurations": 32 if r == "firner" else 512,
              "failed networks": len(e),
              "wrong configurations (median)": float(np.median(e)) if len(e) else None,
              "min": int(e.min()) if len(e) else None, "max": int(e.max()) if len(e) else None,
              "failed with <= 2 wrong": int((e <= 2).sum())} for r, e in errors.items()]
    conclude(decision, BRUTE_FORCE.rule.at(minimal.n),
        f"{distinct} distinct 3x3 windows (2^9); {relevant} once the corners are ignored "
        f"(2^5), and the firner rule's truth table {'does not' if corner_free else 'does'} "
        f"depend on the corners; success equals a perfect truth table for "
        f"{'every' if consistent else 'not every'} trained network",
        estimates=[Estimate("distinct 3x3 windows", float(distinct)),
                   Estimate("windows without corners", float(relevant))],
        protocol=[{"setting": "trials", "value": f"GOL-MINIMAL-FAILS' runs with pytorch init, "
                                                 f"{minimal.n} seeds per rule"}],
        table=table, figures=[rel],
        notes="The post says brute force 'would take 2048 filters'; 2^9 is 512. A failed "
              "network's truth table is read at the centre of every 3x3 window.")
