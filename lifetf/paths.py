"""Where lifetf keeps things: the repository root, the default trial store, and which store
locations are URLs (a leaf module: the backends and the suite both read it)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the repository: lifetf/ -> root


def default_cache() -> str:
    """The trial store unless ``--cache-dir`` says otherwise: ``$LIFETF_CACHE``, else
    ``.lifetf-cache`` in the repository (read when called)."""
    return os.environ.get("LIFETF_CACHE", str(PROJECT_ROOT / ".lifetf-cache"))


def is_url(location: str) -> bool:
    """Whether a store location is an fsspec URL (``file://`` counts as a local folder)."""
    return "://" in location and not location.startswith("file://")
