"""The legal Wi-Fi schedule of a school, proved over real SSH between two containers.

The school server runs the role; the access point stand-in runs the wifi_ap role's radio script
behind the same authorized_keys line, with each radio's `disabled` in a state file (prepare.yml).
The tests run in file order and build on each other: the units and files, one run of the timer's
service at the real moment, then, with the timer stopped, a school day of 1 December 2026 replayed
with --at (class time, evening, a teacher's switch-on and its expiry, the cap, a cancel), what the
key may not do, an unreachable access point, and the report of that day.
"""

import json
import re
import shlex
from pathlib import Path

import pytest
import testinfra

SERVER = testinfra.get_host("podman://wifi-schedule-server")
AP = testinfra.get_host("podman://wifi-schedule-ap")
AP_NAME = "ap-classe-cm1"
LOG = "/var/log/schoolfleet/wifi/0750001a.jsonl"
STATE_DIR = "/var/lib/schoolfleet/wifi"
KEY = "/etc/schoolfleet/wifi-schedule/id_ed25519"
RADIOS = ("radio0", "radio1")
WIFI_AP_TASKS = Path(__file__).resolve().parents[4] / "wifi_ap" / "tasks" / "main.yml"


def wifi(*args):
    return SERVER.run("schoolfleet-wifi " + " ".join(shlex.quote(arg) for arg in args))


def at(clock):
    return f"2026-12-01T{clock}+01:00"  # a Tuesday of zone C, outside its holidays


def radios():
    return {name: AP.file(f"/var/lib/fake-radio/{name}").content_string.strip() for name in RADIOS}


def log():
    if not SERVER.file(LOG).exists:
        return []
    return [json.loads(line) for line in SERVER.file(LOG).content_string.splitlines() if line.strip()]


def reloads():
    calls = AP.file("/var/lib/fake-radio/calls.log")
    return calls.content_string.splitlines().count("wifi reload") if calls.exists else 0


def ssh(*args):
    """The schedule's own SSH login to the access point, with any options and command."""
    return SERVER.run(
        f"ssh -i {KEY} -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new "
        f"-o UserKnownHostsFile={STATE_DIR}/known_hosts root@wifi-schedule-ap "
        + " ".join(shlex.quote(arg) for arg in args)
    )


@pytest.fixture(scope="module")
def school_day():
    """The timer stopped, the log and state set aside, the radios off: a day replayed with --at."""
    SERVER.check_output("systemctl stop schoolfleet-wifi.timer schoolfleet-wifi.service")
    SERVER.check_output(
        f"if [ -e {LOG} ]; then mv {LOG} {LOG}.before-tests; fi; "
        f"rm -f {STATE_DIR}/on-demand.json {STATE_DIR}/access-points.json"
    )
    # Spelled into the command, not passed as an argument: testinfra quotes arguments, which made
    # the list one word and left the radios as the real-moment run had set them (on in class time).
    AP.check_output(
        f"for r in {' '.join(RADIOS)}; do echo 1 > /var/lib/fake-radio/$r; done; "
        ": > /var/lib/fake-radio/calls.log"
    )
    assert radios() == {"radio0": "1", "radio1": "1"}
    yield
    SERVER.check_output("systemctl start schoolfleet-wifi.timer")


def test_timer_and_files():
    timer = SERVER.service("schoolfleet-wifi.timer")
    assert timer.is_enabled and timer.is_running
    assert "OnCalendar=*-*-* *:00/5:00" in SERVER.check_output(
        "systemctl show schoolfleet-wifi.timer -p TimersCalendar"
    )
    calendar = SERVER.file("/etc/schoolfleet/wifi-calendar.json")
    assert calendar.mode == 0o644
    data = json.loads(calendar.content_string)
    assert data["zone"] == "C"
    assert data["valid_from"] == "2026-01-01"
    assert data["teaching_hours"]["tue"] == [["08:20", "11:45"], ["13:20", "16:45"]]
    assert data["teaching_hours"]["wed"] == [["08:20", "11:45"]]
    assert "2026-12-25" in data["public_holidays"]
    settings = json.loads(SERVER.file("/etc/schoolfleet/wifi-schedule.json").content_string)
    assert settings["school"] == "0750001A"
    assert settings["access_points"] == [{"name": AP_NAME, "address": "wifi-schedule-ap"}]
    assert settings["max_on_demand_minutes"] == 120
    key = SERVER.file(KEY)
    assert key.mode == 0o600 and key.user == "root"
    assert SERVER.file("/etc/schoolfleet/wifi-schedule").mode == 0o700


def test_the_timer_service_reconciles_at_the_real_moment():
    # Whatever the real time is, the service must bring the access point to the desired state.
    result = SERVER.run("systemctl start schoolfleet-wifi.service")
    journal = SERVER.run("journalctl -u schoolfleet-wifi.service -n 20 --no-pager").stdout
    assert result.rc == 0, journal
    desired = re.search(r"desired: (on|off)", wifi("status").stdout).group(1)
    assert set(radios().values()) == {"0" if desired == "on" else "1"}
    assert f"now {desired}" in wifi("status", "--live").stdout


@pytest.mark.usefixtures("school_day")
def test_class_time_switches_the_access_point_on():
    result = wifi("reconcile", "--at", at("10:00"))
    assert result.rc == 0, result.stderr
    assert "desired: on (class time)" in result.stdout
    assert f"{AP_NAME}: off -> on" in result.stdout
    assert radios() == {"radio0": "0", "radio1": "0"}
    [entry] = log()
    assert entry == {
        "at": "2026-12-01T10:00:00+01:00",
        "school": "0750001A",
        "ap": AP_NAME,
        "event": "switch",
        "state": "on",
        "found": "off",
        "reason": "class time",
    }


@pytest.mark.usefixtures("school_day")
def test_a_second_reconcile_changes_nothing():
    entries, reloaded = log(), reloads()
    result = wifi("reconcile", "--at", at("10:05"))
    assert result.rc == 0, result.stderr
    assert f"{AP_NAME}: on, unchanged" in result.stdout
    assert log() == entries
    assert reloads() == reloaded
    assert radios() == {"radio0": "0", "radio1": "0"}


@pytest.mark.usefixtures("school_day")
def test_after_class_the_access_point_is_switched_off():
    result = wifi("reconcile", "--at", at("17:00"))
    assert result.rc == 0, result.stderr
    assert "desired: off (outside class time" in result.stdout
    assert f"{AP_NAME}: on -> off" in result.stdout
    assert radios() == {"radio0": "1", "radio1": "1"}
    entry = log()[-1]
    assert (entry["event"], entry["state"], entry["found"]) == ("switch", "off", "on")
    assert entry["reason"].startswith("outside class time")
    entries, reloaded = log(), reloads()
    again = wifi("reconcile", "--at", at("17:05"))
    assert again.rc == 0 and f"{AP_NAME}: off, unchanged" in again.stdout
    assert log() == entries and reloads() == reloaded


@pytest.mark.usefixtures("school_day")
def test_a_radio_switched_on_by_hand_is_switched_off_again():
    AP.check_output("echo 0 > /var/lib/fake-radio/radio1")
    result = wifi("reconcile", "--at", at("17:10"))
    assert result.rc == 0, result.stderr
    assert f"{AP_NAME}: mixed -> off" in result.stdout
    assert radios() == {"radio0": "1", "radio1": "1"}
    assert log()[-1]["found"] == "mixed"


@pytest.mark.usefixtures("school_day")
def test_a_teacher_switches_the_wifi_on_until_it_expires():
    result = wifi("on", "--minutes", "45", "--by", "Mme Martin", "--at", at("18:00"), "--now")
    assert result.rc == 0, result.stderr
    assert "Wi-Fi on demand of Mme Martin until 18:45" in result.stdout
    assert f"{AP_NAME}: off -> on" in result.stdout
    assert radios() == {"radio0": "0", "radio1": "0"}
    request, switch = log()[-2:]
    assert request == {
        "at": "2026-12-01T18:00:00+01:00",
        "school": "0750001A",
        "event": "on-demand",
        "by": "Mme Martin",
        "until": "2026-12-01T18:45:00+01:00",
    }
    assert switch["state"] == "on"
    assert switch["reason"] == "on demand of Mme Martin until 2026-12-01 18:45"

    during = wifi("reconcile", "--at", at("18:30"))
    assert during.rc == 0 and f"{AP_NAME}: on, unchanged" in during.stdout

    after = wifi("reconcile", "--at", at("18:46"))
    assert after.rc == 0, after.stderr
    assert "desired: off" in after.stdout
    assert f"{AP_NAME}: on -> off" in after.stdout
    assert radios() == {"radio0": "1", "radio1": "1"}
    assert log()[-1]["state"] == "off"


@pytest.mark.usefixtures("school_day")
def test_the_on_demand_cap_is_enforced():
    entries = log()
    for minutes in ("121", "600", "0"):
        refused = wifi("on", "--minutes", minutes, "--by", "M. Durand", "--at", at("19:00"), "--now")
        assert refused.rc == 2
        assert f"an on-demand switch-on lasts 1 to 120 minutes, not {minutes}" in refused.stderr
    assert log() == entries
    assert radios() == {"radio0": "1", "radio1": "1"}
    assert "desired: off" in wifi("status", "--at", at("19:00")).stdout

    # The cap itself is allowed; a cancel ends it and the next reconcile switches off.
    longest = wifi("on", "--minutes", "120", "--by", "M. Durand", "--at", at("19:00"), "--now")
    assert longest.rc == 0, longest.stderr
    assert "until 21:00" in longest.stdout and radios() == {"radio0": "0", "radio1": "0"}
    cancel = wifi("cancel", "--by", "M. Durand", "--at", at("19:30"))
    assert cancel.rc == 0 and "on-demand switch-on ended" in cancel.stdout
    off = wifi("reconcile", "--at", at("19:30"))
    assert off.rc == 0 and f"{AP_NAME}: on -> off" in off.stdout
    assert radios() == {"radio0": "1", "radio1": "1"}


def test_the_access_point_authorizes_the_key_as_the_wifi_ap_role_does():
    # The restrictions come from the wifi_ap role's task, so this scenario tests what it ships.
    fragments = re.search(
        r"\('(command=\"/usr/libexec/schoolfleet-radio\",[^']*)'\s*~\s*'([^']*)'", WIFI_AP_TASKS.read_text()
    )
    assert fragments, f"the authorized_keys line is no longer where expected in {WIFI_AP_TASKS}"
    options = (fragments.group(1) + fragments.group(2)).strip()
    line = AP.file("/root/.ssh/authorized_keys").content_string.strip()
    assert line.startswith(options + " ssh-ed25519 ")
    assert line.endswith(" schoolfleet-wifi-schedule")


@pytest.mark.usefixtures("school_day")
def test_the_key_runs_the_radio_command_only():
    status = ssh("status")
    assert status.rc == 0, status.stderr
    assert status.stdout.splitlines() == ["radio0 1", "radio1 1"]

    for command in ("id", "uci set wireless.radio0.disabled=0", "sh -c 'touch /tmp/escaped'"):
        refused = ssh(command)
        assert refused.rc == 2, refused.stdout
        assert "schoolfleet-radio: refused:" in refused.stderr
        assert "uid=" not in refused.stdout
    assert not AP.file("/tmp/escaped").exists
    assert radios() == {"radio0": "1", "radio1": "1"}

    # No forwarding either: the key cannot be used to reach anything from the access point.
    forward = ssh("-W", "localhost:22")
    assert forward.rc != 0
    assert "administratively prohibited" in forward.stderr
    assert "SSH-2.0" not in forward.stdout
    # Nor a terminal.
    assert "PTY allocation request failed" in ssh("-tt", "status").stderr


@pytest.mark.usefixtures("school_day")
def test_an_unreachable_access_point_is_logged_once_each_way():
    AP.check_output("systemctl stop ssh")
    try:
        for clock in ("20:00", "20:05"):
            result = wifi("reconcile", "--at", at(clock))
            assert result.rc == 1
            assert f"{AP_NAME}: ERROR" in result.stdout
    finally:
        AP.check_output("systemctl start ssh")
    assert [e["event"] for e in log() if e["event"] in ("unreachable", "reachable")] == ["unreachable"]
    back = wifi("reconcile", "--at", at("20:10"))
    assert back.rc == 0, back.stdout
    assert log()[-1] == {
        "at": "2026-12-01T20:10:00+01:00",
        "school": "0750001A",
        "ap": AP_NAME,
        "event": "reachable",
        "state": "off",
    }


@pytest.mark.usefixtures("school_day")
def test_the_report_lists_the_on_periods():
    text = wifi("report", "--from", "2026-12-01", "--to", "2026-12-01")
    assert text.rc == 0, text.stderr
    assert text.stdout.splitlines() == [
        "Wi-Fi on-periods from 2026-12-01T00:00:00+01:00 to 2026-12-02T00:00:00+01:00",
        f"{AP_NAME}: 8.27 h on",
        "  2026-12-01 10:00 -> 17:00  class time",
        "  2026-12-01 18:00 -> 18:46  on demand of Mme Martin until 2026-12-01 18:45",
        "  2026-12-01 19:00 -> 19:30  on demand of M. Durand until 2026-12-01 21:00",
        "on demand: 2026-12-01T18:00:00+01:00 by Mme Martin (on-demand)",
        "on demand: 2026-12-01T19:00:00+01:00 by M. Durand (on-demand)",
        "on demand: 2026-12-01T19:30:00+01:00 by M. Durand (on-demand-cancelled)",
    ]
    data = json.loads(wifi("report", "--from", "2026-12-01", "--to", "2026-12-01", "--format", "json").stdout)
    assert data["access_points"][AP_NAME]["hours_on"] == 8.27
    csv = wifi("report", "--from", "2026-12-01", "--to", "2026-12-01", "--format", "csv").stdout
    assert csv.splitlines()[1] == (
        f"{AP_NAME};2026-12-01T10:00:00+01:00;2026-12-01T17:00:00+01:00;7,00;class time"
    )
    november = wifi("report", "--from", "2026-11-01", "--to", "2026-11-30")
    assert "no access point was on in this period" in november.stdout
