"""Reads a register directory into a `Register`, or raises `RegisterError` with every problem in it.

Layout of a register directory:

    authority.yml       the authority's servers, the address plan, the software pack catalogue
    members/*.yml       one file per member: a commune, or a SIVOS with its communes
    tariffs/*.yml       the tariff grids, read by `tariffs.py` for billing (the inventory needs none)

Each section has its own module (`authority.py`, `members.py`) turning YAML nodes into records; this
module finds the files, and `validate.py` checks what spans records and files. A new section gets its
module beside these and an entry in `SECTIONS`; anything else in the directory is an error, so a
misnamed directory is not silently ignored.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Iterator
from pathlib import Path

from schoolfleet.register.authority import parse_authority
from schoolfleet.register.errors import Problems
from schoolfleet.register.members import parse_member
from schoolfleet.register.model import Member, Register
from schoolfleet.register.nodes import compose_file
from schoolfleet.register.tariffs import read_tariffs
from schoolfleet.register.validate import check_register

AUTHORITY_FILE = "authority.yml"
MEMBERS_DIR = "members"
TARIFFS_DIR = "tariffs"
SECTIONS = frozenset({AUTHORITY_FILE, MEMBERS_DIR, TARIFFS_DIR})
YAML_SUFFIXES = (".yml", ".yaml")


def _ignored(path: Path) -> bool:
    """Editors' and VCS leftovers, and notes for humans, are not part of the register."""
    return path.name.startswith(".") or path.name.endswith("~") or path.name.upper().startswith("README")


def register_files(root: Path) -> list[Path]:
    """Every file the register is read from, in a stable order."""
    files = [root / AUTHORITY_FILE] if (root / AUTHORITY_FILE).is_file() else []
    members = root / MEMBERS_DIR
    if members.is_dir():
        files.extend(sorted(p for p in members.iterdir() if p.suffix in YAML_SUFFIXES and not _ignored(p)))
    return files


def register_digest(root: Path | str) -> str:
    """A digest of the register's content: it changes whenever any file is edited, added or removed."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in register_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: a large register is millions of new, acyclic objects.

    Each collection walks all of them again, which made loading 5,000 schools twice as slow.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_register(root: Path | str) -> Register:
    """The register at `root`, fully validated. Raises RegisterError listing every problem found."""
    with gc_paused():
        return _load(Path(root))


def _load(root: Path) -> Register:
    problems = Problems()
    if not root.is_dir():
        problems.add(str(root), 0, "", "the register directory does not exist")
        problems.raise_if_any()
    for entry in sorted(root.iterdir()):
        if entry.name not in SECTIONS and not _ignored(entry):
            problems.add(
                str(entry), 0, "", f"unknown entry in the register (expected: {', '.join(sorted(SECTIONS))})"
            )
    members_dir = root / MEMBERS_DIR
    if members_dir.is_dir():
        for entry in sorted(members_dir.iterdir()):
            if entry.suffix not in YAML_SUFFIXES and not _ignored(entry):
                problems.add(str(entry), 0, "", "not a member file (members/ holds .yml files only)")

    authority = None
    authority_path = root / AUTHORITY_FILE
    if authority_path.is_file():
        node = compose_file(authority_path, str(authority_path), problems)
        if node is not None:
            authority = parse_authority(node, str(authority_path), problems)
    else:
        problems.add(str(authority_path), 0, "", "missing: the register needs the authority's settings")

    members: list[Member] = []
    for path in register_files(root):
        if path.parent != members_dir:
            continue
        node = compose_file(path, str(path), problems)
        if node is not None and (member := parse_member(node, str(path), problems)) is not None:
            members.append(member)

    tariffs = read_tariffs(root / TARIFFS_DIR, str(root / TARIFFS_DIR), problems)
    check_register(authority, members, problems)
    problems.raise_if_any()
    assert authority is not None  # a missing or broken authority file is a problem raised just above
    return Register(root, authority, tuple(members), tariffs)
