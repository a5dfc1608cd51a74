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
    code = ("import sys, pytest; code = pytest.main(['claims/', '--collect-only', '-q', "
            "'--report', 'out.txt']); print(int(code), 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.split()[-2:] == ["4", "False"], done.stdout + done.stderr


def test_every_claim_test_carries_its_declaration_and_trial_set_group():
    done = collect("-p", "no:randomly")
    assert done.returncode == 0, done.stderr
    tests = [line for line in done.stdout.splitlines() if "::test_" in line]
    assert len(tests) == 24
