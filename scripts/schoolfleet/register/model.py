"""The convention register as typed, immutable records.

The register holds the members (communes, and the SIVOS that hold schools for several communes), their
conventions, their schools and every billable device, plus the authority's own infrastructure and its
address plan. Dates are `datetime.date`; a record's `source` says where it was written, so scripts that
find something wrong with it (billing, onboarding) can point the sysadmin at the line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import netaddr

from schoolfleet.register.tariffs import NO_TARIFFS, Tariffs

if TYPE_CHECKING:
    from schoolfleet.register.devices import DeviceModel


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record starts: the file (as shown in messages), its 1-based line, its field path."""

    file: str
    line: int
    path: str = ""

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class MemberKind(StrEnum):
    COMMUNE = "commune"
    SIVOS = "sivos"


class SchoolKind(StrEnum):
    MATERNELLE = "maternelle"
    ELEMENTAIRE = "elementaire"
    PRIMAIRE = "primaire"
    IME = "ime"
    HOSPITAL = "hospital"


class Zone(StrEnum):
    """The school holiday zone."""

    A = "A"
    B = "B"
    C = "C"


class EquipmentKind(StrEnum):
    """Kinds of device a school holds. The first four are managed by Ansible; the others are only billed."""

    SCHOOL_SERVER = "school_server"
    ROUTER = "router"
    SWITCH = "switch"
    WIFI_AP = "wifi_ap"
    WORKSTATION = "workstation"
    SPECIFIC_WORKSTATION = "specific_workstation"
    SPECIFIC_SERVER = "specific_server"
    INKJET_PRINTER = "inkjet_printer"
    INTERACTIVE_PROJECTOR = "interactive_projector"

    @property
    def managed(self) -> bool:
        return self in _MANAGED

    @property
    def numbered(self) -> bool:
        """Kinds a school may hold several of at once: each device has a `unit` number."""
        return self in (EquipmentKind.SWITCH, EquipmentKind.WIFI_AP)

    @property
    def workstation(self) -> bool:
        """Kinds that may carry a `mac` and a `host` number in the pedagogy VLAN."""
        return self in (EquipmentKind.WORKSTATION, EquipmentKind.SPECIFIC_WORKSTATION)


_MANAGED = frozenset(
    {EquipmentKind.SCHOOL_SERVER, EquipmentKind.ROUTER, EquipmentKind.SWITCH, EquipmentKind.WIFI_AP}
)


class ServerKind(StrEnum):
    """The authority's own servers, in its datacenter."""

    CENTRAL_SERVER = "central_server"
    BACKUP_SERVER = "backup_server"


def in_service(installed: dt.date, retired: dt.date | None, day: dt.date) -> bool:
    """Whether something installed and maybe retired is in place on `day` (retired on the day: gone)."""
    return installed <= day and (retired is None or day < retired)


@dataclass(frozen=True, slots=True)
class Equipment:
    """One device with an asset tag. `unit` numbers switches and access points within a school.

    A workstation may carry its `mac` (normalised, `aa:bb:cc:dd:ee:ff`) once delivered, and then its
    `host` number in the school's pedagogy VLAN: stored, never derived, never given to another machine.
    """

    tag: str
    kind: EquipmentKind
    model: str
    serial: str
    installed: dt.date
    retired: dt.date | None
    unit: int | None
    source: Source
    mac: str | None = None
    host: int | None = None

    def held_on(self, day: dt.date) -> bool:
        return in_service(self.installed, self.retired, day)


@dataclass(frozen=True, slots=True)
class Licence:
    """Seats of a specific piece of software a school pays for, over a period."""

    product: str
    seats: int
    start: dt.date
    end: dt.date | None
    source: Source

    def held_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class School:
    """A school. `block` is its address block in the supernet: stored, never derived from order."""

    uai: str
    name: str
    kind: SchoolKind
    commune: str
    zone: Zone
    pupils: int
    teachers: int
    block: int
    packs: tuple[str, ...]
    licences: tuple[Licence, ...]
    equipment: tuple[Equipment, ...]
    source: Source
    # Where each of `packs` is written (same order), so an unknown pack names its line.
    pack_sources: tuple[Source, ...] = ()
    # When the school came under its member's convention (its own `joined`, else the convention's) and
    # the first day it no longer belongs (`left`, when it closed or moved to another member).
    joined: dt.date = dt.date.min
    left: dt.date | None = None
    # Whether `joined` was written on the school (and so on its own line) or taken from the convention.
    joined_source: Source | None = None

    def last_day(self, member_left: dt.date | None) -> dt.date | None:
        """The school's last day under its member: the eve of the earlier of both departures."""
        ends = [day for day in (self.left, member_left) if day is not None]
        return min(ends) - dt.timedelta(days=1) if ends else None

    def equipment_held_on(self, day: dt.date) -> Iterator[Equipment]:
        return (item for item in self.equipment if item.held_on(day))


@dataclass(frozen=True, slots=True)
class Commune:
    insee: str
    name: str


@dataclass(frozen=True, slots=True)
class Convention:
    reference: str
    joined: dt.date
    left: dt.date | None


@dataclass(frozen=True, slots=True)
class OptionPeriod:
    """A convention option in force from `since` to `until` (its last day; None while in force).

    `wifi: true` in a member file is one period from the convention's start; the dated form lists the
    periods, so an option switched on mid-convention (or off) is billed only for the years it held.
    """

    name: str
    since: dt.date
    until: dt.date | None
    source: Source

    def covers(self, day: dt.date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


@dataclass(frozen=True, slots=True)
class Member:
    """Who signed a convention and is billed: a commune, or a SIVOS for its communes' schools.

    `code` is the commune's INSEE code or the SIVOS's code; `communes` is the commune itself, or the
    communes the SIVOS serves. `wifi` is whether the convention ever had the Wi-Fi service option;
    `options` says when.
    """

    kind: MemberKind
    code: str
    name: str
    communes: tuple[Commune, ...]
    convention: Convention
    wifi: bool
    schools: tuple[School, ...]
    source: Source
    # Every dated period of the convention's options; `wifi` above says whether any Wi-Fi period exists.
    options: tuple[OptionPeriod, ...] = ()

    def option_on(self, name: str, day: dt.date) -> bool:
        return any(period.name == name and period.covers(day) for period in self.options)

    def member_on(self, day: dt.date) -> bool:
        return in_service(self.convention.joined, self.convention.left, day)


@dataclass(frozen=True, slots=True)
class Vlan:
    """One VLAN of every school: where it sits in the school's block, and its DHCP pool's first host."""

    name: str
    vlan_id: int
    offset: int
    prefix: int
    dhcp_from: int | None


@dataclass(frozen=True, slots=True)
class HostRange:
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class AddressPlan:
    """One block of /`school_prefix` per school in the supernet, the same VLAN layout in each block.

    Managed devices take fixed host numbers in the management VLAN: the router, the server, then ranges
    for the switches and access points (by unit number). `workstation_hosts` are the host numbers kept
    for registered workstations in the pedagogy VLAN (None when the plan keeps none).
    """

    supernet: netaddr.IPNetwork
    school_prefix: int
    datacenter: netaddr.IPNetwork
    vlans: tuple[Vlan, ...]
    router_host: int
    server_host: int
    switch_hosts: HostRange
    wifi_ap_hosts: HostRange
    workstation_hosts: HostRange | None = None

    @property
    def block_count(self) -> int:
        return int(2 ** (self.school_prefix - self.supernet.prefixlen))

    def vlan(self, name: str) -> Vlan:
        return next(vlan for vlan in self.vlans if vlan.name == name)


@dataclass(frozen=True, slots=True)
class Server:
    """One of the authority's own servers, at a fixed address in its datacenter."""

    hostname: str
    kind: ServerKind
    address: netaddr.IPAddress
    tag: str
    model: str
    serial: str
    installed: dt.date
    retired: dt.date | None
    source: Source

    def held_on(self, day: dt.date) -> bool:
        return in_service(self.installed, self.retired, day)


@dataclass(frozen=True, slots=True)
class SoftwarePackage:
    """One Debian package a pack lists, and the line it is listed on."""

    name: str
    source: Source


SettingValue = str | int | bool


@dataclass(frozen=True, slots=True)
class SoftwarePack:
    """A pack of the catalogue: Debian 12 packages and settings the workstations of its schools get.

    A pack written in the old form (a description only) has no packages and no settings yet.
    """

    name: str
    description: str
    packages: tuple[SoftwarePackage, ...]
    settings: Mapping[str, SettingValue]
    source: Source

    @property
    def package_names(self) -> tuple[str, ...]:
        return tuple(package.name for package in self.packages)


@dataclass(frozen=True, slots=True)
class Authority:
    name: str
    plan: AddressPlan
    # The catalogue, by pack name, in the file's order.
    software_packs: Mapping[str, SoftwarePack]
    servers: tuple[Server, ...]
    source: Source
    # The device catalogue (schoolfleet.register.devices), by model name.
    devices: Mapping[str, DeviceModel] = field(default_factory=dict)

    def pack_descriptions(self) -> dict[str, str]:
        return {name: pack.description for name, pack in self.software_packs.items()}


@dataclass(frozen=True, slots=True)
class Register:
    """The whole register, valid: `load_register` returns one only when nothing is wrong."""

    root: Path
    authority: Authority
    members: tuple[Member, ...]
    # The billing's tariff grids (`tariffs/`, read by schoolfleet.register.tariffs); none by default.
    tariffs: Tariffs = NO_TARIFFS

    def schools(self) -> Iterator[tuple[Member, School]]:
        for member in self.members:
            for school in member.schools:
                yield member, school

    def communes(self) -> dict[str, Commune]:
        """Every commune named in the register, by INSEE code."""
        return {commune.insee: commune for member in self.members for commune in member.communes}

    def members_on(self, day: dt.date) -> Iterator[Member]:
        return (member for member in self.members if member.member_on(day))
