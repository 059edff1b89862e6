"""A school server and a client: real DHCP, TFTP, HTTP and the hardware report between them."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

KNOWN_MAC = "52:54:00:19:00:0a"
# Registered too, never reported (no container has it).
UNREPORTED_MAC = "52:54:00:19:00:0c"
REPORTS = "/var/lib/schoolfleet/hwreport/reports"
UNKNOWN_MAC = "52:54:00:99:99:01"
RECORD = "/usr/local/bin/record-lease"
SCENARIO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(host):
    return host.get_host("podman://workstation-install-server")


@pytest.fixture(scope="module")
def net(server):
    """The scenario's subnet as "a.b.c." (podman chose it) and the server's address in it."""
    address = server.check_output("ip -4 -o addr show eth0").split()[3].split("/")[0]
    return address.rsplit(".", 1)[0] + ".", address


@pytest.fixture(scope="module")
def client(host):
    client = host.get_host("podman://workstation-install-client")
    # dhclient runs this instead of configuring the interface: the offer's fields land in a file.
    client.run_test(
        "printf '%s\\n' '#!/bin/sh' 'env | grep -E \"^(new_|reason=|interface=)\" | sort "
        "> /tmp/lease-$interface-$reason' > " + RECORD + " && chmod 0755 " + RECORD
    )
    return client


def lease(client, interface: str, conf: str = "") -> dict[str, str]:
    """One real DHCP exchange (DISCOVER, OFFER, REQUEST, ACK) on the interface; the ACK's fields."""
    client.run(f"rm -f /tmp/lease-{interface}-BOUND /tmp/{interface}.leases")
    client.run_test(f"printf '%s\\n' {shlex.quote(conf)} > /tmp/{interface}.conf")
    client.run_expect(
        [0],
        f"timeout 30 dhclient -1 -cf /tmp/{interface}.conf -sf {RECORD} -lf /tmp/{interface}.leases "
        f"-pf /tmp/{interface}.pid {interface}",
    )
    client.run(f"dhclient -x -pf /tmp/{interface}.pid")
    text = client.file(f"/tmp/lease-{interface}-BOUND").content_string
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_the_registered_mac_gets_its_reservation_and_the_options(client, net):
    prefix, server = net
    got = lease(client, "eth0")
    assert got["new_ip_address"] == prefix + "50"
    assert got["new_host_name"] == "ws-sf-000001"
    assert got["new_routers"] == prefix + "1"
    assert got["new_domain_name_servers"] == server
    assert got["new_domain_name"] == "molecule.ecoles.internal"


def test_an_unknown_mac_gets_a_pool_address_and_is_logged(client, server, net):
    client.run("ip link del mv0")
    client.run_test(f"ip link add link eth0 name mv0 address {UNKNOWN_MAC} type macvlan mode bridge")
    client.run_test("ip link set mv0 up")
    got = lease(client, "mv0")
    last = int(got["new_ip_address"].rsplit(".", 1)[1])
    assert got["new_ip_address"].startswith(net[0]) and 200 <= last <= 250
    log = server.file("/var/log/kea/kea-dhcp4-clients.log").content_string.splitlines()
    unknown = [line for line in log if UNKNOWN_MAC in line and "DHCP4_CLASS_ASSIGNED" in line]
    assert unknown and all(line.endswith("UNKNOWN") for line in unknown)
    allocated = f"lease {got['new_ip_address']} has been allocated"
    assert any(f"[hwtype=1 {UNKNOWN_MAC}]" in line and allocated in line for line in log)
    known = [line for line in log if KNOWN_MAC in line and "DHCP4_CLASS_ASSIGNED" in line]
    assert known and not any(line.endswith("UNKNOWN") for line in known)


@pytest.mark.parametrize(
    ("sent", "filename"),
    [
        ("send client-arch 0;", "undionly.kpxe"),
        ("send client-arch 7;", "snponly.efi"),
        ('send user-class "iPXE"; send client-arch 0;', "http://{server}/ipxe/boot.ipxe"),
    ],
    ids=["bios", "uefi", "ipxe"],
)
def test_boot_options_by_architecture_and_user_class(client, net, sent, filename):
    prefix, server = net
    conf = "option client-arch code 93 = unsigned integer 16; " + sent
    got = lease(client, "eth0", conf)
    assert got["new_ip_address"] == prefix + "50"
    assert got.get("new_filename", "").strip('"') == filename.format(server=server)
    if not filename.startswith("http"):
        assert got.get("new_next_server") == server


@pytest.mark.parametrize("name", ["undionly.kpxe", "snponly.efi", "ipxe.efi"])
def test_the_client_fetches_the_ipxe_binaries_over_tftp(client, server, net, name):
    server_ip = net[1]
    client.run_test(f"curl -sSf -o /tmp/{name} tftp://{server_ip}/{name}")
    fetched = client.check_output(f"sha256sum /tmp/{name}").split()[0]
    assert fetched == server.check_output(f"sha256sum /usr/lib/ipxe/{name}").split()[0]
    assert client.run(f"curl -sSf -o /dev/null tftp://{server_ip}/../etc/passwd").rc != 0


def http(client, server: str, path: str) -> tuple[int, str]:
    out = client.check_output(f"curl -s -o /tmp/body -w '%{{http_code}}' http://{server}{path}")
    return int(out), client.file("/tmp/body").content_string


def test_ipxe_script_asks_for_the_menu_of_its_own_mac(client, net):
    server_ip = net[1]
    status, body = http(client, server_ip, "/ipxe/boot.ipxe")
    assert status == 200 and body.startswith("#!ipxe")
    assert f"http://{server_ip}/ipxe/hosts/${{netX/mac:hexhyp}}.ipxe" in body


def test_the_registered_mac_gets_its_menu_with_the_install_by_default(client, net):
    server_ip = net[1]
    status, body = http(client, server_ip, "/ipxe/hosts/52-54-00-19-00-0c.ipxe")
    assert status == 200 and body.startswith("#!ipxe")
    assert "choose --default install" in body
    assert f"kernel http://{server_ip}/d-i/linux" in body
    assert f"url=http://{server_ip}/preseed/52-54-00-19-00-0c.cfg" in body
    assert "hostname=ws-sf-000003" in body
    # workstation_install_kernel_args (the converge's serial console) before "---".
    assert "netcfg/choose_interface=auto console=tty0 console=ttyS0,115200n8 --- quiet" in body
    for path in ("/d-i/linux", "/d-i/initrd.gz"):
        code = client.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' -I http://{server_ip}{path}")
        assert code == "200"


def test_an_unknown_mac_gets_only_the_message(client, net):
    server_ip = net[1]
    status, body = http(client, server_ip, "/ipxe/hosts/52-54-00-99-99-01.ipxe")
    assert status == 200 and body.startswith("#!ipxe")
    assert "pas enregistree" in body
    assert "kernel" not in body and "preseed" not in body
    assert http(client, server_ip, "/preseed/52-54-00-99-99-01.cfg")[0] == 404


def test_the_preseed_is_the_machines_own_and_passes_debconf(client, net):
    server_ip = net[1]
    status, body = http(client, server_ip, "/preseed/52-54-00-19-00-0a.cfg")
    assert status == 200
    for line in (
        "d-i netcfg/get_hostname string ws-sf-000001",
        "d-i debian-installer/locale string fr_FR.UTF-8",
        "d-i keyboard-configuration/xkb-keymap select fr",
        "d-i time/zone string Europe/Paris",
        f"d-i netcfg/get_nameservers string {server_ip}",
        f"d-i mirror/http/proxy string http://{server_ip}:3142/",
        "d-i pkgsel/include string openssh-server python3 sudo",
    ):
        assert line in body.splitlines()
    client.run_test("cp /tmp/body /tmp/preseed.cfg")
    client.run_expect([0], "debconf-set-selections --checkonly /tmp/preseed.cfg")
    # The check is not vacuous: a line without a type is refused.
    client.run_test("printf 'd-i netcfg/get_hostname\\n' > /tmp/broken.cfg")
    assert client.run("debconf-set-selections --checkonly /tmp/broken.cfg").rc != 0


def test_the_late_command_installs_the_key_and_the_report_sender(client, net):
    server_ip = net[1]
    status, body = http(client, server_ip, "/install/late-command.sh")
    assert status == 200
    assert "admin@molecule" in body and "schoolfleet-hwreport.service" in body
    assert f"SCHOOLFLEET_HWREPORT_SERVER=http://%s:%s\\n' {server_ip} 8099" in body
    # The first report, before the reboot at the end of the install (its menu then boots the disk).
    assert f"schoolfleet-hwreport send --server http://{server_ip}:8099 --attempts 3" in body
    client.run_test("sh -n /tmp/body")


def test_the_school_cache_serves_debian(client, net):
    server_ip = net[1]
    out = client.check_output(
        f"curl -s -o /dev/null -w '%{{http_code}}' -x http://{server_ip}:3142 "
        "http://deb.debian.org/debian/dists/bookworm/Release"
    )
    assert out == "200"


def test_the_prefetch_timer_waits_for_the_maintenance_window(server):
    assert server.service("workstation-install-prefetch.timer").is_enabled
    assert server.service("workstation-install-prefetch.timer").is_running
    unit = server.file("/etc/systemd/system/workstation-install-prefetch.service").content_string
    assert "ExecCondition=/usr/local/lib/schoolfleet/maintenance-window" in unit
    server.run_test("sh -n /usr/local/sbin/workstation-install-prefetch")


def test_a_hardware_report_reaches_the_server(client, server, net):
    server_ip = net[1]
    client.run_expect([0], f"schoolfleet-hwreport send --server http://{server_ip}:8099 --attempts 2")
    index = json.loads(server.file("/var/lib/schoolfleet/hwreport/index.json").content_string)
    report = index["reports"][KNOWN_MAC]
    assert report["mac"] == KNOWN_MAC
    assert report["from"] == client.check_output("ip -4 -o addr show eth0").split()[3].split("/")[0]


def test_the_web_server_configuration_is_valid(server):
    server.run_expect([0], "nginx -t")


def test_once_reported_the_machine_boots_its_disk_by_default(client, server, net):
    """The end of the install reports; from then on the menu's default is local (no reinstall loop)."""
    server_ip = net[1]
    menu = "/ipxe/hosts/52-54-00-19-00-0a.ipxe"
    # What an admin does to ask for a reinstall: remove the machine's report file.
    server.run_test(f"rm -f {REPORTS}/52-54-00-19-00-0a.json")
    status, body = http(client, server_ip, menu)
    assert status == 200 and "choose --default install" in body
    # What late-command.sh does in the installed system before its reboot.
    client.run_expect([0], f"schoolfleet-hwreport send --server http://{server_ip}:8099 --attempts 2")
    assert server.file(f"{REPORTS}/52-54-00-19-00-0a.json").is_file
    status, body = http(client, server_ip, menu)
    assert status == 200 and body.startswith("#!ipxe")
    assert "choose --default local" in body and "(installee)" in body
    # The install is still there for a person at the PC.
    assert "item install " in body and f"kernel http://{server_ip}/d-i/linux" in body
    assert "hostname=ws-sf-000001" in body
    # The registered machine that never reported keeps the install as default.
    status, body = http(client, server_ip, "/ipxe/hosts/52-54-00-19-00-0c.ipxe")
    assert status == 200 and "choose --default install" in body
    # A report from a MAC the register does not know gives it no menu (still the message).
    server.run_test(f"echo '{{}}' > {REPORTS}/52-54-00-99-99-02.json")
    try:
        body = http(client, server_ip, "/ipxe/hosts/52-54-00-99-99-02.ipxe")[1]
        assert "pas enregistree" in body and "kernel" not in body
    finally:
        server.run(f"rm -f {REPORTS}/52-54-00-99-99-02.json")


def test_the_prefetch_fills_the_cache_with_both_boot_loaders(server):
    """One resolution per boot loader (grub-pc and grub-efi-amd64 conflict): the service exits 0."""
    unit = "workstation-install-prefetch.service"
    dropin = f"/run/systemd/system/{unit}.d"
    # Outside the maintenance window the guard would skip the run: the test lifts it (ExecCondition=).
    server.run_test(f"mkdir -p {dropin} && printf '[Service]\\nExecCondition=\\n' > {dropin}/test.conf")
    server.run_test("systemctl daemon-reload")
    try:
        run = server.run(f"timeout 1500 systemctl start {unit}")
        shown = server.check_output(f"systemctl show -p Result -p ExecMainStatus {unit}")
        invocation = server.check_output(f"systemctl show -p InvocationID --value {unit}")
        log = server.run(f"journalctl _SYSTEMD_INVOCATION_ID={invocation} --no-pager -o cat").stdout
        assert run.rc == 0, log
    finally:
        server.run(f"rm -rf {dropin} && systemctl daemon-reload")
    assert "Result=success" in shown and "ExecMainStatus=0" in shown, log
    assert "bios: done" in log and "uefi: done" in log
    for package in ("grub-pc", "grub-efi-amd64"):
        found = server.check_output(f"find /var/cache/apt-cacher-ng -name '{package}_*_amd64.deb' -size +1k")
        assert found.strip(), f"no {package} .deb in the school's cache"
    # The prefetch's own copies are gone (apt-cacher-ng keeps the packages).
    left = server.check_output("find /var/lib/workstation-install/prefetch/archives -name '*.deb'")
    assert not left.strip()


def test_a_reservation_outside_the_reserved_range_is_refused_before_any_change(server, net):
    before = server.check_output("sha256sum /etc/kea/kea-dhcp4.conf")
    playbook = str(SCENARIO / "bad_reservation.yml")
    run = subprocess.run(
        ["ansible-playbook", "-i", "workstation-install-server,", "-c", "containers.podman.podman", playbook],
        env={**os.environ, "ANSIBLE_ROLES_PATH": str(SCENARIO.parents[2])},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert f"ws-sf-000002 (52:54:00:19:00:0b, {net[0]}220)" in run.stdout + run.stderr
    assert "outside the reserved range of its subnet" in run.stdout + run.stderr + run.stderr
    assert server.check_output("sha256sum /etc/kea/kea-dhcp4.conf") == before
