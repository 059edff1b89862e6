"""Central server and school server, end to end. The tests run in order and build on each other:
publish a package, push configuration, let the school pull both through its real units, then try
to slip in unsigned configuration.

The units' guard reads the clock; to run them deterministically the tests pin the moment it
checks with a runtime drop-in (in /run, gone at reboot) that only adds --at to the same guard,
same calendar. Everything else is the installed unit.
"""

import json
import os
import subprocess
from pathlib import Path

import testinfra

CENTRAL = testinfra.get_host("podman://schoolsync-central")
SCHOOL = testinfra.get_host("podman://schoolsync-school")

GUARD = "/usr/local/lib/schoolfleet/maintenance-window --calendar /etc/schoolfleet/maintenance-calendar.json"
WEDNESDAY_AFTERNOON = "2026-11-25T15:00:00+01:00"
TUESDAY_MORNING = "2026-11-24T10:00:00+01:00"
WINTER_HOLIDAYS_B = "2027-03-02T10:00:00+01:00"  # a Tuesday: zone B on holiday, A and C in class
WINTER_HOLIDAYS_C = "2027-02-09T10:00:00+01:00"  # a Tuesday: zone C on holiday only

REPO = "/srv/schoolfleet/git/config.git"
WORK = "/root/config-work"
SIGNED = "-c gpg.format=ssh -c user.signingkey=/root/fixtures/signer"
ROGUE = "-c gpg.format=ssh -c user.signingkey=/root/fixtures/rogue"
IDENTITY = "-c user.name=admin -c user.email=config-admin@example.invalid"
STATUS = "/var/lib/schoolfleet/sync-status.json"
LOCAL_YML = """- hosts: localhost
  connection: local
  tasks:
    - ansible.builtin.apt:
        name: schoolfleet-hello
        update_cache: true
    - ansible.builtin.copy:
        content: "{message}\\n"
        dest: /etc/schoolfleet-test-motd
"""


def pin_window(moment: str) -> None:
    SCHOOL.check_output(
        "mkdir -p /run/systemd/system/schoolfleet-sync@.service.d && printf '%s\\n' '[Service]' "
        f"'ExecCondition=' 'ExecCondition={GUARD} --at {moment}' "
        "> /run/systemd/system/schoolfleet-sync@.service.d/pin.conf && systemctl daemon-reload"
    )


def start(job: str):
    return SCHOOL.run(f"systemctl start schoolfleet-sync@{job}.service")


def status() -> dict:
    return json.loads(SCHOOL.file(STATUS).content_string)


def build_deb(version: str) -> str:
    root = f"/root/hello-{version}"
    CENTRAL.check_output(
        f"mkdir -p {root}/DEBIAN {root}/usr/share/doc/schoolfleet-hello && "
        f"printf 'Package: schoolfleet-hello\\nVersion: {version}\\nArchitecture: all\\n"
        "Maintainer: schoolfleet <admin@example.invalid>\\nDescription: test package\\n' "
        f"> {root}/DEBIAN/control && echo {version} > {root}/usr/share/doc/schoolfleet-hello/VERSION && "
        f"dpkg-deb --build --root-owner-group {root} /root/schoolfleet-hello_{version}_all.deb"
    )
    return f"/root/schoolfleet-hello_{version}_all.deb"


def commit(message: str, signing: str = SIGNED) -> str:
    CENTRAL.check_output(f"cat > {WORK}/local.yml <<'EOF'\n{LOCAL_YML.format(message=message)}EOF")
    sign = "-S" if signing else ""
    CENTRAL.check_output(f"git -C {WORK} add local.yml")
    CENTRAL.check_output(f"git -C {WORK} {IDENTITY} {signing} commit -q {sign} -m '{message}'")
    return CENTRAL.check_output(f"git -C {WORK} rev-parse HEAD")


def central_head() -> str:
    return CENTRAL.check_output(f"git -C {REPO} rev-parse refs/heads/main")


def run_fleet_view(tmp_path: Path) -> list:
    scenario = Path(__file__).resolve().parent.parent
    report = tmp_path / "report.json"
    subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(scenario / "fleet_status.yml"),
            "-e",
            f"school_sync_fleet_report={report}",
        ],
        check=True,
        env={**os.environ, "ANSIBLE_ROLES_PATH": str(scenario.parent.parent.parent)},
    )
    return json.loads(report.read_text())


def test_timers_are_persistent_randomised_and_active():
    for job in ("apt", "config"):
        timer = SCHOOL.service(f"schoolfleet-sync@{job}.timer")
        assert timer.is_enabled and timer.is_running
        props = SCHOOL.check_output(
            "systemctl show -p Persistent -p RandomizedDelayUSec -p FixedRandomDelay "
            f"schoolfleet-sync@{job}.timer"
        )
        assert "Persistent=yes" in props and "FixedRandomDelay=yes" in props
        assert "RandomizedDelayUSec=50min" in props


def test_the_guard_installed_on_the_school_follows_its_zone():
    assert SCHOOL.run(f"{GUARD} --at {TUESDAY_MORNING}").rc == 1
    assert SCHOOL.run(f"{GUARD} --at {WEDNESDAY_AFTERNOON}").rc == 0
    assert SCHOOL.run(f"{GUARD} --at {WINTER_HOLIDAYS_B}").rc == 0  # the school is in zone B
    assert SCHOOL.run(f"{GUARD} --at {WINTER_HOLIDAYS_C}").rc == 1


def test_outside_the_window_the_unit_is_skipped_not_failed():
    pin_window(TUESDAY_MORNING)
    before = SCHOOL.run(f"cat {STATUS}").stdout
    assert start("apt").rc == 0
    assert SCHOOL.run(f"cat {STATUS}").stdout == before  # the job itself never ran
    journal = SCHOOL.check_output("journalctl -u schoolfleet-sync@apt.service --no-pager")
    assert "outside the maintenance window" in journal
    assert SCHOOL.run("systemctl is-failed schoolfleet-sync@apt.service").stdout.strip() != "failed"


def test_a_package_published_on_the_central_server_reaches_the_school_through_the_cache():
    CENTRAL.check_output(f"/usr/local/sbin/schoolfleet-publish-deb {build_deb('1.0')}")
    CENTRAL.check_output(
        f"test -d {WORK} || git clone -q {REPO} {WORK} 2>&1; git -C {WORK} checkout -q -B main"
    )
    first = commit("config v1")
    CENTRAL.check_output(f"git -C {WORK} push -q origin main")
    pin_window(WEDNESDAY_AFTERNOON)
    result = start("config")
    assert result.rc == 0, SCHOOL.check_output("journalctl -u schoolfleet-sync@config.service | tail -30")
    assert SCHOOL.package("schoolfleet-hello").version == "1.0"
    assert SCHOOL.file("/etc/schoolfleet-test-motd").content_string == "config v1\n"
    assert status()["jobs"]["config"]["applied_commit"] == first == central_head()
    # The school fetched it through apt-cacher-ng: the package now sits in the central cache.
    cached = CENTRAL.check_output("find /var/cache/apt-cacher-ng -name 'schoolfleet-hello_1.0_all.deb'")
    assert cached.endswith("schoolfleet-hello_1.0_all.deb")

    # A new version reaches it at the next apt synchronisation.
    CENTRAL.check_output(f"/usr/local/sbin/schoolfleet-publish-deb {build_deb('2.0')}")
    assert start("apt").rc == 0
    assert SCHOOL.package("schoolfleet-hello").version == "2.0"
    assert CENTRAL.check_output("find /var/cache/apt-cacher-ng -name 'schoolfleet-hello_2.0_all.deb'")
    apt = status()["jobs"]["apt"]
    assert apt["result"] == "ok" and apt["upgradable"] == 0


def test_a_signed_configuration_change_is_applied():
    second = commit("config v2")
    CENTRAL.check_output(f"git -C {WORK} push -q origin main")
    assert start("config").rc == 0
    assert SCHOOL.file("/etc/schoolfleet-test-motd").content_string == "config v2\n"
    assert status()["jobs"]["config"]["applied_commit"] == second


def test_the_fleet_view_shows_an_up_to_date_school(tmp_path):
    [row] = run_fleet_view(tmp_path)
    assert row == {
        "host": "schoolsync-school",
        "up_to_date": True,
        "last_sync": status()["jobs"]["apt"]["last_success"],  # the older of the two jobs
        "config_commit": central_head(),
        "problems": [],
    }


def test_the_central_repository_refuses_unsigned_and_rogue_commits():
    before = central_head()
    for signing in ("", ROGUE):
        commit("sneaky", signing)
        push = CENTRAL.run(f"git -C {WORK} push origin main")
        assert push.rc != 0
        assert "has no valid signature from an allowed key" in push.stderr
        CENTRAL.check_output(f"git -C {WORK} reset -q --hard {before}")
    assert central_head() == before


def test_the_school_refuses_an_unsigned_commit_that_got_onto_the_central_server():
    # As if the central server were compromised: write past the hook, straight into the repository.
    forged = commit("forged", signing="")
    CENTRAL.check_output(f"git -C {REPO} fetch -q {WORK} main:main && git -C {REPO} update-server-info")
    assert central_head() == forged
    assert start("config").rc != 0
    assert SCHOOL.file("/etc/schoolfleet-test-motd").content_string == "config v2\n"
    config = status()["jobs"]["config"]
    assert config["result"] == "failed"
    assert "verify" in config["message"].lower()
    assert config["applied_commit"] != forged


def test_the_fleet_view_shows_who_is_behind(tmp_path):
    [row] = run_fleet_view(tmp_path)
    assert row["host"] == "schoolsync-school"
    assert not row["up_to_date"]
    assert any("signature" in problem.lower() or "verify" in problem.lower() for problem in row["problems"])
    assert row["last_sync"] is not None


def test_the_school_refuses_an_older_signed_commit():
    # A validly signed but older commit served as the branch tip (a compromised central server, or
    # anyone on the plain-HTTP path): applying it would undo every change since.
    applied = status()["jobs"]["config"]["applied_commit"]
    older = CENTRAL.check_output(f"git -C {REPO} rev-parse {applied}^")
    CENTRAL.check_output(f"git -C {REPO} verify-commit {older}")
    CENTRAL.check_output(
        f"git -C {REPO} update-ref refs/heads/main {older} && git -C {REPO} update-server-info"
    )
    assert start("config").rc != 0
    assert SCHOOL.file("/etc/schoolfleet-test-motd").content_string == "config v2\n"
    config = status()["jobs"]["config"]
    assert config["result"] == "failed" and "rollback refused" in config["message"]
    assert config["applied_commit"] == applied
