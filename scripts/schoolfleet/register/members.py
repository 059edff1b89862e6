"""`members/*.yml`: one file per member (a commune, or a SIVOS), with its convention and schools."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import yaml

from schoolfleet.register.errors import Problems
from schoolfleet.register.mac import MacError, normalise_mac
from schoolfleet.register.model import (
    Commune,
    Convention,
    Equipment,
    EquipmentKind,
    Licence,
    Member,
    MemberKind,
    OptionPeriod,
    School,
    SchoolKind,
    Source,
    Zone,
)
from schoolfleet.register.nodes import Fields
from schoolfleet.register.patterns import ASSET_TAG, INSEE, PACK_NAME, SIVOS_CODE
from schoolfleet.register.uai import uai_problem

_SCHOOL_FIELDS = ("uai", "name", "kind", "zone", "pupils", "teachers", "block", "equipment")
_EQUIPMENT_FIELDS = ("tag", "kind", "model", "serial", "installed")
_E = TypeVar("_E", SchoolKind, Zone, EquipmentKind)


def parse_member(node: yaml.Node, file: str, problems: Problems) -> Member | None:
    top = Fields.of(node, file, "", problems, "a member (commune or sivos)")
    if top is None:
        return None
    kinds = [kind for kind in MemberKind if top.has(kind.value)]
    if len(kinds) != 1:
        top.problem(None, "", "a member file starts with either `commune:` or `sivos:`")
        top.check(("convention", "schools"), ("commune", "sivos", "options"))
        return None
    kind = kinds[0]
    top.check((kind.value, "convention", "schools"), ("options",))
    identity = _commune(top) if kind is MemberKind.COMMUNE else _sivos(top, problems)
    convention = _convention(top)
    options = top.mapping("options", "the convention's options", required=False)
    periods: tuple[OptionPeriod, ...] = ()
    if options is not None:
        options.check((), ("wifi",))
        periods = _option(options, "wifi", convention, problems)
    home = identity[2][0].insee if identity is not None and kind is MemberKind.COMMUNE else None
    start = convention.joined if convention is not None else None
    schools = tuple(
        school
        for path, school_node in top.items("schools", "schools")
        if (school := _school(school_node, file, path, problems, home, start)) is not None
    )
    if identity is None or convention is None:
        return None
    code, name, communes = identity
    wifi = any(period.name == "wifi" for period in periods)
    source = Source(file, top.line, top.path)
    return Member(kind, code, name, communes, convention, wifi, schools, source, periods)


def _option(
    options: Fields, name: str, convention: Convention | None, problems: Problems
) -> tuple[OptionPeriod, ...]:
    """An option is `true` (from the convention's start), `false`, or a list of `since`/`until` periods."""
    node = options.node(name)
    if node is None or isinstance(node, yaml.ScalarNode):
        held = options.boolean(name, default=False)
        if not held or convention is None:
            return ()
        where = Source(options.file, options.value_line(name), options.field_path(name))
        return (OptionPeriod(name, convention.joined, None, where),)
    periods: list[OptionPeriod] = []
    for path, item in options.items(name, "periods (since, until)"):
        fields = Fields.of(item, options.file, path, problems, "a period (since, until)")
        if fields is None:
            continue
        fields.check(("since",), ("until",))
        since = fields.date("since")
        until = fields.date("until", required=False)
        if since is None:
            continue
        where = Source(options.file, fields.line, path)
        if until is not None and until < since:
            fields.problem(fields.node("until"), "until", f"{until} is before since {since}")
        elif convention is not None and since < convention.joined:
            fields.problem(
                fields.node("since"), "since", f"{since} is before the convention ({convention.joined})"
            )
        elif periods and (periods[-1].until is None or since <= periods[-1].until):
            fields.problem(
                fields.node("since"), "since", f"{since} overlaps the period before ({periods[-1].source})"
            )
        else:
            periods.append(OptionPeriod(name, since, until, where))
    return tuple(periods)


def _commune(top: Fields) -> tuple[str, str, tuple[Commune, ...]] | None:
    fields = top.mapping("commune", "the commune")
    if fields is None:
        return None
    fields.check(("insee", "name"))
    insee = fields.text("insee", pattern=INSEE, what="an INSEE commune code (five characters)")
    name = fields.text("name")
    if insee is None or name is None:
        return None
    return insee, name, (Commune(insee, name),)


def _sivos(top: Fields, problems: Problems) -> tuple[str, str, tuple[Commune, ...]] | None:
    fields = top.mapping("sivos", "the SIVOS")
    if fields is None:
        return None
    fields.check(("code", "name", "communes"))
    code = fields.text("code", pattern=SIVOS_CODE, what="a code (lowercase letters, digits, hyphens)")
    name = fields.text("name")
    communes: list[Commune] = []
    for path, node in fields.items("communes", "communes"):
        commune = Fields.of(node, fields.file, path, problems, "a commune")
        if commune is None:
            continue
        commune.check(("insee", "name"))
        insee = commune.text("insee", pattern=INSEE, what="an INSEE commune code (five characters)")
        commune_name = commune.text("name")
        if insee is not None and commune_name is not None:
            communes.append(Commune(insee, commune_name))
    if code is None or name is None or not communes:
        return None
    return code, name, tuple(communes)


def _convention(top: Fields) -> Convention | None:
    fields = top.mapping("convention", "the convention")
    if fields is None:
        return None
    fields.check(("reference", "joined"), ("left",))
    reference = fields.text("reference")
    joined = fields.date("joined")
    left = fields.date("left", required=False)
    if joined is not None and left is not None and left < joined:
        fields.problem(fields.node("left"), "left", f"left {left} before joining {joined}")
        return None
    if reference is None or joined is None:
        return None
    return Convention(reference, joined, left)


def _school(
    node: yaml.Node, file: str, path: str, problems: Problems, home: str | None, convention: dt.date | None
) -> School | None:
    fields = Fields.of(node, file, path, problems, "a school")
    if fields is None:
        return None
    # A commune's schools are in the commune unless said otherwise; a SIVOS must say which commune.
    commune_field = ("commune",) if home is None else ()
    optional = ("software", "joined", "left") + (("commune",) if home else ())
    fields.check(_SCHOOL_FIELDS + commune_field, optional)
    uai = fields.text("uai", what="a UAI")
    # A bad check letter is reported but the school is kept, so its other checks run in the same pass.
    if uai is not None and (message := uai_problem(uai)) is not None:
        fields.problem(fields.node("uai"), "uai", message)
    name = fields.text("name")
    kind = _choice(fields, "kind", SchoolKind)
    commune = (
        fields.text("commune", required=home is None, pattern=INSEE, what="an INSEE commune code") or home
    )
    zone = _choice(fields, "zone", Zone)
    pupils = fields.integer("pupils")
    teachers = fields.integer("teachers")
    block = fields.integer("block")
    joined, left = _stay(fields, convention)
    packs, licences, pack_sources = _software(fields, problems)
    equipment = tuple(
        item
        for item_path, item_node in fields.items("equipment", "devices")
        if (item := _equipment(item_node, file, item_path, problems)) is not None
    )
    if (
        uai is None
        or name is None
        or kind is None
        or commune is None
        or joined is None
        or zone is None
        or pupils is None
        or teachers is None
        or block is None
    ):
        return None
    return School(
        uai,
        name,
        kind,
        commune,
        zone,
        pupils,
        teachers,
        block,
        packs,
        licences,
        equipment,
        Source(file, fields.line, fields.path),
        pack_sources,
        joined,
        left,
        Source(file, fields.value_line("joined"), fields.field_path("joined"))
        if fields.has("joined")
        else None,
    )


def _stay(fields: Fields, convention: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """The school's `joined` (by default the convention's start) and `left`, checked against each other.

    A school cannot join its member before the member's convention starts: its pack installation and
    devices would be billed to a member it did not belong to.
    """
    joined = fields.date("joined", required=False)
    left = fields.date("left", required=False)
    if joined is not None and convention is not None and joined < convention:
        fields.problem(
            fields.node("joined"),
            "joined",
            f"{joined} is before its member's convention starts ({convention})",
        )
        return None, left
    joined = joined or convention
    if joined is not None and left is not None and left <= joined:
        fields.problem(fields.node("left"), "left", f"left {left} is not after joining {joined}")
        return None, left
    return joined, left


def _choice(fields: Fields, name: str, enum: type[_E]) -> _E | None:
    text = fields.text(name)
    if text is None:
        return None
    try:
        return enum(text)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        fields.problem(fields.node(name), name, f"unknown {name} {text!r} (expected one of: {choices})")
        return None


def _software(
    school: Fields, problems: Problems
) -> tuple[tuple[str, ...], tuple[Licence, ...], tuple[Source, ...]]:
    fields = school.mapping("software", "the school's software", required=False)
    if fields is None:
        return (), (), ()
    fields.check((), ("packs", "licences"))
    packs: list[str] = []
    sources: list[Source] = []
    for path, node in fields.items("packs", "software pack names", required=False):
        if isinstance(node, yaml.ScalarNode) and PACK_NAME.match(node.value):
            packs.append(node.value)
            sources.append(Source(fields.file, node.start_mark.line + 1, path))
        else:
            problems.add(fields.file, node.start_mark.line + 1, path, "expected a software pack name")
    licences: list[Licence] = []
    for path, node in fields.items("licences", "licences", required=False):
        licence = Fields.of(node, fields.file, path, problems, "a licence")
        if licence is None:
            continue
        licence.check(("product", "seats", "start"), ("end",))
        product = licence.text("product")
        seats = licence.integer("seats", minimum=1)
        start = licence.date("start")
        end = licence.date("end", required=False)
        if start is not None and end is not None and end < start:
            licence.problem(licence.node("end"), "end", f"ends {end} before it starts {start}")
        elif product is not None and seats is not None and start is not None:
            licences.append(
                Licence(product, seats, start, end, Source(fields.file, licence.line, licence.path))
            )
    return tuple(packs), tuple(licences), tuple(sources)


def _equipment(node: yaml.Node, file: str, path: str, problems: Problems) -> Equipment | None:
    fields = Fields.of(node, file, path, problems, "a device")
    if fields is None:
        return None
    kind = _choice(fields, "kind", EquipmentKind)
    if kind is not None and kind.numbered:
        fields.check((*_EQUIPMENT_FIELDS, "unit"), ("retired",))
    elif kind is not None and kind.workstation:
        fields.check(_EQUIPMENT_FIELDS, ("retired", "mac", "host"))
    else:
        fields.check(_EQUIPMENT_FIELDS, ("retired",))
    tag = fields.text("tag", pattern=ASSET_TAG, what="an asset tag (capitals, digits, hyphens)")
    model = fields.text("model")
    serial = fields.text("serial")
    installed = fields.date("installed")
    retired = fields.date("retired", required=False)
    unit = fields.integer("unit", minimum=1) if kind is not None and kind.numbered else None
    mac, host = _mac_and_host(fields) if kind is not None and kind.workstation else (None, None)
    if installed is not None and retired is not None and retired < installed:
        fields.problem(fields.node("retired"), "retired", f"retired {retired} before installed {installed}")
        return None
    if tag is None or kind is None or model is None or serial is None or installed is None:
        return None
    if kind.numbered and unit is None:
        return None
    return Equipment(
        tag, kind, model, serial, installed, retired, unit, Source(file, fields.line, fields.path), mac, host
    )


def _mac_and_host(fields: Fields) -> tuple[str | None, int | None]:
    """A workstation's MAC (normalised) and host number; a MAC without its host number is an error.

    The record is kept either way: its billing does not depend on them, and the other checks still run.
    """
    mac = None
    text = fields.text("mac", required=False, what="a MAC address")
    if text is not None:
        try:
            mac = normalise_mac(text)
        except MacError as exc:
            fields.problem(fields.node("mac"), "mac", str(exc))
    host = fields.integer("host", required=False, minimum=1)
    if text is not None and not fields.has("host"):
        fields.problem(None, "host", "missing field: a workstation with a MAC needs its host number")
    return mac, host
