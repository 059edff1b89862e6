"""Schools: UAI checked by the register, the next free block, nobody else renumbered."""

from __future__ import annotations

from pathlib import Path

from schoolfleet.register import load_register
from schoolfleet.register.addressing import device_address, school_networks

from .support import Run, snapshot


def _addresses(root: Path) -> dict[str, object]:
    register = load_register(root)
    plan = register.authority.plan
    found: dict[str, object] = {}
    for _, school in register.schools():
        found[school.uai] = {
            name: str(v.network) for name, v in school_networks(plan, school.block, wifi=True).items()
        }
        for item in school.equipment:
            if item.kind.managed:
                found[item.tag] = str(device_address(plan, school.block, item.kind, item.unit))
    return found


def test_a_school_added_between_two_existing_ones_renumbers_nobody(run: Run, register_dir: Path) -> None:
    before = _addresses(register_dir)
    status, out, err = run(
        "add-school", "--member", "91001", "--uai", "0910003J", "--name", "École primaire Victor Hugo",
        "--kind", "primaire", "--zone", "C", "--pupils", "150", "--teachers", "6", "--packs", "base",
    )  # fmt: skip
    assert status == 0, err
    assert "+    block: 1\n" in out
    register = load_register(register_dir)
    alpha = next(m for m in register.members if m.code == "91001")
    # In UAI order, between the two schools, in the free block between theirs.
    assert [(s.uai, s.block) for s in alpha.schools] == [("0910001G", 0), ("0910003J", 1), ("0910005L", 2)]
    after = _addresses(register_dir)
    assert {key: after[key] for key in before} == before
    assert after["0910003J"] == {
        "pedagogy": "10.128.4.0/24",
        "wifi": "10.128.5.0/24",
        "administration": "10.128.6.0/25",
        "management": "10.128.7.0/26",
    }
    added = next(s for s in alpha.schools if s.uai == "0910003J")
    assert added.packs == ("base",)
    assert added.equipment == ()


def test_the_next_school_takes_the_block_after_every_taken_one(run: Run, register_dir: Path) -> None:
    # Blocks 0-4 are taken, 4 by a member that left: its block stays its own.
    for uai, block in (("0910003J", "1"), ("0910007N", "5")):
        status, out, err = run(
            "add-school", "--member", "91001", "--uai", uai, "--name", f"École {uai}", "--kind", "primaire",
            "--zone", "C", "--pupils", "10", "--teachers", "1",
        )  # fmt: skip
        assert status == 0, err
        assert f"+    block: {block}\n" in out


def test_a_duplicate_uai_is_refused_and_nothing_written(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, _, err = run(
        "add-school", "--member", "beta-gamma", "--uai", "0910005L", "--name", "Doublon",
        "--kind", "primaire", "--zone", "C", "--pupils", "10", "--teachers", "1", "--commune", "45002",
    )  # fmt: skip
    assert status == 2
    # Named where the new school would be (the SIVOS's file, after its school), and where it already is.
    assert (
        f"{register_dir}/members/sivos-beta-gamma.yml:28: schools[1].uai: UAI 0910005L is already in the"
        f" register (at {register_dir}/members/91001-alpha.yml:49)"
    ) in err
    assert snapshot(register_dir) == before


def test_a_bad_check_letter_is_refused_by_the_register_s_uai_check(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, _, err = run(
        "add-school", "--member", "91001", "--uai", "0910003K", "--name", "École", "--kind", "primaire",
        "--zone", "C", "--pupils", "10", "--teachers", "1", "--dry-run",
    )  # fmt: skip
    assert status == 2
    assert (
        f"{register_dir}/members/91001-alpha.yml:49: schools[1].uai: bad check letter in UAI 0910003K:"
        " 0910003 gives J"
    ) in err
    assert snapshot(register_dir) == before


def test_a_sivos_school_outside_its_communes_is_refused(run: Run, register_dir: Path) -> None:
    status, _, err = run(
        "add-school", "--member", "beta-gamma", "--uai", "0450002H", "--name", "École", "--kind", "primaire",
        "--zone", "B", "--pupils", "10", "--teachers", "1", "--commune", "91001",
    )  # fmt: skip
    assert status == 2
    assert "sivos-beta-gamma.yml:28: schools[1].commune: school 0450002H is in commune 91001" in err


def test_dry_run_shows_the_diff_and_writes_nothing(run: Run, register_dir: Path) -> None:
    before = snapshot(register_dir)
    status, out, _ = run(
        "add-school", "--member", "91001", "--uai", "0910003J", "--name", "École", "--kind", "primaire",
        "--zone", "C", "--pupils", "10", "--teachers", "1", "--dry-run",
    )  # fmt: skip
    assert status == 0
    assert out.startswith("--- a/members/91001-alpha.yml\n+++ b/members/91001-alpha.yml\n")
    assert "+  - uai: 0910003J\n" in out
    assert out.rstrip().endswith("dry run: nothing written")
    assert snapshot(register_dir) == before


def test_a_forced_block_already_taken_names_the_new_school(run: Run, register_dir: Path) -> None:
    status, _, err = run(
        "add-school", "--member", "91001", "--uai", "0910003J", "--name", "École", "--kind", "primaire",
        "--zone", "C", "--pupils", "10", "--teachers", "1", "--block", "4",
    )  # fmt: skip
    assert status == 2
    # The block of a member that left stays its own; the new school (line 55 once written) is blamed.
    assert (
        f"{register_dir}/members/91001-alpha.yml:55: schools[1].block: address block 4 is already held by"
        f" school 0910004K at {register_dir}/members/91004-delta.yml:11"
    ) in err
    assert "/onboarding-" not in err
