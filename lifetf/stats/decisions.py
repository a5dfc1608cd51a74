"""The claims' decision rules, each with the plausible effect under which its claim holds.

A rule answers, for n trials (per arm or per setting): the chance that it fails although the
claim holds (:meth:`Rule.false_failure`, exact where a formula exists), the same chance by
plain simulation of the rule (:meth:`Rule.simulate`, which the unit tests hold the formula
to), a sentence for the report (:meth:`Rule.describe`), and the fewest trials among the one
list of CANDIDATES that keeps the chance at most RISK within a profile's cap (:meth:`Rule.plan`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sps

from lifetf.stats.designs import (
    design_bound,
    design_rank_correlation,
    design_rank_sum,
    design_sign_test,
    design_trend,
    design_two_proportions,
)
from lifetf.stats.testing import proportion_interval, trend_test

CANDIDATES = (16, 20, 24, 28, 32, 40, 48, 64, 80, 96, 128, 192, 256, 384, 512)
RISK = 1e-3  # the most a claim may fail when it holds


@dataclass(frozen=True)
class Plan:
    """Trials of a rule and its false-failure chance; ``powered`` is False when the profile's
    cap stopped the trials below what RISK needs (the verdict is then inconclusive by design)."""

    trials: int
    false_failure: float
    powered: bool
    design: str

    def __str__(self) -> str:
        return self.design


class Rule(ABC):
    """A decision rule with its plausible effect. ``exact`` says whether false_failure is the
    chance itself or (union bound over parts) an upper bound of it."""

    exact = True

    @abstractmethod
    def false_failure(self, n: int) -> float:
        """Chance that the rule fails with n trials when the claim holds as plausible."""

    @abstractmethod
    def simulate(self, n: int, rng: np.random.Generator, reps: int) -> float:
        """The same chance by simulating the rule ``reps`` times."""

    @abstractmethod
    def describe(self, n: int) -> str:
        """The rule and its plausible effect, in a sentence (n trials)."""

    def at(self, n: int) -> Plan:
        """The plan for a number of trials the data decided (e.g. the runs that failed); it is
        underpowered when that many trials leave a false-failure chance above RISK."""
        chance = self.false_failure(n) if n > 0 else 1.0
        text = f"{self.describe(n)}; false-failure chance {chance:.2e}"
        if chance > RISK:
            text += f" > {RISK:g}: underpowered, so inconclusive by design where it decides"
        return Plan(n, chance, chance <= RISK, text)

    def plan(self, cap: int | None = None, risk: float = RISK) -> Plan:
        """The fewest CANDIDATES trials (at most ``cap``) whose false-failure chance <= risk."""
        allowed = [n for n in CANDIDATES if cap is None or n <= cap] or [min(CANDIDATES)]
        for n in allowed:
            chance = self.false_failure(n)
            if chance <= risk:
                return Plan(n, chance, True, f"{self.describe(n)}; false-failure chance "
                                             f"{chance:.2e}")
        n = allowed[-1]
        return Plan(n, self.false_failure(n), False,
                    f"{self.describe(n)}; underpowered: at most {n} trials here, false-failure "
                    f"chance {self.false_failure(n):.2e} > {risk:g}, so inconclusive by design")


def _seeded(*words: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(words))))


@lru_cache(maxsize=256)
def _wilson_passes(n: int, bound: float, side: str, level: float) -> np.ndarray:
    """For k = 0..n successes: does the Wilson interval lie beyond ``bound`` on ``side``?"""
    ks = range(n + 1)
    if side == "upper":
        return np.array([proportion_interval(k, n, level).high < bound for k in ks])
    return np.array([proportion_interval(k, n, level).low > bound for k in ks])


@dataclass(frozen=True)
class BoundRule(Rule):
    """The Wilson interval of a rate lies below (``side='upper'``) or above (``'lower'``) a
    bound, in each of ``settings`` independent settings (union bound over settings)."""

    exact = False  # union bound over the parts

    plausible: float
    bound: float
    side: str = "lower"
    settings: int = 1
    level: float = 0.95

    def false_failure(self, n: int) -> float:
        one = design_bound(n, self.plausible, self.bound, self.side, self.level).false_failure
        return min(1.0, self.settings * one)

    def simulate(self, n, rng, reps):
        passes = _wilson_passes(n, self.bound, self.side, self.level)
        k = rng.binomial(n, self.plausible, (reps, self.settings))
        return float((~passes[k]).any(axis=1).mean())

    def describe(self, n):
        where = "upper end below" if self.side == "upper" else "lower end above"
        many = f" in each of {self.settings} settings" if self.settings > 1 else ""
        return (f"{n} trials{' per setting' if many else ''}: pass iff the {self.level:.0%} "
                f"Wilson interval's {where} {self.bound}{many}; plausible rate {self.plausible}")


@dataclass(frozen=True)
class TrendRule(Rule):
    """A one-sided Cochran-Armitage trend test over settings rejects at ``alpha``; ``rates``
    are the plausible rates in the direction claimed (increasing along the tuple)."""

    rates: tuple[float, ...]
    alpha: float

    def false_failure(self, n):
        return design_trend([n] * len(self.rates), list(self.rates), self.alpha).false_failure

    def simulate(self, n, rng, reps):
        k = rng.binomial(n, self.rates, (reps, len(self.rates)))
        trials = [n] * len(self.rates)
        return float(np.mean([trend_test(list(row), trials).p_value > self.alpha for row in k]))

    def describe(self, n):
        return (f"{n} trials per setting: one-sided Cochran-Armitage trend test at "
                f"{self.alpha:g}; plausible rates {list(self.rates)} in the claimed direction")


def best_of_k_passes(wins: int, n: int, k: int) -> bool:
    """Keeping the best of k helps: 1 - (1 - low)^k exceeds one run's upper bound (Wilson)."""
    interval = proportion_interval(wins, n)
    return 1 - (1 - interval.low) ** k > interval.high


@dataclass(frozen=True)
class BestOfKRule(Rule):
    """At some setting, best-of-k's lower bound beats one run's upper bound (rates per setting)."""

    rates: tuple[float, ...]
    k: int = 8

    def _fails_one(self, n: int, p: float) -> float:
        wins = np.arange(n + 1)
        failing = [not best_of_k_passes(int(w), n, self.k) for w in wins]
        return float(sps.binom.pmf(wins[failing], n, p).sum())

    def false_failure(self, n):
        return float(np.prod([self._fails_one(n, p) for p in self.rates]))

    def simulate(self, n, rng, reps):
        passes = np.array([best_of_k_passes(w, n, self.k) for w in range(n + 1)])
        wins = rng.binomial(n, self.rates, (reps, len(self.rates)))
        return float((~passes[wins].any(axis=1)).mean())

    def describe(self, n):
        return (f"{n} trials per setting: pass iff at some setting 1-(1-low)^{self.k} > high "
                f"(95% Wilson); plausible rates {[round(p, 3) for p in self.rates]}")


def _fisher_greater(k1: np.ndarray, k2: np.ndarray, n: int) -> np.ndarray:
    """One-sided Fisher p-values (first rate greater) for arrays of counts, both arms of n."""
    return sps.hypergeom.sf(k1 - 1, 2 * n, k1 + k2, n)


@dataclass(frozen=True)
class TwoProportionRule(Rule):
    """One-sided Fisher tests (first rate greater), each at ``alpha``, all must reject; the
    plausible rates are ``pairs`` of (first, second), one per comparison (union bound)."""

    exact = False  # union bound over the parts

    pairs: tuple[tuple[float, float], ...]
    alpha: float

    def false_failure(self, n):
        total = sum(design_two_proportions(n, p1, n, p2, self.alpha).false_failure
                    for p1, p2 in self.pairs)
        return min(1.0, total)

    def simulate(self, n, rng, reps):
        fails = np.zeros(reps, bool)
        for p1, p2 in self.pairs:
            k1, k2 = rng.binomial(n, p1, reps), rng.binomial(n, p2, reps)
            fails |= _fisher_greater(k1, k2, n) > self.alpha
        return float(fails.mean())

    def describe(self, n):
        tests = len(self.pairs)
        return (f"{n} trials per arm: {tests} one-sided Fisher test{'s' if tests > 1 else ''}"
                f" at {self.alpha:g} must reject; plausible rates "
                + ", ".join(f"{a} vs {b}" for a, b in self.pairs))


@dataclass(frozen=True)
class SignRule(Rule):
    """``tests`` one-sided sign tests over runs, each at alpha / tests (so Holm at alpha
    rejects all when each does); each run shows the direction with chance ``plausible``."""

    exact = False  # union bound over the parts

    plausible: float
    alpha: float
    tests: int = 1

    def false_failure(self, n):
        one = design_sign_test(n, self.plausible, self.alpha / self.tests).false_failure
        return min(1.0, self.tests * one)

    def simulate(self, n, rng, reps):
        k = rng.binomial(n, self.plausible, (reps, self.tests))
        return float((sps.binom.sf(k - 1, n, 0.5) > self.alpha / self.tests).any(axis=1).mean())

    def describe(self, n):
        many = f"each of {self.tests} " if self.tests > 1 else ""
        return (f"{n} runs: {many}one-sided sign test{'s' if self.tests > 1 else ''} at "
                f"{self.alpha:g}{f' / {self.tests}' if self.tests > 1 else ''}; each run shows "
                f"the direction with chance {self.plausible}")


@dataclass(frozen=True)
class RankCorrelationRule(Rule):
    """A one-sided Spearman test rejects at alpha; true rank correlation ``rho``."""

    exact = False  # Fisher z approximation, conservative here (checked by simulation)

    rho: float
    alpha: float

    def false_failure(self, n):
        return design_rank_correlation(n, self.rho, self.alpha).false_failure

    def simulate(self, n, rng, reps):
        r = 2 * math.sin(math.pi * self.rho / 6)  # Pearson r of a normal pair with this rho
        x = rng.standard_normal((reps, n))
        y = r * x + math.sqrt(1 - r * r) * rng.standard_normal((reps, n))
        rx = sps.rankdata(x, axis=1) - (n + 1) / 2
        ry = sps.rankdata(y, axis=1) - (n + 1) / 2
        rho = (rx * ry).sum(axis=1) / np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
        t = rho * np.sqrt((n - 2) / np.maximum(1 - rho * rho, 1e-12))  # scipy's spearmanr test
        p = sps.t.cdf(t, n - 2) if self.rho < 0 else sps.t.sf(t, n - 2)
        return float(np.mean(p > self.alpha))

    def describe(self, n):
        return (f"{n} runs: one-sided Spearman test at {self.alpha:g}; true rank correlation "
                f"{self.rho} (Fisher z approximation)")


@dataclass(frozen=True)
class RankSumRule(Rule):
    """``tests`` one-sided Mann-Whitney tests (n per group) at alpha / tests; AUC ``auc``."""

    auc: float
    alpha: float
    tests: int = 1

    def false_failure(self, n):
        return design_rank_sum(n, n, self.auc, self.alpha, self.tests).false_failure

    def simulate(self, n, rng, reps):
        shift = math.sqrt(2.0) * sps.norm.ppf(self.auc)
        x = rng.normal(shift, 1.0, (reps, self.tests, n))
        y = rng.normal(0.0, 1.0, (reps, self.tests, n))
        p = sps.mannwhitneyu(x, y, alternative="greater", axis=2).pvalue
        return float((p >= self.alpha / self.tests).any(axis=1).mean())

    def describe(self, n):
        return (f"{n} per group: {self.tests} one-sided Mann-Whitney tests at "
                f"{self.alpha:g} / {self.tests}; plausible AUC {self.auc} (simulated)")


@dataclass(frozen=True)
class ShrinkRule(Rule):
    """A ratio falls in significantly more than half the runs (one-sided sign test at alpha)
    and its median factor is at most ``factor``; each run's log factor ~ Normal(mean, sd)."""

    mean: float
    sd: float
    alpha: float
    factor: float
    exact = False  # union bound over the parts

    def false_failure(self, n):
        q_fall = sps.norm.cdf(-self.mean / self.sd)
        q_small = sps.norm.cdf((math.log(self.factor) - self.mean) / self.sd)
        k = np.arange(n + 1)
        misses = sps.binom.pmf(k[sps.binom.sf(k - 1, n, 0.5) >= self.alpha], n, q_fall).sum()
        return float(misses + sps.binom.cdf(n // 2, n, q_small))

    def simulate(self, n, rng, reps):
        logs = rng.normal(self.mean, self.sd, (reps, n))
        fell = (logs < 0).sum(axis=1)
        missed = sps.binom.sf(fell - 1, n, 0.5) >= self.alpha
        return float((missed | (np.exp(np.median(logs, axis=1)) > self.factor)).mean())

    def describe(self, n):
        return (f"{n} runs: sign test at {self.alpha:g} and median factor <= {self.factor}; "
                f"each run's log factor Normal({self.mean}, {self.sd})")


def concordance_rates(rate: float, concordance: float) -> tuple[float, float]:
    """P(second succeeds | first succeeds), P(second succeeds | first fails) for paired runs
    that both succeed at ``rate`` and agree with chance ``concordance``."""
    given_success = (concordance - 1 + 2 * rate) / (2 * rate)
    return given_success, rate * (1 - given_success) / (1 - rate)


@dataclass(frozen=True)
class ConcordanceRule(Rule):
    """Pairs sharing an initialisation agree beyond chance (permutation test at alpha, here
    its hypergeometric limit) and their agreement's upper 95% bound reaches ``determines``."""

    rate: float
    concordance: float
    alpha: float
    determines: float

    def false_failure(self, n):
        """Exact: every table of paired outcomes with its multinomial probability."""
        a_success, a_failure = concordance_rates(self.rate, self.concordance)
        cells = np.array([self.rate * a_success, self.rate * (1 - a_success),
                          (1 - self.rate) * a_failure, (1 - self.rate) * (1 - a_failure)])
        tables = np.array([(s, f, m, n - s - f - m) for s in range(n + 1)
                           for f in range(n + 1 - s) for m in range(n + 1 - s - f)])
        both, first_only, second_only, neither = tables.T
        first, second = both + first_only, both + second_only
        p = sps.hypergeom.sf(both - 1, n, second, first)
        passes = _wilson_passes(n, self.determines, "upper", 0.95)
        fails = (p > self.alpha) | passes[both + neither]
        weights = sps.multinomial.pmf(tables[fails], n, cells)
        return float(np.sum(weights))

    def simulate(self, n, rng, reps):
        a_success, a_failure = concordance_rates(self.rate, self.concordance)
        first = rng.random((reps, n)) < self.rate
        second = rng.random((reps, n)) < np.where(first, a_success, a_failure)
        agree = (first == second).sum(axis=1)
        both = (first & second).sum(axis=1)
        # the permutation null of agreement: #(both succeed) is hypergeometric
        p = sps.hypergeom.sf(both - 1, n, second.sum(axis=1), first.sum(axis=1))
        passes = _wilson_passes(n, self.determines, "upper", 0.95)
        return float(((p > self.alpha) | passes[agree]).mean())

    def describe(self, n):
        return (f"{n} pairs: agreement beyond chance (permutation test at {self.alpha:g}, "
                f"exact in its hypergeometric limit) and an upper 95% bound >= "
                f"{self.determines}; "
                f"plausible success rate {self.rate}, same-initialisation agreement "
                f"{self.concordance}")


@dataclass(frozen=True)
class PruneRule(Rule):
    """The L1 network is smaller in significantly more than half the seeds (sign test at
    alpha), and the Wilson lower bound of the share of its successes that survive pruning is
    above 1/2 (union bound over the two parts)."""

    exact = False  # union bound over the parts

    shrink: float
    success: float
    keep: float
    alpha: float

    def false_failure(self, n):
        sign = design_sign_test(n, self.shrink, self.alpha).false_failure
        keep = float(sps.binom.pmf(0, n, self.success))
        for s in range(1, n + 1):
            keep += float(sps.binom.pmf(s, n, self.success)) * design_bound(
                s, self.keep, 0.5, "lower").false_failure
        return min(1.0, sign + keep)

    def simulate(self, n, rng, reps):
        smaller = rng.binomial(n, self.shrink, reps)
        sign_fails = sps.binom.sf(smaller - 1, n, 0.5) > self.alpha
        worked = rng.binomial(n, self.success, reps)
        kept = rng.binomial(worked, self.keep)
        keep_fails = np.array([w == 0 or not _wilson_passes(int(w), 0.5, "lower", 0.95)[k]
                               for w, k in zip(worked, kept, strict=True)])
        return float((sign_fails | keep_fails).mean())

    def describe(self, n):
        return (f"{n} seeds: sign test at {self.alpha:g} (L1 smaller with chance "
                f"{self.shrink}) and Wilson lower bound of surviving successes > 0.5 (L1 "
                f"success {self.success}, pruning keeps a success with chance {self.keep})")


@dataclass(frozen=True)
class Deterministic(Rule):
    """A check without sampling: it fails only if the claim is false."""

    what: str

    def false_failure(self, n):
        return 0.0

    def simulate(self, n, rng, reps):
        return 0.0

    def describe(self, n):
        return f"deterministic: {self.what}"


def simulated(rule: Rule, n: int, reps: int, seed: int = 0) -> tuple[float, float]:
    """(simulated false-failure chance, its standard error) with a seeded generator."""
    chance = rule.simulate(n, _seeded(0x5111, seed, n), reps)
    return chance, math.sqrt(max(chance * (1 - chance), 1.0 / reps) / reps)
