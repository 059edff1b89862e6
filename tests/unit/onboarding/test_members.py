"""Members: a commune or a SIVOS joins, a member leaves (billing and inventory after its date)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from schoolfleet.billing.__main__ import bill
from schoolfleet.register import MemberKind, load_register
from schoolfleet.register.inventory import build_inventory

from .support import Run, snapshot


def test_add_commune_creates_a_member_file_the_loader_reads(run: Run, register_dir: Path) -> None:
    status, out, _ = run(
        "add-commune", "--insee", "91010", "--name", "Épinay-la-Forêt", "--reference", "CONV-2026-050",
        "--joined", "2026-09-01", "--wifi",
    )  # fmt: skip
    assert status == 0
    assert "+++ b/members/91010-epinay-la-foret.yml" in out
    path = register_dir / "members" / "91010-epinay-la-foret.yml"
    assert '  insee: "91010"\n' in path.read_text()
    member = next(m for m in load_register(register_dir).members if m.code == "91010")
    assert member.kind is MemberKind.COMMUNE
    assert member.name == "Épinay-la-Forêt"
    assert member.convention.joined == dt.date(2026, 9, 1)
    assert member.wifi is True
    assert member.schools == ()


def test_add_sivos_with_its_communes_then_a_school_in_one_of_them(run: Run, register_dir: Path) -> None:
    status, _, err = run(
        "add-sivos", "--code", "delta-epsilon", "--name", "SIVOS Delta-Epsilon", "--commune", "91020=Zeta",
        "--commune", "91021=Eta-sur-Orge", "--reference", "CONV-2026-051", "--joined", "2026-09-01",
    )  # fmt: skip
    assert status == 0, err
    status, _, err = run(
        "add-school", "--member", "delta-epsilon", "--uai", "0910007N", "--name", "École des Prés",
        "--kind", "primaire", "--zone", "C", "--pupils", "80", "--teachers", "4", "--commune", "91021",
    )  # fmt: skip
    assert status == 0, err
    member = next(m for m in load_register(register_dir).members if m.code == "delta-epsilon")
    assert member.kind is MemberKind.SIVOS
    assert [(c.insee, c.name) for c in member.communes] == [("91020", "Zeta"), ("91021", "Eta-sur-Orge")]
    assert member.wifi is False
    assert [(s.uai, s.commune, s.block) for s in member.schools] == [("0910007N", "91021", 1)]


def test_a_commune_already_a_member_is_refused(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, _, err = run(
        "add-commune", "--insee", "91001", "--name", "Alpha bis", "--reference", "CONV-2026-052",
        "--joined", "2026-09-01",
    )  # fmt: skip
    assert status == 2
    assert "91001 is already a member" in err
    assert snapshot(register_dir) == before


def test_a_commune_leaving_mid_year_is_billed_that_year_and_leaves_the_groups(
    run: Run, register_dir: Path
) -> None:
    status, out, err = run("leave", "--member", "91001", "--on", "2027-03-01")
    assert status == 0, err
    assert "+  left: 2027-03-01\n" in out
    assert out.count("+        retired: 2027-03-01\n") == 7
    register = load_register(register_dir)
    alpha = next(m for m in register.members if m.code == "91001")
    assert alpha.convention.left == dt.date(2027, 3, 1)
    assert [s.uai for s in alpha.schools] == ["0910001G", "0910005L"]  # kept for history
    # Everything it held is retired on the day it leaves, so no device stays in service unbilled.
    assert {item.retired for school in alpha.schools for item in school.equipment} == {dt.date(2027, 3, 1)}

    # Billing 2027 (snapshot 1 November) counts it on its last day; 2028 no longer bills it.
    statements_2027 = {s.holder.code: s for s in bill(register, 2027, dt.date(2027, 11, 1), None).statements}
    assert statements_2027["91001"].counted_on == dt.date(2027, 2, 28)
    assert statements_2027["91001"].billed > 0
    assert "91001" not in {s.holder.code for s in bill(register, 2028, dt.date(2028, 11, 1), None).statements}

    before = build_inventory(register, as_of=dt.date(2027, 2, 28))
    after = build_inventory(register, as_of=dt.date(2027, 3, 1))
    for group in ("school_0910001g", "school_0910005l", "commune_91001"):
        assert group in before["groups"]
        assert group not in after["groups"]
    assert "0910001g-srv" in before["hosts"]
    assert "0910001g-srv" not in after["hosts"]
    assert "ws-sf-000016" not in after["hosts"]
    assert "0450001g-srv" in after["hosts"]  # the other members stay


def test_leaving_before_joining_is_refused_with_the_loader_s_location(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, _, err = run("leave", "--member", "91001", "--on", "2014-01-01")
    assert status == 2
    assert f"{register_dir}/members/91001-alpha.yml:9: convention.left: left 2014-01-01 before joining" in err
    assert snapshot(register_dir) == before


def test_a_member_that_already_left_is_refused(run: Run, register_dir: Path) -> None:
    status, _, err = run("leave", "--member", "91004", "--on", "2027-01-01")
    assert status == 2
    assert "member 91004 already left on 2024-08-31" in err


def test_the_wrapper_runs_the_command_from_anywhere(register_dir: Path, tmp_path: Path) -> None:
    wrapper = Path(__file__).parents[3] / "scripts" / "onboard"
    result = subprocess.run(
        [str(wrapper), "add-sivos", "--register", str(register_dir), "--code", "zeta", "--name", "SIVOS Zeta",
         "--commune", "91030=Zeta", "--commune", "91031=Theta", "--reference", "CONV-2026-053",
         "--joined", "2026-09-01", "--dry-run"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "--- /dev/null\n"
        "+++ b/members/sivos-zeta.yml\n"
        "@@ -0,0 +1,16 @@\n"
        "+---\n"
        "+# Convention with the SIVOS below, which holds the schools of its communes.\n"
        "+sivos:\n"
        "+  code: zeta\n"
        "+  name: SIVOS Zeta\n"
        "+  communes:\n"
        '+    - insee: "91030"\n'
        "+      name: Zeta\n"
        '+    - insee: "91031"\n'
        "+      name: Theta\n"
        "+convention:\n"
        "+  reference: CONV-2026-053\n"
        "+  joined: 2026-09-01\n"
        "+options:\n"
        "+  wifi: false\n"
        "+schools: []\n"
        "dry run: nothing written\n"
    )
    assert not (register_dir / "members" / "sivos-zeta.yml").exists()
