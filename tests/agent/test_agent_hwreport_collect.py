"""The workstation's report, collected from a fake /sys and /proc tree."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import unittest
from pathlib import Path

from agent_testlib import command_env, hwreport_command, run
from schoolfleet_agent.hwreport import collect

ROUTE = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
wlan0\t00000000\t0100A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
enp3s0\t00000000\t01000A0A\t0003\t0\t0\t100\t00000000\t0\t0\t0
enp3s0\t00000A0A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
"""


def write(root: Path, relative: str, text: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def fake_machine(root: Path) -> None:
    dmi = "sys/class/dmi/id/"
    write(root, dmi + "product_serial", "PF3XK2LM\n")
    write(root, dmi + "sys_vendor", "LENOVO\n")
    write(root, dmi + "product_name", "ThinkCentre M70q\n")
    write(root, dmi + "board_serial", "To Be Filled By O.E.M.\n")
    write(root, dmi + "bios_version", "M3AKT4FA\n")
    write(root, "proc/net/route", ROUTE)
    write(root, "proc/meminfo", "MemTotal:        8000000 kB\nMemFree: 1 kB\n")
    for name, mac, physical in (
        ("lo", "00:00:00:00:00:00", False),
        ("enp3s0", "8C:16:45:AA:BB:01", True),
        ("wlan0", "8c:16:45:aa:bb:02", True),
        ("docker0", "02:42:ac:11:00:02", False),
    ):
        write(root, f"sys/class/net/{name}/address", mac + "\n")
        if physical:
            (root / f"sys/class/net/{name}/device").mkdir(parents=True)
    # An NVMe disk with its serial, a SATA disk with the serial in VPD page 0x80, a USB stick,
    # a loop device and an optical drive.
    write(root, "sys/block/nvme0n1/size", "500118192\n")
    write(root, "sys/block/nvme0n1/removable", "0\n")
    write(root, "sys/block/nvme0n1/queue/rotational", "0\n")
    write(root, "sys/block/nvme0n1/device/model", "SAMSUNG MZVL2512HCJQ-00BL7   \n")
    write(root, "sys/block/nvme0n1/device/serial", "  S64KNX0T123456  \n")
    write(root, "sys/block/sda/size", "1953525168\n")
    write(root, "sys/block/sda/removable", "0\n")
    write(root, "sys/block/sda/queue/rotational", "1\n")
    write(root, "sys/block/sda/device/model", "ST1000DM010-2EP1\n")
    write(root, "sys/block/sda/device/vpd_pg80", b"\x00\x80\x00\x14            Z9A1B2C3")
    write(root, "sys/block/sdb/size", "60062500\n")
    write(root, "sys/block/sdb/removable", "1\n")
    write(root, "sys/block/loop0/size", "1000\n")
    write(root, "sys/block/sr0/size", "2097151\n")


class Collect(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.root = Path(self.tmp.name)
        fake_machine(self.root)
        self.now = dt.datetime(2026, 12, 3, 8, 20, tzinfo=dt.UTC)

    def report(self, **kwargs: object) -> dict[str, object]:
        return collect.collect(self.root, hostname="ws-a00042", now=self.now, **kwargs)  # type: ignore[arg-type]

    def test_the_whole_report(self) -> None:
        report = self.report()
        self.assertEqual(report["mac"], "8c:16:45:aa:bb:01")
        self.assertEqual(report["interface"], "enp3s0")  # the default route with the lowest metric
        self.assertEqual(report["serial"], "PF3XK2LM")
        self.assertEqual(report["vendor"], "LENOVO")
        self.assertEqual(report["model"], "ThinkCentre M70q")
        self.assertIsNone(report["board_serial"])  # a placeholder is no value
        self.assertEqual(report["bios_version"], "M3AKT4FA")
        self.assertEqual(report["memory_bytes"], 8000000 * 1024)
        self.assertEqual(report["hostname"], "ws-a00042")
        self.assertEqual(report["collected_at"], "2026-12-03T08:20:00+00:00")
        self.assertEqual(report["schema"], 1)
        self.assertEqual(
            report["disks"],
            [
                {"name": "nvme0n1", "model": "SAMSUNG MZVL2512HCJQ-00BL7", "serial": "S64KNX0T123456",
                 "size_bytes": 500118192 * 512, "rotational": False, "transport": "nvme"},
                {"name": "sda", "model": "ST1000DM010-2EP1", "serial": "Z9A1B2C3",
                 "size_bytes": 1953525168 * 512, "rotational": True, "transport": "scsi"},
            ],
        )  # fmt: skip

    def test_without_a_default_route_the_first_physical_interface(self) -> None:
        (self.root / "proc/net/route").write_text(ROUTE.splitlines()[0] + "\n")
        report = self.report()
        self.assertEqual((report["interface"], report["mac"]), ("enp3s0", "8c:16:45:aa:bb:01"))

    def test_an_ipv6_only_default_route(self) -> None:
        (self.root / "proc/net/route").write_text(ROUTE.splitlines()[0] + "\n")
        write(self.root, "proc/net/ipv6_route",
              "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
              "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlan0\n")  # fmt: skip
        self.assertEqual(self.report()["interface"], "wlan0")

    def test_dmidecode_fills_what_sysfs_does_not_give(self) -> None:
        (self.root / "sys/class/dmi/id/product_serial").unlink()  # mode 0400: unreadable as a user
        (self.root / "sys/class/dmi/id/sys_vendor").write_text("System manufacturer\n")
        calls: list[list[str]] = []
        answers = {
            "system-serial-number": "# SMBIOS entry point\nPF3XK2LM\n",
            "system-manufacturer": "Dell Inc.\n",
            "system-product-name": "OptiPlex 3000\n",
        }

        def runner(command: list[str]) -> str | None:
            calls.append(command)
            return answers[command[-1]]

        report = self.report(runner=runner, dmidecode="/usr/sbin/dmidecode")
        self.assertEqual(report["serial"], "PF3XK2LM")
        self.assertEqual(report["vendor"], "Dell Inc.")
        self.assertEqual(report["model"], "ThinkCentre M70q")  # sysfs had it
        self.assertEqual(calls[0], ["/usr/sbin/dmidecode", "-s", "system-serial-number"])

    def test_dmidecode_is_not_run_when_sysfs_has_everything(self) -> None:
        def runner(command: list[str]) -> str | None:
            raise AssertionError(command)

        self.assertEqual(self.report(runner=runner, dmidecode="/usr/sbin/dmidecode")["serial"], "PF3XK2LM")

    def test_an_empty_tree_gives_an_empty_report(self) -> None:
        with tempfile.TemporaryDirectory() as empty:
            report = collect.collect(Path(empty), hostname="x", now=self.now)
        self.assertEqual(
            [report[k] for k in ("mac", "serial", "vendor", "model", "disks")], [None] * 4 + [[]]
        )

    def test_send_print_shows_the_report(self) -> None:
        result = run([*hwreport_command(), "send", "--print", "--root", str(self.root)], env=command_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["mac"], "8c:16:45:aa:bb:01")


if __name__ == "__main__":
    unittest.main()
