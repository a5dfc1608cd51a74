"""Part A of the catalogue: capacity and width of Game of Life networks (GOL-*)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifetf import stats
from lifetf.claims import Estimate, Verdict
from lifetf.evaluate import board_scores, eval_set
from lifetf.models import hand_built
from lifetf.plots import plot_bars, plot_rates
from lifetf.rules import evolve, random_boards

# -- GOL-CAPACITY -----------------------------------------------------------------------------

CAPACITY_LOSS_LIMIT = 1e-3  # mean BCE that counts as "~0"


def _capacity_row(arch: str, rule: str, steps: int, activation: str, large: int) -> dict:
    """Hand-built weights on 1000 random 5x5 boards and on 20 large boards."""
    model = hand_built(arch, rule, steps, width=1, output="sigmoid", activation=activation)
    tests = eval_set(rule, steps)
    outputs = model(tests.boards[..., None].astype("float32"), training=False).numpy()[..., 0]
    scores = board_scores(outputs[None], tests.targets)
    p = np.clip(outputs, 1e-7, 1 - 1e-7)
    y = tests.targets
    loss = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
    boards = random_boards(20, large, 0.5, seed=steps)
    big_out = model(boards[..., None].astype("float32"), training=False).numpy()[..., 0]
    big_right = bool(((big_out > 0.5) == evolve(boards, rule, steps)).all())
    return {
        "arch": arch,
        "rule": rule,
        "steps": steps,
        "activation": activation,
        "match_rate": float(scores["match_rate"][0]),
        "exact": bool(scores["success"][0]) and big_right,
        "loss": loss,
    }


@pytest.mark.claim("GOL-CAPACITY")
def test_gol_capacity(suite, conclude):
    """Hand-built weights compute n steps exactly (ReLU); the LeakyReLU leak is measured."""
    top = suite.profile.capacity_max_steps
    large = suite.profile.capacity_large_board
    rows = [
        _capacity_row(arch, rule, steps, activation, large)
        for activation in ("relu", "leaky_relu")
        for arch in ("firner", "springer")
        for rule in ("firner", "conway")
        for steps in range(1, top + 1)
    ]
    frame = pd.DataFrame(rows)
    relu = frame[frame.activation == "relu"]
    exact = int((relu.exact & (relu.loss < CAPACITY_LOSS_LIMIT)).sum())
    settings = len(relu)
    leaky = frame[frame.activation == "leaky_relu"]
    first_leak = leaky[~leaky.exact].groupby(["arch", "rule"]).steps.min()

    series = {
        f"{arch} net, {rule} rule": [
            (s, int(round(r * 1000)), 1000)
            for s, r in leaky[(leaky.arch == arch) & (leaky.rule == rule)][["steps", "match_rate"]]
            .itertuples(index=False)
        ]
        for arch in ("firner", "springer")
        for rule in ("firner", "conway")
    }
    path, rel = suite.figure("gol-capacity-leaky")
    plot_rates(series, "steps", "Hand-built weights with LeakyReLU (slope 0.01): boards matched",
               path)

    verdict = "reproduced" if exact == settings else "refuted"
    table = (
        frame.pivot_table(index=["arch", "rule", "steps"], columns="activation",
                          values="match_rate")
        .reset_index()
        .rename(columns={"relu": "match rate (ReLU)", "leaky_relu": "match rate (LeakyReLU)"})
    )
    leak_note = "; ".join(f"{a} net, {r} rule: from {int(s)} steps" for (a, r), s in
                          first_leak.items()) or "none within the steps checked"
    conclude(
        Verdict(
            claim_id="GOL-CAPACITY",
            verdict=verdict,
            summary=(
                f"hand-built ReLU weights were exact (all 1000 5x5 boards and 20 {large}x{large} "
                f"boards right, mean BCE < {CAPACITY_LOSS_LIMIT:g}) in {exact} of {settings} "
                f"settings (2 architectures x 2 rules x steps 1-{top}); the claim needs all"
            ),
            estimates=[
                Estimate("exact settings (ReLU)", exact / settings, successes=exact,
                         trials=settings),
                Estimate("max mean BCE (ReLU)", float(relu.loss.max())),
            ],
            test="deterministic check of every setting",
            threshold="every ReLU setting exact and mean BCE below 1e-3",
            design="deterministic: no sampling of training runs, so the false-failure chance is 0",
            false_failure=0.0,
            trials=settings,
            protocol=[
                {"setting": "networks", "value": "firner (3 layers a step), springer (2n+1)"},
                {"setting": "width", "value": 1},
                {"setting": "output", "value": "sigmoid"},
                {"setting": "test boards", "value": f"1000 random 5x5 and 20 random {large}x"
                                                    f"{large}, density 0.5"},
            ],
            table=table.to_dict("records"),
            figures=[rel],
            notes=f"With LeakyReLU the hand-built weights leak and stop being exact: {leak_note}.",
        )
    )


# -- GOL-MINIMAL-FAILS --------------------------------------------------------------------------

MINIMAL_PLAUSIBLE = 0.15  # 3x the published ~5% (Springer & Kenyon) and 0/20 (Firner)
MINIMAL_BOUND = 0.5  # "usually fails": the success rate is below one half
MINIMAL_SETTINGS = [(rule, init) for rule in ("firner", "conway") for init in ("pytorch", "keras")]
PUBLISHED = {
    ("firner", "pytorch"): "0/20 (Firner, post 1, default settings)",
    ("conway", "pytorch"): "about 5% (Springer & Kenyon, secondary; their own architecture)",
}


@pytest.mark.claim("GOL-MINIMAL-FAILS")
def test_gol_minimal_fails(suite, conclude):
    """Width 1, one step, both rules, both initialisations: success is rare."""
    per_setting_risk = 1e-3 / len(MINIMAL_SETTINGS)
    trials = max(
        suite.profile.min_seeds,
        stats.trials_for_upper_bound(MINIMAL_PLAUSIBLE, MINIMAL_BOUND, per_setting_risk),
    )
    design = stats.design_upper_bound(trials, MINIMAL_PLAUSIBLE, MINIMAL_BOUND, p_alt=0.7)
    seeds = suite.seeds(trials)
    rows, estimates, experiments = [], [], []
    for rule, init in MINIMAL_SETTINGS:
        experiment = suite.profile.experiment(rule=rule, init=init, width=1, steps=1)
        trial_rows = suite.store.rows(experiment, seeds)
        wins = int(trial_rows.success.sum())
        interval = stats.proportion_interval(wins, trials, 0.95, "wilson")
        experiments.append(experiment.key)
        estimates.append(Estimate(f"success rate ({rule} rule, {init} init)", interval.estimate,
                                  interval.low, interval.high, wins, trials))
        rows.append({
            "rule": rule,
            "init": init,
            "successes": f"{wins}/{trials}",
            "rate [95% CI]": str(interval),
            "median match rate": float(trial_rows.match_rate.median()),
            "median cell accuracy": float(trial_rows.cell_accuracy.median()),
            "published": PUBLISHED.get((rule, init), "—"),
        })
    highs = [e.high for e in estimates]
    lows = [e.low for e in estimates]
    if max(highs) < MINIMAL_BOUND:
        verdict = "reproduced"
    elif max(lows) > MINIMAL_BOUND:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    path, rel = suite.figure("gol-minimal-fails")
    plot_bars(
        {f"{r}/{i}": e.value for (r, i), e in zip(MINIMAL_SETTINGS, estimates, strict=True)},
        "success rate",
        "Minimal networks (m = 1, one step): success rate with 95% Wilson intervals",
        path,
        errors={f"{r}/{i}": (e.low, e.high)
                for (r, i), e in zip(MINIMAL_SETTINGS, estimates, strict=True)},
    )
    worst = max(estimates, key=lambda e: e.high)
    reference = suite.profile.experiment()
    conclude(
        Verdict(
            claim_id="GOL-MINIMAL-FAILS",
            verdict=verdict,
            summary=(
                f"the highest upper 95% bound of the four success rates is {worst.high:.3f} "
                f"({worst.name}: {worst.successes}/{worst.trials}), against the bound "
                f"{MINIMAL_BOUND} that 'usually fails' needs"
            ),
            estimates=estimates,
            test="Wilson 95% interval of each setting's success proportion",
            threshold=f"reproduced if every upper bound < {MINIMAL_BOUND}; refuted if any lower "
                      f"bound > {MINIMAL_BOUND}",
            design=f"{design}; x{len(MINIMAL_SETTINGS)} settings (Bonferroni) keeps the claim's "
                   f"false-failure chance below 1e-3",
            false_failure=design.false_failure * len(MINIMAL_SETTINGS),
            trials=trials * len(MINIMAL_SETTINGS),
            experiments=experiments,
            protocol=[
                {"setting": "network", "value": "firner, width 1, one step, ReLU, clamp output"},
                {"setting": "training", "value": f"Adam {reference.learning_rate:g}, "
                 f"{reference.batches} batches of {reference.batch_size} fresh "
                 f"{reference.board_size}x{reference.board_size} boards, density "
                 f"{reference.density}"},
                {"setting": "initialisations", "value": "pytorch (uniform +-1/sqrt(fan_in)), "
                 "keras (Glorot uniform, zero bias)"},
                {"setting": "success", "value": "all 1000 random 5x5 test boards right"},
                {"setting": "seeds", "value": f"{seeds[0]}..{seeds[-1]} per setting"},
            ],
            table=rows,
            figures=[rel],
        )
    )
