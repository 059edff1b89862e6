"""The edits themselves: each operation changes round-trip documents of a `Changeset`.

An operation only finds what it edits (the member's file, the school, the device) and fills what the
register leaves to the tool (the next free address block, the next free unit number, a workstation's
next never-used host number, the next asset tag); whether the result is a valid register is for the
loader to say, once every operation of a command has run.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from schoolfleet.onboarding.changeset import Changeset, OnboardingError, dump
from schoolfleet.register import Equipment, EquipmentKind, Member, Register
from schoolfleet.register.addressing import school_block
from schoolfleet.register.loader import MEMBERS_DIR
from schoolfleet.register.mac import MacError, normalise_mac
from schoolfleet.register.tariffs import OPTIONS

# What the member sends for a school in the yearly renewal, and what `update_school` may change.
SCHOOL_UPDATES = ("name", "kind", "zone", "pupils", "teachers")


@dataclass
class Context:
    """The register as loaded before the command, and where things are as the command edits them."""

    changes: Changeset
    register: Register
    member_files: dict[str, str] = field(default_factory=dict)
    school_files: dict[str, str] = field(default_factory=dict)
    tag_schools: dict[str, str] = field(default_factory=dict)
    blocks: set[int] = field(default_factory=set)
    # Workstations: who holds each MAC, the host numbers each school ever gave (retired records
    # included), the records by serial (deliveries match them) and the serials delivered by this run.
    macs: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, set[int]] = field(default_factory=dict)
    serials: dict[str, list[tuple[str, Equipment]]] = field(default_factory=dict)
    delivered: dict[str, str] = field(default_factory=dict)
    # The step being applied (a CSV line...), so that a record made by an earlier step can be named.
    where: str | None = None

    @classmethod
    def of(cls, changes: Changeset, register: Register) -> Context:
        context = cls(changes, register)
        for member in register.members:
            relative = Path(member.source.file).relative_to(register.root).as_posix()
            context.member_files[member.code] = relative
            for school in member.schools:
                context.school_files[school.uai] = relative
                # Blocks of members that left stay taken: their schools keep them in the history.
                context.blocks.add(school.block)
                taken = context.hosts.setdefault(school.uai, set())
                for item in school.equipment:
                    context.tag_schools[item.tag] = school.uai
                    context.serials.setdefault(item.serial, []).append((school.uai, item))
                    if item.mac is not None:
                        context.macs[item.mac] = f"{item.tag}'s (school {school.uai}, {item.source})"
                    if item.host is not None:
                        taken.add(item.host)
        return context

    def member(self, code: str) -> CommentedMap:
        if code not in self.member_files:
            raise OnboardingError(f"no member {code!r} in the register")
        document: CommentedMap = self.changes.document(self.member_files[code])
        return document

    def school(self, uai: str) -> CommentedMap:
        if uai not in self.school_files:
            raise OnboardingError(f"no school {uai!r} in the register")
        document = self.changes.document(self.school_files[uai])
        for school in document.get("schools") or ():
            if school.get("uai") == uai:
                found: CommentedMap = school
                return found
        raise OnboardingError(f"school {uai} is not in {self.school_files[uai]} any more")

    def device(self, tag: str) -> tuple[CommentedMap, CommentedSeq, int]:
        """The school holding the device, its equipment list and the device's index in it."""
        if tag not in self.tag_schools:
            raise OnboardingError(f"no device with asset tag {tag!r} in the register")
        school = self.school(self.tag_schools[tag])
        equipment: CommentedSeq = school["equipment"]
        for index, item in enumerate(equipment):
            if item.get("tag") == tag:
                return school, equipment, index
        raise OnboardingError(f"device {tag} is not at school {school.get('uai')} any more")


def slug(name: str) -> str:
    """A file name from a commune's name, as in the demo register: `Épinay-sur-Orge` -> `epinay-sur-orge`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def to_date(value: object, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise OnboardingError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


def to_int(value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise OnboardingError(f"{what}: {value!r} is not a whole number")
    return int(text)


def _block_list(node: Any) -> CommentedSeq:
    """An empty list is written `[]`; once it has entries it is written as a block, like the others."""
    if not isinstance(node, CommentedSeq):
        raise OnboardingError(f"expected a list, found {node!r}")
    node.fa.set_block_style()
    return node


def _member_document(
    top: str, identity: CommentedMap, reference: str, joined: dt.date, wifi: bool, comment: str
) -> CommentedMap:
    convention = CommentedMap([("reference", reference), ("joined", joined)])
    document = CommentedMap(
        [
            (top, identity),
            ("convention", convention),
            ("options", CommentedMap([("wifi", wifi)])),
            ("schools", CommentedSeq()),
        ]
    )
    document["schools"].fa.set_flow_style()
    document.yaml_set_start_comment(comment)
    return document


def add_commune(context: Context, insee: str, name: str, reference: str, joined: dt.date, wifi: bool) -> str:
    identity = CommentedMap([("insee", DoubleQuotedScalarString(insee)), ("name", name)])
    document = _member_document(
        "commune", identity, reference, joined, wifi, f"Convention with the commune of {name}."
    )
    relative = f"{MEMBERS_DIR}/{insee}-{slug(name)}.yml"
    context.changes.create(relative, document)
    context.member_files[insee] = relative
    return relative


def add_sivos(
    context: Context,
    code: str,
    name: str,
    communes: list[tuple[str, str]],
    reference: str,
    joined: dt.date,
    wifi: bool,
) -> str:
    listed = CommentedSeq(
        CommentedMap([("insee", DoubleQuotedScalarString(insee)), ("name", commune)])
        for insee, commune in communes
    )
    identity = CommentedMap([("code", code), ("name", name), ("communes", listed)])
    comment = "Convention with the SIVOS below, which holds the schools of its communes."
    document = _member_document("sivos", identity, reference, joined, wifi, comment)
    relative = f"{MEMBERS_DIR}/sivos-{code}.yml"
    context.changes.create(relative, document)
    context.member_files[code] = relative
    return relative


def next_free_block(context: Context) -> int:
    """The lowest block index no school holds and outside the datacenter: other schools never move."""
    plan = context.register.authority.plan
    for index in range(plan.block_count):
        if index in context.blocks:
            continue
        block = school_block(plan, index)
        if block.last < plan.datacenter.first or block.first > plan.datacenter.last:
            return index
    raise OnboardingError(f"no free address block left in the supernet {plan.supernet}")


def add_school(
    context: Context,
    member: str,
    uai: str,
    name: str,
    kind: str,
    zone: str,
    pupils: int,
    teachers: int,
    commune: str | None = None,
    packs: list[str] | None = None,
    block: int | None = None,
) -> int:
    """Adds the school in UAI order among the member's schools; returns its address block."""
    document = context.member(member)
    taken_uai = uai in context.school_files
    forced = block
    block = next_free_block(context) if block is None else block
    school = CommentedMap([("uai", uai), ("name", name), ("kind", kind)])
    if commune is not None:
        school["commune"] = DoubleQuotedScalarString(commune)
    school.update([("zone", zone), ("pupils", pupils), ("teachers", teachers), ("block", block)])
    if packs:
        listed = CommentedSeq(packs)
        listed.fa.set_flow_style()
        school["software"] = CommentedMap([("packs", listed)])
    equipment = CommentedSeq()
    equipment.fa.set_flow_style()
    school["equipment"] = equipment
    schools = _block_list(document["schools"])
    position = next((i for i, other in enumerate(schools) if str(other.get("uai")) > uai), len(schools))
    schools.insert(position, school)
    # The loader would refuse both too, but it would blame the school already there: these name the
    # new school, at the line it would have, and the one it clashes with.
    here = f"{context.changes.root / context.member_files[member]}"
    if taken_uai:
        line = _new_line(document, uai, "uai")
        raise OnboardingError(
            f"{here}:{line}: schools[{position}].uai: UAI {uai} is already in the register"
            f" (at {_school_source(context, uai)})"
        )
    holder = next((other for _, other in context.register.schools() if other.block == forced), None)
    if forced is not None and (holder is not None or forced in context.blocks):
        line = _new_line(document, uai, "block")
        other = f"school {holder.uai} at {holder.source}" if holder is not None else "a school of this run"
        raise OnboardingError(
            f"{here}:{line}: schools[{position}].block: address block {forced} is already held by {other}"
        )
    context.school_files[uai] = context.member_files[member]
    context.blocks.add(block)
    return block


def _new_line(document: CommentedMap, uai: str, field: str) -> int:
    """The line a field of the new school `uai` would have in the file once written."""
    lines = dump(document).splitlines()
    start = lines.index(f"  - uai: {uai}")
    offset = next((i for i, text in enumerate(lines[start:]) if text.lstrip("- ").startswith(f"{field}:")), 0)
    return start + offset + 1


def _school_source(context: Context, uai: str) -> str:
    found = next((school.source for _, school in context.register.schools() if school.uai == uai), None)
    return str(found) if found is not None else context.school_files[uai]


def update_school(context: Context, uai: str, values: dict[str, object]) -> None:
    school = context.school(uai)
    for name, value in values.items():
        if name not in SCHOOL_UPDATES:
            raise OnboardingError(
                f"{name!r} cannot be changed (expected one of: {', '.join(SCHOOL_UPDATES)})"
            )
        school[name] = to_int(value, name) if name in ("pupils", "teachers") else str(value)


def _numbered(kind: str) -> bool:
    try:
        return EquipmentKind(kind).numbered
    except ValueError:
        # An unknown kind is written as given: the loader names it with the accepted ones.
        return False


def _next_unit(school: CommentedMap, kind: str, installed: dt.date) -> int:
    """The lowest unit of that kind free from `installed` on: a retired device's number is reused."""
    taken = {
        int(item["unit"])
        for item in school["equipment"]
        if item.get("kind") == kind
        and "unit" in item
        and (item.get("retired") is None or to_date(item["retired"], "retired") > installed)
    }
    return next(unit for unit in range(1, len(taken) + 2) if unit not in taken)


def add_equipment(
    context: Context,
    school: str,
    tag: str,
    kind: str,
    model: str,
    serial: str,
    installed: dt.date,
    unit: int | None = None,
    mac: str | None = None,
    host: int | None = None,
) -> None:
    holder = context.school(school)
    if tag in context.tag_schools:
        raise OnboardingError(
            f"asset tag {tag} is already in the register (school {context.tag_schools[tag]})"
        )
    item = CommentedMap([("tag", tag), ("kind", kind)])
    if _numbered(kind):
        item["unit"] = _next_unit(holder, kind, installed) if unit is None else unit
    item.update([("model", model), ("serial", DoubleQuotedScalarString(serial))])
    if mac is not None and host is not None:
        item.update([("mac", DoubleQuotedScalarString(mac)), ("host", host)])
    item["installed"] = installed
    _block_list(holder["equipment"]).append(item)
    context.tag_schools[tag] = school


def move_equipment(context: Context, tag: str, to: str, unit: int | None = None) -> None:
    """The device leaves one school's list for another's: a tag is unique in the register, history too."""
    target = context.school(to)
    source, equipment, index = context.device(tag)
    if source is target:
        raise OnboardingError(f"device {tag} is already at school {to}")
    item = equipment.pop(index)
    if "unit" in item:
        installed = to_date(item["installed"], "installed")
        item["unit"] = _next_unit(target, str(item["kind"]), installed) if unit is None else unit
    _block_list(target["equipment"]).append(item)
    context.tag_schools[tag] = to


def retire_equipment(context: Context, tag: str, on: dt.date) -> None:
    _, equipment, index = context.device(tag)
    item = equipment[index]
    if item.get("retired") is not None:
        raise OnboardingError(f"device {tag} was already retired on {item['retired']}")
    item["retired"] = on


def leave(context: Context, member: str, on: dt.date) -> None:
    """The member's convention ends on `on` (its first day out); schools and devices stay for history.

    What it still holds is retired on that day and its licences end on the eve: the billing refuses a
    device in service under no convention (it would go unbilled), and the inventory keeps a device
    only while it is in service.
    """
    document = context.member(member)
    convention = document["convention"]
    if convention.get("left") is not None:
        raise OnboardingError(f"member {member} already left on {convention['left']}")
    position = list(convention).index("joined") + 1 if "joined" in convention else len(convention)
    convention.insert(position, "left", on)
    eve = on - dt.timedelta(days=1)
    for school in document.get("schools") or ():
        for item in school.get("equipment") or ():
            retired = item.get("retired")
            if retired is None or to_date(retired, "retired") > on:
                item["retired"] = on
        software = school.get("software") or {}
        for licence in software.get("licences") or ():
            end = licence.get("end")
            if end is None or to_date(end, "end") > eve:
                licence["end"] = eve


_NUMBERED_TAG = re.compile(r"(.*?)([0-9]+)\Z")


def next_tag(context: Context) -> str:
    """The asset tag after the highest-numbered one in the register (servers too), same prefix and width."""
    tags = {*context.tag_schools, *(server.tag for server in context.register.authority.servers)}
    numbered = [
        (int(match.group(2)), match.group(1), len(match.group(2)))
        for tag in tags
        if (match := _NUMBERED_TAG.match(tag)) is not None
    ]
    if not numbered:
        raise OnboardingError("tag: no numbered asset tag in the register to follow")
    number, prefix, width = max(numbered)
    while True:
        number += 1
        tag = f"{prefix}{number:0{width}d}"
        if tag not in tags:
            return tag


def next_host(context: Context, uai: str) -> int:
    """The school's lowest host number never given to any of its records, retired ones included."""
    span = context.register.authority.plan.workstation_hosts
    if span is None:
        raise OnboardingError(
            "host: the address plan keeps no host numbers for workstations (addressing.workstations)"
        )
    taken = context.hosts.setdefault(uai, set())
    free = next((host for host in range(span.first, span.last + 1) if host not in taken), None)
    if free is None:
        raise OnboardingError(
            f"host: the workstations' range {span.first}-{span.last} of school {uai} is exhausted: "
            "every host number was given once (a retired machine keeps its number)"
        )
    taken.add(free)
    return free


def _same_model(a: str, b: str) -> bool:
    # Suppliers' files differ from the register in case and spacing only, when they agree at all.
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _matched(context: Context, serial: str) -> tuple[str, Equipment] | None:
    """The register's record with this serial, if any; a serial on several records is ambiguous."""
    records = context.serials.get(serial, [])
    if len(records) > 1:
        tags = ", ".join(item.tag for _, item in records)
        raise OnboardingError(f"serial: {serial} is on several records ({tags}): fix the register first")
    return records[0] if records else None


def deliver(
    context: Context,
    serial: str,
    mac: str,
    model: str,
    on: dt.date,
    uai: str | None = None,
    kind: str | None = None,
) -> str:
    """One delivered machine: its record gets the MAC and the school's next host number. Returns its tag.

    A serial already in the register is that record (its model must agree); an unknown one is a new
    record at the row's school, installed `on`, with the next asset tag.
    """
    try:
        normalised = normalise_mac(mac)
    except MacError as exc:
        raise OnboardingError(f"mac: {exc}") from None
    if serial in context.delivered:
        raise OnboardingError(f"serial: {serial} is delivered twice (also {context.delivered[serial]})")
    matched = _matched(context, serial)
    if matched is not None:
        school, item = matched
        _check_match(item, school, normalised, model, uai, kind)
    if normalised in context.macs:
        raise OnboardingError(f"mac: {normalised} is given twice: it is already {context.macs[normalised]}")
    if matched is not None:
        tag = item.tag
        host = next_host(context, school)
        _, equipment, index = context.device(tag)
        record = equipment[index]
        position = list(record).index("serial") + 1 if "serial" in record else len(record)
        record.insert(position, "mac", DoubleQuotedScalarString(normalised))
        record.insert(position + 1, "host", host)
    else:
        if uai is None:
            raise OnboardingError(
                f"serial: a delivery row whose serial matches no school: {serial} is on no record of the "
                "register, and the row gives no uai"
            )
        if uai not in context.school_files:
            raise OnboardingError(
                f"uai: a delivery row whose serial matches no school: no school {uai!r} in the register"
            )
        kind = kind or EquipmentKind.WORKSTATION.value
        if kind not in (EquipmentKind.WORKSTATION.value, EquipmentKind.SPECIFIC_WORKSTATION.value):
            raise OnboardingError(f"kind: {kind!r}: a delivery holds workstation or specific_workstation")
        school, tag = uai, next_tag(context)
        host = next_host(context, school)
        add_equipment(context, school, tag, kind, model, serial, on, mac=normalised, host=host)
    where = f", from {context.where}" if context.where else ""
    context.macs[normalised] = f"{tag}'s (school {school}{where})"
    context.delivered[serial] = context.where or tag
    return tag


def _check_match(
    item: Equipment, school: str, mac: str, model: str, uai: str | None, kind: str | None
) -> None:
    """A row naming a record of the register must agree with it: nothing in it is overwritten."""
    if not item.kind.workstation:
        raise OnboardingError(
            f"serial: {item.serial} is {item.tag}, a {item.kind.value}: a delivery holds workstations"
        )
    if item.retired is not None:
        raise OnboardingError(f"serial: {item.serial} is {item.tag}, retired on {item.retired}")
    if uai is not None and uai != school:
        raise OnboardingError(f"uai: serial {item.serial} is {item.tag} at school {school}, not {uai}")
    if kind is not None and kind != item.kind.value:
        raise OnboardingError(f"kind: serial {item.serial} is {item.tag}, a {item.kind.value}, not {kind}")
    if item.mac is not None:
        already = "with this MAC" if item.mac == mac else f"with MAC {item.mac}"
        raise OnboardingError(f"mac: serial {item.serial} ({item.tag}) was already delivered {already}")
    if not _same_model(item.model, model):
        raise OnboardingError(
            f"model: serial {item.serial} is {item.tag}, a {item.model!r} in the register, not {model!r}"
        )


def _member_record(context: Context, code: str) -> Member | None:
    return next((member for member in context.register.members if member.code == code), None)


def _at(context: Context, code: str, field: str, line: int | None = None) -> str:
    """`file:line: field` of a member for a message (the file alone for a member this run creates)."""
    record = _member_record(context, code)
    file = (
        record.source.file if record is not None else str(context.changes.root / context.member_files[code])
    )
    return f"{file}:{line or (record.source.line if record else 1)}: {field}"


def _periods(context: Context, member: str, option: str) -> CommentedSeq:
    """The option's periods as a list, `wifi: true` turned into its period from the convention's start."""
    if option not in OPTIONS:
        raise OnboardingError(f"option: unknown option {option!r} (known: {', '.join(sorted(OPTIONS))})")
    document = context.member(member)
    if not isinstance(document.get("options"), CommentedMap):
        position = list(document).index("schools") if "schools" in document else len(document)
        document.insert(position, "options", CommentedMap())
    options: CommentedMap = document["options"]
    current = options.get(option)
    if isinstance(current, CommentedSeq):
        return _block_list(current)
    periods = CommentedSeq()
    if current is True:
        periods.append(CommentedMap([("since", to_date(document["convention"]["joined"], "joined"))]))
    options[option] = periods
    return _block_list(periods)


def set_option(context: Context, member: str, option: str, since: dt.date) -> None:
    """The option is in force from `since`: a new period (the loader refuses one overlapping another)."""
    periods = _periods(context, member, option)
    if periods and periods[-1].get("until") is None:
        raise OnboardingError(
            f"{_at(context, member, f'options.{option}')}: already in force since {periods[-1]['since']}"
        )
    periods.append(CommentedMap([("since", since)]))


def end_option(context: Context, member: str, option: str, until: dt.date) -> None:
    """The option's period in force ends on `until`, its last day (access points must go by then)."""
    periods = _periods(context, member, option)
    if not periods or periods[-1].get("until") is not None:
        raise OnboardingError(f"{_at(context, member, f'options.{option}')}: no period in force to end")
    periods[-1]["until"] = until


def _licences(school: CommentedMap) -> CommentedSeq:
    if not isinstance(school.get("software"), CommentedMap):
        position = list(school).index("equipment") if "equipment" in school else len(school)
        school.insert(position, "software", CommentedMap())
    software: CommentedMap = school["software"]
    if not isinstance(software.get("licences"), CommentedSeq):
        software["licences"] = CommentedSeq()
    return _block_list(software["licences"])


def _school_at(context: Context, uai: str, field: str) -> str:
    for _, school in context.register.schools():
        if school.uai == uai:
            return f"{school.source.file}:{school.source.line}: {school.source.field(field)}"
    return f"{context.changes.root / context.school_files[uai]}: {field}"


def add_licence(
    context: Context, school: str, product: str, seats: int, start: dt.date, end: dt.date | None = None
) -> None:
    """Seats of a specific software from `start` (billed then as installed) up to `end`, its last day."""
    licences = _licences(context.school(school))
    for licence in licences:
        if licence.get("product") == product and licence.get("end") is None:
            raise OnboardingError(
                f"{_school_at(context, school, 'software.licences')}: {product} is already held since"
                f" {licence.get('start')} (retire it first)"
            )
    entry = CommentedMap([("product", product), ("seats", seats), ("start", start)])
    if end is not None:
        entry["end"] = end
    licences.append(entry)


def retire_licence(context: Context, school: str, product: str, end: dt.date) -> None:
    """The school's licence of `product` in force ends on `end`, its last day held."""
    licences = _licences(context.school(school))
    held = [
        licence for licence in licences if licence.get("product") == product and licence.get("end") is None
    ]
    if not held:
        raise OnboardingError(
            f"{_school_at(context, school, 'software.licences')}: no {product} licence in force"
        )
    held[0]["end"] = end
