"""The school's Wi-Fi schedule from the command line (on the school server, as root).

    python -m schoolfleet.wifi [--config FILE] status [--at ISO] [--live]
    python -m schoolfleet.wifi on --minutes N --by NAME      a teacher's switch-on, capped
    python -m schoolfleet.wifi cancel --by NAME              end it now
    python -m schoolfleet.wifi reconcile [--at ISO] [--dry-run]   what the timer runs
    python -m schoolfleet.wifi report --from DATE --to DATE [--format text|json|csv]

Exit status: 0 done, 1 some access point could not be read or switched, 2 bad request.
Standard library only (see schoolfleet.wifi.schedule).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import fcntl
import io
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from schoolfleet.maintenance.window import PARIS, SchoolCalendar
from schoolfleet.wifi.schedule import (
    AP_STATE_FILE,
    DEFAULT_CONFIG,
    ScheduleConfig,
    ScheduleError,
    SshSwitcher,
    SwitchError,
    cancel_on_demand,
    desired_state,
    load,
    load_on_demand,
    read_log,
    reconcile,
    report,
    request_on_demand,
)


def _moment(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.UTC)
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ScheduleError(f"--at needs an offset, e.g. 2026-11-24T10:00+01:00: {value}")
    return moment


def _day(value: str) -> dt.datetime:
    """A date is read as midnight in Paris, the school's wall clock."""
    return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=PARIS)


def _format_report(data: dict[str, object], form: str) -> str:
    if form == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    aps = data["access_points"]
    assert isinstance(aps, dict)
    if form == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["access_point", "on", "off", "hours", "reason"])
        for ap, info in aps.items():
            for period in info["periods"]:
                on = dt.datetime.fromisoformat(period["on"])
                off = dt.datetime.fromisoformat(period["off"])
                hours = f"{(off - on).total_seconds() / 3600:.2f}".replace(".", ",")
                writer.writerow([ap, on.astimezone(PARIS).isoformat(), off.astimezone(PARIS).isoformat(),
                                 hours, period["reason"]])  # fmt: skip
        return out.getvalue()
    lines = [f"Wi-Fi on-periods from {data['from']} to {data['to']}"]
    for ap, info in aps.items():
        lines.append(f"{ap}: {info['hours_on']} h on")
        for period in info["periods"]:
            on = dt.datetime.fromisoformat(period["on"]).astimezone(PARIS)
            off = dt.datetime.fromisoformat(period["off"]).astimezone(PARIS)
            lines.append(f"  {on:%Y-%m-%d %H:%M} -> {off:%H:%M}  {period['reason']}")
    requests = data["on_demand"]
    assert isinstance(requests, list)
    for request in requests:
        lines.append(f"on demand: {request['at']} by {request['by']} ({request['event']})")
    if not aps:
        lines.append("no access point was on in this period")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _exclusive(state_dir: Path) -> Iterator[None]:
    """One writer of the state and the log at a time: the timer's reconcile and a teacher's `on --now`
    would otherwise log the same switch twice and overwrite each other's access-point states."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schoolfleet.wifi", description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="the desired state now and why")
    status.add_argument("--at")
    status.add_argument("--live", action="store_true", help="also ask each access point")
    on = commands.add_parser("on", help="switch the Wi-Fi on for a limited time (a teacher's request)")
    on.add_argument("--minutes", type=int, required=True)
    on.add_argument("--by", required=True, help="who asks (kept in the log)")
    on.add_argument("--at")
    on.add_argument("--now", action="store_true", help="reconcile at once instead of at the next timer run")
    cancel = commands.add_parser("cancel", help="end an on-demand switch-on now")
    cancel.add_argument("--by", required=True)
    cancel.add_argument("--at")
    rec = commands.add_parser("reconcile", help="switch the access points to the desired state")
    rec.add_argument("--at")
    rec.add_argument("--dry-run", action="store_true")
    rep = commands.add_parser("report", help="when each access point was on, for a period")
    rep.add_argument("--from", dest="first", required=True, help="first day (YYYY-MM-DD)")
    rep.add_argument("--to", dest="last", required=True, help="last day, included")
    rep.add_argument("--format", choices=("text", "json", "csv"), default="text")
    args = parser.parse_args(argv)

    try:
        config, calendar = load(args.config)
        locked = contextlib.ExitStack()
        if args.command in ("on", "cancel", "reconcile"):
            locked.enter_context(_exclusive(config.state_dir))
        with locked:
            return _run(args, config, calendar)
    except (ScheduleError, OSError, ValueError) as error:
        print(f"schoolfleet.wifi: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, config: ScheduleConfig, calendar: SchoolCalendar) -> int:
    if args.command == "report":
        first, last = _day(args.first), _day(args.last) + dt.timedelta(days=1)
        print(_format_report(report(read_log(config.log_path), first, last), args.format), end="")
        return 0
    moment = _moment(args.at)
    if args.command == "status":
        return _status(config, calendar, moment, live=args.live)
    if args.command == "cancel":
        print("on-demand switch-on ended" if cancel_on_demand(config, moment, args.by) else "none running")
        return 0
    if args.command == "on":
        request = request_on_demand(config, moment, args.minutes, args.by)
        print(f"Wi-Fi on demand of {request.by} until {request.until.astimezone(PARIS):%H:%M}")
        if not args.now:
            return 0
    # `on --now` comes here too, and only `reconcile` has --dry-run.
    dry_run = args.command == "reconcile" and args.dry_run
    decision, outcomes = reconcile(config, calendar, SshSwitcher(config.ssh), moment, dry_run=dry_run)
    print(f"desired: {'on' if decision.on else 'off'} ({decision.reason})")
    failed = False
    for outcome in outcomes:
        if outcome.error:
            failed = True
            print(f"{outcome.ap}: ERROR {outcome.error}")
        elif outcome.switched:
            print(f"{outcome.ap}: {outcome.before} -> {outcome.after}{' (dry run)' if dry_run else ''}")
        else:
            print(f"{outcome.ap}: {outcome.after}, unchanged")
    return 1 if failed else 0


def _status(config: ScheduleConfig, calendar: SchoolCalendar, moment: dt.datetime, *, live: bool) -> int:
    decision = desired_state(moment, calendar, load_on_demand(config.state_dir))
    print(f"desired: {'on' if decision.on else 'off'} ({decision.reason})")
    known_path = config.state_dir / AP_STATE_FILE
    known = json.loads(known_path.read_text(encoding="utf-8")) if known_path.exists() else {}
    switcher = SshSwitcher(config.ssh)
    for ap in config.access_points:
        line = f"{ap.name} ({ap.address}): last seen {known.get(ap.name, {}).get('state', 'never')}"
        if live:
            try:
                line += f", now {switcher.state(ap)}"
            except SwitchError as error:
                line += f", unreachable: {error}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
