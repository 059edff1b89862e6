"""Build a school's calendar from packaged data, with no network at run time.

French public holidays come from `holidays` (computed, any year; Alsace-Moselle's extra days with
subdivision "57"/"67"/"68"), the school holidays of zones A, B and C from `vacances-scolaires-france`,
which ships the Ministry's published dates: the calendar is valid only as far as that data goes, and
a newer release of the package extends it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import holidays
from vacances_scolaires_france import SchoolHolidayDates

from schoolfleet.maintenance.window import (
    DEFAULT_SCHOOL_HOURS,
    SchoolCalendar,
    parse_school_hours,
    parse_teaching_hours,
)

ZONES = ("A", "B", "C")


def school_holiday_periods(
    zone: str, first_day: dt.date
) -> tuple[list[tuple[dt.date, dt.date, str]], dt.date]:
    """The zone's holiday periods from `first_day` on, merged into (first, last, name), and the data's end."""
    if zone not in ZONES:
        raise ValueError(f"unknown school holiday zone {zone!r} (expected A, B or C)")
    data = SchoolHolidayDates().data
    key = f"vacances_zone_{zone.lower()}"
    periods: list[tuple[dt.date, dt.date, str]] = []
    for day in sorted(data):
        entry = data[day]
        if day < first_day or not entry[key]:
            continue
        name = str(entry["nom_vacances"])
        if periods and periods[-1][2] == name and (day - periods[-1][1]).days == 1:
            periods[-1] = (periods[-1][0], day, name)
        else:
            periods.append((day, day, name))
    return periods, max(data)


def build_calendar(
    zone: str,
    first_year: int,
    subdivision: str | None = None,
    school_hours: Mapping[str, Sequence[str]] | None = None,
    teaching_hours: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> SchoolCalendar:
    """The calendar of a school of `zone` from 1 January of `first_year` to the end of the packaged data."""
    first_day = dt.date(first_year, 1, 1)
    periods, last_day = school_holiday_periods(zone, first_day)
    if last_day < first_day:
        raise ValueError(f"the packaged school holidays end on {last_day}, before {first_day}")
    public = holidays.country_holidays("FR", subdiv=subdivision, years=range(first_year, last_day.year + 1))
    hours = parse_school_hours(DEFAULT_SCHOOL_HOURS if school_hours is None else school_hours)
    return SchoolCalendar(
        zone=zone,
        valid_from=first_day,
        valid_until=last_day,
        public_holidays={day: str(name) for day, name in sorted(public.items()) if day <= last_day},
        school_holidays=periods,
        school_hours=hours,
        teaching_hours=parse_teaching_hours(teaching_hours, hours),
    )
