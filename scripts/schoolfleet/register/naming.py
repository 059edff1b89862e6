"""Inventory hostnames: lowercase, no dots, stable.

A school's managed devices are named after the school and their role (`0911234k-srv`, `-rtr`, `-sw2`,
`-ap1`), so a replaced device keeps its name and address. Billable-only equipment is named after its
asset tag (`ws-sf-004211`), which never changes. The authority's servers have the names written in
`authority.yml`.
"""

from __future__ import annotations

from schoolfleet.register.model import Equipment, EquipmentKind

ABBREVIATIONS = {
    EquipmentKind.SCHOOL_SERVER: "srv",
    EquipmentKind.ROUTER: "rtr",
    EquipmentKind.SWITCH: "sw",
    EquipmentKind.WIFI_AP: "ap",
    EquipmentKind.WORKSTATION: "ws",
    EquipmentKind.SPECIFIC_WORKSTATION: "sws",
    EquipmentKind.SPECIFIC_SERVER: "ssrv",
    EquipmentKind.INKJET_PRINTER: "prn",
    EquipmentKind.INTERACTIVE_PROJECTOR: "vpi",
}


def hostname(uai: str, item: Equipment) -> str:
    abbreviation = ABBREVIATIONS[item.kind]
    if not item.kind.managed:
        return f"{abbreviation}-{item.tag.lower()}"
    if item.kind.numbered:
        return f"{uai.lower()}-{abbreviation}{item.unit}"
    return f"{uai.lower()}-{abbreviation}"


def school_server_hostname(uai: str) -> str:
    """The inventory name of a school's server, whichever machine holds the role."""
    return f"{uai.lower()}-{ABBREVIATIONS[EquipmentKind.SCHOOL_SERVER]}"


def group_name(prefix: str, code: str) -> str:
    """An inventory group name: Ansible accepts letters, digits and underscores only."""
    return f"{prefix}_{code.lower().replace('-', '_')}"
