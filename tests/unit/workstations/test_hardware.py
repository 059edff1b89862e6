"""The hardware reconciliation: the school servers' report indexes against the small fixture register.

The register (tests/inventory/fixtures/small) has, on 2026-11-15: at 0910001G SF-000016 delivered
(a4:bb:6d:00:00:16, Dell OptiPlex 3000 Micro, P0016), SF-000017 retired with its MAC, SF-000018 not
installed; at 0910002H the specific workstation SF-000032 (f0:18:98:00:00:32, Apple iMac 24, X0032);
at 0450001G SF-000042, billable only (no MAC, serial L0042).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from schoolfleet.register import load_register
from schoolfleet.workstations.__main__ import main
from schoolfleet.workstations.hardware import (
    Finding,
    SchoolIndex,
    gather,
    host_pattern,
    indexes_from_events,
    reconcile,
    same_model,
    school_servers,
)

SMALL = Path(__file__).resolve().parents[2] / "inventory" / "fixtures" / "small"
NOW = dt.datetime(2026, 11, 15, 18, 0, tzinfo=dt.UTC)
RECENT = "2026-11-14T07:55:02+00:00"


def _report(mac: str, serial: str, model: str, vendor: str = "", received: str = RECENT) -> dict[str, Any]:
    return {"mac": mac, "serial": serial, "vendor": vendor, "model": model, "received_at": received,
            "from": "10.128.4.10"}  # fmt: skip


def _index(uai: str, *reports: dict[str, Any]) -> SchoolIndex:
    return SchoolIndex(uai, {report["mac"]: report for report in reports})


@pytest.fixture(scope="module")
def register() -> Any:
    return load_register(SMALL / "register")


def test_a_fleet_that_agrees_gives_nothing(register: Any) -> None:
    indexes = [
        _index("0910001G", _report("a4:bb:6d:00:00:16", "P0016", "OptiPlex 3000", "Dell Inc.")),
        _index("0910002H", _report("f0:18:98:00:00:32", "x0032", "iMac 24")),
        _index("0450001G"),
    ]
    assert reconcile(register, indexes, NOW) == []


def test_every_kind_of_difference(register: Any) -> None:
    indexes = [
        _index(
            "0910001G",
            _report("a4:bb:6d:00:00:16", "P0016", "OptiPlex 3000", "Dell Inc."),
            _report("a4:bb:6d:00:00:17", "P0017", "OptiPlex 3000", "Dell Inc."),
            _report("52:54:00:12:34:56", "", "Standard PC (i440FX + PIIX, 1996)", "QEMU"),
        ),
        _index(
            "0910002H",
            _report("f0:18:98:00:00:32", "X0099", "iMac21,1", "Apple Inc.", received="2026-10-01T08:00:00Z"),
            _report("a4:bb:6d:00:00:16", "P0016", "OptiPlex 3000", "Dell Inc."),
        ),
        _index("0450001G", _report("98:fa:9b:00:00:42", "L0042", "ThinkCentre M70q", "LENOVO")),
        SchoolIndex("0910004K", None, "0910004k-srv: unreachable: Failed to connect to the host via ssh"),
    ]
    findings = reconcile(register, indexes, NOW)
    assert [(f.kind, f.school, f.tag, f.mac) for f in findings] == [
        ("no_report", "0910004K", "", ""),
        ("unregistered", "0910001G", "", "52:54:00:12:34:56"),
        ("mac_mismatch", "0450001G", "SF-000042", "98:fa:9b:00:00:42"),
        ("serial_mismatch", "0910002H", "SF-000032", "f0:18:98:00:00:32"),
        ("model_mismatch", "0910002H", "SF-000032", "f0:18:98:00:00:32"),
        ("wrong_school", "0910002H", "SF-000016", "a4:bb:6d:00:00:16"),
        ("retired_seen", "0910001G", "SF-000017", "a4:bb:6d:00:00:17"),
        ("not_seen", "0910002H", "SF-000032", "f0:18:98:00:00:32"),
    ]
    by_kind = {f.kind: f for f in findings}
    assert by_kind["unregistered"].detail == (
        "QEMU Standard PC (i440FX + PIIX, 1996), serial unknown, from 10.128.4.10"
    )
    assert by_kind["mac_mismatch"].register == "" and by_kind["mac_mismatch"].reported == "98:fa:9b:00:00:42"
    assert "without a MAC (not delivered)" in by_kind["mac_mismatch"].detail
    assert (by_kind["serial_mismatch"].register, by_kind["serial_mismatch"].reported) == ("X0032", "X0099")
    assert (by_kind["model_mismatch"].register, by_kind["model_mismatch"].reported) == (
        "Apple iMac 24",
        "Apple Inc. iMac21,1",
    )
    assert by_kind["wrong_school"].register == "0910001G"
    assert by_kind["retired_seen"].detail == "retired on 2022-08-29"
    assert by_kind["not_seen"].detail == "last report 45 days ago"
    assert by_kind["not_seen"].last_seen == "2026-10-01T08:00:00+00:00"
    assert "unreachable" in by_kind["no_report"].detail


def test_a_serial_registered_with_another_mac(register: Any) -> None:
    """A new network card, or a swapped machine: the serial is SF-000016's, the MAC is not."""
    indexes = [_index("0910001G", _report("a4:bb:6d:00:99:99", "P0016", "OptiPlex 3000"))]
    findings = reconcile(register, indexes, NOW)
    assert [(f.kind, f.tag, f.register, f.reported) for f in findings] == [
        ("mac_mismatch", "SF-000016", "a4:bb:6d:00:00:16", "a4:bb:6d:00:99:99"),
        ("not_seen", "SF-000016", "", ""),
    ]
    assert findings[1].detail == "never reported"


def test_stale_days_and_the_newly_installed(register: Any) -> None:
    late = [
        _index(
            "0910001G",
            _report("a4:bb:6d:00:00:16", "P0016", "OptiPlex 3000", received="2026-11-05T08:00:00Z"),
        )
    ]
    assert reconcile(register, late, NOW, stale_days=14) == []
    assert [f.kind for f in reconcile(register, late, NOW, stale_days=7)] == ["not_seen"]
    # A week after it was installed, a machine that never reported may still be in its box.
    week_after = dt.datetime(2022, 9, 5, tzinfo=dt.UTC)
    assert reconcile(register, [_index("0910001G")], week_after) == []
    month_after = dt.datetime(2022, 9, 30, tzinfo=dt.UTC)
    assert [(f.kind, f.tag) for f in reconcile(register, [_index("0910001G")], month_after)] == [
        ("not_seen", "SF-000016")
    ]


def test_only_the_schools_gathered_are_compared(register: Any) -> None:
    # 0910002H's specific workstation never reported, but its server was not asked: nothing said.
    assert reconcile(register, [_index("0450001G")], NOW) == []


@pytest.mark.parametrize(
    ("register_model", "reported", "same"),
    [
        ("Dell OptiPlex 3000 Micro", "OptiPlex 3000", True),
        ("Dell OptiPlex 3000 Micro", "optiplex  3000 micro", True),
        ("Dell OptiPlex 3000 Micro", "OptiPlex 7000", False),
        ("Lenovo ThinkCentre M70q", "ThinkCentre M70q Gen 2", False),
        ("HP ProDesk 400 G7", "", False),
    ],
)
def test_model_words(register_model: str, reported: str, same: bool) -> None:
    assert same_model(register_model, reported) is same


def test_indexes_from_an_ad_hoc_slurp(register: Any) -> None:
    servers = school_servers(register)
    assert servers["0910001g-srv"] == "0910001G"
    index = {"reports": {"a4:bb:6d:00:00:16": _report("a4:bb:6d:00:00:16", "P0016", "OptiPlex 3000")}}
    content = base64.b64encode(json.dumps(index).encode()).decode()
    events = [
        {"event": "playbook_on_start", "event_data": {}},
        {"event": "runner_on_ok", "event_data": {"host": "0910001g-srv", "res": {"content": content}}},
        {
            "event": "runner_on_failed",
            "event_data": {"host": "0910002h-srv", "res": {"msg": "file not found: /x"}},
        },
        {
            "event": "runner_on_unreachable",
            "event_data": {"host": "0450001g-srv", "res": {"msg": "ssh: timeout"}},
        },
        {"event": "runner_on_ok", "event_data": {"host": "central", "res": {"content": content}}},
        {"event": "runner_on_ok", "event_data": {"host": "0910004k-srv", "res": {"content": "bm90IGpzb24="}}},
    ]
    indexes = {index.uai: index for index in indexes_from_events(events, servers, "/x")}
    assert set(indexes) == {"0910001G", "0910002H", "0450001G", "0910004K"}
    assert list(indexes["0910001G"].reports or {}) == ["a4:bb:6d:00:00:16"]
    assert (indexes["0910002H"].reports, indexes["0910002H"].problem) == (
        None,
        "0910002h-srv: cannot read the index: file not found: /x",
    )
    assert indexes["0450001G"].problem == "0450001g-srv: unreachable: ssh: timeout"
    assert indexes["0910004K"].reports is None and "not JSON" in indexes["0910004K"].problem


def test_host_patterns() -> None:
    assert host_pattern(None) == host_pattern("all") == "school_servers"
    assert host_pattern("commune_91001") == "school_servers:&commune_91001"


def test_gather_reads_the_indexes_through_ansible(register: Any, tmp_path: Path) -> None:
    """A real ad hoc slurp through ansible-runner, on hosts reached with the local connection."""
    index = tmp_path / "index.json"
    index.write_text(
        json.dumps({"reports": {"a4:bb:6d:00:00:16": _report("a4:bb:6d:00:00:16", "P0016", "x")}})
    )
    inventory = tmp_path / "hosts.yml"
    # The controller's own Python for the module: discovery here may find a pyenv shim, which fails.
    local = f"{{ansible_connection: local, ansible_python_interpreter: {sys.executable}}}"
    inventory.write_text(
        f"school_servers:\n  hosts:\n    0910001g-srv: {local}\n    0910002h-srv: {local}\n"
        "  children:\n    school_0910001g:\n      hosts:\n        0910001g-srv:\n"
    )
    servers = school_servers(register)
    gathered = {
        i.uai: i for i in gather(inventory, "school_0910001g", servers, path=str(index), become=False)
    }
    assert list(gathered) == ["0910001G"]
    assert list(gathered["0910001G"].reports or {}) == ["a4:bb:6d:00:00:16"]
    missing = {
        i.uai: i for i in gather(inventory, None, servers, path=str(tmp_path / "none.json"), become=False)
    }
    assert set(missing) == {"0910001G", "0910002H"}
    assert all(i.reports is None and "cannot read the index" in i.problem for i in missing.values())


def _fetched(tmp_path: Path, host: str, *reports: dict[str, Any]) -> Path:
    directory = tmp_path / "fetched" / host / "var" / "lib" / "schoolfleet" / "hwreport"
    directory.mkdir(parents=True)
    (directory / "index.json").write_text(json.dumps({"reports": {r["mac"]: r for r in reports}}))
    return tmp_path / "fetched"


def _cli(*argv: str) -> list[str]:
    return [*argv, "--register", str(SMALL / "register"), "--at", NOW.isoformat()]


def test_the_command_in_three_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fetched = _fetched(
        tmp_path, "0910001g-srv", _report("52:54:00:12:34:56", "QEMU01", "Standard PC", "QEMU")
    )
    _fetched(tmp_path, "0910002h-srv", _report("f0:18:98:00:00:32", "X0032", "iMac 24"))
    assert main(_cli("--index-dir", str(fetched))) == 1
    text = capsys.readouterr().out
    assert text.startswith("2 school(s) compared, stale after 14 days: 1 unregistered, 1 not_seen\n")
    assert "unregistered  0910001G" in text and "52:54:00:12:34:56" in text
    assert main(_cli("--index-dir", str(fetched), "--format", "json")) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["schools"] == ["0910001G", "0910002H"]
    assert payload["summary"]["unregistered"] == 1 and payload["summary"]["not_seen"] == 1
    assert payload["findings"][0] == Finding(
        "unregistered", "0910001G", "", "52:54:00:12:34:56", "", "QEMU01", RECENT,
        "QEMU Standard PC, serial QEMU01, from 10.128.4.10",
    ).as_dict()  # fmt: skip
    out = tmp_path / "drift.csv"
    assert main(_cli("--index-dir", str(fetched), "--format", "csv", "--out", str(out))) == 1
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "kind;school;tag;mac;register;reported;last_seen;detail"
    assert lines[2] == "not_seen;0910001G;SF-000016;a4:bb:6d:00:00:16;;;;never reported"
    assert capsys.readouterr().out == f"written: {out} (2 finding(s))\n"


def test_the_command_says_when_all_agree_and_when_nothing_was_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fetched = _fetched(tmp_path, "0910002h-srv", _report("f0:18:98:00:00:32", "X0032", "iMac 24"))
    assert main(_cli("--index-dir", str(fetched))) == 0
    assert capsys.readouterr().out == "1 school(s) compared, stale after 14 days: no finding\n"
    assert main(_cli("--index-dir", str(tmp_path / "empty"))) == 2
    assert "no school server's index to compare" in capsys.readouterr().err
