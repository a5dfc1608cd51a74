"""Tests for lifetf.stats: known values, test directions, exact design sums, bad inputs."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from scipy import stats as sps

from lifetf import stats
from lifetf import stats as S
from lifetf.stats import designs as designs_module

# ---------------------------------------------------------------- proportion_interval


@pytest.mark.parametrize("k", [0, 5])
def test_wilson_matches_scipy(k: int) -> None:
    iv = S.proportion_interval(k, 20)
    ref = sps.binomtest(k, 20).proportion_ci(0.95, method="wilson")
    assert iv.estimate == k / 20
    assert iv.low == pytest.approx(ref.low, abs=1e-12)
    assert iv.high == pytest.approx(ref.high, abs=1e-12)
    assert (iv.level, iv.method) == (0.95, "wilson")


def test_wilson_zero_successes_closed_form() -> None:
    z2 = sps.norm.isf(0.025) ** 2
    iv = S.proportion_interval(0, 20)
    assert iv.low == 0.0
    assert iv.high == pytest.approx(z2 / (20 + z2), rel=1e-9)


def test_clopper_pearson_zero_successes_closed_form() -> None:
    iv = S.proportion_interval(0, 20, level=0.9, method="clopper-pearson")
    assert iv.high == pytest.approx(1 - 0.05 ** (1 / 20), rel=1e-9)
    assert iv.method == "clopper-pearson"


def test_interval_str() -> None:
    assert str(S.proportion_interval(1, 20)) == "0.05 [0.01, 0.24]"


@pytest.mark.parametrize(
    ("args", "kwargs", "needle"),
    [
        ((0, 0), {}, "trials=0"),
        ((3, -2), {}, "trials=-2"),
        ((21, 20), {}, "successes=21"),
        ((-1, 20), {}, "successes=-1"),
        ((1.5, 20), {}, "1.5"),
        ((1, 20), {"level": 1.5}, "1.5"),
        ((1, 20), {"level": 0.0}, "level=0.0"),
        ((1, 20), {"method": "agresti"}, "agresti"),
    ],
)
def test_proportion_interval_bad_inputs(args, kwargs, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        S.proportion_interval(*args, **kwargs)


# ---------------------------------------------------------------- two proportions


def test_fisher_direction() -> None:
    greater = S.fisher_two_proportions(18, 20, 2, 20, "greater")
    assert greater.p_value < 1e-5
    assert greater.p_value == pytest.approx(
        sps.fisher_exact([[18, 2], [2, 18]], alternative="greater").pvalue
    )
    assert S.fisher_two_proportions(18, 20, 2, 20, "less").p_value > 0.999
    swapped = S.fisher_two_proportions(2, 20, 18, 20, "less")
    assert swapped.p_value == pytest.approx(greater.p_value)
    assert greater.statistic > 1 and greater.alternative == "greater"


def test_fisher_unequal_sizes_direction() -> None:
    assert S.fisher_two_proportions(9, 10, 5, 30, "greater").p_value < 1e-3
    assert S.fisher_two_proportions(9, 10, 5, 30, "less").p_value > 0.99
    assert S.fisher_two_proportions(5, 30, 9, 10, "less").p_value < 1e-3


def test_boschloo_direction() -> None:
    greater = S.boschloo_two_proportions(18, 20, 2, 20, "greater")
    assert greater.p_value < 1e-5
    assert S.boschloo_two_proportions(18, 20, 2, 20, "less").p_value > 0.99
    # unequal sample sizes pin down scipy's orientation (one sample per column)
    assert S.boschloo_two_proportions(9, 10, 5, 30, "greater").p_value < 1e-3
    assert S.boschloo_two_proportions(9, 10, 5, 30, "less").p_value > 0.99
    assert S.boschloo_two_proportions(5, 30, 9, 10, "less").p_value < 1e-3
    # Boschloo is at least as powerful as Fisher
    fisher = S.fisher_two_proportions(12, 20, 5, 20, "greater").p_value
    assert S.boschloo_two_proportions(12, 20, 5, 20, "greater").p_value <= fisher + 1e-12


def test_two_proportion_bad_inputs() -> None:
    with pytest.raises(ValueError, match="s1=11"):
        S.fisher_two_proportions(11, 10, 2, 10)
    with pytest.raises(ValueError, match="n2=0"):
        S.boschloo_two_proportions(1, 10, 0, 0)
    with pytest.raises(ValueError, match="bigger"):
        S.fisher_two_proportions(1, 10, 2, 10, "bigger")


# ---------------------------------------------------------------- trend tests


def test_trend_matches_r_prop_trend_test() -> None:
    # R: prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)): X-squared = 8.2249,
    # p-value = 0.004132
    res = S.trend_test([83, 90, 129, 70], [86, 93, 136, 82], [1, 2, 3, 4], "two-sided")
    assert res.statistic**2 == pytest.approx(8.2249, abs=1e-4)
    assert res.p_value == pytest.approx(0.004132, abs=1e-6)
    assert res.statistic < 0  # proportions fall


def test_trend_direction_and_scores() -> None:
    x, n = [1, 3, 6, 9], [10, 10, 10, 10]
    inc = S.trend_test(x, n, alternative="increasing")
    dec = S.trend_test(x, n, alternative="decreasing")
    two = S.trend_test(x, n, alternative="two-sided")
    assert inc.p_value < 1e-3
    assert dec.p_value > 0.999
    assert two.p_value == pytest.approx(2 * inc.p_value)
    affine = S.trend_test(x, n, scores=[10, 20, 30, 40])
    assert affine.statistic == pytest.approx(inc.statistic)


@pytest.mark.parametrize("x", [[0, 0, 0], [5, 5, 5]])
def test_trend_degenerate(x) -> None:
    for func in (S.trend_test, S.kendall_trend):
        res = func(x, [5, 5, 5])
        assert res.p_value == 1.0
        assert "degenerate" in res.detail


def test_trend_bad_inputs() -> None:
    with pytest.raises(ValueError, match="successes\\[1\\]=7"):
        S.trend_test([1, 7], [5, 5])
    with pytest.raises(ValueError, match="differ in length"):
        S.trend_test([1, 2], [5, 5, 5])
    with pytest.raises(ValueError, match="scores"):
        S.trend_test([1, 2], [5, 5], scores=[1, 1])
    with pytest.raises(ValueError, match="upward"):
        S.trend_test([1, 2], [5, 5], alternative="upward")


def test_kendall_trend_direction() -> None:
    x, n = [1, 3, 6, 9], [10, 10, 10, 10]
    inc = S.kendall_trend(x, n)
    assert inc.statistic > 0
    assert inc.p_value < 1e-3
    assert S.kendall_trend(x, n, alternative="decreasing").p_value > 0.999
    setting = np.repeat([0, 1, 2, 3], 10)
    outcome = np.concatenate([np.r_[np.ones(k), np.zeros(10 - k)] for k in x])
    ref = sps.kendalltau(setting, outcome, alternative="greater")
    assert inc.p_value == pytest.approx(ref.pvalue)


# ---------------------------------------------------------------- rank correlation, holm


@pytest.mark.parametrize("method", ["spearman", "kendall"])
def test_rank_correlation(method: str) -> None:
    x = [1, 2, 3, 4, 5, 6, 7, 8]
    y = [1.0, 2.5, 2.0, 4.0, 6.0, 5.0, 7.5, 9.0]
    up = S.rank_correlation(x, y, "greater", method=method)
    ref = (sps.spearmanr if method == "spearman" else sps.kendalltau)(
        x, y, alternative="greater"
    )
    assert up.statistic == pytest.approx(ref.statistic)
    assert up.p_value == pytest.approx(ref.pvalue)
    assert up.p_value < 0.01
    assert S.rank_correlation(x, y, "less", method=method).p_value > 0.99


def test_rank_correlation_bad_and_degenerate() -> None:
    with pytest.raises(ValueError, match="pearson"):
        S.rank_correlation([1, 2, 3], [1, 2, 3], method="pearson")
    with pytest.raises(ValueError, match="equal length"):
        S.rank_correlation([1, 2, 3], [1, 2])
    assert S.rank_correlation([1, 2, 3, 4], [2, 2, 2, 2]).p_value == 1.0


def test_holm_hand_example() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 -> 0.02, 0.03, 0.06, max(0.04, 0.06) = 0.06
    assert S.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert S.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # clipped to 1
    assert S.holm([]) == []
    assert S.holm([0.2]) == pytest.approx([0.2])


def test_holm_monotone_and_bad_input() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(size=12) ** 3
    adj = np.array(S.holm(p))
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= 0)
    assert np.all(adj >= p) and np.all(adj <= 1)
    with pytest.raises(ValueError, match="1.2"):
        S.holm([0.1, 1.2])


def test_binomial_upper_test() -> None:
    res = S.binomial_upper_test(0, 30, 0.1)
    assert res.alternative == "less"
    assert res.p_value == pytest.approx(0.9**30)
    assert res.statistic == 0.0
    assert S.binomial_upper_test(10, 30, 0.1, "greater").p_value < 1e-3
    with pytest.raises(ValueError, match="p0=1.5"):
        S.binomial_upper_test(1, 30, 1.5)


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
    d = S.design_upper_bound(40, 0.05, 0.25, method=method, p_alt=0.3)
    assert d.trials == 40
    assert d.false_failure == pytest.approx(
        _brute_bound_ff(40, 0.05, 0.25, 0.95, method, "upper"), rel=1e-9, abs=1e-15
    )
    assert d.power == pytest.approx(_brute_bound_ff(40, 0.3, 0.25, 0.95, method, "upper"))
    assert 0 < d.false_failure < 0.05 and d.power > 0.5
    assert "40 trials" in str(d) and "below 0.25" in d.rule


def test_design_lower_bound_brute_force() -> None:
    d = S.design_lower_bound(30, 0.9, 0.6, level=0.9)
    assert d.false_failure == pytest.approx(
        _brute_bound_ff(30, 0.9, 0.6, 0.9, "wilson", "lower"), rel=1e-9, abs=1e-15
    )
    assert d.power is None and "above 0.6" in d.rule


def test_design_bound_bad_inputs() -> None:
    with pytest.raises(ValueError, match="bound=1.0"):
        S.design_upper_bound(10, 0.1, 1.0)
    with pytest.raises(ValueError, match="p_true=-0.1"):
        S.design_lower_bound(10, -0.1, 0.5)
    with pytest.raises(ValueError, match="trials=0"):
        S.design_upper_bound(0, 0.1, 0.5)


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


def test_design_two_proportions_fisher_fast_and_valid() -> None:
    start = time.perf_counter()
    d = S.design_two_proportions(64, 0.6, 64, 0.2, 1e-3, alt=(0.4, 0.4))
    assert time.perf_counter() - start < 2.0
    assert 0 < d.false_failure < 0.2
    # Fisher's test is exact, so under equal rates it rejects at most alpha of the time
    assert d.power is not None and d.power >= 1 - 1e-3


def test_design_two_proportions_boschloo() -> None:
    d = S.design_two_proportions(5, 0.9, 5, 0.1, 0.05, test="boschloo")
    ref = _brute_two_ff(5, 0.9, 5, 0.1, 0.05, S.boschloo_two_proportions, "greater")
    assert d.false_failure == pytest.approx(ref, rel=1e-9)
    fisher = S.design_two_proportions(5, 0.9, 5, 0.1, 0.05)
    assert d.false_failure <= fisher.false_failure + 1e-12
    with pytest.raises(ValueError, match="n1=64"):
        S.design_two_proportions(64, 0.6, 64, 0.2, 1e-3, test="boschloo")
    with pytest.raises(ValueError, match="alpha=0"):
        S.design_two_proportions(5, 0.9, 5, 0.1, 0)


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


# ---------------------------------------------------------------- trials_for_*


def test_trials_for_upper_bound_satisfies_and_is_minimal() -> None:
    n = S.trials_for_upper_bound(0.02, 0.2, max_false_failure=1e-3)
    for m in range(n, n + 11):
        assert S.design_upper_bound(m, 0.02, 0.2).false_failure <= 1e-3
    # n - 1 was not chosen, so it must itself violate the bound
    assert S.design_upper_bound(n - 1, 0.02, 0.2).false_failure > 1e-3


def test_trials_for_lower_bound_satisfies_and_is_minimal() -> None:
    n = S.trials_for_lower_bound(0.9, 0.6, max_false_failure=1e-3)
    for m in range(n, n + 11):
        assert S.design_lower_bound(m, 0.9, 0.6).false_failure <= 1e-3
    assert S.design_lower_bound(n - 1, 0.9, 0.6).false_failure > 1e-3


def test_trials_for_unreachable() -> None:
    with pytest.raises(ValueError, match="max_trials=50"):
        S.trials_for_upper_bound(0.1, 0.2, max_trials=50)
    with pytest.raises(ValueError, match="p_true=0.3"):
        S.trials_for_upper_bound(0.3, 0.2)
    with pytest.raises(ValueError, match="p_true=0.5"):
        S.trials_for_lower_bound(0.5, 0.6)


# ---------------------------------------------------------------- best of k


def test_best_of_k_exact() -> None:
    outcomes = [True, False, False, False]
    assert S.best_of_k(outcomes, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2)
    assert S.best_of_k(outcomes, 4) == 1.0
    assert S.best_of_k([False] * 5, 3) == 0.0
    outcomes = [True, False, True, False, False, False, False]
    subsets = list(itertools.combinations(outcomes, 3))
    brute = sum(any(s) for s in subsets) / len(subsets)
    assert S.best_of_k(outcomes, 3) == pytest.approx(brute)


def test_best_of_k_expected_and_bad_inputs() -> None:
    assert S.best_of_k_expected(0.25, 2) == pytest.approx(0.4375)
    assert S.best_of_k_expected(0.0, 5) == 0.0
    with pytest.raises(ValueError, match="k=5"):
        S.best_of_k([True, False], 5)
    with pytest.raises(ValueError, match="k=0"):
        S.best_of_k_expected(0.5, 0)
    with pytest.raises(ValueError, match="p=2"):
        S.best_of_k_expected(2, 3)


def test_result_strings() -> None:
    res = S.fisher_two_proportions(18, 20, 2, 20, "greater")
    assert "fisher-exact" in str(res) and "greater" in str(res)
    d = S.design_upper_bound(20, 0.01, 0.3)
    assert str(d).startswith("20 trials: pass iff")


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
