"""The catalogue's check on what the register's loader returns (`--register DIR`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schoolfleet.catalogue import check_catalogue, entries_from_packs, index_names, main
from schoolfleet.register import load_register

HERE = Path(__file__).parent
PACKAGES = HERE / "Packages"
SMALL = Path(__file__).resolve().parents[2] / "inventory" / "fixtures" / "small" / "register"


def test_the_loaders_packs_keep_file_and_line() -> None:
    packs = load_register(SMALL).authority.software_packs
    index = index_names(PACKAGES.read_text(encoding="utf-8"))
    problems = check_catalogue(entries_from_packs(packs), index)
    # evince is in the fixture register, not in the fixture index; the old-form pack has nothing.
    assert problems == [
        f"{SMALL}/authority.yml:26: pack 'base': package 'evince' is not in the Debian 12 index",
        f"{SMALL}/authority.yml:31: pack 'maternelle': package 'evince' is not in the Debian 12 index",
    ]


def test_command_line_checks_the_register_through_its_loader(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--register", str(SMALL), "--packages", str(PACKAGES)]) == 1
    err = capsys.readouterr().err
    assert f"{SMALL}/authority.yml:26: pack 'base': package 'evince'" in err
    assert "refused" in err


def test_a_name_the_loader_refuses_stops_the_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = tmp_path / "register"
    shutil.copytree(SMALL, register)
    path = register / "authority.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("- evince", "- Evince"), encoding="utf-8")
    assert main(["--register", str(register), "--packages", str(PACKAGES)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:26: software_packs.base.packages[2]: pack 'base': 'Evince' is not a Debian package" in err
    assert "refused" in err


def test_an_authority_file_or_a_register_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([str(SMALL / "authority.yml"), "--register", str(SMALL), "--packages", str(PACKAGES)])
    assert "either an authority file or --register" in capsys.readouterr().err
