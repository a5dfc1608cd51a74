"""The prepared script that establishes the `gpu` profile on an offline GPU host
(``.ci/gpu-profile``): it parses, and bad input stops it before it installs or trains."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "gpu-profile"
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed here")


def test_the_script_parses():
    done = subprocess.run([BASH, "-n", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_folder_without_wheels_is_named_before_anything_is_installed(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([BASH, str(SCRIPT), str(tmp_path), str(out)], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 2
    assert f"no wheels in {tmp_path}" in done.stderr
    assert not out.exists()


def test_missing_arguments_give_the_usage():
    done = subprocess.run([BASH, str(SCRIPT)], capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode != 0 and "usage: bash .ci/gpu-profile WHEELS OUT" in done.stderr


def test_it_runs_the_gpu_claims_on_jax_and_refreshes_their_baseline():
    text = SCRIPT.read_text()
    assert "pytest claims/ --profile gpu --backend jax" in text
    assert "--update-baseline" in text and "reports/baseline-gpu.json" in text
