"""`authority.yml`: the authority's own servers, the address plan, the software packs and the devices."""

from __future__ import annotations

import re

import netaddr
import yaml

from schoolfleet.register.addressing import VLAN_NAMES, plan_problems
from schoolfleet.register.devices import parse_devices
from schoolfleet.register.errors import Problems
from schoolfleet.register.model import (
    AddressPlan,
    Authority,
    HostRange,
    Server,
    ServerKind,
    SettingValue,
    SoftwarePack,
    SoftwarePackage,
    Source,
    Vlan,
)
from schoolfleet.register.nodes import Fields, line_of
from schoolfleet.register.patterns import ASSET_TAG, DEBIAN_PACKAGE, HOSTNAME, PACK_NAME, SETTING_NAME

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_INTEGER = re.compile(r"-?[0-9]+\Z")

_RANGE = re.compile(r"([0-9]+)-([0-9]+)\Z")


def parse_authority(node: yaml.Node, file: str, problems: Problems) -> Authority | None:
    top = Fields.of(node, file, "", problems, "the authority's settings")
    if top is None:
        return None
    top.check(("authority", "addressing", "software_packs", "servers"), ("devices",))
    name = None
    about = top.mapping("authority", "the authority's name")
    if about is not None:
        about.check(("name",))
        name = about.text("name")
    plan = _plan(top, problems)
    packs = _packs(top, problems)
    servers = _servers(top, problems)
    devices = parse_devices(top, problems)
    if name is None or plan is None or packs is None or servers is None or devices is None:
        return None
    return Authority(name, plan, packs, servers, Source(file, top.line, top.path), devices)


def _network(fields: Fields, name: str) -> netaddr.IPNetwork | None:
    text = fields.text(name, what="an IPv4 network (a.b.c.d/n)")
    if text is None:
        return None
    try:
        network = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError):
        fields.problem(fields.node(name), name, f"{text!r} is not an IPv4 network (a.b.c.d/n)")
        return None
    if network.version != 4 or network.network != network.ip:
        fields.problem(fields.node(name), name, f"{text!r} is not an IPv4 network address (a.b.c.d/n)")
        return None
    return network


def _plan(top: Fields, problems: Problems) -> AddressPlan | None:
    fields = top.mapping("addressing", "the address plan")
    if fields is None:
        return None
    fields.check(("supernet", "school_prefix", "datacenter", "vlans", "devices"), ("workstations",))
    supernet = _network(fields, "supernet")
    datacenter = _network(fields, "datacenter")
    prefix = fields.integer("school_prefix", minimum=8)
    vlans = _vlans(fields)
    devices = fields.mapping("devices", "the managed devices' host numbers")
    hosts = _devices(devices) if devices is not None else None
    # Optional: a plan without it keeps no addresses for workstations (none may then carry a host).
    workstations = _host_range(fields, "workstations") if fields.has("workstations") else None
    if fields.has("workstations") and workstations is None:
        return None
    if supernet is None or datacenter is None or prefix is None or vlans is None or hosts is None:
        return None
    plan = AddressPlan(supernet, prefix, datacenter, vlans, *hosts, workstation_hosts=workstations)
    for field, message in plan_problems(plan):
        # The workstations' range is one line: name it (the other checks name the plan as a whole).
        fields.problem(fields.node(field) if field == "workstations" else None, field, message)
    if plan_problems(plan):
        return None
    return plan


def _vlans(fields: Fields) -> tuple[Vlan, ...] | None:
    table = fields.mapping("vlans", "the VLANs of every school")
    if table is None:
        return None
    table.check(VLAN_NAMES)
    vlans: list[Vlan] = []
    for name in VLAN_NAMES:
        vlan = table.mapping(name, f"the {name} VLAN", required=False)
        if vlan is None:
            continue
        vlan.check(("id", "offset", "prefix"), ("dhcp_from",))
        vlan_id = vlan.integer("id", minimum=1)
        offset = vlan.integer("offset")
        prefix = vlan.integer("prefix", minimum=1)
        dhcp_from = vlan.integer("dhcp_from", required=False, minimum=2)
        if vlan_id is not None and vlan_id > 4094:
            vlan.problem(vlan.node("id"), "id", f"VLAN id {vlan_id} is above 4094")
        elif vlan_id is not None and offset is not None and prefix is not None:
            vlans.append(Vlan(name, vlan_id, offset, prefix, dhcp_from))
    return tuple(vlans) if len(vlans) == len(VLAN_NAMES) else None


def _host_range(fields: Fields, name: str) -> HostRange | None:
    text = fields.text(name, what="a range of host numbers (first-last)")
    match = _RANGE.match(text) if text is not None else None
    if text is not None and match is None:
        fields.problem(fields.node(name), name, f"{text!r} is not a range of host numbers (first-last)")
    if match is None:
        return None
    return HostRange(int(match.group(1)), int(match.group(2)))


def _devices(fields: Fields) -> tuple[int, int, HostRange, HostRange] | None:
    fields.check(("router", "school_server", "switch", "wifi_ap"))
    router = fields.integer("router", minimum=1)
    server = fields.integer("school_server", minimum=1)
    switches = _host_range(fields, "switch")
    access_points = _host_range(fields, "wifi_ap")
    if router is None or server is None or switches is None or access_points is None:
        return None
    return router, server, switches, access_points


def _packs(top: Fields, problems: Problems) -> dict[str, SoftwarePack] | None:
    """The catalogue: `name: description` (a pack still to be defined) or `name: {description, packages,
    settings}`. Package names follow Debian's rule and appear once per pack; settings are scalars."""
    fields = top.mapping(
        "software_packs", "the software packs (name: description, or name: {description, ...})"
    )
    if fields is None:
        return None
    packs: dict[str, SoftwarePack] = {}
    ok = True
    for name in fields.names():
        if not PACK_NAME.match(name):
            fields.problem(fields.node(name), name, "a pack name is lowercase letters, digits and hyphens")
            ok = False
            continue
        node = fields.node(name)
        if isinstance(node, yaml.MappingNode):
            pack = _pack(
                name, Fields(node, top.file, fields.field_path(name), problems), fields.key_line(name)
            )
        else:
            description = fields.text(name, what="a description, or a mapping with description and packages")
            source = Source(top.file, fields.value_line(name), fields.field_path(name))
            pack = SoftwarePack(name, description, (), {}, source) if description is not None else None
        if pack is None:
            ok = False
        else:
            packs[name] = pack
    return packs if ok else None


def _pack(name: str, fields: Fields, key_line: int) -> SoftwarePack | None:
    """A pack in the mapping form; its source is the line of its name."""
    fields.check(("description",), ("packages", "settings"))
    description = fields.text("description")
    packages: list[SoftwarePackage] = []
    first: dict[str, int] = {}
    ok = True
    for path, item in fields.items("packages", "Debian package names", required=False):
        line = line_of(item)
        value = item.value if isinstance(item, yaml.ScalarNode) and item.value else None
        if not isinstance(value, str) or not DEBIAN_PACKAGE.match(value):
            shown = repr(value) if isinstance(value, str) else "this entry"
            fields.problems.add(
                fields.file,
                line,
                path,
                f"pack {name!r}: {shown} is not a Debian package name (lowercase letters, digits, "
                "+ - . ; two characters at least, starting with a letter or digit)",
            )
            ok = False
            continue
        if value in first:
            fields.problems.add(
                fields.file,
                line,
                path,
                f"pack {name!r}: package {value!r} is listed twice (first on line {first[value]})",
            )
            ok = False
            continue
        first[value] = line
        packages.append(SoftwarePackage(value, Source(fields.file, line, path)))
    settings = _settings(name, fields)
    if description is None or settings is None or not ok:
        return None
    return SoftwarePack(
        name, description, tuple(packages), settings, Source(fields.file, key_line, fields.path)
    )


def _settings(pack: str, parent: Fields) -> dict[str, SettingValue] | None:
    if not parent.has("settings"):
        return {}
    fields = parent.mapping("settings", "the pack's settings (name: value)")
    if fields is None:
        return None
    settings: dict[str, SettingValue] = {}
    ok = True
    for key in fields.names():
        node = fields.node(key)
        if not SETTING_NAME.match(key):
            fields.problem(node, key, f"pack {pack!r}: a setting name is lowercase letters, digits and _")
            ok = False
        elif not isinstance(node, yaml.ScalarNode) or (not node.style and node.value in _NULLS):
            fields.problem(
                node, key, f"pack {pack!r}: a setting is a single value (text, number, true/false)"
            )
            ok = False
        elif not node.style and node.value in ("true", "false"):
            settings[key] = node.value == "true"
        elif not node.style and _INTEGER.match(node.value):
            settings[key] = int(node.value)
        else:
            settings[key] = str(node.value)
    return settings if ok else None


def _servers(top: Fields, problems: Problems) -> tuple[Server, ...] | None:
    servers: list[Server] = []
    ok = True
    for path, node in top.items("servers", "servers"):
        fields = Fields.of(node, top.file, path, problems, "a server")
        if fields is None:
            ok = False
            continue
        fields.check(("hostname", "kind", "address", "tag", "model", "serial", "installed"), ("retired",))
        hostname = fields.text("hostname", pattern=HOSTNAME, what="a hostname (lowercase, no dots)")
        kind_text = fields.text("kind")
        kind = None
        if kind_text is not None:
            try:
                kind = ServerKind(kind_text)
            except ValueError:
                choices = ", ".join(kind.value for kind in ServerKind)
                fields.problem(fields.node("kind"), "kind", f"unknown server kind {kind_text!r} ({choices})")
        address = _address(fields, "address")
        tag = fields.text("tag", pattern=ASSET_TAG, what="an asset tag (capitals, digits, hyphens)")
        model = fields.text("model")
        serial = fields.text("serial")
        installed = fields.date("installed")
        retired = fields.date("retired", required=False)
        if installed is not None and retired is not None and retired < installed:
            fields.problem(
                fields.node("retired"), "retired", f"retired {retired} before installed {installed}"
            )
            retired = None
            ok = False
        if hostname and kind and address is not None and tag and model and serial and installed:
            servers.append(
                Server(
                    hostname,
                    kind,
                    address,
                    tag,
                    model,
                    serial,
                    installed,
                    retired,
                    Source(top.file, fields.line, fields.path),
                )
            )
        else:
            ok = False
    return tuple(servers) if ok else None


def _address(fields: Fields, name: str) -> netaddr.IPAddress | None:
    text = fields.text(name, what="an IPv4 address")
    if text is None:
        return None
    try:
        return netaddr.IPAddress(text, 4, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError):
        fields.problem(fields.node(name), name, f"{text!r} is not an IPv4 address")
        return None
