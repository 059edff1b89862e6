"""The wifi_ap role on the fixture schools: golden UCI files, read back and checked against the plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from wifi_helpers import HERE, INVENTORY, ROOT, read_uci, run_playbook

from schoolfleet.fleet import untag_unsafe

GOLDEN = HERE / "golden"
HOSTS = ("0910001g-ap1", "0910001g-ap2", "0910005l-ap1")


@pytest.fixture(scope="module")
def hostvars() -> dict[str, Any]:
    env = {**os.environ, "ANSIBLE_HOME": str(ROOT / ".cache" / "ansible")}
    inventory = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-inventory")), "-i", str(INVENTORY), "--list"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(inventory.stdout, object_hook=untag_unsafe)["_meta"]["hostvars"])


@pytest.mark.parametrize("host", HOSTS)
def test_golden(wifi_build: Path, host: str) -> None:
    rendered = (wifi_build / f"{host}.uci").read_text(encoding="utf-8")
    golden = GOLDEN / f"{host}.uci"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("host", HOSTS)
def test_golden_file_says_what_the_plan_says(host: str, hostvars: dict[str, Any]) -> None:
    config = read_uci((GOLDEN / f"{host}.uci").read_text(encoding="utf-8"))
    assert set(config) == {"network", "wireless"}
    network, wireless = config["network"], config["wireless"]
    plan = hostvars[host]["fleet_network"]
    server = hostvars[f"{host.split('-')[0]}-srv"]["fleet_address"]

    # Management: the AP's own address, tagged in the management VLAN, the school server resolves.
    lan = network["lan"]
    assert lan["device"] == f"br-trunk.{plan['management']['vlan']}"
    assert (lan["proto"], lan["ipaddr"]) == ("static", hostvars[host]["fleet_address"])
    assert (lan["netmask"], lan["gateway"]) == (plan["management"]["netmask"], plan["management"]["gateway"])
    assert lan["dns"] == [server]
    # Every VLAN the AP uses is tagged on the uplink of the bridge, and only those.
    tagged = {int(s["vlan"]) for s in network.values() if s[".type"] == "bridge-vlan"}
    assert all(s["ports"] == ["lan:t"] for s in network.values() if s[".type"] == "bridge-vlan")
    assert tagged == {plan["management"]["vlan"], plan["wifi"]["vlan"], plan["pedagogy"]["vlan"]}
    assert network["sf_trunk"] == {".type": "device", "type": "bridge", "name": "br-trunk", "ports": ["lan"]}

    populations: dict[str, int] = {}
    radios_of: dict[str, set[str]] = {}
    for name, section in wireless.items():
        if section[".type"] != "wifi-iface":
            continue
        # The SSID's network is an address-less interface on the bridge VLAN of its population.
        interface = network[str(section["network"])]
        assert interface["proto"] == "none"
        vid = int(str(interface["device"]).removeprefix("br-trunk."))
        assert vid in tagged
        populations[str(section["ssid"])] = vid
        radios_of.setdefault(str(section["ssid"]), set()).add(str(section["device"]))
        assert wireless[str(section["device"])][".type"] == "wifi-device"
        # No secret in the file: the push task puts them on the device.
        assert not {"auth_secret", "acct_secret", "key"} & set(section), name
        if section["encryption"] in ("wpa2+ccmp", "wpa3-mixed", "wpa3"):
            assert (section["auth_server"], section["auth_port"]) == (server, "1812")
            assert (section["acct_server"], section["acct_port"]) == (server, "1813")
            assert section["nasid"] == host
    assert populations["ecole-eleves"] == plan["wifi"]["vlan"]
    assert populations["ecole-enseignants"] == plan["pedagogy"]["vlan"]
    assert radios_of["ecole-eleves"] == radios_of["ecole-enseignants"] == {"radio0", "radio1"}
    pupils = [s for s in wireless.values() if s.get("ssid") == "ecole-eleves"]
    teachers = [s for s in wireless.values() if s.get("ssid") == "ecole-enseignants"]
    assert {s["encryption"] for s in pupils} == {"wpa2+ccmp"}
    assert {s["encryption"] for s in teachers} == {"wpa3-mixed"}
    assert all(s.get("isolate") == "1" for s in pupils)
    assert not any("isolate" in s for s in teachers)
    # The radios' on/off belongs to the schedule, never to this file.
    assert not any("disabled" in s for s in wireless.values())
    if host == "0910005l-ap1":
        assert radios_of["ecole-tablettes"] == {"radio1"}
        tablets = [s for s in wireless.values() if s.get("ssid") == "ecole-tablettes"]
        assert tablets[0]["encryption"] == "sae-mixed"
    else:
        assert "ecole-tablettes" not in populations


def test_neighbouring_access_points_use_different_channels() -> None:
    first = read_uci((GOLDEN / "0910001g-ap1.uci").read_text(encoding="utf-8"))["wireless"]
    second = read_uci((GOLDEN / "0910001g-ap2.uci").read_text(encoding="utf-8"))["wireless"]
    for radio in ("radio0", "radio1"):
        assert first[radio]["channel"] != second[radio]["channel"]
        assert first[radio]["country"] == "FR"
    assert (first["radio0"]["channel"], first["radio1"]["channel"]) == ("1", "36")
    assert first["radio1"]["htmode"] == "VHT20"


def test_golden_files_read_the_same_with_the_pushers_parser() -> None:
    from schoolfleet.wifi import uci

    for host in HOSTS:
        text = (GOLDEN / f"{host}.uci").read_text(encoding="utf-8")
        ours = read_uci(text)
        theirs = uci.parse(text)
        for package, sections in ours.items():
            assert [s.name for s in theirs[package].sections] == list(sections)
            for section in theirs[package].sections:
                assert {".type": section.type, **section.options} == sections[str(section.name)]


def _fails(*extra: str) -> str:
    result = run_playbook(
        "render.yml", "-e", "wifi_build_dir=/nonexistent/never-written", *extra, check=False
    )
    assert result.returncode != 0, result.stdout
    return result.stdout + result.stderr


def test_an_access_point_of_a_school_without_the_wifi_option_is_refused() -> None:
    output = _fails("--limit", "0910001g-ap1", "-e", "wifi_ap_wifi_option=false")
    assert "0910001g-ap1: wifi option: school 0910001G belongs to a member without the Wi-Fi option" in output
    assert "Create the build directory" not in output


def test_a_vlan_missing_from_the_plan_is_refused() -> None:
    extra = json.dumps(
        {"wifi_ap_extra_ssids": [{"id": "guests", "ssid": "ecole-invites", "population": "guests",
                                  "vlan": "guest", "security": "wpa2-psk", "key": "guests"}]}
    )  # fmt: skip
    output = _fails("--limit", "0910001g-ap2", "-e", extra)
    assert (
        "0910001g-ap2: ssids[2].vlan (ecole-invites): VLAN 'guest' is not in the plan of school 0910001G"
        in output
    )


def test_an_unknown_family_is_refused() -> None:
    output = _fails("--limit", "0910005l-ap1", "-e", "wifi_ap_family=unifi")
    assert "0910005l-ap1: family: unsupported access-point family 'unifi'" in output


def test_the_family_is_the_catalogues() -> None:
    # The register's catalogue gives the family (fleet_device_family): one the fleet has no renderer
    # for stops the access point, naming it and its model.
    output = _fails("--limit", "0910005l-ap1", "-e", "fleet_device_family=aruba_instant")
    assert (
        "0910005l-ap1: family: unsupported access-point family 'aruba_instant' for model 'Aruba AP-303'"
        in output
    )


def test_a_push_without_the_radius_secret_stops_before_contacting_the_device() -> None:
    result = run_playbook(
        "render.yml", "-e", "wifi_build_dir=/tmp/never", "-e", "wifi_ap_push=true",
        "--limit", "0910001g-ap1", check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "0910001g-ap1: radius: 16 to 128 characters are needed, it has 0" in output
    assert "Compare the access point" not in output
