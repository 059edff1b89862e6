"""The school server's side of the hardware report: an HTTP receiver that keeps the latest report per MAC.

    POST /report   a JSON report (Content-Length required, at most --max-body bytes)
    GET /healthz   "ok" (for the unit's checks and the tests)

Each report is validated (validate_report: an object, known fields of the right type and size, a
unicast MAC address put in the register's form), then, under a lock, written to
`<state>/reports/<aa-bb-cc-dd-ee-ff>.json` and into `<state>/index.json`:

    {"reports": {"aa:bb:cc:dd:ee:ff": {...report, "received_at": ISO 8601, "from": client address}}}

Both files are replaced atomically, so the controller's reconciliation never reads half a file,
and the lock (threads of this server, and any other process holding `<state>/.lock`) means two
workstations reporting at the same moment both end up in the index. An unreadable index is rebuilt
from the per-MAC files. Each accepted report and each refusal is logged.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from schoolfleet_agent.files import locked, read_json, write_json
from schoolfleet_agent.hwreport import REPORT_PATH, SCHEMA
from schoolfleet_agent.names import parse_mac

LOG = logging.getLogger("schoolfleet-hwreport")

DEFAULT_MAX_BODY = 64 * 1024
DEFAULT_MAX_REPORTS = 5000
MAX_DISKS = 32
MAX_TEXT = 256
# Report fields: name -> (kind, required). "text" is a string of at most MAX_TEXT printable characters.
FIELDS: Mapping[str, tuple[str, bool]] = {
    "schema": ("int", False),
    "mac": ("mac", True),
    "hostname": ("text", False),
    "interface": ("text", False),
    "serial": ("text", False),
    "vendor": ("text", False),
    "model": ("text", False),
    "board_serial": ("text", False),
    "bios_version": ("text", False),
    "memory_bytes": ("int", False),
    "disks": ("disks", False),
    "agent_version": ("text", False),
    "collected_at": ("text", False),
}
DISK_FIELDS: Mapping[str, str] = {
    "name": "text",
    "model": "text",
    "serial": "text",
    "size_bytes": "int",
    "rotational": "bool",
    "transport": "text",
}


class ReportError(ValueError):
    """A refused report; `problems` lists each reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _check(kind: str, value: Any, where: str, problems: list[str]) -> Any:
    if value is None:
        return None
    if kind == "text":
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string")
        elif len(value) > MAX_TEXT:
            problems.append(f"{where}: longer than {MAX_TEXT} characters")
        elif not value.isprintable():
            problems.append(f"{where}: holds control characters")
        else:
            return value.strip() or None
        return None
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= 2**63:
            problems.append(f"{where}: expected a non-negative integer")
            return None
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false")
            return None
        return value
    raise AssertionError(kind)


def validate_report(data: Any) -> dict[str, Any]:
    """The clean report (known fields only, MAC normalised), or ReportError listing every problem."""
    if not isinstance(data, dict):
        raise ReportError(["the report must be a JSON object"])
    problems: list[str] = []
    report: dict[str, Any] = {}
    for name, (kind, required) in FIELDS.items():
        value = data.get(name)
        if value is None:
            if required:
                problems.append(f"{name}: missing")
            continue
        if kind == "mac":
            if not isinstance(value, str):
                problems.append("mac: expected a string")
                continue
            try:
                report[name] = parse_mac(value)
            except ValueError as error:
                problems.append(f"mac: {error}")
        elif kind == "disks":
            if not isinstance(value, list):
                problems.append("disks: expected a list")
                continue
            if len(value) > MAX_DISKS:
                problems.append(f"disks: more than {MAX_DISKS}")
                continue
            disks = []
            for index, disk in enumerate(value):
                if not isinstance(disk, dict):
                    problems.append(f"disks[{index}]: expected an object")
                    continue
                disks.append(
                    {
                        key: _check(disk_kind, disk.get(key), f"disks[{index}].{key}", problems)
                        for key, disk_kind in DISK_FIELDS.items()
                    }
                )
            report[name] = disks
        else:
            checked = _check(kind, value, name, problems)
            if checked is not None:
                report[name] = checked
    schema = report.get("schema", SCHEMA)
    if schema != SCHEMA:
        problems.append(f"schema: version {schema} is not understood (this receiver reads {SCHEMA})")
    if problems:
        raise ReportError(problems)
    return report


def mac_file_name(mac: str) -> str:
    return mac.replace(":", "-") + ".json"


class StoreFullError(Exception):
    """The receiver holds as many machines as it may: a new MAC is refused (the disk stays bounded)."""


class ReportStore:
    """The latest report per MAC address and the index of them all, under one state folder."""

    def __init__(self, state_dir: Path, max_reports: int = DEFAULT_MAX_REPORTS) -> None:
        self.state_dir = Path(state_dir)
        self.reports_dir = self.state_dir / "reports"
        self.index_path = self.state_dir / "index.json"
        self.lock_path = self.state_dir / ".lock"
        self.max_reports = max_reports
        self._thread_lock = threading.Lock()

    def load_index(self) -> dict[str, dict[str, Any]]:
        index = read_json(self.index_path)
        reports = index.get("reports")
        if isinstance(reports, dict) and all(isinstance(v, dict) for v in reports.values()):
            return reports
        if self.index_path.exists():
            LOG.warning("%s is unreadable: rebuilt from %s", self.index_path, self.reports_dir)
        return self.rebuild()

    def rebuild(self) -> dict[str, dict[str, Any]]:
        reports: dict[str, dict[str, Any]] = {}
        if self.reports_dir.is_dir():
            for path in sorted(self.reports_dir.glob("*.json")):
                report = read_json(path)
                mac = report.get("mac")
                if isinstance(mac, str):
                    reports[mac] = report
        return reports

    def store(self, report: Mapping[str, Any], client: str, now: dt.datetime | None = None) -> str:
        """Record a validated report; returns "new", "changed" or "unchanged" (the hardware)."""
        moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        mac = str(report["mac"])
        entry = {**report, "received_at": moment.isoformat(timespec="seconds"), "from": client}
        with self._thread_lock, locked(self.lock_path):
            reports = self.load_index()
            previous = reports.get(mac)
            if previous is None and len(reports) >= self.max_reports:
                raise StoreFullError(f"the receiver already holds {self.max_reports} machines")
            write_json(self.reports_dir / mac_file_name(mac), entry)
            reports[mac] = entry
            write_json(self.index_path, {"reports": dict(sorted(reports.items()))})
        if previous is None:
            return "new"
        ignored = {"received_at", "from", "collected_at"}
        same = {k: v for k, v in previous.items() if k not in ignored} == {
            k: v for k, v in entry.items() if k not in ignored
        }
        return "unchanged" if same else "changed"


class ReportHandler(http.server.BaseHTTPRequestHandler):
    server_version = "schoolfleet-hwreport"
    sys_version = ""
    # Seconds a client may take to send its request: a slow client cannot hold a thread for ever.
    timeout = 15

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s %s", self.client_address[0], format % args)

    def reply(self, status: int, body: Mapping[str, Any]) -> None:
        payload = (json.dumps(body, sort_keys=True) + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def refuse(self, status: int, problems: list[str]) -> None:
        LOG.warning("report from %s refused (%d): %s", self.client_address[0], status, "; ".join(problems))
        self.reply(status, {"error": problems[0], "problems": problems})

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self.reply(200, {"status": "ok"})
        elif self.path == REPORT_PATH:
            self.reply(405, {"error": "POST a report here"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        client = self.client_address[0]
        if self.path.split("?", 1)[0] != REPORT_PATH:
            self.reply(404, {"error": "not found"})
            return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.refuse(411, ["send a Content-Length, not a chunked body"])
            return
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self.refuse(411, ["a Content-Length is required"])
            return
        length = int(length_header)
        server = cast(ReportServer, self.server)
        if length > server.max_body:
            self.refuse(413, [f"the report is {length} bytes, more than {server.max_body}"])
            return
        content_type = self.headers.get("Content-Type", "application/json").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            self.refuse(415, [f"expected application/json, not {content_type}"])
            return
        try:
            body = self.rfile.read(length)
        except (TimeoutError, OSError):
            LOG.warning("report from %s: the body did not arrive", client)
            self.close_connection = True
            return
        if len(body) != length:
            self.refuse(400, [f"the body ended after {len(body)} of {length} bytes"])
            return
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            self.refuse(400, [f"not JSON: {error}"])
            return
        try:
            report = validate_report(data)
            outcome = server.store.store(report, client)
        except ReportError as error:
            self.refuse(400, error.problems)
            return
        except StoreFullError as error:
            self.refuse(503, [str(error)])
            return
        except OSError as error:
            LOG.error("report from %s could not be stored: %s", client, error)
            self.reply(500, {"error": "the report could not be stored"})
            return
        LOG.info(
            "report from %s: mac=%s serial=%s vendor=%s model=%s hostname=%s (%s)",
            client,
            report["mac"],
            report.get("serial"),
            report.get("vendor"),
            report.get("model"),
            report.get("hostname"),
            outcome,
        )
        self.reply(200, {"status": "stored", "mac": report["mac"], "outcome": outcome})


class ReportServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Many workstations boot at 8:20: let the kernel queue their connections.
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        store: ReportStore,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.store = store
        self.max_body = max_body
        super().__init__(address, ReportHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])
