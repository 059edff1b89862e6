"""The fleet view: when each school last synchronised, and whether it is up to date.

Each school server keeps /var/lib/schoolfleet/sync-status.json (written by the school_sync role's
`schoolfleet-sync` after every run of a job); the school_sync role's `fleet_status` entry point
collects them with the central repository's current commit and calls `summarise`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from schoolfleet.timestamps import parse_time

JOBS = ("apt", "config")


@dataclass(frozen=True)
class SchoolSyncState:
    host: str
    up_to_date: bool
    # The oldest of the jobs' last successes: everything on the server is at least that fresh.
    last_sync: str | None
    config_commit: str | None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _age(now: dt.datetime, then: dt.datetime) -> str:
    hours = (now - then).total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"


def school_state(
    host: str,
    status: Mapping[str, Any] | None,
    central_commit: str | None,
    now: dt.datetime,
    max_age: dt.timedelta,
) -> SchoolSyncState:
    """One school's state from its status file (None when it has none yet)."""
    if not status:
        return SchoolSyncState(host, False, None, None, ["never synchronised (no status file)"])
    jobs: Mapping[str, Any] = status.get("jobs", {})
    problems: list[str] = []
    successes: list[dt.datetime] = []
    for name in JOBS:
        job = jobs.get(name) or {}
        success = parse_time(job.get("last_success"))
        if success is None:
            problems.append(f"{name}: never succeeded")
        else:
            successes.append(success)
            if now - success > max_age:
                problems.append(f"{name}: last success {_age(now, success)} ago")
        if job.get("result") == "failed":
            problems.append(
                f"{name}: last run failed at {job.get('last_attempt')}: {job.get('message', '')}".strip()
            )
    config_commit = (jobs.get("config") or {}).get("applied_commit")
    if central_commit and config_commit != central_commit:
        problems.append(f"config: applied {str(config_commit)[:12]}, central has {central_commit[:12]}")
    upgradable = (jobs.get("apt") or {}).get("upgradable")
    if isinstance(upgradable, int) and upgradable > 0:
        problems.append(f"apt: {upgradable} packages not upgraded")
    last_sync = min(successes).isoformat() if len(successes) == len(JOBS) else None
    return SchoolSyncState(host, not problems, last_sync, config_commit, problems)


def summarise(
    statuses: Mapping[str, Mapping[str, Any] | None],
    central_commit: str | None,
    now: dt.datetime,
    max_age: dt.timedelta,
) -> list[SchoolSyncState]:
    return [school_state(host, statuses[host], central_commit, now, max_age) for host in sorted(statuses)]


def format_table(states: list[SchoolSyncState]) -> str:
    lines = [f"{'school server':<32} {'up to date':<10} {'last synchronised':<26} problems"]
    for state in states:
        lines.append(
            f"{state.host:<32} {'yes' if state.up_to_date else 'NO':<10} {state.last_sync or 'never':<26} "
            + "; ".join(state.problems)
        )
    return "\n".join(lines)
