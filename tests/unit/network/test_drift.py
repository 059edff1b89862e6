"""Drift between intended and running configuration."""

from __future__ import annotations

from schoolfleet.network.drift import config_paths, drift, push_commands, report

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


PROCURVE = """hostname "sw"
ip access-list extended "FROM-PEDAGOGY"
   permit ip 10.1.10.0 0.0.0.255 10.1.20.5 0.0.0.0
   deny ip 10.1.10.0 0.0.0.255 10.1.20.0 0.0.0.255
   permit ip 0.0.0.0 255.255.255.255 0.0.0.0 255.255.255.255
   exit
vlan 10
   name "pedagogy"
   untagged 1-4
   ip access-group "FROM-PEDAGOGY" in
   exit
"""


def test_procurve_access_list_sequence_numbers_are_not_drift() -> None:
    running = PROCURVE.replace("   permit ip 10", "   10 permit ip 10").replace("   deny", "   20 deny")
    running = running.replace("   permit ip 0.0", "   30 permit ip 0.0")
    assert "   10 permit ip 10.1.10.0" in running
    assert drift(PROCURVE, running)["in_sync"]
    assert push_commands(PROCURVE, running) == []
    # Outside an access list a leading number is content, not numbering.
    assert config_paths("vlan 10\n   10 permit x\n   exit\n")[1] == ("vlan 10", "10 permit x")


def test_push_commands_closes_every_context() -> None:
    running = 'hostname "sw"\nvlan 10\n   name "pupils"\n   exit\n'
    assert push_commands(PROCURVE, running)[-5:] == [
        "vlan 10",
        'name "pedagogy"',
        "untagged 1-4",
        'ip access-group "FROM-PEDAGOGY" in',
        "exit",
    ]
    full = push_commands(PROCURVE, "")
    assert full[0] == 'hostname "sw"' and full.count("exit") == 2 and full[-1] == "exit"


def test_push_commands_rewrites_an_access_list_with_a_missing_entry() -> None:
    # An entry appended after the final "permit any" would never match: the list is sent whole.
    running = PROCURVE.replace("   deny ip 10.1.10.0 0.0.0.255 10.1.20.0 0.0.0.255\n", "")
    assert push_commands(PROCURVE, running) == [
        'no ip access-list extended "FROM-PEDAGOGY"',
        'ip access-list extended "FROM-PEDAGOGY"',
        "permit ip 10.1.10.0 0.0.0.255 10.1.20.5 0.0.0.0",
        "deny ip 10.1.10.0 0.0.0.255 10.1.20.0 0.0.0.255",
        "permit ip 0.0.0.0 255.255.255.255 0.0.0.0 255.255.255.255",
        "exit",
    ]
    # A list the device lacks is created, with nothing to delete first.
    absent = push_commands(PROCURVE, 'hostname "sw"\n')
    assert absent[0] == 'ip access-list extended "FROM-PEDAGOGY"'


def test_push_commands_whole_blocks_and_negations() -> None:
    running = 'hostname "sw"\nvlan 10\n   name "pedagogy"\n   untagged 1-4\n   exit\n'
    running += PROCURVE.split("vlan 10")[0].split('hostname "sw"\n')[1]
    assert push_commands(PROCURVE, running) == ["vlan 10", 'ip access-group "FROM-PEDAGOGY" in', "exit"]
    assert push_commands(PROCURVE, running, whole_blocks=True) == [
        "vlan 10",
        'name "pedagogy"',
        "untagged 1-4",
        'ip access-group "FROM-PEDAGOGY" in',
        "exit",
    ]
    # IOS: "no shutdown" is sent only where the device shows "shutdown".
    intended = "interface Gi0/1\n description x\n no shutdown\n"
    assert push_commands(intended, "interface Gi0/1\n description x\n") == []
    assert push_commands(intended, "interface Gi0/1\n description x\n shutdown\n") == [
        "interface Gi0/1",
        "no shutdown",
        "exit",
    ]


def test_push_commands_carry_secrets_the_report_masks() -> None:
    intended = 'snmp-server community "new-secret" operator\n'
    running = 'snmp-server community "old-secret" operator\n'
    assert push_commands(intended, running) == ['snmp-server community "new-secret" operator']
    assert "new-secret" not in report("sw", drift(intended, running))
