"""The central mirror and a school server, checked end to end (the tests run in file order).

The central container runs antivirus_mirror, filled from its import folder with ClamAV's signed
test database (version 5, it holds the EICAR signature) and an in-house .hdb; the school container
runs antivirus and fetches from it over the scenario's network.
"""

import json
import shlex

import testinfra

CENTRAL = testinfra.get_host("podman://antivirus-central")
SCHOOL = testinfra.get_host("podman://antivirus-school")
MIRROR = "http://antivirus-central/antivirus"
# Built from two halves so that no scanner flags this test file itself.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-" + "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CUSTOM = "schoolfleet custom signature test file\n"
PUPIL_FILE = "/srv/school/classes/cm1/jeu gratuit.com"
TEACHER_FILE = "/srv/school/teachers/fiche.txt"


def header(host, path: str) -> list[str]:
    return host.check_output(f"head -c 512 {path} | tr -d '\\000'").split(":")


def clamd_ping() -> str:
    script = (
        "import socket; s = socket.socket(socket.AF_UNIX); s.settimeout(10); "
        "s.connect('/run/clamav/clamd.ctl'); s.sendall(b'zPING\\0'); print(s.recv(16).decode().strip('\\0'))"
    )
    return SCHOOL.check_output(f'python3 -c "{script}"')


def write(host, path: str, content: str) -> None:
    script = f"import pathlib, sys; pathlib.Path({path!r}).write_text({content!r})"
    host.run_expect([0], f"python3 -c {shlex.quote(script)}")


def journal(host, *args: str) -> str:
    return host.check_output("journalctl --no-pager -o cat " + " ".join(args))


def test_mirror_serves_the_signed_database_and_the_in_house_file():
    assert CENTRAL.service("nginx").is_running
    published = CENTRAL.check_output("ls /srv/schoolfleet/www/antivirus").split()
    assert sorted(published) == ["schoolfleet-test.hdb", "test.cvd"]
    # What freshclam asks first: the 512-byte header of <db>.cvd, with a Range request.
    status = SCHOOL.check_output(
        f"python3 -c \"import urllib.request as u; r = u.urlopen(u.Request('{MIRROR}/test.cvd', "
        "headers={'Range': 'bytes=0-511'})); b = r.read(); print(r.status, len(b), b[:11].decode())\""
    )
    assert status == "206 512 ClamAV-VDB:"
    assert CENTRAL.run_expect([0, 1], "antivirus-mirror check").rc == 0


def test_school_config_names_the_central_mirror_only():
    config = SCHOOL.file("/etc/clamav/freshclam.conf").content_string
    assert f"DatabaseMirror {MIRROR}" in config
    assert f"DatabaseCustomURL {MIRROR}/schoolfleet-test.hdb" in config
    assert "clamav.net" not in config
    freshclam = SCHOOL.service("clamav-freshclam")
    assert not freshclam.is_running
    assert SCHOOL.check_output("systemctl is-enabled clamav-freshclam || true") == "masked"


def test_school_pulled_the_signatures_from_the_mirror():
    fields = header(SCHOOL, "/var/lib/clamav/test.cvd")
    assert fields[0] == "ClamAV-VDB" and fields[2] == "5"
    assert SCHOOL.file("/var/lib/clamav/schoolfleet-test.hdb").contains("Schoolfleet.Test.Custom")
    school_ip = SCHOOL.check_output("hostname -I").split()[0]
    access = CENTRAL.check_output("cat /var/log/nginx/access.log")
    assert f"{school_ip} - - " in access
    assert "GET /antivirus/test.cvd" in access and "ClamAV/" in access
    status = json.loads(SCHOOL.file("/var/lib/antivirus/state/status.json").content_string)
    assert status["level"] == "ok" and status["mirror"] == MIRROR


def test_clamd_runs_and_answers_ping():
    assert SCHOOL.service("clamav-daemon").is_running
    assert SCHOOL.service("clamav-daemon").is_enabled
    assert clamd_ping() == "PONG"


def test_jobs_are_scheduled_outside_school_hours():
    calendars = {
        unit: SCHOOL.check_output(f"systemctl show antivirus-{unit}.timer -p TimersCalendar --value")
        for unit in ("update", "scan", "report", "check")
    }
    assert "06:15:00" in calendars["update"] and "18:45:00" in calendars["update"]
    assert "19:30:00" in calendars["scan"]
    assert "07:00:00" in calendars["report"]
    for unit in calendars:
        assert SCHOOL.service(f"antivirus-{unit}.timer").is_running


def test_scheduled_scan_quarantines_infected_files_and_leaves_clean_ones():
    write(SCHOOL, PUPIL_FILE, EICAR)
    write(SCHOOL, TEACHER_FILE, CUSTOM)
    # A pupil's file that clamd (user clamav) could not open by itself: the scan passes descriptors.
    SCHOOL.run_expect([0], f"chown 12345:12345 '{PUPIL_FILE}' && chmod 0600 '{PUPIL_FILE}'")
    eicar_sha = SCHOOL.check_output(f"sha256sum '{PUPIL_FILE}'").split()[0]

    SCHOOL.run_expect([0], "systemctl start antivirus-scan.service")  # what the timer starts

    assert not SCHOOL.file(PUPIL_FILE).exists
    assert not SCHOOL.file(TEACHER_FILE).exists
    assert SCHOOL.file("/srv/school/classes/cm1/lecture.txt").contains("chaperon")
    log = SCHOOL.file("/var/log/antivirus/quarantine.log").content_string.splitlines()
    pupil_lines = [line for line in log if line.endswith(f"path={PUPIL_FILE}")]
    teacher_lines = [line for line in log if line.endswith(f"path={TEACHER_FILE}")]
    assert len(pupil_lines) == 1 and len(teacher_lines) == 1 and len(log) == 2
    assert " QUARANTINED signature=Eicar-Test-Signature " in pupil_lines[0]
    assert " QUARANTINED signature=Schoolfleet.Test.Custom.UNOFFICIAL " in teacher_lines[0]

    entry = pupil_lines[0].split(" id=")[1].split()[0]
    moved = SCHOOL.file(f"/var/lib/antivirus/quarantine/{entry}/file")
    assert moved.exists and moved.user == "root" and moved.mode == 0o400
    assert SCHOOL.check_output(f"sha256sum {moved.path}").split()[0] == eicar_sha
    meta = json.loads(SCHOOL.file(f"/var/lib/antivirus/quarantine/{entry}/meta.json").content_string)
    assert meta["original_path"] == PUPIL_FILE and meta["uid"] == 12345 and meta["mode"] == "0o600"
    assert f"path={PUPIL_FILE}" in journal(SCHOOL, "-t antivirus --grep QUARANTINED")
    scan = json.loads(SCHOOL.file("/var/lib/antivirus/state/scan.json").content_string)
    assert scan["result"] == "ok" and scan["detections"] == 2 and scan["quarantined"] == 2


def test_a_quarantined_file_can_be_restored_elsewhere():
    entry = SCHOOL.check_output("antivirus quarantine list | grep Schoolfleet.Test.Custom").split()[0]
    SCHOOL.run_expect([0], f"antivirus quarantine restore {entry} --to /root/restored.txt")
    assert SCHOOL.file("/root/restored.txt").content_string == CUSTOM
    assert "RESTORED" in SCHOOL.file("/var/log/antivirus/quarantine.log").content_string


def test_daily_report_lists_detections_and_signature_age():
    SCHOOL.run_expect([0], "systemctl start antivirus-report.service")
    text = SCHOOL.file("/var/lib/antivirus/reports/latest.txt").content_string
    assert "State: OK" in text
    assert "Detections in the last 24 hours: 2" in text
    assert f"Eicar-Test-Signature  {PUPIL_FILE}  (quarantined)" in text
    assert "test.cvd: version 5, 13 signatures, built 2021-06-2" in text
    assert f"Signatures: last updated from {MIRROR} at " in text
    report = json.loads(SCHOOL.file("/var/lib/antivirus/reports/latest.json").content_string)
    assert len(report["detections"]) == 2 and report["status"]["signature_age_hours"] < 1
    assert "Detections in the last 24 hours: 2" in journal(SCHOOL, "-t antivirus --grep report:")


def test_mirror_refuses_a_tampered_database():
    CENTRAL.run_expect([0], "head -c 600 /root/next/test.cvd > /srv/antivirus-import/broken.cvd")
    result = CENTRAL.run("antivirus-mirror publish")
    assert result.rc == 1 and "broken.cvd: signature verification failed" in result.stderr
    assert not CENTRAL.file("/srv/schoolfleet/www/antivirus/broken.cvd").exists
    CENTRAL.run_expect([0], "rm /srv/antivirus-import/broken.cvd && antivirus-mirror publish")


def test_a_new_version_reaches_the_school_as_a_patch():
    CENTRAL.run_expect([0], "cp /root/next/test-6.cdiff /root/next/test.cvd /srv/antivirus-import/")
    CENTRAL.run_expect([0], "systemctl start antivirus-mirror-update.service")
    assert header(CENTRAL, "/srv/schoolfleet/www/antivirus/test.cvd")[2] == "6"

    SCHOOL.run_expect([0], "systemctl start antivirus-update.service")  # what the timer starts
    # freshclam read the new header, fetched the 1 kB patch and rebuilt the database locally.
    assert "GET /antivirus/test-6.cdiff" in CENTRAL.file("/var/log/nginx/access.log").content_string
    assert header(SCHOOL, "/var/lib/clamav/test.cld")[2] == "6"
    assert not SCHOOL.file("/var/lib/clamav/test.cvd").exists
    assert clamd_ping() == "PONG"
    assert "test.cld updated (version: 6" in journal(SCHOOL, "-u antivirus-update")


def test_mirror_down_keeps_signatures_and_daemon_then_raises_the_alert():
    before = SCHOOL.check_output("sha256sum /var/lib/clamav/test.cld /var/lib/clamav/schoolfleet-test.hdb")
    CENTRAL.run_expect([0], "systemctl stop nginx")
    try:
        failed = SCHOOL.run("systemctl start antivirus-update.service")
        assert failed.rc != 0
        assert SCHOOL.check_output("systemctl is-failed antivirus-update.service || true") == "failed"
        assert "ANTIVIRUS-UPDATE-FAILED" in journal(SCHOOL, "-u antivirus-update")
        # The previous signatures stay in place and clamd keeps running with them.
        after = SCHOOL.check_output("sha256sum /var/lib/clamav/test.cld /var/lib/clamav/schoolfleet-test.hdb")
        assert after == before
        assert SCHOOL.service("clamav-daemon").is_running and clamd_ping() == "PONG"
        # One failed night is a warning, not yet the alert: the signatures are minutes old.
        assert SCHOOL.run("antivirus check").rc == 1
        assert not SCHOOL.file("/var/lib/antivirus/state/alert").exists

        # Three days pass without the mirror: move the last success back instead of waiting.
        SCHOOL.run_expect(
            [0],
            "python3 -c \"import json, time; p = '/var/lib/antivirus/state/update.json'; "
            "d = json.load(open(p)); d['last_ok_epoch'] = time.time() - 72 * 3600; "
            "json.dump(d, open(p, 'w'))\"",
        )
        SCHOOL.run_expect([0], "systemctl start antivirus-update.service || true")
        assert SCHOOL.run("systemctl start antivirus-check.service").rc != 0  # what the hourly timer starts
        alert = SCHOOL.file("/var/lib/antivirus/state/alert").content_string
        assert alert.startswith("ANTIVIRUS-ALERT signatures are 72.0 h old (threshold 60 h)")
        assert "ANTIVIRUS-ALERT" in journal(SCHOOL, "-t antivirus -p crit")
        assert SCHOOL.run("antivirus check").rc == 2
        assert "ANTIVIRUS-ALERT" in SCHOOL.file("/var/log/antivirus/alert-command.log").content_string
        metrics = SCHOOL.file("/var/lib/prometheus/node-exporter/schoolfleet_antivirus.prom").content_string
        assert "schoolfleet_antivirus_alert_level 2" in metrics
        assert SCHOOL.service("clamav-daemon").is_running and clamd_ping() == "PONG"
    finally:
        CENTRAL.run_expect([0], "systemctl start nginx")

    # The mirror is back: the next update clears the alert.
    SCHOOL.run_expect([0], "systemctl start antivirus-update.service")
    assert not SCHOOL.file("/var/lib/antivirus/state/alert").exists
    assert "ANTIVIRUS-ALERT-CLEARED" in journal(SCHOOL, "-t antivirus")
    assert SCHOOL.run("antivirus check").rc == 0


def test_a_stale_central_mirror_raises_the_alert_too():
    # ClamAV's test database was built in 2021: with a 7-day build-age limit the check must fire.
    result = SCHOOL.run("antivirus check --database-max-age-days 7")
    assert result.rc == 2
    assert "the central mirror itself is stale" in result.stdout + result.stderr
    SCHOOL.run_expect([0], "antivirus check")  # back to the configured limits
