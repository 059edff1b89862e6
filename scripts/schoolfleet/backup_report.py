"""The fleet view of the backups: for each school, the age, size and result of its last backup.

Each school server keeps /var/lib/schoolfleet-backup/status.json (written by the backup_client
role's `schoolfleet-backup` at the start and at the end of every run). Gather them on the
controller, then summarise:

    ansible school_servers -b -m ansible.builtin.fetch \\
        -a "src=/var/lib/schoolfleet-backup/status.json dest=DIR fail_on_missing=false"
    python -m schoolfleet.backup_report DIR [--expect HOSTS_FILE] [--json] [--max-age-hours 36]

A school is in trouble when its last run failed or was partial, when a run started long ago never
finished (killed), when its last success is older than --max-age-hours, or when it has no status
at all (listed in --expect but nothing was fetched). Exit 1 when any school is in trouble.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from schoolfleet.timestamps import parse_time

STATUS_NAME = "status.json"


@dataclass(frozen=True)
class SchoolBackupState:
    host: str
    state: str  # ok, failed, partial, interrupted, running, stale, missing
    last_success: str | None
    age_hours: float | None
    bytes_processed: int | None
    bytes_added: int | None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def assess(
    host: str,
    status: Mapping[str, Any] | None,
    now: dt.datetime,
    max_age_hours: float = 36,
    running_limit_hours: float = 12,
) -> SchoolBackupState:
    if status is None:
        return SchoolBackupState(host, "missing", None, None, None, None, ["no backup status on the server"])
    problems: list[str] = []
    success = status.get("last_success") or {}
    last_success = parse_time(success.get("finished"))
    age = round((now - last_success).total_seconds() / 3600, 1) if last_success else None
    result = status.get("result")
    state = "ok"
    if result == "running":
        started = parse_time(status.get("started"))
        if started is None or (now - started).total_seconds() / 3600 > running_limit_hours:
            state = "interrupted"
            problems.append(f"a backup started at {status.get('started')} never finished")
        else:
            state = "running"
    elif result in ("failed", "partial"):
        state = str(result)
        error = str(status.get("error") or "").strip().splitlines()
        problems.append(f"last run {result}" + (f": {error[-1]}" if error else ""))
    elif result != "ok":
        state = "failed"
        problems.append(f"unknown result {result!r}")
    for hook in status.get("hooks") or []:
        if isinstance(hook, Mapping) and hook.get("result") == "failed":
            problems.append(f"dump hook {hook.get('name')} failed")
    if last_success is None:
        problems.append("never backed up successfully")
        if state in ("ok", "running"):
            state = "failed" if state == "ok" else state
    elif age is not None and age > max_age_hours:
        problems.append(f"last success {age:.0f} hours ago")
        if state in ("ok", "running"):
            state = "stale"
    return SchoolBackupState(
        host=host,
        state=state,
        last_success=success.get("finished"),
        age_hours=age,
        bytes_processed=_int(success.get("bytes_processed")),
        bytes_added=_int(status.get("bytes_added")) if result == "ok" else None,
        problems=problems,
    )


def load_fetched(directory: Path) -> dict[str, dict[str, Any] | None]:
    """Statuses fetched by ansible's fetch module (DIR/<host>/.../status.json), by host."""
    statuses: dict[str, dict[str, Any] | None] = {}
    for path in sorted(directory.glob(f"*/**/{STATUS_NAME}")):
        host = path.relative_to(directory).parts[0]
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {"result": "unreadable status file"}
        statuses[host] = loaded if isinstance(loaded, dict) else {"result": "unreadable status file"}
    return statuses


def summarise(
    statuses: Mapping[str, Mapping[str, Any] | None],
    now: dt.datetime,
    expected: Iterable[str] = (),
    max_age_hours: float = 36,
) -> list[SchoolBackupState]:
    hosts = sorted(set(statuses) | set(expected))
    states = [assess(h, statuses.get(h), now, max_age_hours) for h in hosts]
    # Problems first, then the oldest backups.
    return sorted(states, key=lambda s: (s.state == "ok", -(s.age_hours or 1e9), s.host))


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    if value < 1024:
        return f"{value} B"
    size = value / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def format_table(states: list[SchoolBackupState]) -> str:
    rows = [("school", "state", "last success", "age (h)", "size", "sent", "problems")]
    for s in states:
        rows.append(
            (
                s.host,
                s.state,
                s.last_success or "-",
                "-" if s.age_hours is None else f"{s.age_hours:.1f}",
                _size(s.bytes_processed),
                _size(s.bytes_added),
                "; ".join(s.problems),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fleet report of the school servers' last backups.")
    parser.add_argument("directory", type=Path, help="where the status files were fetched")
    parser.add_argument(
        "--expect", type=Path, help="file with one host name per line that must have a status"
    )
    parser.add_argument("--max-age-hours", type=float, default=36)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    expected: list[str] = []
    if args.expect:
        expected = [
            line.strip() for line in args.expect.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    states = summarise(load_fetched(args.directory), dt.datetime.now(dt.UTC), expected, args.max_age_hours)
    if args.json:
        print(json.dumps([s.as_dict() for s in states], indent=2))
    else:
        print(format_table(states))
    return 0 if all(s.state in ("ok", "running") for s in states) else 1


if __name__ == "__main__":
    sys.exit(main())
