"""Stormshield SNS configurations as lists of serverd (SNS CLI) commands, and what a push sends.

The network_router role renders a router of the `sns` family into a file of SNS CLI commands, one
per line (`CONFIG OBJECT HOST NEW name=... ip=...`). Each command sets one item of a section of the
appliance's configuration: an object, a VLAN interface, a filter rule, an NTP server... SECTIONS says,
for each command, which token names the item, how the appliance lists the section, how an item is
removed and which ACTIVATE applies the section.

A push reads each section the rendered file uses, sends only the commands whose item is missing or
differs, then the ACTIVATE of each section it changed. Items the appliance has and the file does not
stay (a merge, as for IOS): the drift report shows them. Filter rules are order sensitive, so a slot
with any difference is emptied and written whole.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Tokens = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Section:
    """`key`: the token naming an item (None: the section is one set of settings). `show`: the command
    listing the items (section_line format, one line of tokens per item). `remove`: the command that
    deletes an item, given its key (None: items are only overwritten). `ordered`: rules whose order
    matters; `update`: a changed item is sent again with update=1 rather than removed first."""

    command: str
    key: str | None
    show: str
    activate: str
    remove: str | None = None
    ordered: bool = False
    update: bool = False


SECTIONS: Mapping[str, Section] = {
    section.command: section
    for section in (
        Section(
            "CONFIG OBJECT HOST NEW", "name", "CONFIG OBJECT LIST type=host", "CONFIG OBJECT ACTIVATE",
            "CONFIG OBJECT HOST DELETE", update=True,
        ),
        Section(
            "CONFIG OBJECT NETWORK NEW", "name", "CONFIG OBJECT LIST type=network", "CONFIG OBJECT ACTIVATE",
            "CONFIG OBJECT NETWORK DELETE", update=True,
        ),
        Section(
            "CONFIG NETWORK INTERFACE CREATE", "ifname", "CONFIG NETWORK INTERFACE SHOW",
            "CONFIG NETWORK ACTIVATE", "CONFIG NETWORK INTERFACE REMOVE",
        ),
        Section("CONFIG DHCP RELAY SERVER", None, "CONFIG DHCP RELAY SHOW", "CONFIG DHCP ACTIVATE"),
        Section("CONFIG DHCP RELAY STATE", None, "CONFIG DHCP RELAY SHOW", "CONFIG DHCP ACTIVATE"),
        Section(
            "CONFIG DHCP RELAY INTERFACE ADD", "ifname", "CONFIG DHCP RELAY INTERFACE LIST",
            "CONFIG DHCP ACTIVATE", "CONFIG DHCP RELAY INTERFACE REMOVE",
        ),
        Section(
            "CONFIG FILTER RULE INSERT", "position", "CONFIG FILTER SHOW index=9 type=filter",
            "CONFIG FILTER ACTIVATE", "CONFIG FILTER RULE REMOVE index=9 type=filter", ordered=True,
        ),
        Section(
            "CONFIG NTP SERVER ADD", "name", "CONFIG NTP SERVER LIST", "CONFIG NTP ACTIVATE",
            "CONFIG NTP SERVER REMOVE",
        ),
        Section("CONFIG NTP STATE", None, "CONFIG NTP SHOW", "CONFIG NTP ACTIVATE"),
        Section(
            "CONFIG COMMUNICATION SYSLOG PROFILE UPDATE", "index", "CONFIG COMMUNICATION SYSLOG PROFILE SHOW",
            "CONFIG COMMUNICATION ACTIVATE",
        ),
        Section("CONFIG SNMP SYSTEM", None, "CONFIG SNMP SHOW", "CONFIG SNMP ACTIVATE"),
        Section("CONFIG SNMP STATE", None, "CONFIG SNMP SHOW", "CONFIG SNMP ACTIVATE"),
        Section(
            "CONFIG WEBADMIN ACCESS ADD", "host", "CONFIG WEBADMIN ACCESS SHOW", "CONFIG WEBADMIN ACTIVATE",
            "CONFIG WEBADMIN ACCESS REMOVE",
        ),
    )
}  # fmt: skip
# The filter slot the rendered rules live in (slot 9 of the appliance's ten).
FILTER_SLOT = "9"
# Taking the write privilege first: without it serverd refuses every CONFIG change.
MODIFY = "MODIFY ON FORCE"
BACKUP = "CONFIG BACKUP list=all"
_WORD = re.compile(r"[A-Z][A-Z0-9]*\Z")


class SnsError(ValueError):
    """A line of a rendered file that is not a command this module knows how to push."""


@dataclass(frozen=True, slots=True)
class Command:
    words: str
    tokens: Tokens

    @property
    def section(self) -> Section:
        return SECTIONS[self.words]

    def token(self, name: str) -> str | None:
        return next((value for key, value in self.tokens if key == name), None)

    def __str__(self) -> str:
        return format_command(self.words, self.tokens)


def _quote(value: str) -> str:
    return f'"{value}"' if not value or re.search(r'[\s"]', value) else value


def format_command(words: str, tokens: Iterable[tuple[str, str]]) -> str:
    return " ".join([words, *(f"{key}={_quote(value)}" for key, value in tokens)])


def parse_command(line: str) -> Command:
    """`CONFIG X Y key=value key="two words"`: the upper-case words, then the tokens, in order."""
    try:
        parts = shlex.split(line)
    except ValueError as error:
        raise SnsError(f"{line!r}: {error}") from None
    words: list[str] = []
    tokens: list[tuple[str, str]] = []
    for part in parts:
        if "=" in part:
            key, value = part.split("=", 1)
            tokens.append((key.lower(), value))
        elif tokens or not _WORD.match(part):
            raise SnsError(f"{line!r}: {part!r} is neither a command word nor a token=value")
        else:
            words.append(part)
    return Command(" ".join(words), tuple(tokens))


def parse_config(text: str) -> list[Command]:
    """The commands of a rendered file: comments (#) and the ACTIVATE lines (a push sends those of
    the sections it changes) are left out. An unknown command is an error: it could not be diffed."""
    activates = {section.activate for section in SECTIONS.values()}
    commands = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line in activates:
            continue
        command = parse_command(line)
        if command.words not in SECTIONS:
            raise SnsError(f"line {number}: {command.words!r} is not a command the SNS push knows")
        if command.section.key is not None and command.token(command.section.key) is None:
            raise SnsError(f"line {number}: {command.words} needs {command.section.key}=")
        commands.append(command)
    return commands


def show_commands(intended: Sequence[Command]) -> list[str]:
    """The commands that read every section the intended configuration uses, once each."""
    return list(dict.fromkeys(command.section.show for command in intended))


Running = Mapping[str, Sequence[Mapping[str, str]]]


def _holds(item: Mapping[str, str], command: Command) -> bool:
    """Whether the appliance's item has every token the command sets (it prints more: defaults)."""
    lowered = {key.lower(): value for key, value in item.items()}
    return all(lowered.get(key) == value for key, value in command.tokens)


def _find(items: Sequence[Mapping[str, str]], key: str, value: str) -> Mapping[str, str] | None:
    return next((item for item in items if {k.lower(): v for k, v in item.items()}.get(key) == value), None)


def push_commands(intended: Sequence[Command], running: Running) -> list[str]:
    """What makes the appliance hold every intended item: changed or missing items, then the
    ACTIVATE of each section touched, in the file's order. Nothing when it already does."""
    commands: list[str] = []
    activates: list[str] = []
    by_section: dict[str, list[Command]] = {}
    for command in intended:
        by_section.setdefault(command.words, []).append(command)
    for words, wanted in by_section.items():
        section = SECTIONS[words]
        items = running.get(section.show, [])
        sent = _section_commands(section, wanted, items)
        commands += sent
        if sent and section.activate not in activates:
            activates.append(section.activate)
    return commands + activates


def _section_commands(
    section: Section, wanted: Sequence[Command], items: Sequence[Mapping[str, str]]
) -> list[str]:
    if section.key is None:
        merged = {key: value for item in items for key, value in item.items()}
        return [str(command) for command in wanted if not _holds(merged, command)]
    if section.ordered:
        positions = [item.get("position", "") for item in items]
        current = [_find(items, "position", command.token("position") or "") for command in wanted]
        if len(items) == len(wanted) and all(
            item is not None and _holds(item, command) for item, command in zip(current, wanted, strict=True)
        ):
            return []
        removals = sorted((int(p) for p in positions if p.isdigit()), reverse=True)
        assert section.remove is not None
        return [f"{section.remove} position={p}" for p in removals] + [str(c) for c in wanted]
    sent: list[str] = []
    key = section.key
    for command in wanted:
        value = command.token(key) or ""
        item = _find(items, key, value)
        if item is not None and _holds(item, command):
            continue
        if item is not None and section.update:
            sent.append(f"{command} update=1")
        elif item is not None and section.remove is not None:
            sent += [format_command(section.remove, [(key, value)]), str(command)]
        else:
            sent.append(str(command))
    return sent


def canonical(intended: Sequence[Command]) -> str:
    """The intended configuration as the drift report compares it: one line per item."""
    return "".join(f"{command}\n" for command in intended)


def running_text(intended: Sequence[Command], running: Running) -> str:
    """The appliance's items of the sections the intended configuration uses, written as the commands
    that would create them, to compare with `canonical` line by line. An item the file names shows
    only the tokens the file sets (the appliance prints its defaults too); an item only the appliance
    has shows all of its tokens, sorted."""
    lines: list[str] = []
    wanted: dict[str, list[Command]] = {}
    for command in intended:
        wanted.setdefault(command.words, []).append(command)
    for words, commands in wanted.items():
        section = SECTIONS[words]
        items = [{k.lower(): v for k, v in item.items()} for item in running.get(section.show, [])]
        if section.key is None:
            merged = {key: value for item in items for key, value in item.items()}
            for command in commands:
                tokens = [(key, merged[key]) for key, _ in command.tokens if key in merged]
                if tokens:
                    lines.append(format_command(words, tokens))
            continue
        named = {command.token(section.key): command for command in commands}
        for item in items:
            match = named.get(item.get(section.key))
            if match is not None:
                tokens = [(key, item[key]) for key, _ in match.tokens if key in item]
            else:
                tokens = sorted(item.items())
            lines.append(format_command(words, tokens))
    return "".join(f"{line}\n" for line in lines)


def _host_object(address: str) -> str:
    return "sf_h_" + address.replace(".", "_")


def _network_object(source: Mapping[str, Any]) -> str:
    return f"sf_n_{str(source['network']).replace('.', '_')}_{source['prefixlen']}"


def render(plan: Mapping[str, Any], *, school: str, location: str, header: str) -> str:
    """A router plan (schoolfleet.network.plan.router_plan) as SNS CLI commands, for review and push.

    The objects first (everything else names them), then each section followed by its ACTIVATE, so
    that the file replayed by hand in the appliance's CLI gives the same configuration as a push.
    """
    trunk = str(plan["trunk_interface"])
    interfaces = plan["interfaces"]
    vlans = {acl["source"]["name"]: acl for acl in plan["acls"]}
    hosts: dict[str, None] = {}
    for address in [*plan["ntp_servers"], *plan["syslog_servers"]]:
        hosts[address] = None
    for itf in interfaces:
        hosts.update(dict.fromkeys(itf["helpers"]))
    for acl in plan["acls"]:
        hosts.update(dict.fromkeys(acl["permit_hosts"]))
    sources: dict[str, Mapping[str, Any]] = {}
    for source in [*plan["snmp_sources"], *plan["admin_sources"]]:
        sources.setdefault(_network_object(source), source)
    out = [
        f"# {header}",
        f"# Router {plan['hostname']}, school {school}: SNS CLI (serverd) commands rendered from the",
        "# register by the network_router role. network_deploy sends only what the appliance lacks,",
        "# then the ACTIVATE of each section it changed; changes made on the appliance are drift.",
        "",
        "# Objects: the school's VLANs, the servers it talks to, the networks allowed to manage it.",
    ]
    for itf in interfaces:
        out.append(
            format_command(
                "CONFIG OBJECT NETWORK NEW",
                [("name", f"sf_vlan_{itf['name']}"), ("ip", _network_of(itf)), ("mask", itf["netmask"])],
            )
        )
    for name, source in sources.items():
        out.append(
            format_command(
                "CONFIG OBJECT NETWORK NEW",
                [("name", name), ("ip", str(source["network"])), ("mask", str(source["netmask"]))],
            )
        )
    for address in hosts:
        out.append(
            format_command(
                "CONFIG OBJECT HOST NEW",
                [("name", _host_object(address)), ("ip", address), ("resolve", "static")],
            )
        )
    out += ["CONFIG OBJECT ACTIVATE", "", f"# One VLAN interface per VLAN of the plan, on the trunk {trunk}."]
    for itf in interfaces:
        out.append(
            format_command(
                "CONFIG NETWORK INTERFACE CREATE",
                [
                    ("ifname", f"vlan{itf['vlan_id']}"),
                    ("name", itf["name"]),
                    ("physical", trunk),
                    ("tag", str(itf["vlan_id"])),
                    ("protected", "1"),
                    ("address", itf["address"]),
                    ("mask", itf["netmask"]),
                    ("state", "1"),
                ],
            )
        )
    out.append("CONFIG NETWORK ACTIVATE")
    relayed = [itf for itf in interfaces if itf["helpers"]]
    if relayed:
        out += ["", "# DHCP relay to the school server, on the VLANs with a DHCP range."]
        out.append(
            format_command(
                "CONFIG DHCP RELAY SERVER",
                [("server", ",".join(_host_object(h) for h in relayed[0]["helpers"]))],
            )
        )
        for itf in relayed:
            out.append(
                format_command("CONFIG DHCP RELAY INTERFACE ADD", [("ifname", f"vlan{itf['vlan_id']}")])
            )
        out += ["CONFIG DHCP RELAY STATE state=1", "CONFIG DHCP ACTIVATE"]
    out += ["", f"# Filter slot {FILTER_SLOT}: what the IOS and ProCurve access lists do, in their order."]
    rules: list[list[tuple[str, str]]] = []
    admin = [_network_object(source) for source in plan["admin_sources"]]
    for name in admin:
        rules.append(
            [("action", "pass"), ("srctarget", name), ("dsttarget", "firewall_all"), ("dstport", "https")]
        )
    if admin:
        rules.append(
            [("action", "block"), ("srctarget", "any"), ("dsttarget", "firewall_all"), ("dstport", "https")]
        )
    for source in plan["snmp_sources"]:
        rules.append(
            [
                ("action", "pass"),
                ("srctarget", _network_object(source)),
                ("dsttarget", "firewall_all"),
                ("dstport", "snmp"),
            ]
        )
    for itf in interfaces:
        acl = vlans.get(itf["name"])
        if acl is None:
            continue
        source = f"sf_vlan_{itf['name']}"
        for host in acl["permit_hosts"]:
            rules.append([("action", "pass"), ("srctarget", source), ("dsttarget", _host_object(host))])
        for target in acl["deny"]:
            rules.append(
                [("action", "block"), ("srctarget", source), ("dsttarget", f"sf_vlan_{target['name']}")]
            )
    rules.append([("action", "pass"), ("srctarget", "any"), ("dsttarget", "any")])
    for position, tokens in enumerate(rules, 1):
        out.append(
            format_command(
                "CONFIG FILTER RULE INSERT",
                [
                    ("index", FILTER_SLOT),
                    ("type", "filter"),
                    ("position", str(position)),
                    ("state", "on"),
                    *tokens,
                ],
            )
        )
    out += ["CONFIG FILTER ACTIVATE", "", "# Time, logs and SNMP towards the central server."]
    for address in plan["ntp_servers"]:
        out.append(format_command("CONFIG NTP SERVER ADD", [("name", _host_object(address))]))
    out += ["CONFIG NTP STATE state=1", "CONFIG NTP ACTIVATE"]
    if plan["syslog_servers"]:
        for index, address in enumerate(plan["syslog_servers"]):
            out.append(
                format_command(
                    "CONFIG COMMUNICATION SYSLOG PROFILE UPDATE",
                    [("index", str(index)), ("state", "1"), ("server", _host_object(address)),
                     ("port", "syslog"), ("protocol", "udp"), ("format", "rfc5424")],
                )
            )  # fmt: skip
        out.append("CONFIG COMMUNICATION ACTIVATE")
    if location:
        out.append(format_command("CONFIG SNMP SYSTEM", [("location", location)]))
    out += [
        "CONFIG SNMP STATE state=1",
        "# The SNMP community is applied by network_deploy from Vault, never written here.",
        "CONFIG SNMP ACTIVATE",
    ]
    if admin:
        out += ["", "# Administration (web and API) from the admin networks only."]
        for name in admin:
            out.append(format_command("CONFIG WEBADMIN ACCESS ADD", [("host", name)]))
        out.append("CONFIG WEBADMIN ACTIVATE")
    return "\n".join(out) + "\n"


def _network_of(itf: Mapping[str, Any]) -> str:
    return str(ipaddress.IPv4Interface(f"{itf['address']}/{itf['prefixlen']}").network.network_address)
