"""The maintenance window of a school: school days, Wednesdays, holidays, zones, summer time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from schoolfleet.maintenance import window
from schoolfleet.maintenance.school_calendar import build_calendar
from schoolfleet.maintenance.window import SchoolCalendar, in_window, window_reason

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@pytest.fixture(scope="module")
def calendars() -> dict[str, SchoolCalendar]:
    return {zone: build_calendar(zone, first_year=2026) for zone in "ABC"}


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (paris(2026, 11, 24, 3, 0), True),  # Tuesday night
        (paris(2026, 11, 24, 6, 59), True),
        (paris(2026, 11, 24, 7, 0), False),  # the before-school care opens
        (paris(2026, 11, 24, 10, 0), False),
        (paris(2026, 11, 24, 18, 59), False),
        (paris(2026, 11, 24, 19, 0), True),  # the evening
        (paris(2026, 11, 27, 23, 30), True),  # Friday night
        (paris(2026, 11, 28, 11, 0), True),  # Saturday
        (paris(2026, 11, 29, 15, 0), True),  # Sunday
    ],
)
def test_a_school_day_opens_in_the_evening_and_closes_in_the_morning(
    calendars: dict[str, SchoolCalendar], moment: dt.datetime, inside: bool
) -> None:
    assert in_window(moment, calendars["B"]) is inside


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (paris(2026, 11, 25, 10, 0), False),  # Wednesday morning class
        (paris(2026, 11, 25, 12, 29), False),
        (paris(2026, 11, 25, 12, 30), True),
        (paris(2026, 11, 25, 15, 0), True),  # Wednesday afternoon
    ],
)
def test_wednesday_afternoon_is_inside(
    calendars: dict[str, SchoolCalendar], moment: dt.datetime, inside: bool
) -> None:
    assert in_window(moment, calendars["A"]) is inside


def test_a_four_day_week_school_has_all_of_wednesday() -> None:
    hours = {day: ("07:00", "19:00") for day in ("mon", "tue", "thu", "fri")}
    calendar = build_calendar("A", first_year=2026, school_hours=hours)
    assert window_reason(paris(2026, 11, 25, 9, 0), calendar) == "no school on wed"
    assert not in_window(paris(2026, 11, 26, 9, 0), calendar)


@pytest.mark.parametrize(
    ("moment", "holiday"),
    [
        (paris(2027, 11, 11, 10, 0), "Armistice"),  # a Thursday
        (paris(2027, 5, 17, 10, 0), "Pentecost"),  # a Monday
        (paris(2027, 3, 29, 10, 0), "Easter"),  # Easter Monday
        (paris(2026, 12, 25, 10, 0), "Christmas"),  # a Friday inside the Christmas holidays too
    ],
)
def test_public_holidays_are_inside_all_day(
    calendars: dict[str, SchoolCalendar], moment: dt.datetime, holiday: str
) -> None:
    for calendar in calendars.values():
        reason = window_reason(moment, calendar)
        assert reason is not None
        assert reason.startswith("public holiday") and holiday in reason


def test_the_day_after_a_public_holiday_is_a_school_day(calendars: dict[str, SchoolCalendar]) -> None:
    assert not in_window(paris(2027, 11, 12, 10, 0), calendars["C"])


@pytest.mark.parametrize(
    ("moment", "zones_on_holiday"),
    [
        (paris(2026, 2, 10, 10, 0), {"A"}),  # winter 2026: zone A's first week
        (paris(2027, 2, 9, 10, 0), {"C"}),  # winter 2027: zone C's first week
        (paris(2027, 2, 16, 10, 0), {"A", "C"}),
        (paris(2027, 3, 2, 10, 0), {"B"}),  # zone B's second week
        (paris(2027, 4, 27, 10, 0), {"B"}),  # spring 2027
        (paris(2027, 4, 6, 10, 0), {"C"}),
        (paris(2026, 12, 22, 10, 0), {"A", "B", "C"}),  # Christmas holidays, a Tuesday
        (paris(2027, 7, 20, 10, 0), {"A", "B", "C"}),  # summer holidays
        (paris(2026, 11, 24, 10, 0), set()),  # an ordinary Tuesday
    ],
)
def test_each_zone_has_its_own_school_holidays(
    calendars: dict[str, SchoolCalendar], moment: dt.datetime, zones_on_holiday: set[str]
) -> None:
    inside = {zone for zone, calendar in calendars.items() if in_window(moment, calendar)}
    assert inside == zones_on_holiday
    for zone in inside:
        assert f"school holidays of zone {zone}" in str(window_reason(moment, calendars[zone]))


def test_the_change_to_summer_time_keeps_paris_wall_clock_hours(calendars: dict[str, SchoolCalendar]) -> None:
    calendar = calendars["B"]
    # Summer time starts on Sunday 29 March 2026 at 02:00 CET. The same UTC time of day is 06:30
    # in Paris (before school) on the Friday before it, 07:30 (in class) on the Monday after it.
    friday_before = dt.datetime(2026, 3, 27, 5, 30, tzinfo=UTC)
    monday_after = dt.datetime(2026, 3, 30, 5, 30, tzinfo=UTC)
    assert in_window(friday_before, calendar)
    assert not in_window(monday_after, calendar)
    # And in the evening: 17:30 UTC is 18:30 CET (still school) but 19:30 CEST (window open).
    assert not in_window(dt.datetime(2026, 3, 27, 17, 30, tzinfo=UTC), calendar)
    assert in_window(dt.datetime(2026, 3, 30, 17, 30, tzinfo=UTC), calendar)
    # The Sunday of the change itself, around the skipped hour, is inside (no school).
    assert in_window(dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), calendar)
    assert in_window(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), calendar)


def test_the_change_back_to_winter_time(calendars: dict[str, SchoolCalendar]) -> None:
    # Winter time from Sunday 25 October 2026; the Toussaint holidays run until 1 November, so take
    # the Monday after them: 05:59 UTC is 06:59 CET, before school, and 06:30 UTC is 07:30, in class.
    assert not in_window(dt.datetime(2026, 11, 2, 6, 30, tzinfo=UTC), calendars["A"])
    assert in_window(dt.datetime(2026, 11, 2, 5, 59, tzinfo=UTC), calendars["A"])


def test_a_naive_moment_is_refused(calendars: dict[str, SchoolCalendar]) -> None:
    with pytest.raises(ValueError, match="time zone"):
        window_reason(dt.datetime(2026, 11, 24, 10, 0), calendars["A"])


def test_the_calendar_covers_only_the_packaged_data(calendars: dict[str, SchoolCalendar]) -> None:
    calendar = calendars["A"]
    assert calendar.valid_from == dt.date(2026, 1, 1)
    assert calendar.valid_until >= dt.date(2028, 8, 31)
    assert calendar.covers(dt.date(2027, 6, 1))
    assert not calendar.covers(calendar.valid_until + dt.timedelta(days=1))


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="zone"):
        build_calendar("D", first_year=2026)


def test_alsace_moselle_has_good_friday() -> None:
    good_friday = paris(2027, 3, 26, 10, 0)
    assert not in_window(good_friday, build_calendar("B", first_year=2027))
    assert in_window(good_friday, build_calendar("B", first_year=2027, subdivision="57"))


def test_the_json_shipped_to_servers_gives_the_same_answers(calendars: dict[str, SchoolCalendar]) -> None:
    calendar = calendars["C"]
    again = SchoolCalendar.from_json(json.loads(json.dumps(calendar.to_json())))
    assert again.to_json() == calendar.to_json()
    moment = paris(2027, 2, 9, 10, 0)
    assert window_reason(moment, again) == window_reason(moment, calendar)


def write_calendar(tmp_path: Path, calendar: SchoolCalendar) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(calendar.to_json()), encoding="utf-8")
    return path


def test_the_guard_exit_status_drives_systemd(
    tmp_path: Path, calendars: dict[str, SchoolCalendar], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_calendar(tmp_path, calendars["B"])
    assert window.main(["--calendar", str(path), "--at", "2026-11-24T10:00:00+01:00"]) == window.EXIT_SKIP
    assert window.main(["--calendar", str(path), "--at", "2026-11-24T21:00:00+01:00"]) == window.EXIT_RUN
    assert "after school" in capsys.readouterr().out
    # At 06:30 the window is open but closes at 07:00: a 60-minute job must wait.
    at = "2026-11-24T06:30:00+01:00"
    assert window.main(["--calendar", str(path), "--at", at]) == window.EXIT_RUN
    assert window.main(["--calendar", str(path), "--at", at, "--for-minutes", "60"]) == window.EXIT_SKIP


def test_the_guard_fails_loudly_without_a_calendar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert window.main(["--calendar", str(tmp_path / "missing.json")]) == window.EXIT_ERROR
    assert "cannot decide" in capsys.readouterr().err


def test_the_guard_warns_when_the_calendar_has_run_out(
    tmp_path: Path, calendars: dict[str, SchoolCalendar], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_calendar(tmp_path, calendars["A"])
    # Weekly hours still apply after the data ends: a Tuesday morning in 2029 stays closed.
    assert window.main(["--calendar", str(path), "--at", "2029-11-20T10:00:00+01:00"]) == window.EXIT_SKIP
    assert "renew it" in capsys.readouterr().err
