"""The software catalogue's check against a Debian 12 index (schoolfleet.catalogue)."""

import gzip
import lzma
from pathlib import Path

import pytest

from schoolfleet.catalogue import (
    CatalogueError,
    PackPackage,
    catalogue_entries,
    check_catalogue,
    entries_from_packs,
    index_names,
    main,
    read_index,
)

HERE = Path(__file__).parent
INDEX = index_names((HERE / "Packages").read_text(encoding="utf-8"))

AUTHORITY = """\
authority: {name: Test}
software_packs:
  direction: Outils de direction d'école
  base:
    description: Bureautique et navigateur
    packages:
      - libreoffice-writer
      - firefox-esr
  maternelle:
    description: Cycle 1
    packages: [gcompris-qt, tuxpaint]
    settings: {firefox_homepage: "https://ecole.example/"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "authority.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_index_names_reads_the_package_fields_only():
    assert {"libreoffice-writer", "firefox-esr", "gcompris-qt", "tuxpaint"} == INDEX


@pytest.mark.parametrize("suffix, compress", [("", bytes), (".gz", gzip.compress), (".xz", lzma.compress)])
def test_read_index_plain_and_compressed(tmp_path, suffix, compress):
    path = tmp_path / f"Packages{suffix}"
    path.write_bytes(compress((HERE / "Packages").read_bytes()))
    assert read_index(path) == INDEX


def test_read_index_refuses_a_file_that_is_no_index(tmp_path):
    path = tmp_path / "Packages"
    path.write_text("<html>404</html>\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not a Debian package index"):
        read_index(path)


def test_entries_carry_pack_and_line_and_skip_the_old_string_form(tmp_path):
    entries = catalogue_entries(write(tmp_path, AUTHORITY))
    assert [(e.pack, e.package, e.line) for e in entries] == [
        ("base", "libreoffice-writer", 7),
        ("base", "firefox-esr", 8),
        ("maternelle", "gcompris-qt", 11),
        ("maternelle", "tuxpaint", 11),
    ]


def test_a_good_catalogue_has_no_problem(tmp_path):
    assert check_catalogue(catalogue_entries(write(tmp_path, AUTHORITY)), INDEX) == []


def test_a_wrong_name_names_the_pack_the_package_and_the_line(tmp_path):
    path = write(tmp_path, AUTHORITY.replace("firefox-esr", "firefox"))
    assert check_catalogue(catalogue_entries(path), INDEX) == [
        f"{path}:8: pack 'base': package 'firefox' is not in the Debian 12 index"
    ]


def test_duplicates_and_malformed_names_are_problems():
    entries = [
        PackPackage("base", "tuxpaint", "a.yml", 3),
        PackPackage("base", "tuxpaint", "a.yml", 4),
        PackPackage("base", "Tux Paint", "a.yml", 5),
    ]
    assert check_catalogue(entries, INDEX) == [
        "a.yml:4: pack 'base': package 'tuxpaint' is listed twice (first on line 3)",
        "a.yml:5: pack 'base': package 'Tux Paint' is not a Debian package name",
    ]


def test_plain_data_from_the_loader_is_checked_too():
    problems = check_catalogue(entries_from_packs({"inclusion": ["orca"]}, "authority.yml"), INDEX)
    assert problems == ["authority.yml: pack 'inclusion': package 'orca' is not in the Debian 12 index"]


def test_command_line_refuses_the_change_and_lists_every_problem(tmp_path, capsys):
    path = write(tmp_path, AUTHORITY.replace("tuxpaint", "tuxpainter"))
    assert main([str(path), "--packages", str(HERE / "Packages")]) == 1
    err = capsys.readouterr().err
    assert f"{path}:11: pack 'maternelle': package 'tuxpainter' is not in the Debian 12 index" in err
    assert "refused" in err


def test_command_line_accepts_a_good_catalogue(tmp_path, capsys):
    assert main([str(write(tmp_path, AUTHORITY)), "--packages", str(HERE / "Packages")]) == 0
    assert "4 packages in 2 packs" in capsys.readouterr().out


def test_command_line_reports_an_unreadable_index(tmp_path, capsys):
    assert main([str(write(tmp_path, AUTHORITY)), "--packages", str(tmp_path / "missing")]) == 2
    assert "cannot read the package index" in capsys.readouterr().err
