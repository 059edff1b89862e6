import datetime as dt
from pathlib import Path

import pytest
from register_cases import SMALL, BadCase, apply, bad_cases, copy_small

from schoolfleet.register import (
    EquipmentKind,
    MemberKind,
    RegisterError,
    SchoolKind,
    Zone,
    load_register,
    register_digest,
)
from schoolfleet.register.errors import Problems
from schoolfleet.register.nodes import compose_file


def test_small_register() -> None:
    register = load_register(SMALL / "register")
    assert register.authority.name == "Fixture agglomeration"
    assert [server.hostname for server in register.authority.servers] == ["central", "backup1"]
    assert [member.code for member in register.members] == ["91001", "91004", "beta-gamma"]
    alpha, delta, sivos = register.members
    assert alpha.kind is MemberKind.COMMUNE and alpha.wifi
    assert sivos.kind is MemberKind.SIVOS and not sivos.wifi
    assert [commune.insee for commune in sivos.communes] == ["45002", "45003"]
    assert delta.convention.left == dt.date(2024, 8, 31)
    assert not delta.member_on(dt.date(2026, 11, 1)) and delta.member_on(dt.date(2024, 8, 30))
    school = alpha.schools[0]
    assert (school.uai, school.kind, school.zone, school.commune) == (
        "0910001G",
        SchoolKind.ELEMENTAIRE,
        Zone.C,
        "91001",
    )
    assert (school.pupils, school.teachers, school.block, school.packs) == (210, 9, 1, ("base",))
    assert school.licences[0].seats == 10 and school.licences[0].end == dt.date(2027, 8, 31)
    assert sivos.schools[0].commune == "45003"
    held = [item.tag for item in school.equipment_held_on(dt.date(2026, 11, 1))]
    # The retired server and workstation are gone, the workstation installed in 2027 not there yet.
    assert "SF-000010" not in held and "SF-000017" not in held and "SF-000018" not in held
    assert "SF-000011" in held
    switch = next(item for item in school.equipment if item.tag == "SF-000014")
    assert switch.kind is EquipmentKind.SWITCH and switch.unit == 2
    assert switch.source.line == 48 and switch.source.path == "schools[0].equipment[4]"
    assert switch.source.file.endswith("members/91001-alpha.yml")


def test_communes_index() -> None:
    communes = load_register(SMALL / "register").communes()
    assert communes["45003"].name == "Gamma-les-Bois"
    assert set(communes) == {"91001", "91004", "45002", "45003"}


@pytest.mark.parametrize("case", bad_cases(), ids=lambda case: case.id)
def test_bad_input_names_file_line_and_field(case: BadCase, tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    path, line = apply(case, register)
    with pytest.raises(RegisterError) as caught:
        load_register(register)
    problems = caught.value.problems
    assert [(p.file, p.line, p.field) for p in problems] == [(str(path), line, case.field)], problems
    assert case.message in problems[0].message
    assert f"{path}:{line}: " in str(caught.value)


def test_every_problem_in_one_run(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    cases = {case.id: case for case in bad_cases()}
    for name in ("bad_uai_check_letter", "duplicate_asset_tag", "backwards_convention", "duplicate_address"):
        apply(cases[name], register)
    with pytest.raises(RegisterError) as caught:
        load_register(register)
    assert {p.field for p in caught.value.problems} == {
        "schools[1].uai",
        "schools[0].equipment[1].tag",
        "convention.left",
        "servers[1].address",
    }


def test_missing_authority_and_unknown_entry(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    (register / "authority.yml").unlink()
    (register / "member").mkdir()
    with pytest.raises(RegisterError) as caught:
        load_register(register)
    messages = [str(problem) for problem in caught.value.problems]
    assert any("authority.yml: missing" in message for message in messages)
    assert any("member: unknown entry in the register" in message for message in messages)


def test_member_file_must_say_commune_or_sivos(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    path = register / "members" / "91004-delta.yml"
    path.write_text(path.read_text().replace("commune:\n", "town:\n"))
    with pytest.raises(RegisterError) as caught:
        load_register(register)
    messages = [str(problem) for problem in caught.value.problems]
    assert any("starts with either `commune:` or `sivos:`" in message for message in messages)
    assert any("town: unknown field" in message for message in messages)


def test_empty_member_file(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    (register / "members" / "91009-empty.yml").write_text("---\n")
    with pytest.raises(RegisterError, match=r"91009-empty.yml: the file is empty"):
        load_register(register)


def test_octal_looking_insee_stays_text(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    path = register / "members" / "91004-delta.yml"
    path.write_text(path.read_text().replace('insee: "91004"', "insee: 01004"))
    codes = [member.code for member in load_register(register).members]
    assert "01004" in codes


def test_digest_follows_content(tmp_path: Path) -> None:
    register = copy_small(tmp_path) / "register"
    before = register_digest(register)
    assert register_digest(register) == before
    path = register / "members" / "91004-delta.yml"
    path.write_text(path.read_text().replace("pupils: 40", "pupils: 41"))
    changed = register_digest(register)
    assert changed != before
    (register / "members" / "91005-new.yml").write_text("---\n")
    assert register_digest(register) != changed


def test_demo_register_loads() -> None:
    demo = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register"
    register = load_register(demo)
    schools = [school for _, school in register.schools()]
    assert 100 <= len(schools) <= 140
    assert any(member.kind is MemberKind.SIVOS for member in register.members)
    assert any(member.convention.left for member in register.members)
    workstations = sum(
        1
        for school in schools
        for item in school.equipment_held_on(dt.date(2026, 11, 1))
        if item.kind is EquipmentKind.WORKSTATION
    )
    assert 2500 <= workstations <= 3500


def test_a_file_saved_in_windows_1252_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_bytes("commune:\n  insee: '91001'\n  name: Évry\n".encode("cp1252"))
    problems = Problems()
    assert compose_file(path, "members/m.yml", problems) is None
    [problem] = problems.items
    assert (problem.file, problem.line) == ("members/m.yml", 3)
    assert problem.message.startswith("not UTF-8; looks like Windows-1252")
