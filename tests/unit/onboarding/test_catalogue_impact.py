"""`onboard catalogue-impact`: the schools a change of the software catalogue reaches."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from schoolfleet.onboarding.__main__ import main

SMALL = Path(__file__).resolve().parents[2] / "inventory" / "fixtures" / "small" / "register"


def _edit(root: Path, *pairs: tuple[str, str]) -> None:
    path = root / "authority.yml"
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SMALL, old)
    shutil.copytree(SMALL, new)
    return old, new


def impact(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["catalogue-impact", "--on", "2026-11-01", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_package_added_to_base_reaches_every_school_with_base(
    versions: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = versions
    _edit(new, ("      - evince\n", "      - evince\n      - vlc\n"))
    status, out, _ = impact(capsys, "--register", str(new), "--old-register", str(old), "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert [(c["uai"], c["workstations"], c["install"], c["remove"]) for c in data["changes"]] == [
        ("0910001G", 1, ["vlc"], []),
        ("0910002H", 1, ["vlc"], []),
    ]
    # The SIVOS's school has no pack; the member that left is not counted.
    assert (data["schools"], data["workstations"]) == (2, 2)


def test_a_package_removed_from_a_pack_and_a_setting_changed(
    versions: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = versions
    _edit(
        new,
        ("[gcompris-qt, tuxpaint, evince]", "[gcompris-qt]"),
        ("https://ecole.example/", "https://ent.example/"),
    )
    status, out, _ = impact(capsys, "--register", str(new), "--old-register", str(old))
    assert status == 0
    # 0910001G only had tuxpaint in its list of packages to remove: its machines change only for the
    # setting. 0910002H loses tuxpaint; evince stays, base has it too.
    assert out.splitlines() == [
        "0910001G École élémentaire Jules Ferry (member 91001): 1 workstation(s)",
        "  setting firefox_homepage: 'https://ecole.example/' -> 'https://ent.example/'",
        "0910002H École maternelle Les Tilleuls (member 91001): 1 workstation(s)",
        "  remove: tuxpaint",
        "  setting firefox_homepage: 'https://ecole.example/' -> 'https://ent.example/'",
        "2 school(s), 2 workstation(s) get a change",
    ]


def test_no_change_and_a_description_only_change(
    versions: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = versions
    _edit(new, ("description: Bureautique", "description: Bureautique et navigateur"))
    status, out, _ = impact(capsys, "--register", str(new), "--old-register", str(old))
    assert (status, out) == (0, "no school gets a change\n")


def test_a_bad_new_catalogue_is_refused(
    versions: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = versions
    _edit(new, ("      - evince\n", "      - Evince\n"))
    status, out, err = impact(capsys, "--register", str(new), "--old-register", str(old))
    assert status == 2 and out == ""
    assert "authority.yml:26: software_packs.base.packages[2]: pack 'base': 'Evince'" in err


def test_base_reads_the_register_of_a_git_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    register = repo / "inventories" / "x" / "register"
    shutil.copytree(SMALL, register)

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=repo, check=True, capture_output=True,
        )  # fmt: skip

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "register")
    _edit(
        register,
        ("    packages: [gcompris-qt, tuxpaint, evince]", "    packages: [gcompris-qt, evince, tuxmath]"),
    )
    status, out, _ = impact(capsys, "--register", str(register), "--base", "HEAD")
    assert status == 0
    assert "0910002H École maternelle Les Tilleuls (member 91001): 1 workstation(s)" in out
    assert "  install: tuxmath\n  remove: tuxpaint\n" in out
    status, _, err = impact(capsys, "--register", str(register), "--base", "no-such-ref")
    assert status == 2 and "no-such-ref" in err


def test_old_or_base_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["catalogue-impact"])
    assert "--base" in capsys.readouterr().err
