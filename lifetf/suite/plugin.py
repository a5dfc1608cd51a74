"""The pytest plugin of the claims: options, checks at start, fixtures, trial sets, the report.

Glue only: every decision lives in the library. Each claim test is decorated with its
:class:`~lifetf.suite.catalogue.Claim` and concludes through the ``conclude`` fixture, which
stores the verdict file (workers write one file per claim, atomically) and tells the
controller which claims ran through ``user_properties``. Tests that ask for a shared trial
set (a fixture named after it) run in that set's xdist group. The controller alone writes
the report at the end of the session.
"""

from __future__ import annotations

import gc
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

_VERDICT_PROPERTY = "lifetf_claim"
_FRAMEWORK_OUTPUT = "lifetf_framework"  # a worker's framework_provenance(), in workeroutput
_CONFIG: dict[str, pytest.Config] = {}


OPTIONS = (  # name, argparse settings
    ("--seed-base", dict(type=int, default=0, help="shift every trial seed by this much, to "
                         "check a verdict on other seeds")),
    ("--report", dict(type=Path, default=None, help="where to write the markdown report "
                      "(default reports/REPORT.md, or reports/REPORT-jax.md for JAX)")),
    ("--no-cache", dict(action="store_true", help="train every trial afresh, neither reading "
                        "nor writing the trial store")),
    ("--cache-dir", dict(default=None, help="the trial store: a folder or an fsspec URL "
                         "(default .lifetf-cache or $LIFETF_CACHE)")),
    ("--update-baseline", dict(action="store_true", help="write this run's verdicts into "
                               "reports/baseline-PROFILE.json")),
    ("--no-baseline", dict(action="store_true", help="do not compare with the baseline")),
    ("--progress", dict(action="store_true", help="show training progress (use with -s)")),
    ("--backend", dict(default=None, help="Keras backend that trains the models: tensorflow "
                       "(default, or $KERAS_BACKEND) or jax")),
    ("--allow-tf32", dict(action="store_true", help="let a GPU use TF32 matrix products "
                          "(recorded; off by default)")),
    ("--executor", dict(choices=("inprocess", "ray"), default="inprocess", help="who trains "
                        "the trials: inprocess (the tests, as they need them; default) or ray "
                        "(a Ray cluster, before the tests, which then read)")),
    ("--ray-address", dict(default=None, help="the Ray cluster (default $RAY_ADDRESS, else a "
                           "local cluster)")),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    from lifetf.suite.profiles import PROFILES

    group = parser.getgroup("lifetf", "lifetf claims")
    group.addoption("--profile", choices=tuple(PROFILES), default="quick",
                    help="sizes of the claims' experiments: " + "; ".join(
                        f"{name}: {p.description}" for name, p in PROFILES.items()))
    for name, settings in OPTIONS:
        group.addoption(name, **settings)


def _threads_for_worker(config: pytest.Config) -> int | None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    workers = int(workerinput.get("workercount", 1))
    return max(1, (os.cpu_count() or 1) // workers)


def _check_locations(config: pytest.Config, report: Path) -> None:
    """One usage error line, before any training, for a report or store that cannot be written."""
    from lifetf.paths import default_cache
    from lifetf.suite.io import Location, writable_folder_problem

    if report.suffix.lower() != ".md" or (report.exists() and report.is_dir()):
        raise pytest.UsageError(f"--report must name a markdown file (*.md), got {report}")
    problem = writable_folder_problem(report.parent)
    if problem:
        raise pytest.UsageError(f"--report {report}: {problem}")
    if not config.getoption("--no-cache"):
        store = config.getoption("--cache-dir") or default_cache()
        try:
            problem = Location(store).problem()
        except ValueError as error:
            problem = str(error)
        if problem:
            raise pytest.UsageError(f"--cache-dir: {problem}")
    if config.getoption("--executor") == "ray" and not hasattr(config, "workerinput"):
        from lifetf.suite.executors import ExecutorError, check_ray

        try:
            check_ray(config.getoption("--ray-address"))
        except ExecutorError as error:
            raise pytest.UsageError(f"--executor ray: {error}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(id): a statistical claim of the catalogue")
    if config.getoption("--seed-base") < 0:
        raise pytest.UsageError(
            f"--seed-base must be a non-negative integer, got {config.getoption('--seed-base')}")
    from lifetf.nets.backends import BackendError, limit_threads, select

    try:
        backend = select(config.getoption("--backend"), config.getoption("--allow-tf32"))
    except BackendError as error:
        raise pytest.UsageError(f"--backend: {error}") from None
    from lifetf.paths import default_report

    report = (config.getoption("--report") or default_report(backend)).resolve()
    _check_locations(config, report)
    config._lifetf_report = report
    config._lifetf_backend = backend
    threads = _threads_for_worker(config)
    if threads is not None:
        # one worker per core slice, so that `-n 2` does not oversubscribe the two cores
        limit_threads(threads)
    if config.getoption("--executor") == "ray" and not hasattr(config, "workerinput"):
        _connect_ray(config)
    config._lifetf_fresh = set()  # claim IDs concluded in this session
    config._lifetf_started = time.perf_counter()
    config._lifetf_start_date = datetime.now(UTC)


def _connect_ray(config: pytest.Config) -> None:
    """Reach the Ray cluster at start: one usage error line when it cannot be."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise pytest.UsageError("--executor ray needs Ray: pip install -e '.[ray]'")
    import os

    import ray

    address = config.getoption("--ray-address") or os.environ.get("RAY_ADDRESS")
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except Exception as error:  # any connection failure, named in one line
        raise pytest.UsageError(f"--executor ray: cannot reach the Ray cluster at {address!r} "
                                f"({type(error).__name__}: {error})") from None


def _selected_claims(config: pytest.Config) -> list:
    """The declared claims that -k selects (by their IDs and test names), else all."""
    from _pytest.mark.expression import Expression

    from lifetf.suite.catalogue import catalogue

    keyword = config.getoption("keyword")
    if not keyword:
        return list(catalogue())
    expression = Expression.compile(keyword)

    def chosen(claim) -> bool:
        names = (claim.id, "test_" + claim.id.lower().replace("-", "_"))
        return expression.evaluate(lambda word, **_: any(word.lower() in n.lower()
                                                          for n in names))

    return [c for c in catalogue() if chosen(c)]


def _train_with_ray(session: pytest.Session) -> None:
    """Before any test: train every missing trial of the selected claims on the cluster."""
    from lifetf.nets.backends import current, precision
    from lifetf.suite.executors import run_ray
    from lifetf.suite.plan import needs, trials, units
    from lifetf.suite.profiles import get_profile
    from lifetf.suite.store import DEFAULT_CACHE, TrialStore

    config = session.config
    store = TrialStore(config.getoption("--cache-dir") or DEFAULT_CACHE)
    work = units(trials(needs(_selected_claims(config), get_profile(
        config.getoption("--profile")), config.getoption("--seed-base"))), store)
    run_ray(work, store.location.label, current().name, precision() == "tf32",
            address=config.getoption("--ray-address"), progress=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each claim test with its claim, group the readers of each trial set, and start the
    longest claims first (before pytest-xdist reads the groups and the order)."""
    from lifetf.suite.schedule import longest_claims_first, past_seconds
    from lifetf.suite.trialsets import SETS

    claims: list[str | None] = []
    for item in items:
        claim = getattr(getattr(item, "function", None), "claim", None)
        claims.append(None if claim is None else claim.id)
        if claim is not None:
            item.add_marker(pytest.mark.claim(claim.id))
        sets = [name for name in SETS if name in getattr(item, "fixturenames", ())]
        for name in sets[:1]:
            item.add_marker(pytest.mark.xdist_group(name))
    seconds = past_seconds(config._lifetf_report, config.getoption("--profile"),
                           config._lifetf_backend)
    items[:] = longest_claims_first(items, claims, seconds)


@pytest.fixture(scope="session")
def suite(pytestconfig: pytest.Config):
    """The run's shared state: profile sizes, seeds, trial store, result locations."""
    from lifetf.nets.backends import current
    from lifetf.paths import REPORTS
    from lifetf.suite.baseline import load_baseline
    from lifetf.suite.profiles import get_profile
    from lifetf.suite.session import Suite
    from lifetf.suite.store import DEFAULT_CACHE, TrialStore

    profile = get_profile(pytestconfig.getoption("--profile"))
    store = TrialStore(pytestconfig.getoption("--cache-dir") or DEFAULT_CACHE,
                       enabled=not pytestconfig.getoption("--no-cache"),
                       progress=pytestconfig.getoption("--progress"))
    return Suite(
        profile=profile,
        seed_base=pytestconfig.getoption("--seed-base"),
        store=store,
        report_path=pytestconfig._lifetf_report,
        backend=current().name,
        baseline=load_baseline(REPORTS / f"baseline-{profile.name}.json"),
        check_baseline=not (pytestconfig.getoption("--no-baseline")
                            or pytestconfig.getoption("--update-baseline")),
        establishing=pytestconfig.getoption("--update-baseline"),
    )


@pytest.fixture(scope="session")
def sweep(suite):
    """The success sweep's trials, (steps, width) -> runs (see lifetf.suite.trialsets)."""
    from lifetf.suite.trialsets import load

    return load("sweep", suite)


@pytest.fixture(scope="session")
def minimal(suite):
    """The minimal networks' runs, (rule, init) -> runs (see lifetf.suite.trialsets)."""
    from lifetf.suite.trialsets import load

    return load("minimal", suite)


@pytest.fixture
def conclude(request: pytest.FixtureRequest, suite):
    """Call with the claim's decision, its plan, a summary and Verdict's other fields: builds
    the Verdict of the test's declared claim, stores it, records it for the report and fails on
    a regression."""
    started = time.perf_counter()
    suite.begin()
    claim = getattr(request.function, "claim", None)
    if claim is None:
        raise pytest.UsageError(f"{request.node.nodeid} asks for `conclude` but is not "
                                f"decorated with its Claim declaration")

    def _conclude(decision, plan, summary: str, **fields) -> None:
        verdict = claim.verdict(decision, plan, summary, **fields)
        problems = suite.conclude(claim, verdict, started)
        request.node.user_properties.append((_VERDICT_PROPERTY, verdict.claim_id))
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    return _conclude


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """On the controller (or a serial run): note which claims concluded in this session."""
    config = _CONFIG.get("config")
    if config is None or not hasattr(config, "_lifetf_fresh"):
        return
    for name, value in report.user_properties:
        if name == _VERDICT_PROPERTY:
            config._lifetf_fresh.add(value)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config
    config = session.config
    if config.getoption("--executor") == "ray" and not hasattr(config, "workerinput") \
            and not config.getoption("--no-cache") and not config.getoption("collectonly"):
        _train_with_ray(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """The controller keeps the framework provenance a worker that ran claims sent."""
    framework = getattr(node, "workeroutput", {}).get(_FRAMEWORK_OUTPUT)
    if framework is not None:
        node.config._lifetf_framework = framework


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The controller writes the report (and refreshes the baseline when asked)."""
    config = session.config
    if hasattr(config, "workeroutput"):
        if getattr(config, "_lifetf_fresh", None):  # this worker ran claims: tell the controller
            from lifetf.suite.report import framework_provenance

            config.workeroutput[_FRAMEWORK_OUTPUT] = framework_provenance()
        return
    if not getattr(config, "_lifetf_fresh", None):
        return
    from lifetf.paths import REPORTS
    from lifetf.suite.baseline import update_baseline
    from lifetf.suite.profiles import get_profile
    from lifetf.suite.report import collect_provenance, save_run_provenance, write_report
    from lifetf.suite.session import report_inputs

    profile = get_profile(config.getoption("--profile"))
    seed_base = config.getoption("--seed-base")
    report_path = config._lifetf_report
    stored = report_inputs(report_path, profile.name, seed_base, config._lifetf_backend)
    fresh = set(config._lifetf_fresh)
    if config.getoption("--update-baseline"):
        update_baseline(REPORTS / f"baseline-{profile.name}.json",
                        [v for v in stored.verdicts if v.claim_id in fresh], profile.name)
    # under -n the workers' framework provenance: the controller need not import TensorFlow
    provenance = collect_provenance(profile.name, seed_base, config._lifetf_start_date,
                                    time.perf_counter() - config._lifetf_started,
                                    getattr(config, "_lifetf_framework", None))
    save_run_provenance(provenance, stored.results_dir)
    write_report(stored.verdicts, provenance, fresh, report_path, stored.runs, stored.timings)
    config._lifetf_report_written = report_path


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """In a pytest-xdist worker, which exits next: collect the session's garbage now, as pytest's
    own cleanup would (up to five passes, for unraisable exceptions), then freeze what survives.
    The remaining passes and the interpreter's exit then skip the million objects that Keras and
    TensorFlow keep alive (measured: 2.6 s -> 0.7 s from a worker's end to the run's). Not in
    a process that goes on after pytest, where frozen objects would never be freed."""
    if not hasattr(config, "workerinput"):
        return
    for _ in range(5):
        if not gc.collect():
            break
    gc.freeze()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    path = getattr(config, "_lifetf_report_written", None)
    if path is not None:
        terminalreporter.write_sep("-", "lifetf")
        terminalreporter.write_line(f"report written to {path}")
