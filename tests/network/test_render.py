"""Rendered configurations of the fixture schools: golden files, parsed back, bad input refused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from network_helpers import HERE, run_playbook

from schoolfleet.network.drift import config_paths

GOLDEN = HERE / "golden"
DEVICES = [
    "ec-jaures-sw1",
    "ec-jaures-sw2",
    "ec-jaures-rt1",
    "ec-curie-sw1",
    "ec-curie-rt1",
    "ec-pasteur-rt1",
]


@pytest.mark.parametrize("device", DEVICES)
def test_rendered_file_matches_golden(build_dir: Path, device: str) -> None:
    rendered = (build_dir / f"{device}.cfg").read_text()
    golden = GOLDEN / f"{device}.cfg"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.copy(build_dir / f"{device}.cfg", golden)
    assert rendered == golden.read_text(), f"{device}: rendering changed; review it, then UPDATE_GOLDEN=1"


@pytest.fixture(scope="session")
def parsed(build_dir: Path) -> dict[str, Any]:
    run_playbook(
        "parse.yml",
        "-e",
        f"network_build_dir={build_dir}",
        "-l",
        "ec-jaures-sw1:ec-jaures-rt1",
    )
    return {
        d: json.loads((build_dir / f"{d}.parsed.json").read_text())
        for d in ("ec-jaures-sw1", "ec-jaures-rt1")
    }


def test_ios_switch_ports_as_cisco_parses_them(parsed: dict[str, Any]) -> None:
    l2 = {item["name"]: item for item in parsed["ec-jaures-sw1"]["l2"]}
    expected = {**dict.fromkeys(range(1, 15), 10), **dict.fromkeys(range(15, 19), 20)}
    expected |= {**dict.fromkeys(range(19, 23), 30), 23: 99}
    for port, vlan in expected.items():
        assert l2[f"GigabitEthernet0/{port}"]["mode"] == "access"
        assert l2[f"GigabitEthernet0/{port}"]["access"]["vlan"] == vlan
    assert l2["GigabitEthernet0/24"]["mode"] == "trunk"
    assert l2["GigabitEthernet0/24"]["trunk"]["allowed_vlans"] == ["10", "20", "30", "99"]
    l3 = {item["name"]: item for item in parsed["ec-jaures-sw1"]["l3"]}
    assert l3["Vlan99"]["ipv4"] == [{"address": "10.41.99.11/24"}]
    assert parsed["ec-jaures-sw1"]["ntp"]["servers"] == [{"server": "10.0.0.10"}]
    assert parsed["ec-jaures-sw1"]["logging"]["hosts"] == [{"host": "10.0.0.10"}]


def _aces(parsed: dict[str, Any], name: str) -> list[dict[str, Any]]:
    for acl in parsed["acls"][0]["acls"]:
        if acl["name"] == name:
            return list(acl["aces"])
    raise AssertionError(f"no ACL {name}")


def test_ios_router_keeps_pupils_out_of_administration(parsed: dict[str, Any]) -> None:
    router = parsed["ec-jaures-rt1"]
    l3 = {item["name"]: item for item in router["l3"]}
    assert l3["GigabitEthernet0/1.10"]["ipv4"] == [{"address": "10.41.10.1/24"}]
    assert l3["GigabitEthernet0/1.30"]["ipv4"] == [{"address": "10.41.32.1/22"}]
    bound = {item["name"]: item["access_groups"][0]["acls"][0] for item in router["acl_interfaces"]}
    assert bound == {
        "GigabitEthernet0/1.10": {"direction": "in", "name": "FROM-PEDAGOGY"},
        "GigabitEthernet0/1.30": {"direction": "in", "name": "FROM-WIFI"},
    }
    for acl, source in (("FROM-PEDAGOGY", "10.41.10.0"), ("FROM-WIFI", "10.41.32.0")):
        aces = _aces(router, acl)
        # The school server first, then the denies, and only then everything else.
        assert aces[0]["grant"] == "permit" and aces[0]["destination"] == {"host": "10.41.20.5"}
        denied = [a["destination"]["address"] for a in aces if a["grant"] == "deny"]
        assert denied == ["10.41.20.0", "10.41.99.0"]
        assert all(a["source"]["address"] == source for a in aces[:-1])
        assert aces[-1] == {
            "destination": {"any": True},
            "grant": "permit",
            "protocol": "ip",
            "source": {"any": True},
        }


def test_ios_router_relays_dhcp_to_the_school_server(build_dir: Path) -> None:
    paths = config_paths((build_dir / "ec-jaures-rt1.cfg").read_text())
    helpers = {p[0] for p in paths if len(p) == 2 and p[1] == "ip helper-address 10.41.20.5"}
    # Management has no DHCP range, so no relay.
    assert helpers == {f"interface GigabitEthernet0/1.{vlan}" for vlan in (10, 20, 30)}


def test_procurve_switch_vlans(build_dir: Path) -> None:
    paths = set(config_paths((build_dir / "ec-jaures-sw2.cfg").read_text()))
    assert ("vlan 10", "untagged 1-4") in paths
    assert ("vlan 30", "untagged 5") in paths
    assert ("vlan 20", "untagged 6") in paths
    for vlan in (10, 20, 30, 99):
        assert (f"vlan {vlan}", "tagged 8") in paths
    assert ("vlan 99", "ip address 10.41.99.12 255.255.255.0") in paths
    assert not any(p[0] == "interface 7" for p in paths), "port 7 is not in the register"


def test_procurve_router_routes_each_vlan(build_dir: Path) -> None:
    paths = set(config_paths((build_dir / "ec-curie-rt1.cfg").read_text()))
    assert ("ip routing",) in paths
    assert ("vlan 110", "ip helper-address 10.42.20.5") in paths
    assert ("vlan 110", 'ip access-group "FROM-PEDAGOGY" in') in paths
    assert ("vlan 199", "ip address 10.42.99.1 255.255.255.0") in paths
    assert (
        'ip access-list extended "FROM-WIFI"',
        "deny ip 10.42.30.0 0.0.0.255 10.42.20.0 0.0.0.255",
    ) in paths


def test_no_secret_in_rendered_files(build_dir: Path) -> None:
    for device in DEVICES:
        text = (build_dir / f"{device}.cfg").read_text()
        assert not any(line.startswith("snmp-server community") for line in text.splitlines())


@pytest.mark.parametrize(
    ("device", "override", "message"),
    [
        (
            "ec-jaures-sw1",
            {"network_switch_ports": [{"ports": "1-10", "vlan": "pedagogy"}, {"ports": 10, "vlan": "wifi"}]},
            "ec-jaures-sw1: port 10 is assigned twice",
        ),
        (
            "ec-jaures-sw1",
            {"network_switch_ports": [{"ports": 3, "vlan": "cantine"}]},
            "ec-jaures-sw1: port assignment #1 uses VLAN 'cantine', which is not in the school's plan",
        ),
        (
            "ec-curie-sw1",
            {"network_switch_family": "junos"},
            "ec-curie-sw1: unsupported switch family 'junos'",
        ),
        (
            "ec-curie-rt1",
            {"network_router_family": "mikrotik"},
            "ec-curie-rt1: unsupported router family 'mikrotik'",
        ),
    ],
)
def test_bad_register_entry_stops_before_rendering(
    tmp_path: Path, device: str, override: dict[str, Any], message: str
) -> None:
    result = run_playbook(
        "render.yml",
        "-l",
        device,
        "-e",
        f"network_build_dir={tmp_path}",
        "-e",
        json.dumps(override),
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / f"{device}.cfg").exists()
