"""GOL-CAPACITY: the minimal network can represent n steps exactly (hand-built weights)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifetf.life.evaluate import board_scores, eval_set
from lifetf.life.rules import evolve, random_boards
from lifetf.nets.models import forward_many, hand_built_weights, layer_specs
from lifetf.nets.train import cell_losses
from lifetf.stats.decisions import Deterministic
from lifetf.suite.catalogue import Claim
from lifetf.suite.decide import Decision
from lifetf.suite.plots import plot_rates
from lifetf.suite.verdict import Estimate

LOSS_LIMIT = 1e-3  # mean BCE that counts as "~0"
NETWORKS = [(arch, rule) for arch in ("firner", "springer") for rule in ("firner", "conway")]

CLAIM = Claim(
    "GOL-CAPACITY", "A",
    "The minimal network can represent n steps exactly: with hand-built weights the loss is "
    "~0 and all test boards match.",
    "protocol.md (post 1), paper", "the known high quality solution",
    expected={"quick": "reproduced", "paper": "reproduced"},
    rule=Deterministic("every hand-built ReLU network is checked; nothing is sampled"),
    sizes={"quick": {"max_steps": 20, "large_board": 32},
           "paper": {"max_steps": 20, "large_board": 64}},
)


def _outputs(networks: list, boards: np.ndarray) -> list[np.ndarray]:
    """The hand-built Keras models' outputs (computed without building their layers; the steps
    they share are computed once)."""
    from keras import ops  # imported when the claim runs, not when the report lists claims

    return [ops.convert_to_numpy(out)[..., 0]
            for out in forward_many(networks, boards[..., None].astype("float32"))]


def _settings(arch: str, rule: str, top: int, activation: str, large: int) -> list[dict]:
    """Hand-built weights for 1..top steps on the 1000 random 5x5 test boards (the same boards
    for every number of steps) and on 20 large boards (their own for each number of steps; all
    of them go through every network at once, which shares the steps they have in common)."""
    networks = [(layer_specs(arch, steps, 1, 1.0, activation, "sigmoid"), "sigmoid",
                 hand_built_weights(arch, rule, steps, 1, "sigmoid"))
                for steps in range(1, top + 1)]
    tests = [eval_set(rule, steps) for steps in range(1, top + 1)]
    assert all(np.array_equal(t.boards, tests[0].boards) for t in tests), \
        "the test boards must not depend on the number of steps"
    from keras import ops

    bigs = [random_boards(20, large, 0.5, seed=steps) for steps in range(1, top + 1)]
    rows = []
    for steps, test, outputs, big_outputs in zip(
            range(1, top + 1), tests, _outputs(networks, tests[0].boards),
            _outputs(networks, np.concatenate(bigs)), strict=True):
        # the trainer's cell loss on the outputs themselves (clipped, as for a clamped output)
        loss = float(np.mean(ops.convert_to_numpy(
            cell_losses("clamp", test.targets.astype("float32"), outputs, lambda x: x))))
        big, big_out = bigs[steps - 1], big_outputs[20 * (steps - 1) : 20 * steps]
        big_right = bool(((big_out > 0.5) == evolve(big, rule, steps)).all())
        scores = board_scores(outputs[None], test.targets)
        rows.append({"arch": arch, "rule": rule, "steps": steps, "activation": activation,
                     "match_rate": float(scores["match_rate"][0]), "loss": loss,
                     "exact": bool(scores["success"][0]) and big_right})
    return rows


@CLAIM
def test_gol_capacity(suite, conclude):
    """Hand-built weights compute n steps exactly (ReLU); the LeakyReLU leak is measured."""
    top, large = (CLAIM.size(suite.profile, k) for k in ("max_steps", "large_board"))
    frame = pd.DataFrame([row for activation in ("relu", "leaky_relu") for arch, rule in NETWORKS
                          for row in _settings(arch, rule, top, activation, large)])
    relu, leaky = frame[frame.activation == "relu"], frame[frame.activation == "leaky_relu"]
    exact = int((relu.exact & (relu.loss < LOSS_LIMIT)).sum())
    first_leak = leaky[~leaky.exact].groupby(["arch", "rule"]).steps.min()
    rel = suite.plot("gol-capacity-leaky", plot_rates, {f"{a} net, {r} rule": [
        (s, round(m * 1000), 1000) for s, m in part[["steps", "match_rate"]].itertuples(
            index=False)] for (a, r), part in leaky.groupby(["arch", "rule"])},
        "steps", "Hand-built weights with LeakyReLU (slope 0.01): boards matched")
    decision = Decision("reproduced" if exact == len(relu) else "refuted",
                        "deterministic check of every setting",
                        f"every ReLU setting exact and mean BCE below {LOSS_LIMIT:g}")
    table = frame.pivot_table(index=["arch", "rule", "steps"], columns="activation",
                              values="match_rate").reset_index().rename(columns={
                                  "relu": "match rate (ReLU)",
                                  "leaky_relu": "match rate (LeakyReLU)"})
    conclude(decision, CLAIM.rule.at(len(relu)),
        f"hand-built ReLU weights were exact (all 1000 5x5 boards and 20 {large}x{large} boards "
        f"right, mean BCE < {LOSS_LIMIT:g}) in {exact} of {len(relu)} settings (2 "
        f"architectures x 2 rules x steps 1-{top}); the claim needs all",
        estimates=[Estimate("exact settings (ReLU)", exact / len(relu), successes=exact,
                            trials=len(relu)),
                   Estimate("max mean BCE (ReLU)", float(relu.loss.max()))],
        trials=len(relu),
        protocol=[{"setting": "networks", "value": "firner (3 layers a step), springer (2n+1), "
                                                   "width 1, sigmoid output"},
                  {"setting": "test boards", "value": f"1000 random 5x5 and 20 random "
                                                      f"{large}x{large}, density 0.5"}],
        table=table.to_dict("records"), figures=[rel],
        notes="With LeakyReLU the hand-built weights leak and stop being exact: " + (
            "; ".join(f"{a} net, {r} rule: from {int(s)} steps"
                      for (a, r), s in first_leak.items()) or "none within the steps checked")
        + ".")
