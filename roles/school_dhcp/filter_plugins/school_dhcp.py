"""Checks and grouping of a school's DHCP plan, before Kea's configuration is written.

{{ subnets | school_dhcp_plan_problems(reservations) }}   every problem, as sentences (empty: fine)
{{ subnets | school_dhcp_reservations_of(reservations) }}  {subnet id: [reservations in it]}
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

Plan = Sequence[Mapping[str, Any]]


def _address(value: object) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        return None


Span = tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]


def _range(subnet: Mapping[str, Any], kind: str) -> Span | None:
    start, end = subnet.get(f"{kind}_start"), subnet.get(f"{kind}_end")
    if not start and not end:
        return None
    first, last = _address(start), _address(end)
    if first is None or last is None or first > last:
        name = subnet.get("name")
        raise ValueError(f"subnet {name}: {kind} range {start}-{end} is not a range of IPv4 addresses")
    return first, last


def _mac(value: object) -> str:
    text = str(value).strip().lower().replace("-", ":")
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        return ""
    return text


def plan_problems(subnets: Plan, reservations: Plan) -> list[str]:
    """Every reason the plan cannot be served; reservations are named by host, MAC and address."""
    problems: list[str] = []
    networks: dict[str, ipaddress.IPv4Network] = {}
    reserved: dict[str, Span] = {}
    for subnet in subnets:
        name = str(subnet.get("name"))
        try:
            network = ipaddress.IPv4Network(str(subnet.get("cidr")))
            pool, rsv = _range(subnet, "pool"), _range(subnet, "reserved")
        except ValueError as err:
            problems.append(str(err))
            continue
        networks[name] = network
        for kind, span in (("pool", pool), ("reserved", rsv)):
            if span and not (span[0] in network and span[1] in network):
                problems.append(f"subnet {name}: {kind} range {span[0]}-{span[1]} is outside {network}")
        if pool and rsv and pool[0] <= rsv[1] and rsv[0] <= pool[1]:
            problems.append(
                f"subnet {name}: reserved range {rsv[0]}-{rsv[1]} overlaps the pool {pool[0]}-{pool[1]}"
            )
        if rsv:
            reserved[name] = rsv
    ids = [subnet.get("id") for subnet in subnets]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    problems += [f"subnet id {i} is given to more than one subnet" for i in twice]
    seen_mac: dict[str, str] = {}
    seen_address: dict[str, str] = {}
    seen_host: set[str] = set()
    for entry in reservations:
        host, address = str(entry.get("hostname")), _address(entry.get("address"))
        mac = _mac(entry.get("mac"))
        label = f"reservation {host} ({entry.get('mac')}, {entry.get('address')})"
        if not mac:
            problems.append(f"{label}: the MAC address is malformed")
        elif mac in seen_mac:
            problems.append(f"{label}: the MAC address is already reserved for {seen_mac[mac]}")
        else:
            seen_mac[mac] = host
        if host in seen_host:
            problems.append(f"{label}: the host name is given twice")
        seen_host.add(host)
        if address is None:
            problems.append(f"{label}: the address is not an IPv4 address")
            continue
        if str(address) in seen_address:
            problems.append(f"{label}: the address is already reserved for {seen_address[str(address)]}")
        seen_address[str(address)] = host
        inside = [name for name, (first, last) in reserved.items() if first <= address <= last]
        if not inside:
            ranges = ", ".join(f"{name} {first}-{last}" for name, (first, last) in reserved.items()) or "none"
            problems.append(
                f"{label}: the address is outside the reserved range of its subnet (reserved: {ranges})"
            )
    return problems


def reservations_of(subnets: Plan, reservations: Plan) -> dict[int, list[Mapping[str, Any]]]:
    """The reservations of each subnet (by Kea subnet id), MACs in lowercase colon form."""
    grouped: dict[int, list[Mapping[str, Any]]] = {int(subnet["id"]): [] for subnet in subnets}
    for entry in reservations:
        address = _address(entry.get("address"))
        for subnet in subnets:
            if address is not None and address in ipaddress.IPv4Network(str(subnet["cidr"])):
                grouped[int(subnet["id"])].append({**entry, "mac": _mac(entry.get("mac"))})
                break
    return grouped


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"school_dhcp_plan_problems": plan_problems, "school_dhcp_reservations_of": reservations_of}
