"""OUT-SOFTMAX-HIDES: a softmax looks confident on meaningless input; independent sigmoids can
say "none of these". Plausible effects were chosen from pilot runs on seeds 10000 and up."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lifetf.stats.decisions import SignRule
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import count_rate, sign_family
from lifetf.suite.plots import save_figure
from lifetf.suite.protocol import protocol
from lifetf.suite.verdict import Estimate, quartiles
from lifetf.toys.classifier import HEADS, ClassifierConfig

KINDS = ("uniform", "gaussian", "blank")  # the meaningless inputs
ALPHA = 0.01  # family-wise level (Holm) over the 2 x 3 sign tests
MARGIN = 0.10  # "says none more often": on at least 10 percentage points more inputs
ACCURACY = 0.90  # precondition: median held-out accuracy of both heads

CLAIM = Claim(
    "OUT-SOFTMAX-HIDES", "D",
    "A softmax output looks confident even on meaningless input; independent sigmoid outputs "
    "can say none of these.", "000_99adcdd6275fb052.txt",
    "we force those outputs into a range that looks correct, regardless of what nonsense is "
    "coming out of the last layer of the network",
    expected={"quick": "inconclusive"},
    # each network shows each part of the claim on each input kind with chance 0.85
    rule=SignRule(0.85, ALPHA, tests=2 * len(KINDS)),
    sizes={"quick": {"epochs": 30}, "paper": {"epochs": 30}},  # no original protocol
)


def _panels(panels: dict[str, dict[str, np.ndarray]], title: str, *, path) -> None:
    """One histogram panel per input kind, the heads overlaid on shared bins in [0, 1]."""
    fig = Figure(figsize=(9.0, 6.4), layout="constrained")
    fig.suptitle(title)
    for i, (panel, samples) in enumerate(panels.items()):
        ax = fig.add_subplot(2, (len(panels) + 1) // 2, i + 1)
        for j, (label, values) in enumerate(samples.items()):
            ax.hist(np.ravel(values), bins=np.linspace(0, 1, 26), density=True,
                    histtype="step", linewidth=1.5, color=f"C{j}", label=label)
        ax.axvline(0.5, color="grey", linestyle=":", linewidth=1)
        ax.set(title=panel, xlabel="largest of the 10 outputs", ylabel="density")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    save_figure(fig, path)


@CLAIM
def test_out_softmax_hides(suite, conclude):
    """Softmax vs independent sigmoid heads on digits: largest output on real and on noise."""
    plan, n, seeds = suite.planned(CLAIM)
    base = ClassifierConfig(epochs=CLAIM.size(suite.profile, "epochs"))
    runs = {head: suite.records(base.replace(head=head), seeds) for head in HEADS}
    soft, sig = runs["softmax"], runs["sigmoid"]
    accuracy = {head: float(np.median(r["accuracy"])) for head, r in runs.items()}
    counts, rows = {}, []
    for kind in ("real", *KINDS):
        soft_max, sig_max = soft[f"max_{kind}"], sig[f"max_{kind}"]
        confident = (soft_max > 0.5).mean(axis=1)  # per network: share with max output > 0.5
        soft_none, sig_none = (soft_max < 0.5).mean(axis=1), (sig_max < 0.5).mean(axis=1)
        if kind != "real":
            counts[f"softmax confident on most {kind} inputs"] = int((confident > 0.5).sum())
            counts[f"sigmoid says none more often, {kind}"] = int(
                (sig_none - soft_none >= MARGIN).sum())
        rows.append({"inputs": kind, "count": soft_max.shape[1],
                     "softmax mean max": float(soft_max.mean()),
                     "softmax share max > 0.5": quartiles(confident),
                     "sigmoid mean max": float(sig_max.mean()),
                     "sigmoid says none": quartiles(sig_none),
                     "difference in none": quartiles(sig_none - soft_none)})
    accurate = min(accuracy.values()) >= ACCURACY
    decision, more = sign_family(
        counts, {k: n - c for k, c in counts.items()}, n, ALPHA,
        f"per input kind, two one-sided exact sign tests over networks: the softmax's largest "
        f"output exceeds 0.5 on most inputs; the sigmoid network says none (all outputs < 0.5) "
        f"on at least {MARGIN:.0%} more of the inputs than the softmax network of the same seed "
        f"has its largest output < 0.5", accurate,
        f"both heads' median held-out accuracy >= {ACCURACY}")
    rel = suite.plot("out-softmax-hides", _panels, {
        ("held-out digits" if k == "real" else f"{k} inputs"):
        {"softmax": soft[f"max_{k}"], "10 sigmoids": sig[f"max_{k}"]} for k in ("real", *KINDS)},
        f"Largest output of {n} softmax and {n} sigmoid digit classifiers")
    weakest = min(counts, key=counts.get)
    failing = [k for k, p in more.items() if p > ALPHA]
    conclude(decision, plan,
        f"held-out accuracy {accuracy['softmax']:.3f} (softmax) and {accuracy['sigmoid']:.3f} "
        f"(sigmoid, medians of {n}); on meaningless inputs " + "; ".join(
            f"{k}: softmax confident on most inputs in "
            f"{counts[f'softmax confident on most {k} inputs']}/{n} networks, sigmoid says none "
            f">= {MARGIN:.0%} more often in {counts[f'sigmoid says none more often, {k}']}/{n}"
            for k in KINDS)
        + f"; the weakest part is '{weakest}' ({counts[weakest]}/{n}, Holm p = "
          f"{more[weakest]:.2g} against {ALPHA})",
        estimates=[count_rate(f"networks: {weakest}", counts[weakest], n)]
        + [count_rate(f"networks: {k}", c, n) for k, c in counts.items() if k != weakest]
        + [Estimate(f"median held-out accuracy, {h}", accuracy[h]) for h in HEADS],
        protocol=protocol(base, seeds), table=rows, figures=[rel],
        notes=("Parts that did not reach significance: " + "; ".join(failing) + ". "
               if failing else "")
        + f"On held-out digits the sigmoid network says none on "
          f"{np.median((sig['max_real'] < 0.5).mean(axis=1)):.1%} of the images (median), the "
          f"price of being able to say it.")
