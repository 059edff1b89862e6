"""network_deploy against FakeNOS devices over SSH on 127.0.0.1, Cisco IOS (cisco.ios plugins) and
HP ProCurve (the project's procurve plugins): login, back-up of the running configuration, a dry-run
push that reports what it would send, the drift report; refusal of a family with no push path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakenos_lab import PASSWORD, USER, device, ios_device
from network_helpers import HERE, run_playbook

from schoolfleet import fleet

RUNNING = HERE / "fixtures" / "running" / "ec-jaures-sw1.cfg"
PROCURVE_RUNNING = HERE / "fixtures" / "running" / "ec-jaures-sw2.cfg"
SNMP_SECRET = "community-from-vault"


# The fleet command can run any playbook under Mitogen's strategy (fleet --mitogen): the network
# plays must give the same result with it, through the network_cli connections it leaves to Ansible.
STRATEGIES = pytest.mark.parametrize("strategy_env", [{}, fleet.mitogen_envvars()], ids=["linear", "mitogen"])


def _connection_vars(port: int, build_dir: Path, network_os: str = "cisco.ios.ios") -> str:
    return json.dumps(
        {
            "network_build_dir": str(build_dir),
            "ansible_port": port,
            "ansible_user": USER,
            "ansible_password": PASSWORD,
            "ansible_network_os": network_os,
            "ansible_become": True,
            "ansible_become_method": "ansible.netcommon.enable",
            "ansible_host_key_checking": False,
            "vault_network_snmp_community": SNMP_SECRET,
        }
    )


def _device_as_host_vars(
    directory: Path, host: str, port: int, network_os: str = "cisco.ios.ios"
) -> list[str]:
    """`-l host -i file` with the connection variables as the device's host vars, where production has
    them: extra vars would also reach the controller the role delegates to, with the device's `become`."""
    inventory = directory / "device-inventory.yml"
    connection = json.loads(_connection_vars(port, directory, network_os))
    inventory.write_text(json.dumps({"all": {"hosts": {host: connection}}}))
    return ["-l", host, "-i", str(inventory)]


@STRATEGIES
def test_dry_run_backs_up_and_reports_diff_and_drift(
    build_dir: Path, tmp_path: Path, strategy_env: dict[str, str]
) -> None:
    (tmp_path / "ec-jaures-sw1.cfg").write_text((build_dir / "ec-jaures-sw1.cfg").read_text())
    with ios_device("ec-jaures-sw1", RUNNING.read_text()) as port:
        result = run_playbook(
            "deploy.yml",
            *_device_as_host_vars(tmp_path, "ec-jaures-sw1", port),
            "--check",
            "--diff",
            extra_env=strategy_env,
        )
    out = result.stdout
    backups = list((tmp_path / "backup").glob("ec-jaures-sw1_*.cfg"))
    assert len(backups) == 1
    assert "interface GigabitEthernet0/15\n description moved by hand" in backups[0].read_text()
    # What the push would send: the missing VLANs, the port moved by hand, the trunk.
    assert "- vlan 30" in out
    assert "- switchport trunk allowed vlan 10,20,30,99" in out
    assert "changed=" in out and "failed=0" in out
    assert SNMP_SECRET not in out + result.stderr
    report = (tmp_path / "drift" / "ec-jaures-sw1.drift").read_text()
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


def _task(stdout: str, task: str) -> str:
    """The output of one task of the role."""
    return stdout.split(f"TASK [network_deploy : {task}]", 1)[1].split("TASK [", 1)[0]


def _commands(stdout: str, task: str) -> list[str]:
    """The list a debug task printed (callback_result_format = yaml: "msg:" then "- item" lines)."""
    items = _task(stdout, task).split("msg:", 1)[1].splitlines()
    return [line.strip()[2:].strip("'") for line in items if line.strip().startswith("- ")]


def test_procurve_dry_run_backs_up_and_reports_diff_and_drift(build_dir: Path) -> None:
    with device("ec-jaures-sw2", PROCURVE_RUNNING.read_text(), "procurve") as port:
        result = run_playbook(
            "deploy.yml",
            "-l",
            "ec-jaures-sw2",
            "-e",
            _connection_vars(port, build_dir, "procurve"),
            "--check",
            "--diff",
        )
    out = result.stdout
    assert "failed=0" in out
    # Back-up: the device's own text, VT100 repaint sequences stripped by the terminal plugin.
    backups = list((build_dir / "backup").glob("ec-jaures-sw2_*.cfg"))
    assert len(backups) == 1
    backup = backups[0].read_text()
    assert "   untagged 1-4,6\n" in backup and 'snmp-server community "public" operator' in backup
    assert "\x1b" not in backup
    # What the push would send: port 6 back to administration, the missing Wi-Fi VLAN, each
    # context closed; nothing else (the stray NTP server is drift, not something to add).
    expected = ["vlan 10", "untagged 1-4", "exit", "vlan 20", "untagged 6", "exit"]
    expected += ["vlan 30", 'name "wifi"', "untagged 5", "tagged 8", "exit"]
    assert _commands(out, "Show the commands the push sends") == expected
    # --diff prints the same commands under the push task, which reports a change it did not make.
    push = _task(out, "Push the intended configuration")
    assert "\n".join(expected) in push and "changed: [ec-jaures-sw2]" in push
    # The device's community differs from Vault's: it would be sent, and never shown.
    assert "changed: [ec-jaures-sw2]" in _task(out, "Apply the SNMP community from Vault")
    assert SNMP_SECRET not in out + result.stderr
    assert "skipping: [ec-jaures-sw2]" in _task(
        out, "Save the running configuration to the startup configuration"
    )
    report = (build_dir / "drift" / "ec-jaures-sw2.drift").read_text()
    assert report.startswith("# drift of ec-jaures-sw2: DRIFT")
    missing, extra = report.split("## on the device")
    assert "  vlan 20 > untagged 6" in missing and '  vlan 30 > name "wifi"' in missing
    assert "  vlan 10 > untagged 1-4,6" in extra and "  ntp server 192.0.2.123 iburst" in extra
    # Unmanaged lines (the default VLAN, module, password) and the community stay out of it.
    assert "vlan 1 " not in report and "DEFAULT_VLAN" not in report and "module" not in report
    assert "public" not in report


@STRATEGIES
def test_procurve_push_goes_through_configuration_contexts(
    build_dir: Path, tmp_path: Path, strategy_env: dict[str, str]
) -> None:
    # FakeNOS has no configuration mode: procurve_config_shell gives this device AOS-S's context
    # prompts and records what reaches them. It applies nothing, so the drift stays.
    (tmp_path / "ec-jaures-sw2.cfg").write_text((build_dir / "ec-jaures-sw2.cfg").read_text())
    sent: list[str] = []
    with device("ec-jaures-sw2", PROCURVE_RUNNING.read_text(), "procurve", config_log=sent) as port:
        result = run_playbook(
            "deploy.yml",
            *_device_as_host_vars(tmp_path, "ec-jaures-sw2", port, "procurve"),
            extra_env=strategy_env,
        )
    out = result.stdout
    assert "failed=0" in out
    push = ["vlan 10", "untagged 1-4", "exit", "vlan 20", "untagged 6", "exit"]
    push += ["vlan 30", 'name "wifi"', "untagged 5", "tagged 8", "exit"]
    snmp = f'snmp-server community "{SNMP_SECRET}" operator'
    assert sent == [
        "configure terminal",
        *push,
        "end",
        "configure terminal",
        snmp,
        "end",
        "write memory",
    ]
    assert "changed: [ec-jaures-sw2]" in _task(
        out, "Save the running configuration to the startup configuration"
    )
    assert SNMP_SECRET not in out + result.stderr
    # Backed up before anything was sent; read again afterwards for the drift report.
    assert len(list((tmp_path / "backup").glob("ec-jaures-sw2_*.cfg"))) == 1
    assert (
        (tmp_path / "drift" / "ec-jaures-sw2.drift").read_text().startswith("# drift of ec-jaures-sw2: DRIFT")
    )


def _procurve_device_view(intended: str) -> str:
    """The running configuration an AOS-S router holding exactly `intended` prints: no comments,
    access-list entries numbered, plus lines such a device has that nobody renders, and Vault's
    SNMP community."""
    lines = ["module 1 type j9776a", f'snmp-server community "{SNMP_SECRET}" operator']
    sequence = 0
    for line in intended.splitlines():
        if line.startswith(";"):
            continue
        if line.startswith("ip access-list"):
            sequence = 0
        if line.startswith("   permit") or line.startswith("   deny"):
            sequence += 10
            line = f"   {sequence} {line.strip()}"
        lines.append(line)
    lines += ["vlan 1", '   name "DEFAULT_VLAN"', "   untagged 1-23", "   exit", "password manager"]
    return "\n".join(lines) + "\n"


def test_procurve_in_sync_device_sends_nothing(build_dir: Path, tmp_path: Path) -> None:
    intended = (build_dir / "ec-curie-rt1.cfg").read_text()
    (tmp_path / "ec-curie-rt1.cfg").write_text(intended)
    running = _procurve_device_view(intended)
    assert "   10 permit ip 10.42.10.0" in running
    with device("ec-curie-rt1", running, "procurve") as port:
        result = run_playbook(
            "deploy.yml",
            "-l",
            "ec-curie-rt1",
            "-e",
            _connection_vars(port, tmp_path, "procurve"),
            "--check",
            "--diff",
        )
    report = (tmp_path / "drift" / "ec-curie-rt1.drift").read_text()
    assert report.startswith("# drift of ec-curie-rt1: in sync"), report
    assert "failed=0" in result.stdout
    # Nothing to send: the push task is "ok" and shows no commands, the device already has Vault's
    # SNMP community, nothing is saved.
    assert "ok: [ec-curie-rt1]" in _task(result.stdout, "Push the intended configuration")
    assert "ok: [ec-curie-rt1]" in _task(result.stdout, "Apply the SNMP community from Vault")
    assert SNMP_SECRET not in result.stdout + report
    assert "skipping: [ec-curie-rt1]" in _task(result.stdout, "Show the commands the push sends")
    assert "skipping: [ec-curie-rt1]" in _task(
        result.stdout, "Save the running configuration to the startup configuration"
    )


def test_unsupported_push_family_refused_before_connecting(build_dir: Path) -> None:
    # No device listens: the refusal must come before any connection attempt.
    result = run_playbook(
        "deploy.yml",
        "-l",
        "ec-curie-sw1",
        "-e",
        json.dumps(
            {
                "network_build_dir": str(build_dir),
                "fleet_device_family": "comware",
                "ansible_network_os": "procurve",
                "ansible_port": 1,
            }
        ),
        check=False,
    )
    assert result.returncode != 0
    assert 'ec-curie-sw1: cannot push to family "comware"' in result.stdout
    assert "ec-curie-sw1.cfg" in result.stdout
    assert not list((build_dir / "backup").glob("ec-curie-sw1_*"))


def test_family_reached_with_another_network_os_refused_before_connecting(build_dir: Path) -> None:
    # A ProCurve switch driven by the IOS plugins would get IOS commands: refused, nothing sent.
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
    assert '(ansible_network_os "cisco.ios.ios")' in result.stdout
    assert not list((build_dir / "backup").glob("ec-curie-sw1_*"))


def test_the_devices_own_secrets_stay_out_of_verbose_output(build_dir: Path, tmp_path: Path) -> None:
    # `show running-config` holds the device's SNMP community: its result must be hidden even at -v,
    # where a registered command's output is printed (and always kept in the job events).
    (tmp_path / "ec-jaures-sw1.cfg").write_text((build_dir / "ec-jaures-sw1.cfg").read_text())
    with ios_device("ec-jaures-sw1", RUNNING.read_text()) as port:
        result = run_playbook(
            "deploy.yml", *_device_as_host_vars(tmp_path, "ec-jaures-sw1", port), "--check", "-v"
        )
    assert "labcommunity" in RUNNING.read_text()
    assert "failed=0" in result.stdout
    assert "labcommunity" not in result.stdout + result.stderr
