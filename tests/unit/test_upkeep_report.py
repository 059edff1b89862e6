"""The per-school upkeep report (schoolfleet.upkeep_report)."""

import datetime as dt
import json

from schoolfleet.upkeep_report import FAILED, MISSED, UP_TO_DATE, classify, main, school_report

WAKE = dt.datetime(2026, 12, 1, 18, 5, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)
AGE = dt.timedelta(hours=48)


def verdict(status, last_wake=WAKE):
    return classify("ws-sf000101", status, last_wake, NOW, AGE)


def test_updated_after_the_wake_up_is_up_to_date():
    status = {
        "result": "ok",
        "last_attempt": "2026-12-01T18:07:00+00:00",
        "last_success": "2026-12-01T18:20:00+00:00",
    }
    assert verdict(status).state == UP_TO_DATE


def test_a_failed_attempt_after_the_wake_up_is_failed_with_apts_reason():
    status = {
        "result": "failed",
        "reason": "apt-get update: E: Failed to fetch http://srv:3142/...",
        "last_attempt": "2026-12-01T18:07:00+00:00",
        "last_success": "2026-11-20T18:20:00+00:00",
    }
    got = verdict(status)
    assert (got.state, got.reason) == (FAILED, "apt-get update: E: Failed to fetch http://srv:3142/...")


def test_a_boot_catch_up_that_ran_out_of_time_is_failed():
    status = {
        "result": "timeout",
        "reason": "download not finished within 10 min at boot",
        "last_attempt": "2026-12-01T18:07:00+00:00",
    }
    assert verdict(status).state == FAILED


def test_no_attempt_since_the_wake_up_is_missed():
    status = {
        "result": "ok",
        "last_attempt": "2026-11-20T18:07:00+00:00",
        "last_success": "2026-11-20T18:20:00+00:00",
    }
    got = verdict(status)
    assert got.state == MISSED
    assert "since the wake-up of 2026-12-01T18:05:00+00:00" in got.reason
    assert "last success 2026-11-20T18:20:00+00:00" in got.reason


def test_no_status_is_missed():
    assert verdict(None).state == MISSED


def test_without_a_wake_up_the_age_decides():
    recent = {"result": "ok", "last_success": "2026-12-01T07:00:00+00:00"}
    assert verdict(recent, last_wake=None).state == UP_TO_DATE
    old = {"result": "ok", "last_success": "2026-11-01T07:00:00+00:00"}
    assert verdict(old, last_wake=None).state == MISSED


def test_school_report_counts_and_sorts():
    report = school_report(
        {"ws-b": None, "ws-a": {"result": "ok", "last_success": "2026-12-01T18:30:00+00:00"}}, WAKE, NOW
    )
    assert report["counts"] == {UP_TO_DATE: 1, MISSED: 1, FAILED: 0}
    assert [w["hostname"] for w in report["workstations"]] == ["ws-a", "ws-b"]


def test_command_line_reads_a_directory_of_statuses(tmp_path, capsys):
    (tmp_path / "ws-a.json").write_text(
        json.dumps(
            {
                "result": "failed",
                "reason": "dpkg was interrupted",
                "last_attempt": "2026-12-01T18:10:00+00:00",
            }
        )
    )
    (tmp_path / "ws-b.json").write_text("")
    assert main([str(tmp_path), "--last-wake", "2026-12-01T18:05:00+00:00"]) == 1
    out = capsys.readouterr().out
    assert "0 up to date, 1 missed, 1 failed" in out
    assert "ws-a: failed (dpkg was interrupted)" in out
