"""Command line: ``python -m lifetf train|report|bench``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_seeds(text: str) -> list[int]:
    """'1-20', '3,5,8' or '7' -> a list of distinct non-negative seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                low, high = part.split("-", 1)
                lo, hi = int(low), int(high)
                if hi < lo:
                    raise ValueError
                seeds += range(lo, hi + 1)
            else:
                seeds.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seeds {text!r}: use a range like 1-20, a list like 1,4,9, or one seed"
        ) from None
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"invalid seeds {text!r}: seeds must be distinct and >= 0")
    return seeds


def _train(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from lifetf.nets.experiment import Experiment
    from lifetf.stats import proportion_interval
    from lifetf.suite.store import DEFAULT_CACHE, TrialStore

    try:
        experiment = Experiment(
            rule=args.rule, arch=args.arch, steps=args.steps, width=args.width,
            depth=args.depth, activation=args.activation, output=args.output, init=args.init,
            board_size=args.board_size, density=args.density, batch_size=args.batch_size,
            batches=args.batches, learning_rate=args.learning_rate,
        )
    except ValueError as error:
        print(f"lifetf train: {error}", file=sys.stderr)
        return 2
    store = TrialStore(args.cache_dir or DEFAULT_CACHE, enabled=not args.no_cache,
                       progress=not args.quiet)
    rows = store.rows(experiment, args.seeds)
    shown = rows[["seed", "success", "match_rate", "cell_accuracy", "initial_loss",
                  "final_loss", "table_errors", "train_seconds"]]
    print(tabulate(shown, headers="keys", tablefmt="github", showindex=False, floatfmt=".4g"))
    wins = int(rows.success.sum())
    interval = proportion_interval(wins, len(rows), 0.95, "wilson")
    print(f"\n{experiment.describe()} ({experiment.n_params} parameters)")
    print(f"successes: {wins}/{len(rows)} = {interval} (95% Wilson interval)")
    print(f"trained {store.trained}, loaded from cache {store.loaded}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from lifetf.nets.backends import BACKENDS
    from lifetf.suite.report import collect_provenance, write_report
    from lifetf.suite.session import default_report, results_dir_for
    from lifetf.suite.store import load_verdicts

    report = (args.report or default_report(args.backend)).resolve()
    by_backend = {name: load_verdicts(results_dir_for(report, args.profile, args.seed_base, name))
                  for name in BACKENDS}
    results = results_dir_for(report, args.profile, args.seed_base, args.backend)
    verdicts = by_backend[args.backend]
    if not verdicts:
        print(f"lifetf report: no stored verdicts in {results}; run `pytest claims/` first",
              file=sys.stderr)
        return 1
    provenance = collect_provenance(args.profile, args.seed_base, datetime.now(UTC), 0.0)
    provenance["total_time"] = "rebuilt from stored results (no training)"
    write_report(verdicts, provenance, set(), report, by_backend)
    print(f"report rebuilt from {len(verdicts)} stored verdicts: {report}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from lifetf.nets import bench

    bench.run(args.members, args.window, args.fit_seeds, args.fit_batches,
              tuple(args.workload or bench.WORKLOADS))
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _workloads() -> tuple[str, ...]:
    from lifetf.nets.bench import WORKLOADS

    return tuple(WORKLOADS)


def make_parser() -> argparse.ArgumentParser:
    from lifetf.life.rules import RULES
    from lifetf.nets.models import ACTIVATIONS, ARCHS, INITS, OUTPUTS

    parser = argparse.ArgumentParser(prog="python -m lifetf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train one experiment for many seeds and print the rows")
    t.add_argument("--rule", choices=RULES, default="firner")
    t.add_argument("--arch", choices=ARCHS, default="firner")
    t.add_argument("--steps", type=_positive, default=1)
    t.add_argument("--width", type=_positive, default=1)
    t.add_argument("--depth", type=float, default=1.0)
    t.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    t.add_argument("--output", choices=OUTPUTS, default="clamp")
    t.add_argument("--init", choices=INITS, default="pytorch")
    t.add_argument("--board-size", type=int, default=10)
    t.add_argument("--density", type=float, default=0.5)
    t.add_argument("--batch-size", type=_positive, default=32)
    t.add_argument("--batches", type=int, default=5000)
    t.add_argument("--learning-rate", type=float, default=1e-3)
    t.add_argument("--seeds", type=parse_seeds, default=parse_seeds("1-20"),
                   help="e.g. 1-20 or 1,5,9 (default 1-20)")
    t.add_argument("--no-cache", action="store_true")
    t.add_argument("--cache-dir", type=Path, default=None)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_backend_options(t)
    t.set_defaults(func=_train)

    r = sub.add_parser("report", help="rebuild the report from stored verdicts, no training")
    r.add_argument("--profile", choices=("quick", "paper"), default="quick")
    r.add_argument("--seed-base", type=int, default=0)
    r.add_argument("--report", type=Path, default=None,
                   help="default reports/REPORT.md (reports/REPORT-jax.md for --backend jax)")
    _add_backend_options(r)
    r.set_defaults(func=_report)

    b = sub.add_parser("bench", help="seconds per model at the quick and paper sizes, the "
                       "arithmetic rate against the device's float32 peak, and one fit per seed")
    b.add_argument("--members", type=_positive, default=64, help="members per graph (K)")
    b.add_argument("--window", type=_positive, default=500,
                   help="batches timed per workload after a warm-up chunk (default 500)")
    b.add_argument("--fit-seeds", type=_positive, default=2)
    b.add_argument("--fit-batches", type=_positive, default=1000,
                   help="batches each one-by-one fit trains (scaled to the protocol)")
    b.add_argument("--workload", action="append", choices=list(_workloads()),
                   help="time only these workloads (repeatable; default all)")
    _add_backend_options(b)
    b.set_defaults(func=_bench)
    return parser


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    from lifetf.nets.backends import BACKENDS

    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--allow-tf32", action="store_true",
                        help="let a GPU use TF32 matrix products (recorded in every trial)")


def main(argv: list[str] | None = None) -> int:
    from lifetf.nets.backends import BackendError, select

    args = make_parser().parse_args(argv)
    try:
        args.backend = select(args.backend, args.allow_tf32)
    except BackendError as error:
        print(f"lifetf: {error}", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
