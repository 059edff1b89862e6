"""Several admins at once (one lock, the change re-checked before writing), and a register from nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from schoolfleet.billing.__main__ import main as billing_main
from schoolfleet.onboarding.__main__ import main
from schoolfleet.onboarding.batch import Step, run
from schoolfleet.onboarding.changeset import Changeset, OnboardingError, register_lock
from schoolfleet.onboarding.operations import Context
from schoolfleet.register import RegisterError, load_register

from .support import snapshot

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


def add_school(register: Path, member: str, uai: str, *extra: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable, "-m", "schoolfleet.onboarding", "add-school", "--register", str(register),
        "--member", member, "--uai", uai, "--name", f"École {uai}", "--kind", "primaire", "--zone", "C",
        "--pupils", "10", "--teachers", "1", *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS)}
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_admins_at_once_wait_for_the_lock_and_get_two_blocks(register_dir: Path) -> None:
    before = snapshot(register_dir)
    with register_lock(register_dir):
        first = add_school(register_dir, "91001", "0910003J")
        second = add_school(register_dir, "beta-gamma", "0450002H", "--commune", "45002")
        time.sleep(2)
        # Both have started and loaded nothing yet: they wait for the lock this test holds.
        assert first.poll() is None and second.poll() is None
        assert snapshot(register_dir) == before
    results = [process.communicate(timeout=60) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    blocks = {school.uai: school.block for _, school in load_register(register_dir).schools()}
    # Blocks 0, 2, 3 and 4 are taken: the first run takes 1, the next one, having read it, 5.
    assert {blocks["0910003J"], blocks["0450002H"]} == {1, 5}


def test_a_waiting_command_gives_up_with_a_clear_message(register_dir: Path) -> None:
    with (
        register_lock(register_dir),
        pytest.raises(OnboardingError) as caught,
        register_lock(register_dir, wait=0.2),
    ):
        pass
    assert "the register is locked by another command" in str(caught.value)


def test_a_change_is_checked_again_against_a_file_edited_meanwhile(register_dir: Path) -> None:
    """Someone edits another file by hand (no lock) between the read and the write: re-checked, refused."""
    changes = Changeset(register_dir)
    values = {"member": "91001", "uai": "0910003J", "name": "École", "kind": "primaire", "zone": "C",
              "pupils": 10, "teachers": 1}  # fmt: skip
    run(Context.of(changes, load_register(register_dir)), [Step(None, "add_school", values)])
    # Meanwhile, by hand, the SIVOS's school takes block 1 too.
    sivos = register_dir / "members" / "sivos-beta-gamma.yml"
    text = sivos.read_text()
    sivos.write_text(text.replace("    block: 3\n", "    block: 1\n", 1))
    with pytest.raises(RegisterError, match="block 1"):
        changes.write()
    assert "0910003J" not in (register_dir / "members" / "91001-alpha.yml").read_text()


def test_init_starts_a_register_a_newcomer_can_fill_and_bill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mon-registre"
    assert main(["init", str(root), "--name", "Communauté de communes du Test"]) == 0
    register = load_register(root)
    assert register.authority.name == "Communauté de communes du Test"
    assert register.members == () and register.authority.servers == ()
    assert [grid.name for grid in register.tariffs.grids] == ["2014", "2017-2019", "2020"]
    assert (root / "members").is_dir()
    steps = [
        ["add-commune", "--insee", "01004", "--name", "Ambérieu", "--reference", "C-1",
         "--joined", "2026-09-01"],
        ["add-school", "--member", "01004", "--uai", "0010040N", "--name", "École", "--kind", "primaire",
         "--zone", "A", "--pupils", "50", "--teachers", "2"],
    ]  # fmt: skip
    for argv in steps:
        assert main([*argv, "--register", str(root)]) == 0
    assert billing_main(["2026", "--register", str(root), "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()


def test_init_refuses_a_directory_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("x")
    assert main(["init", str(tmp_path / "used"), "--name", "X"]) == 2
    assert "already exists and is not an empty directory" in capsys.readouterr().err


def test_add_commune_on_a_register_without_members_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "r"
    assert main(["init", str(root), "--name", "X"]) == 0
    (root / "members").rmdir()
    argv = ["add-commune", "--insee", "01004", "--name", "A", "--reference", "C", "--joined", "2026-09-01"]
    assert main([*argv, "--register", str(root), "--dry-run"]) == 0
    assert main([*argv, "--register", str(root)]) == 0
    assert [m.code for m in load_register(root).members] == ["01004"]
    capsys.readouterr()
