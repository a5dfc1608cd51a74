"""The content-addressed result store: trials, derived results and the verdict files.

A trial is one (Experiment, seed) pair, stored as one ``.npz`` file named by a key of the
experiment, the seed, the trainer version, the backend and the precision mode (one key scheme,
:func:`lifetf.checks.stable_key`, for every cached thing). The store lives in a local folder
or at any fsspec URL; files are written once, atomically (:class:`lifetf.suite.io.Location`),
so many processes and hosts can fill one store. A file that fails to load (truncated, garbled,
another trial's) is reported in one line, removed and computed again, never used.
"""

from __future__ import annotations

import io
import json
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifetf.checks import stable_key
from lifetf.nets.experiment import Experiment
from lifetf.nets.trial_rows import ROW_COLUMNS, TRAINER_VERSION
from lifetf.paths import default_cache
from lifetf.suite.io import Location, atomic_write_text, read_json_records
from lifetf.suite.verdict import Verdict

DEFAULT_CACHE = default_cache()
NOT_SEEN = "not read through this store"  # trained_with's label for a trial it never returned
_SCALARS = ("success", "match_rate", "cell_accuracy", "all_dead_rate", "initial_loss",
            "final_loss", "table_errors", "train_seconds")


class CorruptTrial(Exception):
    """A cached trial file that cannot be trusted."""


def compute_key() -> str:
    """What besides the experiment and seed decides a trial: trainer version, backend and
    precision mode ('3|tensorflow|float32')."""
    from lifetf.nets.backends import current, precision

    return f"{TRAINER_VERSION}|{current().name}|{precision()}"


def trial_key(experiment: Experiment, seed: int) -> str:
    """Key of (experiment, seed, trainer version, backend, precision): one trial's identity."""
    return stable_key({"experiment": experiment.key, "seed": int(seed),
                       "compute": compute_key()}, 24)


def _provenance_array() -> np.ndarray:
    """This process's provenance (backend, device, versions, commit) as stored with a result."""
    from lifetf.nets.provenance import environment

    return np.array(json.dumps(environment(), sort_keys=True))


def _recorded_provenance(data) -> dict[str, str]:
    """The provenance stored with a result (the reverse of :func:`_provenance_array`)."""
    return json.loads(str(data["provenance"]))


def records_key(prefix: str, config: Any) -> str:
    """The key under which a run's ledger and :meth:`TrialStore.trained_with` name a toy
    model's records: its kind and config."""
    return f"{prefix}:{config!r}"


def _row_to_arrays(row: dict, key: str) -> dict[str, np.ndarray]:
    arrays = {"trial_key": np.array(key), "seed": np.array(int(row["seed"])),
              "provenance": _provenance_array()}
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


def _trained_here() -> str:
    """What trains a trial in this process (looked up at call time, so tests can fake it)."""
    from lifetf.nets.provenance import environment, trained_with

    return trained_with(environment())


def _train(experiment: Experiment, seeds: Sequence[int], **options: Any) -> pd.DataFrame:
    """The real trainer, imported on the first trial to train: reading and writing the store
    (the report at the end of a run, a concurrent writer) then never imports Keras."""
    from lifetf.nets.train import train

    return train(experiment, seeds, **options)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


class TrialStore:
    """Cached trials and results; ``rows`` returns cached trials and trains only the missing."""

    def __init__(
        self,
        root: Path | str = DEFAULT_CACHE,
        enabled: bool = True,
        trainer: Callable[..., pd.DataFrame] | None = None,
        progress: bool = False,
    ):
        self.location = Location(root)
        self.enabled = enabled
        self.trainer = trainer if trainer is not None else _train
        self.progress = progress
        self.trained = 0  # trials trained (not loaded) by this store
        self.loaded = 0
        self._warned_versions: set[tuple[str, ...]] = set()
        # (experiment key, seed) -> what trained each trial this store returned (trained_with)
        self._sources: dict[tuple[str, int], str] = {}

    @property
    def root(self):
        return self.location.root

    def name(self, experiment: Experiment, seed: int) -> str:
        """The trial's file name inside the store: trials/<experiment>/seed<s>-<key>.npz."""
        return f"trials/{experiment.key}/seed{int(seed)}-{trial_key(experiment, seed)}.npz"

    def path(self, experiment: Experiment, seed: int):
        """The trial's full path (a Path locally, a string at a URL)."""
        return self.location._path(self.name(experiment, seed))

    def _read(self, name: str, what: str, parse: Callable[[Any], Any]):
        """``parse`` applied to a stored .npz (or the array of a .npy); None when the file is
        absent or corrupt (then it is removed, with one warning)."""
        if not self.enabled:
            return None
        data = self.location.read(name)
        if data is None:
            return None
        try:
            loaded = np.load(io.BytesIO(data), allow_pickle=False)
            if isinstance(loaded, np.ndarray):
                return parse(loaded)
            with loaded:
                return parse(loaded)
        except Exception as error:  # any unreadable file is recomputed, never used
            warnings.warn(f"lifetf: corrupt cached {what} {self.location.describe(name)} "
                          f"({type(error).__name__}: {error}); computing it again", stacklevel=3)
            self.location.remove(name)
            return None

    def load(self, experiment: Experiment, seed: int) -> dict | None:
        """The cached row of one trial, or None when absent or corrupt."""
        key = trial_key(experiment, seed)

        def parse(data) -> tuple[dict, dict]:
            return _arrays_to_row(data, key), _recorded_provenance(data)

        found = self._read(self.name(experiment, seed), "trial", parse)
        if found is None:
            return None
        row, recorded = found
        self._sources[(experiment.key, int(seed))] = self._source(recorded, "trials")
        return row

    def _source(self, recorded: dict, folder: str) -> str:
        """What trained a result read back, by its recorded provenance; warns (once per set of
        versions) when that is not this process's versions. Apart from parsing the file, so that
        warnings turned into errors cannot make a sound file count as corrupt."""
        from lifetf.nets.provenance import trained_with

        self._check_versions(recorded, folder)
        return trained_with(recorded)

    def _check_versions(self, recorded: dict, folder: str) -> None:
        """Warn once per store and set of versions when a reused trial was trained with other
        framework versions than this process has: they are not in the key, so an upgrade shows
        what it moves only on an empty store."""
        from lifetf.nets.provenance import FRAMEWORKS, environment

        now = environment()
        changed = [name for name in FRAMEWORKS
                   if name in now and name in recorded and recorded[name] != now[name]]
        older = tuple(f"{name} {recorded[name]}" for name in changed)
        if not older or older in self._warned_versions:
            return
        self._warned_versions.add(older)
        current = ", ".join(f"{name} {now[name]}" for name in changed)
        warnings.warn(f"lifetf: {folder} in {self.location.describe(folder)} were trained with "
                      f"{', '.join(older)}, not this process's {current}; they are reused (the "
                      "trial key holds no framework version). To see what the upgrade moves, "
                      "run on an empty store (another --cache-dir) or with --no-cache",
                      stacklevel=4)

    def provenance(self, experiment: Experiment, seed: int) -> dict | None:
        """What a cached trial was computed with (backend, versions, device, commit), or None."""
        return self._read(self.name(experiment, seed), "trial", _recorded_provenance)

    def save(self, experiment: Experiment, row: dict) -> None:
        """Store one trained row (create-only: an existing trial is kept)."""
        if not self.enabled:
            return
        seed = int(row["seed"])
        self.location.create(self.name(experiment, seed),
                             _npz_bytes(_row_to_arrays(row, trial_key(experiment, seed))))
        self.location.create(f"trials/{experiment.key}/experiment.json",
                             json.dumps(experiment.to_dict(), indent=2).encode())

    def missing(self, experiment: Experiment, seeds: Sequence[int]) -> list[int]:
        """The seeds whose trials are not stored yet (a corrupt file counts as missing)."""
        return [int(s) for s in seeds if self.load(experiment, s) is None]

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
            self._sources.update(dict.fromkeys(((experiment.key, s) for s in missing),
                                               _trained_here()))
        frame = pd.DataFrame([found[s] for s in seeds], columns=list(ROW_COLUMNS))
        frame.attrs["experiment"] = experiment.key
        return frame

    def trained_with(self, read: Mapping[str, Iterable[int]]) -> dict[str, int]:
        """How many of the trials ``read`` (experiment key, or :func:`records_key`, -> seeds)
        each set of framework versions and device trained, as recorded in the trials and toy
        records this store returned."""
        counts = Counter(self._sources.get((key, int(s)), NOT_SEEN)
                         for key, seeds in read.items() for s in seeds)
        return dict(sorted(counts.items()))

    def derived(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A deterministic array computed once and kept under ``name`` (e.g. exact baselines),
        per trainer version, backend and precision."""
        file = f"derived/{name}-{stable_key(compute_key(), 8)}.npy"
        cached = self._read(file, "result", np.asarray)
        if cached is not None:
            return cached
        value = np.asarray(compute())
        if self.enabled:
            buffer = io.BytesIO()
            np.save(buffer, value)
            self.location.create(file, buffer.getvalue())
        return value

    def records(self, prefix: str, version: str, config: Any, seeds: Sequence[int],
                compute: Callable[[], np.ndarray]) -> np.ndarray:
        """``compute()`` (a structured array with a ``seed`` field, one record per seed),
        cached under a key of the frozen ``config``, the seeds and the trainer's ``version``,
        with the provenance of the process that computed it (as a trial has).

        A cached file that holds other seeds than ``seeds`` (a foreign file) counts as corrupt:
        it is named, removed and computed again.
        """
        import dataclasses

        seeds = [int(s) for s in seeds]
        key = stable_key({"config": dataclasses.asdict(config), "seeds": seeds,
                          "version": version})
        name = f"records/{prefix}-{key}-{stable_key(compute_key(), 8)}.npz"

        def parse(data) -> tuple[np.ndarray, dict]:
            records = np.array(data["records"])
            if records.dtype.names is None or list(records["seed"]) != seeds:
                raise CorruptTrial(f"holds records of other seeds, expected {seeds}")
            return records, _recorded_provenance(data)

        found = self._read(name, "records", parse)
        if found is None:
            records, source = np.asarray(compute()), _trained_here()
            if self.enabled:
                self.location.create(name, _npz_bytes({"records": records,
                                                       "provenance": _provenance_array()}))
        else:
            records, source = found[0], self._source(found[1], "records")
        self._sources.update(dict.fromkeys(((records_key(prefix, config), s) for s in seeds),
                                           source))
        return records


# --- verdict files -----------------------------------------------------------------------------


def save_verdict(verdict: Verdict, results_dir: Path) -> Path:
    """Write one claim's verdict as JSON, atomically; the report is rebuilt from these files."""
    return atomic_write_text(Path(results_dir) / f"{verdict.claim_id}.json",
                             verdict.to_json() + "\n")


def load_verdicts(results_dir: Path) -> list[Verdict]:
    """Every stored verdict in ``results_dir``; unreadable files are named and skipped."""
    return read_json_records(results_dir, Verdict.from_dict, "verdict file")
