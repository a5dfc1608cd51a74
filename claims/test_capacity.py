"""Part A of the catalogue: capacity and width of Game of Life networks (GOL-*)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from keras.ops import convert_to_numpy
from scipy.stats import binom

from lifetf import stats
from lifetf.life.evaluate import board_scores, eval_set
from lifetf.life.rules import (
    all_dead_shares,
    evolve,
    get_rule,
    local_configurations,
    next_centre,
    random_boards,
)
from lifetf.nets.models import hand_built
from lifetf.stats import trials_for_lower_bound
from lifetf.suite.plots import (
    plot_bars,
    plot_curve_and_points,
    plot_curves,
    plot_histograms,
    plot_rates,
)
from lifetf.suite.sweep import (
    SWEEP_ALPHA,
    SWEEP_CANDIDATES,
    WIDTH_PLAUSIBLE,
    count_rate,
    rate,
    sweep_cells,
    sweep_design,
    sweep_protocol,
)
from lifetf.suite.verdict import Estimate, Verdict

# -- GOL-CAPACITY -----------------------------------------------------------------------------

CAPACITY_LOSS_LIMIT = 1e-3  # mean BCE that counts as "~0"


def _capacity_row(arch: str, rule: str, steps: int, activation: str, large: int) -> dict:
    """Hand-built weights on 1000 random 5x5 boards and on 20 large boards."""
    model = hand_built(arch, rule, steps, width=1, output="sigmoid", activation=activation)
    tests = eval_set(rule, steps)
    outputs = convert_to_numpy(
        model(tests.boards[..., None].astype("float32"), training=False))[..., 0]
    scores = board_scores(outputs[None], tests.targets)
    p = np.clip(outputs, 1e-7, 1 - 1e-7)
    y = tests.targets
    loss = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
    boards = random_boards(20, large, 0.5, seed=steps)
    big_out = convert_to_numpy(model(boards[..., None].astype("float32"), training=False))[..., 0]
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


def _minimal_trials(suite) -> int:
    """Trials per setting: the fewest whose upper-bound test fails with chance < 1e-3 / 4."""
    per_setting_risk = 1e-3 / len(MINIMAL_SETTINGS)
    return max(
        suite.profile.min_seeds,
        stats.trials_for_upper_bound(MINIMAL_PLAUSIBLE, MINIMAL_BOUND, per_setting_risk),
    )


@pytest.mark.claim("GOL-MINIMAL-FAILS")
@pytest.mark.xdist_group("minimal")  # shares trials: one worker trains them
def test_gol_minimal_fails(suite, conclude):
    """Width 1, one step, both rules, both initialisations: success is rare."""
    trials = _minimal_trials(suite)
    design = stats.design_upper_bound(trials, MINIMAL_PLAUSIBLE, MINIMAL_BOUND, p_alt=0.7)
    seeds = suite.seeds(trials)
    rows, estimates, experiments = [], [], []
    for rule, init in MINIMAL_SETTINGS:
        experiment = suite.profile.experiment(rule=rule, init=init, width=1, steps=1)
        trial_rows = suite.store.rows(experiment, seeds)
        wins = int(trial_rows.success.sum())
        estimate = rate(f"success rate ({rule} rule, {init} init)", trial_rows)
        experiments.append(experiment.key)
        estimates.append(estimate)
        rows.append({
            "rule": rule,
            "init": init,
            "successes": f"{wins}/{trials}",
            "rate [95% CI]": str(stats.proportion_interval(wins, trials)),
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


# -- the success sweep: GOL-WIDTH-HELPS, GOL-STEPS-HURT, GOL-BEST-OF-K, GOL-LOSS-FOOLS ----------

def _trend_verdict(forward: stats.TestResult, backward: stats.TestResult) -> str:
    if forward.p_value < SWEEP_ALPHA:
        return "reproduced"
    if backward.p_value < SWEEP_ALPHA:
        return "refuted"
    return "inconclusive"


@pytest.mark.claim("GOL-WIDTH-HELPS")
@pytest.mark.xdist_group("sweep")  # shares trials: one worker trains them
def test_gol_width_helps(suite, conclude):
    """Success rate rises with width (one-sided Cochran-Armitage trend test per step count)."""
    n, cells, keys = sweep_cells(suite)
    widths, all_steps = suite.profile.sweep_widths, suite.profile.sweep_steps
    design, _ = sweep_design(suite.profile)
    rows, tests = [], {}
    for steps in all_steps:
        wins = [int(cells[(steps, m)].success.sum()) for m in widths]
        up = stats.trend_test(wins, [n] * len(widths), alternative="increasing")
        down = stats.trend_test(wins, [n] * len(widths), alternative="decreasing")
        tests[steps] = (up, down)
        for m, w in zip(widths, wins, strict=True):
            rows.append({"steps": steps, "width": m, "successes": f"{w}/{n}",
                         "rate [95% CI]": str(stats.proportion_interval(w, n)),
                         "mean match rate": float(cells[(steps, m)].match_rate.mean()),
                         "trend p (increasing)": up.p_value})
    holm = stats.holm([tests[s][0].p_value for s in all_steps])
    for row in rows:
        row["Holm-adjusted p"] = holm[all_steps.index(row["steps"])]
    first = all_steps[0]
    up, down = tests[first]
    verdict = _trend_verdict(up, down)
    path, rel = suite.figure("gol-width-helps")
    plot_rates(
        {f"{s} step{'s' if s > 1 else ''}": [(m, int(cells[(s, m)].success.sum()), n)
                                              for m in widths] for s in all_steps},
        "width multiplier m", "Success rate against width (95% Wilson intervals)", path,
        logx=max(widths) > 10,
    )
    widest = rate(f"success at m={widths[-1]}, {first} step", cells[(first, widths[-1])])
    narrowest = rate(f"success at m={widths[0]}, {first} step", cells[(first, widths[0])])
    conclude(Verdict(
        claim_id="GOL-WIDTH-HELPS",
        verdict=verdict,
        summary=(f"at {first} step success rose from {narrowest.successes}/{n} (m={widths[0]}) "
                 f"to {widest.successes}/{n} (m={widths[-1]}); one-sided trend test p = "
                 f"{up.p_value:.2g} against the level {SWEEP_ALPHA}"),
        estimates=[widest, narrowest] + [
            rate(f"success at m={m}, {s} steps", cells[(s, m)])
            for s in all_steps for m in widths if (s, m) not in ((first, widths[0]),
                                                                 (first, widths[-1]))
        ],
        test="Cochran-Armitage trend test, one-sided (increasing with width), at 1 step; "
             "other step counts reported with Holm-adjusted p-values",
        p_value=up.p_value,
        threshold=f"reproduced if p < {SWEEP_ALPHA} (increasing); refuted if the decreasing "
                  f"test has p < {SWEEP_ALPHA}",
        design=str(design),
        false_failure=design.false_failure,
        trials=n * len(widths) * len(all_steps),
        experiments=keys,
        protocol=sweep_protocol(suite, n),
        table=rows,
        figures=[rel],
        notes=f"The widest setting's rate at {first} step: {widest}.",
    ))


@pytest.mark.claim("GOL-STEPS-HURT")
@pytest.mark.xdist_group("sweep")  # shares trials: one worker trains them
def test_gol_steps_hurt(suite, conclude):
    """At the widest setting, success falls with the number of steps (one-sided trend test)."""
    n, cells, keys = sweep_cells(suite)
    width = suite.profile.sweep_widths[-1]
    all_steps = suite.profile.sweep_steps
    _, design = sweep_design(suite.profile)
    wins = [int(cells[(s, width)].success.sum()) for s in all_steps]
    down = stats.trend_test(wins, [n] * len(all_steps), alternative="decreasing")
    up = stats.trend_test(wins, [n] * len(all_steps), alternative="increasing")
    verdict = _trend_verdict(down, up)
    estimates = [rate(f"success at {s} steps, m={width}", cells[(s, width)]) for s in all_steps]
    table = [{"steps": s, "successes": f"{e.successes}/{n}", "rate [95% CI]":
              f"{e.value:.2f} [{e.low:.2f}, {e.high:.2f}]",
              "mean match rate": float(cells[(s, width)].match_rate.mean())}
             for s, e in zip(all_steps, estimates, strict=True)]
    path, rel = suite.figure("gol-steps-hurt")
    plot_rates({f"m = {width}": [(s, w, n) for s, w in zip(all_steps, wins, strict=True)]},
               "steps predicted", f"Success rate against steps at width {width}", path)
    conclude(Verdict(
        claim_id="GOL-STEPS-HURT",
        verdict=verdict,
        summary=(f"at width {width} success went " + " -> ".join(f"{w}/{n}" for w in wins) +
                 f" over steps {', '.join(map(str, all_steps))}; one-sided trend test p = "
                 f"{down.p_value:.2g} against the level {SWEEP_ALPHA}"),
        estimates=estimates,
        test="Cochran-Armitage trend test, one-sided (decreasing with steps)",
        p_value=down.p_value,
        threshold=f"reproduced if p < {SWEEP_ALPHA}; refuted if the increasing test has p < "
                  f"{SWEEP_ALPHA}",
        design=str(design),
        false_failure=design.false_failure,
        trials=n * len(all_steps),
        experiments=keys,
        protocol=sweep_protocol(suite, n),
        table=table,
        figures=[rel],
    ))


BEST_OF = (1, 2, 4, 8)


def _best_of_k_passes(wins: int, n: int, k: int = 8) -> bool:
    """Keeping the best of k helps: best-of-k's lower bound beats one run's upper bound."""
    interval = stats.proportion_interval(wins, n)
    return 1 - (1 - interval.low) ** k > interval.high


@pytest.mark.claim("GOL-BEST-OF-K")
@pytest.mark.xdist_group("sweep")  # shares trials: one worker trains them
def test_gol_best_of_k(suite, conclude):
    """Best-of-k success from the sweep's trials against 1 - (1 - p)^k."""
    n, cells, keys = sweep_cells(suite)
    first = suite.profile.sweep_steps[0]
    widths = suite.profile.sweep_widths
    rows, passing = [], []
    for m in widths:
        outcomes = cells[(first, m)].success.to_numpy()
        wins = int(outcomes.sum())
        interval = stats.proportion_interval(wins, n)
        for k in BEST_OF:
            rows.append({
                "width": m, "k": k, "one run": f"{wins}/{n}",
                "best of k (from the trials)": stats.best_of_k(outcomes, k),
                "1-(1-p)^k": stats.best_of_k_expected(interval.estimate, k),
                "95% CI": f"[{stats.best_of_k_expected(interval.low, k):.3f}, "
                          f"{stats.best_of_k_expected(interval.high, k):.3f}]",
            })
        if _best_of_k_passes(wins, n):
            passing.append(m)
    # false failure: no width passes although each width's rate is as plausible as assumed
    plausible = np.interp(np.linspace(0, 3, len(widths)), range(4), WIDTH_PLAUSIBLE)
    fail_all = 1.0
    for p in plausible:
        fail_all *= sum(binom.pmf(k, n, p) for k in range(n + 1)
                        if not _best_of_k_passes(k, n))
    verdict = "reproduced" if passing else "inconclusive"
    path, rel = suite.figure("gol-best-of-k")
    plot_curves({f"m = {m}": np.array([[r["best of k (from the trials)"] for r in rows
                                        if r["width"] == m]]) for m in widths},
                "networks trained (k)", "chance that the best of k succeeds",
                f"Best of k at {first} step", path, x=np.array(BEST_OF))
    best = max(widths, key=lambda m: cells[(first, m)].success.sum() if m in passing else -1)
    conclude(Verdict(
        claim_id="GOL-BEST-OF-K",
        verdict=verdict,
        summary=(f"keeping the best of 8 raised success significantly at widths {passing} "
                 f"(lower 95% bound of 1-(1-p)^8 above the upper bound of one run)"
                 if passing else "at no width did best-of-8 beat one run beyond the intervals"),
        estimates=[rate(f"one run at m={m}", cells[(first, m)]) for m in
                   ([best] if passing else []) + [w for w in widths if w != best or not passing]],
        test="Wilson intervals of one run's rate, mapped through 1-(1-p)^k",
        threshold="reproduced if at some width 1-(1-low)^8 > high; the empirical best-of-k "
                  "(drawn without replacement from the same trials) is shown beside the formula",
        design=f"{n} trials per width; false-failure {fail_all:.2e} (chance that no width "
               f"passes when the rates are {', '.join(f'{p:.2f}' for p in plausible)})",
        false_failure=fail_all,
        trials=n * len(widths),
        experiments=keys,
        protocol=sweep_protocol(suite, n),
        table=rows,
        figures=[rel],
    ))


@pytest.mark.claim("GOL-LOSS-FOOLS")
@pytest.mark.xdist_group("sweep")  # shares trials: one worker trains them
def test_gol_loss_fools(suite, conclude):
    """Failed runs: the loss fell and per-cell accuracy beats the all-dead predictor."""
    n, cells, keys = sweep_cells(suite)
    failed = pd.concat([rows[~rows.success] for rows in cells.values()], ignore_index=True)
    winners = pd.concat([rows[rows.success] for rows in cells.values()], ignore_index=True)
    baselines = {}
    for steps, _ in cells:
        tests = eval_set(suite.profile.sweep.rule, steps)
        baselines[steps] = 1.0 - float(tests.targets.mean())  # all-dead cell accuracy
    failed_steps = pd.concat([pd.Series([s] * int((~r.success).sum())) for (s, _), r in
                              cells.items()], ignore_index=True)
    baseline = failed_steps.map(baselines).to_numpy()
    fell = int((failed.final_loss < failed.initial_loss).sum())
    above = int((failed.cell_accuracy.to_numpy() > baseline).sum())
    total = len(failed)
    fell_i = stats.proportion_interval(fell, total)
    above_i = stats.proportion_interval(above, total)
    if fell_i.low > 0.5 and above_i.low > 0.5:
        verdict = "reproduced"
    elif fell_i.high < 0.5 or above_i.high < 0.5:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    design = stats.design_lower_bound(max(total, 1), 0.8, 0.5)
    path, rel = suite.figure("gol-loss-fools")
    curves = {"failed runs": np.stack(failed.loss_curve.to_numpy())[:40]}
    if len(winners):
        curves["successful runs"] = np.stack(winners.loss_curve.to_numpy())[:40]
    record = suite.profile.sweep.record_every
    plot_curves(curves, "batch", "training loss (mean BCE)", "Training loss of sweep runs",
                path, logy=True, x=np.arange(1, len(failed.loss_curve[0]) + 1) * record)
    table = [
        {"runs": "failed", "count": total,
         "median initial loss": float(failed.initial_loss.median()),
         "median final loss": float(failed.final_loss.median()),
         "median cell accuracy": float(failed.cell_accuracy.median()),
         "median board match rate": float(failed.match_rate.median())},
        {"runs": "successful", "count": len(winners),
         "median initial loss": float(winners.initial_loss.median()) if len(winners) else None,
         "median final loss": float(winners.final_loss.median()) if len(winners) else None,
         "median cell accuracy": float(winners.cell_accuracy.median()) if len(winners) else None,
         "median board match rate": float(winners.match_rate.median()) if len(winners) else None},
    ]
    conclude(Verdict(
        claim_id="GOL-LOSS-FOOLS",
        verdict=verdict,
        summary=(f"of {total} failed runs the loss fell in {fell} ({fell_i}) and per-cell "
                 f"accuracy beat the all-dead predictor in {above} ({above_i}); median cell "
                 f"accuracy {failed.cell_accuracy.median():.3f} while no run got every board"),
        estimates=[
            Estimate("failed runs whose loss fell", fell_i.estimate, fell_i.low, fell_i.high,
                     fell, total),
            Estimate("failed runs beating all-dead cell accuracy", above_i.estimate,
                     above_i.low, above_i.high, above, total),
        ],
        test="Wilson intervals of the two shares among failed runs",
        threshold="reproduced if both lower bounds > 0.5; refuted if either upper bound < 0.5",
        design=f"{design} (per share; both must pass)",
        false_failure=2 * design.false_failure,
        trials=total,
        experiments=keys,
        protocol=sweep_protocol(suite, n),
        table=table,
        figures=[rel],
        notes="Initial and final loss are taken on the same 256 fixed training-size boards; "
              "cell accuracy and board match on the 1000 random 5x5 test boards.",
    ))


# -- GOL-SIGN-FLIP --------------------------------------------------------------------------------

FLIPS = (0, 1, 2, 4, 8)
FLIP_ALPHA = 0.01
# success from the exact weights, and after one flip where the claim holds
FLIP_PLAUSIBLE = (0.95, 0.5)


def _flip_design() -> stats.Design:
    def design(n: int) -> stats.Design:
        return stats.design_two_proportions(n, FLIP_PLAUSIBLE[0], n, FLIP_PLAUSIBLE[1],
                                            FLIP_ALPHA, test="fisher", alternative="greater")

    return stats.smallest_trials(SWEEP_CANDIDATES, design, 1e-3)


@pytest.mark.claim("GOL-SIGN-FLIP")
def test_gol_sign_flip(suite, conclude):
    """Start from the exact weights with k signs flipped: success against k (Springer's setting)."""
    design = _flip_design()
    n = design.trials // 2
    seeds = suite.seeds(n)
    rows, keys, wins = [], [], []
    for k in FLIPS:
        experiment = suite.profile.springer.replace(start="hand_built", sign_flips=k)
        trials = suite.store.rows(experiment, seeds)
        keys.append(experiment.key)
        wins.append(int(trials.success.sum()))
        rows.append({"sign flips": k, "successes": f"{wins[-1]}/{n}",
                     "rate [95% CI]": str(stats.proportion_interval(wins[-1], n)),
                     "mean match rate": float(trials.match_rate.mean()),
                     "mean final loss": float(trials.final_loss.mean())})
    test = stats.fisher_two_proportions(wins[0], n, wins[1], n, alternative="greater")
    reverse = stats.fisher_two_proportions(wins[0], n, wins[1], n, alternative="less")
    trend = stats.trend_test(wins, [n] * len(FLIPS), scores=list(FLIPS),
                             alternative="decreasing")
    if test.p_value < FLIP_ALPHA:
        verdict = "reproduced"
    elif reverse.p_value < FLIP_ALPHA:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    path, rel = suite.figure("gol-sign-flip")
    plot_rates({"conway rule, springer net, m = 1": [(k, w, n) for k, w in
                                                     zip(FLIPS, wins, strict=True)]},
               "weights whose sign was flipped", "Training from the exact weights with flips",
               path)
    e = suite.profile.springer
    conclude(Verdict(
        claim_id="GOL-SIGN-FLIP",
        verdict=verdict,
        summary=(f"from the exact weights {wins[0]}/{n} runs succeeded; with one sign flipped "
                 f"{wins[1]}/{n}; one-sided Fisher p = {test.p_value:.2g} against the level "
                 f"{FLIP_ALPHA}"),
        estimates=[count_rate(f"success with {k} flips", w, n)
                   for k, w in zip(FLIPS, wins, strict=True)],
        test="Fisher exact test, one-sided (no flip > one flip); trend over flips reported",
        p_value=test.p_value,
        threshold=f"reproduced if p < {FLIP_ALPHA}; refuted if one flip succeeds more often at "
                  f"that level",
        design=str(design),
        false_failure=design.false_failure,
        trials=n * len(FLIPS),
        experiments=keys,
        protocol=[
            {"setting": "network", "value": "springer, width 1, one step, ReLU, sigmoid output"},
            {"setting": "start", "value": "the hand-built exact weights with k randomly chosen "
                                          "nonzero weights' signs flipped (chosen per seed)"},
            {"setting": "training", "value": f"Adam {e.learning_rate:g}, {e.batches} batches of "
                                              f"{e.batch_size} {e.board_size}x{e.board_size} "
                                              f"boards, conway rule, density {e.density}"},
        ],
        table=rows,
        figures=[rel],
        notes=f"Trend over {FLIPS} flips (one-sided, decreasing): p = {trend.p_value:.2g}.",
    ))


# -- GOL-BRUTE-FORCE ------------------------------------------------------------------------------


@pytest.mark.claim("GOL-BRUTE-FORCE")
@pytest.mark.xdist_group("minimal")  # shares trials: one worker trains them
def test_gol_brute_force(suite, conclude):
    """Count the 3x3 configurations, and read the learned truth tables over exactly those."""
    windows = local_configurations("conway")
    distinct = len({w.tobytes() for w in windows})
    relevant = local_configurations("firner", relevant_only=True)
    truth = next_centre(windows, "firner")
    # corners are irrelevant under firner: windows that agree on the 5 relevant cells agree
    cells = get_rule("firner").relevant_cells
    by_relevant: dict[tuple, set[int]] = {}
    for window, value in zip(windows, truth, strict=True):
        by_relevant.setdefault(tuple(window[r, c] for r, c in cells), set()).add(int(value))
    corner_free = len(by_relevant) == 32 and all(len(v) == 1 for v in by_relevant.values())
    n = _minimal_trials(suite)
    rows, consistent, keys, errors = [], True, [], {}
    for rule in ("firner", "conway"):
        experiment = suite.profile.experiment(rule=rule, init="pytorch", width=1, steps=1)
        trials = suite.store.rows(experiment, suite.seeds(n))
        keys.append(experiment.key)
        consistent &= bool(((trials.table_errors == 0) == trials.success).all())
        failed = trials[~trials.success].table_errors.to_numpy()
        errors[rule] = failed
        size = 32 if rule == "firner" else 512
        rows.append({
            "rule": rule, "configurations": size, "failed networks": len(failed),
            "wrong configurations (median)": float(np.median(failed)) if len(failed) else None,
            "min": int(failed.min()) if len(failed) else None,
            "max": int(failed.max()) if len(failed) else None,
            "failed with <= 2 wrong": int((failed <= 2).sum()),
        })
    counts_right = distinct == 2**9 == 512 and len(relevant) == 2**5 == 32 and corner_free
    verdict = "reproduced" if counts_right and consistent else "refuted"
    path, rel = suite.figure("gol-brute-force")
    plot_histograms({f"{r} rule (of {32 if r == 'firner' else 512})": e.astype(float)
                     for r, e in errors.items() if len(e)},
                    "configurations a failed network gets wrong",
                    "Learned one-step truth tables of failed minimal networks", path)
    conclude(Verdict(
        claim_id="GOL-BRUTE-FORCE",
        verdict=verdict,
        summary=(f"{distinct} distinct 3x3 windows (2^9); {len(relevant)} once the corners are "
                 f"ignored (2^5), and the firner rule's truth table "
                 f"{'does not' if corner_free else 'does'} depend on the corners; success equals "
                 f"a perfect truth table for {'every' if consistent else 'not every'} trained "
                 f"network"),
        estimates=[Estimate("distinct 3x3 windows", float(distinct)),
                   Estimate("windows without corners", float(len(relevant)))],
        test="enumeration",
        threshold="2^9 = 512 and 2^5 = 32 windows; success iff the learned table is right on "
                  "every relevant window",
        design="deterministic enumeration: false-failure chance 0",
        false_failure=0.0,
        trials=n * 2,
        experiments=keys,
        protocol=[{"setting": "trials", "value": f"GOL-MINIMAL-FAILS' runs with pytorch init, "
                                                 f"{n} seeds per rule"}],
        table=rows,
        figures=[rel],
        notes="The post says brute force 'would take 2048 filters'; 2^9 is 512. A failed "
              "network's truth table is read at the centre of every 3x3 window.",
    ))


# -- GOL-ALLDEAD-PLATEAU --------------------------------------------------------------------------

COLLAPSE_BOARDS = 0.95  # a network "predicts all-dead" when it does so on >= 95% of test boards
# share of failed deep networks that collapse where the claim holds (pilot: 42/42 at 10-20 steps)
COLLAPSE_PLAUSIBLE = 0.85
MATCH_TOLERANCE = 0.03  # collapsed networks' match rate vs the exact all-dead share


@pytest.mark.claim("GOL-ALLDEAD-PLATEAU")
def test_gol_alldead_plateau(suite, conclude):
    """At long horizons, failed networks predict all-dead; ~50% is the share of boards that die."""
    sweep = suite.profile.sweep
    horizon = max(20, max(suite.profile.deep_steps))
    shares = suite.store.derived(
        f"alldead-{sweep.rule}-5x5-d{sweep.eval_density}-n{horizon}",
        lambda: all_dead_shares(sweep.rule, horizon, 5, sweep.eval_density),
    )
    deep = suite.profile.deep_steps
    per_step = trials_for_lower_bound(COLLAPSE_PLAUSIBLE, 0.5, 1e-3, stable_window=4)
    n = max(8, -(-per_step // len(deep)))
    seeds = suite.seeds(n)
    rows, keys, frames = [], [], []
    for steps in deep:
        experiment = sweep.replace(steps=steps, width=suite.profile.deep_width)
        trials = suite.store.rows(experiment, seeds)
        keys.append(experiment.key)
        failed = trials[~trials.success]
        collapsed = failed[failed.all_dead_rate >= COLLAPSE_BOARDS]
        frames.append((steps, failed, collapsed))
        rows.append({
            "steps": steps, "all-dead share (exact)": float(shares[steps]),
            "mean match rate": float(trials.match_rate.mean()),
            "failed": f"{len(failed)}/{n}",
            "collapsed to all-dead": f"{len(collapsed)}/{len(failed)}",
            "collapsed nets' mean match rate": float(collapsed.match_rate.mean())
            if len(collapsed) else None,
        })
    failed_total = sum(len(f) for _, f, _ in frames)
    collapsed_total = sum(len(c) for _, _, c in frames)
    gaps = [abs(float(c.match_rate.mean()) - float(shares[s])) for s, _, c in frames if len(c)]
    share = stats.proportion_interval(collapsed_total, max(failed_total, 1))
    if failed_total and share.low > 0.5 and max(gaps, default=1.0) <= MATCH_TOLERANCE:
        verdict = "reproduced"
    elif failed_total and share.high < 0.5:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    design = stats.design_lower_bound(max(failed_total, 1), COLLAPSE_PLAUSIBLE, 0.5)
    path, rel = suite.figure("gol-alldead-plateau")
    steps_axis = np.arange(1, horizon + 1)
    jitter = np.random.default_rng(0)
    plot_curve_and_points(
        steps_axis, shares[1:], "exact all-dead share of random 5x5 boards",
        {"trained networks' match rate": (
            np.concatenate([np.full(len(f), s) + jitter.uniform(-0.2, 0.2, len(f))
                            for s, f, _ in frames]),
            np.concatenate([f.match_rate.to_numpy() for _, f, _ in frames]))},
        "steps", "share of test boards",
        "Boards that die out, and what failed networks match", path,
    )
    conclude(Verdict(
        claim_id="GOL-ALLDEAD-PLATEAU",
        verdict=verdict,
        summary=(f"{collapsed_total} of {failed_total} failed networks at steps "
                 f"{', '.join(map(str, deep))} predicted all-dead on >= {COLLAPSE_BOARDS:.0%} of "
                 f"boards ({share}); the exact share of random 5x5 boards that die out is "
                 + ", ".join(f"{shares[s]:.3f} at {s}" for s in deep)),
        estimates=[Estimate("failed networks collapsed to all-dead", share.estimate, share.low,
                            share.high, collapsed_total, failed_total)]
        + [Estimate(f"exact all-dead share at {s} steps", float(shares[s])) for s in deep],
        test="Wilson interval of the collapsed share; collapsed networks' match rate against "
             "the exact all-dead share",
        threshold=f"reproduced if the lower bound > 0.5 and every gap <= {MATCH_TOLERANCE}; "
                  f"refuted if the upper bound < 0.5",
        design=str(design),
        false_failure=design.false_failure,
        trials=n * len(deep),
        experiments=keys,
        protocol=sweep_protocol(suite, n)[:2] + [
            {"setting": "width", "value": suite.profile.deep_width},
            {"setting": "steps", "value": ", ".join(map(str, deep))},
            {"setting": "all-dead share", "value": "exact: every 5x5 board enumerated with its "
                                                    "probability (density 0.5)"}],
        table=rows + [{"steps": s, "all-dead share (exact)": float(shares[s])}
                      for s in range(1, horizon + 1) if s not in deep],
        figures=[rel],
    ))


# -- GOL-CORNERS ----------------------------------------------------------------------------------

CORNER_SNAPSHOTS = (0.1, 1 / 3, 1.0)  # fractions of the sweep's batches when weights are read
CORNER_WIDTH = 2
CORNER_ALPHA = 0.01
CORNER_SHRINK = 0.5  # "go to zero": the median corner/edge ratio at least halves over training


def corner_edge_ratio(weights: list[np.ndarray]) -> float:
    """Mean |corner| over mean |edge| weight of the first 3x3 layer's filters."""
    kernel = np.abs(weights[0][:, :, 0, :])
    corners = kernel[[0, 0, 2, 2], [0, 2, 0, 2]].mean()
    edges = kernel[[0, 1, 1, 2], [1, 0, 2, 1]].mean()
    return float(corners / max(edges, 1e-12))


CORNER_PLAUSIBLE = (-1.5, 1.0)  # log of the ratio's factor where corners "go to zero": mean, sd


def _corner_design(n: int) -> float:
    """Exact false-failure chance: the sign test misses, or the median factor stays above 0.5.

    Under the plausible effect each network's log factor is Normal(-1.5, 1): it falls with
    chance q1 = Phi(1.5) and falls below log 0.5 with chance q2; both counts are binomial.
    """
    from scipy.stats import binomtest, norm

    mean, sd = CORNER_PLAUSIBLE
    q_fall = norm.cdf(-mean / sd)
    q_half = norm.cdf((np.log(CORNER_SHRINK) - mean) / sd)
    misses = sum(binom.pmf(k, n, q_fall) for k in range(n + 1)
                 if binomtest(k, n, 0.5, alternative="greater").pvalue >= CORNER_ALPHA)
    median_high = binom.cdf(n // 2, n, q_half)  # at most half below log 0.5
    return float(misses + median_high)


@pytest.mark.claim("GOL-CORNERS")
@pytest.mark.xdist_group("sweep")  # shares trials: one worker trains them
def test_gol_corners(suite, conclude):
    """Corner weights shrink relative to edge weights under firner, not under conway."""
    from scipy.stats import mannwhitneyu

    from lifetf.nets.train import starting_weights

    n = next(k for k in SWEEP_CANDIDATES if _corner_design(k) <= 1e-3)
    seeds = suite.seeds(n)
    base = suite.profile.sweep.replace(width=CORNER_WIDTH, steps=1)
    every = base.record_every
    checkpoints = sorted({max(every, round(base.batches * f / every) * every)
                          for f in CORNER_SNAPSHOTS})
    ratios, keys, rows = {}, [], []
    for rule in ("firner", "conway"):
        start = np.array([corner_edge_ratio(starting_weights(base.replace(rule=rule), s))
                          for s in seeds])
        ratios[rule] = {0: start}
        for batches in checkpoints:
            experiment = base.replace(rule=rule, batches=batches)
            trials = suite.store.rows(experiment, seeds)
            keys.append(experiment.key)
            ratios[rule][batches] = np.array([corner_edge_ratio(w) for w in trials.weights])
        for batches, values in ratios[rule].items():
            rows.append({"rule": rule, "batches": batches,
                         "median corner/edge ratio": float(np.median(values)),
                         "quartiles": f"{np.quantile(values, 0.25):.3f} - "
                                      f"{np.quantile(values, 0.75):.3f}"})
    last = checkpoints[-1]
    change = np.log(ratios["firner"][last] / ratios["firner"][0])
    fell = int((change < 0).sum())
    shrink = stats.binomial_upper_test(fell, n, 0.5, alternative="greater")
    grew = stats.binomial_upper_test(fell, n, 0.5, alternative="less")
    control = mannwhitneyu(ratios["firner"][last], ratios["conway"][last], alternative="less")
    factor = float(np.exp(np.median(change)))
    if shrink.p_value < CORNER_ALPHA and factor <= CORNER_SHRINK:
        verdict = "reproduced"
    elif grew.p_value < CORNER_ALPHA:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    path, rel = suite.figure("gol-corners")
    x = np.array([0, *checkpoints])
    plot_curves({f"{rule} rule": np.stack([ratios[rule][b] for b in x], axis=1)
                 for rule in ("firner", "conway")},
                "batches", "mean |corner| / mean |edge| (first 3x3 layer)",
                "Corner against edge weights during training", path, x=x)
    ff = _corner_design(n)
    conclude(Verdict(
        claim_id="GOL-CORNERS",
        verdict=verdict,
        summary=(f"under the firner rule the median corner/edge ratio went from "
                 f"{np.median(ratios['firner'][0]):.3f} to {np.median(ratios['firner'][last]):.3f}"
                 f" (median factor {factor:.2f}; it fell in {fell}/{n} networks, sign test "
                 f"p = {shrink.p_value:.2g}); under "
                 f"conway it ended at {np.median(ratios['conway'][last]):.3f} (rank-sum p = "
                 f"{control.pvalue:.2g})"),
        estimates=[Estimate("median factor of the firner corner/edge ratio", factor),
                   Estimate("median final ratio, firner",
                            float(np.median(ratios["firner"][last]))),
                   Estimate("median final ratio, conway",
                            float(np.median(ratios["conway"][last])))],
        test="sign test, one-sided (the firner ratio falls); Mann-Whitney against the conway "
             "control reported",
        p_value=shrink.p_value,
        threshold=f"reproduced if p < {CORNER_ALPHA} and the median factor <= {CORNER_SHRINK}; "
                  f"refuted if the ratio grows in significantly more than half the networks",
        design=f"{n} networks per rule; false-failure {ff:.1e} (exact binomial) when each "
               f"network's log factor is Normal{CORNER_PLAUSIBLE}",
        false_failure=ff,
        trials=n * 2 * len(checkpoints),
        experiments=keys,
        protocol=sweep_protocol(suite, n)[:2] + [
            {"setting": "width", "value": CORNER_WIDTH},
            {"setting": "snapshots", "value": "weights after " + ", ".join(map(str, checkpoints))
             + " batches (runs of that length share the longer run's boards and updates)"}],
        table=rows,
        figures=[rel],
        notes=f"Control: at the end the firner ratio is below the conway ratio with one-sided "
              f"Mann-Whitney p = {control.pvalue:.2g}.",
    ))


# -- GOL-TRICKS --------------------------------------------------------------------------------

TRICKS = {
    "plain (ReLU, clamp, pytorch init)": {},
    "sigmoid output": {"output": "sigmoid"},
    "LeakyReLU": {"activation": "leaky_relu"},
    "normalize init (+ dropout)": {"init": "normalize"},
    "all three": {"output": "sigmoid", "activation": "leaky_relu", "init": "normalize"},
}
TRICKS_ALPHA = 1e-3  # for "reproduced"; small, because "refuted" is the other decidable outcome
TRICKS_FAR = 0.3  # "far more often": at least 0.3 more success (the plausible effect is 0.5)
TRICKS_PLAUSIBLE = (0.1, 0.6)  # plain and all tricks, where the claim holds
TRICKS_SINGLE = 24  # trials for each single trick, shown for context only


def _difference_upper(all_wins: int, plain_wins: int, n: int) -> float:
    """One-sided 95% upper bound of p_all - p_plain: the top of a 90% percentile bootstrap."""
    from scipy.stats import bootstrap

    a = np.r_[np.ones(all_wins), np.zeros(n - all_wins)]
    b = np.r_[np.ones(plain_wins), np.zeros(n - plain_wins)]
    if a.std() == 0 and b.std() == 0:
        return float(a.mean() - b.mean())
    result = bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis) - y.mean(axis),
                       n_resamples=9999, method="percentile", confidence_level=0.9,
                       random_state=0, vectorized=True)
    return float(result.confidence_interval.high)


@pytest.mark.claim("GOL-TRICKS")
def test_gol_tricks(suite, conclude):
    """Each trick alone and all together against the plain network, equal width and budget."""
    width = suite.profile.tricks_width
    design = stats.smallest_trials(
        [c for c in SWEEP_CANDIDATES + (96, 128, 256, 512) if c <= suite.profile.max_trials],
        lambda k: stats.design_two_proportions(k, TRICKS_PLAUSIBLE[1], k, TRICKS_PLAUSIBLE[0],
                                               TRICKS_ALPHA, alternative="greater"),
        1e-3,
    )
    n = design.trials // 2
    base = suite.profile.sweep.replace(width=width, steps=1, output="clamp", activation="relu",
                                       init="pytorch")
    results, keys, rows = {}, [], []
    for name, change in TRICKS.items():
        count = n if name in ("plain (ReLU, clamp, pytorch init)", "all three") else min(
            n, TRICKS_SINGLE)
        experiment = base.replace(**change)
        trials = suite.store.rows(experiment, suite.seeds(count))
        keys.append(experiment.key)
        results[name] = trials
        rows.append({"setting": name, "successes": f"{int(trials.success.sum())}/{count}",
                     "rate [95% CI]": str(stats.proportion_interval(int(trials.success.sum()),
                                                                    count)),
                     "mean match rate": float(trials.match_rate.mean()),
                     "mean cell accuracy": float(trials.cell_accuracy.mean())})
    plain = int(results["plain (ReLU, clamp, pytorch init)"].success.sum())
    every = int(results["all three"].success.sum())
    test = stats.fisher_two_proportions(every, n, plain, n, alternative="greater")
    upper = _difference_upper(every, plain, n)
    if test.p_value < TRICKS_ALPHA:
        verdict = "reproduced"
    elif upper < TRICKS_FAR:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    path, rel = suite.figure("gol-tricks")
    plot_bars({name: float(t.success.mean()) for name, t in results.items()}, "success rate",
              f"Tricks at width {width} (equal budget), 95% Wilson intervals", path,
              errors={name: (stats.proportion_interval(int(t.success.sum()), len(t)).low,
                             stats.proportion_interval(int(t.success.sum()), len(t)).high)
                      for name, t in results.items()})
    conclude(Verdict(
        claim_id="GOL-TRICKS",
        verdict=verdict,
        summary=(f"at width {width} all three tricks succeeded {every}/{n} against {plain}/{n} "
                 f"for the plain network (one-sided Fisher p = {test.p_value:.2g}; 95% upper "
                 f"bound of the difference {upper:.2f}, against {TRICKS_FAR} for 'far more')"),
        estimates=[rate("success, all three tricks", results["all three"]),
                   rate("success, plain", results["plain (ReLU, clamp, pytorch init)"])],
        test="Fisher exact test, one-sided (all tricks > plain); bootstrap upper bound of the "
             "difference",
        p_value=test.p_value,
        threshold=f"reproduced if p < {TRICKS_ALPHA:g}; refuted if the difference's upper bound "
                  f"< {TRICKS_FAR}",
        design=f"{design}; a true difference of 0 is refuted unless its bound exceeds "
               f"{TRICKS_FAR}, about 5 standard errors away at this size",
        false_failure=design.false_failure,
        trials=sum(len(t) for t in results.values()),
        experiments=keys,
        protocol=sweep_protocol(suite, n)[1:2] + [
            {"setting": "width", "value": width},
            {"setting": "plain network", "value": "ReLU, clamp output, pytorch init"},
            {"setting": "post 1", "value": "with the tricks and m = 5 one step trained "
                                           "successfully every time (batch 128, 10000 batches)"}],
        table=rows,
        figures=[rel],
    ))


# -- GOL-DENSITY --------------------------------------------------------------------------------

DENSITIES = (0.2, 0.38, 0.5)
DENSITY_ALPHA = 0.01  # each of the two one-sided comparisons, Holm-adjusted
DENSITY_PLAUSIBLE = (0.05, 0.25, 0.10)  # a peak at d0 = 0.38 where the claim holds


def _density_design(n: int) -> float:
    """Chance that at least one of the two comparisons misses the plausible peak (union bound)."""
    centre = DENSITY_PLAUSIBLE[1]
    return sum(stats.design_two_proportions(n, centre, n, edge, DENSITY_ALPHA / 2,
                                            alternative="greater").false_failure
               for edge in (DENSITY_PLAUSIBLE[0], DENSITY_PLAUSIBLE[2]))


@pytest.mark.claim("GOL-DENSITY")
def test_gol_density(suite, conclude):
    """Minimal Springer networks at training densities 0.2, 0.38, 0.5: is the peak interior?"""
    candidates = (32, 48, 64, 96, 128, 192, 256, 384, 512)
    needed = next((k for k in candidates if _density_design(k) <= 1e-3), None)
    powered = needed is not None and needed <= suite.profile.max_trials
    n = needed if powered else suite.profile.max_trials
    seeds = suite.seeds(n)
    results, keys = {}, []
    for density in DENSITIES:
        experiment = suite.profile.springer.replace(density=density, width=1, steps=1)
        results[density] = suite.store.rows(experiment, seeds)
        keys.append(experiment.key)
    wins = {d: int(r.success.sum()) for d, r in results.items()}
    centre = DENSITIES[1]
    tests = [stats.fisher_two_proportions(wins[centre], n, wins[d], n, alternative="greater")
             for d in (DENSITIES[0], DENSITIES[2])]
    reverse = [stats.fisher_two_proportions(wins[centre], n, wins[d], n, alternative="less")
               for d in (DENSITIES[0], DENSITIES[2])]
    adjusted = stats.holm([t.p_value for t in tests])
    if not powered:
        verdict = "inconclusive"
    elif max(adjusted) < DENSITY_ALPHA:
        verdict = "reproduced"
    elif min(stats.holm([t.p_value for t in reverse])) < DENSITY_ALPHA:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    path, rel = suite.figure("gol-density")
    plot_rates({"conway rule, springer net, m = 1": [(d, wins[d], n) for d in DENSITIES]},
               "live-cell density of the training boards",
               "Minimal networks against training density", path)
    reason = ("" if powered else
              f" The design needs {needed or '> 512'} trials per density to keep the "
              f"false-failure chance below 1e-3 at the plausible peak; this profile affords "
              f"{suite.profile.max_trials}, so the verdict is inconclusive by design and the "
              f"paper profile decides.")
    conclude(Verdict(
        claim_id="GOL-DENSITY",
        verdict=verdict,
        summary=(", ".join(f"{wins[d]}/{n} at density {d}" for d in DENSITIES)
                 + f"; Holm-adjusted one-sided Fisher p = {adjusted[0]:.2g} (vs {DENSITIES[0]})"
                 + f" and {adjusted[1]:.2g} (vs {DENSITIES[2]})." + reason),
        estimates=[rate(f"success at density {d}", results[d]) for d in DENSITIES],
        test="two one-sided Fisher exact tests (d0 = 0.38 above each edge density), Holm",
        p_value=max(adjusted),
        threshold=f"reproduced if both adjusted p < {DENSITY_ALPHA}; refuted if d0 is "
                  f"significantly below an edge density; inconclusive when underpowered",
        design=(f"{n} trials per density; false-failure {_density_design(n):.2e} at rates "
                f"{DENSITY_PLAUSIBLE} (union bound over the two comparisons)"
                + ("" if powered else "; underpowered at this profile: inconclusive by design")),
        false_failure=_density_design(n) if powered else 0.0,
        trials=n * len(DENSITIES),
        experiments=keys,
        protocol=[{"setting": "network", "value": "springer, width 1, one step, sigmoid"},
                  {"setting": "training", "value": f"{suite.profile.springer.batches} batches "
                   f"of {suite.profile.springer.batch_size} "
                   f"{suite.profile.springer.board_size}x{suite.profile.springer.board_size} "
                   f"boards, conway rule"},
                  {"setting": "densities", "value": ", ".join(map(str, DENSITIES))}],
        table=[{"density": d, "successes": f"{wins[d]}/{n}",
                "rate [95% CI]": str(stats.proportion_interval(wins[d], n)),
                "mean match rate": float(results[d].match_rate.mean())} for d in DENSITIES],
        figures=[rel],
    ))
