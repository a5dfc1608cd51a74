"""REG-PRUNE: an L1 penalty forces parameters to zero so the network can be pruned. Lambda and
the threshold were chosen on pilot seeds 10000-10047, which no claim uses."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lifetf import stats
from lifetf.analysis.prune import HAND_BUILT_NONZERO, MINIMAL_PARAMS, Pruning, pruned_scores
from lifetf.stats.decisions import PruneRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import Decision, count_rate
from lifetf.suite.plots import save_figure
from lifetf.suite.protocol import protocol
from lifetf.suite.verdict import Estimate, quartiles

L1 = 1e-3  # lambda times the sum of |kernel| added to each member's loss
THRESHOLDS = (0.0, 1e-3, 1e-2, 0.05, 0.1, 0.2)  # 0: unpruned
AT = 0.05  # the pre-stated threshold of the verdict, far above Adam's jitter (about 1e-3)
SHRINK = 0.75  # "smaller": at most 3/4 of the no-L1 network's effective parameters
ALPHA = 0.01
NAMES = ("no L1", f"L1 {L1:g}")


def _arms(suite) -> dict:
    base = suite.profile.sweep.replace(width=CLAIM.size(suite.profile, "width"), steps=1)
    return {NAMES[0]: base, NAMES[1]: base.replace(l1=L1)}


CLAIM = Claim(
    "REG-PRUNE", "D", "An L1 penalty forces parameters to zero so the network can be pruned.",
    "000_99adcdd6275fb052.txt",
    "apply something like L1 or L2 loss to force some parameters to 0 and then prune them after "
    "training so that the end result is a smaller network", expected={"quick": "reproduced"},
    # L1 smaller in 90% of seeds, L1 success 0.5, pruning keeps a success with chance 0.95
    rule=PruneRule(0.9, 0.5, 0.95, ALPHA),
    sizes={"quick": {"width": 4}, "paper": {"width": 5}},  # post 1's tricks run: m = 5
    arms=lambda suite: list(_arms(suite).values()),
)


def _figure(scores: dict, n: int, width: int, path) -> None:
    """Success rate (95% Wilson) and effective parameters (median, quartiles) per threshold."""
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    fig.suptitle(f"Magnitude pruning of width-{width} one-step networks ({n} seeds per arm)")
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    x = np.arange(len(THRESHOLDS))
    for i, name in enumerate(NAMES):
        ivs = [stats.proportion_interval(int(scores[(name, t)]["success"].sum()), n)
               for t in THRESHOLDS]
        est = np.array([iv.estimate for iv in ivs])
        err = np.array([est - [iv.low for iv in ivs], [iv.high for iv in ivs] - est])
        left.errorbar(x + 0.05 * i, est, yerr=np.clip(err, 0, None), marker="o", capsize=3,
                      color=f"C{i}", label=name)
        sizes = np.stack([scores[(name, t)]["effective"] for t in THRESHOLDS], axis=1)
        q1, q2, q3 = np.quantile(sizes, [0.25, 0.5, 0.75], axis=0)
        right.plot(x, q2, marker="o", color=f"C{i}", label=f"{name} (median, quartiles)")
        right.fill_between(x, q1, q3, color=f"C{i}", alpha=0.2)
    right.axhline(MINIMAL_PARAMS, color="black", linestyle="--", linewidth=1,
                  label=f"minimal network ({MINIMAL_PARAMS})")
    for ax, ylabel in ((left, "success rate (all 1000 boards)"), (right, "effective parameters")):
        ax.set_xticks(x, ["none" if t == 0 else f"{t:g}" for t in THRESHOLDS])
        ax.set(xlabel="pruning threshold |w| <", ylabel=ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    save_figure(fig, path)


@CLAIM
def test_reg_prune(suite, conclude):
    """Overcomplete networks with and without L1, pruned by magnitude at several thresholds."""
    (plan, n, seeds), arms = suite.planned(CLAIM), _arms(suite)
    runs = {name: suite.rows(e, seeds) for name, e in arms.items()}
    scores = {(name, t): pruned_scores(arms[name], list(runs[name].weights), Pruning(t))
              for name in arms for t in THRESHOLDS}
    at = {name: scores[(name, AT)] for name in arms}
    smaller = int((at[NAMES[1]]["effective"] <= SHRINK * at[NAMES[0]]["effective"]).sum())
    worked = runs[NAMES[1]].success.to_numpy(bool)
    kept = count_rate(f"L1 networks still succeeding after pruning at {AT}",
                      int((worked & at[NAMES[1]]["success"]).sum()), int(worked.sum()))
    sign = stats.binomial_upper_test(smaller, n, 0.5, "greater").p_value
    against = stats.binomial_upper_test(smaller, n, 0.5, "less").p_value
    verdict = ("reproduced" if sign <= ALPHA and kept.trials and kept.low > 0.5 else
               "refuted" if against <= ALPHA or (kept.trials and kept.high < 0.5) else
               "inconclusive")
    decision = Decision(verdict, f"one-sided exact sign test over seeds (same initial weights "
                                 f"and boards in both arms): the L1 network pruned at |w| < {AT} "
                                 f"has at most {SHRINK} times the effective parameters of the "
                                 f"no-L1 network pruned alike; Wilson interval of the share of "
                                 f"successful L1 networks that still succeed after pruning",
                        f"reproduced if the sign test's p <= {ALPHA} and the share's lower bound "
                        f"> 0.5; refuted if the L1 network is that much smaller in significantly "
                        f"fewer than half the seeds or the share's upper bound < 0.5", sign)
    working = at[NAMES[1]]["effective"][at[NAMES[1]]["success"]]
    smallest = int(working.min()) if working.size else None
    med = {name: float(np.median(at[name]["effective"])) for name in arms}
    rel = suite.plot("reg-prune", _figure, scores, n, arms[NAMES[0]].width)
    conclude(decision, plan,
        f"pruned at |w| < {AT}, the L1 networks kept a median of {med[NAMES[1]]:.0f} effective "
        f"parameters against {med[NAMES[0]]:.0f} without L1 (at most {SHRINK} times as many in "
        f"{smaller}/{n} seeds, sign test p = {sign:.2g}); {kept.successes}/{kept.trials} of the "
        f"L1 networks that succeeded still did after pruning; the smallest working pruned L1 "
        f"network has {smallest} parameters against the minimal network's {MINIMAL_PARAMS}",
        estimates=[count_rate(f"seeds where L1 keeps <= {SHRINK} of the parameters at {AT}",
                              smaller, n), kept]
        + [count_rate(f"success {when}, {name}", int(s.sum()), n) for name in arms
           for when, s in (("unpruned", runs[name].success), (f"pruned at {AT}",
                                                               at[name]["success"]))]
        + [Estimate(f"median effective parameters at {AT}, {name}", m) for name, m in med.items()],
        protocol=protocol(arms[NAMES[1]], seeds, pruning="kernel entries with |w| < threshold "
                          "set to 0, biases kept; success re-evaluated on the same test boards",
                          parameters="kept: nonzero kernel entries + biases; effective: the same "
                                     "after removing hidden units that no longer matter"),
        table=[{"training": name, "threshold": "none" if t == 0 else t,
                "successes": f"{int(s['success'].sum())}/{n}",
                "kept (median)": float(np.median(s["kept"])),
                "effective (median, quartiles)": quartiles(s["effective"]),
                "effective, smallest working": int(s["effective"][s["success"]].min())
                if s["success"].any() else None}
               for (name, t), s in scores.items()],
        figures=[rel],
        notes=f"The minimal network has {MINIMAL_PARAMS} parameters; the hand-built exact weights "
              f"use only {HAND_BUILT_NONZERO} of them (the corners are zero). The full network "
              f"has {arms[NAMES[0]].n_params}.")
