"""network_deploy against a FakeNOS Cisco IOS device over SSH on 127.0.0.1: login, back-up of the
running configuration, a dry-run push that reports what it would send, the drift report."""

from __future__ import annotations

import json
from pathlib import Path

from fakenos_lab import PASSWORD, USER, ios_device
from network_helpers import HERE, run_playbook

RUNNING = HERE / "fixtures" / "running" / "ec-jaures-sw1.cfg"
SNMP_SECRET = "community-from-vault"


def _connection_vars(port: int, build_dir: Path) -> str:
    return json.dumps(
        {
            "network_build_dir": str(build_dir),
            "ansible_port": port,
            "ansible_user": USER,
            "ansible_password": PASSWORD,
            "ansible_network_os": "cisco.ios.ios",
            "ansible_become": True,
            "ansible_become_method": "ansible.netcommon.enable",
            "ansible_host_key_checking": False,
            "vault_network_snmp_community": SNMP_SECRET,
        }
    )


def test_dry_run_backs_up_and_reports_diff_and_drift(build_dir: Path) -> None:
    with ios_device("ec-jaures-sw1", RUNNING.read_text()) as port:
        result = run_playbook(
            "deploy.yml", "-l", "ec-jaures-sw1", "-e", _connection_vars(port, build_dir), "--check", "--diff"
        )
    out = result.stdout
    backups = list((build_dir / "backup").glob("ec-jaures-sw1_*.cfg"))
    assert len(backups) == 1
    assert "interface GigabitEthernet0/15\n description moved by hand" in backups[0].read_text()
    # What the push would send: the missing VLANs, the port moved by hand, the trunk.
    assert "- vlan 30" in out
    assert "- switchport trunk allowed vlan 10,20,30,99" in out
    assert "changed=" in out and "failed=0" in out
    assert SNMP_SECRET not in out + result.stderr
    report = (build_dir / "drift" / "ec-jaures-sw1.drift").read_text()
    assert report.startswith("# drift of ec-jaures-sw1: DRIFT")
    assert "  interface GigabitEthernet0/15 > switchport access vlan 20" in report
    assert (
        "  interface GigabitEthernet0/15 > switchport access vlan 10" in report.split("## on the device")[1]
    )
    assert "  ntp server 192.0.2.123" in report
    # Unmanaged lines (line vty, service ...) and secrets stay out of the report.
    assert "line vty" not in report and "$1$" not in report


def test_in_sync_device_reports_no_drift(build_dir: Path, tmp_path: Path) -> None:
    intended = (build_dir / "ec-jaures-rt1.cfg").read_text()
    # IOS never prints "no shutdown"; the device shows the rest as rendered.
    running = "\n".join(line for line in intended.splitlines() if line.strip() != "no shutdown")
    for name in ("ec-jaures-rt1.cfg",):
        (tmp_path / name).write_text(intended)
    with ios_device("ec-jaures-rt1", running + "\n") as port:
        result = run_playbook(
            "deploy.yml",
            "-l",
            "ec-jaures-rt1",
            "-e",
            _connection_vars(port, tmp_path),
            "-e",
            json.dumps({"network_deploy_push": False}),
        )
    report = (tmp_path / "drift" / "ec-jaures-rt1.drift").read_text()
    assert report.startswith("# drift of ec-jaures-rt1: in sync"), report
    assert "failed=0" in result.stdout


def test_unsupported_push_family_refused_before_connecting(build_dir: Path) -> None:
    # No device listens: the refusal must come before any connection attempt.
    result = run_playbook(
        "deploy.yml",
        "-l",
        "ec-curie-sw1",
        "-e",
        json.dumps(
            {"network_build_dir": str(build_dir), "ansible_network_os": "cisco.ios.ios", "ansible_port": 1}
        ),
        check=False,
    )
    assert result.returncode != 0
    assert 'ec-curie-sw1: cannot push to family "procurve"' in result.stdout
    assert not list((build_dir / "backup").glob("ec-curie-sw1_*"))
