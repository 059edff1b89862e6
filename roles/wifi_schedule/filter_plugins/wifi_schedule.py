"""Ansible filters for the Wi-Fi schedule: the calendar comes from schoolfleet.maintenance, once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schoolfleet.maintenance.school_calendar import build_calendar


def wifi_schedule_calendar(
    zone: str,
    first_year: int,
    subdivision: str = "",
    school_hours: Mapping[str, Any] | None = None,
    teaching_hours: Mapping[str, Any] | None = None,
) -> dict[str, object]:
    """The school's calendar with its class time, in the maintenance window's JSON format."""
    return build_calendar(zone, int(first_year), subdivision or None, school_hours, teaching_hours).to_json()


def wifi_schedule_access_points(names: Iterable[str], hostvars: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"name": name, "address": str(hostvars[name]["fleet_address"])} for name in sorted(names)]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "wifi_schedule_calendar": wifi_schedule_calendar,
            "wifi_schedule_access_points": wifi_schedule_access_points,
        }
