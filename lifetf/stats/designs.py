"""Designs: how likely a claim's decision rule is to fail when the claim holds.

Each function gives the exact (or, where stated, simulated) chance that a rule fails at a
stated plausible effect (the "false-failure chance"), and the helpers below derive a claim's
number of trials from it. The claims keep it below 1e-3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import stats

from lifetf.stats.testing import (
    _ALTERNATIVES,
    _SCIPY_CI_METHOD,
    Alternative,
    Design,
    IntervalMethod,
    _ca_z,
    _check_choice,
    _check_open_unit,
    _check_prob,
    _count,
    _trend_arrays,
    _z_p_value,
    fisher_two_proportions,
    proportion_interval,
)

#: Largest product of (n_i + 1) that design_trend enumerates exactly; beyond it, Monte Carlo.
TREND_EXACT_MAX_CONFIGS = 2_000_000

__all__ = [
    "design_bound",
    "design_rank_correlation",
    "design_rank_sum",
    "design_sign_test",
    "design_trend",
    "design_two_proportions",
]




def design_sign_test(trials: int, p_alt: float, alpha: float) -> Design:
    """Exact false-failure chance of "a one-sided sign test (binomial, p0 = 1/2) rejects at alpha".

    The test counts the runs in which the claimed direction holds; false_failure is the chance
    that it does not reject when each run shows the direction with probability ``p_alt``.
    """
    n = _count(trials, "trials")
    p_alt = _check_open_unit(p_alt, "p_alt")
    alpha = _check_open_unit(alpha, "alpha")
    k = np.arange(n + 1)
    p_values = stats.binom.sf(k - 1, n, 0.5)  # P(X >= k) under the null
    rejecting = k[p_values <= alpha]
    critical = int(rejecting[0]) if rejecting.size else n + 1
    false_failure = float(stats.binom.cdf(critical - 1, n, p_alt))
    return Design(
        rule=f"one-sided sign test rejects at {alpha:g} (at least {critical} of {n} runs)",
        trials=n,
        false_failure=false_failure,
        power=None,
        effect=f"each run shows the direction with probability {p_alt:g}",
    )


def design_rank_sum(n1: int, n2: int, auc: float, alpha: float, tests: int = 1,
                    simulations: int = 20000) -> Design:
    """False-failure chance of "a one-sided Mann-Whitney test rejects at alpha / tests".

    The plausible effect is stated as the AUC, P(X > Y), of two normal samples that differ by a
    shift; the chance that the test does not reject is estimated from ``simulations`` seeded
    simulated data sets (scipy.stats.mannwhitneyu). With ``tests`` > 1 the level is Bonferroni-
    split and the chance is that of any of ``tests`` independent such tests failing.
    """
    n1, n2 = _count(n1, "n1"), _count(n2, "n2")
    auc = _check_open_unit(auc, "auc")
    alpha = _check_open_unit(alpha, "alpha")
    shift = math.sqrt(2.0) * stats.norm.ppf(auc)
    rng = np.random.default_rng(np.random.SeedSequence([n1, n2, 0xA0C]))
    x = rng.normal(shift, 1.0, (simulations, n1))
    y = rng.normal(0.0, 1.0, (simulations, n2))
    p_values = stats.mannwhitneyu(x, y, alternative="greater", axis=1).pvalue
    one = float(np.mean(p_values >= alpha / tests))
    false_failure = 1.0 - (1.0 - one) ** tests
    return Design(
        rule=f"one-sided Mann-Whitney test rejects at {alpha:g}"
             + (f" / {tests} (each of {tests} tests)" if tests > 1 else ""),
        trials=n1 + n2,
        false_failure=false_failure,
        power=None,
        effect=f"AUC {auc:g} (normal shift {shift:.2f} sd), {simulations} simulations",
    )


def design_rank_correlation(trials: int, rho: float, alpha: float) -> Design:
    """False-failure chance of "a one-sided Spearman test rejects at alpha" when the true
    correlation is ``rho`` (its sign gives the direction), from Fisher's z with the Spearman
    standard error 1.06 / sqrt(n - 3) (Fieller, Hartley and Pearson, 1957)."""
    n = _count(trials, "trials")
    if n < 4:
        raise ValueError(f"a rank-correlation design needs at least 4 trials, got {n}")
    if not -1.0 < rho < 1.0 or rho == 0:
        raise ValueError(f"rho must lie in (-1, 1) and not be 0, got {rho!r}")
    alpha = _check_open_unit(alpha, "alpha")
    se = 1.06 / math.sqrt(n - 3)
    z = abs(math.atanh(rho)) / se
    false_failure = float(stats.norm.cdf(stats.norm.ppf(1 - alpha) - z))
    return Design(
        rule=f"one-sided Spearman test ({'negative' if rho < 0 else 'positive'}) rejects at "
             f"{alpha:g}",
        trials=n,
        false_failure=false_failure,
        power=None,
        effect=f"true rank correlation {rho:g} (Fisher z approximation)",
    )


def _bound_design(
    trials: int,
    p_true: float,
    bound: float,
    level: float,
    method: str,
    p_alt: float | None,
    side: Literal["upper", "lower"],
) -> Design:
    """Exact false-failure of a confidence-bound rule by summing binomial pmf over failing k."""
    n = _count(trials, "trials")
    if n <= 0:
        raise ValueError(f"trials must be positive, got trials={n}")
    p_true = _check_prob(p_true, "p_true")
    bound = _check_open_unit(bound, "bound")
    level = _check_open_unit(level, "level")
    _check_choice(method, tuple(_SCIPY_CI_METHOD), "method")
    ks = np.arange(n + 1)
    if side == "upper":
        fails = np.array([proportion_interval(k, n, level, method).high >= bound for k in ks])
        rule = (
            f"pass iff the upper end of the {level:.0%} {method} interval of the success "
            f"proportion over {n} trials is below {bound}"
        )
    else:
        fails = np.array([proportion_interval(k, n, level, method).low <= bound for k in ks])
        rule = (
            f"pass iff the lower end of the {level:.0%} {method} interval of the success "
            f"proportion over {n} trials is above {bound}"
        )
    false_failure = float(stats.binom.pmf(ks[fails], n, p_true).sum())
    power = None
    effect = f"true success proportion {p_true}"
    if p_alt is not None:
        p_alt = _check_prob(p_alt, "p_alt")
        power = float(stats.binom.pmf(ks[fails], n, p_alt).sum())
        effect += f"; power at {p_alt}"
    return Design(
        rule=rule, trials=n, false_failure=min(false_failure, 1.0), power=power, effect=effect
    )


def design_bound(trials: int, p_true: float, bound: float, side: Literal["upper", "lower"],
                 level: float = 0.95, method: IntervalMethod = "wilson", *,
                 p_alt: float | None = None) -> Design:
    """Exact false-failure chance of "the rate's confidence bound on ``side`` is beyond bound":
    the upper bound below it, or the lower bound above it.

    false_failure = P(the rule fails | p = p_true), summed over all k in 0..trials; power (if
    p_alt is given) = P(rule fails | p = p_alt), i.e. a rate on the wrong side is caught.
    """
    _check_choice(side, ("upper", "lower"), "side")
    return _bound_design(trials, p_true, bound, level, method, p_alt, side)


@lru_cache(maxsize=64)
def _two_sample_p_values(n1: int, n2: int, alternative: str) -> np.ndarray:
    """Fisher p-values for every table (k1, k2), shape (n1 + 1, n2 + 1) (read-only: cached,
    since a claim's trial search asks for the same grids again and again)."""
    k1, k2 = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    if alternative != "two-sided":
        out = _one_sided_fisher(n1, n2, alternative == "greater")[k1 + k2, k1]
    else:
        out = np.empty(k1.shape)
        for a in range(n1 + 1):
            for b in range(n2 + 1):
                out[a, b] = fisher_two_proportions(a, n1, b, n2, alternative).p_value
    out.flags.writeable = False
    return out


def _one_sided_fisher(n1: int, n2: int, greater: bool) -> np.ndarray:
    """One-sided Fisher p-values table[t, k]: with t successes in all, k of them in the first
    sample, P(K >= k) (``greater``) or P(K <= k) under the hypergeometric law of K, as
    fisher_exact gives them. The tails are sums of pmf from the far end (small tails keep their
    precision), for all t at once: scipy's hypergeom.sf loops over its arguments in Python
    (0.1 s per 129 x 129 table)."""
    totals = np.arange(n1 + n2 + 1)[:, None]
    k = np.arange(n1 + 1)[None, :]
    pmf = stats.hypergeom.pmf(k, n1 + n2, totals, n1)  # zero outside each total's support
    if greater:
        return np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]
    return np.cumsum(pmf, axis=1)


def design_two_proportions(n1: int, p1: float, n2: int, p2: float, alpha: float,
                           alternative: Alternative = "greater", *,
                           alt: tuple[float, float] | None = None) -> Design:
    """Exact false-failure chance of "Fisher's test rejects p1 == p2 at alpha".

    Enumerates every table (k1, k2) with binomial weights: false_failure = P(p > alpha | p1, p2).
    power (if alt=(p1', p2') is given, e.g. equal rates) = P(no rejection | alt).
    """
    n1 = _count(n1, "n1")
    n2 = _count(n2, "n2")
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"n1 and n2 must be positive, got n1={n1}, n2={n2}")
    p1 = _check_prob(p1, "p1")
    p2 = _check_prob(p2, "p2")
    alpha = _check_open_unit(alpha, "alpha")
    _check_choice(alternative, _ALTERNATIVES, "alternative")
    not_reject = ~(_two_sample_p_values(n1, n2, alternative) <= alpha)

    def chance(q1: float, q2: float) -> float:
        w = np.outer(stats.binom.pmf(np.arange(n1 + 1), n1, q1),
                     stats.binom.pmf(np.arange(n2 + 1), n2, q2))
        return float(min(1.0, w[not_reject].sum()))

    power = None
    effect = f"p1={p1}, p2={p2}"
    if alt is not None:
        a1, a2 = (_check_prob(alt[0], "alt[0]"), _check_prob(alt[1], "alt[1]"))
        power = chance(a1, a2)
        effect += f"; power at p1={a1}, p2={a2}"
    rule = (
        f"pass iff Fisher's test ({alternative}) of {n1} vs {n2} trials rejects "
        f"p1 == p2 at alpha={alpha}"
    )
    return Design(
        rule=rule, trials=n1 + n2, false_failure=chance(p1, p2), power=power, effect=effect
    )


def _trend_reject_chance(
    n: np.ndarray,
    probs: Sequence[np.ndarray],
    sc: np.ndarray,
    alpha: float,
    draws: int,
    seed: int,
    exact_max: int,
) -> tuple[list[float], list[float | None], str]:
    """P(Cochran-Armitage increasing test rejects at alpha) for each probability vector.

    Exact enumeration of all success vectors when few enough, else Monte Carlo; returns the
    chances, their Monte-Carlo standard errors (None when exact) and the method name.
    """
    ni = n.astype(int)
    configs = math.prod(int(m) + 1 for m in ni)
    if configs <= exact_max:
        sx = np.zeros(1)
        r = np.zeros(1)
        weights = [np.ones(1) for _ in probs]
        for i, m in enumerate(ni):
            ks = np.arange(m + 1, dtype=float)
            sx = (sx[:, None] + sc[i] * ks[None, :]).ravel()
            r = (r[:, None] + ks[None, :]).ravel()
            weights = [
                (w[:, None] * stats.binom.pmf(ks, m, p[i])[None, :]).ravel()
                for w, p in zip(weights, probs, strict=True)
            ]
        z = _ca_z(sx, r, n, sc)
        reject = np.nan_to_num(_z_p_value(z, "increasing"), nan=1.0) <= alpha
        chances = [float(min(1.0, w[reject].sum())) for w in weights]
        return chances, [None] * len(probs), f"exact enumeration of {configs} outcomes"
    rng = np.random.default_rng(seed)
    chances: list[float] = []
    ses: list[float | None] = []
    for p in probs:
        x = rng.binomial(ni, p, size=(draws, len(ni))).astype(float)
        z = _ca_z(x @ sc, x.sum(axis=1), n, sc)
        reject = np.nan_to_num(_z_p_value(z, "increasing"), nan=1.0) <= alpha
        f = float(reject.mean())
        chances.append(f)
        ses.append(math.sqrt(f * (1.0 - f) / draws))
    return chances, ses, f"Monte Carlo with {draws} draws (numpy seed {seed})"


def design_trend(
    trials_per_setting: Sequence[int],
    p_true: Sequence[float],
    alpha: float,
    scores: Sequence[float] | None = None,
    *,
    p_alt: Sequence[float] | None = None,
    draws: int = 200_000,
    seed: int = 0,
) -> Design:
    """False-failure chance of "one-sided increasing Cochran-Armitage test rejects at alpha".

    false_failure = P(no rejection | p_true): exact enumeration when prod(n_i + 1) <= 2e6,
    else Monte Carlo (fixed seed, >= 200000 draws) with its standard error stated in `effect`.
    power (if p_alt is given, e.g. flat rates) = P(no rejection | p_alt).
    """
    def frozen(values: Sequence | None) -> tuple | None:
        return None if values is None else tuple(values)

    return _design_trend(frozen(trials_per_setting), frozen(p_true), alpha, frozen(scores),
                         frozen(p_alt), draws, seed, TREND_EXACT_MAX_CONFIGS)


@lru_cache(maxsize=1024)
def _design_trend(trials_per_setting: tuple, p_true: tuple, alpha: float,
                  scores: tuple | None, p_alt: tuple | None, draws: int, seed: int,
                  exact_max: int) -> Design:
    """:func:`design_trend` on hashable arguments, remembered: plans and claims ask for the
    same designs many times, and each costs an enumeration or 200000 draws."""
    alpha = _check_open_unit(alpha, "alpha")
    zeros = [0] * len(trials_per_setting)
    _, n, sc = _trend_arrays(zeros, trials_per_setting, scores)
    if len(p_true) != len(n):
        raise ValueError(f"p_true has length {len(p_true)}, expected {len(n)}")
    draws = _count(draws, "draws")
    if draws < 200_000:
        raise ValueError(f"draws must be at least 200000, got draws={draws}")
    probs = [np.array([_check_prob(p, "p_true") for p in p_true])]
    if p_alt is not None:
        if len(p_alt) != len(n):
            raise ValueError(f"p_alt has length {len(p_alt)}, expected {len(n)}")
        probs.append(np.array([_check_prob(p, "p_alt") for p in p_alt]))
    chances, ses, how = _trend_reject_chance(n, probs, sc, alpha, draws, seed, exact_max)
    misses = [1.0 - c for c in chances]

    def describe(label: str, p: np.ndarray, se: float | None) -> str:
        text = f"{label} {p.tolist()}"
        if se is None:
            return text
        if se == 0:  # all draws agreed: report the rule-of-three 95% margin instead
            return f"{text} (Monte-Carlo: all draws agreed, 95% margin {3 / draws:.1e})"
        return f"{text} (Monte-Carlo s.e. {se:.1e})"

    effect = describe("true rates", probs[0], ses[0])
    if p_alt is not None:
        effect += "; power at " + describe("rates", probs[1], ses[1])
    rule = (
        f"pass iff the one-sided (increasing) Cochran-Armitage test over settings with "
        f"{n.astype(int).tolist()} trials and scores {sc.tolist()} rejects at alpha={alpha}; "
        f"chances by {how}"
    )
    return Design(
        rule=rule,
        trials=int(n.sum()),
        false_failure=misses[0],
        power=misses[1] if p_alt is not None else None,
        effect=effect,
    )
