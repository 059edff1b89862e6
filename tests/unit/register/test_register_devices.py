"""The device catalogue in authority.yml: each network model's kind, family, ports and radios, and the
register refusing a router, switch or access point the catalogue does not run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from register_cases import SMALL, copy_small

from schoolfleet.network.plan import ROUTER_FAMILIES, SWITCH_FAMILIES
from schoolfleet.register import EquipmentKind, RegisterError, load_register
from schoolfleet.register.devices import FAMILIES, Ports, Radio
from schoolfleet.register.inventory import build_inventory
from schoolfleet.wifi.renderers import FAMILIES as WIFI_FAMILIES

DEMO = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register"
ALPHA = "members/91001-alpha.yml"


def _problems(root: Path) -> list[str]:
    with pytest.raises(RegisterError) as caught:
        load_register(root)
    return [str(problem) for problem in caught.value.problems]


def _edit(root: Path, name: str, old: str, new: str) -> Path:
    path = root / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_catalogue_reads_kind_family_ports_and_radios() -> None:
    devices = load_register(SMALL / "register").authority.devices
    switch = devices["HPE Aruba 2530-24G-PoE+"]
    assert (switch.kind, switch.family, switch.ports) == (
        EquipmentKind.SWITCH,
        "procurve",
        Ports(24, "24", 24),
    )
    assert switch.source.path == "devices.HPE Aruba 2530-24G-PoE+"
    ap = devices["Aruba AP-303"]
    assert ap.radios == (Radio("radio0", "2g"), Radio("radio1", "5g"))
    refused = devices["Aruba AP-505"]
    assert refused.family is None and refused.refused is not None and "OpenWrt" in refused.refused


def test_an_unknown_model_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    root = copy_small(tmp_path) / "register"
    path = _edit(root, ALPHA, "model: HPE Aruba 2530-24G-PoE+", "model: Netgear GS724T")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "SF-000013" in text)
    assert _problems(root) == [
        f"{path}:{line}: schools[0].equipment[3].model: switch SF-000013: model 'Netgear GS724T' is not in "
        "the device catalogue (authority.yml devices; its switch models: HPE Aruba 2530-24G-PoE+, "
        "HPE Aruba 2530-48G)"
    ]


def test_a_refused_model_or_one_of_another_kind_is_refused(tmp_path: Path) -> None:
    root = copy_small(tmp_path) / "register"
    _edit(root, ALPHA, "model: Aruba AP-303", "model: Aruba AP-505")
    _edit(root, ALPHA, "model: HPE Aruba 2530-24G-PoE+", "model: Cisco ISR 1111-8P")
    problems = _problems(root)
    assert len(problems) == 2
    assert "switch SF-000013: model 'Cisco ISR 1111-8P' is a router (" in problems[0]
    assert "wifi_ap SF-000015: model 'Aruba AP-505' is refused: not bought" in problems[1]


def test_without_a_catalogue_no_network_device_is_accepted(tmp_path: Path) -> None:
    root = copy_small(tmp_path) / "register"
    authority = root / "authority.yml"
    authority.write_text(
        authority.read_text().split("\ndevices:")[0].rsplit("\n# The device catalogue", 1)[0]
    )
    problems = _problems(root)
    assert problems and all("is not in the device catalogue" in problem for problem in problems)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("family: procurve\n", "family: junos\n", "family", "no switch family 'junos'"),
        ("kind: switch\n", "kind: printer\n", "kind", "'printer' is not a catalogued kind"),
        ("{access: 24, uplink: 24, poe: 24}", "{access: 24, uplink: 24, poe: 28}", "ports.poe", "28 PoE"),
        ("{name: radio1, band: 5g}", "{name: radio1, band: 7g}", "radios[1].band", "'7g' is not a band"),
        ("{name: radio1, band: 5g}", "{name: radio0, band: 5g}", "radios[1].name", "listed twice"),
    ],
)
def test_a_bad_catalogue_entry_names_its_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    root = copy_small(tmp_path) / "register"
    _edit(root, "authority.yml", old, new)
    problems = _problems(root)
    assert len(problems) == 1
    assert "authority.yml:" in problems[0] and f".{field}: " in problems[0] and message in problems[0]


def test_the_inventory_gives_each_network_device_its_family_once() -> None:
    register = load_register(SMALL / "register")
    hosts = build_inventory(register, as_of=dt.date(2026, 11, 1))["hosts"]
    families = {
        name: host["vars"].get("fleet_device_family")
        for name, host in hosts.items()
        if host["vars"].get("fleet_role") in ("router", "switch", "wifi_ap")
    }
    assert families and set(families.values()) <= {"ios", "procurve", "openwrt"}
    servers = [host for host in hosts.values() if host["vars"].get("fleet_role") == "school_server"]
    assert servers and all("fleet_device_family" not in host["vars"] for host in servers)


def test_the_registers_families_are_the_renderers() -> None:
    assert FAMILIES[EquipmentKind.ROUTER] == ROUTER_FAMILIES
    assert FAMILIES[EquipmentKind.SWITCH] == SWITCH_FAMILIES
    assert FAMILIES[EquipmentKind.WIFI_AP] == WIFI_FAMILIES


def test_every_network_device_of_the_demo_has_a_family_it_runs() -> None:
    register = load_register(DEMO)
    counts: dict[str, int] = {}
    for _, school in register.schools():
        for item in school.equipment:
            if item.kind in FAMILIES:
                family = register.authority.devices[item.model].family
                assert family is not None
                counts[family] = counts.get(family, 0) + 1
    assert set(counts) == {"ios", "sns", "procurve", "openwrt"}
