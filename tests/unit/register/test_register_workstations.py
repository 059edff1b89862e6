"""Workstations in the register: the MAC form, the reserved range, the host numbers and the inventory."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import netaddr
import pytest
from register_cases import SMALL, copy_small

from schoolfleet.register import HostRange, RegisterError, load_register
from schoolfleet.register.addressing import plan_problems, workstation_address
from schoolfleet.register.generate import generate
from schoolfleet.register.inventory import build_inventory
from schoolfleet.register.mac import MacError, normalise_mac

AS_OF = dt.date(2026, 11, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A4:BB:6D:0A:0B:0C", "a4:bb:6d:0a:0b:0c"),
        ("a4-bb-6d-0a-0b-0c", "a4:bb:6d:0a:0b:0c"),
        ("a4bb.6d0a.0b0c", "a4:bb:6d:0a:0b:0c"),
        ("A4BB6D0A0B0C", "a4:bb:6d:0a:0b:0c"),
        ("a4:bb:6d:a:b:c", "a4:bb:6d:0a:0b:0c"),
        (" a4:bb:6d:0a:0b:0c ", "a4:bb:6d:0a:0b:0c"),
        # Locally administered (virtual machines, QEMU's 52:54:00) is a machine's MAC all the same.
        ("52:54:00:12:34:56", "52:54:00:12:34:56"),
    ],
)
def test_a_mac_is_written_one_way(text: str, expected: str) -> None:
    assert normalise_mac(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1", "is not a MAC address"),
        ("0x1", "is not a MAC address"),
        ("a4:bb:6d:0a:0b", "is not a MAC address"),
        ("a4:bb:6d:0a:0b:0c:0d:0e", "is not a MAC address"),
        ("a4:bb-6d:0a:0b:0c", "is not a MAC address"),
        ("g4:bb:6d:0a:0b:0c", "is not a MAC address"),
        ("00:00:00:00:00:00", "all-zero"),
        ("ff:ff:ff:ff:ff:ff", "multicast"),
        ("01:00:5e:00:00:fb", "multicast"),
    ],
)
def test_what_is_not_a_machine_mac(text: str, message: str) -> None:
    with pytest.raises(MacError, match=message):
        normalise_mac(text)


def test_the_loader_keeps_the_normalised_mac_and_the_host() -> None:
    register = load_register(SMALL / "register")
    items = {item.tag: item for _, school in register.schools() for item in school.equipment}
    assert (items["SF-000032"].mac, items["SF-000032"].host) == ("f0:18:98:00:00:32", 10)
    assert (items["SF-000017"].mac, items["SF-000017"].host) == ("a4:bb:6d:00:00:17", 11)
    assert (items["SF-000018"].mac, items["SF-000018"].host) == (None, None)
    assert register.authority.plan.workstation_hosts == HostRange(10, 31)


def test_a_reserved_address_is_the_host_number_in_the_pedagogy_vlan() -> None:
    plan = load_register(SMALL / "register").authority.plan
    assert workstation_address(plan, 1, 10) == netaddr.IPAddress("10.128.4.10")
    assert workstation_address(plan, 3, 31) == netaddr.IPAddress("10.128.12.31")


def test_the_range_must_leave_the_gateway_and_the_pool_alone() -> None:
    plan = load_register(SMALL / "register").authority.plan
    assert plan_problems(plan) == []
    for span, message in (
        (HostRange(2, 31), None),
        (HostRange(1, 31), "outside the pedagogy VLAN's hosts 2-254"),
        (HostRange(10, 32), "reach the pedagogy DHCP pool (from host 32)"),
        (HostRange(20, 10), "empty range"),
    ):
        problems = plan_problems(dataclasses.replace(plan, workstation_hosts=span))
        if message is None:
            assert problems == []
        else:
            assert [field for field, _ in problems] == ["workstations"]
            assert message in problems[0][1]


def test_a_host_number_needs_the_plan_to_keep_a_range(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    authority = register / "authority.yml"
    authority.write_text(authority.read_text().replace("  workstations: 10-31\n", ""))
    where = r"91001-alpha.yml:\d+: schools\[0\].equipment\[6\].host: the address plan keeps no host"
    with pytest.raises(RegisterError, match=where):
        load_register(register)


def _with_more_workstations(tmp_path: Path) -> Path:
    """The small register with two more delivered workstations at 0910001G, out of host order."""
    register = copy_small(tmp_path) / "register"
    path = register / "members" / "91001-alpha.yml"
    extra = (
        "      - tag: SF-000021\n        kind: workstation\n        model: HP ProDesk 400 G7\n"
        '        serial: "P0021"\n        mac: "30:24:a9:00:00:21"\n        host: 14\n'
        "        installed: 2025-09-01\n"
        "      - tag: SF-000022\n        kind: workstation\n        model: HP ProDesk 400 G7\n"
        '        serial: "P0022"\n        mac: "30:24:a9:00:00:22"\n        host: 12\n'
        "        installed: 2025-09-01\n"
    )
    text = path.read_text()
    marker = "  - uai: 0910002H\n"
    path.write_text(text.replace(marker, extra + marker))
    return register


def test_the_school_server_lists_its_workstations_by_host_number(tmp_path: Path) -> None:
    register = load_register(_with_more_workstations(tmp_path))
    inventory = build_inventory(register, as_of=AS_OF)
    server = inventory["hosts"]["0910001g-srv"]["vars"]
    listed = [(entry["host"], entry["hostname"], entry["address"]) for entry in server["fleet_workstations"]]
    assert listed == [
        (10, "ws-sf-000016", "10.128.4.10"),
        (12, "ws-sf-000022", "10.128.4.12"),
        (14, "ws-sf-000021", "10.128.4.14"),
    ]
    host = inventory["hosts"]["ws-sf-000022"]
    assert host["groups"] == ["workstations", "school_0910001g", "classroom_workstations"]
    assert host["vars"]["ansible_host"] == "10.128.4.12"
    assert host["vars"]["fleet_asset"]["mac"] == "30:24:a9:00:00:22"
    # A billable-only workstation is in `unmanaged` as a host, not through its kind's group.
    assert inventory["hosts"]["ws-sf-000042"]["groups"] == ["workstations", "school_0450001g", "unmanaged"]
    assert "workstations" not in inventory["groups"]["unmanaged"]["children"]
    assert "classroom_workstations" in inventory["groups"]["managed"]["children"]


def test_the_list_follows_the_day(tmp_path: Path) -> None:
    register = load_register(_with_more_workstations(tmp_path))
    before = build_inventory(register, as_of=dt.date(2022, 1, 3))
    server = before["hosts"]["0910001g-srv"]["vars"]
    # SF-000017 was then in service, with its MAC and its host number 11; the others were not there.
    assert [entry["tag"] for entry in server["fleet_workstations"]] == ["SF-000017"]
    assert before["hosts"]["ws-sf-000017"]["vars"]["fleet_address"] == "10.128.4.11"


def test_podman_reach_sets_no_address_to_ssh_to(tmp_path: Path) -> None:
    register = load_register(SMALL / "register")
    inventory = build_inventory(register, as_of=AS_OF, reach="podman", unmanaged=False)
    workstation = inventory["hosts"]["ws-sf-000016"]["vars"]
    assert "ansible_host" not in workstation
    assert workstation["fleet_address"] == "10.128.4.10"
    assert "ws-sf-000042" not in inventory["hosts"]


DEMO = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register"


def test_the_demo_register_is_the_generators_output(tmp_path: Path) -> None:
    """The demo is `generate --schools 120 --seed 1`: regenerating it changes nobody's data."""
    counts = generate(tmp_path / "register", 120, 1)
    assert counts["schools"] == 120
    for name in ("authority.yml", *(f"members/{path.name}" for path in (DEMO / "members").iterdir())):
        assert (tmp_path / "register" / name).read_text() == (DEMO / name).read_text(), name
    assert len(list((tmp_path / "register" / "members").iterdir())) == len(list((DEMO / "members").iterdir()))


def test_most_demo_workstations_are_delivered() -> None:
    register = load_register(DEMO)
    plan = register.authority.plan
    assert plan.workstation_hosts == HostRange(10, 199)
    assert plan.vlan("pedagogy").dhcp_from == 200
    held = [
        item
        for _, school in register.schools()
        for item in school.equipment_held_on(AS_OF)
        if item.kind.workstation
    ]
    delivered = [item for item in held if item.mac is not None]
    assert 0.75 <= len(delivered) / len(held) <= 0.95
    assert all(item.host is not None and 10 <= item.host <= 199 for item in delivered)
    assert len({item.mac for item in delivered}) == len(delivered)
