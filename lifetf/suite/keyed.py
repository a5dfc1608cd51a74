"""Cached results of the small non-Game-of-Life trainers, keyed by their frozen configuration.

A result (one structured numpy array, one record per seed) is kept through
:meth:`lifetf.suite.store.TrialStore.derived` under a name made of a prefix, a sha256 key of the
configuration dataclass, a sha256 key of the seeds and the trainer's own version string: the
store writes it atomically (safe under pytest-xdist) and recomputes a corrupt file; bumping the
version string retires every older result of that trainer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def config_key(config: Any) -> str:
    """16 hex digits of sha256 over the canonical JSON of a dataclass's fields."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    text = json.dumps(dataclasses.asdict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seeds_key(seeds: Sequence[int]) -> str:
    """12 hex digits of sha256 over the seeds, in order."""
    text = ",".join(str(int(s)) for s in seeds)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cached_records(
    store,
    prefix: str,
    version: str,
    config: Any,
    seeds: Sequence[int],
    compute: Callable[[], np.ndarray],
) -> np.ndarray:
    """``compute()`` (a structured array with a ``seed`` field), cached under the config's key.

    A cached array whose seeds differ from ``seeds`` (a stale or foreign file) is recomputed.
    """
    seeds = [int(s) for s in seeds]
    name = f"{prefix}-{config_key(config)}-s{seeds_key(seeds)}-{prefix}v{version}"
    records = store.derived(name, compute)
    if records.dtype.names is None or list(records["seed"]) != seeds:
        records = np.asarray(compute())
    return records
