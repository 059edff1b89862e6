#!/usr/bin/python3
"""Is this moment inside the maintenance window of this school?

The school servers' copy of scripts/schoolfleet/maintenance/window.py (the controller's, which the
fleet runner uses): the same code, shipped in the schoolfleet-agent package with the command
`schoolfleet-maintenance-window`. tests/agent/test_agent_window.py checks that both give the same
answers until the roles move to this one. Standard library only.

A moment is inside the window when, in Paris time, it falls
- on a French public holiday or during the school holidays of the school's zone (whole days), or
- on a day without school (Saturdays, Sundays, and any day absent from the school hours), or
- outside the school hours of that weekday: evenings and nights, and Wednesday afternoons since
  Wednesday classes end at noon.

The same calendar also says when classes are taught (`teaching_reason`): the Wi-Fi schedule
(schoolfleet.wifi.schedule) switches the access points on only then, as the law of 9 February 2015
(article 7) asks of primary schools. Teaching hours lie inside the school hours by construction, so
the radios are never scheduled on inside a maintenance window; the closed days are the same ones.

Command line (exit status for systemd's ExecCondition=: 0 run, 1 skip, 255 error):
    schoolfleet-maintenance-window --calendar FILE [--at ISO-8601] [--for-minutes N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The school day with the before- and after-school care that uses the same network: the window
# opens when the last child has left and closes before the first one arrives.
DEFAULT_SCHOOL_HOURS: Mapping[str, tuple[str, str]] = {
    "mon": ("07:00", "19:00"),
    "tue": ("07:00", "19:00"),
    "wed": ("07:00", "12:30"),
    "thu": ("07:00", "19:00"),
    "fri": ("07:00", "19:00"),
}

# Class time, a subset of the school hours: morning and afternoon classes with the lunch break
# out, Wednesday morning only (the 4.5-day week; a 4-day week school has no Wednesday at all).
# The radios come on a few minutes before the bell.
DEFAULT_TEACHING_HOURS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "mon": (("08:20", "11:45"), ("13:20", "16:45")),
    "tue": (("08:20", "11:45"), ("13:20", "16:45")),
    "wed": (("08:20", "11:45"),),
    "thu": (("08:20", "11:45"), ("13:20", "16:45")),
    "fri": (("08:20", "11:45"), ("13:20", "16:45")),
}

Span = tuple[dt.time, dt.time]

EXIT_RUN = 0
EXIT_SKIP = 1
EXIT_ERROR = 255


@dataclass(frozen=True)
class SchoolCalendar:
    """The closed days of one school and its weekly school hours (Paris wall-clock time)."""

    zone: str
    valid_from: dt.date
    valid_until: dt.date
    public_holidays: Mapping[dt.date, str] = field(default_factory=dict)
    # (first day, last day, name), both ends included, as published for the zone.
    school_holidays: Sequence[tuple[dt.date, dt.date, str]] = ()
    school_hours: Mapping[str, tuple[dt.time, dt.time]] = field(default_factory=dict)
    # Class time per weekday, each span inside that day's school hours (see parse_teaching_hours).
    teaching_hours: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)

    def covers(self, day: dt.date) -> bool:
        """Whether the holiday data reaches this day (beyond it only the weekly hours apply)."""
        return self.valid_from <= day <= self.valid_until

    def to_json(self) -> dict[str, object]:
        return {
            "zone": self.zone,
            "timezone": str(PARIS),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "school_hours": {
                day: [start.strftime("%H:%M"), end.strftime("%H:%M")]
                for day, (start, end) in sorted(self.school_hours.items(), key=lambda i: WEEKDAYS.index(i[0]))
            },
            "teaching_hours": {
                day: [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in spans]
                for day, spans in sorted(self.teaching_hours.items(), key=lambda i: WEEKDAYS.index(i[0]))
            },
            "public_holidays": {day.isoformat(): name for day, name in sorted(self.public_holidays.items())},
            "school_holidays": [
                [first.isoformat(), last.isoformat(), name] for first, last, name in self.school_holidays
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SchoolCalendar:
        hours = data.get("school_hours", {})
        publics = data.get("public_holidays", {})
        periods = data.get("school_holidays", [])
        teaching = data.get("teaching_hours")
        if not isinstance(hours, dict) or not isinstance(publics, dict) or not isinstance(periods, list):
            raise ValueError("school_hours and public_holidays must be objects, school_holidays a list")
        if teaching is not None and not isinstance(teaching, dict):
            raise ValueError("teaching_hours must be an object")
        school_hours = parse_school_hours(hours)
        return cls(
            zone=str(data["zone"]),
            valid_from=dt.date.fromisoformat(str(data["valid_from"])),
            valid_until=dt.date.fromisoformat(str(data["valid_until"])),
            public_holidays={dt.date.fromisoformat(day): str(name) for day, name in publics.items()},
            school_holidays=[
                (dt.date.fromisoformat(first), dt.date.fromisoformat(last), str(name))
                for first, last, name in periods
            ],
            school_hours=school_hours,
            # A calendar written before teaching hours existed gets the default ones.
            teaching_hours=parse_teaching_hours(teaching, school_hours),
        )


def parse_school_hours(hours: Mapping[str, Sequence[str]]) -> dict[str, tuple[dt.time, dt.time]]:
    """{"mon": ["07:00", "19:00"], ...} -> times; a day left out has no school at all."""
    parsed: dict[str, tuple[dt.time, dt.time]] = {}
    for day, span in hours.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r} (expected one of {', '.join(WEEKDAYS)})")
        start, end = (dt.time.fromisoformat(value) for value in span)
        if end < start:
            raise ValueError(f"school hours of {day} end before they start: {start}-{end}")
        parsed[day] = (start, end)
    return parsed


def parse_teaching_hours(
    hours: Mapping[str, Sequence[Sequence[str]]] | None,
    school_hours: Mapping[str, tuple[dt.time, dt.time]],
) -> dict[str, tuple[Span, ...]]:
    """{"mon": [["08:20", "11:45"], ["13:20", "16:45"]], ...} -> times, checked against the school hours.

    None gives the default class times, kept to the days the school is open (a 4-day week school
    loses Wednesday). Given explicitly, a span outside the day's school hours is an error: the
    radios must never be due on inside the maintenance window.
    """
    explicit = hours is not None
    source: Mapping[str, Sequence[Sequence[str]]] = DEFAULT_TEACHING_HOURS if hours is None else hours
    parsed: dict[str, tuple[Span, ...]] = {}
    for day, spans in source.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r} (expected one of {', '.join(WEEKDAYS)})")
        if day not in school_hours:
            if explicit and spans:
                raise ValueError(f"teaching hours on {day}, a day without school hours")
            continue
        open_at, close_at = school_hours[day]
        times: list[Span] = []
        for span in spans:
            start, end = (dt.time.fromisoformat(value) for value in span)
            if end <= start:
                raise ValueError(f"teaching hours of {day} end before they start: {start}-{end}")
            if start < open_at or end > close_at:
                raise ValueError(
                    f"teaching hours {start:%H:%M}-{end:%H:%M} of {day} are outside its school hours "
                    f"{open_at:%H:%M}-{close_at:%H:%M}"
                )
            if times and start < times[-1][1]:
                raise ValueError(f"teaching hours of {day} overlap or are out of order")
            times.append((start, end))
        if times:
            parsed[day] = tuple(times)
    return parsed


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time would silently be read as UTC on one machine and local time on another.
        raise ValueError(f"a moment needs a time zone: {moment.isoformat()}")
    return moment.astimezone(PARIS)


def closed_day_reason(day: dt.date, calendar: SchoolCalendar) -> str | None:
    """Why the school is closed all of `day` (public holiday, zone holidays, no school that weekday)."""
    if day in calendar.public_holidays:
        return f"public holiday ({calendar.public_holidays[day]})"
    for first, last, name in calendar.school_holidays:
        if first <= day <= last:
            return f"school holidays of zone {calendar.zone} ({name})"
    weekday = WEEKDAYS[day.weekday()]
    if weekday not in calendar.school_hours:
        return f"no school on {weekday}"
    return None


def teaching_reason(moment: dt.datetime, calendar: SchoolCalendar) -> str | None:
    """Why `moment` is not class time at this school, or None when classes are being taught."""
    local = _local(moment)
    closed = closed_day_reason(local.date(), calendar)
    if closed is not None:
        return closed
    weekday = WEEKDAYS[local.weekday()]
    spans = calendar.teaching_hours.get(weekday, ())
    if not spans:
        return f"no class on {weekday}"
    wall = local.time().replace(tzinfo=None)
    for start, end in spans:
        if start <= wall < end:
            return None
    listed = ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in spans)
    return f"outside class time ({weekday} {listed})"


def is_teaching(moment: dt.datetime, calendar: SchoolCalendar) -> bool:
    return teaching_reason(moment, calendar) is None


def window_reason(moment: dt.datetime, calendar: SchoolCalendar) -> str | None:
    """Why `moment` is inside the school's maintenance window, or None when it is not.

    The decision of the whole fleet: every other function and every timer calls this one.
    """
    local = _local(moment)
    closed = closed_day_reason(local.date(), calendar)
    if closed is not None:
        return closed
    weekday = WEEKDAYS[local.weekday()]
    start, end = calendar.school_hours[weekday]
    wall = local.time().replace(tzinfo=None)
    if wall < start:
        return f"before school ({weekday} before {start:%H:%M})"
    if wall >= end:
        return f"after school ({weekday} from {end:%H:%M})"
    return None


def in_window(moment: dt.datetime, calendar: SchoolCalendar) -> bool:
    return window_reason(moment, calendar) is not None


def load_calendar(path: Path) -> SchoolCalendar:
    return SchoolCalendar.from_json(json.loads(path.read_text(encoding="utf-8")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 inside the school's maintenance window, 1 outside.")
    parser.add_argument("--calendar", type=Path, required=True, help="the school's calendar (JSON)")
    parser.add_argument("--at", help="an ISO 8601 moment with its offset (default: now)")
    parser.add_argument(
        "--for-minutes",
        type=int,
        default=0,
        help="also require the window to be open that many minutes later (room for the job to finish)",
    )
    args = parser.parse_args(argv)
    try:
        calendar = load_calendar(args.calendar)
        moment = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(dt.UTC)
        reason = window_reason(moment, calendar)
        later = moment + dt.timedelta(minutes=args.for_minutes)
        reason_later = window_reason(later, calendar) if args.for_minutes else reason
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"schoolfleet-maintenance-window: cannot decide: {error}", file=sys.stderr)
        return EXIT_ERROR
    local = moment.astimezone(PARIS).isoformat(timespec="minutes")
    if not calendar.covers(moment.astimezone(PARIS).date()):
        # Weekly hours still protect the school day; holidays are unknown until the data is renewed.
        print(
            f"schoolfleet-maintenance-window: warning: the holiday calendar ends on {calendar.valid_until}; "
            "renew it (the school_sync role does) to use holidays again",
            file=sys.stderr,
        )
    if reason is None:
        print(f"outside the maintenance window at {local}: school hours")
        return EXIT_SKIP
    if reason_later is None:
        print(f"the maintenance window closes within {args.for_minutes} minutes of {local}")
        return EXIT_SKIP
    print(f"inside the maintenance window at {local}: {reason}")
    return EXIT_RUN


if __name__ == "__main__":
    sys.exit(main())
