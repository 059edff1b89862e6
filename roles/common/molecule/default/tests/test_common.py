"""What the common role must really do on a server, checked from inside and from outside it."""

import socket

import pytest

SSH_OPTS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5"


def container_address(host) -> str:
    return host.check_output("hostname -I").split()[0]


def test_password_login_is_refused(host):
    # The server must not even offer password or keyboard-interactive authentication.
    result = host.run(
        f"ssh {SSH_OPTS} -o BatchMode=yes -o PubkeyAuthentication=no "
        "-o PreferredAuthentications=password,keyboard-interactive fleetadmin@127.0.0.1 true"
    )
    assert result.rc == 255
    assert "Permission denied (publickey)" in result.stderr


def test_key_login_works_and_admin_can_sudo(host):
    result = host.run(f"ssh {SSH_OPTS} -i /root/test_admin_key fleetadmin@127.0.0.1 sudo -n id -u")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_firewall_is_loaded_with_a_default_drop(host):
    ruleset = host.check_output("nft list chain inet schoolfleet input")
    assert "policy drop" in ruleset
    assert 'tcp dport 22 accept comment "ssh"' in ruleset
    assert 'ip saddr 10.0.0.0/8 tcp dport 9100 accept comment "monitoring"' in ruleset
    assert 'ip6 saddr fd00::/8 tcp dport 9100 accept comment "monitoring"' in ruleset


def test_firewall_blocks_an_unlisted_port_but_not_ssh(host):
    address = container_address(host)
    # The listener really runs: it answers on the loopback, which the firewall accepts.
    assert (
        host.run("python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080')\"").rc
        == 0
    )
    with socket.create_connection((address, 22), timeout=5) as conn:
        assert conn.recv(64).startswith(b"SSH-2.0")
    with pytest.raises(OSError), socket.create_connection((address, 8080), timeout=3):
        pass


def test_time_zone_is_paris(host):
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Europe/Paris"
    assert host.check_output("date +%Z") in {"CET", "CEST"}


def test_time_sync_points_at_the_configured_servers(host):
    config = host.check_output("systemd-analyze cat-config systemd/timesyncd.conf")
    assert "NTP=central.example.invalid" in config
    assert host.service("systemd-timesyncd").is_enabled


def test_journald_is_bounded(host):
    config = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert "SystemMaxUse=500M" in config
    assert host.service("systemd-journald").is_running
