"""Files the suite writes: atomically (all or nothing) and readable by everyone (0644)."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lifetf.paths import is_url

FILE_MODE = 0o644  # mkstemp makes 0600 files; results and reports are for everyone to read

Record = TypeVar("Record")
# fsspec's create mode checks and writes in two steps on some filesystems (its memory store):
# the threads of one process create files one at a time, so each file is created once among them
_URL_CREATE_LOCK = threading.Lock()


def _place(path: Path, data: bytes, put: Callable[[str, Path], None]) -> None:
    """Write ``data`` to a unique temporary file beside ``path`` (synced, mode 0644), then
    ``put`` it in place; the temporary file never outlives the call."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        put(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing, replacing what was there."""
    _place(Path(path), data, os.replace)
    return Path(path)


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, data) -> Path:
    """``data`` as indented JSON with a final newline (the suite's record files), atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def _parse_json_file(path: Path, parse: Callable[[dict], Record], what: str) -> Record | None:
    """``parse`` of one JSON file, or None (the file named in a warning) if it cannot be read
    or parsed; the warning points at the caller of the public reader's caller."""
    try:
        return parse(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError) as error:
        warnings.warn(f"lifetf: unreadable {what} {path} ({error}); skipped", stacklevel=4)
        return None


def read_json_record(path: Path | str, parse: Callable[[dict], Record],
                     what: str) -> Record | None:
    """``parse`` of the JSON file at ``path``; None if there is none, or if it cannot be read
    or parsed (then named in a warning, as :func:`read_json_records` does)."""
    path = Path(path)
    return _parse_json_file(path, parse, what) if path.exists() else None


def read_json_records(folder: Path | str, parse: Callable[[dict], Record],
                      what: str) -> list[Record]:
    """``parse`` of every ``*.json`` file in ``folder``, in name order (none if it is missing).

    A file that cannot be read or parsed is named in a warning and skipped, so that one stray
    or damaged file never stops a report from being written.
    """
    records = []
    for path in sorted(Path(folder).glob("*.json")):  # a loop, not a comprehension: the
        record = _parse_json_file(path, parse, what)  # warning's stack level counts frames
        if record is not None:
            records.append(record)
    return records


def writable_folder_problem(folder: Path | str) -> str | None:
    """None if files can be created in ``folder`` (made if missing), else why not, in a line."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".lifetf-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        return f"{folder} is not a writable folder ({error.strerror or error})"
    return None


class Location:
    """A folder for write-once files: a local path, or any fsspec URL (s3://, gs://, memory://).

    Files are created once and never rewritten: :meth:`create` writes atomically and only if
    the file does not exist yet (a temporary file hard-linked into place locally; one put with
    ``mode="create"`` on fsspec filesystems), so concurrent writers of the same content on
    many hosts never leave a partial or doubled file. Readers address files by name; nothing
    here lists folders.
    """

    def __init__(self, root: Path | str):
        text = str(root)
        self.url = is_url(text)
        if self.url:
            import fsspec

            try:
                self.fs, self.root = fsspec.core.url_to_fs(text)
            except (ValueError, ImportError) as error:  # unknown protocol, missing package
                raise ValueError(f"{text} is not a usable store URL: {error}") from None
            self.label = text.rstrip("/")
        else:
            self.fs = None
            self.root = Path(text.removeprefix("file://"))
            self.label = str(self.root)

    def _path(self, name: str):
        return f"{self.root.rstrip('/')}/{name}" if self.url else self.root / name

    def describe(self, name: str) -> str:
        return f"{self.label}/{name}"

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        path = self._path(name)
        try:
            if self.url:
                return self.fs.cat_file(path)
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, name: str) -> bool:
        return self.fs.exists(self._path(name)) if self.url else self._path(name).exists()

    def create(self, name: str, data: bytes) -> bool:
        """Write the file unless it exists; True if this call created it."""
        path = self._path(name)
        if self.url:
            parent = path.rsplit("/", 1)[0]
            self.fs.makedirs(parent, exist_ok=True)
            try:
                with _URL_CREATE_LOCK:
                    self.fs.pipe_file(path, data, mode="create")
            except FileExistsError:
                return False
            return True
        try:
            _place(path, data, os.link)  # a hard link is atomic and fails if the file exists
        except FileExistsError:
            return False
        return True

    def remove(self, name: str) -> None:
        path = self._path(name)
        if self.url:
            if self.fs.exists(path):
                self.fs.rm(path)
        else:
            path.unlink(missing_ok=True)

    def problem(self) -> str | None:
        """None if files can be created and removed here, else why not, in one line."""
        if not self.url:
            return writable_folder_problem(self.root)
        probe = f".lifetf-probe-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            self.create(probe, b"")
            self.remove(probe)
        except Exception as error:  # any filesystem error means: not usable
            return f"{self.label} is not a writable store ({type(error).__name__}: {error})"
        return None
