"""Real 802.1X against the school's accounts: a pupil's device, an access point, the school server.

Two containers: radius-server-dc is the school server (Samba AD DC from school_directory, FreeRADIUS
from this role) and also plays the pupil's device (wpa_supplicant -D wired); radius-server-ap plays
the access point (hostapd driver=wired, a RADIUS client of the server at its own address). The
wire between them is a veth pair whose ends the test puts in each container's network namespace
from the host, so neither container needs a capability beyond podman's defaults (NET_RAW, for the
EAPOL packet sockets). Passwords are read from the PDF slips school_directory printed in prepare.yml
(last year's roster): Chloé Lefèvre left in this year's roster, so her slip's password is right
but her account is disabled.
"""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import testinfra

from schoolfleet.accounts.slips import read_slips

DC = testinfra.get_host("podman://radius-server-dc")
AP = testinfra.get_host("podman://radius-server-ap")
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SECRET = "fixture-only-radius-secret"
AP_PORT, STATION_PORT = "rsv-ap", "rsv-sta"
PKI = "/etc/freeradius/3.0/certs/schoolfleet"
SERVER_NAME = "radius.ecoleradius.schoolfleet"
PUPILS_VLAN, TEACHERS_VLAN = "30", "10"
WORK = "/tmp/radius-test"


def container_pid(name: str) -> str:
    return subprocess.check_output(["podman", "inspect", "-f", "{{.State.Pid}}", name], text=True).strip()


def address(host) -> str:
    return host.check_output("hostname -I").split()[0]


def in_netns(pid: str, *command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["nsenter", "-t", pid, "-n", *command], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def passwords():
    found = {}
    # Where the scenario prints them: beside the recorded job events when make runs it.
    slips = Path(os.environ.get("SCHOOLFLEET_EVENTS_DIR") or EPHEMERAL) / "slips"
    for pdf in sorted(slips.glob("*.pdf")):
        for slip in read_slips(pdf.read_bytes()):
            found[slip["login"]] = slip["password"]
    assert {"lea.martin", "moussa.ndiaye", "chloe.lefevre", "anne.dupont"} <= set(found)
    return found


@pytest.fixture(scope="module")
def wire():
    """A veth pair: one end in the access point's namespace, the other in the device's."""
    ap_pid, dc_pid = container_pid("radius-server-ap"), container_pid("radius-server-dc")
    # Leftovers of an interrupted run, wherever they are.
    subprocess.run(["ip", "link", "del", AP_PORT], capture_output=True, check=False)
    in_netns(ap_pid, "ip", "link", "del", AP_PORT, check=False)
    in_netns(dc_pid, "ip", "link", "del", STATION_PORT, check=False)
    subprocess.run(["ip", "link", "add", AP_PORT, "type", "veth", "peer", "name", STATION_PORT], check=True)
    subprocess.run(["ip", "link", "set", AP_PORT, "netns", ap_pid], check=True)
    subprocess.run(["ip", "link", "set", STATION_PORT, "netns", dc_pid], check=True)
    in_netns(ap_pid, "ip", "link", "set", AP_PORT, "up")
    in_netns(dc_pid, "ip", "link", "set", STATION_PORT, "up")
    AP.check_output(f"mkdir -p {WORK}")
    DC.check_output(f"mkdir -p {WORK}")
    yield
    # Deleting one end deletes the pair.
    in_netns(ap_pid, "ip", "link", "del", AP_PORT, check=False)


def parse_accept(log: str) -> dict[str, str]:
    """Attributes of the Access-Accept hostapd received, from its -dd message dump."""
    attributes: dict[str, str] = {}
    dump = log.split("RADIUS message: code=2 (Access-Accept)", 1)
    if len(dump) < 2:
        return attributes
    name = None
    for line in dump[1].splitlines()[1:]:
        if match := re.match(r"\s+Attribute \d+ \(([^)]+)\)", line):
            name = match.group(1)
        elif (match := re.match(r"\s+Value: (.*)", line)) and name:
            attributes[name] = match.group(1)
        else:
            break
    return attributes


def server_log_lines() -> int:
    return int(DC.check_output("wc -l < /var/log/freeradius/radius.log"))


def server_log_since(start: int) -> str:
    return DC.check_output(f"tail -n +{start + 1} /var/log/freeradius/radius.log")


def dot1x(login: str, password: str, *, ssid: str = "ecole-eleves", method: str = "TTLS") -> dict:
    """One 802.1X login on the wire: hostapd (access point) <-> wpa_supplicant (device)."""
    AP.check_output(
        f"cat > {WORK}/hostapd.conf <<'EOF'\n"
        f"interface={AP_PORT}\ndriver=wired\nieee8021x=1\neap_reauth_period=0\nuse_pae_group_addr=1\n"
        f"auth_server_addr={address(DC)}\nauth_server_port=1812\nauth_server_shared_secret={SECRET}\n"
        f"own_ip_addr={address(AP)}\nnas_identifier=radius-server-ap\nssid={ssid}\n"
        "EOF"
    )
    phase2 = "auth=PAP" if method == "TTLS" else "auth=MSCHAPV2"
    DC.check_output(
        f"cat > {WORK}/wpa.conf <<'EOF'\n"
        "ap_scan=0\nnetwork={\n\tkey_mgmt=IEEE8021X\n\teapol_flags=0\n"
        f'\teap={method}\n\tidentity="{login}"\n\tanonymous_identity="anonymous"\n'
        f'\tpassword="{password}"\n\tphase2="{phase2}"\n'
        f'\tca_cert="{PKI}/ca.pem"\n\tdomain_match="{SERVER_NAME}"\n}}\n'
        "EOF"
    )
    start = server_log_lines()
    AP.check_output(
        f"rm -f {WORK}/hostapd.log && "
        f"hostapd -B -dd -P {WORK}/hostapd.pid -f {WORK}/hostapd.log {WORK}/hostapd.conf"
    )
    try:
        DC.check_output(
            f"rm -f {WORK}/wpa.log && wpa_supplicant -B -D wired -i {STATION_PORT} -c {WORK}/wpa.conf "
            f"-P {WORK}/wpa.pid -f {WORK}/wpa.log && "
            "for i in $(seq 100); do "
            f"  grep -q -E 'CTRL-EVENT-EAP-(SUCCESS|FAILURE)' {WORK}/wpa.log && break; sleep 0.2; "
            f"done; kill $(cat {WORK}/wpa.pid)"
        )
    finally:
        AP.run(f"kill $(cat {WORK}/hostapd.pid)")
    # The server writes its log line right after the reply.
    time.sleep(0.5)
    device = DC.check_output(f"cat {WORK}/wpa.log")
    access_point = AP.check_output(f"cat {WORK}/hostapd.log")
    return {
        "device": "success"
        if "CTRL-EVENT-EAP-SUCCESS" in device
        else "failure"
        if "CTRL-EVENT-EAP-FAILURE" in device
        else "none",
        "access_point": "success"
        if "CTRL-EVENT-EAP-SUCCESS2" in access_point
        else "failure"
        if "CTRL-EVENT-EAP-FAILURE2" in access_point
        else "none",
        "accept": parse_accept(access_point),
        "server_log": server_log_since(start),
    }


def assert_accepted(result: dict, vlan: str) -> None:
    assert result["device"] == "success", result["server_log"]
    assert result["access_point"] == "success", result["server_log"]
    # Tunnel-Type VLAN (13), Tunnel-Medium-Type IEEE-802 (6), the VLAN id as a string.
    assert result["accept"]["Tunnel-Type"] == "0000000d"
    assert result["accept"]["Tunnel-Medium-Type"] == "00000006"
    assert bytes.fromhex(result["accept"]["Tunnel-Private-Group-Id"]).decode() == vlan


def assert_refused(result: dict, reason: str) -> None:
    assert result["device"] == "failure"
    assert result["access_point"] == "failure"
    assert result["accept"] == {}
    assert "Login OK" not in result["server_log"]
    # Case aside: winbind's NT status comes as 0xC0000072 where ntlm_auth wrote 0xc0000072.
    assert reason.lower() in result["server_log"].lower()


def test_freeradius_answers_only_on_the_schoolfleet_sites():
    assert DC.service("freeradius").is_running
    assert DC.service("freeradius").is_enabled
    assert DC.socket("udp://0.0.0.0:1812").is_listening
    assert DC.socket("udp://0.0.0.0:1813").is_listening
    assert sorted(DC.check_output("ls /etc/freeradius/3.0/sites-enabled").split()) == [
        "schoolfleet",
        "schoolfleet-inner",
    ]
    clients = DC.file("/etc/freeradius/3.0/clients.conf")
    assert clients.mode == 0o640 and clients.group == "freerad"
    assert "testing123" not in clients.content_string
    assert "client localhost" not in clients.content_string
    assert f"ipaddr = {address(AP)}" in clients.content_string


def test_server_certificate_is_issued_by_the_school_ca():
    verified = DC.check_output(f"openssl verify -purpose sslserver -CAfile {PKI}/ca.pem {PKI}/server.pem")
    assert verified.endswith(": OK")
    text = DC.check_output(f"openssl x509 -in {PKI}/server.pem -noout -text")
    assert "TLS Web Server Authentication" in text
    assert f"DNS:{SERVER_NAME}" in text
    assert DC.file(f"{PKI}/ca.key").mode == 0o600
    assert DC.file(f"{PKI}/server.key").mode == 0o640
    # The copy fetched for the devices' Wi-Fi profiles is the CA the server uses.
    fetched = (EPHEMERAL / "pki" / "radius-server-dc-ca.pem").read_text()
    assert fetched == DC.file(f"{PKI}/ca.pem").content_string


def test_pupil_is_accepted_in_the_pupils_vlan(wire, passwords):
    result = dot1x("lea.martin", passwords["lea.martin"])
    assert_accepted(result, PUPILS_VLAN)
    assert "Login OK: [lea.martin]" in result["server_log"]


def test_wrong_password_is_refused(wire, passwords):
    result = dot1x("moussa.ndiaye", passwords["moussa.ndiaye"] + "x")
    assert_refused(result, "NT_STATUS_WRONG_PASSWORD")


def test_leaver_is_refused_with_the_password_on_her_slip(wire, passwords):
    assert "chloe.lefevre" in DC.check_output("samba-tool user list")
    result = dot1x("chloe.lefevre", passwords["chloe.lefevre"])
    assert_refused(result, "NT_STATUS_ACCOUNT_DISABLED")


def test_teacher_is_accepted_in_the_teachers_vlan(wire, passwords):
    result = dot1x("anne.dupont", passwords["anne.dupont"], ssid="ecole-enseignants")
    assert_accepted(result, TEACHERS_VLAN)


def test_pupil_is_refused_on_the_teachers_ssid(wire, passwords):
    result = dot1x("lea.martin", passwords["lea.martin"], ssid="ecole-enseignants")
    assert_refused(result, "pupils may not use SSID ecole-enseignants")


def test_teacher_is_refused_on_the_pupils_ssid(wire, passwords):
    result = dot1x("anne.dupont", passwords["anne.dupont"], ssid="ecole-eleves")
    assert_refused(result, "teachers may not use SSID ecole-eleves")


def test_windows_style_domain_login_is_the_same_account(wire, passwords):
    result = dot1x("ECOLERADIUS\\lea.martin", passwords["lea.martin"])
    assert_accepted(result, PUPILS_VLAN)


def test_other_domain_login_is_refused(wire, passwords):
    result = dot1x("OTHERSCHOOL\\lea.martin", passwords["lea.martin"])
    assert_refused(result, "not a login of this school")


def test_no_challenge_or_response_goes_on_a_command_line():
    # The MSCHAPv2 response can be cracked offline: FreeRADIUS hands it to winbind directly, not to
    # a program whose arguments any local user reads in the process list.
    # Every active line of what FreeRADIUS loads (Debian's own modules keep the old way in comments).
    config = DC.check_output(
        "grep -Rhv '^[[:space:]]*#' /etc/freeradius/3.0/mods-enabled/ /etc/freeradius/3.0/sites-enabled/"
    )
    assert "mschap:NT-Response" not in config and "mschap:Challenge" not in config
    assert 'winbind_username = "%{Stripped-User-Name}"' in config


def test_peap_mschapv2_with_the_dc_as_school_directory_configures_it(wire, passwords):
    # school_directory_ntlm_auth (mschapv2-and-ntlmv2-only) lets winbind check MSCHAPv2 responses.
    ntlm_auth = DC.check_output("testparm -s --parameter-name='ntlm auth' 2>/dev/null")
    assert ntlm_auth == "mschapv2-and-ntlmv2-only"
    assert_accepted(dot1x("lea.martin", passwords["lea.martin"], method="PEAP"), PUPILS_VLAN)
    assert_refused(
        dot1x("moussa.ndiaye", passwords["moussa.ndiaye"] + "x", method="PEAP"), "schoolfleet_mschap"
    )
    assert_refused(dot1x("chloe.lefevre", passwords["chloe.lefevre"], method="PEAP"), "0xc0000072")


def test_wrong_shared_secret_is_ignored(wire, passwords):
    start = server_log_lines()
    AP.check_output(
        f"cat > {WORK}/ttls.conf <<'EOF'\nnetwork={{\n\tkey_mgmt=WPA-EAP\n\teap=TTLS\n"
        f'\tidentity="lea.martin"\n\tpassword="{passwords["lea.martin"]}"\n\tphase2="auth=PAP"\n}}\nEOF'
    )
    wrong = AP.run(f"eapol_test -t 5 -c {WORK}/ttls.conf -a {address(DC)} -s not-the-school-secret")
    assert wrong.rc != 0
    assert "EAPOL test timed out" in wrong.stdout
    time.sleep(0.5)
    assert "Shared secret is incorrect" in server_log_since(start)
    right = AP.run(f"eapol_test -t 5 -c {WORK}/ttls.conf -a {address(DC)} -s {SECRET}")
    assert right.rc == 0 and right.stdout.rstrip().endswith("SUCCESS")


def test_unknown_client_gets_no_answer():
    # The server itself is not a client: only the school's access points are.
    start = server_log_lines()
    result = DC.run(f"echo 'User-Name = lea.martin' | radclient -r 1 -t 2 127.0.0.1 auth {SECRET}")
    assert result.rc != 0
    assert "Received" not in result.stdout
    assert "from unknown client 127.0.0.1" in server_log_since(start)


def test_non_eap_request_is_refused(passwords):
    result = AP.run(
        f'echo \'User-Name = lea.martin, User-Password = "{passwords["lea.martin"]}", '
        "Message-Authenticator = 0x00' "
        f"| radclient -x -r 1 -t 3 {address(DC)} auth {SECRET}"
    )
    assert "Access-Reject" in result.stdout
    assert "Access-Accept" not in result.stdout
