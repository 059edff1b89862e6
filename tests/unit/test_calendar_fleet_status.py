"""The fleet view of the synchronisation: up to date or not, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schoolfleet.maintenance.status import format_table, summarise

NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HEAD = "a" * 40


def status(apt_success: dt.datetime | None, config_commit: str | None, **config: Any) -> dict[str, Any]:
    return {
        "jobs": {
            "apt": {
                "result": "ok",
                "last_attempt": apt_success and apt_success.isoformat(),
                "last_success": apt_success and apt_success.isoformat(),
                "upgradable": 0,
            },
            "config": {
                "result": "ok",
                "last_attempt": (NOW - DAY / 2).isoformat(),
                "last_success": (NOW - DAY / 2).isoformat(),
                "applied_commit": config_commit,
                **config,
            },
        }
    }


def test_a_fresh_school_at_the_central_commit_is_up_to_date() -> None:
    [state] = summarise({"school-1": status(NOW - DAY, HEAD)}, HEAD, NOW, 2 * DAY)
    assert state.up_to_date
    assert state.problems == []
    assert state.last_sync == (NOW - DAY).isoformat()  # the older of the two jobs


def test_what_makes_a_school_out_of_date() -> None:
    states = summarise(
        {
            "behind": status(NOW - DAY, "b" * 40),
            "stale": status(NOW - 5 * DAY, HEAD),
            "refused": status(NOW - DAY, HEAD, result="failed", message="signature of the commit refused"),
            "never": None,
        },
        HEAD,
        NOW,
        2 * DAY,
    )
    by_host = {state.host: state for state in states}
    assert [state.host for state in states] == ["behind", "never", "refused", "stale"]
    assert not any(state.up_to_date for state in states)
    assert by_host["behind"].problems == [f"config: applied {'b' * 12}, central has {'a' * 12}"]
    assert by_host["stale"].problems == ["apt: last success 5.0 days ago"]
    assert "signature of the commit refused" in by_host["refused"].problems[0]
    assert by_host["never"].last_sync is None
    table = format_table(states)
    assert "never synchronised" in table
    assert table.count("NO") == 4


def test_packages_left_to_upgrade_are_reported() -> None:
    data = status(NOW - DAY, HEAD)
    data["jobs"]["apt"]["upgradable"] = 3
    [state] = summarise({"school": data}, HEAD, NOW, 2 * DAY)
    assert state.problems == ["apt: 3 packages not upgraded"]
