"""The trial cache and verdict files: atomic writes, safe under pytest-xdist, corruption caught.

A trial is one (Experiment, seed) pair, stored as one ``.npz`` file named by a hash of the
experiment, the seed and the trainer version. Files are written to a temporary name and renamed
into place, so a reader sees a whole file or none; a file that fails to load (truncated, bad zip,
wrong key) is reported in one line, deleted and retrained, never used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lifetf.nets.experiment import Experiment
from lifetf.nets.train import ROW_COLUMNS, TRAINER_VERSION, train
from lifetf.suite.verdict import Verdict

DEFAULT_CACHE = Path(os.environ.get("LIFETF_CACHE", Path(__file__).resolve().parent.parent
                                    / ".lifetf-cache"))
_SCALARS = ("success", "match_rate", "cell_accuracy", "all_dead_rate", "initial_loss",
            "final_loss", "table_errors", "train_seconds")


class CorruptTrial(Exception):
    """A cached trial file that cannot be trusted."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a unique temporary file and a rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def compute_key() -> str:
    """What besides the experiment and seed decides a trial: trainer version, backend and
    precision mode ('3|tensorflow|float32')."""
    from lifetf.nets.backends import current, precision

    return f"{TRAINER_VERSION}|{current().name}|{precision()}"


def trial_key(experiment: Experiment, seed: int) -> str:
    """Hash of (experiment, seed, trainer version, backend, precision): one trial's identity."""
    text = f"{experiment.key}|{int(seed)}|{compute_key()}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _row_to_arrays(row: dict, key: str) -> dict[str, np.ndarray]:
    from lifetf.suite.provenance import environment

    arrays = {"trial_key": np.array(key), "seed": np.array(int(row["seed"])),
              "provenance": np.array(json.dumps(environment(), sort_keys=True))}
    for name in _SCALARS:
        arrays[name] = np.array(row[name])
    table = row["truth_table"]
    arrays["truth_table"] = np.zeros(0, np.uint8) if table is None else np.asarray(table, np.uint8)
    arrays["loss_curve"] = np.asarray(row["loss_curve"], np.float32)
    arrays["grad_norm_curve"] = np.asarray(row["grad_norm_curve"], np.float32)
    for i, w in enumerate(row["weights"]):
        arrays[f"weight_{i}"] = np.asarray(w, np.float32)
    return arrays


def _arrays_to_row(data, key: str) -> dict:
    if str(data["trial_key"]) != key:
        raise CorruptTrial(f"holds trial {data['trial_key']}, expected {key}")
    row = {"seed": int(data["seed"])}
    for name in _SCALARS:
        row[name] = data[name].item()
    row["success"] = bool(row["success"])
    row["table_errors"] = int(row["table_errors"])
    table = data["truth_table"]
    row["truth_table"] = None if table.size == 0 else np.array(table)
    row["loss_curve"] = np.array(data["loss_curve"])
    row["grad_norm_curve"] = np.array(data["grad_norm_curve"])
    n_weights = sum(1 for name in data.files if name.startswith("weight_"))
    row["weights"] = [np.array(data[f"weight_{i}"]) for i in range(n_weights)]
    return row


class TrialStore:
    """Trials cached on disk; ``rows`` returns cached trials and trains only the missing ones."""

    def __init__(
        self,
        root: Path | str = DEFAULT_CACHE,
        enabled: bool = True,
        trainer: Callable[..., pd.DataFrame] = train,
        progress: bool = False,
    ):
        self.root = Path(root)
        self.enabled = enabled
        self.trainer = trainer
        self.progress = progress
        self.trained = 0  # trials trained (not loaded) by this store
        self.loaded = 0

    def path(self, experiment: Experiment, seed: int) -> Path:
        name = f"seed{int(seed)}-{trial_key(experiment, seed)}.npz"
        return self.root / "trials" / experiment.key / name

    def load(self, experiment: Experiment, seed: int) -> dict | None:
        """The cached row of one trial, or None when absent or corrupt (then it is deleted)."""
        path = self.path(experiment, seed)
        if not self.enabled or not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return _arrays_to_row(data, trial_key(experiment, seed))
        except Exception as error:  # any unreadable file is recomputed, never used
            warnings.warn(
                f"lifetf: corrupt cached trial {path} ({type(error).__name__}: {error}); "
                "retraining it",
                stacklevel=2,
            )
            path.unlink(missing_ok=True)
            return None

    def provenance(self, experiment: Experiment, seed: int) -> dict | None:
        """What a cached trial was computed with (backend, versions, device, commit), or None."""
        path = self.path(experiment, seed)
        if not self.enabled or not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["provenance"]))

    def save(self, experiment: Experiment, row: dict) -> None:
        if not self.enabled:
            return
        seed = int(row["seed"])
        path = self.path(experiment, seed)
        buffer = io.BytesIO()
        np.savez(buffer, **_row_to_arrays(row, trial_key(experiment, seed)))
        atomic_write_bytes(path, buffer.getvalue())
        description = path.parent / "experiment.json"
        if not description.exists():
            atomic_write_text(description, json.dumps(experiment.to_dict(), indent=2))

    def rows(self, experiment: Experiment, seeds: Sequence[int]) -> pd.DataFrame:
        """One row per seed, in order: cached rows plus one training call for the missing ones."""
        seeds = [int(s) for s in seeds]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct, got {seeds}")
        found = {s: self.load(experiment, s) for s in seeds}
        missing = [s for s in seeds if found[s] is None]
        self.loaded += len(seeds) - len(missing)
        if missing:
            trained = self.trainer(experiment, missing, progress=self.progress)
            for row in trained.to_dict("records"):
                self.save(experiment, row)
                found[int(row["seed"])] = row
            self.trained += len(missing)
        frame = pd.DataFrame([found[s] for s in seeds], columns=list(ROW_COLUMNS))
        frame.attrs["experiment"] = experiment.key
        return frame


    def derived(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A deterministic array computed once and kept under ``name`` (e.g. exact baselines),
        per trainer version, backend and precision."""
        tag = compute_key().replace("|", "-")
        path = self.root / "derived" / f"{name}-v{tag}.npy"
        if self.enabled and path.exists():
            try:
                return np.load(path, allow_pickle=False)
            except Exception as error:
                warnings.warn(f"lifetf: corrupt cached result {path} ({error}); recomputing",
                              stacklevel=2)
        value = np.asarray(compute())
        if self.enabled:
            buffer = io.BytesIO()
            np.save(buffer, value)
            atomic_write_bytes(path, buffer.getvalue())
        return value


# --- verdict files -----------------------------------------------------------------------------


def save_verdict(verdict: Verdict, results_dir: Path) -> Path:
    """Write one claim's verdict as JSON, atomically; the report is rebuilt from these files."""
    path = Path(results_dir) / f"{verdict.claim_id}.json"
    atomic_write_text(path, verdict.to_json() + "\n")
    return path


def load_verdicts(results_dir: Path) -> list[Verdict]:
    """Every stored verdict in ``results_dir``; unreadable files are reported and skipped."""
    verdicts = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            verdicts.append(Verdict.from_dict(json.loads(path.read_text())))
        except Exception as error:
            warnings.warn(f"lifetf: unreadable verdict file {path} ({error}); skipped",
                          stacklevel=2)
    return verdicts
