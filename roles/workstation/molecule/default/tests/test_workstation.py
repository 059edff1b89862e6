"""A classroom workstation joined to its school's domain, seen through PAM, SMB and the network.

prepare.yml gave the school server its domain with school_directory's own scenario rosters (2026,
then 2027: Noé moved to CM2 B, Chloé left and is disabled); the slips with the passwords are in the
ephemeral directory. converge.yml ran the workstation role on the classroom machine and the upkeep
role on the server. The pack test at the end runs the playbook again with one pack fewer.
"""

import base64
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import testinfra

from schoolfleet.accounts.slips import read_slips

SERVER = testinfra.get_host("podman://workstation-server")
PC = testinfra.get_host("podman://workstation-pc")
SCENARIO = Path(__file__).resolve().parents[1]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SHARES = "//wssrv.wssrv.ecole-test.lan"
# A PAM service with the machine's common stacks, as the greeter's (lightdm) includes them.
SERVICE = "schoolfleet-test"


def passwords():
    found = {}
    # Where the scenario prints them: beside the recorded job events when make runs it.
    slips = Path(os.environ.get("SCHOOLFLEET_EVENTS_DIR") or EPHEMERAL) / "slips"
    for pdf in sorted(slips.glob("*.pdf")):
        for slip in read_slips(pdf.read_bytes()):
            found[slip["login"]] = slip["password"]
    return found


@pytest.fixture(scope="module", autouse=True)
def pam_service():
    stack = "".join(f"@include common-{part}\\n" for part in ("auth", "account", "session"))
    PC.check_output(f"printf '{stack}' > /etc/pam.d/{SERVICE}")


def pam(login, password, *operations):
    return PC.run(f"printf '%s\\n' {password!r} | pamtester -v {SERVICE} {login} {' '.join(operations)}")


def test_machine_is_joined_and_sees_the_schools_accounts():
    assert PC.run("net ads testjoin").rc == 0
    # Bare names, the same ids on every machine (idmap rid), class groups as on the server.
    groups = PC.check_output("id -Gn lea.martin").split()
    assert {"eleves", "eleves-cm1a"} <= set(groups)
    assert "sudo" not in groups and "adm" not in groups
    assert 10000 <= int(PC.check_output("id -u lea.martin")) <= 999999


def test_pupil_logs_in_with_the_password_on_her_slip():
    result = pam("lea.martin", passwords()["lea.martin"], "authenticate", "acct_mgmt")
    assert result.rc == 0, result.stdout + result.stderr
    assert "successfully authenticated" in result.stdout + result.stderr


def test_a_wrong_password_is_refused():
    assert pam("lea.martin", "Wrong-Pass77", "authenticate").rc != 0


def test_a_disabled_leaver_is_refused_and_told_so():
    result = pam("chloe.lefevre", passwords()["chloe.lefevre"], "authenticate")
    assert result.rc != 0
    assert "account has been locked" in result.stdout + result.stderr


def test_the_domain_administrator_cannot_open_a_session():
    assert pam("administrator", "Fixture-Only-Adm1n", "authenticate").rc != 0


def test_an_account_of_another_school_is_unknown_here():
    assert PC.run("getent passwd 'EAUTRE\\lea.martin'").rc != 0
    assert pam("EAUTRE\\\\lea.martin", passwords()["lea.martin"], "authenticate").rc != 0


def test_login_mounts_her_home_and_her_class_only():
    """pam_mount's choice at login (debug on in the scenario); the kernel here has no cifs to do it."""
    result = pam(
        "moussa.ndiaye", passwords()["moussa.ndiaye"], "authenticate", "open_session", "close_session"
    )
    out = result.stdout + result.stderr
    assert result.rc == 0, out
    mounts = re.findall(r"'-t' 'cifs' '(//[^']+)'", out)
    assert mounts == [f"{SHARES}/moussa.ndiaye", f"{SHARES}/classe-cm2b"], out


def test_a_teacher_also_gets_the_teachers_share_and_her_classes():
    result = pam("anne.dupont", passwords()["anne.dupont"], "authenticate", "open_session", "close_session")
    out = result.stdout + result.stderr
    mounts = re.findall(r"'-t' 'cifs' '(//[^']+)' '([^']+)'", out)
    assert mounts == [
        (f"{SHARES}/anne.dupont", "/home/ecole/anne.dupont/Documents"),
        (f"{SHARES}/enseignants", "/home/ecole/anne.dupont/Enseignants"),
        (f"{SHARES}/classe-cm1a", "/home/ecole/anne.dupont/Classe-cm1a"),
    ], out


def smb(login, share, command):
    return PC.run(
        "cd /tmp && echo 'written from the classroom' > note.txt && "
        f"smbclient -U {login}%{passwords()[login]} {SHARES}/{share} -c {command!r}"
    )


def test_pupil_writes_her_class_share_from_the_workstation():
    result = smb("lea.martin", "classe-cm1a", "put note.txt from-ws.txt")
    assert result.rc == 0, result.stdout + result.stderr
    assert SERVER.file("/srv/school/classes/cm1a/from-ws.txt").exists


def test_pupil_cannot_write_another_class_share_nor_the_teachers_share():
    for share in ("classe-cm2b", "enseignants"):
        result = smb("lea.martin", share, "put note.txt intruder.txt")
        assert result.rc != 0
        assert "NT_STATUS_ACCESS_DENIED" in result.stdout + result.stderr
    assert not SERVER.file("/srv/school/classes/cm2b/intruder.txt").exists
    assert not SERVER.file("/srv/school/teachers/intruder.txt").exists


def test_her_local_session_data_is_gone_after_logout():
    """A real session (su opens and closes it through the common stack): during it the home exists."""
    during = PC.run(
        "su -l lea.martin -c 'echo brouillon > ~/brouillon.txt; echo x > /tmp/lea-scratch; "
        "ls ~/brouillon.txt /tmp/lea-scratch'"
    )
    assert during.rc == 0, during.stdout + during.stderr
    assert "/tmp/lea-scratch" in during.stdout
    assert not PC.file("/home/ecole/lea.martin").exists
    assert not PC.file("/tmp/lea-scratch").exists
    uid = PC.check_output("id -u lea.martin")
    assert not PC.file(f"/tmp/krb5cc_{uid}").exists
    assert "removed the local session data of lea.martin" in PC.check_output(
        "journalctl -t schoolfleet-session --no-pager"
    )


def test_a_reboot_wipes_what_a_crash_left():
    assert PC.service("schoolfleet-wipe-homes").is_enabled
    PC.check_output("mkdir -p /home/ecole/ghost && touch /home/ecole/ghost/left.txt")
    PC.check_output("systemctl start schoolfleet-wipe-homes")
    assert not PC.file("/home/ecole/ghost").exists


def test_french_desktop_settings_resolver_and_time_server():
    assert "LANG=fr_FR.UTF-8" in PC.file("/etc/default/locale").content_string
    assert "fr_FR.utf8" in PC.check_output("locale -a")
    assert 'XKBLAYOUT="fr"' in PC.file("/etc/default/keyboard").content_string
    assert PC.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Europe/Paris"
    server = SERVER.interface("eth0").addresses[0]
    nameservers = re.findall(r"^nameserver (\S+)", PC.file("/etc/resolv.conf").content_string, re.M)
    assert nameservers == [server]
    timesync = PC.file("/etc/systemd/timesyncd.conf.d/50-schoolfleet.conf").content_string
    assert "NTP=wssrv.wssrv.ecole-test.lan" in timesync and "FallbackNTP=\n" in timesync
    assert not PC.package("light-locker").is_installed
    assert PC.file("/etc/lightdm/lightdm.conf.d/50-schoolfleet.conf").contains("xserver-command=X -s 0 -dpms")


def test_power_off_at_the_end_of_the_day_and_update_at_boot():
    assert PC.service("schoolfleet-poweroff.timer").is_running
    assert "OnCalendar=*-12-25 03:00" in PC.check_output("systemctl cat schoolfleet-poweroff.timer")
    assert PC.service("schoolfleet-upkeep-update.service").is_enabled
    assert PC.service("schoolfleet-upkeep-idle.timer").is_running
    # 20:30 on a Tuesday is out of school hours, 10:00 inside; no update has run yet here.
    assert '"school_hours": false' in PC.check_output("schoolfleet-upkeep decide --at 2026-12-01T20:30")
    assert '"school_hours": true' in PC.check_output("schoolfleet-upkeep decide --at 2026-12-01T10:00")


def test_wake_on_lan_packet_leaves_the_server_for_the_machines_mac():
    mac = PC.file("/sys/class/net/eth0/address").content_string.strip()
    PC.check_output("rm -f /tmp/wol.pcap")
    capture = subprocess.Popen(
        [
            "podman",
            "exec",
            "workstation-pc",
            "timeout",
            "30",
            "tcpdump",
            "-i",
            "eth0",
            "-c",
            "1",
            "-U",
            "-w",
            "/tmp/wol.pcap",
            "udp port 9",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(3)
    SERVER.check_output("systemctl start schoolfleet-wake-workstations.service")
    _, err = capture.communicate(timeout=40)
    assert capture.returncode == 0, err
    packet = base64.b64decode(PC.check_output("base64 -w0 /tmp/wol.pcap"))
    magic = b"\xff" * 6 + bytes.fromhex(mac.replace(":", "")) * 16
    assert magic in packet
    summary = PC.check_output("tcpdump -n -r /tmp/wol.pcap")
    assert f"IP {SERVER.interface('eth0').addresses[0]}." in summary
    assert SERVER.file("/var/lib/schoolfleet/upkeep/last-wake").exists


def wait_for(host, command, seconds):
    deadline = time.monotonic() + seconds
    while host.run(command).rc != 0:
        assert time.monotonic() < deadline, f"{command} still failing after {seconds} s"
        time.sleep(2)


def test_with_the_server_away_a_cached_teacher_logs_in_and_a_new_one_is_told_why_not():
    password = passwords()["anne.dupont"]
    # Her earlier logins on this machine (above) left winbind's cached credentials.
    assert pam("anne.dupont", password, "authenticate").rc == 0
    SERVER.check_output("systemctl stop samba-ad-dc")
    try:
        cached = pam("anne.dupont", password, "authenticate")
        assert cached.rc == 0, cached.stdout + cached.stderr
        assert "using cached credentials" in cached.stdout + cached.stderr
        never = pam("paul.bernard", passwords()["paul.bernard"], "authenticate")
        assert never.rc != 0
        assert "Le serveur de l'école ne répond pas" in never.stdout + never.stderr
    finally:
        SERVER.check_output("systemctl start samba-ad-dc")
        wait_for(PC, "wbinfo --ping-dc", 120)
    # Back online: a wrong password is a plain refusal again, without the server message.
    wrong = pam("paul.bernard", "Wrong-Pass77", "authenticate")
    assert wrong.rc != 0 and "ne répond pas" not in wrong.stdout + wrong.stderr


def run_converge(*extra):
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        ["ansible-playbook", "-i", str(EPHEMERAL / "inventory"), str(SCENARIO / "converge.yml"), *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_the_packs_are_installed_and_a_removed_pack_leaves_the_machine():
    for package in ("hello", "tree", "sl"):
        assert PC.package(package).is_installed
    assert not PC.package("figlet").is_installed
    assert PC.file("/etc/firefox/policies/policies.json").contains("https://ecole.example/")
    result = run_converge("-e", '{"workstation_scenario_school_packs": ["base"]}')
    assert result.returncode == 0, result.stdout + result.stderr
    assert not PC.package("sl").is_installed
    assert PC.package("hello").is_installed and PC.package("tree").is_installed


def test_an_update_that_cannot_reach_the_cache_is_recorded_as_failed_with_the_reason():
    PC.check_output(
        "echo 'Acquire::http::Proxy \"http://127.0.0.1:9\";' > /etc/apt/apt.conf.d/99test-unreachable-cache"
    )
    try:
        result = PC.run("schoolfleet-upkeep update")
    finally:
        PC.check_output("rm -f /etc/apt/apt.conf.d/99test-unreachable-cache")
    assert result.rc == 1
    status = json.loads(PC.file("/var/lib/schoolfleet/upkeep/status.json").content_string)
    assert status["result"] == "failed"
    assert status["reason"].startswith("apt-get update: E: Failed to fetch"), status
    assert "127.0.0.1:9" in status["reason"]
    assert "last_success" not in status
    PC.check_output("rm -f /var/lib/schoolfleet/upkeep/status.json")
