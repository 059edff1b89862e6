"""Backups of a school server to the datacenter, proved end to end with two containers.

The tests run in file order and build on each other: a backup, a restore, the school's failed
attempt to delete history, retention from the datacenter, a school lying about its snapshots'
dates, then a backup killed mid-run.
"""

import datetime as dt
import json
import time

import pytest
import testinfra

SCHOOL = testinfra.get_host("podman://backup-client-school")
DC = testinfra.get_host("podman://backup-client-dc")
REPO = "/srv/schoolfleet-backup/repos/school-a"
ANA = "/srv/school/pupils/ana"


def status():
    return json.loads(SCHOOL.file("/var/lib/schoolfleet-backup/status.json").content_string)


def snapshots():
    return json.loads(SCHOOL.check_output("schoolfleet-restic snapshots --json"))


def raw_restic(args):
    # What root on a school server can always do: restic itself with the school's key and password,
    # not the wrapper. The datacenter must hold whatever this sends.
    return (
        "RESTIC_REPOSITORY=rclone: RESTIC_PASSWORD_FILE=/etc/schoolfleet-backup/repository.pass "
        f"restic --no-cache -o rclone.program=/usr/local/lib/schoolfleet-backup/ssh-datacenter {args}"
    )


def retention():
    return DC.run("systemctl start schoolfleet-backup-retention.service")


def retention_report():
    return json.loads(DC.file("/var/lib/schoolfleet-backup-server/retention-status.json").content_string)


def server_restic(*args):
    # As the datacenter's retention job does it: the local repository, the key held server-side.
    return DC.run(
        "runuser -u schoolbackup -- restic --no-cache --repo %s "
        "--password-file /etc/schoolfleet-backup-server/passwords/school-a " + " ".join(args),
        REPO,
    )


def test_timer_runs_at_night_with_a_random_delay():
    timer = SCHOOL.service("schoolfleet-backup.timer")
    assert timer.is_enabled and timer.is_running
    props = SCHOOL.check_output(
        "systemctl show schoolfleet-backup.timer -p RandomizedDelayUSec -p TimersCalendar"
    )
    assert "RandomizedDelayUSec=6h" in props
    assert "20:00:00" in props
    assert DC.service("schoolfleet-backup-retention.timer").is_enabled


def test_secrets_are_private():
    for path in ("/etc/schoolfleet-backup/repository.pass", "/etc/schoolfleet-backup/id_backup"):
        assert SCHOOL.file(path).mode == 0o600 and SCHOOL.file(path).user == "root"
    password = DC.file("/etc/schoolfleet-backup-server/passwords/school-a")
    assert password.mode == 0o640 and password.group == "schoolbackup"


def test_a_backup_runs_after_its_dump_hooks():
    result = SCHOOL.run("systemctl start schoolfleet-backup.service")
    assert result.rc == 0, SCHOOL.run("journalctl -u schoolfleet-backup -n 30 --no-pager").stdout
    state = status()
    assert state["result"] == "ok"
    assert state["bytes_added"] > 1_000_000
    assert state["last_success"]["snapshot_id"] == state["snapshot_id"]
    hooks = {h["name"]: h["result"] for h in state["hooks"]}
    assert hooks == {"samba-ad": "skipped", "test-accounts": "ok"}
    # The dump, not only the live file, is in the snapshot, with the live file's content.
    listing = SCHOOL.check_output("schoolfleet-restic ls latest /var/backups/schoolfleet-dumps/test-accounts")
    assert "/var/backups/schoolfleet-dumps/test-accounts/accounts.db" in listing
    # Everything arrived encrypted: no plain text of the school's files on the backup server.
    assert DC.run("grep -rl 'ana:pupil' %s", REPO).rc == 1


def test_a_deleted_file_and_folder_are_restored_byte_for_byte():
    before = SCHOOL.check_output(f"cd {ANA} && find . -type f -exec sha256sum {{}} + | sort")
    essay = SCHOOL.check_output(f"sha256sum {ANA}/essay.odt").split()[0]
    # The folder disappears from where it was backed up (kept aside only to put it back after).
    SCHOOL.check_output(f"mv {ANA} /root/ana-aside")
    result = SCHOOL.run(f"schoolfleet-restore --target /tmp/restore-file {ANA}/essay.odt")
    assert result.rc == 0, result.stderr
    assert (
        SCHOOL.check_output("sha256sum /tmp/restore-file/srv/school/pupils/ana/essay.odt").split()[0] == essay
    )
    assert not SCHOOL.file("/tmp/restore-file/srv/school/pupils/ana/drawings").exists
    result = SCHOOL.run(f"schoolfleet-restore --target /tmp/restore-folder {ANA}")
    assert result.rc == 0, result.stderr
    after = SCHOOL.check_output(
        f"cd /tmp/restore-folder{ANA} && find . -type f -exec sha256sum {{}} + | sort"
    )
    assert after == before
    SCHOOL.check_output(f"mv /root/ana-aside {ANA}")


def test_restore_never_overwrites_silently():
    SCHOOL.check_output(
        "mkdir -p /tmp/busy/srv/school/pupils/ana && echo mine > /tmp/busy/srv/school/pupils/ana/essay.odt"
    )
    refused = SCHOOL.run(f"schoolfleet-restore --target /tmp/busy {ANA}/essay.odt")
    assert refused.rc == 2
    assert "refusing to overwrite" in refused.stderr
    assert SCHOOL.file("/tmp/busy/srv/school/pupils/ana/essay.odt").content_string == "mine\n"
    forced = SCHOOL.run(f"schoolfleet-restore --force --target /tmp/busy {ANA}/essay.odt")
    assert forced.rc == 0, forced.stderr
    assert SCHOOL.file("/tmp/busy/srv/school/pupils/ana/essay.odt").size == 300000
    missing = SCHOOL.run("schoolfleet-restore --target /tmp/nothing /srv/school/no-such-file")
    assert missing.rc == 1 and "not in snapshot" in missing.stderr


def test_a_whole_server_restore_to_another_place():
    result = SCHOOL.run("schoolfleet-restore --all --target /mnt/rebuilt")
    assert result.rc == 0, result.stderr
    for path in (
        "/etc/schoolfleet-backup/config.json",
        "/srv/school/classes/cm1/lesson.pdf",
        f"{ANA}/essay.odt",
    ):
        assert SCHOOL.check_output(f"cmp {path} /mnt/rebuilt{path} && echo same") == "same"


def test_the_wrapper_allows_only_what_backups_need():
    for args, message in (
        ("forget latest", "'forget' is not allowed"),
        ("backup --time 2030-01-01 /srv", "--time"),
    ):
        refused = SCHOOL.run(f"schoolfleet-restic {args}")
        assert refused.rc == 2 and message in refused.stderr


def test_the_school_cannot_delete_or_rewrite_its_history():
    ids = [s["id"] for s in snapshots()]
    # restic retries a refused delete for a minute or more: stop it at the first refusal (its
    # next retry message hits the closed pipe), however long a loaded machine takes to get there.
    attempt = SCHOOL.run(
        f"timeout 180 sh -c '{raw_restic('forget ' + ids[0])} 2>&1 | grep -m1 \"403 Forbidden\"'"
    )
    assert attempt.rc == 0, attempt.stdout + attempt.stderr
    # The killed attempt left its exclusive lock; lock files are the one thing a school may delete.
    SCHOOL.check_output("schoolfleet-restic unlock")
    # Whatever command the school's key asks for, the server only runs the append-only restic server.
    ssh = (
        "ssh -i /etc/schoolfleet-backup/id_backup -o BatchMode=yes -o StrictHostKeyChecking=yes "
        "-o UserKnownHostsFile=/etc/schoolfleet-backup/known_hosts schoolbackup@backup-client-dc"
    )
    SCHOOL.run(f"{ssh} 'rm -rf {REPO}/snapshots; cat /etc/shadow' < /dev/null")
    assert [s["id"] for s in snapshots()] == ids
    assert DC.file(f"{REPO}/snapshots").exists
    assert server_restic("check").rc == 0


def test_retention_prunes_from_the_datacenter():
    # Back-dated snapshots, one carrying data no other snapshot has, so pruning must free space.
    today = dt.datetime.now()
    SCHOOL.check_output("head -c 3000000 /dev/urandom > /srv/school/old-project.bin")

    def backup(days: int) -> None:
        when = (today - dt.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
        SCHOOL.check_output(raw_restic(f"backup -q --host school-a --time '{when}' /srv/school"))

    for days in (400, 95, 40, 9, 8):
        backup(days)
    # Gone before yesterday's backup: only snapshots that retention forgets hold it.
    SCHOOL.check_output("rm /srv/school/old-project.bin")
    backup(1)
    # The one backup made by the service so far, plus the six back-dated ones.
    assert len(snapshots()) == 7
    size_before = int(DC.check_output(f"du -sb {REPO}").split()[0])
    result = retention()
    assert result.rc == 0, DC.run("journalctl -u schoolfleet-backup-retention -n 30 --no-pager").stdout
    # keep_daily 2, keep_weekly 1, keep_monthly 1: today's latest and yesterday's remain.
    kept = snapshots()
    assert len(kept) == 2
    assert {s["time"][:10] for s in kept} == {
        today.strftime("%Y-%m-%d"),
        (today - dt.timedelta(days=1)).strftime("%Y-%m-%d"),
    }
    assert int(DC.check_output(f"du -sb {REPO}").split()[0]) < size_before - 2_000_000
    report = retention_report()
    assert report["repositories"][0]["result"] == "ok" and report["repositories"][0]["removed"] == 7 - 2
    # The school can still write after the server rewrote the index.
    assert DC.check_output(f"find {REPO} ! -user schoolbackup | wc -l") == "0"


def test_snapshots_dated_ahead_cannot_prune_the_real_history():
    real = {s["id"] for s in snapshots()}
    now = dt.datetime.now()

    def fake(when: dt.datetime) -> None:
        stamp = when.strftime("%Y-%m-%d %H:%M:%S")
        SCHOOL.check_output(raw_restic(f"backup -q --host school-a --time '{stamp}' /srv/school/classes"))

    # Years ahead, one per day then per month: keep-daily/weekly/monthly alone would keep these and
    # prune the real ones. Retention refuses the repository and removes nothing.
    for days in (*range(700, 706), *range(760, 950, 31)):
        fake(now + dt.timedelta(days=days))
    result = retention()
    assert result.rc != 0
    entry = retention_report()["repositories"][0]
    assert entry["result"] == "refused" and "dated in the future" in entry["error"]
    # At err priority in the journal, where the admins' alerts look.
    journal = DC.check_output("journalctl -u schoolfleet-backup-retention -p err -n 5 --no-pager -o cat")
    assert "dated in the future" in journal
    assert real <= {s["id"] for s in snapshots()}
    # An admin removes the fakes from the datacenter side (the school cannot).
    fakes = [s["id"] for s in snapshots() if s["id"] not in real]
    assert server_restic("forget", *fakes).rc == 0

    # Within the clock skew but later today than the real backup: keep-daily alone would keep this
    # one for today and drop the real one; nothing younger than the keep-daily period goes.
    fake(now + dt.timedelta(minutes=30))
    result = retention()
    assert result.rc == 0, DC.run("journalctl -u schoolfleet-backup-retention -n 30 --no-pager").stdout
    assert real <= {s["id"] for s in snapshots()}
    # Leave only the real history for the next test, whose "latest" must be a real backup.
    fakes = [s["id"] for s in snapshots() if s["id"] not in real]
    assert len(fakes) == 1 and server_restic("forget", *fakes).rc == 0


def test_an_interrupted_backup_leaves_the_repository_usable():
    SCHOOL.check_output("head -c 400000000 /dev/urandom > /srv/school/big-video.bin")
    DC.check_output(f"touch /tmp/before-kill && ls {REPO}/data")
    SCHOOL.check_output("systemctl start --no-block schoolfleet-backup.service")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if int(DC.check_output(f"find {REPO}/data -type f -newer /tmp/before-kill | wc -l")) >= 3:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the backup never started uploading")
    SCHOOL.check_output("systemctl kill -s KILL schoolfleet-backup.service")
    deadline = time.monotonic() + 60
    while SCHOOL.run("systemctl is-active schoolfleet-backup.service").stdout.strip() not in (
        "failed",
        "inactive",
    ):
        assert time.monotonic() < deadline, "the killed backup unit never stopped"
        time.sleep(1)
    # The killed run is visible as such, not as a success.
    assert status()["result"] == "running"
    check = SCHOOL.run("schoolfleet-restic unlock && schoolfleet-restic check")
    assert check.rc == 0, check.stdout + check.stderr
    assert "no errors were found" in check.stdout
    result = SCHOOL.run("systemctl start schoolfleet-backup.service")
    assert result.rc == 0, SCHOOL.run("journalctl -u schoolfleet-backup -n 30 --no-pager").stdout
    assert status()["result"] == "ok"
    assert SCHOOL.check_output("schoolfleet-restic ls latest /srv/school/big-video.bin").endswith(
        "big-video.bin"
    )
    SCHOOL.check_output("rm /srv/school/big-video.bin")
    # The datacenter side agrees: its retention run (unlock, prune, check) passes too.
    result = retention()
    assert result.rc == 0, DC.run("journalctl -u schoolfleet-backup-retention -n 30 --no-pager").stdout
