"""Where and with what a result was computed: backend, precision, device, versions, commit.

Every cached trial records this (AlgoPerf-style), and the report's provenance shows it.
"""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path

from lifetf.paths import PROJECT_ROOT, REPORTS


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, falling back to platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _git(*args: str) -> str:
    """Run a read-only git command in the project root and return its stripped stdout."""
    result = subprocess.run(["git", "--no-optional-locks", *args], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=30, check=True)
    return result.stdout.strip()


@lru_cache(maxsize=1)
def commit() -> str:
    """Short commit hash of the project, '+dirty' with uncommitted changes, 'unknown' off git.

    Changes under ``reports/`` do not count: a run rewrites the committed results and reports
    there itself, which would otherwise mark every run dirty and hide edits to the code.
    """
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                       f":(exclude){REPORTS.relative_to(PROJECT_ROOT).as_posix()}")
        return head + ("+dirty" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_label() -> str:
    """'GPU: <name>' or 'CPU: <model> (<n> cores)' for the current backend's device."""
    from lifetf.nets.backends import current

    device = current().device()
    if device.platform == "cpu":
        return f"CPU: {cpu_name()} ({os.cpu_count()} cores)"
    return f"{device.platform.upper()}: {device.name}"


def device_slug() -> str:
    """'cpu', 'nvidia-h200', ...: the current device as a file-name part."""
    import re

    from lifetf.nets.backends import current

    device = current().device()
    return "cpu" if device.platform == "cpu" else re.sub(r"[^a-z0-9]+", "-", device.name.lower())


# the packages whose arithmetic trains the models, by the names environment() records (and
# tensorflow-cpu, the name of TensorFlow's CPU-only wheel, for installed_frameworks)
FRAMEWORKS = ("tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib")


def installed_frameworks() -> dict[str, str]:
    """Installed versions of :data:`FRAMEWORKS`, read from package metadata without importing
    them (so a CI step can ask before any backend starts)."""
    from importlib import metadata

    found = {}
    for name in FRAMEWORKS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def frameworks_label() -> str:
    """'tensorflow2.20.0-keras3.15.1-jax0.10.2-jaxlib0.10.2': part of CI's trial-cache key.

    The store keys trials by trainer version, backend and precision, not by these versions
    (each trial records them), so a kept cache would hide what an upgrade moves; keyed by this
    label, CI retrains every trial once after an upgrade and the regression gate sees it.
    """
    return "-".join(f"{name}{version}" for name, version in installed_frameworks().items())


def trained_with(recorded: dict[str, str]) -> str:
    """'tensorflow 2.21.0, keras 3.15.1 on cpu': the framework versions and device a trial's
    recorded provenance names. A trial's key holds neither, so a reused trial may come from
    others than the running process's; the report says which trained each claim's trials."""
    names = ", ".join(f"{name} {recorded[name]}" for name in FRAMEWORKS if name in recorded)
    return f"{names or 'no framework recorded'} on {recorded.get('device', 'an unrecorded device')}"


@lru_cache(maxsize=1)
def environment() -> dict[str, str]:
    """Backend, precision, device, framework versions and commit of this process."""
    from lifetf.nets.backends import current, precision

    backend = current()
    device = backend.device()
    return {
        "backend": backend.name,
        "precision": precision(),
        "device": device.name if device.platform != "cpu" else "cpu",
        **backend.versions(),
        "commit": commit(),
    }
