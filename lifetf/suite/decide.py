"""Decision helpers: the recurring shapes of a claim's verdict, with the words for the report.

A :class:`Decision` carries the verdict and what the report says about it (the test and the
threshold in words, the p-value). The shapes: an interval against a bound
(:func:`against_bound`), one-sided tests for and against the claim at a level
(:func:`one_sided`), and the inconclusive verdict of an underpowered design (:func:`powered`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from lifetf import stats
from lifetf.stats.decisions import Plan
from lifetf.suite.verdict import Estimate


@dataclass(frozen=True)
class Decision:
    """A verdict with the test that decided it and its threshold, in words."""

    verdict: str
    test: str
    threshold: str
    p_value: float | None = None


def count_rate(name: str, wins: int, n: int) -> Estimate:
    """A proportion with its 95% Wilson interval and counts (nan when there are no trials)."""
    if n == 0:
        return Estimate(name, float("nan"), successes=0, trials=0)
    interval = stats.proportion_interval(wins, n, 0.95, "wilson")
    return Estimate(name, interval.estimate, interval.low, interval.high, wins, n)


def rate(name: str, rows: pd.DataFrame, column: str = "success") -> Estimate:
    """The share of rows where ``column`` holds, with its interval."""
    return count_rate(name, int(rows[column].sum()), len(rows))


def against_bound(estimates: list[Estimate] | Estimate, bound: float, above: bool = True,
                  test: str = "Wilson 95% interval") -> Decision:
    """The claim is that a rate lies above (``above``) or below ``bound`` in every estimate.

    Reproduced when every interval lies wholly on the claimed side, refuted when some interval
    lies wholly on the other, else inconclusive.
    """
    items = [estimates] if isinstance(estimates, Estimate) else list(estimates)
    for e in items:
        if e.low is None or e.high is None:
            raise ValueError(f"{e.name} has no interval to compare with {bound}")
    lows, highs = [e.low for e in items], [e.high for e in items]
    if above:
        verdict = ("reproduced" if min(lows) > bound else
                   "refuted" if any(h < bound for h in highs) else "inconclusive")
        words = (f"reproduced if the lower 95% bound{'s' if len(items) > 1 else ''} > {bound}; "
                 f"refuted if an upper bound < {bound}")
    else:
        verdict = ("reproduced" if max(highs) < bound else
                   "refuted" if any(low > bound for low in lows) else "inconclusive")
        words = (f"reproduced if every upper 95% bound < {bound}; refuted if a lower bound > "
                 f"{bound}")
    return Decision(verdict, test, words)


def one_sided(p_for: float, p_against: float, alpha: float, test: str,
              holds: bool = True, condition: str = "") -> Decision:
    """Reproduced when the test for the claim rejects at ``alpha`` (and ``holds``, a further
    condition named by ``condition``); refuted when the test against it does; else
    inconclusive."""
    if p_for < alpha and holds:
        verdict = "reproduced"
    elif p_against < alpha:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    words = (f"reproduced if p < {alpha:g}{' and ' + condition if condition else ''}; refuted "
             f"if the test in the other direction has p < {alpha:g}")
    return Decision(verdict, test, words, p_for)


def powered(decision: Decision, plan: Plan) -> Decision:
    """Inconclusive by design when the plan could not reach its false-failure target."""
    if plan.powered:
        return decision
    return replace(decision, verdict="inconclusive",
                   threshold=decision.threshold + "; inconclusive by design when underpowered")


def effect_or_margin(p_for: float, alpha: float, high: float, margin: float,
                     test: str) -> Decision:
    """Reproduced when the test for the claim rejects at ``alpha``; refuted when the upper
    confidence bound of the effect, ``high``, is below ``margin``, the least effect the claim
    implies; else inconclusive."""
    verdict = ("reproduced" if p_for < alpha else "refuted" if high < margin
               else "inconclusive")
    return Decision(verdict, test, f"reproduced if p < {alpha:g}; refuted if the effect's upper "
                                   f"95% bound < {margin}", p_for)


def sign_family(supporting: dict[str, int], contrary: dict[str, int], n: int, alpha: float,
                test: str, holds: bool = True, condition: str = "",
                ) -> tuple[Decision, dict[str, float]]:
    """Several parts of a claim, each counted over the same ``n`` networks or seeds.

    Each part gets a one-sided exact sign test for (``supporting``: how many show it) and
    against (``contrary``: how many show the opposite), Holm-adjusted within each direction.
    Reproduced when every part's test for rejects at ``alpha`` (and ``holds``, a further
    condition named by ``condition``); refuted when some part's test against does; else
    inconclusive. Returns the decision (its p-value: the largest adjusted p for) and the
    adjusted p-values for, by part.
    """
    if list(supporting) != list(contrary):
        raise ValueError(f"the parts for {list(supporting)} and against {list(contrary)} differ")
    raw = {side: [stats.binomial_upper_test(c, n, 0.5, "greater").p_value for c in counts.values()]
           for side, counts in (("for", supporting), ("against", contrary))}
    decision, adjusted = holm_family(raw["for"], raw["against"], alpha, test, holds, condition)
    return decision, dict(zip(supporting, adjusted, strict=True))


def holm_family(p_for: list[float], p_against: list[float], alpha: float, test: str,
                holds: bool = True, condition: str = "") -> tuple[Decision, list[float]]:
    """Several one-sided tests, each for a part of the claim and against it (raw p-values, the
    same parts in the same order), Holm-adjusted within each direction.

    Reproduced when every adjusted p for is at most ``alpha`` (and ``holds``, named by
    ``condition``); refuted when some adjusted p against is; else inconclusive. Returns the
    decision (its p-value: the largest adjusted p for) and the adjusted p-values for.
    """
    if len(p_for) != len(p_against) or not p_for:
        raise ValueError(f"need one test for and one against per part, got {len(p_for)} and "
                         f"{len(p_against)}")
    adjusted, against = stats.holm(p_for), stats.holm(p_against)
    verdict = ("reproduced" if max(adjusted) <= alpha and holds else
               "refuted" if min(against) <= alpha else "inconclusive")
    words = (f"reproduced if all {len(adjusted)} Holm-adjusted p <= {alpha:g}"
             f"{' and ' + condition if condition else ''}; refuted if some part's test in the "
             f"other direction has adjusted p <= {alpha:g}; else inconclusive")
    return Decision(verdict, test + f"; Holm over the {len(adjusted)}", words,
                    max(adjusted)), adjusted


def outcome_row(label: dict, runs: pd.DataFrame, **more) -> dict:
    """A results-table row for a set of runs: ``label``'s columns, successes k/n, the rate with
    its 95% Wilson interval, the mean match rate, then ``more``."""
    e = rate("", runs)
    return {**label, "successes": f"{e.successes}/{e.trials}", "rate [95% CI]": e.span(),
            "mean match rate": float(runs.match_rate.mean()), **more}


def sign_test(count: int, n: int, alpha: float, test: str, holds: bool = True,
              condition: str = "") -> Decision:
    """:func:`one_sided` with the exact sign test (binomial, p0 = 1/2) of ``count`` runs out of
    ``n`` showing the claimed direction, for and against."""
    p_for, p_against = (stats.binomial_upper_test(count, max(n, 1), 0.5, side).p_value
                        for side in ("greater", "less"))
    return one_sided(p_for, p_against, alpha, test, holds, condition)
