"""Where lifetf keeps things: the repository root, the reports, the default trial store, and
which store locations are URLs (a leaf module: the backends and the suite both read it, and the
pytest plugin checks its options with it before Keras is imported)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the repository: lifetf/ -> root
REPORTS = PROJECT_ROOT / "reports"


def default_report(backend: str) -> Path:
    """reports/REPORT.md for TensorFlow (the default backend), reports/REPORT-<backend>.md else."""
    return REPORTS / ("REPORT.md" if backend == "tensorflow" else f"REPORT-{backend}.md")


def default_cache() -> str:
    """The trial store unless ``--cache-dir`` says otherwise: ``$LIFETF_CACHE``, else
    ``.lifetf-cache`` in the repository (read when called)."""
    return os.environ.get("LIFETF_CACHE", str(PROJECT_ROOT / ".lifetf-cache"))


def is_url(location: str) -> bool:
    """Whether a store location is an fsspec URL (``file://`` counts as a local folder)."""
    return "://" in location and not location.startswith("file://")
