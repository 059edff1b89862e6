#!/usr/bin/python3
"""ClamAV on a school server: signature updates, share scans with quarantine, daily report, alert.

  antivirus update [--initial]   freshclam against the central mirror only (never the internet);
                                 records the outcome, then runs the check. --initial does nothing
                                 when every configured database is already there.
  antivirus scan                 clamdscan (through clamd, file descriptors passed so that clamd
                                 can read every share) over the configured share folders; each
                                 infected file is MOVED to the quarantine (never deleted) with one
                                 log line per file.
  antivirus report               the daily report: detections of the last 24 hours, quarantine
                                 content, last scan, signature versions and ages, alert state.
  antivirus check                the alert condition. Exit 0: fine; 1: warning (the last update or
                                 scan failed, signatures still fresh enough); 2: ALERT (signatures
                                 older than the threshold, or none at all).
  antivirus quarantine list | restore ID [--to PATH]

Markers in the journal (SYSLOG_IDENTIFIER=antivirus) and in the files under the state folder:
ANTIVIRUS-ALERT (priority crit; state file "alert" present while it stands), ANTIVIRUS-WARNING,
ANTIVIRUS-ALERT-CLEARED, ANTIVIRUS-UPDATE-FAILED, QUARANTINED, QUARANTINE-FAILED, RESTORED.

Settings come from /etc/antivirus/antivirus.json (written by the Ansible role). Only python3 and
the Debian ClamAV packages are needed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CONFIG_PATH = Path(os.environ.get("ANTIVIRUS_CONFIG", "/etc/antivirus/antivirus.json"))
OFFICIAL_EXTENSIONS = (".cvd", ".cld", ".cud")
CUSTOM_EXTENSIONS = (
    ".hdb", ".hsb", ".hdu", ".hsu", ".mdb", ".msb", ".mdu", ".msu", ".ndb", ".ndu", ".ldb", ".ldu",
    ".idb", ".cdb", ".cbc", ".pdb", ".gdb", ".wdb", ".ftm", ".fp", ".sfp", ".ign", ".ign2", ".yar",
    ".yara", ".crb", ".cat",
)  # fmt: skip
# Priorities understood by journald on a service's standard output (sd-daemon(3)).
CRIT, ERR, WARNING, NOTICE, INFO = 2, 3, 4, 5, 6


def now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def iso(moment: dt.datetime | float | None) -> str:
    if moment is None:
        return "never"
    if isinstance(moment, int | float):
        moment = dt.datetime.fromtimestamp(moment).astimezone()
    return moment.isoformat(timespec="seconds")


def log(priority: int, message: str) -> None:
    """One line to the journal with its priority (under systemd), or to stderr/stdout by hand."""
    if os.environ.get("JOURNAL_STREAM"):
        print(f"<{priority}>{message}", flush=True)
    else:
        print(message, file=sys.stderr if priority <= WARNING else sys.stdout, flush=True)


def load_config() -> dict[str, Any]:
    with CONFIG_PATH.open(encoding="utf-8") as handle:
        config: dict[str, Any] = json.load(handle)
    return config


def state_dir(config: dict[str, Any]) -> Path:
    return Path(config["state_dir"])


def read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
            return data
    except (OSError, ValueError):
        return {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic write: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")


# --- signature databases ------------------------------------------------------------------------


def cvd_header(path: Path) -> dict[str, Any] | None:
    """Header of a .cvd/.cld/.cud file: ClamAV-VDB:time:version:sigs:flevel:md5:dsig:builder:stime."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(512)
    except OSError:
        return None
    text = raw.decode("ascii", "replace").strip("\0 \n")
    fields = text.split(":")
    if len(fields) < 9 or fields[0] != "ClamAV-VDB":
        return None
    try:
        return {
            "build_time": fields[1],
            "version": int(fields[2]),
            "signatures": int(fields[3]),
            "functionality_level": int(fields[4]),
            "builder": fields[7],
            "build_epoch": int(fields[8].strip()),
        }
    except ValueError:
        return None


def installed_databases(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every database file clamd loads, with its version and build time when it has a header."""
    found = []
    database_dir = Path(config["database_dir"])
    for path in sorted(database_dir.glob("*")):
        if not path.is_file():
            continue
        if path.suffix in OFFICIAL_EXTENSIONS:
            header = cvd_header(path) or {}
            found.append({"file": path.name, "name": path.stem, "kind": "official", **header})
        elif path.suffix in CUSTOM_EXTENSIONS:
            stat = path.stat()
            lines = sum(1 for line in path.read_text(errors="replace").splitlines() if line.strip())
            found.append(
                {"file": path.name, "name": path.name, "kind": "custom", "signatures": lines,
                 "modified": iso(stat.st_mtime)}
            )  # fmt: skip
    return found


def missing_databases(config: dict[str, Any]) -> list[str]:
    database_dir = Path(config["database_dir"])
    missing = [
        name
        for name in config["databases"]
        if not any((database_dir / f"{name}{ext}").is_file() for ext in OFFICIAL_EXTENSIONS)
    ]
    missing += [name for name in config["custom_databases"] if not (database_dir / name).is_file()]
    return missing


# --- update -------------------------------------------------------------------------------------


def cmd_update(config: dict[str, Any], initial: bool) -> int:
    if initial and not missing_databases(config):
        print("ANTIVIRUS-INITIAL-UPDATE: present")
        return 0
    started = now()
    command = ["freshclam", "--no-dns", "--stdout", f"--config-file={config['freshclam_config']}"]
    process = subprocess.run(command, capture_output=True, text=True, check=False)
    output = (process.stdout + process.stderr).splitlines()
    for line in output:
        level = ERR if line.startswith("ERROR") else WARNING if line.startswith("WARNING") else INFO
        log(level, f"freshclam: {line}")
    state_path = state_dir(config) / "update.json"
    state = read_json(state_path)
    state.update({"last_attempt": iso(started), "mirror": config["mirror_url"]})
    # freshclam: 0 = updated or already up to date (1 = up to date in older releases).
    ok = process.returncode in (0, 1) and not missing_databases(config)
    if ok:
        state.update({"last_result": "ok", "last_ok": iso(started), "last_ok_epoch": started.timestamp()})
        state.pop("last_error", None)
        log(NOTICE, f"signatures are up to date with the mirror {config['mirror_url']}")
    else:
        errors = [line for line in output if line.startswith("ERROR")]
        reason = errors[-1] if errors else f"freshclam exited with {process.returncode}"
        state.update({"last_result": "failed", "last_error": reason, "last_exit_code": process.returncode})
        log(ERR, f"ANTIVIRUS-UPDATE-FAILED mirror={config['mirror_url']} exit={process.returncode} {reason}")
    write_json(state_path, state)
    evaluate(config, None, None, quiet=False)
    if initial and ok:
        print("ANTIVIRUS-INITIAL-UPDATE: updated")
    return 0 if ok else (process.returncode or 1)


# --- alert condition ----------------------------------------------------------------------------


def evaluate(config: dict[str, Any], max_age_hours: float | None, db_max_age_days: float | None,
             quiet: bool) -> int:  # fmt: skip
    """Work out the alert level, record it (status.json, alert file, optional metrics) and log it."""
    max_age_hours = config["max_age_hours"] if max_age_hours is None else max_age_hours
    db_max_age_days = config["database_max_age_days"] if db_max_age_days is None else db_max_age_days
    moment = now()
    update = read_json(state_dir(config) / "update.json")
    scan = read_json(state_dir(config) / "scan.json")
    databases = installed_databases(config)
    alerts: list[str] = []
    warnings: list[str] = []

    last_ok = update.get("last_ok_epoch")
    age_hours = None if last_ok is None else (moment.timestamp() - float(last_ok)) / 3600
    missing = missing_databases(config)
    if missing:
        alerts.append(f"signature databases missing: {', '.join(missing)}")
    if age_hours is None:
        alerts.append("signatures were never updated from the mirror")
    elif age_hours > max_age_hours:
        alerts.append(
            f"signatures are {age_hours:.1f} h old (threshold {max_age_hours:g} h): last update from "
            f"{config['mirror_url']} at {update.get('last_ok')}"
        )
    builds = [d["build_epoch"] for d in databases if "build_epoch" in d]
    newest_build_days = (moment.timestamp() - max(builds)) / 86400 if builds else None
    if db_max_age_days and newest_build_days is not None and newest_build_days > db_max_age_days:
        alerts.append(
            f"newest database build is {newest_build_days:.1f} days old (threshold {db_max_age_days:g} "
            "days): the central mirror itself is stale"
        )
    if update.get("last_result") == "failed":
        warnings.append(f"last update at {update.get('last_attempt')} failed: {update.get('last_error')}")
    if scan.get("result") == "failed":
        warnings.append(f"last scan at {scan.get('finished')} failed: {scan.get('error')}")

    level = 2 if alerts else 1 if warnings else 0
    status = {
        "checked": iso(moment),
        "level": ["ok", "warning", "alert"][level],
        "alerts": alerts,
        "warnings": warnings,
        "signature_age_hours": None if age_hours is None else round(age_hours, 2),
        "max_age_hours": max_age_hours,
        "newest_database_build_age_days": None if newest_build_days is None else round(newest_build_days, 2),
        "last_update_ok": update.get("last_ok"),
        "last_update_attempt": update.get("last_attempt"),
        "mirror": config["mirror_url"],
    }
    alert_file = state_dir(config) / "alert"
    was_alerting = alert_file.exists()
    write_json(state_dir(config) / "status.json", status)
    if alerts:
        message = "ANTIVIRUS-ALERT " + "; ".join(alerts)
        alert_file.write_text(message + "\n", encoding="utf-8")
        log(CRIT, message)
        if not was_alerting:
            run_alert_command(config, message)
    else:
        if was_alerting:
            alert_file.unlink()
            log(NOTICE, "ANTIVIRUS-ALERT-CLEARED signatures are fresh again")
        if warnings:
            log(WARNING, "ANTIVIRUS-WARNING " + "; ".join(warnings))
        elif not quiet:
            log(INFO, f"antivirus OK: signatures {status['signature_age_hours']} h old")
    write_metrics(config, status, databases)
    return level


def run_alert_command(config: dict[str, Any], message: str) -> None:
    command = config.get("alert_command") or ""
    if not command:
        return
    env = dict(os.environ, ANTIVIRUS_ALERT=message, ANTIVIRUS_HOST=socket.gethostname())
    result = subprocess.run(["/bin/sh", "-c", command], env=env, check=False)
    if result.returncode:
        log(ERR, f"alert command exited with {result.returncode}")


def write_metrics(config: dict[str, Any], status: dict[str, Any], databases: list[dict[str, Any]]) -> None:
    """node_exporter textfile collector format, when a folder is configured."""
    folder = config.get("textfile_dir") or ""
    if not folder:
        return
    lines = [
        "# HELP schoolfleet_antivirus_alert_level 0 ok, 1 warning, 2 alert.",
        "# TYPE schoolfleet_antivirus_alert_level gauge",
        f"schoolfleet_antivirus_alert_level {['ok', 'warning', 'alert'].index(status['level'])}",
        "# HELP schoolfleet_antivirus_signature_age_hours Hours since the last update from the mirror.",
        "# TYPE schoolfleet_antivirus_signature_age_hours gauge",
        "schoolfleet_antivirus_signature_age_hours "
        + ("NaN" if status["signature_age_hours"] is None else str(status["signature_age_hours"])),
        "# HELP schoolfleet_antivirus_database_version Version of each official database.",
        "# TYPE schoolfleet_antivirus_database_version gauge",
    ]
    lines += [
        f'schoolfleet_antivirus_database_version{{database="{d["name"]}"}} {d["version"]}'
        for d in databases
        if "version" in d
    ]
    target = Path(folder) / "schoolfleet_antivirus.prom"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(target)


# --- scan and quarantine ------------------------------------------------------------------------


def parse_clamdscan_line(line: str) -> tuple[str, str, str] | None:
    """'PATH: SIGNATURE FOUND' or 'PATH: REASON ERROR' -> (kind, path, detail)."""
    for suffix, kind in ((" FOUND", "found"), (" ERROR", "error")):
        if line.endswith(suffix):
            path, sep, detail = line[: -len(suffix)].rpartition(": ")
            if sep and path.startswith("/"):
                return kind, path, detail
    return None


def quarantine_file(config: dict[str, Any], path: str, signature: str) -> dict[str, Any]:
    moment = now()
    record: dict[str, Any] = {"time": iso(moment), "path": path, "signature": signature}
    source = Path(path)
    try:
        info = source.lstat()
        if not source.is_file() or source.is_symlink():
            raise OSError("not a regular file")
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        entry_id = f"{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        entry = Path(config["quarantine_dir"]) / entry_id
        entry.mkdir(mode=0o700, parents=True)
        meta = {
            "id": entry_id, "time": iso(moment), "original_path": path, "signature": signature,
            "uid": info.st_uid, "gid": info.st_gid, "mode": oct(info.st_mode & 0o7777),
            "size": info.st_size, "sha256": digest.hexdigest(), "host": socket.gethostname(),
        }  # fmt: skip
        write_json(entry / "meta.json", meta)
        target = entry / "file"
        shutil.move(path, target)  # a rename on one file system, else copy then unlink
        os.chown(target, 0, 0)
        target.chmod(0o400)
        record.update({"status": "quarantined", "id": entry_id, "sha256": meta["sha256"]})
        line = f"{iso(moment)} QUARANTINED signature={signature} id={entry_id} path={path}"
        log(WARNING, line)
    except OSError as error:
        record.update({"status": "failed", "error": str(error)})
        line = f"{iso(moment)} QUARANTINE-FAILED signature={signature} error={error} path={path}"
        log(ERR, line)
    append_line(Path(config["quarantine_log"]), line)
    append_line(state_dir(config) / "detections.jsonl", json.dumps(record, sort_keys=True))
    return record


def cmd_scan(config: dict[str, Any]) -> int:
    started = now()
    paths = [p for p in config["scan_paths"] if Path(p).is_dir()]
    for skipped in sorted(set(config["scan_paths"]) - set(paths)):
        log(WARNING, f"scan folder {skipped} does not exist: skipped")
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    exit_code = 0
    if paths:
        command = ["clamdscan", "--fdpass", "--multiscan", "--infected", "--stdout",
                   f"--config-file={config['clamd_config']}", *paths]  # fmt: skip
        log(INFO, f"scanning {' '.join(paths)}")
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                parsed = parse_clamdscan_line(line)
                if parsed and parsed[0] == "found":
                    records.append(quarantine_file(config, parsed[1], parsed[2]))
                elif parsed:
                    errors.append(f"{parsed[1]}: {parsed[2]}")
                    log(ERR, f"scan error: {line}")
                elif line.strip():
                    log(INFO, f"clamdscan: {line}")
            exit_code = proc.wait()
    failed = [r for r in records if r["status"] != "quarantined"]
    # clamdscan: 0 clean, 1 something found, 2 an error (clamd down, unreadable file...).
    error = None
    if exit_code not in (0, 1):
        error = errors[-1] if errors else f"clamdscan exited with {exit_code}"
    elif failed:
        error = f"{len(failed)} infected file(s) could not be quarantined"
    summary = {
        "started": iso(started), "finished": iso(now()), "paths": paths,
        "detections": len(records), "quarantined": len(records) - len(failed),
        "result": "failed" if error else "ok", "error": error,
    }  # fmt: skip
    write_json(state_dir(config) / "scan.json", summary)
    log(ERR if error else NOTICE,
        f"scan finished: {summary['detections']} detection(s), {summary['quarantined']} quarantined"
        + (f", FAILED: {error}" if error else ""))  # fmt: skip
    return 1 if error else 0


def quarantine_entries(config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    folder = Path(config["quarantine_dir"])
    if not folder.is_dir():
        return
    for meta_path in sorted(folder.glob("*/meta.json")):
        meta = read_json(meta_path)
        if meta and (meta_path.parent / "file").exists():
            yield meta


def cmd_quarantine_list(config: dict[str, Any]) -> int:
    for meta in quarantine_entries(config):
        print(f"{meta['id']}  {meta['time']}  {meta['signature']}  {meta['original_path']}")
    return 0


def cmd_quarantine_restore(config: dict[str, Any], entry_id: str, to: str | None) -> int:
    entry = Path(config["quarantine_dir"]) / entry_id
    meta = read_json(entry / "meta.json")
    if not meta or not (entry / "file").exists() or "/" in entry_id:
        print(f"no quarantine entry {entry_id}", file=sys.stderr)
        return 1
    target = Path(to or meta["original_path"])
    if target.exists():
        print(f"{target} exists: restore elsewhere with --to", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(entry / "file"), target)
    os.chown(target, meta["uid"], meta["gid"])
    target.chmod(int(meta["mode"], 8))
    shutil.rmtree(entry)
    line = f"{iso(now())} RESTORED signature={meta['signature']} id={entry_id} path={target}"
    append_line(Path(config["quarantine_log"]), line)
    log(WARNING, line)
    print(f"restored to {target} (the next scan finds it again unless the signature is ignored)")
    return 0


# --- daily report -------------------------------------------------------------------------------


def cmd_report(config: dict[str, Any]) -> int:
    moment = now()
    since = moment - dt.timedelta(hours=24)
    level = evaluate(config, None, None, quiet=True)
    status = read_json(state_dir(config) / "status.json")
    scan = read_json(state_dir(config) / "scan.json")
    detections = []
    kept = []
    keep_after = moment - dt.timedelta(days=int(config["report_keep_days"]))
    journal = state_dir(config) / "detections.jsonl"
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                when = dt.datetime.fromisoformat(record["time"])
            except (ValueError, KeyError):
                continue
            if when >= keep_after:
                kept.append(line)
            if when >= since:
                detections.append(record)
        tmp = journal.with_name(".detections.jsonl.tmp")
        tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        tmp.replace(journal)
    databases = installed_databases(config)
    quarantine = list(quarantine_entries(config))
    report = {
        "host": socket.gethostname(), "generated": iso(moment), "period_start": iso(since),
        "detections": detections, "quarantine_count": len(quarantine), "last_scan": scan,
        "databases": databases, "status": status,
    }  # fmt: skip

    lines = [
        f"Antivirus report of {report['host']}, {moment:%Y-%m-%d %H:%M %Z}",
        f"State: {status.get('level', '?').upper()}",
        *(f"  ALERT: {text}" for text in status.get("alerts", [])),
        *(f"  warning: {text}" for text in status.get("warnings", [])),
        "",
        f"Detections in the last 24 hours: {len(detections)}",
        *(f"  {r['time']}  {r['signature']}  {r['path']}  ({r['status']})" for r in detections),
        f"Files in quarantine: {len(quarantine)} ({config['quarantine_dir']})",
        f"Last scan: {scan.get('finished', 'never')}  result: {scan.get('result', '-')}  "
        f"detections: {scan.get('detections', '-')}",
        "",
        f"Signatures: last updated from {config['mirror_url']} at {status.get('last_update_ok') or 'never'}"
        f" ({status.get('signature_age_hours')} h ago, threshold {status.get('max_age_hours')} h)",
    ]
    for database in databases:
        if database["kind"] == "official" and "version" in database:
            built_days = (moment.timestamp() - database["build_epoch"]) / 86400
            lines.append(
                f"  {database['file']}: version {database['version']}, {database['signatures']} signatures, "
                f"built {iso(database['build_epoch'])} ({built_days:.1f} days ago)"
            )
        else:
            lines.append(f"  {database['file']}: {database.get('signatures', '?')} signatures "
                         f"({database['kind']}, fetched {database.get('modified', '?')})")  # fmt: skip
    text = "\n".join(lines) + "\n"

    folder = Path(config["report_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"report-{moment:%Y-%m-%d}.txt").write_text(text, encoding="utf-8")
    write_json(folder / "latest.json", report)
    (folder / "latest.txt").write_text(text, encoding="utf-8")
    cutoff = time.time() - int(config["report_keep_days"]) * 86400
    for old in folder.glob("report-*.txt"):
        if old.stat().st_mtime < cutoff:
            old.unlink()
    for line in lines:
        log(CRIT if line.strip().startswith("ALERT") else INFO, f"report: {line}")
    return 2 if level == 2 else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="antivirus", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    update = sub.add_parser("update", help="fetch signatures from the central mirror")
    update.add_argument("--initial", action="store_true", help="only when a database is missing")
    sub.add_parser("scan", help="scan the shares and quarantine what is found")
    sub.add_parser("report", help="write the daily report")
    check = sub.add_parser("check", help="alert condition (exit 0 ok, 1 warning, 2 alert)")
    check.add_argument("--max-age-hours", type=float, help="override the signature age threshold")
    check.add_argument("--database-max-age-days", type=float, help="override the build age threshold")
    check.add_argument("--quiet", action="store_true", help="log nothing when all is fine")
    quarantine = sub.add_parser("quarantine", help="list or restore quarantined files")
    qsub = quarantine.add_subparsers(dest="action", required=True)
    qsub.add_parser("list")
    restore = qsub.add_parser("restore")
    restore.add_argument("id")
    restore.add_argument("--to", help="restore to this path instead of the original one")
    args = parser.parse_args(argv)

    config = load_config()
    state_dir(config).mkdir(parents=True, exist_ok=True)
    if args.command == "update":
        return cmd_update(config, args.initial)
    if args.command == "scan":
        return cmd_scan(config)
    if args.command == "report":
        return cmd_report(config)
    if args.command == "check":
        return evaluate(config, args.max_age_hours, args.database_max_age_days, args.quiet)
    if args.action == "list":
        return cmd_quarantine_list(config)
    return cmd_quarantine_restore(config, args.id, args.to)


if __name__ == "__main__":
    sys.exit(main())
