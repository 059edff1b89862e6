"""Stormshield SNS: the rendered file parsed back, and the push through Stormshield's own client
(stormshield.sns.sslclient) at the connection level, against a local stand-in of the appliance's
HTTPS API that keeps its configuration (tests/network/sns_standin.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from network_helpers import run_playbook
from sns_standin import Appliance, serve

from schoolfleet.network import sns
from schoolfleet.network.drift import drift
from schoolfleet.network.sns_push import PushResult, SnsCommandError, open_client, push

DEVICE = "ec-pasteur-rt1"


@pytest.fixture
def rendered(build_dir: Path) -> str:
    return (build_dir / f"{DEVICE}.cfg").read_text()


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[tuple[Appliance, int, Path]]:
    box = Appliance()
    with serve(box, tmp_path) as (port, cabundle):
        yield box, port, cabundle


def _client(port: int, cabundle: Path, password: str = "sns-test-password") -> Any:
    return open_client(host="127.0.0.1", port=port, user="admin", password=password, cabundle=str(cabundle))


def _push(
    appliance: tuple[Appliance, int, Path], text: str, backup: Path, *, check: bool = False
) -> PushResult:
    _, port, cabundle = appliance
    client = _client(port, cabundle)
    try:
        return push(client, text, backup, check=check)
    finally:
        client.disconnect()


def test_the_render_parses_back_into_the_schools_plan(rendered: str) -> None:
    commands = sns.parse_config(rendered)
    interfaces = {
        c.token("ifname"): dict(c.tokens) for c in commands if c.words == "CONFIG NETWORK INTERFACE CREATE"
    }
    assert {name: (i["tag"], i["address"], i["mask"], i["physical"]) for name, i in interfaces.items()} == {
        "vlan10": ("10", "10.43.10.1", "255.255.255.0", "in"),
        "vlan20": ("20", "10.43.20.1", "255.255.255.128", "in"),
        "vlan30": ("30", "10.43.30.1", "255.255.255.0", "in"),
        "vlan99": ("99", "10.43.99.1", "255.255.255.192", "in"),
    }
    hosts = {c.token("name"): c.token("ip") for c in commands if c.words == "CONFIG OBJECT HOST NEW"}
    relay = next(c for c in commands if c.words == "CONFIG DHCP RELAY SERVER")
    assert hosts[relay.token("server") or ""] == "10.43.20.5"
    relayed = [c.token("ifname") for c in commands if c.words == "CONFIG DHCP RELAY INTERFACE ADD"]
    assert relayed == ["vlan10", "vlan20", "vlan30"]  # management has no DHCP range
    rules = [dict(c.tokens) for c in commands if c.words == "CONFIG FILTER RULE INSERT"]
    assert [int(r["position"]) for r in rules] == list(range(1, len(rules) + 1))
    blocked = {(r["srctarget"], r["dsttarget"]) for r in rules if r["action"] == "block"}
    assert {
        ("sf_vlan_pedagogy", "sf_vlan_administration"),
        ("sf_vlan_pedagogy", "sf_vlan_management"),
        ("sf_vlan_wifi", "sf_vlan_administration"),
        ("sf_vlan_wifi", "sf_vlan_management"),
    } <= blocked
    # The school server is reachable from the pupils' VLANs before their blocks, and all else passes last.
    server_rule = rules.index(next(r for r in rules if r["srctarget"] == "sf_vlan_pedagogy"))
    assert rules[server_rule]["action"] == "pass" and hosts[rules[server_rule]["dsttarget"]] == "10.43.20.5"
    assert (rules[-1]["action"], rules[-1]["srctarget"], rules[-1]["dsttarget"]) == ("pass", "any", "any")
    central = {name for name, ip in hosts.items() if ip == "10.0.0.10"}
    assert {c.token("name") for c in commands if c.words == "CONFIG NTP SERVER ADD"} == central
    assert {
        c.token("server") for c in commands if c.words.startswith("CONFIG COMMUNICATION SYSLOG")
    } == central
    admin = [c.token("host") for c in commands if c.words == "CONFIG WEBADMIN ACCESS ADD"]
    networks = {
        c.token("name"): (c.token("ip"), c.token("mask"))
        for c in commands
        if c.words == "CONFIG OBJECT NETWORK NEW"
    }
    assert [networks[name or ""] for name in admin] == [("10.0.0.10", "255.255.255.255")]


def test_a_push_applies_the_render_then_activates(
    appliance: tuple[Appliance, int, Path], rendered: str, tmp_path: Path
) -> None:
    box = appliance[0]
    result = _push(appliance, rendered, tmp_path / "backup" / "first.na")
    assert box.log[:2] == ["MODIFY ON FORCE", "CONFIG BACKUP list=all"]
    backup = json.loads((tmp_path / "backup" / "first.na").read_text())
    assert backup["active"]["interface"] == []  # the state before the change
    assert {i["ifname"]: i["address"] for i in box.active["interface"]} == {
        "vlan10": "10.43.10.1", "vlan20": "10.43.20.1", "vlan30": "10.43.30.1", "vlan99": "10.43.99.1",
    }  # fmt: skip
    assert [r["ifname"] for r in box.active["relay_interface"]] == ["vlan10", "vlan20", "vlan30"]
    assert box.active["relay"][0]["state"] == "1"
    assert len(box.active["filter"]) == 10 and box.active["filter"][-1]["srctarget"] == "any"
    assert box.active["snmp"] == [{"location": "0697777C", "state": "1"}]
    assert [a["host"] for a in box.active["webadmin"]] == ["sf_n_10_0_0_10_32"]
    assert box.pending == box.active
    # Every section activated once, after its commands.
    assert sorted(box.activated) == sorted(set(box.activated)) and len(box.activated) == 8
    assert box.log.index("CONFIG OBJECT ACTIVATE") > max(
        i for i, line in enumerate(box.log) if line.startswith("CONFIG OBJECT HOST NEW")
    )
    assert result.changed is True
    assert drift(result.intended, result.after)["in_sync"]


def test_a_second_push_sends_nothing_and_activates_nothing(
    appliance: tuple[Appliance, int, Path], rendered: str, tmp_path: Path
) -> None:
    box = appliance[0]
    _push(appliance, rendered, tmp_path / "one.na")
    state = json.dumps(box.active, sort_keys=True)
    log_before, activated = len(box.log), list(box.activated)
    result = _push(appliance, rendered, tmp_path / "two.na")
    assert result.commands == [] and result.changed is False
    sent = box.log[log_before:]
    assert all(
        line.startswith(("MODIFY", "CONFIG BACKUP")) or " SHOW" in line or " LIST" in line for line in sent
    )
    assert box.activated == activated
    assert json.dumps(box.active, sort_keys=True) == state
    assert (tmp_path / "two.na").is_file() and box.backups == 2


def test_only_what_differs_is_sent_and_check_mode_sends_nothing(
    appliance: tuple[Appliance, int, Path], rendered: str, tmp_path: Path
) -> None:
    box = appliance[0]
    _push(appliance, rendered, tmp_path / "one.na")
    # Someone edits the appliance by hand: the school server's object and the SNMP location.
    for state in (box.pending, box.active):
        next(h for h in state["host"] if h["name"] == "sf_h_10_43_20_5")["ip"] = "10.43.20.99"
        state["snmp"][0]["location"] = "elsewhere"
    edited = json.dumps(box.active, sort_keys=True)
    log_before = len(box.log)
    check = _push(appliance, rendered, tmp_path / "check.na", check=True)
    assert check.commands == [
        "CONFIG OBJECT HOST NEW name=sf_h_10_43_20_5 ip=10.43.20.5 resolve=static update=1",
        "CONFIG SNMP SYSTEM location=0697777C",
        "CONFIG OBJECT ACTIVATE",
        "CONFIG SNMP ACTIVATE",
    ]
    assert json.dumps(box.active, sort_keys=True) == edited
    assert not any("NEW" in line or "ACTIVATE" in line for line in box.log[log_before:])
    report = drift(check.intended, check.before)
    assert "CONFIG OBJECT HOST NEW name=sf_h_10_43_20_5 ip=10.43.20.5 resolve=static" in report["missing"]
    assert "CONFIG SNMP SYSTEM location=elsewhere" in report["extra"]
    # The diff's "after" is the appliance as the push would leave it: nothing missing any more.
    assert drift(check.intended, check.after)["missing"] == []
    _push(appliance, rendered, tmp_path / "fix.na")
    assert next(h for h in box.active["host"] if h["name"] == "sf_h_10_43_20_5")["ip"] == "10.43.20.5"
    assert box.active["snmp"][0]["location"] == "0697777C"


def test_a_refused_command_stops_the_push_before_any_activate(
    appliance: tuple[Appliance, int, Path], rendered: str, tmp_path: Path
) -> None:
    box = appliance[0]
    # A trunk the appliance does not have: serverd refuses the first VLAN interface.
    bad = rendered.replace("physical=in ", "physical=eth7 ")
    with pytest.raises(SnsCommandError) as caught:
        _push(appliance, bad, tmp_path / "refused.na")
    assert caught.value.command.startswith("CONFIG NETWORK INTERFACE CREATE ifname=vlan10 ")
    assert "no physical interface 'eth7'" in caught.value.answer
    assert box.activated == []
    assert all(items == [] for items in box.active.values())
    assert box.pending["interface"] == []
    assert not any(line.startswith("CONFIG FILTER RULE") for line in box.log)


def test_a_wrong_password_opens_no_session(appliance: tuple[Appliance, int, Path]) -> None:
    _, port, cabundle = appliance
    with pytest.raises(Exception, match="Authentication failed"):
        _client(port, cabundle, password="wrong")


def test_the_playbook_backs_up_pushes_and_reports_drift(
    appliance: tuple[Appliance, int, Path], build_dir: Path, tmp_path: Path
) -> None:
    box, port, cabundle = appliance
    out = tmp_path / "deploy"
    out.mkdir()
    (out / f"{DEVICE}.cfg").write_text((build_dir / f"{DEVICE}.cfg").read_text())
    extra = json.dumps(
        {
            "network_build_dir": str(out),
            "ansible_host": "127.0.0.1",
            "network_deploy_sns_port": port,
            "network_deploy_sns_password": box.password,
            "network_deploy_sns_cabundle": str(cabundle),
        }
    )
    check = run_playbook("deploy.yml", "-l", DEVICE, "-e", extra, "--check", "--diff")
    assert "CONFIG NETWORK INTERFACE CREATE ifname=vlan10" in check.stdout
    assert all(items == [] for items in box.active.values()) and box.activated == []
    report = (out / "drift" / f"{DEVICE}.drift").read_text()
    assert report.startswith(f"# drift of {DEVICE}: DRIFT\n")
    assert "  CONFIG NETWORK INTERFACE CREATE ifname=vlan10 name=pedagogy physical=in tag=10" in report
    run_playbook("deploy.yml", "-l", DEVICE, "-e", extra)
    assert (out / "drift" / f"{DEVICE}.drift").read_text().startswith(f"# drift of {DEVICE}: in sync\n")
    assert len(box.active["interface"]) == 4 and len(box.activated) == 8
    assert len(list((out / "backup").glob(f"{DEVICE}_*.na"))) == 2
    again = run_playbook("deploy.yml", "-l", DEVICE, "-e", extra)
    recap = next(
        line for line in again.stdout.split("PLAY RECAP")[-1].splitlines() if line.startswith(DEVICE)
    )
    assert "changed=0" in recap and "failed=0" in recap
    assert len(box.activated) == 8
