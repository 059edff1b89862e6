"""ClamAV's signed databases (.cvd, .cld, .cud): the header and the file kinds clamd loads.

The header is the first 512 bytes, ASCII, colon-separated:
`ClamAV-VDB:build time:version:signatures:functionality level:md5:digital signature:builder:build epoch`.
The antivirus role (school servers) and the antivirus mirror role (central server) both read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HEADER_BYTES = 512
MAGIC = "ClamAV-VDB"
# Signed official databases (with a header), and .cdiff patches and .sign files beside them.
OFFICIAL_EXTENSIONS = (".cvd", ".cld", ".cud")
SIGNED_EXTENSIONS = (".cvd", ".cld")
PATCH_EXTENSIONS = (".cdiff", ".sign")
# Unsigned signature files that clamd loads as they are (in-house or third-party).
CUSTOM_EXTENSIONS = (
    ".hdb", ".hsb", ".hdu", ".hsu", ".mdb", ".msb", ".mdu", ".msu", ".ndb", ".ndu", ".ldb", ".ldu",
    ".idb", ".cdb", ".cbc", ".pdb", ".gdb", ".wdb", ".ftm", ".fp", ".sfp", ".ign", ".ign2", ".yar",
    ".yara", ".crb", ".cat",
)  # fmt: skip


def _fields(raw: bytes) -> list[str]:
    return raw[:HEADER_BYTES].decode("ascii", "replace").strip("\0 \n").split(":")


def parse_header(raw: bytes) -> dict[str, Any] | None:
    """The header's fields, or None when `raw` does not start with a complete, well-formed header."""
    fields = _fields(raw)
    if len(fields) < 9 or fields[0] != MAGIC:
        return None
    try:
        return {
            "build_time": fields[1],
            "version": int(fields[2]),
            "signatures": int(fields[3]),
            "functionality_level": int(fields[4]),
            "builder": fields[7],
            "build_epoch": int(fields[8].strip()),
        }
    except ValueError:
        return None


def read_header_bytes(path: Path) -> bytes | None:
    try:
        with Path(path).open("rb") as handle:
            return handle.read(HEADER_BYTES)
    except OSError:
        return None


def cvd_header(path: Path) -> dict[str, Any] | None:
    """The header of a database file, or None (missing, unreadable, no header)."""
    raw = read_header_bytes(path)
    return None if raw is None else parse_header(raw)


def cvd_version(path: Path) -> int:
    """The database's version, -1 when it has none: the mirror keeps the higher of two files."""
    raw = read_header_bytes(path)
    if raw is None:
        return -1
    fields = _fields(raw)
    if len(fields) < 9 or fields[0] != MAGIC:
        return -1
    try:
        return int(fields[2])
    except ValueError:
        return -1


def cvd_build_epoch(path: Path) -> int | None:
    """When the database was built (seconds since the epoch), None when unknown."""
    raw = read_header_bytes(path)
    if raw is None:
        return None
    fields = _fields(raw)
    try:
        return int(fields[8].strip()) if fields[0] == MAGIC else None
    except (IndexError, ValueError):
        return None


def database_kind(path: Path) -> str | None:
    """ "official", "patch", "custom", or None for a file clamd does not load."""
    name = Path(path).name
    if name.endswith(OFFICIAL_EXTENSIONS):
        return "official"
    if name.endswith(PATCH_EXTENSIONS):
        return "patch"
    if name.endswith(CUSTOM_EXTENSIONS):
        return "custom"
    return None
