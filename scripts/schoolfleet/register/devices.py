"""The device catalogue of `authority.yml`: every model of router, switch and access point the fleet holds.

    devices:
      HPE Aruba 2530-24G-PoE+:
        kind: switch
        family: procurve
        ports: {access: 24, uplink: 24, poe: 24}
      Aruba AP-303:
        kind: wifi_ap
        family: openwrt
        ports: {access: 0, uplink: lan, poe: 0}
        radios: [{name: radio0, band: 2g}, {name: radio1, band: 5g}]
      Aruba AP-505:
        kind: wifi_ap
        refused: "why the fleet does not run it"

A model's family is the one renderer and push path that configures it; the roles never guess it from
the model's name. A managed network device whose model is not in the catalogue, of another kind, or
`refused`, is a problem of the register: onboarding fails at once, not the network run at 2 a.m.
School servers are not catalogued: they are Debian machines whatever their hardware.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schoolfleet.register.errors import Problems
from schoolfleet.register.model import EquipmentKind, Member, Source
from schoolfleet.register.nodes import Fields

# The families each kind can be configured by: one renderer and one push path each
# (schoolfleet.network.plan for routers and switches, schoolfleet.wifi.renderers for access points).
FAMILIES: Mapping[EquipmentKind, tuple[str, ...]] = {
    EquipmentKind.ROUTER: ("ios", "procurve", "sns"),
    EquipmentKind.SWITCH: ("ios", "procurve"),
    EquipmentKind.WIFI_AP: ("openwrt",),
}
BANDS = ("2g", "5g", "6g")


@dataclass(frozen=True, slots=True)
class Ports:
    """`access`: front-panel ports numbered 1..access a plan may assign; `uplink`: the port (number) or
    interface (name) towards the upstream device; `poe`: ports 1..poe give power (0: none)."""

    access: int
    uplink: str
    poe: int


@dataclass(frozen=True, slots=True)
class Radio:
    name: str
    band: str


@dataclass(frozen=True, slots=True)
class DeviceModel:
    """One model of the catalogue. `refused` (a reason) when the fleet does not run it: no family then."""

    name: str
    kind: EquipmentKind
    family: str | None
    ports: Ports | None
    radios: tuple[Radio, ...]
    refused: str | None
    source: Source

    def as_vars(self) -> dict[str, object]:
        """What the inventory gives a device of this model (see the plugin's documentation)."""
        ports = self.ports
        return {
            "fleet_device_family": self.family,
            "fleet_device_ports": (
                {"access": ports.access, "uplink": ports.uplink, "poe": ports.poe} if ports else {}
            ),
            "fleet_device_radios": [{"name": radio.name, "band": radio.band} for radio in self.radios],
        }


def parse_devices(top: Fields, problems: Problems) -> dict[str, DeviceModel] | None:
    """The `devices` section; absent means an empty catalogue (then no network device is accepted)."""
    if not top.has("devices"):
        return {}
    fields = top.mapping("devices", "the device catalogue (model: {kind, family, ports, radios})")
    if fields is None:
        return None
    models: dict[str, DeviceModel] = {}
    ok = True
    for name in fields.names():
        node = fields.node(name)
        entry = node and Fields.of(node, top.file, fields.field_path(name), problems, f"model {name!r}")
        model = _model(name, entry, fields.key_line(name)) if entry is not None else None
        if model is None:
            ok = False
        else:
            models[name] = model
    return models if ok else None


def _model(name: str, fields: Fields, line: int) -> DeviceModel | None:
    fields.check(("kind",), ("family", "ports", "radios", "refused"))
    kind = _kind(fields)
    refused = fields.text("refused", required=False)
    if kind is None:
        return None
    source = Source(fields.file, line, fields.path)
    if refused is not None:
        for extra in ("family", "ports", "radios"):
            if fields.has(extra):
                fields.problem(fields.node(extra), extra, "a refused model has no family, ports nor radios")
                return None
        return DeviceModel(name, kind, None, None, (), refused, source)
    family = fields.text("family")
    if family is None:
        if not fields.has("family"):
            fields.problem(
                None, "family", "missing field (or `refused` with the reason the fleet does not run it)"
            )
        return None
    if family not in FAMILIES[kind]:
        fields.problem(
            fields.node("family"),
            "family",
            f"no {kind} family {family!r} (the fleet configures: {', '.join(FAMILIES[kind])})",
        )
        return None
    ports = _ports(fields)
    radios = _radios(fields, kind)
    if ports is None or radios is None:
        return None
    return DeviceModel(name, kind, family, ports, radios, None, source)


def _kind(fields: Fields) -> EquipmentKind | None:
    text = fields.text("kind")
    if text is None:
        return None
    kinds = {kind.value: kind for kind in FAMILIES}
    if text not in kinds:
        fields.problem(fields.node("kind"), "kind", f"{text!r} is not a catalogued kind ({', '.join(kinds)})")
        return None
    return kinds[text]


def _ports(parent: Fields) -> Ports | None:
    if not parent.has("ports"):
        parent.problem(parent.node("ports"), "ports", "missing field (access, uplink, poe)")
        return None
    fields = parent.mapping("ports", "the ports (access, uplink, poe)")
    if fields is None:
        return None
    fields.check(("access", "uplink", "poe"))
    access = fields.integer("access")
    uplink = fields.text("uplink", what="a port number or an interface name")
    poe = fields.integer("poe")
    if access is None or uplink is None or poe is None:
        return None
    if poe > access:
        fields.problem(fields.node("poe"), "poe", f"{poe} PoE ports but only {access} access ports")
        return None
    return Ports(access, uplink, poe)


def _radios(parent: Fields, kind: EquipmentKind) -> tuple[Radio, ...] | None:
    if kind is not EquipmentKind.WIFI_AP:
        if parent.has("radios"):
            parent.problem(parent.node("radios"), "radios", f"a {kind} has no radios")
            return None
        return ()
    if not parent.has("radios"):
        parent.problem(parent.node("radios"), "radios", "missing field (an access point has radios)")
        return None
    radios: list[Radio] = []
    ok = True
    for path, node in parent.items("radios", "radios {name, band}"):
        fields = Fields.of(node, parent.file, path, parent.problems, "a radio {name, band}")
        if fields is None:
            ok = False
            continue
        fields.check(("name", "band"))
        name = fields.text("name")
        band = fields.text("band")
        if band is not None and band not in BANDS:
            fields.problem(fields.node("band"), "band", f"{band!r} is not a band ({', '.join(BANDS)})")
            ok = False
        elif name is not None and band is not None:
            if any(radio.name == name for radio in radios):
                fields.problem(fields.node("name"), "name", f"radio {name!r} is listed twice")
                ok = False
            else:
                radios.append(Radio(name, band))
        else:
            ok = False
    return tuple(radios) if ok and radios else None


def check_models(catalogue: Mapping[str, DeviceModel], members: Iterable[Member], problems: Problems) -> None:
    """Every router, switch and access point is of a catalogued model of its kind that the fleet runs."""
    for member in members:
        for school in member.schools:
            for item in school.equipment:
                if item.kind not in FAMILIES:
                    continue
                model = catalogue.get(item.model)
                if model is None:
                    known = ", ".join(name for name, entry in catalogue.items() if entry.kind is item.kind)
                    message = (
                        f"{item.kind} {item.tag}: model {item.model!r} is not in the device catalogue "
                        f"(authority.yml devices; its {item.kind} models: {known or 'none'})"
                    )
                elif model.kind is not item.kind:
                    message = (
                        f"{item.kind} {item.tag}: model {item.model!r} is a {model.kind} ({model.source})"
                    )
                elif model.refused is not None:
                    message = f"{item.kind} {item.tag}: model {item.model!r} is refused: {model.refused}"
                else:
                    continue
                problems.add(item.source.file, item.source.line, item.source.field("model"), message)
