"""schoolfleet-hwreport: the workstations' hardware report.

    schoolfleet-hwreport send [--server URL] [--print] [--attempts N]
        collect this machine's serial, MAC, vendor, model, memory and disks and POST them to the
        school server (URL: host, host:port or http://host:port[/path]; default port 8099, path
        /report); without --server, $SCHOOLFLEET_HWREPORT_SERVER. --print only prints the report.
    schoolfleet-hwreport serve [--listen ADDRESS] [--port PORT] [--state-dir DIR]
        receive the reports and keep the latest per MAC in DIR/reports/ and DIR/index.json.

Options also come from the environment (the units read /etc/default/schoolfleet-hwreport):
SCHOOLFLEET_HWREPORT_SERVER, _LISTEN, _PORT, _STATE_DIR. Exit status: 0 done, 1 not delivered
(network or server trouble, after every attempt), 2 refused (bad arguments, or the server
refused the report).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from schoolfleet_agent import __version__
from schoolfleet_agent.hwreport import DEFAULT_PORT, DEFAULT_STATE_DIR
from schoolfleet_agent.hwreport.collect import collect
from schoolfleet_agent.hwreport.receiver import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_REPORTS,
    ReportServer,
    ReportStore,
)
from schoolfleet_agent.hwreport.send import SendError, send
from schoolfleet_agent.logs import setup_logging

ENV = "SCHOOLFLEET_HWREPORT_"


def env(name: str, default: str) -> str:
    return os.environ.get(ENV + name) or default


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="schoolfleet-hwreport",
        description="The workstations' hardware report: send it at boot, serve it on the school server.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument("--verbose", action="store_true", help="log every HTTP request too")
    sub = top.add_subparsers(dest="command", required=True)

    send_parser = sub.add_parser(
        "send", help="collect this machine's report and POST it to the school server"
    )
    send_parser.add_argument(
        "--server", default=env("SERVER", ""), help="school server (URL, host or host:port)"
    )
    send_parser.add_argument("--print", action="store_true", help="print the report instead of sending it")
    send_parser.add_argument("--attempts", type=int, default=6, help="tries before giving up (default 6)")
    send_parser.add_argument("--delay", type=float, default=5.0, help="seconds before the 2nd try, doubling")
    send_parser.add_argument("--timeout", type=float, default=10.0, help="seconds per try")
    send_parser.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)

    serve_parser = sub.add_parser("serve", help="receive the reports (school server)")
    serve_parser.add_argument("--listen", default=env("LISTEN", "0.0.0.0"), help="address (default 0.0.0.0)")
    serve_parser.add_argument(
        "--port", type=int, default=int(env("PORT", str(DEFAULT_PORT))), help=f"port (default {DEFAULT_PORT})"
    )
    serve_parser.add_argument(
        "--state-dir", type=Path, default=Path(env("STATE_DIR", DEFAULT_STATE_DIR)), help="where reports go"
    )
    serve_parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest report, bytes")
    serve_parser.add_argument(
        "--max-reports", type=int, default=DEFAULT_MAX_REPORTS, help="most machines kept (new ones refused)"
    )
    return top


def cmd_send(args: argparse.Namespace, log: logging.Logger) -> int:
    report = collect(args.root)
    if args.print:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    if not report.get("mac"):
        log.error("no MAC address found (no default route and no physical interface): nothing sent")
        return 1
    if not args.server:
        log.error("no school server: give --server or set %sSERVER", ENV)
        return 2
    try:
        send(args.server, report, attempts=args.attempts, delay=args.delay, timeout=args.timeout)
    except ValueError as error:
        log.error("%s", error)
        return 2
    except SendError as error:
        log.error("report not delivered: %s", error)
        return 2 if error.permanent else 1
    return 0


def cmd_serve(args: argparse.Namespace, log: logging.Logger) -> int:
    store = ReportStore(args.state_dir, max_reports=args.max_reports)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    server = ReportServer((args.listen, args.port), store, max_body=args.max_body)

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return: call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "listening on %s port %d, reports in %s (version %s)",
        args.listen,
        server.port,
        args.state_dir,
        __version__,
    )
    # The test and the units wait for this line on standard output before posting.
    print(f"listening on {args.listen}:{server.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    log.info("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    log = setup_logging("schoolfleet-hwreport", logging.DEBUG if args.verbose else logging.INFO)
    try:
        if args.command == "send":
            return cmd_send(args, log)
        return cmd_serve(args, log)
    except OSError as error:
        log.error("%s", error)
        return 1
