"""Addresses computed from the plan: a school's block, its VLANs, and each managed device's address.

Everything follows from the school's stored block index, never from its position in the register, so
adding or removing a school never renumbers another one.
"""

from __future__ import annotations

from dataclasses import dataclass

import netaddr

from schoolfleet.register.model import AddressPlan, EquipmentKind, HostRange, Vlan

VLAN_NAMES = ("pedagogy", "administration", "wifi", "management")
MANAGEMENT = "management"
# Registered workstations take reserved host numbers in this VLAN (the classrooms' one).
PEDAGOGY = "pedagogy"


@dataclass(frozen=True, slots=True)
class VlanNetwork:
    name: str
    vlan_id: int
    network: netaddr.IPNetwork
    gateway: netaddr.IPAddress
    dhcp_start: netaddr.IPAddress | None
    dhcp_end: netaddr.IPAddress | None

    def as_dict(self) -> dict[str, object]:
        """The inventory's form: plain text and numbers only (it is cached as JSON)."""
        return {
            "vlan": self.vlan_id,
            "cidr": str(self.network),
            "gateway": str(self.gateway),
            "netmask": str(self.network.netmask),
            "dhcp_start": None if self.dhcp_start is None else str(self.dhcp_start),
            "dhcp_end": None if self.dhcp_end is None else str(self.dhcp_end),
        }


def block_size(plan: AddressPlan) -> int:
    return int(2 ** (32 - plan.school_prefix))


def school_block(plan: AddressPlan, block: int) -> netaddr.IPNetwork:
    """The block with this index. The caller has checked it is inside the supernet."""
    if not 0 <= block < plan.block_count:
        raise ValueError(f"block {block} is outside the supernet's {plan.block_count} blocks")
    first = int(plan.supernet.first) + block * block_size(plan)
    return netaddr.IPNetwork(f"{netaddr.IPAddress(first)}/{plan.school_prefix}")


def vlan_network(plan: AddressPlan, block: int, vlan: Vlan) -> VlanNetwork:
    first = int(plan.supernet.first) + block * block_size(plan) + vlan.offset
    size = 2 ** (32 - vlan.prefix)
    return VlanNetwork(
        name=vlan.name,
        vlan_id=vlan.vlan_id,
        network=netaddr.IPNetwork(f"{netaddr.IPAddress(first)}/{vlan.prefix}"),
        gateway=netaddr.IPAddress(first + 1),
        dhcp_start=netaddr.IPAddress(first + vlan.dhcp_from) if vlan.dhcp_from is not None else None,
        dhcp_end=netaddr.IPAddress(first + size - 2) if vlan.dhcp_from is not None else None,
    )


def school_networks(plan: AddressPlan, block: int, *, wifi: bool) -> dict[str, VlanNetwork]:
    """The school's VLANs; the Wi-Fi one only under the Wi-Fi option (its space is reserved anyway)."""
    return {vlan.name: vlan_network(plan, block, vlan) for vlan in plan.vlans if wifi or vlan.name != "wifi"}


def host_number(plan: AddressPlan, kind: EquipmentKind, unit: int | None) -> int:
    """The host number of a managed device in its school's management VLAN."""
    if kind is EquipmentKind.ROUTER:
        return plan.router_host
    if kind is EquipmentKind.SCHOOL_SERVER:
        return plan.server_host
    hosts = _unit_range(plan, kind)
    if unit is None or not 1 <= unit <= hosts.last - hosts.first + 1:
        raise ValueError(f"{kind} unit {unit} is outside the plan's {hosts.last - hosts.first + 1} units")
    return hosts.first + unit - 1


def max_units(plan: AddressPlan, kind: EquipmentKind) -> int:
    hosts = _unit_range(plan, kind)
    return hosts.last - hosts.first + 1


def _unit_range(plan: AddressPlan, kind: EquipmentKind) -> HostRange:
    if kind is EquipmentKind.SWITCH:
        return plan.switch_hosts
    if kind is EquipmentKind.WIFI_AP:
        return plan.wifi_ap_hosts
    raise ValueError(f"{kind} has no unit range in the address plan")


def device_address(plan: AddressPlan, block: int, kind: EquipmentKind, unit: int | None) -> netaddr.IPAddress:
    management = plan.vlan(MANAGEMENT)
    first = int(plan.supernet.first) + block * block_size(plan) + management.offset
    return netaddr.IPAddress(first + host_number(plan, kind, unit))


def workstation_address(plan: AddressPlan, block: int, host: int) -> netaddr.IPAddress:
    """A registered workstation's reserved address: its stored host number in the pedagogy VLAN."""
    pedagogy = plan.vlan(PEDAGOGY)
    return netaddr.IPAddress(int(plan.supernet.first) + block * block_size(plan) + pedagogy.offset + host)


def _workstation_problems(plan: AddressPlan) -> list[tuple[str, str]]:
    """The workstations' range sits in the pedagogy VLAN, above its gateway and below its DHCP pool."""
    span = plan.workstation_hosts
    if span is None or not any(vlan.name == PEDAGOGY for vlan in plan.vlans):
        return []
    pedagogy = plan.vlan(PEDAGOGY)
    last_host = 2 ** (32 - pedagogy.prefix) - 2
    if span.first > span.last:
        return [("workstations", f"{span.first}-{span.last} is an empty range (first-last)")]
    if span.first < 2 or span.last > last_host:
        return [
            (
                "workstations",
                f"hosts {span.first}-{span.last} are outside the pedagogy VLAN's hosts 2-{last_host} "
                "(host 1 is its gateway)",
            )
        ]
    if pedagogy.dhcp_from is not None and span.last >= pedagogy.dhcp_from:
        return [
            (
                "workstations",
                f"hosts {span.first}-{span.last} reach the pedagogy DHCP pool (from host "
                f"{pedagogy.dhcp_from}): an unknown machine could be given a reserved address",
            )
        ]
    return []


def plan_problems(plan: AddressPlan) -> list[tuple[str, str]]:
    """What is inconsistent in the plan itself, as (field, message) pairs."""
    problems: list[tuple[str, str]] = []
    if plan.supernet.version != 4:
        problems.append(("supernet", "the plan is IPv4 only"))
        return problems
    if not plan.supernet.prefixlen <= plan.school_prefix <= 30:
        problems.append(
            ("school_prefix", f"/{plan.school_prefix} blocks do not fit in the supernet {plan.supernet}")
        )
        return problems
    size = block_size(plan)
    taken: list[tuple[int, int, str]] = []
    for vlan in plan.vlans:
        field = f"vlans.{vlan.name}"
        vlan_size = 2 ** (32 - vlan.prefix) if 0 <= vlan.prefix <= 32 else 0
        if vlan_size < 4 or vlan.prefix < plan.school_prefix:
            problems.append(
                (f"{field}.prefix", f"/{vlan.prefix} does not fit in a /{plan.school_prefix} block")
            )
            continue
        if vlan.offset % vlan_size or vlan.offset + vlan_size > size:
            problems.append(
                (f"{field}.offset", f"offset {vlan.offset} does not place a /{vlan.prefix} inside the block")
            )
            continue
        for start, end, other in taken:
            if vlan.offset < end and start < vlan.offset + vlan_size:
                problems.append((field, f"overlaps VLAN {other} in the block"))
        taken.append((vlan.offset, vlan.offset + vlan_size, vlan.name))
        if vlan.dhcp_from is not None and not 2 <= vlan.dhcp_from <= vlan_size - 2:
            problems.append((f"{field}.dhcp_from", f"host {vlan.dhcp_from} is outside the /{vlan.prefix}"))
    if any(vlan.name == MANAGEMENT for vlan in plan.vlans):
        hosts = 2 ** (32 - plan.vlan(MANAGEMENT).prefix) - 2
        fixed = {"router": plan.router_host, "school_server": plan.server_host}
        for name, number in fixed.items():
            if not 1 <= number <= hosts:
                problems.append((f"devices.{name}", f"host {number} is outside the management VLAN"))
        ranges = {"switch": plan.switch_hosts, "wifi_ap": plan.wifi_ap_hosts}
        for name, span in ranges.items():
            if not 1 <= span.first <= span.last <= hosts:
                problems.append((f"devices.{name}", f"hosts {span.first}-{span.last} are outside the VLAN"))
        spans = [(number, number) for number in fixed.values()]
        spans += [(span.first, span.last) for span in ranges.values()]
        clash = any(
            first <= other_last and other_first <= last
            for index, (first, last) in enumerate(spans)
            for other_first, other_last in spans[index + 1 :]
        )
        if clash:
            problems.append(("devices", "the router, server, switch and access point host numbers overlap"))
    problems.extend(_workstation_problems(plan))
    if plan.datacenter.version != 4:
        problems.append(("datacenter", "the plan is IPv4 only"))
    return problems
