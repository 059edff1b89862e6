"""A school's addressing plan turned into a checked, family-neutral description of one device.

The roles network_switch and network_router call these functions through their filter plugins
before any template is rendered, so that a bad register entry (a port given twice, a port on a
VLAN the school does not have, a family no template exists for) stops the run with a message that
names the device and the field, before anything reaches the device.

The functions take plain data (what Ansible passes) and return plain data (what the templates read).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from schoolfleet.register.devices import FAMILIES
from schoolfleet.register.model import EquipmentKind

# The families the register's device catalogue may give a switch or a router.
SWITCH_FAMILIES = FAMILIES[EquipmentKind.SWITCH]
ROUTER_FAMILIES = FAMILIES[EquipmentKind.ROUTER]

# How each family names a front-panel port from its number.
DEFAULT_INTERFACE_PREFIX = {"ios": "GigabitEthernet0/", "procurve": ""}

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
# Descriptions go into the configuration verbatim: keep them on one line, without the quote that
# ProCurve uses around names.
_DESCRIPTION_RE = re.compile(r'^[^"\n\r]{0,80}$')


class PlanError(ValueError):
    """A register entry that cannot become a device configuration."""

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device


def _int(device: str, value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise PlanError(device, f"{what} must be an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PlanError(device, f"{what} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise PlanError(device, f"{what} must be between {low} and {high}, got {number}")
    return number


def _description(device: str, value: Any, what: str) -> str:
    text = "" if value is None else str(value)
    if not _DESCRIPTION_RE.match(text):
        raise PlanError(device, f"{what} must be one line of at most 80 characters without '\"'")
    return text


def _ipv4(device: str, value: Any, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        raise PlanError(device, f"{what} is not an IPv4 address: {value!r}") from None


def _family(device: str, value: Any, supported: Sequence[str], kind: str) -> str:
    family = str(value)
    if family not in supported:
        raise PlanError(
            device,
            f"unsupported {kind} family {family!r}: supported families are {', '.join(supported)}",
        )
    return family


def expand_ports(device: str, spec: Any) -> list[int]:
    """Port numbers from 3, "3", "1-14" or "1-4,7" (or a list of those)."""
    if isinstance(spec, list | tuple):
        return [port for item in spec for port in expand_ports(device, item)]
    if isinstance(spec, int) and not isinstance(spec, bool):
        return [_int(device, spec, "port", 1, 1024)]
    ports: list[int] = []
    for part in str(spec).split(","):
        bounds = part.strip().split("-")
        if len(bounds) == 1:
            ports.append(_int(device, bounds[0], "port", 1, 1024))
        elif len(bounds) == 2:
            first = _int(device, bounds[0], "port", 1, 1024)
            last = _int(device, bounds[1], "port", 1, 1024)
            if last < first:
                raise PlanError(device, f"port range {part.strip()!r} runs backwards")
            ports.extend(range(first, last + 1))
        else:
            raise PlanError(device, f"cannot read port specification {spec!r}")
    return ports


def compress_ports(ports: Iterable[int]) -> str:
    """ "1-4,7" from [1, 2, 3, 4, 7]: the form ProCurve uses in VLAN contexts."""
    ordered = sorted(set(ports))
    ranges: list[str] = []
    start = previous = None
    for port in [*ordered, None]:
        if start is not None and (port is None or previous is None or port != previous + 1):
            ranges.append(str(start) if start == previous else f"{start}-{previous}")
            start = None
        if port is not None and start is None:
            start = port
        previous = port
    return ",".join(ranges)


def vlan_plan(device: str, network: Any) -> dict[str, dict[str, Any]]:
    """The school's VLANs by name, each with id, network, gateway and whether it has DHCP."""
    if not isinstance(network, Mapping) or not network:
        raise PlanError(device, "the school's VLAN plan (fleet_network) is missing or empty")
    vlans: dict[str, dict[str, Any]] = {}
    ids: dict[int, str] = {}
    for name, entry in network.items():
        if not _NAME_RE.match(str(name)):
            raise PlanError(device, f"VLAN name {name!r} must be a short identifier")
        if not isinstance(entry, Mapping):
            raise PlanError(device, f"VLAN {name!r}: expected a mapping, got {entry!r}")
        if "vlan" not in entry or "cidr" not in entry or "gateway" not in entry:
            raise PlanError(device, f"VLAN {name!r}: vlan, cidr and gateway are required")
        vlan_id = _int(device, entry["vlan"], f"VLAN {name!r} id", 2, 4094)
        if vlan_id in ids:
            raise PlanError(device, f"VLAN id {vlan_id} is used by both {ids[vlan_id]!r} and {name!r}")
        ids[vlan_id] = str(name)
        try:
            net = ipaddress.IPv4Network(str(entry["cidr"]))
        except ValueError:
            raise PlanError(device, f"VLAN {name!r}: cidr {entry['cidr']!r} is not an IPv4 network") from None
        gateway = _ipv4(device, entry["gateway"], f"VLAN {name!r} gateway")
        if gateway not in net or gateway in (net.network_address, net.broadcast_address):
            raise PlanError(device, f"VLAN {name!r}: gateway {gateway} is not a host of {net}")
        vlans[str(name)] = {
            "name": str(name),
            "id": vlan_id,
            "network": str(net.network_address),
            "prefixlen": net.prefixlen,
            "netmask": str(net.netmask),
            "wildcard": str(net.hostmask),
            "cidr": str(net),
            "gateway": str(gateway),
            # The register gives dhcp_start/dhcp_end (null without DHCP); dhcp_range is accepted too.
            "dhcp": bool(entry.get("dhcp_range") or entry.get("dhcp_start")),
        }
    for other in vlans.values():
        for name, vlan in vlans.items():
            if name != other["name"] and ipaddress.IPv4Network(vlan["cidr"]).overlaps(
                ipaddress.IPv4Network(other["cidr"])
            ):
                raise PlanError(device, f"VLANs {other['name']!r} and {name!r} have overlapping networks")
    return vlans


def _vlan_named(device: str, vlans: Mapping[str, Any], name: Any, where: str) -> dict[str, Any]:
    if str(name) not in vlans:
        raise PlanError(
            device,
            f"{where} uses VLAN {name!r}, which is not in the school's plan "
            f"(plan has: {', '.join(sorted(vlans))})",
        )
    return dict(vlans[str(name)])


def _sources(device: str, sources: Any, what: str) -> list[dict[str, Any]]:
    """Networks (CIDR or single addresses) allowed to reach a service of the device."""
    result = []
    for source in sources or []:
        try:
            net = ipaddress.IPv4Network(str(source))
        except ValueError:
            raise PlanError(device, f"{what} {source!r} is not an IPv4 network") from None
        result.append(
            {
                "network": str(net.network_address),
                "wildcard": str(net.hostmask),
                "netmask": str(net.netmask),
                "prefixlen": net.prefixlen,
            }
        )
    return result


def _services(device: str, ntp: Any, syslog: Any, snmp_sources: Any) -> dict[str, Any]:
    """NTP, syslog and SNMP source addresses, shared by switches and routers."""
    ntp_servers = [str(_ipv4(device, server, "NTP server")) for server in ntp or []]
    syslog_servers = [str(_ipv4(device, server, "syslog server")) for server in syslog or []]
    sources = _sources(device, snmp_sources, "SNMP source")
    if not ntp_servers:
        raise PlanError(device, "no NTP server: the central server's address is expected")
    return {"ntp_servers": ntp_servers, "syslog_servers": syslog_servers, "snmp_sources": sources}


def switch_plan(
    device: str,
    family: Any,
    network: Any,
    management_address: Any,
    ports: Any,
    uplinks: Any,
    *,
    management_vlan: str = "management",
    port_count: Any = None,
    interface_prefix: Any = None,
    ntp_servers: Any = None,
    syslog_servers: Any = None,
    snmp_sources: Any = None,
) -> dict[str, Any]:
    """Everything a switch template needs, checked."""
    fam = _family(device, family, SWITCH_FAMILIES, "switch")
    vlans = vlan_plan(device, network)
    mgmt = _vlan_named(device, vlans, management_vlan, "the management address")
    address = _ipv4(device, management_address, "management address (fleet_address)")
    if address not in ipaddress.IPv4Network(mgmt["cidr"]) or str(address) == mgmt["gateway"]:
        raise PlanError(
            device,
            f"management address {address} is not a free host of the management VLAN {mgmt['cidr']}",
        )
    mgmt["address"] = str(address)
    prefix = DEFAULT_INTERFACE_PREFIX[fam] if interface_prefix is None else str(interface_prefix)
    highest = None if port_count is None else _int(device, port_count, "port count", 1, 1024)

    owner: dict[int, str] = {}

    def claim(port: int, what: str) -> None:
        if highest is not None and port > highest:
            raise PlanError(device, f"port {port} ({what}) does not exist on a {highest}-port switch")
        if port in owner:
            raise PlanError(device, f"port {port} is assigned twice: {owner[port]} and {what}")
        owner[port] = what

    uplink_list: list[dict[str, Any]] = []
    for index, uplink in enumerate(uplinks or []):
        if not isinstance(uplink, Mapping) or "port" not in uplink:
            raise PlanError(device, f"uplink #{index + 1} needs a port")
        names = uplink.get("vlans") or list(vlans)
        tagged = sorted(_vlan_named(device, vlans, n, f"uplink port {uplink['port']}")["id"] for n in names)
        for port in expand_ports(device, uplink["port"]):
            claim(port, f"uplink #{index + 1}")
            uplink_list.append(
                {
                    "port": port,
                    "interface": f"{prefix}{port}",
                    "description": _description(device, uplink.get("description", "uplink"), "description"),
                    "vlan_ids": tagged,
                }
            )

    access: list[dict[str, Any]] = []
    for index, entry in enumerate(ports or []):
        if not isinstance(entry, Mapping) or "ports" not in entry or "vlan" not in entry:
            raise PlanError(device, f"port assignment #{index + 1} needs ports and vlan")
        vlan = _vlan_named(device, vlans, entry["vlan"], f"port assignment #{index + 1}")
        description = _description(device, entry.get("description", vlan["name"]), "description")
        for port in expand_ports(device, entry["ports"]):
            claim(port, f"port assignment #{index + 1} ({vlan['name']})")
            access.append(
                {
                    "port": port,
                    "interface": f"{prefix}{port}",
                    "description": description,
                    "vlan_id": vlan["id"],
                    "vlan_name": vlan["name"],
                }
            )
    access.sort(key=lambda item: item["port"])
    uplink_list.sort(key=lambda item: item["port"])

    vlan_rows = []
    for vlan in sorted(vlans.values(), key=lambda v: v["id"]):
        vlan_rows.append(
            {
                "id": vlan["id"],
                "name": vlan["name"],
                "untagged": compress_ports(a["port"] for a in access if a["vlan_id"] == vlan["id"]),
                "tagged": compress_ports(u["port"] for u in uplink_list if vlan["id"] in u["vlan_ids"]),
            }
        )
    return {
        "hostname": device,
        "family": fam,
        "vlans": vlan_rows,
        "access_ports": access,
        "uplinks": uplink_list,
        "management": mgmt,
        **_services(device, ntp_servers, syslog_servers, snmp_sources),
    }


def router_plan(
    device: str,
    family: Any,
    network: Any,
    management_address: Any,
    *,
    trunk_interface: Any,
    dhcp_servers: Any,
    deny: Any,
    allow_hosts: Any = None,
    wan: Any = None,
    management_vlan: str = "management",
    ntp_servers: Any = None,
    syslog_servers: Any = None,
    snmp_sources: Any = None,
    admin_sources: Any = None,
) -> dict[str, Any]:
    """Everything a router template needs: one routed interface per VLAN, relays and ACLs, and the
    networks its administration may be reached from (the SNS render restricts it to them)."""
    fam = _family(device, family, ROUTER_FAMILIES, "router")
    vlans = vlan_plan(device, network)
    _vlan_named(device, vlans, management_vlan, "the management address")
    helpers = [str(_ipv4(device, server, "DHCP server")) for server in dhcp_servers or []]
    if any(v["dhcp"] for v in vlans.values()) and not helpers:
        raise PlanError(
            device, "the plan has DHCP ranges but no DHCP server to relay to (the school server's address)"
        )

    wan_plan = None
    if wan:
        if not isinstance(wan, Mapping) or not {"interface", "address", "gateway"} <= set(wan):
            raise PlanError(device, "wan needs interface, address (CIDR) and gateway")
        try:
            wan_if = ipaddress.IPv4Interface(str(wan["address"]))
        except ValueError:
            raise PlanError(device, f"wan address {wan['address']!r} is not an IPv4 CIDR address") from None
        wan_gw = _ipv4(device, wan["gateway"], "wan gateway")
        if wan_gw not in wan_if.network:
            raise PlanError(device, f"wan gateway {wan_gw} is not in {wan_if.network}")
        wan_plan = {
            "interface": str(wan["interface"]),
            "address": str(wan_if.ip),
            "netmask": str(wan_if.netmask),
            "gateway": str(wan_gw),
        }

    address = str(_ipv4(device, management_address, "management address (fleet_address)"))
    own = {v["gateway"] for v in vlans.values()} | ({wan_plan["address"]} if wan_plan else set())
    if address not in own:
        raise PlanError(
            device,
            f"management address {address} is none of the router's own addresses "
            f"(the VLAN gateways or the WAN address)",
        )

    # Hosts every VLAN may reach whatever the deny rules say: the school server serves the pupils.
    shared = [str(_ipv4(device, host, "shared host")) for host in allow_hosts or []]
    acls: dict[str, dict[str, Any]] = {}
    for index, rule in enumerate(deny or []):
        if not isinstance(rule, Mapping) or "from" not in rule or "to" not in rule:
            raise PlanError(device, f"deny rule #{index + 1} needs from and to")
        source = _vlan_named(device, vlans, rule["from"], f"deny rule #{index + 1}")
        target = _vlan_named(device, vlans, rule["to"], f"deny rule #{index + 1}")
        if source["id"] == target["id"]:
            raise PlanError(device, f"deny rule #{index + 1} denies VLAN {source['name']!r} to itself")
        acl = acls.setdefault(
            source["name"],
            {"name": f"FROM-{source['name'].upper()}", "source": source, "permit_hosts": shared, "deny": []},
        )
        if target not in acl["deny"]:
            acl["deny"].append(target)

    interfaces = []
    for vlan in sorted(vlans.values(), key=lambda v: v["id"]):
        interfaces.append(
            {
                "vlan_id": vlan["id"],
                "name": vlan["name"],
                "address": vlan["gateway"],
                "netmask": vlan["netmask"],
                "prefixlen": vlan["prefixlen"],
                "helpers": helpers if vlan["dhcp"] else [],
                "acl": acls[vlan["name"]]["name"] if vlan["name"] in acls else None,
            }
        )
    return {
        "hostname": device,
        "family": fam,
        "trunk_interface": str(trunk_interface),
        "interfaces": interfaces,
        "acls": sorted(acls.values(), key=lambda a: a["source"]["id"]),
        "wan": wan_plan,
        "management_address": address,
        "admin_sources": _sources(device, admin_sources, "admin source"),
        **_services(device, ntp_servers, syslog_servers, snmp_sources),
    }
