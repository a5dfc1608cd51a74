"""Intervals and tests: thin named wrappers over scipy.stats.

Every function is pure (no hidden state) and returns a small frozen dataclass with the estimate
and its interval or the statistic and its p-value, in the spirit of rliable's metrics.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import special, stats

__all__ = [
    "Interval",
    "TestResult",
    "Design",
    "proportion_interval",
    "fisher_two_proportions",
    "trend_test",
    "rank_correlation",
    "holm",
    "binomial_upper_test",
    "best_of_k",
    "difference_interval",
    "agreement_test",
    "permutation_test",
    "best_of_k_expected",
]

IntervalMethod = Literal["wilson", "clopper-pearson"]
Alternative = Literal["two-sided", "greater", "less"]
TrendAlternative = Literal["increasing", "decreasing", "two-sided"]

_SCIPY_CI_METHOD = {"wilson": "wilson", "clopper-pearson": "exact"}
_ALTERNATIVES = ("two-sided", "greater", "less")
_TREND_TO_SCIPY = {"increasing": "greater", "decreasing": "less", "two-sided": "two-sided"}


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    """Two decimals, switching to scientific notation for tiny non-zero values."""
    if x == 0 or abs(x) >= 0.005 or not math.isfinite(x):
        return f"{x:.2f}"
    return f"{x:.1e}"


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval at confidence `level`."""

    estimate: float
    low: float
    high: float
    level: float
    method: str

    def __str__(self) -> str:
        return f"{_fmt(self.estimate)} [{_fmt(self.low)}, {_fmt(self.high)}]"


@dataclass(frozen=True)
class TestResult:
    """Outcome of a named hypothesis test: statistic, p-value and the alternative tested."""

    __test__ = False  # not a pytest test class

    name: str
    statistic: float
    p_value: float
    alternative: str
    detail: str = ""

    def __str__(self) -> str:
        extra = f"; {self.detail}" if self.detail else ""
        return (
            f"{self.name} ({self.alternative}): statistic={self.statistic:.4g}, "
            f"p={self.p_value:.3g}{extra}"
        )


@dataclass(frozen=True)
class Design:
    """A test design: its pass rule, trial count, false-failure chance and optional power."""

    rule: str
    trials: int
    false_failure: float
    power: float | None
    effect: str

    def __str__(self) -> str:
        power = "" if self.power is None else f", power {self.power:.3f}"
        return (
            f"{self.trials} trials: {self.rule}; false-failure {self.false_failure:.2e}"
            f"{power} (assuming {self.effect})"
        )


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _count(value: object, name: str) -> int:
    """Coerce an integral value (int, numpy int, integral float) to int, else ValueError."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    raise ValueError(f"{name} must be an integer, got {value!r}")


def _check_counts(
    successes: object, trials: object, s_name: str = "successes", n_name: str = "trials"
) -> tuple[int, int]:
    """Validate 0 <= successes <= trials with trials > 0 and return them as ints."""
    n = _count(trials, n_name)
    if n <= 0:
        raise ValueError(f"{n_name} must be positive, got {n_name}={n}")
    s = _count(successes, s_name)
    if not 0 <= s <= n:
        raise ValueError(f"{s_name} must lie in [0, {n_name}={n}], got {s_name}={s}")
    return s, n


def _check_open_unit(value: float, name: str) -> float:
    """Validate 0 < value < 1 (levels, alphas, bounds)."""
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {name}={value!r}")
    return v


def _check_prob(value: float, name: str) -> float:
    """Validate 0 <= value <= 1 (true success proportions)."""
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {name}={value!r}")
    return v


def _check_choice(value: str, choices: Sequence[str], name: str) -> str:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {list(choices)}")
    return value


# --------------------------------------------------------------------------------------------
# Intervals and tests
# --------------------------------------------------------------------------------------------


def proportion_interval(
    successes: int, trials: int, level: float = 0.95, method: IntervalMethod = "wilson"
) -> Interval:
    """Confidence interval for a binomial success proportion (Wilson or Clopper-Pearson).

    Wraps scipy.stats.binomtest(...).proportion_ci; Wilson is the default (good coverage,
    never degenerate at 0 or n successes), Clopper-Pearson is the conservative exact choice.
    """
    s, n = _check_counts(successes, trials)
    level = _check_open_unit(level, "level")
    _check_choice(method, tuple(_SCIPY_CI_METHOD), "method")
    low, high = _proportion_bounds(s, n, level, method)
    return Interval(estimate=s / n, low=low, high=high, level=level, method=method)


@lru_cache(maxsize=2**16)
def _proportion_bounds(s: int, n: int, level: float, method: str) -> tuple[float, float]:
    """scipy's interval ends, remembered: the designs ask for the same ones thousands of times
    (every k of every trial count they consider)."""
    ci = stats.binomtest(s, n).proportion_ci(confidence_level=level,
                                             method=_SCIPY_CI_METHOD[method])
    return float(ci.low), float(ci.high)


def _two_by_two(s1: int, n1: int, s2: int, n2: int) -> list[list[int]]:
    """2x2 table with one column per sample: [[s1, s2], [n1 - s1, n2 - s2]] (scipy's layout)."""
    a, m = _check_counts(s1, n1, "s1", "n1")
    b, k = _check_counts(s2, n2, "s2", "n2")
    return [[a, b], [m - a, k - b]]


def fisher_two_proportions(
    s1: int, n1: int, s2: int, n2: int, alternative: Alternative = "two-sided"
) -> TestResult:
    """Fisher's exact test of p1 == p2 for two binomial samples; "greater" means p1 > p2.

    Conditional on both margins, so conservative.
    """
    _check_choice(alternative, _ALTERNATIVES, "alternative")
    table = _two_by_two(s1, n1, s2, n2)
    res = stats.fisher_exact(table, alternative=alternative)
    return TestResult(
        name="fisher-exact",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        alternative=alternative,
        detail=f"{s1}/{n1} vs {s2}/{n2}; statistic is the sample odds ratio",
    )


def _trend_arrays(
    successes: Sequence[int], trials: Sequence[int], scores: Sequence[float] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the per-setting counts and scores of a trend test and return numpy arrays."""
    if len(successes) != len(trials):
        raise ValueError(
            f"successes and trials differ in length: {len(successes)} != {len(trials)}"
        )
    if len(trials) < 2:
        raise ValueError(f"a trend needs at least 2 settings, got {len(trials)}")
    pairs = [
        _check_counts(s, n, f"successes[{i}]", f"trials[{i}]")
        for i, (s, n) in enumerate(zip(successes, trials, strict=True))
    ]
    x = np.array([p[0] for p in pairs], dtype=float)
    n = np.array([p[1] for p in pairs], dtype=float)
    if scores is None:
        sc = np.arange(len(n), dtype=float)
    else:
        if len(scores) != len(n):
            raise ValueError(f"scores has length {len(scores)}, expected {len(n)}")
        sc = np.asarray(scores, dtype=float)
        if not np.all(np.isfinite(sc)):
            raise ValueError(f"scores must be finite, got {list(scores)}")
    if np.ptp(sc) == 0:
        raise ValueError(f"scores must not all be equal, got {sc.tolist()}")
    return x, n, sc


def _ca_z(sx: np.ndarray | float, r: np.ndarray | float, n: np.ndarray, sc: np.ndarray):
    """Cochran-Armitage z from sum(score*x) and total successes r; nan where r is 0 or N."""
    total = n.sum()
    sbar = float((n * sc).sum() / total)
    ssd = float((n * (sc - sbar) ** 2).sum())
    pbar = np.asarray(r, dtype=float) / total
    var = pbar * (1.0 - pbar) * ssd
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.asarray(sx, dtype=float) - np.asarray(r, dtype=float) * sbar) / np.sqrt(var)
    return np.where(var > 0, z, np.nan)


def _z_p_value(z: np.ndarray | float, alternative: str):
    """Normal p-value of z for increasing / decreasing / two-sided alternatives."""
    if alternative == "increasing":
        return stats.norm.sf(z)
    if alternative == "decreasing":
        return stats.norm.cdf(z)
    return 2.0 * stats.norm.sf(np.abs(z))


def trend_test(
    successes: Sequence[int],
    trials: Sequence[int],
    scores: Sequence[float] | None = None,
    alternative: TrendAlternative = "increasing",
) -> TestResult:
    """Cochran-Armitage test for a monotone trend of a success proportion across settings.

    z = sum_i s_i (x_i - n_i p) / sqrt(p (1 - p) sum_i n_i (s_i - s_bar)^2), p the pooled rate,
    s_i the setting scores (default 0, 1, 2, ...); the p-value uses the normal approximation
    (scipy.stats.norm), as in R's prop.trend.test (z**2 is its chi-squared). With few trials the
    approximation can be off in the tail: check the design with design_trend. If every setting
    has 0 successes (or every trial succeeded) there is no variance and no evidence either way:
    the p-value is 1.0 and `detail` says so.
    """
    _check_choice(alternative, tuple(_TREND_TO_SCIPY), "alternative")
    x, n, sc = _trend_arrays(successes, trials, scores)
    r = x.sum()
    if r == 0 or r == n.sum():
        what = "no successes" if r == 0 else "only successes"
        return TestResult(
            name="cochran-armitage",
            statistic=0.0,
            p_value=1.0,
            alternative=alternative,
            detail=f"degenerate: {what} in all settings, no variance, p-value set to 1",
        )
    z = float(_ca_z(float((sc * x).sum()), r, n, sc))
    return TestResult(
        name="cochran-armitage",
        statistic=z,
        p_value=float(_z_p_value(z, alternative)),
        alternative=alternative,
        detail="z statistic, normal approximation",
    )


def rank_correlation(
    x: Sequence[float],
    y: Sequence[float],
    alternative: Alternative = "two-sided",
    method: Literal["spearman", "kendall"] = "spearman",
) -> TestResult:
    """Spearman rho or Kendall tau-b rank correlation test ("greater" = positive association).

    Constant input has no ranks to correlate: the p-value is 1.0 and `detail` says so.
    """
    _check_choice(alternative, _ALTERNATIVES, "alternative")
    _check_choice(method, ("spearman", "kendall"), "method")
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got {xa.shape} and {ya.shape}")
    if len(xa) < 3:
        raise ValueError(f"need at least 3 pairs for a rank correlation, got {len(xa)}")
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return TestResult(
            name=method,
            statistic=0.0,
            p_value=1.0,
            alternative=alternative,
            detail="degenerate: constant input, p-value set to 1",
        )
    if method == "spearman":
        res = stats.spearmanr(xa, ya, alternative=alternative)
    else:
        res = stats.kendalltau(xa, ya, method="auto", alternative=alternative)
    return TestResult(
        name=method,
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        alternative=alternative,
        detail=f"n={len(xa)}",
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control), in the input order.

    adjusted p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)) over the ascending p-values.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    if p.size == 0:
        return []
    bad = p[~((p >= 0) & (p <= 1))]
    if bad.size:
        raise ValueError(f"p-values must lie in [0, 1], got {bad[0]!r}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted.tolist()


def binomial_upper_test(
    successes: int, trials: int, p0: float, alternative: Alternative = "less"
) -> TestResult:
    """Exact binomial test of p == p0 (default alternative p < p0: "rate is below p0").

    Wraps scipy.stats.binomtest; the statistic is the observed proportion.
    """
    s, n = _check_counts(successes, trials)
    p0 = _check_prob(p0, "p0")
    _check_choice(alternative, _ALTERNATIVES, "alternative")
    res = stats.binomtest(s, n, p0, alternative=alternative)
    return TestResult(
        name="binomial-exact",
        statistic=s / n,
        p_value=float(res.pvalue),
        alternative=alternative,
        detail=f"{s}/{n} vs p0={p0}",
    )


# --------------------------------------------------------------------------------------------
# Best-of-k
# --------------------------------------------------------------------------------------------


def best_of_k(outcomes: Sequence[bool], k: int) -> float:
    """Exact expected success of "train k runs, keep any success", from n observed runs.

    Draws k of the n runs without replacement: 1 - C(n - s, k) / C(n, k), s the successes.
    """
    n = len(outcomes)
    k = _count(k, "k")
    if not 1 <= k <= n:
        raise ValueError(f"k must lie in [1, {n}] (number of outcomes), got k={k}")
    s = sum(bool(o) for o in outcomes)
    return 1.0 - special.comb(n - s, k, exact=True) / special.comb(n, k, exact=True)


def best_of_k_expected(p: float, k: int) -> float:
    """Chance that at least one of k independent runs succeeds at rate p: 1 - (1 - p)**k."""
    p = _check_prob(p, "p")
    k = _count(k, "k")
    if k < 1:
        raise ValueError(f"k must be >= 1, got k={k}")
    return 1.0 - (1.0 - p) ** k


# --------------------------------------------------------------------------------------------
# Difference of two proportions
# --------------------------------------------------------------------------------------------


def difference_interval(
    wins_a: int, n_a: int, wins_b: int, n_b: int, level: float = 0.95,
    method: Literal["newcombe", "bootstrap"] = "newcombe", seed: int = 0,
) -> Interval:
    """Interval of p_a - p_b: Newcombe's hybrid score interval (from the two Wilson intervals),
    or a percentile bootstrap (scipy.stats.bootstrap, 9999 resamples, seeded)."""
    _check_counts(wins_a, n_a)
    _check_counts(wins_b, n_b)
    level = _check_open_unit(level, "level")
    _check_choice(method, ("newcombe", "bootstrap"), "method")
    estimate = wins_a / n_a - wins_b / n_b
    if method == "newcombe":
        a = proportion_interval(wins_a, n_a, level)
        b = proportion_interval(wins_b, n_b, level)
        low = estimate - math.hypot(a.estimate - a.low, b.high - b.estimate)
        high = estimate + math.hypot(a.high - a.estimate, b.estimate - b.low)
        return Interval(estimate, low, high, level, "newcombe")
    a = np.r_[np.ones(wins_a), np.zeros(n_a - wins_a)]
    b = np.r_[np.ones(wins_b), np.zeros(n_b - wins_b)]
    if a.std() == 0 and b.std() == 0:
        return Interval(estimate, estimate, estimate, level, "bootstrap")
    result = stats.bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis) - y.mean(axis),
                             n_resamples=9999, method="percentile", confidence_level=level,
                             random_state=seed, vectorized=True)
    interval = result.confidence_interval
    return Interval(estimate, float(interval.low), float(interval.high), level, "bootstrap")


# --------------------------------------------------------------------------------------------
# Permutation tests of paired runs
# --------------------------------------------------------------------------------------------


def agreement_test(first: Sequence[bool], second: Sequence[bool]) -> tuple[TestResult, float]:
    """Do paired binary outcomes agree more often than if the pairing were random?

    Exact: under random re-pairing the number of pairs where both are true is hypergeometric,
    and the agreements are that number times two plus a constant. The statistic is the share of
    agreeing pairs. Returns the one-sided test and the share expected under random pairing.
    """
    a, b = np.asarray(first, bool), np.asarray(second, bool)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"first and second must be equally long 1-D sequences, got shapes "
                         f"{a.shape} and {b.shape}")
    n, both = a.size, int((a & b).sum())
    p_value = float(stats.hypergeom.sf(both - 1, n, int(b.sum()), int(a.sum())))
    chance = (a.sum() * b.sum() + (n - a.sum()) * (n - b.sum())) / n**2
    return (TestResult("exact permutation (hypergeometric)", float((a == b).mean()), p_value,
                       "greater", f"agreement under random pairing {chance:.3f}"), float(chance))


def permutation_test(
    a: np.ndarray, b: np.ndarray, statistic: Callable[[np.ndarray, np.ndarray], float],
    rng: np.random.Generator, permutations: int = 20000,
) -> tuple[TestResult, float]:
    """``statistic(a, b)`` of runs paired by index against random re-pairings of b.

    Returns the one-sided test (larger than by chance; p-value (1 + #null >= observed) /
    (1 + permutations)) and the mean of the null: the statistic's value by chance.
    """
    observed = statistic(a, b)
    null = np.array([statistic(a, b[rng.permutation(len(b))]) for _ in range(permutations)])
    p_value = (1 + int((null >= observed - 1e-12).sum())) / (1 + permutations)
    return (TestResult("permutation", float(observed), p_value, "greater",
                       f"{permutations} random re-pairings"), float(null.mean()))

