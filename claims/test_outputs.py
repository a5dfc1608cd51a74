"""Part D of the catalogue: outputs and regularisation (OUT-SOFTMAX-HIDES, REG-*).

Every test counts, network by network (the unit of replication is a trained network, one per
seed), whether the claimed direction holds, and decides with one-sided exact sign tests whose
false-failure chance follows from a stated plausible effect (lifetf.stats.design_sign_test).
Plausible effects and the regularisation strengths were chosen from pilot runs on seeds
10000 and up, which no claim below uses.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from lifetf import stats
from lifetf.analysis.prune import HAND_BUILT_NONZERO, MINIMAL_PARAMS, Pruning, pruned_scores
from lifetf.suite.plots import plot_histograms, save_figure
from lifetf.suite.sweep import count_rate
from lifetf.suite.verdict import Estimate, Verdict
from lifetf.toys.classifier import HEADS, ClassifierConfig, classifier_records
from lifetf.toys.noisy import NoisyConfig, noisy_records, weight_ratio

CANDIDATES = (32, 48, 64, 80, 96, 128)  # trial counts a design may pick (cheap models)


def _family_design(n: int, plausible: float, alpha: float, tests: int) -> stats.Design:
    """``tests`` one-sided sign tests of ``n`` networks, each at alpha / tests (Holm passes all
    of them when each does); the false-failure chance is the union bound over the tests."""
    one = stats.design_sign_test(n, plausible, alpha / tests)
    return stats.Design(
        rule=f"each of {tests} {one.rule}, so Holm at {alpha:g} rejects them all",
        trials=n,
        false_failure=min(1.0, tests * one.false_failure),
        power=None,
        effect=f"{one.effect}, independently per test (union bound over {tests} tests)",
    )


def _sign_tests(counts: dict[str, int], n: int) -> tuple[dict[str, float], dict[str, float]]:
    """Holm-adjusted one-sided sign-test p-values: 'more than half' and 'less than half'."""
    names = list(counts)
    more = stats.holm([stats.binomial_upper_test(counts[k], n, 0.5, "greater").p_value
                       for k in names])
    less = stats.holm([stats.binomial_upper_test(counts[k], n, 0.5, "less").p_value
                       for k in names])
    return dict(zip(names, more, strict=True)), dict(zip(names, less, strict=True))


def _quartiles(values: np.ndarray, digits: int = 3) -> str:
    q1, q2, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return f"{q2:.{digits}g} ({q1:.{digits}g} - {q3:.{digits}g})"


# -- OUT-SOFTMAX-HIDES -------------------------------------------------------------------------

OUT_KINDS = ("uniform", "gaussian", "blank")  # the meaningless inputs
OUT_ALPHA = 0.01  # family-wise level (Holm) over the 2 x 3 sign tests
OUT_PLAUSIBLE = 0.85  # chance that one network shows one part of the claim on one input kind
OUT_MARGIN = 0.10  # "says none more often": on at least 10 percentage points more inputs
OUT_ACCURACY = 0.90  # precondition: median held-out accuracy of both heads


def _outputs_design() -> stats.Design:
    tests = 2 * len(OUT_KINDS)
    return stats.smallest_trials(
        CANDIDATES, lambda n: _family_design(n, OUT_PLAUSIBLE, OUT_ALPHA, tests), 1e-3)


def _histogram_panels(panels: dict[str, dict[str, np.ndarray]], xlabel: str, title: str,
                      path) -> None:
    """One histogram panel per input kind, the heads overlaid on shared bins in [0, 1]."""
    fig = Figure(figsize=(9.0, 6.4), layout="constrained")
    fig.suptitle(title)
    edges = np.linspace(0.0, 1.0, 26)
    for i, (panel, samples) in enumerate(panels.items()):
        ax = fig.add_subplot(2, (len(panels) + 1) // 2, i + 1)
        for j, (label, values) in enumerate(samples.items()):
            ax.hist(np.ravel(values), bins=edges, density=True, histtype="step", linewidth=1.5,
                    color=f"C{j}", label=label)
        ax.axvline(0.5, color="grey", linestyle=":", linewidth=1)
        ax.set_title(panel, fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    save_figure(fig, path)


@pytest.mark.claim("OUT-SOFTMAX-HIDES")
def test_out_softmax_hides(suite, conclude):
    """Softmax vs independent sigmoid heads on digits: largest output on real and on noise."""
    design = _outputs_design()
    n = design.trials
    seeds = suite.seeds(n)
    base = ClassifierConfig(epochs=suite.profile.outputs_epochs)
    runs = {head: classifier_records(suite.store, base.replace(head=head), seeds)
            for head in HEADS}
    soft, sig = runs["softmax"], runs["sigmoid"]
    accuracy = {head: float(np.median(r["accuracy"])) for head, r in runs.items()}

    counts, rows = {}, []
    for kind in ("real", *OUT_KINDS):
        soft_max, sig_max = soft[f"max_{kind}"], sig[f"max_{kind}"]
        confident = (soft_max > 0.5).mean(axis=1)  # per network: share with max output > 0.5
        soft_none = (soft_max < 0.5).mean(axis=1)
        sig_none = (sig_max < 0.5).mean(axis=1)  # all ten sigmoids below 0.5: "none of these"
        if kind != "real":
            counts[f"softmax confident on most {kind} inputs"] = int((confident > 0.5).sum())
            counts[f"sigmoid says none more often, {kind}"] = int(
                (sig_none - soft_none >= OUT_MARGIN).sum())
        rows.append({
            "inputs": kind, "count": soft_max.shape[1],
            "softmax mean max": float(soft_max.mean()),
            "softmax share max > 0.5": _quartiles(confident),
            "sigmoid mean max": float(sig_max.mean()),
            "sigmoid share max > 0.5": _quartiles((sig_max > 0.5).mean(axis=1)),
            "sigmoid says none": _quartiles(sig_none),
            "difference in none": _quartiles(sig_none - soft_none),
        })
    more, less = _sign_tests(counts, n)
    for row in rows[1:]:
        kind = row["inputs"]
        row["softmax confident (networks)"] = \
            f"{counts[f'softmax confident on most {kind} inputs']}/{n}"
        row["sigmoid none >= +0.1 (networks)"] = \
            f"{counts[f'sigmoid says none more often, {kind}']}/{n}"
        row["Holm p (confident, none)"] = (
            f"{more[f'softmax confident on most {kind} inputs']:.2g}, "
            f"{more[f'sigmoid says none more often, {kind}']:.2g}")

    accurate = min(accuracy.values()) >= OUT_ACCURACY
    if not accurate:
        verdict = "inconclusive"
    elif max(more.values()) <= OUT_ALPHA:
        verdict = "reproduced"
    elif min(less.values()) <= OUT_ALPHA:
        verdict = "refuted"
    else:
        verdict = "inconclusive"

    path, rel = suite.figure("out-softmax-hides")
    _histogram_panels(
        {("held-out digits" if kind == "real" else f"{kind} inputs"):
         {"softmax": soft[f"max_{kind}"], "10 sigmoids": sig[f"max_{kind}"]}
         for kind in ("real", *OUT_KINDS)},
        "largest of the 10 outputs",
        f"Largest output of {n} softmax and {n} sigmoid digit classifiers", path)
    weakest = min(counts, key=lambda k: counts[k])
    failing = [k for k, p in more.items() if p > OUT_ALPHA]
    against = [k for k, p in less.items() if p <= OUT_ALPHA]
    conclude(Verdict(
        claim_id="OUT-SOFTMAX-HIDES",
        verdict=verdict,
        summary=(
            f"held-out accuracy {accuracy['softmax']:.3f} (softmax) and {accuracy['sigmoid']:.3f} "
            f"(sigmoid, medians of {n}); on meaningless inputs "
            + "; ".join(f"{kind}: softmax confident on most inputs in "
                        f"{counts[f'softmax confident on most {kind} inputs']}/{n} networks, "
                        f"sigmoid says none >= {OUT_MARGIN:.0%} more often in "
                        f"{counts[f'sigmoid says none more often, {kind}']}/{n}"
                        for kind in OUT_KINDS)
            + f"; the weakest part is '{weakest}' ({counts[weakest]}/{n}, Holm p = "
              f"{more[weakest]:.2g} against {OUT_ALPHA})"),
        estimates=[count_rate(f"networks: {weakest}", counts[weakest], n)]
        + [count_rate(f"networks: {name}", c, n) for name, c in counts.items()
           if name != weakest]
        + [Estimate(f"median held-out accuracy, {head}", accuracy[head]) for head in HEADS],
        test=f"per input kind, two one-sided exact sign tests over networks: the softmax's "
             f"largest output exceeds 0.5 on most inputs; the sigmoid network says none (all "
             f"outputs < 0.5) on at least {OUT_MARGIN:.0%} more of the inputs than the softmax "
             f"network of the same seed has its largest output < 0.5; Holm over the 6 tests",
        p_value=max(more.values()),
        threshold=f"reproduced if all 6 Holm-adjusted p <= {OUT_ALPHA} and both heads' median "
                  f"held-out accuracy >= {OUT_ACCURACY}; refuted if for some part and kind "
                  f"significantly fewer than half the networks show it (Holm, {OUT_ALPHA}); "
                  f"else inconclusive",
        design=f"{design}; the accuracy precondition is not a chance event at these sizes "
               f"(pilot: every network above 0.93). Pilot on seeds 10000-10063: both parts held "
               f"in every network on uniform and Gaussian noise; on blank images the softmax was "
               f"confident on most levels in 39/64 networks",
        false_failure=design.false_failure,
        trials=2 * n,
        protocol=[
            {"setting": "data", "value": f"scikit-learn's 8x8 digits (1797 images, /16), "
             f"stratified split {1 - base.test_fraction:.3g}/{base.test_fraction:.3g}, split "
             f"seed {base.split_seed}: {base.train_size} training, "
             f"{1797 - base.train_size} held-out images"},
            {"setting": "network", "value": f"64 -> {base.hidden} ReLU -> 10; softmax + "
             f"categorical cross-entropy, or 10 sigmoids + binary cross-entropy on one-hot "
             f"targets; the same initial weights (Glorot uniform, zero biases) per seed"},
            {"setting": "training", "value": f"Adam {base.learning_rate:g}, {base.epochs} epochs "
             f"of minibatches of {base.batch_size}, in an order drawn from each seed"},
            {"setting": "meaningless inputs", "value": f"{base.noise_inputs} uniform-noise images "
             f"(pixels U(0, 1)); {base.noise_inputs} Gaussian-noise images (the training pixels' "
             f"mean and sd, clipped to [0, 1]); {base.blank_levels} blank images of constant "
             f"intensity 0..1"},
            {"setting": "seeds", "value": f"{seeds[0]}..{seeds[-1]}, one network per head each"},
        ],
        table=rows,
        figures=[rel],
        notes=(("Parts that did not reach significance: " + "; ".join(failing) + ". ")
               if failing else "")
        + (("Significantly against the claim: " + "; ".join(against) + ". ") if against else "")
        + f"On held-out digits the sigmoid network says none on "
          f"{np.median((sig['max_real'] < 0.5).mean(axis=1)):.1%} of the images (median), the "
          f"price of being able to say it. A softmax network's 'none' is its largest output "
          f"below 0.5, the same criterion as for the sigmoids.",
    ))


# -- REG-NOISY-INPUT -------------------------------------------------------------------------

NOISY_ARMS = {
    "input dropout 0.5": {"regulariser": "dropout", "dropout": 0.5},
    "L1 0.03": {"regulariser": "l1", "l1": 0.03},
}
NOISY_ALPHA = 0.01  # family-wise level (Holm) over the two regularisers
NOISY_PLAUSIBLE = 0.85  # chance that the regulariser lowers one network's ratio


def _noisy_design() -> stats.Design:
    return stats.smallest_trials(
        CANDIDATES, lambda n: _family_design(n, NOISY_PLAUSIBLE, NOISY_ALPHA, len(NOISY_ARMS)),
        1e-3)


@pytest.mark.claim("REG-NOISY-INPUT")
def test_reg_noisy_input(suite, conclude):
    """|w_noisy| / |w_exact| with no regulariser, with input dropout and with L1, by seed."""
    design = _noisy_design()
    n = design.trials
    seeds = suite.seeds(n)
    base = NoisyConfig(steps=suite.profile.noisy_steps)
    runs = {"none": noisy_records(suite.store, base, seeds)}
    runs.update({name: noisy_records(suite.store, base.replace(**change), seeds)
                 for name, change in NOISY_ARMS.items()})
    ratios = {name: weight_ratio(r) for name, r in runs.items()}
    lower = {name: int((ratios[name] < ratios["none"]).sum()) for name in NOISY_ARMS}
    higher = {name: int((ratios[name] > ratios["none"]).sum()) for name in NOISY_ARMS}
    down, _ = _sign_tests(lower, n)
    up, _ = _sign_tests(higher, n)
    if max(down.values()) <= NOISY_ALPHA:
        verdict = "reproduced"
    elif min(up.values()) <= NOISY_ALPHA:
        verdict = "refuted"
    else:
        verdict = "inconclusive"

    rows = []
    for name, r in runs.items():
        ratio = ratios[name]
        rows.append({
            "regulariser": name,
            "median |w_exact|": float(np.median(np.abs(r["w1"]))),
            "median |w_noisy|": float(np.median(np.abs(r["w2"]))),
            "ratio |w_noisy|/|w_exact| (median, quartiles)": _quartiles(ratio),
            "ratio < 0.1": f"{int((ratio < 0.1).sum())}/{n}",
            "ratio < 0.01": f"{int((ratio < 0.01).sum())}/{n}",
            "w_noisy exactly 0": f"{int((r['w2'] == 0).sum())}/{n}",
            "median training accuracy": float(np.median(r["accuracy"])),
            "ratio lower than unregularised": "—" if name == "none" else f"{lower[name]}/{n}",
            "ratio higher than unregularised": "—" if name == "none" else f"{higher[name]}/{n}",
            "Holm p (lower)": None if name == "none" else down[name],
        })
    path, rel = suite.figure("reg-noisy-input")
    plot_histograms({name: np.log10(np.maximum(ratio, 1e-6)) for name, ratio in ratios.items()},
                    "log10 |w_noisy| / |w_exact| (exact zeros at -6)",
                    f"Weight of the noisy input relative to the exact one ({n} seeds)", path,
                    bins=30)
    med = {name: float(np.median(ratio)) for name, ratio in ratios.items()}
    conclude(Verdict(
        claim_id="REG-NOISY-INPUT",
        verdict=verdict,
        summary=(f"median |w_noisy|/|w_exact|: {med['none']:.3g} without a regulariser, "
                 + ", ".join(f"{med[name]:.3g} with {name} (lower in {lower[name]}/{n} seeds, "
                             f"higher in {higher[name]}/{n})" for name in NOISY_ARMS)
                 + "; Holm-adjusted sign-test p (lower): "
                 + ", ".join(f"{down[name]:.2g}" for name in NOISY_ARMS)),
        estimates=[count_rate(f"seeds where {name} lowers the ratio", lower[name], n)
                   for name in NOISY_ARMS]
        + [Estimate(f"median ratio, {name}", med[name]) for name in runs],
        test="per regulariser, a one-sided exact sign test over seeds (same data and initial "
             "weights): the regularised network's |w_noisy|/|w_exact| is below the "
             "unregularised one's; Holm over the two regularisers",
        p_value=max(down.values()),
        threshold=f"reproduced if both Holm-adjusted p <= {NOISY_ALPHA} (the claim names both "
                  f"dropout and L1); refuted if for either regulariser the ratio is higher in "
                  f"significantly more than half the seeds (Holm, {NOISY_ALPHA}); else "
                  f"inconclusive",
        design=f"{design}. L1 strength 0.03 chosen on pilot seeds 10000-10063 (0.003 to 0.1 "
               f"tried; 0.03 lowered the median ratio most without costing accuracy)",
        false_failure=design.false_failure,
        trials=n * len(runs),
        protocol=[
            {"setting": "data", "value": f"per seed {base.samples} points: x_exact ~ N(0, 1), "
             f"x_noisy = x_exact + {base.noise:g} N(0, 1) (correlation "
             f"{1 / np.sqrt(1 + base.noise ** 2):.2f}), class 1[x_exact > 0]"},
            {"setting": "model", "value": "logistic regression sigmoid(w_exact x_exact + "
             "w_noisy x_noisy + b), binary cross-entropy"},
            {"setting": "training", "value": f"full-batch Adam {base.learning_rate:g}, "
             f"{base.steps} updates, initial weights N(0, {base.init_scale:g}) from the seed"},
            {"setting": "regularisers", "value": "none; dropout 0.5 on both inputs (inverted "
             "scaling, fresh masks every update); L1 0.03 (|w_exact| + |w_noisy|) added to the "
             "mean loss"},
            {"setting": "seeds", "value": f"{seeds[0]}..{seeds[-1]}, the same for every arm"},
        ],
        table=rows,
        figures=[rel],
        notes=(
            "Why a classification target: with y = x_exact as a regression target, least squares "
            "already gives w_noisy = 0 exactly, so no regulariser has anything to do. With the "
            "class 1[x_exact > 0] the data are separable by x_exact alone, the unregularised "
            "weights grow without limit and keep some weight on x_noisy, so the claim is a real "
            "question. What 'towards zero' came to: "
            + "; ".join(f"{name}: median ratio {med[name]:.3g}, "
                        f"{int((ratios[name] < 0.01).sum())}/{n} below 0.01, "
                        f"{int((runs[name]['w2'] == 0).sum())} exact zeros"
                        for name in runs)
            + ". Adam rarely gives exact zeros: a penalised weight hovers around zero at about "
              "the learning rate's size."
            + (" Input dropout raised the ratio in most seeds: when x_exact is dropped, x_noisy "
               "is the only evidence left, so dropout spreads weight onto it."
               if higher["input dropout 0.5"] > n / 2 else "")
        ),
    ))


# -- REG-PRUNE ------------------------------------------------------------------------------------

PRUNE_L1 = 1e-3  # lambda times the sum of |kernel| added to each member's loss
PRUNE_THRESHOLDS = (0.0, 1e-3, 1e-2, 0.05, 0.1, 0.2)  # 0: unpruned
PRUNE_AT = 0.05  # the pre-stated threshold of the verdict
PRUNE_SHRINK = 0.75  # "smaller": at most 3/4 of the no-L1 network's effective parameters
PRUNE_ALPHA = 0.01
PRUNE_PLAUSIBLE = {"shrink": 0.9, "l1 success": 0.5, "keep": 0.95}
PRUNE_CANDIDATES = (32, 40, 48, 56, 64)


def _keep_failure(n: int) -> float:
    """Chance that the Wilson lower bound of (still succeeding / succeeded) is <= 0.5, summed
    over S ~ Binomial(n, l1 success) successes before pruning (S = 0 counts as a failure)."""
    from scipy.stats import binom

    p, keep = PRUNE_PLAUSIBLE["l1 success"], PRUNE_PLAUSIBLE["keep"]
    total = float(binom.pmf(0, n, p))
    for s in range(1, n + 1):
        total += float(binom.pmf(s, n, p)) * stats.design_lower_bound(s, keep, 0.5).false_failure
    return total


def _prune_design() -> stats.Design:
    def design(n: int) -> stats.Design:
        shrink = stats.design_sign_test(n, PRUNE_PLAUSIBLE["shrink"], PRUNE_ALPHA)
        keep = _keep_failure(n)
        return stats.Design(
            rule=f"{shrink.rule} and the 95% Wilson lower bound of the share of L1 networks "
                 f"still succeeding after pruning is above 0.5",
            trials=n,
            false_failure=min(1.0, shrink.false_failure + keep),
            power=None,
            effect=f"each L1 network at most {PRUNE_SHRINK} times the size with probability "
                   f"{PRUNE_PLAUSIBLE['shrink']}, L1 success rate {PRUNE_PLAUSIBLE['l1 success']}"
                   f", pruning keeping a success with probability {PRUNE_PLAUSIBLE['keep']} "
                   f"(sign test {shrink.false_failure:.1e} + keep rule {keep:.1e}, union bound)")

    return stats.smallest_trials(PRUNE_CANDIDATES, design, 1e-3)


def _prune_figure(success: dict[str, list[tuple[float, int, int]]],
                  sizes: dict[str, np.ndarray], title: str, path) -> None:
    """Success rate (95% Wilson) and effective parameters (median, quartiles) per threshold."""
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    fig.suptitle(title)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    x = np.arange(len(PRUNE_THRESHOLDS))
    labels = ["none" if t == 0 else f"{t:g}" for t in PRUNE_THRESHOLDS]
    for i, (name, points) in enumerate(success.items()):
        ivs = [stats.proportion_interval(w, k) for _, w, k in points]
        est = np.array([iv.estimate for iv in ivs])
        err = np.array([est - [iv.low for iv in ivs], [iv.high for iv in ivs] - est])
        left.errorbar(x + 0.05 * i, est, yerr=np.clip(err, 0, None), marker="o", capsize=3,
                      color=f"C{i}", label=name)
        q1, q2, q3 = np.quantile(sizes[name], [0.25, 0.5, 0.75], axis=0)
        right.plot(x, q2, marker="o", color=f"C{i}", label=f"{name} (median, quartiles)")
        right.fill_between(x, q1, q3, color=f"C{i}", alpha=0.2)
    right.axhline(MINIMAL_PARAMS, color="black", linestyle="--", linewidth=1,
                  label=f"minimal network ({MINIMAL_PARAMS})")
    for ax, ylabel in ((left, "success rate (all 1000 boards)"), (right, "effective parameters")):
        ax.set_xticks(x, labels)
        ax.set_xlabel("pruning threshold |w| <")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    left.set_ylim(-0.02, 1.02)
    right.set_ylim(0, None)
    save_figure(fig, path)


@pytest.mark.claim("REG-PRUNE")
def test_reg_prune(suite, conclude):
    """Overcomplete networks with and without L1, pruned by magnitude at several thresholds."""
    design = _prune_design()
    n = design.trials
    seeds = suite.seeds(n)
    width = suite.profile.prune_width
    base = suite.profile.sweep.replace(width=width, steps=1)
    arms = {"no L1": base, f"L1 {PRUNE_L1:g}": base.replace(l1=PRUNE_L1)}
    l1_name = f"L1 {PRUNE_L1:g}"
    trials = {name: suite.store.rows(e, seeds) for name, e in arms.items()}
    scores = {(name, t): pruned_scores(arms[name], list(trials[name].weights), Pruning(t))
              for name in arms for t in PRUNE_THRESHOLDS}

    at = {name: scores[(name, PRUNE_AT)] for name in arms}
    smaller = int((at[l1_name]["effective"] <= PRUNE_SHRINK * at["no L1"]["effective"]).sum())
    shrink = stats.binomial_upper_test(smaller, n, 0.5, "greater")
    not_smaller = stats.binomial_upper_test(smaller, n, 0.5, "less")
    before = trials[l1_name].success.to_numpy(bool)
    kept_working = int((before & at[l1_name]["success"]).sum())
    worked = int(before.sum())
    keep = stats.proportion_interval(kept_working, worked) if worked else None
    if shrink.p_value <= PRUNE_ALPHA and keep is not None and keep.low > 0.5:
        verdict = "reproduced"
    elif not_smaller.p_value <= PRUNE_ALPHA or (keep is not None and keep.high < 0.5):
        verdict = "refuted"
    else:
        verdict = "inconclusive"

    rows = []
    for name in arms:
        for t in PRUNE_THRESHOLDS:
            s = scores[(name, t)]
            wins = int(s["success"].sum())
            good = s["effective"][s["success"]]
            rows.append({
                "training": name, "threshold": "none" if t == 0 else t,
                "successes": f"{wins}/{n}",
                "rate [95% CI]": str(stats.proportion_interval(wins, n)),
                "kept (median)": float(np.median(s["kept"])),
                "effective (median, quartiles)": _quartiles(s["effective"]),
                "effective, smallest working": int(good.min()) if good.size else None,
                "working with <= 25 effective": int((good <= MINIMAL_PARAMS).sum()),
            })
    working_l1 = at[l1_name]["effective"][at[l1_name]["success"]]
    smallest = int(working_l1.min()) if working_l1.size else None
    path, rel = suite.figure("reg-prune")
    _prune_figure(
        {name: [(t, int(scores[(name, t)]["success"].sum()), n) for t in PRUNE_THRESHOLDS]
         for name in arms},
        {name: np.stack([scores[(name, t)]["effective"] for t in PRUNE_THRESHOLDS], axis=1)
         for name in arms},
        f"Magnitude pruning of width-{width} one-step networks ({n} seeds per arm)", path)
    med = {name: float(np.median(at[name]["effective"])) for name in arms}
    keep_text = (f"{kept_working}/{worked} of the L1 networks that succeeded still did after "
                 f"pruning ({keep})" if keep is not None else "no L1 network succeeded")
    conclude(Verdict(
        claim_id="REG-PRUNE",
        verdict=verdict,
        summary=(f"pruned at |w| < {PRUNE_AT}, the L1 networks kept a median of {med[l1_name]:.0f} "
                 f"effective parameters against {med['no L1']:.0f} without L1 (at most "
                 f"{PRUNE_SHRINK} times as many in {smaller}/{n} seeds, sign test p = "
                 f"{shrink.p_value:.2g}); {keep_text}; the smallest working pruned L1 network "
                 f"has {smallest} parameters against the minimal network's {MINIMAL_PARAMS}"),
        estimates=[
            count_rate(f"seeds where L1 keeps <= {PRUNE_SHRINK} of the parameters at {PRUNE_AT}",
                       smaller, n),
            count_rate(f"L1 networks still succeeding after pruning at {PRUNE_AT}",
                       kept_working, worked),
            count_rate("success unpruned, no L1", int(trials["no L1"].success.sum()), n),
            count_rate(f"success unpruned, {l1_name}", worked, n),
            count_rate(f"success pruned at {PRUNE_AT}, no L1",
                       int(at["no L1"]["success"].sum()), n),
            count_rate(f"success pruned at {PRUNE_AT}, {l1_name}",
                       int(at[l1_name]["success"].sum()), n),
            Estimate(f"median effective parameters at {PRUNE_AT}, {l1_name}", med[l1_name]),
            Estimate(f"median effective parameters at {PRUNE_AT}, no L1", med["no L1"]),
        ],
        test=f"one-sided exact sign test over seeds (same initial weights and boards in both "
             f"arms): the L1 network pruned at |w| < {PRUNE_AT} has at most {PRUNE_SHRINK} times "
             f"the effective parameters of the no-L1 network pruned alike; Wilson interval of "
             f"the share of successful L1 networks that still succeed after pruning",
        p_value=shrink.p_value,
        threshold=f"reproduced if the sign test's p <= {PRUNE_ALPHA} and the share's lower "
                  f"bound > 0.5; refuted if the L1 network is that much smaller in "
                  f"significantly fewer than half the seeds (p <= {PRUNE_ALPHA}) or the share's "
                  f"upper bound < 0.5; else inconclusive",
        design=f"{design}. Lambda {PRUNE_L1:g} and the threshold {PRUNE_AT} were chosen on "
               f"pilot seeds 10000-10047 (lambda 1e-4 shrank the pruned networks by about a "
               f"sixth, 3e-3 more than halved their success); {PRUNE_AT} is far above Adam's "
               f"jitter around zero (about the learning rate, 1e-3)",
        false_failure=design.false_failure,
        trials=n * len(arms),
        experiments=[e.key for e in arms.values()],
        protocol=[
            {"setting": "network", "value": f"firner, width {width}, one step, "
             f"{base.activation}, {base.output} output ({base.n_params} parameters)"},
            {"setting": "training", "value": f"Adam {base.learning_rate:g}, {base.batches} "
             f"batches of {base.batch_size} fresh {base.board_size}x{base.board_size} boards; "
             f"L1 arm: {PRUNE_L1:g} x sum |kernel| added to each network's loss (biases free)"},
            {"setting": "pruning", "value": "kernel entries with |w| < threshold set to 0, "
             "biases kept; success re-evaluated on the same 1000 random 5x5 boards"},
            {"setting": "parameters", "value": "kept: nonzero kernel entries + biases; "
             "effective: the same after removing hidden units with no nonzero outgoing weight "
             "or (constant units, folded into the next biases) no nonzero incoming weight"},
            {"setting": "seeds", "value": f"{seeds[0]}..{seeds[-1]}, the same in both arms"},
        ],
        table=rows,
        figures=[rel],
        notes=(f"The minimal network has {MINIMAL_PARAMS} parameters; the hand-built exact "
               f"weights use only {HAND_BUILT_NONZERO} of them (the corners are zero). The full "
               f"width-{width} network has {base.n_params}. Success before any pruning: "
               f"{worked}/{n} with L1, {int(trials['no L1'].success.sum())}/{n} without; at the "
               f"largest threshold, {PRUNE_THRESHOLDS[-1]}: "
               + ", ".join(f"{int(scores[(name, PRUNE_THRESHOLDS[-1])]['success'].sum())}/{n} "
                           f"{name}" for name in arms) + "."),
    ))
