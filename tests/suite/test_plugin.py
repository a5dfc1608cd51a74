"""The pytest plugin: bad options and unusable locations stop at start with one clear line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def collect(*options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "claims/", "--collect-only", "-q",
                           *options], cwd=ROOT, capture_output=True, text=True, timeout=300)


def collect_counting_keras(*options: str) -> subprocess.CompletedProcess:
    """Collect the claims in a fresh process that prints pytest's exit code and whether Keras
    was imported, as its last two words."""
    code = (f"import sys, pytest; code = pytest.main(['claims/', '--collect-only', '-q', "
            f"*{list(options)!r}]); print(int(code), 'keras' in sys.modules)")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("option, named", [
    (["--profile", "fast"], "fast"), (["--seed-base", "-1"], "-1"),
    (["--report", "out.txt"], "out.txt"), (["--backend", "torch"], "torch"),
    (["--cache-dir", "/proc/nope"], "/proc/nope"),
    (["--report", "/proc/nope/REPORT.md"], "/proc/nope"),
    (["--cache-dir", "nosuchproto://x"], "nosuchproto://x"),
    (["--executor", "dask"], "dask"),
    (["--executor", "ray", "--ray-address", "127.0.0.1:1"],  # without Ray: the install line
     "127.0.0.1:1" if importlib.util.find_spec("ray") else "pip install -e '.[ray]'"),
])
def test_bad_options_are_one_line_usage_errors_naming_the_value(option, named):
    done = collect(*option)
    assert done.returncode == 4, done.stdout + done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2


def test_bad_options_stop_the_run_before_keras_is_imported():
    """The checks at start read no model code, so a typo costs a fraction of a second."""
    done = collect_counting_keras("--report", "out.txt")
    assert done.stdout.split()[-2:] == ["4", "False"], done.stdout + done.stderr


def test_every_claim_test_carries_its_declaration_and_trial_set_group():
    """Collecting the claims (declarations, groups, the longest-first order) imports no Keras:
    a worker that collects them pays for TensorFlow only when a claim runs."""
    done = collect_counting_keras("-p", "no:randomly")
    assert done.stdout.split()[-2:] == ["0", "False"], done.stdout + done.stderr
    tests = [line for line in done.stdout.splitlines() if "::test_" in line]
    assert len(tests) == 24


def test_the_report_at_the_end_of_a_run_imports_no_framework():
    """Under -n the controller writes the report from the workers' provenance: reading the
    claims, the stored verdicts and rendering the report must not import Keras, TensorFlow or
    JAX (about 5 s of the run's tail on the 2-core machine)."""
    code = (
        "import sys; from datetime import UTC, datetime; from pathlib import Path\n"
        "from lifetf.suite.catalogue import catalogue\n"
        "from lifetf.suite.report import FRAMEWORK_FIELDS, _version, collect_provenance, "
        "render_report\n"
        "from lifetf.suite.session import report_inputs\n"
        "report = Path('reports/REPORT.md').resolve()\n"
        "stored = report_inputs(report, 'quick', 0, 'tensorflow')\n"
        "framework = {name: 'from a worker' for name in FRAMEWORK_FIELDS}\n"
        "provenance = collect_provenance('quick', 0, datetime.now(UTC), 1.0, framework)\n"
        "text = render_report(stored.verdicts, provenance, set(), report.parent, stored.runs,\n"
        "                     stored.timings)\n"
        "print(len(catalogue()), len(stored.verdicts), text.count('from a worker'),\n"
        "      _version('tensorflow').replace(' ', '-'),\n"
        "      *(name in sys.modules for name in ('keras', 'tensorflow', 'jax')))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    claims, verdicts, shown, version, *imported = done.stdout.split()
    assert (claims, verdicts) == ("24", "24")  # the committed quick results, every claim
    assert int(shown) >= 6  # the worker's backend, precision, device and versions are shown
    installed = importlib.util.find_spec("tensorflow") is not None
    assert (version != "not-installed") == installed  # named from its metadata, not imported
    assert imported == ["False"] * 3, done.stdout


def test_a_worker_that_ran_claims_hands_its_framework_provenance_to_the_controller():
    from types import SimpleNamespace

    from lifetf.suite import plugin
    from lifetf.suite.report import FRAMEWORK_FIELDS, framework_provenance

    idle = SimpleNamespace(workeroutput={}, _lifetf_fresh=set())
    plugin.pytest_sessionfinish(SimpleNamespace(config=idle), 0)
    assert idle.workeroutput == {}  # a worker that concluded no claim sends nothing
    worker = SimpleNamespace(workeroutput={}, _lifetf_fresh={"GOL-CORNERS"})
    plugin.pytest_sessionfinish(SimpleNamespace(config=worker), 0)
    sent = worker.workeroutput["lifetf_framework"]
    assert tuple(sent) == FRAMEWORK_FIELDS and sent == framework_provenance()
    controller = SimpleNamespace()
    plugin.pytest_testnodedown(SimpleNamespace(workeroutput={}, config=controller), None)
    assert not hasattr(controller, "_lifetf_framework")  # e.g. a worker that ran unit tests
    plugin.pytest_testnodedown(SimpleNamespace(workeroutput=worker.workeroutput,
                                               config=controller), None)
    assert controller._lifetf_framework == sent


def test_a_framework_provenance_without_a_field_is_named():
    from datetime import UTC, datetime

    from lifetf.suite.report import collect_provenance

    with pytest.raises(ValueError, match="framework provenance lacks device"):
        collect_provenance("quick", 0, datetime.now(UTC), 1.0,
                           {"backend": "jax", "precision": "float32", "keras": "3",
                            "tensorflow": "not installed", "jax": "0.10"})


def test_only_a_worker_freezes_its_objects_at_the_end():
    import gc
    from types import SimpleNamespace

    from lifetf.suite import plugin

    before = gc.get_freeze_count()
    plugin.pytest_unconfigure(SimpleNamespace())  # a serial run may go on inside its host
    assert gc.get_freeze_count() == before
    try:
        plugin.pytest_unconfigure(SimpleNamespace(workerinput={}))
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # this test's process goes on
