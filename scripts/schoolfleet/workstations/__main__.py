"""The hardware report: the workstations' own reports to their school servers against the register.

    python -m schoolfleet.workstations [-l PATTERN] [-i INVENTORY] [--register DIR] [--stale-days 14]
                                       [--format text|csv|json] [--out FILE] [--index-dir DIR] [--at ISO]

`-l` takes a school's group (school_0910001g), a commune's (commune_91019), a SIVOS's or nothing (all
school servers). The indexes are read over Ansible (`slurp`, as root) unless `--index-dir` gives ones
fetched beforehand (DIR/<school server>/.../index.json). Exit status 0 when the fleet and the register
agree, 1 when there is any finding, 2 when nothing could be compared.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from schoolfleet.register import RegisterError, load_register
from schoolfleet.workstations.hardware import (
    Finding,
    SchoolIndex,
    gather,
    load_fetched,
    reconcile,
    school_servers,
    summary,
)

# The demo register and inventory of this checkout, wherever the command is started from.
ROOT = Path(__file__).resolve().parents[3]
DEFAULT_REGISTER = ROOT / "inventories" / "demo" / "register"
DEFAULT_INVENTORY = ROOT / "inventories" / "demo" / "hosts.yml"
COLUMNS = ("kind", "school", "tag", "mac", "register", "reported", "last_seen", "detail")


def as_text(findings: Sequence[Finding], schools: int, stale_days: int) -> str:
    counts = ", ".join(f"{n} {kind}" for kind, n in summary(findings).items() if n)
    lines = [f"{schools} school(s) compared, stale after {stale_days} days: {counts or 'no finding'}"]
    rows = [COLUMNS, *((f.kind, f.school, f.tag, f.mac, f.register, f.reported, f.last_seen, f.detail)
                       for f in findings)]  # fmt: skip
    if findings:
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
        ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def as_csv(findings: Sequence[Finding]) -> str:
    """Semicolons, as the other exports of the project: French spreadsheets read them as columns."""
    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    for finding in findings:
        writer.writerow([finding.as_dict()[column] for column in COLUMNS])
    return stream.getvalue()


def as_json(
    findings: Sequence[Finding], indexes: Sequence[SchoolIndex], now: dt.datetime, stale_days: int
) -> str:
    payload = {
        "generated_at": now.isoformat(timespec="seconds"),
        "stale_days": stale_days,
        "schools": sorted(index.uai for index in indexes),
        "summary": summary(findings),
        "findings": [finding.as_dict() for finding in findings],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hardware-report", description=__doc__.splitlines()[0])
    parser.add_argument(
        "-l", "--limit", help="a school's, commune's or SIVOS's group (default: every school)"
    )
    parser.add_argument("-i", "--inventory", type=Path, default=DEFAULT_INVENTORY)
    parser.add_argument("--register", type=Path, default=DEFAULT_REGISTER)
    parser.add_argument("--stale-days", type=int, default=14, help="days without a report that make it stale")
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text")
    parser.add_argument("--out", type=Path, help="write to this file (default: print)")
    parser.add_argument("--index-dir", type=Path, help="read fetched index files instead of gathering them")
    parser.add_argument("--at", help="compare as on this ISO 8601 moment instead of now")
    args = parser.parse_args(argv)
    now = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    try:
        register = load_register(args.register)
    except RegisterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    servers = school_servers(register)
    try:
        if args.index_dir is not None:
            indexes = load_fetched(args.index_dir, servers)
        else:
            indexes = gather(args.inventory.resolve(), args.limit, servers)
    except (OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not indexes:
        print("error: no school server's index to compare (check -l, --index-dir)", file=sys.stderr)
        return 2
    findings = reconcile(register, indexes, now, args.stale_days)
    if args.format == "csv":
        output = as_csv(findings)
    elif args.format == "json":
        output = as_json(findings, indexes, now, args.stale_days)
    else:
        output = as_text(findings, len(indexes), args.stale_days)
    if args.out is None:
        sys.stdout.write(output)
    else:
        args.out.write_text(output, encoding="utf-8-sig" if args.format == "csv" else "utf-8")
        print(f"written: {args.out} ({len(findings)} finding(s))")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
