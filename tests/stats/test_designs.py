"""lifetf.stats.designs: exact false-failure chances against brute force."""

from __future__ import annotations

import itertools
import math
import time

import pytest
from scipy import stats as sps

from lifetf import stats
from lifetf import stats as S
from lifetf.stats import designs as designs_module

# ---------------------------------------------------------------- designs


def _brute_bound_ff(n: int, p: float, bound: float, level: float, method: str, side: str):
    scipy_method = {"wilson": "wilson", "clopper-pearson": "exact"}[method]
    total = 0.0
    for k in range(n + 1):
        ci = sps.binomtest(k, n).proportion_ci(level, method=scipy_method)
        fails = ci.high >= bound if side == "upper" else ci.low <= bound
        if fails:
            total += math.comb(n, k) * p**k * (1 - p) ** (n - k)
    return total


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_design_upper_bound_brute_force(method: str) -> None:
    d = S.design_bound(40, 0.05, 0.25, method=method, p_alt=0.3, side="upper")
    assert d.trials == 40
    assert d.false_failure == pytest.approx(
        _brute_bound_ff(40, 0.05, 0.25, 0.95, method, "upper"), rel=1e-9, abs=1e-15
    )
    assert d.power == pytest.approx(_brute_bound_ff(40, 0.3, 0.25, 0.95, method, "upper"))
    assert 0 < d.false_failure < 0.05 and d.power > 0.5
    assert "40 trials" in str(d) and "below 0.25" in d.rule


def test_design_lower_bound_brute_force() -> None:
    d = S.design_bound(30, 0.9, 0.6, level=0.9, side="lower")
    assert d.false_failure == pytest.approx(
        _brute_bound_ff(30, 0.9, 0.6, 0.9, "wilson", "lower"), rel=1e-9, abs=1e-15
    )
    assert d.power is None and "above 0.6" in d.rule


def test_design_bound_bad_inputs() -> None:
    with pytest.raises(ValueError, match="bound=1.0"):
        S.design_bound(10, 0.1, 1.0, "upper")
    with pytest.raises(ValueError, match="p_true=-0.1"):
        S.design_bound(10, -0.1, 0.5, "lower")
    with pytest.raises(ValueError, match="trials=0"):
        S.design_bound(0, 0.1, 0.5, "upper")


def _brute_two_ff(n1, p1, n2, p2, alpha, func, alternative):
    total = 0.0
    for a in range(n1 + 1):
        for b in range(n2 + 1):
            if not func(a, n1, b, n2, alternative).p_value <= alpha:
                total += sps.binom.pmf(a, n1, p1) * sps.binom.pmf(b, n2, p2)
    return total


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_design_two_proportions_fisher_brute_force(alternative: str) -> None:
    p1, p2 = (0.8, 0.2) if alternative != "less" else (0.2, 0.8)
    d = S.design_two_proportions(7, p1, 9, p2, 0.05, alternative=alternative)
    ref = _brute_two_ff(7, p1, 9, p2, 0.05, S.fisher_two_proportions, alternative)
    assert d.false_failure == pytest.approx(ref, rel=1e-9)
    assert d.trials == 16


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_one_sided_fisher_p_values_of_every_table_are_scipys(alternative: str) -> None:
    """The vectorised tails give fisher_exact's p-value for every table, unequal samples too."""
    n1, n2 = 6, 11
    table = designs_module._two_sample_p_values(n1, n2, alternative)
    assert table.shape == (n1 + 1, n2 + 1) and not table.flags.writeable  # cached: read-only
    for a in range(n1 + 1):
        for b in range(n2 + 1):
            expected = sps.fisher_exact([[a, n1 - a], [b, n2 - b]], alternative=alternative)
            assert table[a, b] == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)


def test_design_two_proportions_fisher_fast_and_valid() -> None:
    start = time.perf_counter()
    d = S.design_two_proportions(64, 0.6, 64, 0.2, 1e-3, alt=(0.4, 0.4))
    assert time.perf_counter() - start < 2.0
    assert 0 < d.false_failure < 0.2
    # Fisher's test is exact, so under equal rates it rejects at most alpha of the time
    assert d.power is not None and d.power >= 1 - 1e-3


def _brute_trend_ff(n, p, alpha, scores=None):
    total = 0.0
    for x in itertools.product(*(range(m + 1) for m in n)):
        w = math.prod(sps.binom.pmf(k, m, q) for k, m, q in zip(x, n, p, strict=True))
        if not S.trend_test(x, n, scores, "increasing").p_value <= alpha:
            total += w
    return total


def test_design_trend_exact_brute_force() -> None:
    n, p = [3, 4, 3], [0.2, 0.5, 0.8]
    d = S.design_trend(n, p, 0.1, p_alt=[0.5, 0.5, 0.5])
    assert d.false_failure == pytest.approx(_brute_trend_ff(n, p, 0.1), rel=1e-9)
    assert d.power == pytest.approx(_brute_trend_ff(n, [0.5] * 3, 0.1), rel=1e-9)
    assert "exact enumeration" in d.rule and d.trials == 10
    scored = S.design_trend(n, p, 0.1, scores=[0, 1, 5])
    assert scored.false_failure == pytest.approx(_brute_trend_ff(n, p, 0.1, [0, 1, 5]))


def test_design_trend_monte_carlo_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    n, p = [6, 6, 6, 6], [0.2, 0.35, 0.5, 0.65]
    exact = S.design_trend(n, p, 0.05)
    monkeypatch.setattr(designs_module, "TREND_EXACT_MAX_CONFIGS", 10)
    mc = S.design_trend(n, p, 0.05)
    assert "Monte Carlo" in mc.rule and "s.e." in mc.effect
    se = math.sqrt(exact.false_failure * (1 - exact.false_failure) / 200_000)
    assert abs(mc.false_failure - exact.false_failure) < 5 * se
    assert S.design_trend(n, p, 0.05) == mc  # fixed seed: deterministic
    with pytest.raises(ValueError, match="draws=1000"):
        S.design_trend(n, p, 0.05, draws=1000)




def test_design_sign_test_matches_the_binomial() -> None:
    from scipy.stats import binom

    design = stats.design_sign_test(100, 0.75, 0.01)
    critical = 63  # smallest k with P(X >= k | 1/2) <= 0.01 for n = 100
    assert binom.sf(critical - 1, 100, 0.5) <= 0.01 < binom.sf(critical - 2, 100, 0.5)
    assert design.false_failure == pytest.approx(binom.cdf(critical - 1, 100, 0.75))


def test_design_rank_sum_falls_with_effect_and_size() -> None:
    weak = stats.design_rank_sum(20, 20, 0.75, 0.01, simulations=4000)
    strong = stats.design_rank_sum(20, 20, 0.95, 0.01, simulations=4000)
    large = stats.design_rank_sum(60, 60, 0.75, 0.01, simulations=4000)
    assert strong.false_failure < weak.false_failure
    assert large.false_failure < weak.false_failure
    split = stats.design_rank_sum(20, 20, 0.75, 0.01, tests=4, simulations=4000)
    assert split.false_failure > weak.false_failure


def test_design_rank_correlation() -> None:
    small = stats.design_rank_correlation(64, -0.5, 0.01)
    big = stats.design_rank_correlation(128, -0.5, 0.01)
    assert big.false_failure < small.false_failure < 0.1
    with pytest.raises(ValueError, match="rho"):
        stats.design_rank_correlation(64, 0.0, 0.01)
