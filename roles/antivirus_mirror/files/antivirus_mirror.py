#!/usr/bin/python3
"""Central ClamAV signature mirror for the school servers.

  antivirus-mirror update    fetch the official databases with cvdupdate (when the central server
                             has internet access and upstream fetching is on), then publish.
  antivirus-mirror publish   publish what the sources hold: the cvdupdate folder and the local
                             import folder (official .cvd/.cld/.cdiff files copied in by hand, and
                             in-house unsigned signature files such as local.ndb).
  antivirus-mirror check     alert condition: exit 2 (ANTIVIRUS-MIRROR-ALERT) when the last
                             successful update is older than the threshold, 1 when the last run
                             failed, 0 otherwise.

Publishing never breaks what the schools fetch: every .cvd/.cld must pass `sigtool --info` (its
digital signature is checked against ClamAV's key), a source that holds nothing valid changes
nothing, files are renamed into place (a reader never sees half a file), and .cdiff patches are
published before the .cvd header that announces them. The school servers' freshclam reads the
.cvd header, then fetches the .cdiff patches it lacks (DatabaseMirror) or the whole .cld/.cvd
(PrivateMirror); in-house files are fetched with DatabaseCustomURL.

Settings: /etc/antivirus-mirror/antivirus-mirror.json (written by the Ansible role).
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

CONFIG_PATH = Path(os.environ.get("ANTIVIRUS_MIRROR_CONFIG", "/etc/antivirus-mirror/antivirus-mirror.json"))
SIGNED = (".cvd", ".cld")
PATCHES = (".cdiff", ".sign")
CUSTOM = (
    ".hdb", ".hsb", ".hdu", ".hsu", ".mdb", ".msb", ".mdu", ".msu", ".ndb", ".ndu", ".ldb", ".ldu",
    ".idb", ".cdb", ".cbc", ".pdb", ".gdb", ".wdb", ".ftm", ".fp", ".sfp", ".ign", ".ign2", ".yar",
    ".yara", ".crb", ".cat",
)  # fmt: skip
CRIT, ERR, WARNING, NOTICE, INFO = 2, 3, 4, 5, 6


def now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def log(priority: int, message: str) -> None:
    if os.environ.get("JOURNAL_STREAM"):
        print(f"<{priority}>{message}", flush=True)
    else:
        print(message, file=sys.stderr, flush=True)


def read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
            return data
    except (OSError, ValueError):
        return {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def cvd_version(path: Path) -> int:
    with path.open("rb") as handle:
        fields = handle.read(512).decode("ascii", "replace").split(":")
    return int(fields[2]) if len(fields) > 8 and fields[0] == "ClamAV-VDB" else -1


def cvd_build_epoch(path: Path) -> int | None:
    with path.open("rb") as handle:
        fields = handle.read(512).decode("ascii", "replace").strip("\0 \n").split(":")
    try:
        return int(fields[8].strip()) if fields[0] == "ClamAV-VDB" else None
    except (IndexError, ValueError):
        return None


def valid(path: Path) -> str | None:
    """None when the file may be published, else why not."""
    if path.stat().st_size == 0:
        return "empty file"
    if path.suffix in SIGNED:
        result = subprocess.run(["sigtool", f"--info={path}"], capture_output=True, text=True, check=False)
        if result.returncode != 0 or "Verification OK" not in result.stdout:
            return "signature verification failed (sigtool --info)"
    return None


def collect(config: dict[str, Any]) -> tuple[dict[str, Path], list[str]]:
    """The file set to publish: name -> source path, and the problems found."""
    sources = []
    if config["upstream"]:
        sources.append(Path(config["cvdupdate_dir"]) / "database")
    sources.append(Path(config["local_dir"]))
    chosen: dict[str, Path] = {}
    problems: list[str] = []
    for source in sources:
        if not source.is_dir():
            continue
        for path in sorted(source.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            if not path.name.endswith(SIGNED + PATCHES + CUSTOM):
                continue
            reason = valid(path)
            if reason:
                problems.append(f"{path}: {reason}: not published")
                continue
            previous = chosen.get(path.name)
            if previous and path.suffix in SIGNED and cvd_version(previous) >= cvd_version(path):
                continue  # keep the newer signed database whichever folder it came from
            chosen[path.name] = path
    return chosen, problems


def publish(config: dict[str, Any]) -> tuple[bool, list[str]]:
    """Bring the publish folder to the collected set. Returns (changed, problems)."""
    target = Path(config["publish_dir"])
    target.mkdir(parents=True, exist_ok=True)
    chosen, problems = collect(config)
    if not any(name.endswith(SIGNED + CUSTOM) for name in chosen):
        problems.append("no valid database in any source: the published files are left as they are")
        return False, problems
    changed = False
    # Patches first, so that a school reading a new header always finds the patches it announces.
    order = sorted(chosen, key=lambda name: (name.endswith(SIGNED), name))
    for name in order:
        source, dest = chosen[name], target / name
        if dest.exists() and filecmp.cmp(source, dest, shallow=False):
            continue
        tmp = target / f".{name}.tmp"
        shutil.copyfile(source, tmp)
        tmp.chmod(0o644)
        tmp.replace(dest)
        changed = True
        version = f" version {cvd_version(dest)}" if name.endswith(SIGNED) else ""
        log(NOTICE, f"published {name}{version}")
    for dest in sorted(target.iterdir()):
        if dest.is_file() and dest.name.endswith(SIGNED + PATCHES + CUSTOM) and dest.name not in chosen:
            dest.unlink()
            changed = True
            log(NOTICE, f"removed {dest.name} (no longer in any source)")
    return changed, problems


def fetch_upstream(config: dict[str, Any]) -> str | None:
    """Run cvdupdate; None on success, else the error."""
    command = ["cvdupdate", "update", "--config", str(Path(config["cvdupdate_dir"]) / "config.json")]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=int(config["upstream_timeout"]))  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"cvdupdate did not finish within {config['upstream_timeout']} s"
    for line in (result.stdout + result.stderr).splitlines():
        log(INFO, f"cvdupdate: {line}")
    if result.returncode != 0:
        return f"cvdupdate exited with {result.returncode}"
    return None


def cmd_update(config: dict[str, Any], fetch: bool) -> int:
    started = now()
    state_path = Path(config["state_dir"]) / "state.json"
    state = read_json(state_path)
    errors = []
    if fetch and config["upstream"]:
        error = fetch_upstream(config)
        if error:
            errors.append(error)
    changed, problems = publish(config)
    errors += problems
    state["last_attempt"] = started.isoformat(timespec="seconds")
    state["files"] = sorted(
        p.name for p in Path(config["publish_dir"]).iterdir() if not p.name.startswith(".")
    )
    if errors:
        state.update({"last_result": "failed", "last_errors": errors})
        for error in errors:
            log(ERR, f"ANTIVIRUS-MIRROR-UPDATE-FAILED {error}")
    else:
        state.update({"last_result": "ok", "last_ok": started.isoformat(timespec="seconds"),
                      "last_ok_epoch": started.timestamp()})  # fmt: skip
        state.pop("last_errors", None)
    write_json(state_path, state)
    check(config, None)
    print("changed" if changed else "unchanged")
    return 1 if errors else 0


def check(config: dict[str, Any], max_age_hours: float | None) -> int:
    threshold = float(config["max_age_hours"] if max_age_hours is None else max_age_hours)
    state = read_json(Path(config["state_dir"]) / "state.json")
    last_ok = state.get("last_ok_epoch")
    age = None if last_ok is None else (now().timestamp() - float(last_ok)) / 3600
    builds = [
        epoch
        for path in Path(config["publish_dir"]).glob("*.c[vl]d")
        if (epoch := cvd_build_epoch(path)) is not None
    ]
    newest_days = (now().timestamp() - max(builds)) / 86400 if builds else None
    alert_file = Path(config["state_dir"]) / "alert"
    if age is None or age > threshold:
        what = "never updated" if age is None else f"last successful update {age:.1f} h ago"
        message = f"ANTIVIRUS-MIRROR-ALERT {what} (threshold {threshold:g} h)"
        if not alert_file.exists() and config.get("alert_command"):
            env = dict(os.environ, ANTIVIRUS_ALERT=message, ANTIVIRUS_HOST=socket.gethostname())
            subprocess.run(["/bin/sh", "-c", config["alert_command"]], env=env, check=False)
        alert_file.write_text(message + "\n", encoding="utf-8")
        log(CRIT, message)
        level = 2
    else:
        if alert_file.exists():
            alert_file.unlink()
            log(NOTICE, "ANTIVIRUS-MIRROR-ALERT-CLEARED")
        level = 1 if state.get("last_result") == "failed" else 0
        newest = "none" if newest_days is None else f"{newest_days:.1f} days"
        log(WARNING if level else INFO, f"mirror {'WARNING last run failed' if level else 'OK'}: last update "
            f"{age:.1f} h ago, newest database build {newest} old")  # fmt: skip
    return level


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="antivirus-mirror", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update", help="fetch upstream (if enabled), then publish")
    sub.add_parser("publish", help="publish the sources without fetching")
    check_parser = sub.add_parser("check", help="alert condition (exit 0 ok, 1 warning, 2 alert)")
    check_parser.add_argument("--max-age-hours", type=float)
    args = parser.parse_args(argv)
    with CONFIG_PATH.open(encoding="utf-8") as handle:
        config: dict[str, Any] = json.load(handle)
    Path(config["state_dir"]).mkdir(parents=True, exist_ok=True)
    if args.command == "check":
        return check(config, args.max_age_hours)
    return cmd_update(config, fetch=args.command == "update")


if __name__ == "__main__":
    sys.exit(main())
