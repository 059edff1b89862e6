"""The school's directory, seen from a workstation and from the planner, through a school year.

converge.yml imported pupils-2026.csv and teachers.csv (and the idempotence step imported them again
with no change). The tests below then run in order, as the year goes: they first check that state,
then import a bad roster (nothing may change), reset one pupil's password, and import next year's
roster (one pupil moves class, one leaves).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import testinfra

from schoolfleet.accounts.slips import read_slips

DC = testinfra.get_host("podman://school-directory-dc")
CLIENT = testinfra.get_host("podman://school-directory-client")
SERVER = "//school-directory-dc"
SCENARIO = Path(__file__).resolve().parents[1]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
# Where converge.yml prints them: beside the recorded job events when make runs the scenario.
SLIPS = Path(os.environ.get("SCHOOLFLEET_EVENTS_DIR") or EPHEMERAL) / "slips"


def directory():
    return {u["login"]: u for u in json.loads(DC.check_output("schoolfleet-directory export"))["users"]}


def passwords():
    """Login -> password from every slip printed so far; a later slip (a reset) wins."""
    found = {}
    for pdf in sorted(SLIPS.glob("*.pdf")):
        for slip in read_slips(pdf.read_bytes()):
            found[slip["login"]] = slip["password"]
    return found


def smb(login, password, share, command):
    return CLIENT.run(
        "cd /tmp && echo 'written by a test' > note.txt && "
        f"smbclient -U {login}%{password} {SERVER}/{share} -c {command!r}"
    )


def import_roster(*extra):
    """The role's accounts tasks again, as an admin would run them, with other rosters or resets."""
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    result = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            str(EPHEMERAL / "inventory"),
            str(SCENARIO / "converge.yml"),
            "--tags",
            "school_directory_accounts",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    # Problems and failures are on stderr, the report on stdout: the tests read both.
    result.stdout += result.stderr
    return result


def test_domain_controller_runs_with_a_policy_children_can_live_with():
    assert DC.service("samba-ad-dc").is_running
    policy = DC.check_output("samba-tool domain passwordsettings show")
    assert "Maximum password age (days): 0" in policy
    assert "Account lockout threshold (attempts): 10" in policy


def test_roster_people_have_accounts_in_their_class_groups():
    users = directory()
    assert sorted(users) == [
        "anne.dupont",
        "chloe.lefevre",
        "ines.garcia",
        "lea.martin",
        "lea.martin2",
        "moussa.ndiaye",
        "noe.boeuf",
        "paul.bernard",
    ]
    assert users["noe.boeuf"]["groups"] == ["eleves", "eleves-cm1a"]
    assert users["moussa.ndiaye"]["groups"] == ["eleves", "eleves-cm2b"]
    assert users["anne.dupont"]["groups"] == ["ens-cm1a", "enseignants"]
    assert all(u["enabled"] for u in users.values())
    # The Windows-1252 roster's accents arrive intact in the directory.
    assert users["chloe.lefevre"]["surname"] == "LEFÈVRE"


def test_slips_hold_each_new_account_once_and_only_the_admin_can_read_them():
    slips = [slip for pdf in SLIPS.glob("*.pdf") for slip in read_slips(pdf.read_bytes())]
    assert len(slips) == 8
    assert {s["school"] for s in slips} == {"École élémentaire de test"}
    assert all(pdf.stat().st_mode & 0o777 == 0o600 for pdf in SLIPS.glob("*.pdf"))


def test_pupil_logs_in_with_the_printed_password_and_writes_the_class_share():
    password = passwords()["lea.martin"]
    result = smb("lea.martin", password, "classe-cm1a", "put note.txt lea.txt; ls")
    assert result.rc == 0, result.stdout + result.stderr
    assert "lea.txt" in result.stdout
    assert DC.file("/srv/school/classes/cm1a/lea.txt").exists


def test_a_wrong_password_is_refused():
    result = smb("lea.martin", "Wrong-Pass77", "classe-cm1a", "ls")
    assert "NT_STATUS_LOGON_FAILURE" in result.stdout + result.stderr


def test_pupil_cannot_use_another_class_share_nor_the_teachers_share():
    password = passwords()["lea.martin"]
    for share in ("classe-cm2b", "enseignants"):
        result = smb("lea.martin", password, share, "put note.txt intruder.txt")
        assert result.rc != 0
        assert "NT_STATUS_ACCESS_DENIED" in result.stdout + result.stderr
    assert not DC.file("/srv/school/classes/cm2b/intruder.txt").exists


def test_class_teacher_manages_the_class_share_but_not_another_class():
    password = passwords()["anne.dupont"]
    smb("lea.martin", passwords()["lea.martin"], "classe-cm1a", "put note.txt homework.txt")
    result = smb("anne.dupont", password, "classe-cm1a", "del homework.txt; put note.txt lesson.txt")
    assert result.rc == 0, result.stdout + result.stderr
    assert not DC.file("/srv/school/classes/cm1a/homework.txt").exists
    assert smb("anne.dupont", password, "classe-cm2b", "ls").rc != 0
    assert smb("anne.dupont", password, "enseignants", "put note.txt staff.txt").rc == 0


def test_home_folder_is_private():
    pw = passwords()
    assert smb("lea.martin", pw["lea.martin"], "lea.martin", "put note.txt mine.txt").rc == 0
    assert DC.file("/srv/school/homes/lea.martin").mode == 0o700
    assert smb("lea.martin2", pw["lea.martin2"], "lea.martin", "ls").rc != 0


def test_a_bad_roster_changes_nothing_and_names_every_bad_line():
    before = directory()
    slips_before = sorted(SLIPS.glob("*.pdf"))
    result = import_roster("-e", "school_directory_test_roster=pupils-bad.csv")
    assert result.returncode != 0
    for problem in (
        "pupils-bad.csv:3: missing first name",
        "pupils-bad.csv:4: unreadable birth date '31/02/2016'",
        "pupils-bad.csv:6: duplicate of line 5",
        "pupils-bad.csv:7: unknown class 'CE2 C'",
    ):
        assert problem in result.stdout, result.stdout
    # The good rows are not imported either, and nobody absent from the file is disabled.
    assert directory() == before
    assert sorted(SLIPS.glob("*.pdf")) == slips_before


def test_resetting_one_pupil_prints_a_new_slip_and_retires_the_old_password():
    old = passwords()["lea.martin2"]
    result = import_roster(
        "-e", '{"school_directory_pupils_csv": "", "school_directory_reset_logins": ["lea.martin2"]}'
    )
    assert result.returncode == 0, result.stdout
    new = passwords()["lea.martin2"]
    assert new != old
    assert smb("lea.martin2", new, "classe-cm1a", "ls").rc == 0
    assert smb("lea.martin2", old, "classe-cm1a", "ls").rc != 0


@pytest.fixture(scope="module")
def next_year():
    """Before and after importing next year's roster (Noé moves to CM2 B, Chloé has left)."""
    before = directory()
    result = import_roster("-e", "school_directory_test_roster=pupils-2027.csv")
    assert result.returncode == 0, result.stdout
    return before, directory(), result.stdout


def test_next_year_moves_one_pupil_and_disables_the_leaver(next_year):
    before, after, output = next_year
    assert "create 0, move 1, disable 1, re-enable 0, reset 0, unchanged 6" in output
    assert after["noe.boeuf"]["groups"] == ["eleves", "eleves-cm2b"]
    # Moving class changes groups only: same account, same identity.
    assert after["noe.boeuf"]["identity"] == before["noe.boeuf"]["identity"]
    assert not after["chloe.lefevre"]["enabled"]
    assert after["chloe.lefevre"]["left"]
    assert {k: v for k, v in after.items() if k not in {"noe.boeuf", "chloe.lefevre"}} == {
        k: v for k, v in before.items() if k not in {"noe.boeuf", "chloe.lefevre"}
    }


def test_moved_pupil_keeps_password_and_files_and_follows_the_class(next_year):
    password = passwords()["noe.boeuf"]
    assert smb("noe.boeuf", password, "classe-cm2b", "put note.txt noe.txt").rc == 0
    assert smb("noe.boeuf", password, "classe-cm1a", "ls").rc != 0
    assert DC.file("/srv/school/homes/noe.boeuf").is_directory


def test_leaver_cannot_log_in_but_their_files_are_kept(next_year):
    result = smb("chloe.lefevre", passwords()["chloe.lefevre"], "chloe.lefevre", "ls")
    assert "NT_STATUS_ACCOUNT_DISABLED" in result.stdout + result.stderr
    assert DC.file("/srv/school/homes/chloe.lefevre").is_directory


def test_importing_the_same_roster_again_changes_nothing(next_year):
    _, after, _ = next_year
    result = import_roster("-e", "school_directory_test_roster=pupils-2027.csv")
    assert result.returncode == 0, result.stdout
    assert "create 0, move 0, disable 0, re-enable 0, reset 0, unchanged 7" in result.stdout
    assert "changed=0" in result.stdout
    assert directory() == after


def test_housekeeping_archives_after_the_grace_period_then_removes(next_year):
    left = next_year[1]["chloe.lefevre"]["left"]
    assert (
        json.loads(DC.check_output(f"schoolfleet-directory housekeeping --today {left}"))["changed"] is False
    )
    year, month, day = (int(x) for x in left.split("-"))
    later = f"{year + 1}-{month:02d}-{day:02d}"
    done = json.loads(DC.check_output(f"schoolfleet-directory housekeeping --today {later}"))
    assert done["archived"] == ["chloe.lefevre"]
    assert not DC.file("/srv/school/homes/chloe.lefevre").exists
    assert DC.file(f"/srv/school/archive/chloe.lefevre-{left}.tar.gz").exists
    much_later = f"{year + 3}-{month:02d}-{day:02d}"
    done = json.loads(DC.check_output(f"schoolfleet-directory housekeeping --today {much_later}"))
    assert done["removed"] == ["chloe.lefevre"]
    assert "chloe.lefevre" not in directory()
    assert not DC.file(f"/srv/school/archive/chloe.lefevre-{left}.tar.gz").exists


def test_the_administrator_password_is_the_one_from_the_vault():
    # Set through Samba's bindings on standard input, never on samba-tool's command line.
    listing = DC.run("smbclient //localhost/netlogon -U 'administrator%Fixture-Only-Adm1n' -c ls")
    assert listing.rc == 0, listing.stderr
    assert DC.run("smbclient //localhost/netlogon -U 'administrator%wrong-password' -c ls").rc != 0
