"""Inventory plugin: the school IT service's fleet, generated from the convention register."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

try:
    from schoolfleet.register import RegisterError, load_register, register_digest
    from schoolfleet.register.inventory import build_inventory
except ImportError:
    # Not installed in this Python: use the package from the checkout this plugin belongs to.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from schoolfleet.register import RegisterError, load_register, register_digest
    from schoolfleet.register.inventory import build_inventory

DOCUMENTATION = r"""
name: convention_register
short_description: The school fleet (servers, network gear, workstations, billed equipment) from the register
description:
  - Reads the convention register (C(authority.yml) and one file per member under C(members/)) with the
    project's own loader and validator (the Python package C(schoolfleet.register)), and builds the hosts
    and groups of the fleet in service on a given day.
  - Any problem in the register fails the whole inventory with every problem listed (file, line, field);
    no partial inventory is produced.
  - "Managed hosts: C(central) and the backup servers (names from C(authority.yml)), and per school
    C(<uai>-srv) (school server), C(<uai>-rtr) (router), C(<uai>-sw<unit>) (switches), C(<uai>-ap<unit>)
    (Wi-Fi access points), the UAI in lowercase."
  - "Classroom workstations: a workstation or specific workstation with a C(mac) in the register
    (delivered) is a managed host, C(ws-<tag>) or C(sws-<tag>), at its reserved address in the school's
    pedagogy VLAN (its stored C(host) number), reached through its school server (the playbooks'
    C(group_vars/classroom_workstations.yml) sets the SSH ProxyJump)."
  - "Billable-only equipment: C(ws-<tag>) (workstations without a MAC), C(sws-<tag>) (specific
    workstations without a MAC), C(ssrv-<tag>) (specific servers), C(prn-<tag>) (inkjet printers),
    C(vpi-<tag>) (interactive projectors), the asset tag in lowercase. These hosts are in the
    C(unmanaged) tree and have C(ansible_connection=none), so a play that reaches them by mistake fails
    at once."
  - "Groups: C(managed) (children C(central_servers), C(backup_servers), C(school_servers), C(routers),
    C(switches), C(wifi_aps), C(classroom_workstations)); C(unmanaged) (children C(specific_servers),
    C(printers), C(projectors), and the billable-only workstations as its own hosts); C(workstations)
    and C(specific_workstations) (every one of the kind, managed or not: in neither tree); per school
    C(school_<uai>); per commune C(commune_<insee>) and per SIVOS C(sivos_<code>) (children: school
    groups); per holiday zone C(zone_a), C(zone_b), C(zone_c); C(wifi_service) (schools whose member has
    the Wi-Fi option)."
  - "Variables on C(all): C(fleet_supernet), C(fleet_datacenter_network). On every host: C(fleet_role),
    C(fleet_asset) (tag, kind, model, serial, installed, retired, unit for switches and access points,
    mac and host for workstations that have them).
    On managed hosts: C(fleet_address) (planned IPv4 address), and on a school's managed hosts
    C(fleet_school) (uai, name, kind, zone, pupils, teachers, commune, block), C(fleet_member) (kind,
    code, name: who is billed) and C(fleet_network) (per VLAN C(pedagogy), C(administration), C(wifi)
    under the option, C(management): vlan, cidr, gateway, netmask, dhcp_start, dhcp_end). On billable-only
    hosts: C(fleet_uai)."
  - "On a router, switch or access point, from the device catalogue of C(authority.yml) (C(devices)):
    C(fleet_device_family) (the family that configures it: C(ios), C(procurve), C(sns), C(openwrt)),
    C(fleet_device_ports) (access, uplink, poe) and C(fleet_device_radios) (access points: a list of
    name and band). The register refuses a device whose model is not in the catalogue."
  - "On a school server: C(fleet_workstations), its school's delivered workstations in service, sorted by
    host number, each C({hostname, tag, kind, mac, address, host, serial, model}). On a classroom
    workstation: C(fleet_mac) and C(fleet_school_server) (the inventory name of its school's server).
    On both: C(fleet_software), what the register's software catalogue gives the school
    (C({packs, packages, removed_packages, settings}))."
  - The cache key changes whenever any register file changes, so a cached inventory is never stale.
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks the file as a source for this plugin.
    required: true
    choices: [convention_register]
  register:
    description: The register directory; a relative path is relative to the inventory file's directory.
    type: str
    default: register
  as_of:
    description:
      - The day the inventory describes (YYYY-MM-DD), today when empty. Members whose convention has not
        started or has ended, and devices not yet installed or already retired, are left out.
    type: str
    default: ""
  reach:
    description:
      - How managed hosts are reached. C(ssh) sets C(ansible_host) to the planned address (C(fleet_address));
        classroom workstations' addresses are reached through their school server.
      - C(podman) is the local lab, where each managed host is a podman container named after the
        inventory host, reached with C(containers.podman.podman) and C(/usr/bin/python3);
        C(fleet_address) still gives the planned address.
    type: str
    choices: [ssh, podman]
    default: ssh
  unmanaged:
    description:
      - Whether billable-only equipment (workstations without a MAC, printers, projectors...) becomes
        hosts. Delivered workstations (with a MAC) are managed hosts either way.
    type: bool
    default: true
"""

EXAMPLES = r"""
# inventories/demo/hosts.yml: the real fleet, over SSH at the planned addresses
plugin: convention_register
register: register

---
# inventories/lab/hosts.yml: the same register, hosts are podman containers
plugin: convention_register
register: ../demo/register
reach: podman

---
# A fixed day, extra groups by school kind, a cached inventory
plugin: convention_register
as_of: "2026-11-01"
keyed_groups:
  - key: fleet_school.kind | default('none')
    prefix: kind
compose:
  school_uai: fleet_school.uai | default(omit)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/schoolfleet-inventory
"""

_MARKER = re.compile(rb"^plugin:\s*['\"]?convention_register['\"]?\s*$", re.MULTILINE)
_CONSTRUCTED = ("compose", "groups", "keyed_groups")
_CACHED = "inventory_json"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):  # type: ignore[misc]
    NAME = "convention_register"

    def verify_file(self, path: str) -> bool:
        """A YAML file that names this plugin: other YAML inventories are left to their own plugins."""
        if not super().verify_file(path) or not path.endswith((".yml", ".yaml")):
            return False
        try:
            with Path(path).open("rb") as stream:
                return bool(_MARKER.search(stream.read(8192)))
        except OSError:
            return False

    def _register_dir(self, path: str) -> Path:
        return (Path(path).resolve().parent / str(self.get_option("register"))).resolve()

    def _as_of(self) -> dt.date:
        text = self.get_option("as_of")
        if not text:
            return dt.date.today()
        try:
            return dt.date.fromisoformat(str(text))
        except ValueError as exc:
            raise AnsibleParserError(f"as_of: {text!r} is not a date (YYYY-MM-DD)") from exc

    def get_cache_key(self, path: str) -> str:
        """The base key (per inventory file) plus the register's content and the options that shape it."""
        register = self._register_dir(path)
        shape = json.dumps(
            [
                str(register),
                self._as_of().isoformat(),
                self.get_option("reach"),
                self.get_option("unmanaged"),
                register_digest(register) if register.is_dir() else "",
            ]
        )
        return f"{super().get_cache_key(path)}_{hashlib.sha256(shape.encode()).hexdigest()[:16]}"

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        use_cache = bool(self.get_option("cache"))
        cache_key = self.get_cache_key(path) if use_cache else ""
        data: dict[str, Any] | None = None
        if use_cache and cache:
            try:
                data = json.loads(self._cache[cache_key][_CACHED])
            except KeyError:
                data = None
        if data is None:
            data = self._build(path)
            if use_cache:
                # One JSON text rather than the structure: Ansible's cache codec walks every value in
                # Python, which cost more than building the inventory afresh; json.loads does not.
                self._cache[cache_key] = {_CACHED: json.dumps(data)}
        self._populate(data)

    def _build(self, path: str) -> dict[str, Any]:
        try:
            register = load_register(self._register_dir(path))
        except RegisterError as exc:
            raise AnsibleParserError(str(exc)) from exc
        reach, unmanaged = self.get_option("reach"), self.get_option("unmanaged")
        return build_inventory(register, as_of=self._as_of(), reach=reach, unmanaged=unmanaged)

    def _populate(self, data: dict[str, Any]) -> None:
        inventory: Any = self.inventory
        # Ansible's inventory proxy walks every value to tag each string with its origin, and that walk
        # cost more than building the whole inventory. The register's values are plain data, never
        # trusted as templates either way, so they go straight to the inventory (the proxy is only
        # bypassed for variables; hosts and groups still go through it).
        variables_sink = getattr(inventory, "__wrapped__", inventory)
        groups: dict[str, dict[str, Any]] = data["groups"]
        for name in groups:
            inventory.add_group(name)
        for key, value in data["vars"].items():
            variables_sink.set_variable("all", key, value)
        # Group edges before any host joins: Ansible then never walks a group's hosts to update ancestors.
        for name, group in groups.items():
            for key, value in group["vars"].items():
                variables_sink.set_variable(name, key, value)
            for child in group["children"]:
                inventory.add_child(name, child)
        constructed = any(self.get_option(option) for option in _CONSTRUCTED)
        strict = self.get_option("strict")
        for name, host in data["hosts"].items():
            host_groups = host["groups"]
            inventory.add_host(name, group=host_groups[0])
            for group_name in host_groups[1:]:
                inventory.add_child(group_name, name)
            variables = host["vars"]
            for key, value in variables.items():
                variables_sink.set_variable(name, key, value)
            if constructed:
                context = {**data["vars"], **variables}
                self._set_composite_vars(self.get_option("compose"), context, name, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), context, name, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), context, name, strict=strict)
