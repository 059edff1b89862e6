"""How files are edited: comments, order and quoting kept, diffs exact, writes atomic and checked."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from schoolfleet.onboarding import Changeset, OnboardingError
from schoolfleet.onboarding.changeset import dump, yaml_engine

from .support import Run, snapshot

DEMO = Path(__file__).parents[3] / "inventories" / "demo" / "register"


# Every shape the register has (authority, tariffs, SIVOS, the largest commune), not all 48 members:
# the pure-Python round trip takes seconds per large file.
SAMPLES = [
    DEMO / "authority.yml",
    *sorted((DEMO / "tariffs").glob("*.yml")),
    *sorted((DEMO / "members").glob("sivos-*.yml")),
    max((DEMO / "members").glob("[0-9]*.yml"), key=lambda path: path.stat().st_size),
]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_demo_files_are_written_back_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert dump(yaml_engine().load(text)) == text


def test_an_edit_changes_only_its_lines_and_keeps_comments_and_order(run: Run, register_dir: Path) -> None:
    path = register_dir / "members" / "91001-alpha.yml"
    before = path.read_text()
    status, out, _ = run("retire-equipment", "--tag", "SF-000013", "--on", "2026-08-31")
    assert status == 0
    after = path.read_text()
    changed = [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]  # fmt: skip
    assert changed == ["+        retired: 2026-08-31"]
    assert "# Kept in UAI order; blocks 0 and 2 leave block 1 free." in after
    assert "  wifi: true  # signed with the 2020 amendment\n" in after
    device = after[after.index("      - tag: SF-000013\n") :].split("\n      - ", 1)[0]
    assert [line.split(":")[0].strip(" -") for line in device.splitlines()] == [
        "tag", "kind", "unit", "model", "serial", "installed", "retired",
    ]  # fmt: skip
    # The diff shown is the diff of the file as written.
    assert "+        retired: 2026-08-31\n" in out


def test_a_new_school_keeps_the_comment_above_the_list(run: Run, register_dir: Path) -> None:
    path = register_dir / "members" / "91001-alpha.yml"
    before = path.read_text()
    assert run(
        "add-school", "--member", "91001", "--uai", "0910003J", "--name", "École", "--kind", "primaire",
        "--zone", "C", "--pupils", "10", "--teachers", "1",
    )[0] == 0  # fmt: skip
    after = path.read_text()
    removed = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")
    ]  # fmt: skip
    assert removed == []
    assert after.index("# Kept in UAI order") < after.index("0910001G") < after.index("0910003J")


def test_a_file_changed_by_someone_else_meanwhile_is_not_overwritten(register_dir: Path) -> None:
    changes = Changeset(register_dir)
    document = changes.document("members/91001-alpha.yml")
    document["schools"][0]["pupils"] = 211
    path = register_dir / "members" / "91001-alpha.yml"
    path.write_text(path.read_text().replace("pupils: 90", "pupils: 91"))
    before = snapshot(register_dir)
    with pytest.raises(OnboardingError, match="changed by someone else"):
        changes.write()
    assert snapshot(register_dir) == before


def test_several_files_are_written_together_and_no_temporary_file_is_left(
    run: Run, register_dir: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "move.csv"
    batch.write_text("tag;to\nSF-000016;0450001G\n")
    status, out, _ = run("move-equipment", "--csv", str(batch))
    assert status == 0
    assert "+++ b/members/91001-alpha.yml" in out and "+++ b/members/sivos-beta-gamma.yml" in out
    assert not [p for p in register_dir.rglob(".*") if p.is_file()]


def test_no_change_writes_nothing(register_dir: Path) -> None:
    changes = Changeset(register_dir)
    changes.document("members/91001-alpha.yml")
    assert changes.diff() == ""
    assert changes.write() == []
