"""Checks across records and files: what no single field can tell is wrong.

Duplicates (UAI, asset tag, hostname, address, member, workstation MAC and host number), schools in
unknown communes, address blocks that overlap or fall outside the supernet, devices beyond the plan's
ranges, unknown software packs, devices and licences outside their school's stay, network devices
of a model the device catalogue does not run; free text that would break a configuration it is
rendered into (config_text.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import netaddr

from schoolfleet.register.addressing import block_size, max_units
from schoolfleet.register.config_text import check_config_texts
from schoolfleet.register.devices import check_models
from schoolfleet.register.errors import Problems
from schoolfleet.register.model import Authority, Equipment, EquipmentKind, Member, MemberKind, Source
from schoolfleet.register.naming import hostname


def check_register(authority: Authority | None, members: list[Member], problems: Problems) -> None:
    _check_members(members, problems)
    _check_schools(authority, members, problems)
    _check_stays(members, problems)
    _check_tags(authority, members, problems)
    _check_hostnames(authority, members, problems)
    _check_macs(members, problems)
    check_config_texts(authority, members, problems)
    if authority is not None:
        _check_blocks(authority, members, problems)
        _check_servers(authority, problems)
        _check_workstation_hosts(authority, members, problems)
        check_models(authority.devices, members, problems)


def _at(problems: Problems, source: Source, field: str, message: str) -> None:
    problems.add(source.file, source.line, source.field(field), message)


def _first(seen: dict[str, Source], key: str, source: Source) -> Source | None:
    """The earlier record with the same key, if any; else remember this one."""
    earlier = seen.get(key)
    if earlier is None:
        seen[key] = source
    return earlier


def _check_members(members: list[Member], problems: Problems) -> None:
    codes: dict[str, Source] = {}
    names: dict[str, tuple[str, Source]] = {}
    for member in members:
        if (earlier := _first(codes, f"{member.kind}:{member.code}", member.source)) is not None:
            field = "commune.insee" if member.kind is MemberKind.COMMUNE else "sivos.code"
            _at(problems, member.source, field, f"{member.code} is already a member in {earlier}")
        for commune in member.communes:
            known = names.setdefault(commune.insee, (commune.name, member.source))
            if known[0] != commune.name:
                _at(
                    problems,
                    member.source,
                    "communes",
                    f"commune {commune.insee} is named {commune.name!r} here "
                    f"but {known[0]!r} in {known[1].file}",
                )


def _check_schools(authority: Authority | None, members: list[Member], problems: Problems) -> None:
    known_communes = {commune.insee for member in members for commune in member.communes}
    packs = authority.software_packs if authority is not None else None
    uais: dict[str, Source] = {}
    for member in members:
        own = {commune.insee for commune in member.communes}
        for school in member.schools:
            source = school.source
            if (earlier := _first(uais, school.uai, source)) is not None:
                _at(problems, source, "uai", f"duplicate UAI {school.uai} (also at {earlier})")
            if member.kind is MemberKind.SIVOS and school.commune not in own:
                _at(
                    problems,
                    source,
                    "commune",
                    f"school {school.uai} is in commune {school.commune}, not one of the SIVOS's communes "
                    f"({', '.join(sorted(own))})",
                )
            elif school.commune not in known_communes:
                _at(
                    problems, source, "commune", f"school {school.uai} is in unknown commune {school.commune}"
                )
            if packs is not None:
                for index, pack in enumerate(school.packs):
                    if pack not in packs:
                        where = school.pack_sources[index] if index < len(school.pack_sources) else None
                        known = ", ".join(packs) or "none"
                        problems.add(
                            source.file,
                            where.line if where is not None else source.line,
                            where.path if where is not None else source.field("software.packs"),
                            f"unknown software pack {pack!r} (the catalogue in authority.yml has: {known})",
                        )
            for item in school.equipment:
                if item.kind is EquipmentKind.WIFI_AP:
                    _check_wifi_ap(member, item, problems)


def _check_wifi_ap(member: Member, item: Equipment, problems: Problems) -> None:
    """An access point is in service only within one period of its member's Wi-Fi option."""
    if not member.wifi:
        _at(
            problems,
            item.source,
            "kind",
            f"Wi-Fi access point {item.tag} at a school whose member has no Wi-Fi option",
        )
        return
    last = item.retired - dt.timedelta(days=1) if item.retired is not None else None
    for period in member.options:
        ends_within = period.until is None or (last is not None and last <= period.until)
        if period.name == "wifi" and period.since <= item.installed and ends_within:
            return
    spans = ", ".join(f"{p.since} to {p.until or 'open'}" for p in member.options if p.name == "wifi")
    held = f"from {item.installed}" + (f" to {last}" if last is not None else "")
    _at(
        problems,
        item.source,
        "installed",
        f"Wi-Fi access point {item.tag} in service {held}, outside its member's Wi-Fi option ({spans})",
    )


def _check_stays(members: list[Member], problems: Problems) -> None:
    """What a school holds falls within its own stay: billed to its member only while it belongs."""
    for member in members:
        for school in member.schools:
            arrived = school.joined if school.joined_source is not None else None
            gone = member.convention.left
            for item in school.equipment:
                if gone is not None and item.installed >= gone:
                    # It would be in service under no convention: billed to nobody.
                    _at(
                        problems,
                        item.source,
                        "installed",
                        f"{item.tag} installed {item.installed}, once its member had left ({gone})",
                    )
                if arrived is not None and item.installed < arrived:
                    _at(
                        problems,
                        item.source,
                        "installed",
                        f"{item.tag} installed {item.installed}, before its school joined ({arrived})",
                    )
                if school.left is not None and (item.retired is None or item.retired > school.left):
                    _at(
                        problems,
                        item.source,
                        "retired",
                        f"{item.tag} must be retired by {school.left}, when its school left",
                    )
            for licence in school.licences:
                if arrived is not None and licence.start < arrived:
                    _at(
                        problems,
                        licence.source,
                        "start",
                        f"licence {licence.product} starts {licence.start}, before its school joined"
                        f" ({arrived})",
                    )
                if school.left is not None and (licence.end is None or licence.end >= school.left):
                    _at(
                        problems,
                        licence.source,
                        "end",
                        f"licence {licence.product} must end before {school.left}, when its school left",
                    )


def _check_tags(authority: Authority | None, members: list[Member], problems: Problems) -> None:
    tags: dict[str, Source] = {}
    if authority is not None:
        for server in authority.servers:
            _first(tags, server.tag, server.source)
    for member in members:
        for school in member.schools:
            for item in school.equipment:
                if (earlier := _first(tags, item.tag, item.source)) is not None:
                    _at(problems, item.source, "tag", f"duplicate asset tag {item.tag} (also at {earlier})")


def _overlap(a: Equipment, b: Equipment) -> bool:
    """Whether two devices are in service on some common day."""
    a_end, b_end = a.retired, b.retired
    return (b_end is None or a.installed < b_end) and (a_end is None or b.installed < a_end)


def _check_hostnames(authority: Authority | None, members: list[Member], problems: Problems) -> None:
    """A managed device's name is its school's and its role's: two of them in service at once clash.

    A replacement keeps the name of the device it replaces, so only overlapping service periods count.
    """
    servers = (
        {server.hostname: server.source for server in authority.servers} if authority is not None else {}
    )
    by_name: dict[str, list[Equipment]] = defaultdict(list)
    uais: set[str] = set()
    for member in members:
        for school in member.schools:
            # A duplicate UAI is reported as such, not once more per device as duplicate hostnames.
            if school.uai in uais:
                continue
            uais.add(school.uai)
            for item in school.equipment:
                name = hostname(school.uai, item)
                if name in servers:
                    _at(problems, item.source, "tag", f"hostname {name} is also a server in {servers[name]}")
                if item.kind.managed:
                    by_name[name].append(item)
    for name, items in by_name.items():
        for index, item in enumerate(items):
            clash = next((other for other in items[:index] if _overlap(item, other)), None)
            if clash is not None:
                field = "unit" if item.kind.numbered else "kind"
                _at(
                    problems,
                    item.source,
                    field,
                    f"duplicate hostname {name}: {item.tag} and {clash.tag} ({clash.source}) are in service "
                    "at the same time (retire the old one first)",
                )


def _check_blocks(authority: Authority, members: list[Member], problems: Problems) -> None:
    plan = authority.plan
    size = block_size(plan)
    blocks: dict[int, Source] = {}
    datacenter = plan.datacenter
    for member in members:
        for school in member.schools:
            source = school.source
            if school.block >= plan.block_count:
                _at(
                    problems,
                    source,
                    "block",
                    f"block {school.block} is outside the supernet {plan.supernet}: it holds "
                    f"{plan.block_count} blocks of /{plan.school_prefix} (0 to {plan.block_count - 1})",
                )
                continue
            if (earlier := blocks.get(school.block)) is not None:
                _at(
                    problems,
                    source,
                    "block",
                    f"address block {school.block} overlaps the school at {earlier} "
                    "(each school needs its own block)",
                )
                continue
            blocks[school.block] = source
            first = int(plan.supernet.first) + school.block * size
            if first <= datacenter.last and datacenter.first <= first + size - 1:
                _at(
                    problems,
                    source,
                    "block",
                    f"address block {school.block} overlaps the datacenter {datacenter}",
                )
            for item in school.equipment:
                if item.kind.numbered and item.unit is not None and item.unit > max_units(plan, item.kind):
                    _at(
                        problems,
                        item.source,
                        "unit",
                        f"{item.kind} unit {item.unit} exhausts the plan: the management VLAN has room for "
                        f"{max_units(plan, item.kind)}",
                    )


def _check_servers(authority: Authority, problems: Problems) -> None:
    names: dict[str, Source] = {}
    addresses: dict[netaddr.IPAddress, Source] = {}
    for server in authority.servers:
        source = server.source
        if (earlier := _first(names, server.hostname, source)) is not None:
            _at(problems, source, "hostname", f"duplicate hostname {server.hostname} (also at {earlier})")
        if (other := addresses.get(server.address)) is not None:
            _at(problems, source, "address", f"duplicate address {server.address} (also at {other})")
        addresses.setdefault(server.address, source)
        if server.address not in authority.plan.datacenter:
            _at(
                problems,
                source,
                "address",
                f"{server.address} is outside the datacenter network {authority.plan.datacenter}",
            )


def _check_macs(members: list[Member], problems: Problems) -> None:
    """A MAC is a machine: unique over the whole fleet, retired records included (history stays true)."""
    macs: dict[str, tuple[str, Source]] = {}
    for member in members:
        for school in member.schools:
            for item in school.equipment:
                if item.mac is None:
                    continue
                earlier = macs.setdefault(item.mac, (item.tag, item.source))
                if earlier[0] != item.tag:
                    _at(
                        problems,
                        item.source,
                        "mac",
                        f"duplicate MAC {item.mac}: {item.tag} and {earlier[0]} ({earlier[1]})",
                    )


def _check_workstation_hosts(authority: Authority, members: list[Member], problems: Problems) -> None:
    """Host numbers inside the plan's workstations range, each given once per school, ever.

    Retired records keep theirs: an address once given is never given to another machine, so a
    replacement gets a new number and nobody is renumbered.
    """
    span = authority.plan.workstation_hosts
    for member in members:
        for school in member.schools:
            given: dict[int, Equipment] = {}
            for item in school.equipment:
                if item.host is None:
                    continue
                if span is None:
                    _at(
                        problems,
                        item.source,
                        "host",
                        "the address plan keeps no host numbers for workstations (addressing.workstations)",
                    )
                    continue
                if not span.first <= item.host <= span.last:
                    _at(
                        problems,
                        item.source,
                        "host",
                        f"host {item.host} is outside the workstations' range {span.first}-{span.last} "
                        "of the pedagogy VLAN",
                    )
                    continue
                earlier = given.setdefault(item.host, item)
                if earlier is not item:
                    _at(
                        problems,
                        item.source,
                        "host",
                        f"host {item.host} of school {school.uai} was already given to {earlier.tag} "
                        f"({earlier.source}): an address is never given to another machine",
                    )
