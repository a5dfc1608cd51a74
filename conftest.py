"""pytest wiring for lifetf: options, thread settings per xdist worker, fixtures, the report.

Each claim test concludes through the ``conclude`` fixture, which stores the verdict file (the
workers write one file per claim, atomically) and tells the controller which claims ran through
``user_properties``. The controller alone writes reports/REPORT.md at the end of the session.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

_VERDICT_PROPERTY = "lifetf_claim"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lifetf", "lifetf claims")
    group.addoption("--profile", choices=("quick", "paper"), default="quick",
                    help="sizes of the claims' experiments: quick (CPU, default) or paper")
    group.addoption("--seed-base", type=int, default=0,
                    help="shift every trial seed by this much, to check a verdict on other seeds")
    group.addoption("--report", type=Path, default=None,
                    help="where to write the markdown report (default reports/REPORT.md, or "
                         "reports/REPORT-jax.md for the JAX backend)")
    group.addoption("--no-cache", action="store_true",
                    help="train every trial afresh, neither reading nor writing the trial cache")
    group.addoption("--cache-dir", type=Path, default=None,
                    help="trial cache location (default .lifetf-cache or $LIFETF_CACHE)")
    group.addoption("--update-baseline", action="store_true",
                    help="write this run's verdicts into reports/baseline-PROFILE.json")
    group.addoption("--no-baseline", action="store_true",
                    help="do not compare against the committed baseline")
    group.addoption("--progress", action="store_true",
                    help="show a progress bar while training (use with -s)")
    group.addoption("--backend", default=None,
                    help="Keras backend that trains the models: tensorflow (default, or "
                         "$KERAS_BACKEND) or jax")
    group.addoption("--allow-tf32", action="store_true",
                    help="let a GPU use TF32 matrix products (recorded; off by default)")


def _threads_for_worker(config: pytest.Config) -> int | None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    workers = int(workerinput.get("workercount", 1))
    return max(1, (os.cpu_count() or 1) // workers)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--seed-base") < 0:
        raise pytest.UsageError(
            f"--seed-base must be a non-negative integer, got {config.getoption('--seed-base')}"
        )
    from lifetf.nets.backends import BackendError, limit_threads, select

    try:
        backend = select(config.getoption("--backend"), config.getoption("--allow-tf32"))
    except BackendError as error:
        raise pytest.UsageError(f"--backend: {error}") from None
    from lifetf.suite.session import default_report

    report = config.getoption("--report") or default_report(backend)
    if report.suffix.lower() != ".md" or (report.exists() and report.is_dir()):
        raise pytest.UsageError(f"--report must name a markdown file (*.md), got {report}")
    config._lifetf_report = report.resolve()
    threads = _threads_for_worker(config)
    if threads is not None:
        # one worker per core slice, so that `-n 2` does not oversubscribe the two cores
        limit_threads(threads)
    config._lifetf_fresh = set()  # claim IDs concluded in this session
    config._lifetf_started = time.perf_counter()
    config._lifetf_start_date = datetime.now(UTC)


@pytest.fixture(scope="session")
def suite(pytestconfig: pytest.Config):
    """The run's shared state: profile sizes, seeds, trial store, result locations."""
    from lifetf.nets.backends import current
    from lifetf.suite.baseline import load_baseline
    from lifetf.suite.profiles import get_profile
    from lifetf.suite.session import REPORTS, Suite
    from lifetf.suite.store import DEFAULT_CACHE, TrialStore

    profile = get_profile(pytestconfig.getoption("--profile"))
    store = TrialStore(
        pytestconfig.getoption("--cache-dir") or DEFAULT_CACHE,
        enabled=not pytestconfig.getoption("--no-cache"),
        progress=pytestconfig.getoption("--progress"),
    )
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


@pytest.fixture
def conclude(request: pytest.FixtureRequest, suite):
    """Call with a Verdict: stores it, records it for the report and fails on a regression."""
    started = time.perf_counter()

    def _conclude(verdict) -> None:
        problems = suite.conclude(verdict, started)
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


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The controller writes the report (and refreshes the baseline when asked)."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config, "_lifetf_fresh", None):
        return
    from lifetf.nets.backends import BACKENDS, current
    from lifetf.suite.baseline import update_baseline
    from lifetf.suite.profiles import get_profile
    from lifetf.suite.report import collect_provenance, write_report
    from lifetf.suite.session import REPORTS, results_dir_for
    from lifetf.suite.store import load_verdicts

    profile = get_profile(config.getoption("--profile"))
    seed_base = config.getoption("--seed-base")
    report_path = config._lifetf_report
    backend = current().name
    by_backend = {name: load_verdicts(results_dir_for(report_path, profile.name, seed_base, name))
                  for name in BACKENDS}
    verdicts = by_backend[backend]
    fresh = set(config._lifetf_fresh)
    if config.getoption("--update-baseline"):
        update_baseline(REPORTS / f"baseline-{profile.name}.json",
                        [v for v in verdicts if v.claim_id in fresh], profile.name)
    provenance = collect_provenance(
        profile.name, seed_base, config._lifetf_start_date,
        time.perf_counter() - config._lifetf_started,
    )
    write_report(verdicts, provenance, fresh, report_path, by_backend)
    config._lifetf_report_written = report_path


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    path = getattr(config, "_lifetf_report_written", None)
    if path is not None:
        terminalreporter.write_sep("-", "lifetf")
        terminalreporter.write_line(f"report written to {path}")
