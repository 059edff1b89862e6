"""Timestamps as the servers write them in their status files (ISO 8601, UTC when unmarked)."""

from __future__ import annotations

import datetime as dt


def parse_time(value: object) -> dt.datetime | None:
    """The moment a status file records, or None when it records none."""
    if not isinstance(value, str) or not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
