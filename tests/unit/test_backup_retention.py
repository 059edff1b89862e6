"""The datacenter retention's guard against snapshots dated ahead (roles/backup_server/files)."""

import datetime as dt

from role_scripts import load_role_script

NOW = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)

retention = load_role_script(
    "roles/backup_server/files/schoolfleet-backup-retention", "schoolfleet_backup_retention"
)


def test_restic_times_with_nanoseconds_and_offsets_parse() -> None:
    parsed = retention.parse_time("2026-12-04T10:29:59.123456789+01:00")
    assert parsed == dt.datetime(2026, 12, 4, 9, 29, 59, 123456, tzinfo=dt.UTC)
    assert retention.parse_time("2026-12-04T09:30:00Z") == NOW
    assert retention.parse_time("2026-12-04T09:30:00.5+00:00").microsecond == 500000


def test_only_snapshots_beyond_the_skew_are_future() -> None:
    snapshots = [
        {"short_id": "aaaa", "time": "2026-12-04T10:29:00.000000001+00:00"},  # 59 min ahead
        {"short_id": "bbbb", "time": "2026-12-04T10:31:00+00:00"},  # 61 min ahead
        {"short_id": "cccc", "time": "2029-01-01T00:00:00.1+02:00"},
        {"short_id": "dddd", "time": "2020-01-01T00:00:00+00:00"},
    ]
    future = retention.future_snapshots(snapshots, NOW, dt.timedelta(minutes=60))
    assert future == ["bbbb dated 2026-12-04T10:31:00", "cccc dated 2029-01-01T00:00:00"]
