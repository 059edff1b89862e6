import netaddr
import pytest

from schoolfleet.register.addressing import (
    device_address,
    plan_problems,
    school_block,
    school_networks,
)
from schoolfleet.register.model import AddressPlan, EquipmentKind, HostRange, Vlan

VLANS = (
    Vlan("pedagogy", 10, 0, 24, 32),
    Vlan("administration", 20, 512, 25, 16),
    Vlan("wifi", 30, 256, 24, 32),
    Vlan("management", 99, 768, 26, None),
)


SWITCHES = HostRange(11, 30)


def make_plan(vlans: tuple[Vlan, ...] = VLANS, switches: HostRange = SWITCHES) -> AddressPlan:
    return AddressPlan(
        supernet=netaddr.IPNetwork("10.128.0.0/12"),
        school_prefix=22,
        datacenter=netaddr.IPNetwork("10.143.252.0/22"),
        vlans=vlans,
        router_host=1,
        server_host=2,
        switch_hosts=switches,
        wifi_ap_hosts=HostRange(31, 60),
    )


def test_blocks_are_consecutive_slices_of_the_supernet() -> None:
    plan = make_plan()
    assert plan.block_count == 1024
    assert school_block(plan, 0) == netaddr.IPNetwork("10.128.0.0/22")
    assert school_block(plan, 5) == netaddr.IPNetwork("10.128.20.0/22")
    assert school_block(plan, 1023) == netaddr.IPNetwork("10.143.252.0/22")
    with pytest.raises(ValueError, match="outside the supernet"):
        school_block(plan, 1024)


def test_school_vlans() -> None:
    networks = school_networks(make_plan(), 5, wifi=True)
    pedagogy = networks["pedagogy"].as_dict()
    assert pedagogy == {
        "vlan": 10,
        "cidr": "10.128.20.0/24",
        "gateway": "10.128.20.1",
        "netmask": "255.255.255.0",
        "dhcp_start": "10.128.20.32",
        "dhcp_end": "10.128.20.254",
    }
    assert networks["administration"].as_dict()["cidr"] == "10.128.22.0/25"
    assert networks["administration"].as_dict()["dhcp_end"] == "10.128.22.126"
    management = networks["management"].as_dict()
    assert management["cidr"] == "10.128.23.0/26"
    assert management["dhcp_start"] is None and management["dhcp_end"] is None
    for network in networks.values():
        assert network.network in school_block(make_plan(), 5)


def test_wifi_vlan_only_under_the_option() -> None:
    assert "wifi" not in school_networks(make_plan(), 5, wifi=False)
    assert "wifi" in school_networks(make_plan(), 5, wifi=True)


def test_device_addresses_in_the_management_vlan() -> None:
    plan = make_plan()
    assert str(device_address(plan, 5, EquipmentKind.ROUTER, None)) == "10.128.23.1"
    assert str(device_address(plan, 5, EquipmentKind.SCHOOL_SERVER, None)) == "10.128.23.2"
    assert str(device_address(plan, 5, EquipmentKind.SWITCH, 3)) == "10.128.23.13"
    assert str(device_address(plan, 5, EquipmentKind.WIFI_AP, 1)) == "10.128.23.31"
    with pytest.raises(ValueError, match="outside"):
        device_address(plan, 5, EquipmentKind.SWITCH, 21)


def test_addresses_depend_on_the_block_only() -> None:
    """Another school added or removed elsewhere changes nothing: only the stored block index counts."""
    plan = make_plan()
    before = {name: vlan.as_dict() for name, vlan in school_networks(plan, 7, wifi=True).items()}
    bigger = make_plan()
    after = {name: vlan.as_dict() for name, vlan in school_networks(bigger, 7, wifi=True).items()}
    assert before == after
    assert device_address(plan, 7, EquipmentKind.SCHOOL_SERVER, None) != device_address(
        plan, 8, EquipmentKind.SCHOOL_SERVER, None
    )


def test_a_sound_plan_has_no_problem() -> None:
    assert plan_problems(make_plan()) == []


def test_overlapping_vlans() -> None:
    vlans = (*VLANS[:3], Vlan("management", 99, 0, 26, None))
    problems = plan_problems(make_plan(vlans))
    assert ("vlans.management", "overlaps VLAN pedagogy in the block") in problems


def test_vlan_outside_the_block() -> None:
    vlans = (Vlan("pedagogy", 10, 1024, 24, 32), *VLANS[1:])
    assert any(field == "vlans.pedagogy.offset" for field, _ in plan_problems(make_plan(vlans)))


def test_device_ranges_overlap_or_overflow() -> None:
    assert any(field == "devices" for field, _ in plan_problems(make_plan(switches=HostRange(2, 12))))
    assert any(field == "devices.switch" for field, _ in plan_problems(make_plan(switches=HostRange(11, 70))))
