"""Status files: written atomically (a reader never sees half a file), read tolerantly.

The behaviour the server scripts share today (antivirus, antivirus mirror, web filter, blocklist
mirror, backups, synchronisation): write a temporary file beside the target, then rename it over
the target. Here the temporary file has a unique name (two writers never share one), is flushed to
disk before the rename, gets its mode before it becomes visible, and is removed when anything fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace `path` with `data` in one rename; the parent folder is created when missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), mode)


def dump_json(data: Any, indent: int | None = 2) -> str:
    """The status files' format: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(path: Path, data: Any, mode: int = 0o644, indent: int | None = 2) -> None:
    """Atomic JSON status file (what antivirus.py's and the mirrors' write_json do)."""
    write_text_atomic(path, dump_json(data, indent), mode)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from `path`, or {} when the file is missing, unreadable, not JSON or not an object."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def append_line(path: Path, line: str) -> None:
    """One line at the end of a log file (the line's own trailing newlines are dropped)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")


def merge_json(path: Path, changes: Mapping[str, Any], mode: int = 0o644) -> dict[str, Any]:
    """Read the object in `path`, update it with `changes` (None removes a key), write it back."""
    data = read_json(path)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    write_json(path, data, mode)
    return data


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created when missing) for the duration of the block.

    fcntl.flock: held per open file, released when the process dies, so a killed writer never
    leaves a stale lock behind. Threads of one process must open the lock file each (this does).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the folder is on disk; best effort (not every file
    # system lets a folder be opened for that).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
