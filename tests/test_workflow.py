"""The CI workflow users copy: valid YAML that runs the README's test command and keeps trials."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
yaml = pytest.importorskip("yaml", reason="pyyaml is in the test extra: pip install -e '.[test]'")


def _workflow() -> dict:
    return yaml.safe_load((ROOT / ".github/workflows/claims.yml").read_text())


def _readme_test_command() -> str:
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    commands = [line for block in blocks for line in block.splitlines() if "pytest tests/" in line]
    assert commands, "README.md shows no test command"
    return commands[0].strip()


def test_the_quick_job_runs_the_readme_test_command():
    steps = _workflow()["jobs"]["quick"]["steps"]
    runs = [" ".join(str(step.get("run", "")).split()) for step in steps]
    assert _readme_test_command() in runs


def test_the_trial_cache_is_keyed_by_the_trainer_and_framework_versions():
    from lifetf.nets.trial_rows import TRAINER_VERSION

    steps = _workflow()["jobs"]["quick"]["steps"]
    index = next(i for i, s in enumerate(steps) if s.get("id") == "trainer")
    probe = steps[index]["run"]
    home = ROOT / "lifetf/nets/trial_rows.py"  # what the probe's grep reads
    assert f'TRAINER_VERSION = "{TRAINER_VERSION}"' in home.read_text()
    assert "TRAINER_VERSION" in probe and "frameworks_label()" in probe
    cache_index = next(i for i, s in enumerate(steps)
                       if str(s.get("uses", "")).startswith("actions/cache"))
    cache = steps[cache_index]["with"]
    for key in (cache["key"], cache["restore-keys"]):
        assert "steps.trainer.outputs.version" in key and "steps.trainer.outputs.frameworks" in key
    assert cache["path"] == ".lifetf-cache"
    # the probe reads what the set-up step installed, and the cache is restored before the tests
    install = next(i for i, s in enumerate(steps) if "pip install" in str(s.get("run", "")))
    tests = next(i for i, s in enumerate(steps) if "pytest tests/" in str(s.get("run", "")))
    assert install < index < cache_index < tests


def test_the_frameworks_label_names_each_installed_version(monkeypatch):
    from importlib import metadata

    from lifetf.nets import provenance

    assert f"keras{metadata.version('keras')}" in provenance.frameworks_label()
    fake = {"tensorflow": "2.21.0", "keras": "3.16.0"}

    def version(name: str) -> str:
        if name not in fake:
            raise metadata.PackageNotFoundError(name)
        return fake[name]

    monkeypatch.setattr(metadata, "version", version)
    assert provenance.frameworks_label() == "tensorflow2.21.0-keras3.16.0"


def test_the_report_is_uploaded_even_when_a_verdict_moves():
    for job in ("quick", "gpu"):
        upload = next(s for s in _workflow()["jobs"][job]["steps"]
                      if str(s.get("uses", "")).startswith("actions/upload-artifact"))
        assert upload["if"] == "always()" and "reports/REPORT.md" in upload["with"]["path"]


def test_the_gpu_template_runs_the_gpu_profile_on_jax():
    job = _workflow()["jobs"]["gpu"]
    assert "self-hosted" in job["runs-on"] and job["env"]["KERAS_BACKEND"] == "jax"
    assert any("--profile gpu --backend jax" in str(s.get("run", "")) for s in job["steps"])
