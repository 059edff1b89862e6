"""The checks that stop a bad register entry before anything is rendered or pushed."""

from __future__ import annotations

from typing import Any

import pytest

from schoolfleet.network.plan import PlanError, compress_ports, expand_ports, router_plan, switch_plan

PLAN: dict[str, Any] = {
    "pedagogy": {
        "vlan": 10,
        "cidr": "10.1.10.0/24",
        "gateway": "10.1.10.1",
        "dhcp_range": ["10.1.10.9", "10.1.10.99"],
    },
    "administration": {"vlan": 20, "cidr": "10.1.20.0/24", "gateway": "10.1.20.1", "dhcp_range": ["a", "b"]},
    "management": {"vlan": 99, "cidr": "10.1.99.0/24", "gateway": "10.1.99.1"},
}


def _switch(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "device": "sw",
        "family": "ios",
        "network": PLAN,
        "management_address": "10.1.99.2",
        "ports": [{"ports": "1-4", "vlan": "pedagogy"}, {"ports": 5, "vlan": "administration"}],
        "uplinks": [{"port": 8}],
        "ntp_servers": ["10.0.0.1"],
    }
    return switch_plan(**(args | changes))


def test_ports_expand_and_compress() -> None:
    assert expand_ports("sw", "1-3,7") == [1, 2, 3, 7]
    assert expand_ports("sw", [2, "4-5"]) == [2, 4, 5]
    assert compress_ports([7, 1, 2, 3, 5]) == "1-3,5,7"
    with pytest.raises(PlanError, match="runs backwards"):
        expand_ports("sw", "5-1")


def test_switch_groups_ports_per_vlan() -> None:
    plan = _switch(family="procurve")
    rows = {row["name"]: row for row in plan["vlans"]}
    assert rows["pedagogy"] == {"id": 10, "name": "pedagogy", "untagged": "1-4", "tagged": "8"}
    assert rows["management"]["untagged"] == ""
    assert plan["access_ports"][0]["interface"] == "1"
    assert _switch()["uplinks"][0] | {} == {
        "port": 8,
        "interface": "GigabitEthernet0/8",
        "description": "uplink",
        "vlan_ids": [10, 20, 99],
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"ports": [{"ports": "1-3", "vlan": "pedagogy"}, {"ports": 3, "vlan": "administration"}]},
            "port 3 is assigned twice",
        ),
        ({"uplinks": [{"port": 4}]}, "port 4 is assigned twice"),
        ({"ports": [{"ports": 1, "vlan": "cantine"}]}, "VLAN 'cantine', which is not in the school's plan"),
        ({"uplinks": [{"port": 8, "vlans": ["wifi"]}]}, "VLAN 'wifi', which is not in the school's plan"),
        ({"family": "junos"}, "unsupported switch family 'junos'"),
        ({"management_address": "10.1.10.5"}, "not a free host of the management VLAN"),
        ({"management_address": "10.1.99.1"}, "not a free host of the management VLAN"),
        ({"port_count": 4}, "port 8 (uplink #1) does not exist on a 4-port switch"),
        ({"ntp_servers": []}, "no NTP server"),
        (
            {"network": {**PLAN, "wifi": {"vlan": 10, "cidr": "10.1.30.0/24", "gateway": "10.1.30.1"}}},
            "VLAN id 10",
        ),
        (
            {"network": {**PLAN, "wifi": {"vlan": 30, "cidr": "10.1.10.128/25", "gateway": "10.1.10.129"}}},
            "overlapping",
        ),
        (
            {"network": {**PLAN, "wifi": {"vlan": 30, "cidr": "10.1.30.0/24", "gateway": "10.1.31.1"}}},
            "not a host",
        ),
        ({"network": {}}, "missing or empty"),
        ({"ports": [{"ports": 1, "vlan": "pedagogy", "description": 'a "quoted" name'}]}, "without"),
    ],
)
def test_switch_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        _switch(**changes)
    assert str(error.value).startswith("sw: ")


def _router(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "device": "rt",
        "family": "ios",
        "network": PLAN,
        "management_address": "10.1.99.1",
        "trunk_interface": "Gi0/1",
        "dhcp_servers": ["10.1.20.5"],
        "deny": [{"from": "pedagogy", "to": "administration"}, {"from": "pedagogy", "to": "management"}],
        "allow_hosts": ["10.1.20.5"],
        "ntp_servers": ["10.0.0.1"],
    }
    return router_plan(**(args | changes))


def test_router_relays_only_where_there_is_dhcp_and_filters_pupils() -> None:
    plan = _router()
    relays = {itf["name"]: itf["helpers"] for itf in plan["interfaces"]}
    assert relays == {"pedagogy": ["10.1.20.5"], "administration": ["10.1.20.5"], "management": []}
    [acl] = plan["acls"]
    assert acl["name"] == "FROM-PEDAGOGY"
    assert [t["cidr"] for t in acl["deny"]] == ["10.1.20.0/24", "10.1.99.0/24"]
    assert acl["permit_hosts"] == ["10.1.20.5"]
    assert {itf["name"]: itf["acl"] for itf in plan["interfaces"]}["pedagogy"] == "FROM-PEDAGOGY"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dhcp_servers": []}, "no DHCP server to relay to"),
        (
            {"deny": [{"from": "pedagogy", "to": "cantine"}]},
            "VLAN 'cantine', which is not in the school's plan",
        ),
        ({"deny": [{"from": "pedagogy", "to": "pedagogy"}]}, "to itself"),
        ({"family": "mikrotik"}, "unsupported router family 'mikrotik'"),
        ({"management_address": "10.1.99.7"}, "none of the router's own addresses"),
        ({"wan": {"interface": "Gi0/0", "address": "172.16.0.2/30", "gateway": "172.16.1.1"}}, "not in"),
    ],
)
def test_router_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        _router(**changes)
