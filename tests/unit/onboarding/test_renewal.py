"""The yearly renewal: the list the members check, and their changes applied all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from schoolfleet.onboarding import renewal
from schoolfleet.register import load_register

from .support import Run, snapshot


def test_the_list_has_the_schools_of_the_members_in_convention_that_year(
    run: Run, register_dir: Path, tmp_path: Path
) -> None:
    assert run("leave", "--member", "beta-gamma", "--on", "2027-07-01")[0] == 0
    out_file = tmp_path / "renewal.csv"
    status, out, err = run("renewal-list", "--year", "2026", "--out", str(out_file))
    assert status == 0, err
    rows = list(csv.reader(out_file.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == list(renewal.COLUMNS)
    assert renewal.COLUMNS == (
        "member", "member_name", "uai", "school", "kind", "commune", "zone", "pupils", "teachers",
    )  # fmt: skip
    # Delta left in 2024; Beta-Gamma is still in for 2026-2027.
    assert [(row[0], row[2], row[7]) for row in rows[1:]] == [
        ("91001", "0910001G", "210"),
        ("91001", "0910005L", "90"),
        ("beta-gamma", "0450001G", "75"),
    ]
    # For 2027-2028 Beta-Gamma has left.
    status, out, _ = run("renewal-list", "--year", "2027", "--format", "text")
    assert status == 0
    assert out.splitlines()[0].startswith("Schools for the school year 2027-2028")
    assert "91001 Alpha-sur-Orge" in out
    assert "0450001G" not in out and "Beta" not in out


def test_a_changes_file_is_applied_whole(run: Run, register_dir: Path, tmp_path: Path) -> None:
    changes = tmp_path / "changes-2027.yml"
    changes.write_text(
        "---\n"
        "# Sent by the members before 20 June 2027.\n"
        "- update_school: {uai: 0910001G, pupils: 224, teachers: 10}\n"
        "- add_school:\n"
        "    {member: '91001', uai: 0910003J, name: École Hugo, kind: primaire, zone: C, pupils: 60,\n"
        "     teachers: 3}\n"
        "- add_equipment:\n"
        "    {school: 0910003J, tag: SF-000500, kind: router, model: Cisco ISR 1111-8P, serial: R500,\n"
        "     installed: 2027-08-19}\n"
        "- move_equipment: {tag: SF-000017, to: 0910003J}\n"
        "- retire_equipment: {tag: SF-000016, on: 2027-08-19}\n"
    )
    status, _, err = run("renewal-apply", str(changes))
    assert status == 0, err
    alpha = next(m for m in load_register(register_dir).members if m.code == "91001")
    schools = {s.uai: s for s in alpha.schools}
    assert (schools["0910001G"].pupils, schools["0910001G"].teachers) == (224, 10)
    assert schools["0910003J"].block == 1
    assert {item.tag for item in schools["0910003J"].equipment} == {"SF-000500", "SF-000017"}
    assert next(i for i in schools["0910001G"].equipment if i.tag == "SF-000016").retired is not None


def test_a_changes_file_with_a_bad_entry_applies_nothing(
    run: Run, register_dir: Path, tmp_path: Path
) -> None:
    changes = tmp_path / "changes-2027.yml"
    changes.write_text(
        "---\n"
        "- update_school: {uai: 0910001G, pupils: 224}\n"
        "- update_school: {uai: 0450001G, zone: D}\n"
        "- leave: {member: '91001', on: 2027-09-01}\n"
    )
    before = snapshot(register_dir)
    status, _, err = run("renewal-apply", str(changes))
    assert status == 2
    assert f"{changes} line 3 (change 2) update_school: {register_dir}/members/sivos-beta-gamma.yml:" in err
    assert "unknown zone 'D'" in err
    assert snapshot(register_dir) == before


def test_an_unknown_action_or_field_is_named(run: Run, tmp_path: Path) -> None:
    changes = tmp_path / "changes.yml"
    changes.write_text("- close_school: {uai: 0910001G}\n- update_school: {uai: 0910001G, pupil: 3}\n")
    status, _, err = run("renewal-apply", str(changes))
    assert status == 2
    assert f"{changes} line 1 (change 1): unknown action 'close_school'" in err
    changes.write_text("- update_school: {uai: 0910001G, pupils: 3, color: red}\n")
    status, _, err = run("renewal-apply", str(changes))
    assert status == 2
    assert f"{changes} line 1 (change 1) update_school: unknown field: color" in err
