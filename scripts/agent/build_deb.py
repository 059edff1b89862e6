#!/usr/bin/env python3
"""Build the schoolfleet-agent Debian package from this folder: `make package` runs it.

    python3 scripts/agent/build_deb.py --out .cache/packages

A staging tree gets the Python package (/usr/lib/python3/dist-packages/schoolfleet_agent), one
wrapper per command (/usr/bin), the systemd units (/lib/systemd/system, not enabled: the roles
enable what a host needs), the copyright file, DEBIAN/control, md5sums and the maintainer scripts
(byte-compiling with Debian's py3compile, and removing the bytecode again with py3clean); then
`dpkg-deb --build --root-owner-group`. The version is schoolfleet_agent/VERSION. Reproducible: every
file's time is SOURCE_DATE_EPOCH (default: the last commit touching this folder, else 0), modes
are fixed, files go in sorted order, and dpkg-deb uses the same epoch for the archive.
Standard library only (it runs under any python3 >= 3.11 with dpkg-deb on the PATH).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "schoolfleet-agent"
MODULE = "schoolfleet_agent"
# Command -> the function it runs.
COMMANDS = {
    "schoolfleet-hwreport": ("schoolfleet_agent.hwreport.cli", "main"),
    "schoolfleet-maintenance-window": ("schoolfleet_agent.window", "main"),
}
DESCRIPTION = """\
Description: schoolfleet code for the fleet's servers and workstations
 The shared library of the server-side commands of the schoolfleet project
 (status files, textfile-collector metrics, journal logging, domain and MAC
 normalisation, ClamAV database headers, maintenance windows) and the
 workstations' hardware report (schoolfleet-hwreport send / serve).
 .
 The systemd units are shipped, not enabled."""
POSTINST = """\
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    py3compile -p {package}
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
        # New code for a receiver that runs already; one that does not run stays stopped.
        systemctl try-restart schoolfleet-hwreport-serve.service || true
    fi
fi
"""
PRERM = """\
#!/bin/sh
set -e
py3clean -p {package}
"""
COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: schoolfleet
Files: *
Copyright: the metropolitan authority's shared IT service for the primary schools
License: EUPL-1.2
"""


def version() -> str:
    return (HERE / MODULE / "VERSION").read_text(encoding="ascii").strip()


def source_date_epoch() -> int:
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        result = subprocess.run(
            ["git", "-C", str(HERE), "log", "-1", "--format=%ct", "--", "."],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return 0
    stamp = result.stdout.strip()
    return int(stamp) if result.returncode == 0 and stamp.isdigit() else 0


def python_sources() -> list[Path]:
    """The package's files, relative to this folder: Python modules and VERSION, no bytecode."""
    return sorted(
        path.relative_to(HERE)
        for path in (HERE / MODULE).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix in (".py", "")
        and path.name[0] != "."
    )


def wrapper(module: str, function: str) -> str:
    return f"#!/usr/bin/python3\nimport sys\n\nfrom {module} import {function}\n\nsys.exit({function}())\n"


def put(root: Path, relative: str, data: bytes, mode: int) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(mode)


def stage(root: Path, the_version: str) -> None:
    dist = "usr/lib/python3/dist-packages"
    for source in python_sources():
        put(root, f"{dist}/{source}", (HERE / source).read_bytes(), 0o644)
    for command, (module, function) in sorted(COMMANDS.items()):
        put(root, f"usr/bin/{command}", wrapper(module, function).encode(), 0o755)
    for unit in sorted((HERE / "systemd").glob("*.service")):
        put(root, f"lib/systemd/system/{unit.name}", unit.read_bytes(), 0o644)
    put(root, f"usr/share/doc/{PACKAGE}/copyright", COPYRIGHT.encode(), 0o644)

    files = sorted(p for p in root.rglob("*") if p.is_file())
    installed_kib = sum((p.stat().st_size + 1023) // 1024 for p in files) + len(files)
    md5sums = "".join(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.relative_to(root)}\n" for p in files)
    control = (
        f"Package: {PACKAGE}\n"
        f"Version: {the_version}\n"
        "Architecture: all\n"
        "Maintainer: schoolfleet <schoolfleet@localhost>\n"
        f"Installed-Size: {installed_kib}\n"
        "Depends: python3 (>= 3.11)\n"
        "Suggests: dmidecode\n"
        "Section: admin\n"
        "Priority: optional\n"
        f"{DESCRIPTION}\n"
    )
    put(root, "DEBIAN/control", control.encode(), 0o644)
    put(root, "DEBIAN/md5sums", md5sums.encode(), 0o644)
    put(root, "DEBIAN/postinst", POSTINST.format(package=PACKAGE).encode(), 0o755)
    put(root, "DEBIAN/prerm", PRERM.format(package=PACKAGE).encode(), 0o755)


def build(out_dir: Path, epoch: int | None = None) -> Path:
    """Build the .deb into out_dir; returns its path."""
    the_version = version()
    epoch = source_date_epoch() if epoch is None else epoch
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PACKAGE}_{the_version}_all.deb"
    with tempfile.TemporaryDirectory(prefix="schoolfleet-agent.") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        os.umask(0o022)
        stage(root, the_version)
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_dir():
                path.chmod(0o755)
            os.utime(path, (epoch, epoch), follow_symlinks=False)
        root.chmod(0o755)
        os.utime(root, (epoch, epoch))
        partial = Path(tmp) / target.name
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch))
        subprocess.run(
            ["dpkg-deb", "--build", "--root-owner-group", "-Zxz", str(root), str(partial)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        shutil.move(str(partial), target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the schoolfleet-agent .deb.")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .deb")
    parser.add_argument("--print-version", action="store_true", help="print the version and stop")
    args = parser.parse_args(argv)
    if args.print_version:
        print(version())
        return 0
    print(build(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
