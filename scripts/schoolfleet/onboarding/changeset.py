"""A set of edits to register files: round-trip YAML documents, their diff, validation and atomic write.

Validation is the register loader's, run on a temporary copy of the register with the edited files in
place: there is one reader and one validator of the register, and the problems it reports are mapped
back to the real files so that they name the file the sysadmin will open.

Every writing command holds the register's lock (`register_lock`) from reading the register to writing
it, so two admins' commands run one after the other; and before writing, the change is checked again
against the register as it is then (a file edited by hand meanwhile, outside any lock, is caught).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import fcntl
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from schoolfleet.register import Register, RegisterError, load_register, register_digest

LOCK_WAIT = 120.0


class OnboardingError(Exception):
    """A command cannot be applied; the message says why, and nothing was written."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def yaml_engine() -> YAML:
    """The register's house style, so an untouched document is written back byte for byte."""
    engine = YAML(typ="rt")
    engine.preserve_quotes = True
    engine.width = 4096
    engine.indent(mapping=2, sequence=4, offset=2)
    engine.explicit_start = True
    # One date object set on several devices must not come out as an anchor and aliases.
    base = engine.representer.ignore_aliases
    engine.representer.ignore_aliases = lambda data: isinstance(data, dt.date | str | int) or base(data)
    return engine


def dump(document: Any) -> str:
    stream = io.StringIO()
    yaml_engine().dump(document, stream)
    return stream.getvalue()


@contextlib.contextmanager
def register_lock(root: Path, wait: float = LOCK_WAIT) -> Iterator[None]:
    """The register's lock: the next writer waits for it (up to `wait` seconds, then is refused).

    It is a lock on the register directory itself, so no lock file is left behind in the register.
    """
    if not root.is_dir():
        raise OnboardingError(f"{root}: the register directory does not exist (start one with `init`)")
    handle = os.open(root, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OnboardingError(
                        f"{root}: the register is locked by another command for over {wait:.0f} s; try again"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(handle)


class Changeset:
    """The edited documents of one command, keyed by their path relative to the register root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._documents: dict[str, Any] = {}
        # The text each document was read from (None for a new file), to diff against and to detect a
        # file changed by someone else between reading and writing.
        self._before: dict[str, str | None] = {}
        # The whole register as read, to re-check the change if anything moved before writing.
        self._digest = register_digest(root) if root.is_dir() else ""

    def document(self, relative: str) -> Any:
        if relative not in self._documents:
            path = self.root / relative
            text = path.read_text(encoding="utf-8")
            self._before[relative] = text
            self._documents[relative] = yaml_engine().load(text)
        return self._documents[relative]

    def create(self, relative: str, document: CommentedMap) -> None:
        if relative in self._documents or (self.root / relative).exists():
            raise OnboardingError(f"{self.root / relative}: the file already exists")
        self._before[relative] = None
        self._documents[relative] = document

    def texts(self) -> dict[str, str]:
        """The new text of every file that changes."""
        texts = {relative: dump(document) for relative, document in self._documents.items()}
        return {relative: text for relative, text in texts.items() if text != self._before[relative]}

    def diff(self) -> str:
        chunks: list[str] = []
        for relative, text in sorted(self.texts().items()):
            before = self._before[relative]
            chunks.extend(
                difflib.unified_diff(
                    (before or "").splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile="/dev/null" if before is None else f"a/{relative}",
                    tofile=f"b/{relative}",
                )
            )
        return "".join(chunks)

    def validate(self) -> Register:
        """The register with the edits applied, as the loader reads it; RegisterError names real files."""
        with tempfile.TemporaryDirectory(prefix="onboarding-") as scratch:
            copy = Path(scratch) / "register"
            shutil.copytree(self.root, copy, symlinks=True)
            for relative, text in self.texts().items():
                (copy / relative).parent.mkdir(parents=True, exist_ok=True)
                (copy / relative).write_text(text, encoding="utf-8")
            try:
                register = load_register(copy)
            except RegisterError as exc:
                # Messages cite other records ("also at FILE:LINE") as well: both name the real files.
                copied, real = str(copy), str(self.root)
                raise RegisterError(
                    dataclasses.replace(
                        problem,
                        file=problem.file.replace(copied, real, 1),
                        message=problem.message.replace(copied, real),
                    )
                    for problem in exc.problems
                ) from None
        return dataclasses.replace(register, root=self.root)

    def write(self) -> list[Path]:
        """Write every changed file, or none: all new texts go to temporary files first, then renames."""
        texts = self.texts()
        for relative in texts:
            before = self._before[relative]
            path = self.root / relative
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current != before:
                raise OnboardingError(f"{path}: changed by someone else since it was read; run again")
        if register_digest(self.root) != self._digest:
            # Another file changed meanwhile (an edit made by hand): the change must still hold with it.
            self.validate()
        staged: list[tuple[Path, Path]] = []
        try:
            for relative, text in sorted(texts.items()):
                path = self.root / relative
                # A register started without members/ gets it with its first member.
                path.parent.mkdir(parents=True, exist_ok=True)
                # A dot-file in the same directory: the loader ignores it, and the rename stays atomic.
                handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(text)
                if path.exists():
                    shutil.copymode(path, name)
                else:
                    Path(name).chmod(0o644)
                staged.append((Path(name), path))
        except BaseException:
            for temporary, _ in staged:
                with contextlib.suppress(OSError):
                    temporary.unlink()
            raise
        for temporary, path in staged:
            temporary.replace(path)
        return [path for _, path in staged]
