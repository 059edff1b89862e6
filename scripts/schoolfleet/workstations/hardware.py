"""The hardware reconciliation: what the workstations report to their school servers, against the register.

Each school server keeps the latest report of every machine that booted on its network in
`/var/lib/schoolfleet/hwreport/index.json` (the agent package's `schoolfleet-hwreport serve`):

    {"reports": {"aa:bb:cc:dd:ee:ff": {"mac", "serial", "vendor", "model", ..., "received_at", "from"}}}

`gather` reads those files over Ansible (an ad hoc `slurp` through ansible-runner); `reconcile` is
the pure comparison, school by school:

- unregistered: a MAC the register does not know, whose serial is no workstation's either;
- mac_mismatch: the register's workstation with that serial has another MAC, or none yet;
- not_seen: a delivered workstation in service that has not reported for `stale_days` (or never,
  once installed for that long);
- serial_mismatch, model_mismatch: the MAC is known but the machine says otherwise;
- wrong_school: the MAC is registered at another school;
- retired_seen: the MAC is a retired record's, and the machine still reports;
- no_report: the school server's index could not be read (unreachable, no file): its machines are
  not called stale, since nobody knows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from schoolfleet.register import Equipment, Register
from schoolfleet.register.mac import MacError, normalise_mac
from schoolfleet.register.naming import school_server_hostname
from schoolfleet.timestamps import parse_time

INDEX_PATH = "/var/lib/schoolfleet/hwreport/index.json"
KINDS = (
    "no_report",
    "unregistered",
    "mac_mismatch",
    "serial_mismatch",
    "model_mismatch",
    "wrong_school",
    "retired_seen",
    "not_seen",
)

Reports = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class SchoolIndex:
    """One school server's index: its reports by MAC, or None with why it could not be read."""

    uai: str
    reports: Reports | None
    problem: str = ""


@dataclass(frozen=True)
class Finding:
    """One difference. `register` and `reported` are the two sides' values of what differs."""

    kind: str
    school: str
    tag: str = ""
    mac: str = ""
    register: str = ""
    reported: str = ""
    last_seen: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class _Record:
    uai: str
    item: Equipment


def _words(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", text.casefold())


def same_serial(register: str, reported: str) -> bool:
    return _words(register) == _words(reported)


def same_model(register: str, reported: str) -> bool:
    """DMI gives the maker apart and often drops the form factor ("OptiPlex 3000" for the register's
    "Dell OptiPlex 3000 Micro"): the report agrees when each of its model's words is in the register's."""
    words = set(_words(register))
    reported_words = _words(reported)
    return bool(reported_words) and all(word in words for word in reported_words)


def _text(report: Mapping[str, Any], name: str) -> str:
    value = report.get(name)
    return value.strip() if isinstance(value, str) else ""


def reconcile(
    register: Register,
    indexes: Iterable[SchoolIndex],
    now: dt.datetime,
    stale_days: int = 14,
) -> list[Finding]:
    """Every difference between the schools' indexes and the register on `now`'s day, by school."""
    today = now.date()
    by_mac: dict[str, _Record] = {}
    by_serial: dict[str, list[_Record]] = {}
    at_school: dict[str, list[Equipment]] = {}
    for _, school in register.schools():
        for item in school.equipment:
            if not item.kind.workstation:
                continue
            record = _Record(school.uai, item)
            if item.mac is not None:
                by_mac[item.mac] = record
                if item.held_on(today):
                    at_school.setdefault(school.uai, []).append(item)
            if item.held_on(today):
                by_serial.setdefault(_serial_key(item.serial), []).append(record)
    findings: list[Finding] = []
    for index in sorted(indexes, key=lambda index: index.uai):
        if index.reports is None:
            findings.append(Finding("no_report", index.uai, detail=index.problem))
            continue
        seen = _compare_reports(index, by_mac, by_serial, today, findings)
        for item in at_school.get(index.uai, []):
            finding = _staleness(index.uai, item, seen.get(item.mac or ""), now, stale_days)
            if finding is not None:
                findings.append(finding)
    order = {kind: position for position, kind in enumerate(KINDS)}
    return sorted(findings, key=lambda f: (order[f.kind], f.school, f.tag, f.mac))


def _serial_key(serial: str) -> str:
    return "".join(_words(serial))


def _compare_reports(
    index: SchoolIndex,
    by_mac: Mapping[str, _Record],
    by_serial: Mapping[str, list[_Record]],
    today: dt.date,
    findings: list[Finding],
) -> dict[str, dt.datetime | None]:
    """Findings about the machines that reported; returns when each known MAC reported last."""
    seen: dict[str, dt.datetime | None] = {}
    assert index.reports is not None
    for key, report in sorted(index.reports.items()):
        try:
            received = parse_time(report.get("received_at"))
        except ValueError:
            received = None
        last_seen = received.isoformat() if received else ""
        try:
            mac = normalise_mac(str(report.get("mac") or key))
        except MacError as exc:
            findings.append(Finding("no_report", index.uai, mac=str(key), detail=f"unreadable report: {exc}"))
            continue
        serial, vendor, model = _text(report, "serial"), _text(report, "vendor"), _text(report, "model")
        record = by_mac.get(mac)
        if record is None:
            owners = by_serial.get(_serial_key(serial), []) if serial else []
            if len(owners) == 1:
                owner = owners[0].item
                findings.append(
                    Finding(
                        "mac_mismatch", index.uai, owner.tag, mac, owner.mac or "", mac, last_seen,
                        f"serial {serial} is {owner.tag} (school {owners[0].uai}), registered "
                        + (f"with MAC {owner.mac}" if owner.mac else "without a MAC (not delivered)"),
                    )
                )  # fmt: skip
            else:
                what = " ".join(part for part in (vendor, model) if part) or "unknown model"
                findings.append(
                    Finding(
                        "unregistered", index.uai, "", mac, "", serial, last_seen,
                        f"{what}, serial {serial or 'unknown'}, from {report.get('from') or '?'}",
                    )
                )  # fmt: skip
            continue
        item = record.item
        seen[mac] = received
        if not item.held_on(today):
            state = f"retired on {item.retired}" if item.retired else f"installed only on {item.installed}"
            findings.append(Finding("retired_seen", index.uai, item.tag, mac, "", "", last_seen, state))
            continue
        if record.uai != index.uai:
            findings.append(
                Finding(
                    "wrong_school", index.uai, item.tag, mac, record.uai, index.uai, last_seen,
                    f"registered at school {record.uai}, reports to {index.uai}'s server",
                )
            )  # fmt: skip
        if serial and not same_serial(item.serial, serial):
            findings.append(
                Finding("serial_mismatch", index.uai, item.tag, mac, item.serial, serial, last_seen)
            )
        if model and not same_model(item.model, model):
            reported = " ".join(part for part in (vendor, model) if part)
            findings.append(
                Finding("model_mismatch", index.uai, item.tag, mac, item.model, reported, last_seen)
            )
    return seen


def _staleness(
    uai: str, item: Equipment, received: dt.datetime | None, now: dt.datetime, stale_days: int
) -> Finding | None:
    limit = now - dt.timedelta(days=stale_days)
    if received is not None:
        if received >= limit:
            return None
        days = (now - received).days
        return Finding(
            "not_seen", uai, item.tag, item.mac or "", last_seen=received.isoformat(),
            detail=f"last report {days} days ago",
        )  # fmt: skip
    # A machine delivered last week may simply not be unpacked yet.
    if item.installed > limit.date():
        return None
    return Finding("not_seen", uai, item.tag, item.mac or "", detail="never reported")


def parse_index(uai: str, data: bytes, where: str) -> SchoolIndex:
    """A school server's index file as read from disk or over Ansible."""
    try:
        document = json.loads(data)
    except ValueError as exc:
        return SchoolIndex(uai, None, f"{where}: not JSON: {exc}")
    reports = document.get("reports") if isinstance(document, dict) else None
    if not isinstance(reports, dict) or not all(isinstance(value, dict) for value in reports.values()):
        return SchoolIndex(uai, None, f'{where}: expected {{"reports": {{mac: report}}}}')
    return SchoolIndex(uai, reports)


def school_servers(register: Register) -> dict[str, str]:
    """Inventory name of each school's server -> the school's UAI."""
    return {school_server_hostname(school.uai): school.uai for _, school in register.schools()}


def indexes_from_events(
    events: Iterable[Mapping[str, Any]], servers: Mapping[str, str], path: str = INDEX_PATH
) -> list[SchoolIndex]:
    """The indexes from the events of an ad hoc `slurp` run (ansible-runner's event stream)."""
    indexes: dict[str, SchoolIndex] = {}
    for event in events:
        kind = event.get("event")
        data = event.get("event_data") or {}
        host = str(data.get("host") or "")
        if host not in servers or kind not in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            continue
        uai = servers[host]
        result = data.get("res") or {}
        if kind == "runner_on_ok":
            try:
                content = base64.b64decode(str(result.get("content", "")), validate=True)
            except (binascii.Error, ValueError):
                indexes[uai] = SchoolIndex(uai, None, f"{host}:{path}: unreadable content")
                continue
            indexes[uai] = parse_index(uai, content, f"{host}:{path}")
        else:
            message = str(result.get("msg") or "").strip().splitlines()
            state = "unreachable" if kind == "runner_on_unreachable" else "cannot read the index"
            indexes[uai] = SchoolIndex(
                uai, None, f"{host}: {state}: {message[0] if message else ''}".rstrip(": ")
            )
    return list(indexes.values())


def host_pattern(limit: str | None) -> str:
    """The school servers among `limit` (a school's or a commune's group, a host...), all by default."""
    return "school_servers" if not limit or limit == "all" else f"school_servers:&{limit}"


def gather(
    inventory: Path,
    limit: str | None,
    servers: Mapping[str, str],
    *,
    path: str = INDEX_PATH,
    become: bool = True,
) -> list[SchoolIndex]:
    """Every targeted school server's index, read with `ansible.builtin.slurp` (as root by default)."""
    import ansible_runner  # The comparison and the tests run without it.

    from schoolfleet.fleet import runner_envvars
    from schoolfleet.lab import PROJECT_ROOT

    with tempfile.TemporaryDirectory(prefix="hwreport-") as private:
        runner = ansible_runner.run(
            private_data_dir=private,
            project_dir=str(PROJECT_ROOT),
            inventory=str(inventory),
            host_pattern=host_pattern(limit),
            module="ansible.builtin.slurp",
            module_args=f"src={path}",
            # The playbooks' group_vars apply here too, as in a playbook run.
            cmdline=f"{'--become ' if become else ''}--playbook-dir {PROJECT_ROOT / 'playbooks'}",
            envvars=runner_envvars(),
            quiet=True,
        )
        events = list(runner.events)
    indexes = indexes_from_events(events, servers, path)
    if not indexes and runner.rc not in (0, 2, 4):
        raise RuntimeError(f"ansible failed (status {runner.rc}) before reaching any school server")
    return indexes


def load_fetched(directory: Path, servers: Mapping[str, str]) -> list[SchoolIndex]:
    """Indexes fetched beforehand (`ansible -m fetch`: DIR/<host>/.../index.json), by school server."""
    indexes: list[SchoolIndex] = []
    for path in sorted(directory.glob("*/**/index.json")):
        host = path.relative_to(directory).parts[0]
        if host in servers:
            indexes.append(parse_index(servers[host], path.read_bytes(), str(path)))
    return indexes


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    return {kind: sum(f.kind == kind for f in findings) for kind in KINDS}


if __name__ == "__main__":
    # `python -m schoolfleet.workstations.hardware` is the command too (the package's __main__).
    import sys

    from schoolfleet.workstations.__main__ import main

    sys.exit(main())
