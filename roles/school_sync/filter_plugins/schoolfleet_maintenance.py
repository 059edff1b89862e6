"""Ansible filters over schoolfleet.maintenance: the same code the timers and the fleet runner use.

{{ 'B' | schoolfleet_school_calendar(2026, '', hours) }}     the calendar shipped to a school
{{ calendar | schoolfleet_in_window }}                        inside the window now? (or at=ISO)
{{ slurped_by_host | schoolfleet_sync_report(commit, 72) }}   the fleet view's rows
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from schoolfleet.maintenance.school_calendar import build_calendar
from schoolfleet.maintenance.status import summarise
from schoolfleet.maintenance.window import SchoolCalendar, in_window


def school_calendar(
    zone: str, first_year: int, subdivision: str = "", school_hours: Mapping[str, Any] | None = None
) -> dict[str, object]:
    return build_calendar(zone, int(first_year), subdivision or None, school_hours).to_json()


def in_maintenance_window(calendar: Mapping[str, object], at: str | None = None) -> bool:
    moment = dt.datetime.fromisoformat(at) if at else dt.datetime.now(dt.UTC)
    return in_window(moment, SchoolCalendar.from_json(calendar))


def sync_report(
    slurped: Mapping[str, Mapping[str, Any]], central_commit: str | None, stale_after_hours: int
) -> list[dict[str, Any]]:
    """Rows of the fleet view from each host's slurp result of its status file."""
    statuses: dict[str, Mapping[str, Any] | None] = {}
    for host, result in slurped.items():
        content = (result or {}).get("content")
        statuses[host] = json.loads(base64.b64decode(content)) if content else None
    now = dt.datetime.now(dt.UTC)
    rows = summarise(statuses, central_commit or None, now, dt.timedelta(hours=int(stale_after_hours)))
    return [row.as_dict() for row in rows]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "schoolfleet_school_calendar": school_calendar,
            "schoolfleet_in_window": in_maintenance_window,
            "schoolfleet_sync_report": sync_report,
        }
