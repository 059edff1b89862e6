"""Drift between intended and running configuration."""

from __future__ import annotations

from schoolfleet.network.drift import config_paths, drift, report

INTENDED = """hostname sw
vlan 10
 name pedagogy
interface Gi0/1
 switchport access vlan 10
 no shutdown
ntp server 10.0.0.1
"""


def test_in_sync_ignores_unmanaged_lines_and_absent_no_shutdown() -> None:
    running = (
        "Building configuration...\n!\nversion 15\n"
        + INTENDED.replace(" no shutdown\n", "")
        + "line vty 0 4\n"
    )
    assert drift(INTENDED, running) == {"in_sync": True, "missing": [], "extra": []}


def test_reports_missing_extra_and_wrong_parent() -> None:
    running = "hostname sw\nvlan 10\n name pupils\ninterface Gi0/1\n switchport access vlan 20\n shutdown\n"
    running += "ntp server 10.0.0.1\nntp server 192.0.2.1\n"
    result = drift(INTENDED, running)
    assert result["missing"] == [
        "vlan 10 > name pedagogy",
        "interface Gi0/1 > switchport access vlan 10",
        "interface Gi0/1 > no shutdown",
    ]
    assert result["extra"] == [
        "vlan 10 > name pupils",
        "interface Gi0/1 > switchport access vlan 20",
        "interface Gi0/1 > shutdown",
        "ntp server 192.0.2.1",
    ]
    assert "DRIFT" in report("sw", result)


def test_procurve_contexts_and_secrets() -> None:
    text = 'vlan 10\n   name "p"\n   untagged 1-4\n   exit\nsnmp-server community "public" operator\n'
    assert config_paths(text) == [
        ("vlan 10",),
        ("vlan 10", 'name "p"'),
        ("vlan 10", "untagged 1-4"),
        ("snmp-server community <secret> operator",),
    ]
    assert "s3cret" not in str(
        config_paths("snmp-server community s3cret RO SNMP-RO\nenable secret 5 s3cret\n")
    )
