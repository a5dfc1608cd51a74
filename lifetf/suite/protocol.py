"""A claim's protocol table, generated from its experiments instead of typed by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lifetf.nets.experiment import Experiment


class Described(Protocol):
    """A config that says its own protocol in words (the toy models' configs)."""

    def settings(self) -> dict[str, str]: ...


def network(e: Experiment) -> str:
    """'firner net, width 2, 1 step, leaky_relu, sigmoid output, pytorch init, ...'."""
    parts = [f"{e.arch} net", f"width {e.width}", f"{e.steps} step{'s' if e.steps > 1 else ''}",
             e.activation, f"{e.output} output"]
    if e.start == "hand_built":
        parts.append("starting from the hand-built weights"
                     + (f" with {e.sign_flips} signs flipped" if e.sign_flips else ""))
    else:
        parts.append(f"{e.init} init")
    if e.channel_dropout:
        parts.append(f"channel dropout {e.channel_dropout:g}")
    if e.l1:
        parts.append(f"L1 {e.l1:g} on kernels")
    return ", ".join(parts)


def training(e: Experiment) -> str:
    """'Adam 0.001, 3000 batches of 32 fresh 8x8 boards at density 0.5, firner rule'."""
    optimiser = "Adam" if e.optimizer == "adam" else "plain SGD"
    boards = f"{e.board_size}x{e.board_size} boards"
    data = (f"from one fixed set of {e.train_set} {boards} (each run reshuffles every epoch)"
            if e.train_set else f"fresh {boards}")
    return (f"{optimiser} {e.learning_rate:g}, {e.batches} batches of {e.batch_size} {data} at "
            f"density {e.density:g}, {e.rule} rule{' on a torus' if e.torus else ''}")


def protocol(e: Experiment | Described, seeds: Sequence[int] | None = None,
             **extra: object) -> list[dict]:
    """Protocol rows (setting, value) for an experiment or a toy model's config, then the
    seeds, then ``extra`` settings in order (underscores in their names read as spaces)."""
    if isinstance(e, Experiment):
        rows = [{"setting": "network", "value": network(e)},
                {"setting": "training", "value": training(e)},
                {"setting": "success", "value": f"all {e.eval_boards} random {e.eval_size}x"
                                                f"{e.eval_size} test boards right"}]
    else:
        rows = [{"setting": name, "value": value} for name, value in e.settings().items()]
    if seeds is not None and len(seeds):
        rows.append({"setting": "seeds", "value": f"{seeds[0]}..{seeds[-1]}"})
    rows += [{"setting": name.replace("_", " "), "value": value} for name, value in extra.items()]
    return rows
