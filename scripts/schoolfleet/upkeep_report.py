"""One upkeep report per school: which workstations are up to date, which missed, which failed and why.

Inputs, as plain data: each workstation's last upkeep status (roles/workstation writes it to
/var/lib/schoolfleet/upkeep/status.json: result, reason, last_attempt, last_success), or None when
there is none (never updated, or not reachable when the statuses were gathered), and the moment
the school server last woke the machines (roles/workstation_upkeep: /var/lib/schoolfleet/upkeep/last-wake).

- up to date: the last success is after the last wake-up, or younger than `max_age`;
- failed: the last attempt after the wake-up failed (apt's own last line) or ran out of time at boot;
- missed: no attempt since the wake-up (the machine did not wake: unplugged, WoL off in its
  firmware, no reservation) or no status at all.

    python -m schoolfleet.upkeep_report DIR [--last-wake ISO] [--max-age-hours H] [--format text|json]

DIR holds one `<hostname>.json` status per workstation (an empty file: no status gathered).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

UP_TO_DATE = "up to date"
MISSED = "missed"
FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    hostname: str
    state: str
    reason: str
    last_success: str | None


def _when(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def classify(
    hostname: str,
    status: Mapping[str, object] | None,
    last_wake: dt.datetime | None,
    now: dt.datetime,
    max_age: dt.timedelta,
) -> Verdict:
    """The verdict on one workstation (see the module's docstring)."""
    if not status:
        return Verdict(hostname, MISSED, "no upkeep status (never updated, or unreachable)", None)
    success = _when(status.get("last_success"))
    attempt = _when(status.get("last_attempt"))
    shown = success.isoformat() if success else None
    since = last_wake or now - max_age
    if success is not None and (success >= since or now - success < max_age):
        return Verdict(hostname, UP_TO_DATE, "", shown)
    if attempt is not None and attempt >= since and status.get("result") in {"failed", "timeout"}:
        return Verdict(hostname, FAILED, str(status.get("reason") or status.get("result")), shown)
    last = f"last success {shown}" if shown else "never updated"
    woke = f"since the wake-up of {last_wake.isoformat()}" if last_wake else "within the expected age"
    return Verdict(hostname, MISSED, f"no update attempt {woke} ({last})", shown)


def school_report(
    statuses: Mapping[str, Mapping[str, object] | None],
    last_wake: dt.datetime | None,
    now: dt.datetime,
    max_age: dt.timedelta = dt.timedelta(hours=48),
) -> dict[str, object]:
    """Counts per state and one verdict per workstation, sorted by hostname."""
    verdicts = [classify(host, statuses[host], last_wake, now, max_age) for host in sorted(statuses)]
    counts = {state: sum(1 for v in verdicts if v.state == state) for state in (UP_TO_DATE, MISSED, FAILED)}
    return {
        "generated": now.isoformat(),
        "last_wake": last_wake.isoformat() if last_wake else None,
        "counts": counts,
        "workstations": [asdict(v) for v in verdicts],
    }


def render_text(report: Mapping[str, object]) -> str:
    counts = report["counts"]
    assert isinstance(counts, dict)
    lines = [", ".join(f"{n} {state}" for state, n in counts.items())]
    workstations = report["workstations"]
    assert isinstance(workstations, list)
    for ws in workstations:
        lines.append(f"{ws['hostname']}: {ws['state']}" + (f" ({ws['reason']})" if ws["reason"] else ""))
    return "\n".join(lines) + "\n"


def read_statuses(directory: Path) -> dict[str, Mapping[str, object] | None]:
    statuses: dict[str, Mapping[str, object] | None] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8") or "null")
        except ValueError:
            data = None
        statuses[path.stem] = data if isinstance(data, dict) else None
    return statuses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schoolfleet.upkeep_report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--last-wake", help="ISO moment of the school server's last wake-up")
    parser.add_argument("--max-age-hours", type=float, default=48)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    now = dt.datetime.now(dt.UTC)
    report = school_report(
        read_statuses(args.directory), _when(args.last_wake), now, dt.timedelta(hours=args.max_age_hours)
    )
    print(json.dumps(report, indent=2) if args.format == "json" else render_text(report), end="")
    counts = report["counts"]
    assert isinstance(counts, dict)
    return 1 if counts[FAILED] else 0


if __name__ == "__main__":
    sys.exit(main())
