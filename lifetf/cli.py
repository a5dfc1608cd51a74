"""Command line: ``python -m lifetf train|report|bench|plan|run``."""

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

    from lifetf.paths import default_report
    from lifetf.suite.report import rebuilt_provenance, write_report
    from lifetf.suite.session import report_inputs

    report = (args.report or default_report(args.backend)).resolve()
    stored = report_inputs(report, args.profile, args.seed_base, args.backend)
    if not stored.verdicts:
        print(f"lifetf report: no stored verdicts in {stored.results_dir}; run `pytest claims/` "
              f"first", file=sys.stderr)
        return 1
    provenance = rebuilt_provenance(stored.results_dir, args.profile, args.seed_base,
                                    datetime.now(UTC))
    write_report(stored.verdicts, provenance, set(), report, stored.runs, stored.timings)
    print(f"report rebuilt from {len(stored.verdicts)} stored verdicts: {report}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from lifetf.nets import bench
    from lifetf.nets.provenance import device_slug

    if args.phases:
        from lifetf.nets import phases

        phases.run(args.members)
        return 0
    if args.ops:
        from lifetf.nets import operations
        from lifetf.nets.backends import limit_threads

        operations.enable_trace()
        limit_threads(1)
        try:
            operations.check_backend(args.backend)  # before any framework is imported
            operations.run(args.members)
        except operations.TraceError as error:
            print(f"lifetf bench --ops: {error}", file=sys.stderr)
            return 2
        return 0
    if args.linear_paths:
        from lifetf.nets import linear_paths
        from lifetf.nets.backends import limit_threads

        limit_threads(1)  # as each `-n 2` pytest worker trains
        linear_paths.run()
        return 0
    result = bench.run(args.members, args.window, args.fit_seeds, args.fit_batches,
                       tuple(args.workload or bench.WORKLOADS))
    if args.save_calibration:
        path = bench.calibration(result).save(calibration_path(args.cache_dir, device_slug()))
        print(f"calibration saved: {path}")
    return 0


def _calibration(args: argparse.Namespace):
    """The cost model to price a plan with: a file, the H200's or the CPU's committed one, or
    the current device's (its bench calibration if saved, else the committed one)."""
    from lifetf.nets.costs import Calibration, committed
    from lifetf.nets.provenance import device_slug

    if args.calibration:
        return Calibration.load(args.calibration)
    if args.device != "current":
        return committed(args.device)
    saved = calibration_path(args.cache_dir, device_slug())
    return Calibration.load(saved) if saved.exists() else committed(device_slug())


def calibration_path(cache_dir, slug: str) -> Path:
    from lifetf.suite.store import DEFAULT_CACHE

    return Path(cache_dir or DEFAULT_CACHE) / f"calibration-{slug}.json"


def _claims(args: argparse.Namespace):
    """The claims named by --claims (IDs or parts of them), else all."""
    from lifetf.suite.catalogue import catalogue

    if not args.claims:
        return catalogue()
    wanted = [w.strip().upper() for w in args.claims.split(",") if w.strip()]
    chosen = tuple(c for c in catalogue() if any(w in c.id for w in wanted))
    if not chosen:
        raise SystemExit(f"lifetf: --claims {args.claims!r} matches no claim ID")
    return chosen


def _plan(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from lifetf.suite.plan import estimate
    from lifetf.suite.profiles import get_profile

    calibration = _calibration(args)
    rows, total = estimate(get_profile(args.profile), calibration, args.seed_base, _claims(args))
    print(f"profile {args.profile}, priced for {calibration.device} ({calibration.backend}); "
          f"calibration: {calibration.source}")
    print(tabulate([[r.claim, r.experiments, r.models, f"{r.seconds:.0f}"] for r in rows]
                   + [[total.claim, total.experiments, total.models, f"{total.seconds:.0f}"]],
                   headers=["claim", "experiments", "models", "device seconds"],
                   tablefmt="github"))
    wall = total.seconds / args.gpus
    print(f"on {args.gpus} device{'s' if args.gpus > 1 else ''}: about {wall / 60:.1f} minutes of "
          f"wall time, {total.seconds / 3600:.2f} device-hours in all")
    return 0


def _run(args: argparse.Namespace) -> int:
    from lifetf.suite.executors import ExecutorError, run
    from lifetf.suite.plan import needs, trials, units
    from lifetf.suite.profiles import get_profile
    from lifetf.suite.store import DEFAULT_CACHE, TrialStore

    store = TrialStore(args.cache_dir or DEFAULT_CACHE)
    problem = store.location.problem()
    if problem:
        print(f"lifetf run: --cache-dir: {problem}", file=sys.stderr)
        return 2
    work = units(trials(needs(_claims(args), get_profile(args.profile), args.seed_base)), store)
    print(f"{len(work)} units, {sum(len(u.seeds) for u in work)} trials to train "
          f"({args.executor} executor, store {store.location.label})", file=sys.stderr)
    try:
        trained = run(args.executor, work, store, args.backend, args.allow_tf32, args.address)
    except ExecutorError as error:
        print(f"lifetf run: {error}", file=sys.stderr)
        return 2
    print(f"trained {trained} trials", file=sys.stderr)
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
    from lifetf.suite.executors import EXECUTORS
    from lifetf.suite.profiles import PROFILES

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

    profiles = tuple(PROFILES)
    r = sub.add_parser("report", help="rebuild the report from stored verdicts, no training")
    r.add_argument("--profile", choices=profiles, default="quick")
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
    b.add_argument("--phases", action="store_true",
                   help="instead: where the trainer's time goes at the quick sizes, per phase")
    b.add_argument("--ops", action="store_true",
                   help="instead: milliseconds per update of each compiled operation at the "
                   "quick sizes, from XLA's trace (TensorFlow backend)")
    b.add_argument("--linear-paths", action="store_true",
                   help="instead: 1x1 layers near the unroll limit timed unrolled and as one "
                   "batched product, in alternating pairs")
    b.add_argument("--save-calibration", action="store_true",
                   help="save the measured cost model for `lifetf plan` on this device")
    b.add_argument("--cache-dir", default=None, help="where the calibration is saved")
    _add_backend_options(b)
    b.set_defaults(func=_bench)

    p = sub.add_parser("plan", help="every claim's experiments, models and estimated time")
    p.add_argument("--profile", choices=profiles, default="quick")
    p.add_argument("--gpus", type=_positive, default=1, help="devices that share the work")
    p.add_argument("--device", choices=("current", "h200", "cpu"), default="current",
                   help="price for this device (default: the one here)")
    p.add_argument("--calibration", type=Path, default=None, help="a cost model file")
    p.add_argument("--claims", default="", help="IDs or parts of IDs, comma-separated")
    p.add_argument("--seed-base", type=int, default=0)
    p.add_argument("--cache-dir", default=None, help="where bench saved a calibration")
    _add_backend_options(p)
    p.set_defaults(func=_plan)

    x = sub.add_parser("run", help="train every trial a profile's claims need into the store")
    x.add_argument("--profile", choices=profiles, default="quick")
    x.add_argument("--executor", choices=EXECUTORS, default="inprocess")
    x.add_argument("--address", default=None, help="Ray cluster address (default $RAY_ADDRESS, "
                   "else a local cluster)")
    x.add_argument("--cache-dir", default=None, help="the store: a folder or an fsspec URL")
    x.add_argument("--claims", default="", help="IDs or parts of IDs, comma-separated")
    x.add_argument("--seed-base", type=int, default=0)
    _add_backend_options(x)
    x.set_defaults(func=_run)
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
