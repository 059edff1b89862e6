"""Roster reading, the login rule, passwords, planning and slips, without a directory."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from schoolfleet.accounts.credentials import (
    base_login,
    make_password,
    password_space,
    unique_login,
    validate_password_pattern,
)
from schoolfleet.accounts.plan import PlanRefusedError, build_plan, reset_plan
from schoolfleet.accounts.roster import Roster, RosterError, read_pupils, read_teachers
from schoolfleet.accounts.slips import Slip, read_slips, render

CLASSES = {"cm1a": "CM1 A", "cm2b": "CM2 B"}
TODAY = dt.date(2026, 9, 1)
ONDE_HEADER = "Nom élève;Nom d'usage élève;Prénom élève;Date naissance;Sexe;Niveau;Classe"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def pupils(tmp_path: Path, *rows: str, **kwargs: Any) -> Roster:
    roster = Roster()
    read_pupils(
        write(tmp_path, "p.csv", "\n".join([ONDE_HEADER, *rows]) + "\n", **kwargs),
        CLASSES,
        roster,
        today=TODAY,
    )
    return roster


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp1252", False)])
def test_encodings_are_detected(tmp_path: Path, encoding: str, bom: bool) -> None:
    roster = pupils(tmp_path, "LEFÈVRE;LEFÈVRE;Chloé;30/11/2016;F;CM2;CM2 B", encoding=encoding, bom=bom)
    assert roster.problems == []
    assert (roster.pupils[0].surname, roster.pupils[0].first_name) == ("LEFÈVRE", "Chloé")


def test_comma_separator_and_other_column_titles(tmp_path: Path) -> None:
    roster = Roster()
    path = write(tmp_path, "p.csv", "Prénom,Nom,Né(e) le,Classe\nLéa,Martin,2017-03-12,cm1 a\n")
    read_pupils(path, CLASSES, roster, today=TODAY)
    assert roster.pupils[0].class_id == "cm1a"
    assert roster.pupils[0].birth_date == dt.date(2017, 3, 12)


def test_configured_columns_win(tmp_path: Path) -> None:
    roster = Roster()
    path = write(tmp_path, "p.csv", "A;B;C;D\nMartin;Léa;12/03/2017;CM1 A\n")
    columns = {"surname": "A", "first_name": "B", "birth_date": "C", "class": "D"}
    read_pupils(path, CLASSES, roster, columns=columns, today=TODAY)
    assert roster.pupils[0].surname == "Martin"


def test_bad_rows_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    roster = pupils(
        tmp_path,
        "MARTIN;MARTIN;Léa;12/03/2017;F;CM1;CM1 A",
        ";DUPRÉ;;03/04/2017;M;CM1;CM1 A",
        "N'DIAYE;N'DIAYE;Moussa;31/02/2016;M;CM2;CM2 B",
        "GARCIA;GARCIA;Inès;21/07/2016;F;CM2;CM2 B",
        "GARCIA;GARCIA;Inès;21/07/2016;F;CM2;CM2 B",
        "PETIT;PETIT;Jules;02/02/2017;M;CE2;CE2 C",
    )
    assert [(p.line, p.message.split(" (")[0]) for p in roster.problems] == [
        (3, "missing first name"),
        (4, "unreadable birth date '31/02/2016'"),
        (6, "duplicate of line 5"),
        (7, "unknown class 'CE2 C'"),
    ]
    assert [p.line for p in roster.pupils] == [2, 5]


def test_utf8_configured_but_file_is_windows_1252(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.csv", f"{ONDE_HEADER}\nLEFÈVRE;LEFÈVRE;Chloé;30/11/2016;F;CM2;CM2 B\n", "cp1252"
    )
    with pytest.raises(RosterError, match=r"p.csv:1: not UTF-8 \(byte 0xe9\)"):
        read_pupils(path, CLASSES, Roster(), encoding="utf-8", today=TODAY)


def test_garbled_accents_are_bad_rows(tmp_path: Path) -> None:
    roster = pupils(tmp_path, "LEFÃˆVRE;LEFÃˆVRE;ChloÃ©;30/11/2016;F;CM2;CM2 B")
    assert [p.line for p in roster.problems] == [2]
    assert roster.pupils == []


@pytest.mark.parametrize("content", [b"", b"\n\n", (ONDE_HEADER + "\n").encode()])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    with pytest.raises(RosterError, match="disable every"):
        read_pupils(path, CLASSES, Roster(), today=TODAY)


def test_spreadsheet_or_utf16_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(ONDE_HEADER.encode("utf-16"))
    with pytest.raises(RosterError, match="UTF-16"):
        read_pupils(path, CLASSES, Roster(), today=TODAY)


def test_teachers_with_several_classes(tmp_path: Path) -> None:
    roster = Roster()
    path = write(tmp_path, "t.csv", 'Nom,Prénom,Classes\nDUPONT,Anne,"CM1 A, CM2 B"\nX,Y,CE1\n', bom=True)
    read_teachers(path, CLASSES, roster)
    assert roster.teachers[0].class_ids == ("cm1a", "cm2b")
    assert [(p.line, p.message) for p in roster.problems] == [(3, "unknown class 'CE1'")]


def test_login_rule() -> None:
    assert base_login("Léa-Marie", "N'Diaye") == "leamarie.ndiaye"
    assert base_login("Noé", "BŒUF") == "noe.boeuf"
    assert len(base_login("Maximilien", "De La Tour-Saint-Exupéry")) == 20
    assert unique_login("lea.martin", {"lea.martin"}) == "lea.martin2"
    assert unique_login("lea.martin", {"lea.martin", "lea.martin2"}) == "lea.martin3"
    long = base_login("Maximilien", "Delatoursaintexupery")
    assert unique_login(long, {long}) == long[:19] + "2"
    with pytest.raises(ValueError, match="no letters"):
        base_login("李", "王")


def test_passwords_follow_the_pattern() -> None:
    password = make_password("Cvcvcv99")
    assert password[0].isupper() and password[1:6].islower() and password[6:].isdigit()
    assert not set(password) & set("Il1O0qy")
    assert password_space("Cvcvcv99") > 2**24
    assert len({make_password() for _ in range(200)}) > 190
    with pytest.raises(ValueError, match="shorter"):
        validate_password_pattern("Cv99", 7)


def directory(*users: dict[str, Any]) -> dict[str, Any]:
    return {"users": list(users), "taken_logins": ["administrator", *(u["login"] for u in users)]}


def account(
    roster: Roster, index: int, login: str, groups: list[str], enabled: bool = True
) -> dict[str, Any]:
    pupil = roster.pupils[index]
    return {
        "login": login,
        "identity": pupil.identity,
        "kind": "pupil",
        "enabled": enabled,
        "left": None,
        "given": pupil.first_name,
        "surname": pupil.surname,
        "groups": groups,
    }


def test_plan_creates_then_nothing_then_moves_and_disables(tmp_path: Path) -> None:
    year1 = pupils(
        tmp_path,
        "MARTIN;MARTIN;Léa;12/03/2017;F;CM1;CM1 A",
        "MARTIN;MARTIN;Léa;05/05/2017;F;CM1;CM1 A",
        "BŒUF;BŒUF;Noé;14/02/2017;M;CM1;CM1 A",
    )
    plan = build_plan(year1, directory(), CLASSES, TODAY)
    assert [(a.login, a.groups) for a in plan.create] == [
        ("noe.boeuf", ["eleves", "eleves-cm1a"]),
        ("lea.martin", ["eleves", "eleves-cm1a"]),
        ("lea.martin2", ["eleves", "eleves-cm1a"]),
    ]
    current = directory(
        account(year1, 0, "lea.martin", ["eleves", "eleves-cm1a"]),
        account(year1, 1, "lea.martin2", ["eleves", "eleves-cm1a"]),
        account(year1, 2, "noe.boeuf", ["eleves", "eleves-cm1a", "Domain Users"]),
    )
    again = build_plan(year1, current, CLASSES, TODAY)
    assert (again.changes, again.unchanged) == (0, 3)

    year2 = pupils(
        tmp_path, "BŒUF;BŒUF;Noé;14/02/2017;M;CM2;CM2 B", "MARTIN;MARTIN;Léa;12/03/2017;F;CM1;CM1 A"
    )
    plan = build_plan(year2, current, CLASSES, TODAY)
    assert plan.create == []
    assert plan.set_groups == [{"login": "noe.boeuf", "add": ["eleves-cm2b"], "remove": ["eleves-cm1a"]}]
    assert plan.disable == [{"login": "lea.martin2", "date": "2026-09-01"}]


def test_plan_reenables_a_returning_pupil(tmp_path: Path) -> None:
    roster = pupils(tmp_path, "MARTIN;MARTIN;Léa;12/03/2017;F;CM1;CM1 A")
    plan = build_plan(
        roster, directory(account(roster, 0, "lea.martin", ["eleves"], enabled=False)), CLASSES, TODAY
    )
    assert plan.enable == [{"login": "lea.martin"}]
    assert plan.set_groups == [{"login": "lea.martin", "add": ["eleves-cm1a"], "remove": []}]


def test_plan_refuses_to_disable_most_of_the_school(tmp_path: Path) -> None:
    roster = pupils(tmp_path, *[f"P{i};P{i};Kim;01/01/2017;F;CM1;CM1 A" for i in range(4)])
    current = directory(*[account(roster, i, f"kim.p{i}", ["eleves", "eleves-cm1a"]) for i in range(4)])
    small = pupils(tmp_path, "P0;P0;Kim;01/01/2017;F;CM1;CM1 A")
    with pytest.raises(PlanRefusedError, match="3 of 4"):
        build_plan(small, current, CLASSES, TODAY)
    assert len(build_plan(small, current, CLASSES, TODAY, allow_mass_disable=True).disable) == 3


def test_skipped_bad_rows_disable_nobody(tmp_path: Path) -> None:
    roster = pupils(tmp_path, "MARTIN;MARTIN;Léa;12/03/2017;F;CM1;CM1 A")
    other = pupils(tmp_path, "GARCIA;GARCIA;Inès;21/07/2016;F;CM2;CM2 B")
    roster.skipped_rows = 1
    current = directory(account(other, 0, "ines.garcia", ["eleves", "eleves-cm2b"]))
    plan = build_plan(roster, current, CLASSES, TODAY)
    assert plan.disable == [] and "NOT disabled" in plan.notes[0]


def test_password_never_contains_the_name(tmp_path: Path) -> None:
    roster = pupils(tmp_path, "BAKO;BAKO;Tim;01/01/2017;M;CM1;CM1 A")
    plans = [
        build_plan(roster, directory(), CLASSES, TODAY, password_pattern="Cvcv99").create[0]
        for _ in range(300)
    ]
    assert all("bako" not in a.password.lower() for a in plans)


def test_reset_unknown_login_is_refused() -> None:
    with pytest.raises(PlanRefusedError):
        reset_plan(directory(), ["nobody"], "Cvcvcv99")


def test_slips_round_trip() -> None:
    slips = [Slip("École Jaurès", "CM1 A", f"Élève ({i})", f"login{i}", "Bakoti42") for i in range(12)]
    slips.append(Slip("École Jaurès", "CM2 B", "Noé BŒUF", "noe.boeuf", "Vujepe79"))
    pdf = render(slips)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page ") == 3  # 10 + 2 for CM1 A, a fresh page for CM2 B
    back = read_slips(pdf)
    assert back[-1] == {
        "school": "École Jaurès",
        "class": "CM2 B",
        "name": "Noé BŒUF",
        "login": "noe.boeuf",
        "password": "Vujepe79",
    }
    assert back[0]["name"] == "Élève (0)"


def test_command_line_stops_on_bad_rows_and_prints_them(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", f"{ONDE_HEADER}\nMARTIN;MARTIN;Léa;99/99/2017;F;CM1;CM1 A\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schoolfleet.accounts",
            "plan",
            f"--pupils={path}",
            f"--classes={json.dumps(CLASSES)}",
        ],
        input=json.dumps(directory()),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "p.csv:2: unreadable birth date" in result.stderr
