"""When a school's access points may radiate, a teacher's switch-on, and the log the authority shows.

Loi n° 2015-136 of 9 February 2015, article 7: in primary schools the Wi-Fi access points are
switched off when they are not used for teaching. Here:
- `desired_state`: on during class time (`teaching_reason` of the school calendar, the same
  calendar as the maintenance window: public holidays, the zone's school holidays, no class on
  Wednesday afternoons), or while a teacher's on-demand switch-on lasts; off otherwise;
- `request_on_demand` / `cancel_on_demand`: a small state file with its expiry, capped in length;
- `reconcile`: asks each access point for its radios' state and switches the ones that differ,
  appending one JSON line per switch to the school's log (`<log_dir>/<uai>.jsonl`), which
  `report` turns into on-periods per access point for any period.

Standard library only: this runs on the school server (a systemd timer calls `reconcile`), next to
the maintenance window module it shares the calendar code with.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from schoolfleet.maintenance.window import PARIS, SchoolCalendar, load_calendar, teaching_reason

ON_DEMAND_FILE = "on-demand.json"
AP_STATE_FILE = "access-points.json"
DEFAULT_CONFIG = Path("/etc/schoolfleet/wifi-schedule.json")


class ScheduleError(ValueError):
    """A bad request or configuration: the message says which and why."""


class SwitchError(RuntimeError):
    """An access point that could not be read or switched."""


@dataclass(frozen=True)
class AccessPointRef:
    name: str
    address: str


@dataclass(frozen=True)
class ScheduleConfig:
    school: str
    calendar: Path
    access_points: tuple[AccessPointRef, ...]
    state_dir: Path
    log_dir: Path
    max_on_demand_minutes: int = 240
    ssh: Mapping[str, Any] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.school.lower()}.jsonl"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduleConfig:
        try:
            return cls(
                school=str(data["school"]),
                calendar=Path(data["calendar"]),
                access_points=tuple(
                    AccessPointRef(str(ap["name"]), str(ap["address"])) for ap in data["access_points"]
                ),
                state_dir=Path(data["state_dir"]),
                log_dir=Path(data["log_dir"]),
                max_on_demand_minutes=int(data.get("max_on_demand_minutes", 240)),
                ssh=dict(data.get("ssh", {})),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ScheduleError(f"bad Wi-Fi schedule configuration: {error!r}") from None


def load_config(path: Path) -> ScheduleConfig:
    return ScheduleConfig.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class OnDemand:
    until: dt.datetime
    by: str
    requested_at: dt.datetime

    def active(self, moment: dt.datetime) -> bool:
        return self.requested_at <= moment < self.until

    def to_json(self) -> dict[str, str]:
        return {"until": self.until.isoformat(), "by": self.by, "requested_at": self.requested_at.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OnDemand:
        return cls(
            dt.datetime.fromisoformat(str(data["until"])),
            str(data["by"]),
            dt.datetime.fromisoformat(str(data["requested_at"])),
        )


@dataclass(frozen=True)
class Decision:
    on: bool
    reason: str
    on_demand: OnDemand | None = None


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ScheduleError(f"a moment needs a time zone: {moment.isoformat()}")
    return moment


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")


def desired_state(moment: dt.datetime, calendar: SchoolCalendar, on_demand: OnDemand | None) -> Decision:
    """On during class time or an unexpired on-demand switch-on; off otherwise, with the reason."""
    not_teaching = teaching_reason(_aware(moment), calendar)
    if not_teaching is None:
        return Decision(True, "class time")
    if on_demand is not None and on_demand.active(moment):
        return Decision(True, f"on demand of {on_demand.by} until {_local(on_demand.until)}", on_demand)
    return Decision(False, not_teaching)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def load_on_demand(state_dir: Path) -> OnDemand | None:
    path = state_dir / ON_DEMAND_FILE
    if not path.exists():
        return None
    try:
        return OnDemand.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError):
        # A damaged request must not keep the radios on: it counts as none.
        return None


def request_on_demand(config: ScheduleConfig, moment: dt.datetime, minutes: int, by: str) -> OnDemand:
    """A teacher's switch-on for `minutes` from `moment`, logged; it replaces any running one."""
    _aware(moment)
    if not by.strip():
        raise ScheduleError("say who asks for the Wi-Fi (--by)")
    if not 1 <= minutes <= config.max_on_demand_minutes:
        raise ScheduleError(
            f"an on-demand switch-on lasts 1 to {config.max_on_demand_minutes} minutes, not {minutes}"
        )
    request = OnDemand(moment + dt.timedelta(minutes=minutes), by.strip(), moment)
    _write_atomically(config.state_dir / ON_DEMAND_FILE, json.dumps(request.to_json()))
    append_log(
        config.log_path,
        {"at": moment.isoformat(), "school": config.school, "event": "on-demand", "by": request.by,
         "until": request.until.isoformat()},
    )  # fmt: skip
    return request


def cancel_on_demand(config: ScheduleConfig, moment: dt.datetime, by: str) -> bool:
    """End a running switch-on now; False when there was none."""
    path = config.state_dir / ON_DEMAND_FILE
    running = load_on_demand(config.state_dir)
    if running is None or not running.active(moment):
        path.unlink(missing_ok=True)
        return False
    path.unlink()
    append_log(
        config.log_path,
        {"at": moment.isoformat(), "school": config.school, "event": "on-demand-cancelled", "by": by},
    )
    return True


def append_log(path: Path, entry: Mapping[str, Any]) -> None:
    """One JSON line, appended and flushed to disk: the log is never rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(dict(entry), ensure_ascii=False, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as log:
        log.write(line)
        log.flush()
        os.fsync(log.fileno())


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                raise ScheduleError(f"{path}:{number}: not a JSON line") from None
    return entries


class Switcher(Protocol):
    def state(self, ap: AccessPointRef) -> str:
        """'on' (every radio enabled), 'off' (none) or 'mixed'."""

    def switch(self, ap: AccessPointRef, on: bool) -> None: ...


def radio_state(output: str) -> str:
    """The access point's answer to `status` ("radio0 0" per line: name and `disabled`) as on/off/mixed."""
    disabled = []
    for line in output.splitlines():
        words = line.split()
        if len(words) != 2 or words[1] not in ("0", "1"):
            raise SwitchError(f"unexpected radio status line {line!r}")
        disabled.append(words[1] == "1")
    if not disabled:
        raise SwitchError("the access point reported no radio")
    if all(disabled):
        return "off"
    return "mixed" if any(disabled) else "on"


class SshSwitcher:
    """The access point's forced command over SSH: `status`, `on` or `off`, nothing else.

    The key the school server uses is tied on the access point to /usr/libexec/schoolfleet-radio
    (wifi_ap role), so this key can switch radios and read their state, not reconfigure anything.
    """

    def __init__(self, ssh: Mapping[str, Any]) -> None:
        self.user = str(ssh.get("user", "root"))
        self.port = int(ssh.get("port", 22))
        self.key = str(ssh.get("key", "/etc/schoolfleet/wifi-schedule/id_ed25519"))
        self.known_hosts = str(ssh.get("known_hosts", "/var/lib/schoolfleet/wifi/known_hosts"))
        self.timeout = int(ssh.get("timeout", 15))

    def _run(self, ap: AccessPointRef, command: str) -> str:
        argv = [
            "ssh", "-i", self.key, "-p", str(self.port), "-o", "BatchMode=yes",
            "-o", f"ConnectTimeout={self.timeout}", "-o", "StrictHostKeyChecking=accept-new",
            "-o", f"UserKnownHostsFile={self.known_hosts}", f"{self.user}@{ap.address}", command,
        ]  # fmt: skip
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout * 3, check=False)
        except subprocess.TimeoutExpired:
            raise SwitchError(f"{ap.name}: no answer over SSH within {self.timeout * 3} s") from None
        if done.returncode != 0:
            raise SwitchError(f"{ap.name}: `{command}` failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def state(self, ap: AccessPointRef) -> str:
        return radio_state(self._run(ap, "status"))

    def switch(self, ap: AccessPointRef, on: bool) -> None:
        self._run(ap, "on" if on else "off")


@dataclass(frozen=True)
class Outcome:
    ap: str
    before: str | None
    after: str | None
    switched: bool
    error: str | None = None


def _known_states(state_dir: Path) -> dict[str, dict[str, Any]]:
    path = state_dir / AP_STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def reconcile(
    config: ScheduleConfig,
    calendar: SchoolCalendar,
    switcher: Switcher,
    moment: dt.datetime,
    *,
    dry_run: bool = False,
) -> tuple[Decision, list[Outcome]]:
    """Bring every access point of the school to the desired state; log what was switched.

    An access point found in the wrong state (rebooted, switched by hand) is switched too, and the
    log says what it was found in. An unreachable one is logged once when it becomes unreachable
    and once when it answers again, not at every run.
    """
    decision = desired_state(moment, calendar, load_on_demand(config.state_dir))
    wanted = "on" if decision.on else "off"
    known = _known_states(config.state_dir)
    outcomes: list[Outcome] = []
    for ap in config.access_points:
        previous = known.get(ap.name, {})
        base = {"at": moment.isoformat(), "school": config.school, "ap": ap.name}
        try:
            before = switcher.state(ap)
            if before == wanted:
                outcomes.append(Outcome(ap.name, before, before, False))
            elif dry_run:
                outcomes.append(Outcome(ap.name, before, wanted, True))
                continue
            else:
                switcher.switch(ap, decision.on)
                after = switcher.state(ap)
                if after != wanted:
                    raise SwitchError(f"{ap.name}: asked for {wanted}, the radios are {after}")
                append_log(
                    config.log_path,
                    {**base, "event": "switch", "state": wanted, "found": before, "reason": decision.reason},
                )
                outcomes.append(Outcome(ap.name, before, after, True))
            if previous.get("error") and not dry_run:
                append_log(config.log_path, {**base, "event": "reachable", "state": wanted})
            known[ap.name] = {"state": wanted, "at": moment.isoformat()}
        except SwitchError as error:
            outcomes.append(Outcome(ap.name, None, None, False, str(error)))
            if dry_run:
                continue
            if not previous.get("error"):
                append_log(config.log_path, {**base, "event": "unreachable", "error": str(error)})
            known[ap.name] = {**previous, "error": str(error), "at": moment.isoformat()}
    if not dry_run:
        _write_atomically(config.state_dir / AP_STATE_FILE, json.dumps(known, sort_keys=True))
    return decision, outcomes


@dataclass
class Period:
    ap: str
    start: dt.datetime
    end: dt.datetime | None  # None: still on at the end of the log
    reason: str

    def clipped(self, first: dt.datetime, last: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        end = last if self.end is None else min(self.end, last)
        start = max(self.start, first)
        return (start, end) if start < end else None


def on_periods(entries: Iterable[Mapping[str, Any]]) -> list[Period]:
    """Each access point's on-periods, from its `switch` entries in log order."""
    periods: list[Period] = []
    running: dict[str, Period] = {}
    for entry in entries:
        if entry.get("event") != "switch":
            continue
        ap = str(entry["ap"])
        at = dt.datetime.fromisoformat(str(entry["at"]))
        if entry.get("state") == "on" and ap not in running:
            running[ap] = Period(ap, at, None, str(entry.get("reason", "")))
            periods.append(running[ap])
        elif entry.get("state") == "off" and ap in running:
            running.pop(ap).end = at
    return periods


def report(entries: Sequence[Mapping[str, Any]], first: dt.datetime, last: dt.datetime) -> dict[str, Any]:
    """On-periods per access point within [first, last), their total, and the on-demand requests."""
    per_ap: dict[str, list[dict[str, str]]] = {}
    totals: dict[str, float] = {}
    for period in on_periods(entries):
        span = period.clipped(first, last)
        if span is None:
            continue
        per_ap.setdefault(period.ap, []).append(
            {"on": span[0].isoformat(), "off": span[1].isoformat(), "reason": period.reason}
        )
        totals[period.ap] = totals.get(period.ap, 0.0) + (span[1] - span[0]).total_seconds() / 3600
    requests = [
        dict(entry)
        for entry in entries
        if entry.get("event") in ("on-demand", "on-demand-cancelled")
        and first <= dt.datetime.fromisoformat(str(entry["at"])) < last
    ]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "access_points": {
            ap: {"periods": per_ap[ap], "hours_on": round(totals[ap], 2)} for ap in sorted(per_ap)
        },
        "on_demand": requests,
    }


def load(config_path: Path) -> tuple[ScheduleConfig, SchoolCalendar]:
    config = load_config(config_path)
    return config, load_calendar(config.calendar)
