"""The workstation's upkeep decisions (roles/workstation/files/schoolfleet-upkeep)."""

import datetime as dt

import pytest
from role_scripts import load_role_script

HOURS = {
    "mon": ["07:00", "19:00"],
    "tue": ["07:00", "19:00"],
    "wed": ["07:00", "12:30"],
    "thu": ["07:00", "19:00"],
    "fri": ["07:00", "19:00"],
}
UTC = dt.UTC


upkeep = load_role_script("roles/workstation/files/schoolfleet-upkeep", "schoolfleet_upkeep")


@pytest.mark.parametrize(
    "moment, inside",
    [
        ("2026-12-01T08:30:00+01:00", True),  # Tuesday morning
        ("2026-12-01T19:00:00+01:00", False),  # the window opens at the end of the school hours
        ("2026-12-01T06:59:00+01:00", False),
        ("2026-12-02T12:29:00+01:00", True),  # Wednesday morning
        ("2026-12-02T13:00:00+01:00", False),  # Wednesday afternoon
        ("2026-12-05T10:00:00+01:00", False),  # Saturday
        ("2026-12-01T06:30:00+00:00", True),  # 07:30 in Paris, given in UTC
        ("2026-07-07T05:30:00+00:00", True),  # 07:30 in Paris in summer time
    ],
)
def test_school_hours_in_paris_time(moment, inside):
    assert upkeep.in_school_hours(dt.datetime.fromisoformat(moment), HOURS) is inside


def test_update_due_when_never_done_or_older_than_the_bound():
    now = dt.datetime(2026, 12, 1, 19, 10, tzinfo=UTC)
    assert upkeep.update_due(now, {}, 20)
    assert upkeep.update_due(now, {"last_success": "2026-11-30T19:10:00+00:00"}, 20)
    assert not upkeep.update_due(now, {"last_success": "2026-12-01T07:40:00+00:00"}, 20)
    # A failed attempt since then does not make it due again before the bound.
    assert not upkeep.update_due(now, {"last_success": "2026-12-01T07:40:00+00:00", "result": "failed"}, 20)


def idle(moment, sessions=0, uptime=45, updating=False):
    return upkeep.idle_poweroff(moment, HOURS, sessions, uptime, 30, updating)


def test_idle_power_off_only_out_of_school_hours_with_nobody_and_no_update():
    evening = dt.datetime(2026, 12, 1, 19, 40, tzinfo=UTC)
    morning = dt.datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
    assert idle(evening)
    assert not idle(morning)
    assert not idle(evening, sessions=1)
    assert not idle(evening, uptime=10)
    assert not idle(evening, updating=True)


def test_status_is_written_atomically_and_read_back(tmp_path):
    path = tmp_path / "upkeep" / "status.json"
    upkeep.write_status({"result": "ok", "last_success": "2026-12-01T19:20:00+00:00"}, path)
    assert upkeep.read_json(path) == {"result": "ok", "last_success": "2026-12-01T19:20:00+00:00"}
    assert upkeep.read_json(tmp_path / "missing.json") == {}
