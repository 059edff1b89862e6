"""The Ansible inventory the register describes on a given day, as plain data.

The inventory plugin turns this into Ansible hosts and groups, and caches it as JSON: so everything here
is text, numbers, lists and dicts. Only what is in service that day is in it: members whose convention
runs, and devices installed and not yet retired.

A workstation with a MAC is a managed host (`classroom_workstations`), at its reserved address in the
pedagogy VLAN, reached through its school server; one without stays billable-only (`unmanaged`). Its
school server gets the list of them (`fleet_workstations`) for DHCP reservations, boot menus and names.

A school's server and its classroom workstations get `fleet_software`, what the catalogue gives the
school (`school_software`): its packs, their packages, the packages of the catalogue's other packs to
remove, and the packs' settings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from schoolfleet.register.addressing import device_address, school_networks, workstation_address
from schoolfleet.register.model import (
    Equipment,
    EquipmentKind,
    MemberKind,
    Register,
    School,
    ServerKind,
    SoftwarePack,
)
from schoolfleet.register.naming import group_name, hostname, school_server_hostname

Reach = Literal["ssh", "podman"]

MANAGED = "managed"
UNMANAGED = "unmanaged"
CLASSROOM_WORKSTATIONS = "classroom_workstations"
ROLE_GROUPS: dict[ServerKind | EquipmentKind, str] = {
    ServerKind.CENTRAL_SERVER: "central_servers",
    ServerKind.BACKUP_SERVER: "backup_servers",
    EquipmentKind.SCHOOL_SERVER: "school_servers",
    EquipmentKind.ROUTER: "routers",
    EquipmentKind.SWITCH: "switches",
    EquipmentKind.WIFI_AP: "wifi_aps",
    EquipmentKind.WORKSTATION: "workstations",
    EquipmentKind.SPECIFIC_WORKSTATION: "specific_workstations",
    EquipmentKind.SPECIFIC_SERVER: "specific_servers",
    EquipmentKind.INKJET_PRINTER: "printers",
    EquipmentKind.INTERACTIVE_PROJECTOR: "projectors",
}
WIFI_SERVICE = "wifi_service"
# Billable-only equipment has no connection that works: a play that reaches it by mistake (hosts: all)
# fails at once on every such host instead of trying SSH to 3,000 workstations.
UNMANAGED_VARS = {"ansible_connection": "none"}
# The lab: podman containers named after the inventory hosts, with the image's Python.
PODMAN_VARS = {
    "ansible_connection": "containers.podman.podman",
    "ansible_python_interpreter": "/usr/bin/python3",
}


@dataclass
class Inventory:
    """Groups (vars, child groups) and hosts (their groups, their vars), in a stable order."""

    group_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Children as dict keys: an ordered set, since a zone's group gets thousands of schools.
    children: dict[str, dict[str, None]] = field(default_factory=dict)
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def group(self, name: str, parent: str | None = None) -> str:
        if name not in self.children:
            self.children[name] = {}
            self.group_vars[name] = {}
        if parent is not None:
            self.group(parent)
            self.children[parent][name] = None
        return name

    def host(self, name: str, groups: list[str], variables: dict[str, Any]) -> None:
        self.hosts[name] = {"groups": groups, "vars": variables}

    def as_data(self, all_vars: dict[str, Any]) -> dict[str, Any]:
        groups = {
            name: {"vars": self.group_vars[name], "children": list(kids)}
            for name, kids in self.children.items()
        }
        return {"vars": all_vars, "groups": groups, "hosts": self.hosts}


def _asset(item: Equipment) -> dict[str, Any]:
    asset: dict[str, Any] = {
        "tag": item.tag,
        "kind": item.kind.value,
        "model": item.model,
        "serial": item.serial,
        "installed": item.installed.isoformat(),
        "retired": item.retired.isoformat() if item.retired else None,
    }
    if item.unit is not None:
        asset["unit"] = item.unit
    if item.mac is not None:
        asset["mac"] = item.mac
    if item.host is not None:
        asset["host"] = item.host
    return asset


def _workstation_entry(name: str, item: Equipment, address: str) -> dict[str, Any]:
    """One entry of the school server's `fleet_workstations` (the contract with its roles)."""
    return {
        "hostname": name,
        "tag": item.tag,
        "kind": item.kind.value,
        "mac": item.mac,
        "address": address,
        "host": item.host,
        "serial": item.serial,
        "model": item.model,
    }


def _school_vars(school: School) -> dict[str, Any]:
    return {
        "uai": school.uai,
        "name": school.name,
        "kind": school.kind.value,
        "zone": school.zone.value,
        "pupils": school.pupils,
        "teachers": school.teachers,
        "commune": school.commune,
        "block": school.block,
    }


def school_software(catalogue: Mapping[str, SoftwarePack], packs: Iterable[str]) -> dict[str, Any]:
    """What the catalogue gives a school with these packs (the workstation role's input).

    `packages`: the union of its packs' packages, in the packs' order; `removed_packages`: those of the
    catalogue's other packs, except any of `packages` (a package two packs share stays); `settings`:
    its packs' settings merged, a later pack's value winning.
    """
    own = [name for name in dict.fromkeys(packs) if name in catalogue]
    packages = list(dict.fromkeys(package for name in own for package in catalogue[name].package_names))
    kept = set(packages)
    removed = dict.fromkeys(
        package
        for name, pack in catalogue.items()
        if name not in own
        for package in pack.package_names
        if package not in kept
    )
    settings: dict[str, Any] = {}
    for name in own:
        settings.update(catalogue[name].settings)
    return {"packs": own, "packages": packages, "removed_packages": list(removed), "settings": settings}


def build_inventory(
    register: Register, *, as_of: dt.date, reach: Reach = "ssh", unmanaged: bool = True
) -> dict[str, Any]:
    """The inventory on `as_of`: hosts reached over SSH at their planned address, or in the podman lab."""
    plan = register.authority.plan
    inventory = Inventory()
    inventory.group(MANAGED)
    if reach == "podman":
        inventory.group_vars[MANAGED].update(PODMAN_VARS)
    inventory.group(UNMANAGED)
    inventory.group_vars[UNMANAGED].update(UNMANAGED_VARS)
    for kind, role_group in ROLE_GROUPS.items():
        if isinstance(kind, EquipmentKind) and kind.workstation:
            # Managed or billable-only host by host: under neither tree, or one host would be in both
            # and get `ansible_connection: none`.
            inventory.group(role_group)
            continue
        managed = not isinstance(kind, EquipmentKind) or kind.managed
        if managed or unmanaged:
            inventory.group(role_group, MANAGED if managed else UNMANAGED)
    inventory.group(CLASSROOM_WORKSTATIONS, MANAGED)
    inventory.group(WIFI_SERVICE)
    all_vars = {"fleet_supernet": str(plan.supernet), "fleet_datacenter_network": str(plan.datacenter)}

    for server in register.authority.servers:
        if not server.held_on(as_of):
            continue
        address = str(server.address)
        variables: dict[str, Any] = {
            "fleet_role": server.kind.value,
            "fleet_address": address,
            "fleet_asset": {
                "tag": server.tag,
                "kind": server.kind.value,
                "model": server.model,
                "serial": server.serial,
                "installed": server.installed.isoformat(),
                "retired": server.retired.isoformat() if server.retired else None,
            },
        }
        if reach == "ssh":
            variables["ansible_host"] = address
        inventory.host(server.hostname, [ROLE_GROUPS[server.kind]], variables)

    for member in register.members_on(as_of):
        member_vars = {"kind": member.kind.value, "code": member.code, "name": member.name}
        sivos_group = (
            inventory.group(group_name("sivos", member.code)) if member.kind is MemberKind.SIVOS else None
        )
        for school in member.schools:
            school_group = inventory.group(group_name("school", school.uai))
            inventory.group(school_group, group_name("commune", school.commune))
            inventory.group(school_group, f"zone_{school.zone.value.lower()}")
            if sivos_group is not None:
                inventory.group(school_group, sivos_group)
            if member.wifi:
                inventory.group(school_group, WIFI_SERVICE)
            school_vars = _school_vars(school)
            software = school_software(register.authority.software_packs, school.packs)
            network = {
                name: vlan.as_dict()
                for name, vlan in school_networks(plan, school.block, wifi=member.wifi).items()
            }
            held = list(school.equipment_held_on(as_of))
            server_name = school_server_hostname(school.uai)
            # The school's delivered workstations, by host number: the server's list and their hosts.
            delivered = sorted(
                (item for item in held if item.kind.workstation and item.mac is not None and item.host),
                key=lambda item: item.host or 0,
            )
            workstations = [
                _workstation_entry(
                    hostname(school.uai, item),
                    item,
                    str(workstation_address(plan, school.block, item.host or 0)),
                )
                for item in delivered
            ]
            reserved = {entry["tag"]: entry for entry in workstations}
            for item in held:
                role_group = ROLE_GROUPS[item.kind]
                groups = [role_group, school_group]
                if item.kind.managed or item.tag in reserved:
                    if item.tag in reserved:
                        address = reserved[item.tag]["address"]
                        groups.append(CLASSROOM_WORKSTATIONS)
                    else:
                        address = str(device_address(plan, school.block, item.kind, item.unit))
                    variables = {
                        "fleet_role": item.kind.value,
                        "fleet_address": address,
                        "fleet_school": school_vars,
                        "fleet_member": member_vars,
                        "fleet_network": network,
                        "fleet_asset": _asset(item),
                    }
                    model = register.authority.devices.get(item.model)
                    if model is not None and model.kind is item.kind:
                        # The validator made sure every router, switch and access point has one.
                        variables.update(model.as_vars())
                    if item.kind is EquipmentKind.SCHOOL_SERVER:
                        variables["fleet_workstations"] = workstations
                        variables["fleet_software"] = software
                    elif item.tag in reserved:
                        variables["fleet_mac"] = item.mac
                        variables["fleet_school_server"] = server_name
                        variables["fleet_software"] = software
                    if reach == "ssh":
                        variables["ansible_host"] = address
                elif unmanaged:
                    variables = {
                        "fleet_role": item.kind.value,
                        "fleet_uai": school.uai,
                        "fleet_asset": _asset(item),
                    }
                    if item.kind.workstation:
                        groups.append(UNMANAGED)
                else:
                    continue
                inventory.host(hostname(school.uai, item), groups, variables)
    return inventory.as_data(all_vars)
