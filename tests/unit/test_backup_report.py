"""The fleet view of the backups: which schools are in trouble, and why."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from schoolfleet.backup_report import assess, format_table, load_fetched, main, summarise

NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def status(result: str = "ok", success_hours_ago: float | None = 10, **extra: Any) -> dict[str, Any]:
    success = None
    if success_hours_ago is not None:
        success = {
            "finished": (NOW - success_hours_ago * HOUR).isoformat(),
            "snapshot_id": "abc",
            "bytes_processed": 5 * 2**30,
        }
    return {"result": result, "bytes_added": 1234, "last_success": success, **extra}


def test_a_recent_success_is_ok() -> None:
    state = assess("school-a", status(), NOW)
    assert state.state == "ok"
    assert state.age_hours == 10
    assert state.bytes_processed == 5 * 2**30
    assert state.bytes_added == 1234
    assert state.problems == []


def test_an_old_success_is_stale() -> None:
    state = assess("school-a", status(success_hours_ago=50), NOW, max_age_hours=36)
    assert state.state == "stale"
    assert state.problems == ["last success 50 hours ago"]


def test_a_failure_keeps_the_age_of_the_last_success() -> None:
    state = assess("school-a", status("failed", 30, error="ssh: connect to host dc: No route to host"), NOW)
    assert state.state == "failed"
    assert state.age_hours == 30
    assert state.bytes_added is None
    assert state.problems == ["last run failed: ssh: connect to host dc: No route to host"]


def test_a_failed_dump_hook_is_reported() -> None:
    hooks = [{"name": "samba-ad", "result": "failed"}, {"name": "other", "result": "skipped"}]
    state = assess("school-a", status("partial", 5, hooks=hooks), NOW)
    assert state.state == "partial"
    assert "dump hook samba-ad failed" in state.problems


def test_a_run_that_never_finished_is_interrupted_once_old() -> None:
    started_recently = status("running", 20, started=(NOW - 2 * HOUR).isoformat())
    assert assess("school-a", started_recently, NOW).state == "running"
    killed = status("running", 20, started=(NOW - 15 * HOUR).isoformat())
    state = assess("school-a", killed, NOW)
    assert state.state == "interrupted"
    assert "never finished" in state.problems[0]


def test_never_backed_up_and_missing() -> None:
    assert assess("school-a", status(success_hours_ago=None), NOW).state == "failed"
    assert assess("school-b", None, NOW).state == "missing"


def test_summary_puts_problems_first_and_includes_expected_hosts() -> None:
    states = summarise({"a": status(), "b": status("failed", 40)}, NOW, expected=["a", "b", "c"])
    assert [(s.host, s.state) for s in states] == [("c", "missing"), ("b", "failed"), ("a", "ok")]
    table = format_table(states)
    assert table.splitlines()[0].startswith("school")
    assert "5.0 GiB" in table


def test_command_reads_fetched_files_and_fails_on_trouble(tmp_path: Path, capsys: Any) -> None:
    fresh = dt.datetime.now(dt.UTC).isoformat()
    good = {"result": "ok", "bytes_added": 10, "last_success": {"finished": fresh, "bytes_processed": 100}}
    target = tmp_path / "school-a" / "var/lib/schoolfleet-backup/status.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(good))
    broken = tmp_path / "school-b" / "var/lib/schoolfleet-backup/status.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    assert set(load_fetched(tmp_path)) == {"school-a", "school-b"}
    assert main([str(tmp_path), "--json"]) == 1
    report = {s["host"]: s for s in json.loads(capsys.readouterr().out)}
    assert report["school-a"]["state"] == "ok"
    assert report["school-b"]["state"] == "failed"
    broken.unlink()
    assert main([str(tmp_path)]) == 0
