"""Tests for lifetf.stats: known values, test directions, exact design sums, bad inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as sps

from lifetf import stats as S

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


def test_two_proportion_bad_inputs() -> None:
    with pytest.raises(ValueError, match="s1=11"):
        S.fisher_two_proportions(11, 10, 2, 10)
    with pytest.raises(ValueError, match="n2=0"):
        S.fisher_two_proportions(1, 10, 0, 0)
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
    res = S.trend_test(x, [5, 5, 5])
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
    d = S.design_bound(20, 0.01, 0.3, "upper")
    assert str(d).startswith("20 trials: pass iff")


def test_agreement_test_matches_every_re_pairing() -> None:
    """The hypergeometric p-value and chance level equal those of all n! re-pairings."""
    first = np.array([1, 1, 1, 0, 0, 1], bool)
    second = np.array([1, 1, 0, 0, 1, 1], bool)
    result, chance = S.agreement_test(first, second)
    agreements = [float((first == second[list(order)]).mean())
                  for order in itertools.permutations(range(len(first)))]
    assert result.statistic == pytest.approx((first == second).mean())
    at_least = np.array(agreements) >= result.statistic - 1e-12
    assert result.p_value == pytest.approx(np.mean(at_least))
    assert chance == pytest.approx(np.mean(agreements))
    with pytest.raises(ValueError, match="equally long"):
        S.agreement_test([True], [True, False])


@pytest.mark.parametrize("counts, expected", [((56, 70, 48, 80), (0.0524, 0.3339)),
                                              ((9, 10, 3, 10), (0.1705, 0.8090))])
def test_newcombe_difference_matches_newcombe_1998(counts, expected) -> None:
    """Newcombe (1998), Stat. Med. 17:873, table II, method 10 (score, no continuity)."""
    interval = S.difference_interval(*counts)
    assert (interval.low, interval.high) == pytest.approx(expected, abs=1e-4)
    boot = S.difference_interval(*counts, method="bootstrap")
    assert boot.low < interval.estimate < boot.high


def test_permutation_test_of_perfectly_paired_runs() -> None:
    a = np.arange(8.0)
    result, chance = S.permutation_test(a, a.copy(), lambda x, y: float(np.mean(x == y)),
                                        np.random.default_rng(0), permutations=2000)
    assert result.statistic == 1.0
    assert result.p_value < 0.01  # a full match comes by chance with probability 1/8!
    assert chance == pytest.approx(1 / 8, abs=0.02)  # expected fixed points of a permutation
