#!/usr/bin/python3
"""Central mirror of the UT1 blocklists: fetch, clean, validate, publish a versioned copy.

The published tree is built so that a school that is up to date only ever transfers one small
file per new version:

    manifest.json                 version, per-category count and sha256, the delta chain
    deltas/<version>.gz           "+cat<TAB>domain" / "-cat<TAB>domain" lines since the previous version
    snapshots/<version>/<cat>     the full clean lists (only for schools too far behind)

A sorted full list shifts at every change (rsync of it moves ~7 % for 200 new domains); a delta of
200 names is a few kilobytes. The manifest is written last, by rename, so a school never sees a
version whose files are not all there. On any failed check the previous publication stays as it
is, the command exits non-zero (the systemd unit fails), an alert is logged at priority crit and
the status file (--status) says ok: false with the error. A download cut short, a truncated or
corrupted archive, and an archive member outside its tree are such failed checks; an https
archive is unpacked to its folders and regular files only (no links, no devices).

Runs on the central server with the Debian python3 and rsync only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import hashlib
import http.client
import ipaddress
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

# Real UT1 files hold thousands of junk lines in a few million; a much higher share means a
# broken download or a format change, and publishing it could silently drop blocking.
MAX_LINE_BYTES = 1024
# Real lists hold labels that start or end with "-" or contain "_": keep them (they are names a
# browser may look up) but never a label longer than DNS allows.
LOOSE_LABEL_RE = re.compile(r"^[a-z0-9_-]{1,63}$")


class ValidationError(Exception):
    pass


def normalize_name(raw: bytes | str) -> tuple[str | None, str]:
    """One list line -> (clean domain or None, reason).

    Reasons: "ok", "blank", "ip", "long", "invalid". A name is lower-case ASCII (IDN turned into
    punycode), without trailing dot, scheme, path, port or "*." prefix, with at least two labels
    (a lone TLD would block a whole country).
    """
    if isinstance(raw, bytes):
        if len(raw) > MAX_LINE_BYTES:
            return None, "long"
        text = raw.decode("utf-8", errors="replace")
    else:
        if len(raw.encode("utf-8", errors="replace")) > MAX_LINE_BYTES:
            return None, "long"
        text = raw
    text = text.split("#", 1)[0].strip().strip("\ufeff")
    if not text:
        return None, "blank"
    token = text.split()[0]
    if "://" in token:
        token = token.split("://", 1)[1]
    token = token.split("/", 1)[0]
    if token.startswith("["):
        token = token[1:].split("]", 1)[0]
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(token)
        return None, "ip"
    if token.count(":") == 1:
        token = token.split(":", 1)[0]
    token = token.lower().strip(".")
    while token.startswith("*."):
        token = token[2:]
    if not token:
        return None, "invalid"
    if not token.isascii():
        try:
            token = token.encode("idna").decode("ascii")
        except UnicodeError:
            return None, "invalid"
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(token)
        return None, "ip"
    labels = token.split(".")
    if len(token) > 253 or len(labels) < 2 or not all(LOOSE_LABEL_RE.match(label) for label in labels):
        return None, "invalid"
    return token, "ok"


def clean_lines(lines: Iterable[bytes]) -> tuple[list[str], dict[str, int]]:
    """Clean names of one list, sorted bytewise and unique, with the count of each reason."""
    names: set[str] = set()
    reasons: dict[str, int] = {}
    for line in lines:
        name, reason = normalize_name(line)
        reasons[reason] = reasons.get(reason, 0) + 1
        if name is not None:
            names.add(name)
    return sorted(names), reasons


def read_lines(path: Path) -> Iterator[bytes]:
    # Binary and split on \n only: CRLF, stray \r and invalid UTF-8 are the cleaner's job.
    with path.open("rb") as handle:
        yield from handle


def sha256_lines(names: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode("ascii") + b"\n")
    return digest.hexdigest()


def log(message: str, priority: str = "info") -> None:
    print(f"blocklist-mirror: {message}", file=sys.stderr, flush=True)
    if priority in {"crit", "err"} and shutil.which("logger"):
        subprocess.run(["logger", "-t", "blocklist-mirror", "-p", f"daemon.{priority}", message], check=False)


# --- fetch ---------------------------------------------------------------------------------------
def fetch(source: str, dest: Path) -> Path:
    """Bring the upstream tree into dest; return the directory that holds the category folders."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if source.startswith("rsync://") or (not source.startswith(("http://", "https://")) and "::" in source):
        subprocess.run(
            ["rsync", "-rtl", "--delete", "--timeout=300", source.rstrip("/") + "/", str(dest) + "/"],
            check=True,
        )
    elif source.startswith(("http://", "https://")):
        archive = dest / "download.tar.gz"
        with urllib.request.urlopen(source, timeout=300) as response, archive.open("wb") as out:
            shutil.copyfileobj(response, out)
            # http.client returns a body cut short by a closed connection without an error.
            announced = response.headers.get("Content-Length", "")
            if announced.isdigit() and out.tell() != int(announced):
                raise ValidationError(f"download cut short: {out.tell()} of {announced} bytes of the archive")
        extract_tree(archive, dest / "tree")
        archive.unlink()
        dest = dest / "tree"
    else:
        local = Path(source.removeprefix("file://"))
        if not local.is_dir():
            raise ValidationError(f"source {source} is not a directory")
        subprocess.run(["rsync", "-rtl", "--delete", str(local) + "/", str(dest) + "/"], check=True)
    # The archive and some mirrors wrap everything in a "blacklists/" folder.
    inner = dest / "blacklists"
    return inner if inner.is_dir() else dest


def extract_tree(archive: Path, dest: Path) -> None:
    """The folders and regular files of a tar archive into dest, nothing else.

    By hand, not with extractall(filter="data"): the Python of Debian 12 (3.11.2) predates the
    extraction filters. Links, devices and fifos are left out (the lists need none, and a link is
    how an archive writes outside its tree); a member whose path leaves dest refuses the archive.
    """
    dest.mkdir(parents=True)
    root = dest.resolve()
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                # No link is ever created, so resolve() follows none of the archive's.
                target = (root / member.name).resolve()
                if not target.is_relative_to(root) or (target == root and not member.isdir()):
                    raise ValidationError(f"archive member {member.name!r} is outside the tree")
                if member.isdir():
                    target.mkdir(mode=0o755, parents=True, exist_ok=True)
                elif member.isreg():
                    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None  # A regular member always has a body.
                    with source, target.open("wb") as out:
                        shutil.copyfileobj(source, out)
                    target.chmod(0o644)
    except (EOFError, zlib.error, gzip.BadGzipFile, tarfile.TarError) as exc:
        # A truncated or corrupted download, or not a tar archive at all (an HTML error page). On
        # one line: tarfile lists the compressions it tried on several.
        raise ValidationError(f"damaged archive: {' '.join(str(exc).split())}") from exc


def categories_in(tree: Path) -> list[str]:
    # UT1 ships English aliases as symlinks (porn -> adult): the real folders are enough.
    return sorted(
        entry.name
        for entry in tree.iterdir()
        if entry.is_dir() and not entry.is_symlink() and (entry / "domains").is_file()
    )


# --- publication -----------------------------------------------------------------------------------
def load_manifest(publish: Path) -> dict[str, object] | None:
    path = publish / "manifest.json"
    if not path.exists():
        return None
    data: dict[str, object] = json.loads(path.read_text())
    return data


def snapshot_names(publish: Path, version: str, category: str) -> list[str]:
    path = publish / "snapshots" / version / category
    return path.read_text().split() if path.exists() else []


def check_lists(
    lists: dict[str, tuple[list[str], dict[str, int]]],
    previous: dict[str, dict[str, object]],
    required: list[str],
    max_shrink_percent: float,
    max_rejected_percent: float,
) -> None:
    for category in required:
        if category not in lists or not lists[category][0]:
            raise ValidationError(f"required category {category} is missing or empty")
    for category, (names, reasons) in lists.items():
        lines = sum(count for reason, count in reasons.items() if reason != "blank")
        rejected = reasons.get("invalid", 0) + reasons.get("long", 0)
        if lines and 100.0 * rejected / lines > max_rejected_percent:
            raise ValidationError(f"{category}: {rejected} of {lines} lines do not parse")
        old = previous.get(category)
        if old is not None:
            old_count = int(str(old["count"]))
            if old_count and 100.0 * (old_count - len(names)) / old_count > max_shrink_percent:
                raise ValidationError(
                    f"{category} shrank from {old_count} to {len(names)} names "
                    f"(more than {max_shrink_percent} %)"
                )
    for category in previous:
        if category not in lists:
            raise ValidationError(f"category {category} disappeared from the source")


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def publish(
    tree: Path,
    publish_dir: Path,
    required: list[str],
    max_shrink_percent: float,
    max_rejected_percent: float,
    keep_deltas: int,
    keep_snapshots: int,
    now: dt.datetime | None = None,
) -> str | None:
    """Publish tree if it changed and passes every check; return the new version or None."""
    lists = {
        category: clean_lines(read_lines(tree / category / "domains")) for category in categories_in(tree)
    }
    manifest = load_manifest(publish_dir)
    previous: dict[str, dict[str, object]] = {}
    old_version = None
    if manifest is not None:
        previous = manifest["categories"]  # type: ignore[assignment]
        old_version = str(manifest["version"])
    check_lists(lists, previous, required, max_shrink_percent, max_rejected_percent)
    sums = {category: sha256_lines(names) for category, (names, _) in lists.items()}
    if old_version is not None and all(
        category in previous and previous[category]["sha256"] == digest for category, digest in sums.items()
    ):
        log(f"no change since {old_version}")
        return None

    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    version = stamp if old_version is None or stamp > old_version else old_version + "1"
    snapshots = publish_dir / "snapshots"
    deltas = publish_dir / "deltas"
    snapshots.mkdir(parents=True, exist_ok=True)
    deltas.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=snapshots))
    for category, (names, _) in lists.items():
        (staging / category).write_text("".join(name + "\n" for name in names))
    delta_entries: list[dict[str, str]] = list(manifest["deltas"]) if manifest else []  # type: ignore[call-overload]
    if old_version is not None:
        lines: list[str] = []
        for category in sorted(lists):
            new = lists[category][0]
            old = snapshot_names(publish_dir, old_version, category)
            old_set, new_set = set(old), set(new)
            lines += [f"-{category}\t{name}" for name in old if name not in new_set]
            lines += [f"+{category}\t{name}" for name in new if name not in old_set]
        body = f"#from {old_version}\n#to {version}\n" + "".join(line + "\n" for line in lines)
        blob = gzip.compress(body.encode("ascii"), mtime=0)
        write_atomic(deltas / f"{version}.gz", blob)
        delta_entries.append(
            {
                "from": old_version,
                "to": version,
                "file": f"deltas/{version}.gz",
                "sha256": hashlib.sha256(blob).hexdigest(),
            }
        )
    staging.chmod(0o755)
    staging.rename(snapshots / version)
    delta_entries = delta_entries[-keep_deltas:]
    new_manifest = {
        "format": 1,
        "version": version,
        "published": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "snapshot": f"snapshots/{version}",
        "categories": {
            category: {
                "count": len(names),
                "sha256": sums[category],
                "ip_entries": reasons.get("ip", 0),
                "rejected": reasons.get("invalid", 0),
            }
            for category, (names, reasons) in sorted(lists.items())
        },
        "deltas": delta_entries,
    }
    write_atomic(publish_dir / "manifest.json", json.dumps(new_manifest, indent=1).encode())
    # Old snapshots go only after the new manifest is in place; the delta files go with the chain.
    kept = sorted(p.name for p in snapshots.iterdir() if not p.name.startswith("."))[-keep_snapshots:]
    for entry in snapshots.iterdir():
        if entry.name not in kept:
            shutil.rmtree(entry)
    live_deltas = {Path(d["file"]).name for d in delta_entries}
    for entry in deltas.iterdir():
        if entry.name not in live_deltas:
            entry.unlink()
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source", required=True, help="rsync://..., https://...tar.gz or a local folder")
    parser.add_argument("--work", type=Path, required=True, help="download area")
    parser.add_argument("--publish", type=Path, required=True, help="the tree the schools sync")
    parser.add_argument("--required", default="adult,redirector")
    parser.add_argument("--max-shrink-percent", type=float, default=10.0)
    parser.add_argument("--max-rejected-percent", type=float, default=1.0)
    parser.add_argument("--keep-deltas", type=int, default=90)
    parser.add_argument("--keep-snapshots", type=int, default=2)
    parser.add_argument("--status", type=Path, help="JSON status file for monitoring")
    args = parser.parse_args(argv)
    status: dict[str, object] = {"checked": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        tree = fetch(args.source, args.work / "upstream")
        version = publish(
            tree,
            args.publish,
            [c for c in args.required.split(",") if c],
            args.max_shrink_percent,
            args.max_rejected_percent,
            args.keep_deltas,
            args.keep_snapshots,
        )
        manifest = load_manifest(args.publish) or {}
        status.update(ok=True, version=manifest.get("version"), published=version is not None)
        log(f"published {version}" if version else "publication unchanged")
        rc = 0
    except (ValidationError, OSError, subprocess.CalledProcessError, http.client.HTTPException) as exc:
        log(f"ALERT: update refused, previous publication kept: {exc}", "crit")
        status.update(ok=False, error=str(exc))
        # The version still served, for monitoring.
        with contextlib.suppress(OSError, ValueError):
            status["version"] = (load_manifest(args.publish) or {}).get("version")
        rc = 1
    if args.status:
        write_atomic(args.status, json.dumps(status, indent=1).encode())
    return rc


if __name__ == "__main__":
    sys.exit(main())
