"""The software catalogue in authority.yml: both forms of `software_packs`, read by the one loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from register_cases import SMALL, copy_small

from schoolfleet.register import RegisterError, SoftwarePack, SoftwarePackage, Source, load_register
from schoolfleet.register.inventory import school_software

DEMO = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register"


def test_the_mapping_form_carries_packages_with_their_lines_and_settings() -> None:
    packs = load_register(SMALL / "register").authority.software_packs
    assert list(packs) == ["base", "maternelle", "direction"]
    base = packs["base"]
    assert isinstance(base, SoftwarePack)
    assert base.description == "Bureautique"
    assert (base.source.line, base.source.path) == (21, "software_packs.base")
    assert base.package_names == ("libreoffice-writer", "firefox-esr", "evince")
    assert [(p.source.line, p.source.path) for p in base.packages] == [
        (24, "software_packs.base.packages[0]"),
        (25, "software_packs.base.packages[1]"),
        (26, "software_packs.base.packages[2]"),
    ]
    assert base.packages[0].source.file.endswith("authority.yml")
    assert dict(base.settings) == {"firefox_homepage": "https://ecole.example/"}
    # A flow list: every package on the list's line.
    assert {p.source.line for p in packs["maternelle"].packages} == {31}


def test_the_string_form_stays_valid_as_a_pack_with_no_packages() -> None:
    register = load_register(SMALL / "register")
    direction = register.authority.software_packs["direction"]
    assert (direction.description, direction.packages, dict(direction.settings)) == (
        "Outils de direction d'école",
        (),
        {},
    )
    assert register.authority.pack_descriptions()["base"] == "Bureautique"


def test_settings_are_typed_scalars(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    path = register / "authority.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "      firefox_homepage: https://ecole.example/\n",
            "      firefox_homepage: https://ecole.example/\n      kiosk: true\n      volume: 40\n"
            '      code: "0042"\n',
        ),
        encoding="utf-8",
    )
    settings = load_register(register).authority.software_packs["base"].settings
    assert dict(settings) == {
        "firefox_homepage": "https://ecole.example/",
        "kiosk": True,
        "volume": 40,
        "code": "0042",
    }


def test_every_problem_of_the_catalogue_in_one_run(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    path = register / "authority.yml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("      - libreoffice-writer\n", "      - libreoffice_writer\n      - x\n")
    text = text.replace("[gcompris-qt, tuxpaint, evince]", "[gcompris-qt, tuxpaint, gcompris-qt]")
    text = text.replace("      firefox_homepage:", "      Firefox-Homepage:")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegisterError) as caught:
        load_register(register)
    shown = [f"{p.line}: {p.field}: {p.message}" for p in caught.value.problems]
    assert shown == [
        "24: software_packs.base.packages[0]: pack 'base': 'libreoffice_writer' is not a Debian package name "
        "(lowercase letters, digits, + - . ; two characters at least, starting with a letter or digit)",
        "25: software_packs.base.packages[1]: pack 'base': 'x' is not a Debian package name "
        "(lowercase letters, digits, + - . ; two characters at least, starting with a letter or digit)",
        "29: software_packs.base.settings.Firefox-Homepage: pack 'base': a setting name is lowercase "
        "letters, digits and _",
        "32: software_packs.maternelle.packages[2]: pack 'maternelle': package 'gcompris-qt' is listed "
        "twice (first on line 32)",
    ]


def test_a_school_naming_an_unknown_pack_names_the_pack_line(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    path = register / "members" / "91001-alpha.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      packs: [base]\n", "      packs:\n        - base\n        - cycle1\n"))
    line = path.read_text(encoding="utf-8").splitlines().index("        - cycle1") + 1
    with pytest.raises(RegisterError) as caught:
        load_register(register)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (line, "schools[0].software.packs[1]")
    assert problem.message.startswith("unknown software pack 'cycle1' (the catalogue in authority.yml has:")


def _pack(name: str, packages: tuple[str, ...], **settings: str | int | bool) -> SoftwarePack:
    source = Source("authority.yml", 1, f"software_packs.{name}")
    return SoftwarePack(name, name, tuple(SoftwarePackage(p, source) for p in packages), settings, source)


def test_school_software_unions_packs_and_removes_the_others_packages() -> None:
    catalogue = {
        "base": _pack("base", ("firefox-esr", "evince"), firefox_homepage="https://a.example/"),
        "maternelle": _pack("maternelle", ("gcompris-qt", "tuxpaint")),
        "elementaire": _pack("elementaire", ("gcompris-qt", "tuxmath", "stellarium")),
        "direction": _pack("direction", ("thunderbird", "evince"), firefox_homepage="https://d.example/"),
        "inclusion": _pack("inclusion", ()),
    }
    assert school_software(catalogue, ["base", "maternelle", "direction"]) == {
        "packs": ["base", "maternelle", "direction"],
        "packages": ["firefox-esr", "evince", "gcompris-qt", "tuxpaint", "thunderbird"],
        # gcompris-qt is shared with maternelle: kept.
        "removed_packages": ["tuxmath", "stellarium"],
        # The later pack's value wins.
        "settings": {"firefox_homepage": "https://d.example/"},
    }
    assert school_software(catalogue, []) == {
        "packs": [],
        "packages": [],
        "removed_packages": ["firefox-esr", "evince", "gcompris-qt", "tuxpaint", "tuxmath", "stellarium",
                             "thunderbird"],
        "settings": {},
    }  # fmt: skip


def test_every_demo_school_gets_base() -> None:
    register = load_register(DEMO)
    for _, school in register.schools():
        software = school_software(register.authority.software_packs, school.packs)
        assert "firefox-esr" in software["packages"] and "firefox-esr" not in software["removed_packages"]
        assert not set(software["packages"]) & set(software["removed_packages"])
