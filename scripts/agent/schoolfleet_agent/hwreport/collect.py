"""What a workstation says about itself, read from /sys and /proc (and dmidecode when present).

Every path is taken under `root` so that the tests can hand over a fake tree. Nothing here needs
root except the serial numbers (/sys/class/dmi/id/product_serial is mode 0400): the service runs
as root; run by hand as a user, the report just lacks them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from schoolfleet_agent import __version__
from schoolfleet_agent.hwreport import SCHEMA
from schoolfleet_agent.names import normalize_mac

# What firmware writes when the maker filled nothing in: no better than no value.
PLACEHOLDERS = {
    "",
    "0",
    "00000000",
    "0123456789",
    "123456789",
    "default string",
    "none",
    "not applicable",
    "not specified",
    "n/a",
    "na",
    "o.e.m.",
    "oem",
    "system manufacturer",
    "system product name",
    "system serial number",
    "system version",
    "to be filled by o.e.m.",
    "unknown",
    "x.x",
}
# Block devices that are not disks of the machine.
SKIPPED_DISK_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "zd")
RTF_UP = 0x0001
DMIDECODE_KEYWORDS = {
    "serial": "system-serial-number",
    "vendor": "system-manufacturer",
    "model": "system-product-name",
}

Runner = Callable[[list[str]], str | None]


def clean(value: str | None) -> str | None:
    """A firmware or sysfs string, stripped; None for empty and placeholder values."""
    if value is None:
        return None
    text = "".join(ch for ch in value if ch.isprintable()).strip()
    return None if text.lower() in PLACEHOLDERS else text


def read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def run_command(command: list[str]) -> str | None:
    """The command's standard output, None when it cannot run or fails."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def default_route_interface(root: Path) -> str | None:
    """The interface of the IPv4 default route with the lowest metric (/proc/net/route), else IPv6's."""
    best: tuple[int, str] | None = None
    for line in (read(root / "proc/net/route") or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            destination, flags, metric = int(fields[1], 16), int(fields[3], 16), int(fields[6])
            mask = int(fields[7], 16)
        except ValueError:
            continue
        if destination == 0 and mask == 0 and flags & RTF_UP and (best is None or metric < best[0]):
            best = (metric, fields[0])
    if best:
        return best[1]
    for line in (read(root / "proc/net/ipv6_route") or "").splitlines():
        fields = line.split()
        # destination, prefix length, ..., metric (field 5), ..., flags (8), device (9)
        if len(fields) >= 10 and fields[0] == "0" * 32 and fields[1] == "00" and fields[9] != "lo":
            flags = int(fields[8], 16)
            if flags & RTF_UP:
                metric = int(fields[5], 16)
                if best is None or metric < best[0]:
                    best = (metric, fields[9])
    return best[1] if best else None


def interface_mac(root: Path, interface: str) -> str | None:
    return normalize_mac(read(root / "sys/class/net" / interface / "address") or "")


def physical_interfaces(root: Path) -> list[str]:
    """Interfaces backed by a device (not lo, bridges, veth...), by name."""
    folder = root / "sys/class/net"
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError:
        return []
    return [name for name in names if (folder / name / "device").exists()]


def primary_mac(root: Path) -> tuple[str | None, str | None]:
    """(MAC, interface): the default route's interface, else the first physical one with a MAC."""
    interface = default_route_interface(root)
    if interface:
        mac = interface_mac(root, interface)
        if mac:
            return mac, interface
    for name in physical_interfaces(root):
        mac = interface_mac(root, name)
        if mac:
            return mac, name
    return None, None


def scsi_serial(device: Path) -> str | None:
    """The unit serial number page (VPD 0x80) of a SCSI/SATA disk: 4 header bytes, then ASCII."""
    try:
        raw = (device / "vpd_pg80").read_bytes()
    except OSError:
        return None
    return clean(raw[4:].decode("ascii", "replace")) if len(raw) > 4 else None


def disks(root: Path) -> list[dict[str, Any]]:
    """The machine's fixed disks: name, model, serial, size in bytes, rotational, transport."""
    folder = root / "sys/block"
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(SKIPPED_DISK_PREFIXES):
            continue
        base = folder / name
        if read(base / "removable") == "1":
            continue
        sectors = read(base / "size")
        size = int(sectors) * 512 if sectors and sectors.isdigit() else None
        if not size:
            continue
        device = base / "device"
        serial = clean(read(device / "serial")) or scsi_serial(device)
        rotational = read(base / "queue/rotational")
        found.append(
            {
                "name": name,
                "model": clean(read(device / "model")),
                "serial": serial,
                "size_bytes": size,
                "rotational": rotational == "1" if rotational in ("0", "1") else None,
                "transport": transport(name),
            }
        )
    return found


def transport(name: str) -> str:
    for prefix, kind in (("nvme", "nvme"), ("mmcblk", "mmc"), ("vd", "virtio"), ("xvd", "xen")):
        if name.startswith(prefix):
            return kind
    return "scsi"


def memory_bytes(root: Path) -> int | None:
    for line in (read(root / "proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1]) * 1024
    return None


def dmidecode_values(runner: Runner, dmidecode: str | None) -> dict[str, str | None]:
    if not dmidecode:
        return {}
    values: dict[str, str | None] = {}
    for key, keyword in DMIDECODE_KEYWORDS.items():
        output = runner([dmidecode, "-s", keyword])
        # dmidecode prints comment lines ("# ...") before the value on some firmware.
        lines = [line for line in (output or "").splitlines() if line.strip() and not line.startswith("#")]
        values[key] = clean(lines[0]) if lines else None
    return values


def collect(
    root: Path = Path("/"),
    runner: Runner = run_command,
    dmidecode: str | None = None,
    hostname: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The report of this machine (see receiver.validate_report for the fields)."""
    root = Path(root)
    if dmidecode is None and root == Path("/"):
        dmidecode = shutil.which("dmidecode")
    dmi = root / "sys/class/dmi/id"
    sysfs = {
        "serial": clean(read(dmi / "product_serial")),
        "vendor": clean(read(dmi / "sys_vendor")),
        "model": clean(read(dmi / "product_name")),
    }
    decoded = dmidecode_values(runner, dmidecode) if not all(sysfs.values()) else {}
    mac, interface = primary_mac(root)
    moment = now or dt.datetime.now(dt.UTC)
    return {
        "schema": SCHEMA,
        "hostname": hostname or socket.gethostname(),
        "mac": mac,
        "interface": interface,
        "serial": sysfs["serial"] or decoded.get("serial"),
        "vendor": sysfs["vendor"] or decoded.get("vendor"),
        "model": sysfs["model"] or decoded.get("model"),
        "board_serial": clean(read(dmi / "board_serial")),
        "bios_version": clean(read(dmi / "bios_version")),
        "memory_bytes": memory_bytes(root),
        "disks": disks(root),
        "agent_version": __version__,
        "collected_at": moment.isoformat(timespec="seconds"),
    }
