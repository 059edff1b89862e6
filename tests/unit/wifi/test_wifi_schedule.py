"""The legal Wi-Fi schedule: on during class time only, a teacher's switch-on that expires, the log."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from schoolfleet.maintenance.school_calendar import build_calendar
from schoolfleet.maintenance.window import SchoolCalendar, in_window, parse_teaching_hours, teaching_reason
from schoolfleet.wifi import __main__ as cli
from schoolfleet.wifi.schedule import (
    AccessPointRef,
    ScheduleConfig,
    ScheduleError,
    SwitchError,
    cancel_on_demand,
    desired_state,
    load_on_demand,
    radio_state,
    read_log,
    reconcile,
    report,
    request_on_demand,
)

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@pytest.fixture(scope="module")
def calendars() -> dict[str, SchoolCalendar]:
    return {zone: build_calendar(zone, first_year=2026) for zone in "ABC"}


class FakeAccessPoints:
    """The access points' radios in memory: the SSH transport is tested in the wifi_schedule scenario."""

    def __init__(self, states: dict[str, str], unreachable: set[str] | None = None) -> None:
        self.states = states
        self.unreachable = unreachable or set()
        self.switches: list[tuple[str, bool]] = []

    def state(self, ap: AccessPointRef) -> str:
        if ap.name in self.unreachable:
            raise SwitchError(f"{ap.name}: connection refused")
        return self.states[ap.name]

    def switch(self, ap: AccessPointRef, on: bool) -> None:
        self.switches.append((ap.name, on))
        self.states[ap.name] = "on" if on else "off"


@pytest.fixture
def config(tmp_path: Path) -> ScheduleConfig:
    return ScheduleConfig(
        school="0910001G",
        calendar=tmp_path / "calendar.json",
        access_points=(
            AccessPointRef("0910001g-ap1", "10.0.0.31"),
            AccessPointRef("0910001g-ap2", "10.0.0.32"),
        ),
        state_dir=tmp_path / "state",
        log_dir=tmp_path / "log",
        max_on_demand_minutes=120,
    )


@pytest.mark.parametrize(
    ("moment", "on", "reason"),
    [
        (paris(2026, 11, 24, 10, 0), True, "class time"),  # Tuesday morning class
        (paris(2026, 11, 24, 14, 0), True, "class time"),  # Tuesday afternoon class
        (paris(2026, 11, 24, 8, 19), False, "outside class time"),  # before the bell
        (paris(2026, 11, 24, 12, 30), False, "outside class time"),  # lunch break
        (paris(2026, 11, 24, 17, 0), False, "outside class time"),  # after-school care: no Wi-Fi
        (paris(2026, 11, 24, 23, 0), False, "outside class time"),  # night
        (paris(2026, 11, 25, 10, 0), True, "class time"),  # Wednesday morning class
        (paris(2026, 11, 25, 14, 0), False, "outside class time (wed 08:20-11:45)"),  # Wednesday afternoon
        (paris(2026, 11, 28, 10, 0), False, "no school on sat"),
        (paris(2026, 11, 11, 10, 0), False, "public holiday (Armistice Day)"),  # a Wednesday
        (paris(2026, 5, 14, 10, 0), False, "public holiday (Ascension Day)"),  # a Thursday
        (paris(2026, 12, 22, 10, 0), False, "school holidays of zone B (Vacances de Noël)"),
    ],
)
def test_radios_follow_class_time(
    calendars: dict[str, SchoolCalendar], moment: dt.datetime, on: bool, reason: str
) -> None:
    decision = desired_state(moment, calendars["B"], None)
    assert decision.on is on
    assert reason in decision.reason


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # The winter holidays of 2027: zone C from 6 Feb, A from 13 Feb, B from 20 Feb, two weeks each.
        (dt.date(2027, 2, 9), {"A": True, "B": True, "C": False}),
        (dt.date(2027, 2, 16), {"A": False, "B": True, "C": False}),
        (dt.date(2027, 2, 23), {"A": False, "B": False, "C": True}),
        (dt.date(2027, 3, 2), {"A": True, "B": False, "C": True}),
    ],
)
def test_each_zone_has_its_own_holidays(
    calendars: dict[str, SchoolCalendar], day: dt.date, expected: dict[str, bool]
) -> None:
    moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=PARIS)
    for zone, on in expected.items():
        decision = desired_state(moment, calendars[zone], None)
        assert decision.on is on, (zone, decision.reason)
        if not on:
            assert f"zone {zone}" in decision.reason


def test_class_time_is_never_inside_the_maintenance_window(calendars: dict[str, SchoolCalendar]) -> None:
    moment = paris(2026, 9, 1, 0, 0)
    while moment < paris(2027, 9, 1, 0, 0):
        if teaching_reason(moment, calendars["A"]) is None:
            assert not in_window(moment, calendars["A"]), moment
        moment += dt.timedelta(minutes=10)


def test_teaching_hours_must_lie_inside_the_school_hours() -> None:
    hours = {"mon": (dt.time(8), dt.time(17))}
    with pytest.raises(ValueError, match="outside its school hours"):
        parse_teaching_hours({"mon": [["07:30", "12:00"]]}, hours)
    with pytest.raises(ValueError, match="a day without school hours"):
        parse_teaching_hours({"tue": [["08:30", "12:00"]]}, hours)
    # The defaults keep only the days the school is open: a 4-day week school has no Wednesday.
    assert set(parse_teaching_hours(None, hours)) == {"mon"}


def test_a_four_day_week_school_has_no_wifi_on_wednesday() -> None:
    hours = {day: ("07:00", "19:00") for day in ("mon", "tue", "thu", "fri")}
    calendar = build_calendar("A", first_year=2026, school_hours=hours)
    assert desired_state(paris(2026, 11, 25, 10, 0), calendar, None).reason == "no school on wed"


def test_teaching_hours_survive_the_calendar_file(calendars: dict[str, SchoolCalendar]) -> None:
    again = SchoolCalendar.from_json(json.loads(json.dumps(calendars["C"].to_json())))
    assert again.teaching_hours == calendars["C"].teaching_hours
    older = calendars["C"].to_json()
    del older["teaching_hours"]
    assert SchoolCalendar.from_json(older).teaching_hours == calendars["C"].teaching_hours


def test_on_demand_switch_on_then_expiry(
    calendars: dict[str, SchoolCalendar], config: ScheduleConfig
) -> None:
    evening = paris(2026, 11, 24, 18, 0)
    assert not desired_state(evening, calendars["C"], load_on_demand(config.state_dir)).on
    request_on_demand(config, evening, 45, "Mme Martin")
    running = load_on_demand(config.state_dir)
    during = desired_state(evening + dt.timedelta(minutes=44), calendars["C"], running)
    assert during.on
    assert "Mme Martin" in during.reason
    assert "until 2026-11-24 18:45" in during.reason
    after = desired_state(evening + dt.timedelta(minutes=45), calendars["C"], running)
    assert not after.on
    assert "outside class time" in after.reason
    # Before it was asked for, it does not count either (a clock going backwards, a replayed file).
    assert not desired_state(evening - dt.timedelta(minutes=1), calendars["C"], running).on


def test_on_demand_is_capped_and_needs_a_name(config: ScheduleConfig) -> None:
    moment = paris(2026, 11, 24, 18, 0)
    with pytest.raises(ScheduleError, match="1 to 120 minutes"):
        request_on_demand(config, moment, 121, "M. Durand")
    with pytest.raises(ScheduleError, match="1 to 120 minutes"):
        request_on_demand(config, moment, 0, "M. Durand")
    with pytest.raises(ScheduleError, match="who asks"):
        request_on_demand(config, moment, 30, " ")
    assert load_on_demand(config.state_dir) is None


def test_a_damaged_request_does_not_keep_the_radios_on(config: ScheduleConfig) -> None:
    config.state_dir.mkdir(parents=True)
    (config.state_dir / "on-demand.json").write_text("{not json", encoding="utf-8")
    assert load_on_demand(config.state_dir) is None


def test_cancel_ends_the_switch_on(calendars: dict[str, SchoolCalendar], config: ScheduleConfig) -> None:
    moment = paris(2026, 11, 24, 18, 0)
    request_on_demand(config, moment, 60, "Mme Martin")
    assert cancel_on_demand(config, moment + dt.timedelta(minutes=10), "Mme Martin")
    assert not desired_state(
        moment + dt.timedelta(minutes=11), calendars["C"], load_on_demand(config.state_dir)
    ).on
    assert not cancel_on_demand(config, moment + dt.timedelta(minutes=12), "Mme Martin")
    events = [entry["event"] for entry in read_log(config.log_path)]
    assert events == ["on-demand", "on-demand-cancelled"]


def test_reconcile_switches_only_what_differs_and_logs_it(
    calendars: dict[str, SchoolCalendar], config: ScheduleConfig
) -> None:
    aps = FakeAccessPoints({"0910001g-ap1": "off", "0910001g-ap2": "on"})
    morning = paris(2026, 11, 24, 8, 30)
    decision, outcomes = reconcile(config, calendars["C"], aps, morning)
    assert decision.on
    assert aps.switches == [("0910001g-ap1", True)]
    assert [o.switched for o in outcomes] == [True, False]
    # A second run changes nothing and logs nothing.
    reconcile(config, calendars["C"], aps, morning + dt.timedelta(minutes=5))
    assert aps.switches == [("0910001g-ap1", True)]
    lunch = paris(2026, 11, 24, 11, 45)
    reconcile(config, calendars["C"], aps, lunch)
    assert sorted(aps.switches[1:]) == [("0910001g-ap1", False), ("0910001g-ap2", False)]
    log = read_log(config.log_path)
    assert [(e["ap"], e["state"], e["found"]) for e in log] == [
        ("0910001g-ap1", "on", "off"),
        ("0910001g-ap1", "off", "on"),
        ("0910001g-ap2", "off", "on"),
    ]
    assert log[0]["reason"] == "class time"
    assert log[1]["at"] == lunch.isoformat()
    assert "outside class time" in log[1]["reason"]


def test_dry_run_switches_nothing(calendars: dict[str, SchoolCalendar], config: ScheduleConfig) -> None:
    aps = FakeAccessPoints({"0910001g-ap1": "on", "0910001g-ap2": "mixed"})
    _, outcomes = reconcile(config, calendars["C"], aps, paris(2026, 11, 24, 22, 0), dry_run=True)
    assert [(o.before, o.after, o.switched) for o in outcomes] == [
        ("on", "off", True),
        ("mixed", "off", True),
    ]
    assert aps.switches == []
    assert read_log(config.log_path) == []


def test_an_unreachable_access_point_is_logged_once(
    calendars: dict[str, SchoolCalendar], config: ScheduleConfig
) -> None:
    aps = FakeAccessPoints({"0910001g-ap1": "on", "0910001g-ap2": "on"}, unreachable={"0910001g-ap2"})
    night = paris(2026, 11, 24, 22, 0)
    for minutes in (0, 5, 10):
        _, outcomes = reconcile(config, calendars["C"], aps, night + dt.timedelta(minutes=minutes))
        assert outcomes[1].error == "0910001g-ap2: connection refused"
    aps.unreachable.clear()
    reconcile(config, calendars["C"], aps, night + dt.timedelta(minutes=15))
    events = [(e["ap"], e["event"]) for e in read_log(config.log_path)]
    assert events == [
        ("0910001g-ap1", "switch"),
        ("0910001g-ap2", "unreachable"),
        ("0910001g-ap2", "switch"),
        ("0910001g-ap2", "reachable"),
    ]


def test_report_gives_the_on_periods_of_a_day(
    calendars: dict[str, SchoolCalendar], config: ScheduleConfig
) -> None:
    aps = FakeAccessPoints({"0910001g-ap1": "off", "0910001g-ap2": "off"})
    day = paris(2026, 11, 24, 0, 0)
    moment = day
    while moment < day + dt.timedelta(days=2):
        reconcile(config, calendars["C"], aps, moment)
        moment += dt.timedelta(minutes=5)
    request_on_demand(config, paris(2026, 11, 24, 17, 0), 30, "Mme Martin")
    reconcile(config, calendars["C"], aps, paris(2026, 11, 24, 17, 0))
    reconcile(config, calendars["C"], aps, paris(2026, 11, 24, 17, 30))
    summary = report(read_log(config.log_path), day, day + dt.timedelta(days=1))
    periods = summary["access_points"]["0910001g-ap1"]["periods"]
    assert [(p["on"][11:16], p["off"][11:16]) for p in periods] == [
        ("08:20", "11:45"),
        ("13:20", "16:45"),
        ("17:00", "17:30"),
    ]
    assert "Mme Martin" in periods[2]["reason"]
    assert summary["access_points"]["0910001g-ap1"]["hours_on"] == pytest.approx(
        3.417 + 3.417 + 0.5, abs=0.01
    )
    assert [r["by"] for r in summary["on_demand"]] == ["Mme Martin"]


@pytest.mark.parametrize(
    ("output", "state"),
    [("radio0 0\nradio1 0\n", "on"), ("radio0 1\nradio1 1\n", "off"), ("radio0 0\nradio1 1\n", "mixed")],
)
def test_radio_status_of_the_access_point(output: str, state: str) -> None:
    assert radio_state(output) == state


@pytest.mark.parametrize("output", ["", "radio0 yes\n", "refused: reboot\n"])
def test_an_odd_radio_status_is_an_error(output: str) -> None:
    with pytest.raises(SwitchError):
        radio_state(output)


def write_cli_config(config: ScheduleConfig, calendar: SchoolCalendar, tmp_path: Path) -> Path:
    """The settings file the role writes, for the command line."""
    config.calendar.write_text(json.dumps(calendar.to_json()), encoding="utf-8")
    path = tmp_path / "wifi-schedule.json"
    path.write_text(
        json.dumps(
            {
                "school": config.school,
                "calendar": str(config.calendar),
                "access_points": [{"name": ap.name, "address": ap.address} for ap in config.access_points],
                "state_dir": str(config.state_dir),
                "log_dir": str(config.log_dir),
                "max_on_demand_minutes": 120,
            }
        ),
        encoding="utf-8",
    )
    return path


def test_command_line_on_status_report(
    calendars: dict[str, SchoolCalendar],
    config: ScheduleConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_cli_config(config, calendars["C"], tmp_path)
    base = ["--config", str(path)]
    assert cli.main([*base, "on", "--minutes", "500", "--by", "X", "--at", "2026-11-24T18:00+01:00"]) == 2
    assert (
        cli.main([*base, "on", "--minutes", "30", "--by", "Mme Martin", "--at", "2026-11-24T18:00+01:00"])
        == 0
    )
    assert cli.main([*base, "status", "--at", "2026-11-24T18:10+01:00"]) == 0
    assert "desired: on (on demand of Mme Martin until 2026-11-24 18:30)" in capsys.readouterr().out
    assert cli.main([*base, "status", "--at", "2026-11-24T18:31+01:00"]) == 0
    assert "desired: off (outside class time" in capsys.readouterr().out
    assert cli.main([*base, "report", "--from", "2026-11-24", "--to", "2026-11-24", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["on_demand"][0]["by"] == "Mme Martin"


def test_command_line_on_now_switches_at_once(
    calendars: dict[str, SchoolCalendar],
    config: ScheduleConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`on --now` reconciles at once (it used to crash on the reconcile subcommand's --dry-run)."""
    path = write_cli_config(config, calendars["C"], tmp_path)
    aps = FakeAccessPoints({"0910001g-ap1": "off", "0910001g-ap2": "off"})
    monkeypatch.setattr(cli, "SshSwitcher", lambda ssh: aps)
    base = ["--config", str(path)]
    evening = "2026-11-24T18:00+01:00"
    assert cli.main([*base, "on", "--minutes", "45", "--by", "Mme Martin", "--at", evening, "--now"]) == 0
    out = capsys.readouterr().out
    assert "Wi-Fi on demand of Mme Martin until 18:45" in out
    assert "0910001g-ap1: off -> on\n" in out
    assert aps.switches == [("0910001g-ap1", True), ("0910001g-ap2", True)]
    events = [(e["event"], e.get("state")) for e in read_log(config.log_path)]
    assert events == [("on-demand", None), ("switch", "on"), ("switch", "on")]
    # Over the cap nothing is stored and nothing is switched, --now or not.
    assert cli.main([*base, "on", "--minutes", "121", "--by", "X", "--at", evening, "--now"]) == 2
    assert aps.switches == [("0910001g-ap1", True), ("0910001g-ap2", True)]
    assert cli.main([*base, "reconcile", "--at", "2026-11-24T18:46+01:00", "--dry-run"]) == 0
    assert "0910001g-ap1: on -> off (dry run)" in capsys.readouterr().out
    assert aps.switches == [("0910001g-ap1", True), ("0910001g-ap2", True)]


def test_a_reconcile_waits_for_the_one_running(
    calendars: dict[str, SchoolCalendar],
    config: ScheduleConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timer's reconcile and a teacher's `on --now` never write the state and the log at once."""
    path = write_cli_config(config, calendars["C"], tmp_path)
    aps = FakeAccessPoints({"0910001g-ap1": "off", "0910001g-ap2": "off"})
    monkeypatch.setattr(cli, "SshSwitcher", lambda ssh: aps)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    with (config.state_dir / "lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        run = threading.Thread(
            target=cli.main, args=(["--config", str(path), "reconcile", "--at", "2026-11-24T10:00+01:00"],)
        )
        run.start()
        run.join(0.5)
        assert run.is_alive() and aps.switches == []
        fcntl.flock(held, fcntl.LOCK_UN)
    run.join(10)
    assert not run.is_alive()
    assert aps.switches == [("0910001g-ap1", True), ("0910001g-ap2", True)]
