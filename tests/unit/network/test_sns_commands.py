"""SNS CLI commands: parsing, and the commands a push sends for a given appliance state."""

from __future__ import annotations

import pytest

from schoolfleet.network import sns
from schoolfleet.network.plan import PlanError, router_plan

HOST = "CONFIG OBJECT HOST NEW name=sf_h_1 ip=10.0.0.1 resolve=static"
RULES = [
    "CONFIG FILTER RULE INSERT index=9 type=filter position=1 action=pass srctarget=a dsttarget=b",
    "CONFIG FILTER RULE INSERT index=9 type=filter position=2 action=pass srctarget=any dsttarget=any",
]


def test_a_command_keeps_its_words_and_tokens_in_order_and_quotes_spaces() -> None:
    command = sns.parse_command('CONFIG SNMP SYSTEM location="Ecole Jaures" contact=it')
    assert command.words == "CONFIG SNMP SYSTEM"
    assert command.tokens == (("location", "Ecole Jaures"), ("contact", "it"))
    assert str(command) == 'CONFIG SNMP SYSTEM location="Ecole Jaures" contact=it'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "CONFIG OBJECT HOST REMOVEALL",
            "'CONFIG OBJECT HOST REMOVEALL' is not a command the SNS push knows",
        ),
        ("CONFIG OBJECT HOST NEW ip=10.0.0.1", "CONFIG OBJECT HOST NEW needs name="),
        ("CONFIG OBJECT HOST NEW name=x oops", "'oops' is neither a command word nor a token=value"),
        ('CONFIG SNMP SYSTEM location="open', "No closing quotation"),
    ],
)
def test_a_line_the_push_could_not_diff_is_refused(text: str, message: str) -> None:
    with pytest.raises(sns.SnsError, match=message):
        sns.parse_config(f"# a comment\n{text}\n")


def test_only_missing_or_changed_items_are_sent_then_their_section_activated() -> None:
    intended = sns.parse_config(f"{HOST}\nCONFIG NTP SERVER ADD name=sf_h_1\nCONFIG NTP STATE state=1\n")
    running = {
        "CONFIG OBJECT LIST type=host": [
            {"name": "sf_h_1", "ip": "10.0.0.1", "resolve": "static", "comment": ""}
        ],
        "CONFIG NTP SERVER LIST": [],
        "CONFIG NTP SHOW": [{"state": "1"}],
    }
    assert sns.push_commands(intended, running) == [
        "CONFIG NTP SERVER ADD name=sf_h_1",
        "CONFIG NTP ACTIVATE",
    ]
    running["CONFIG NTP SERVER LIST"] = [{"name": "sf_h_1"}]
    assert sns.push_commands(intended, running) == []
    running["CONFIG OBJECT LIST type=host"][0]["ip"] = "10.0.0.9"
    assert sns.push_commands(intended, running) == [f"{HOST} update=1", "CONFIG OBJECT ACTIVATE"]


def test_a_filter_slot_with_any_difference_is_written_whole() -> None:
    intended = sns.parse_config("\n".join(RULES))
    same = [dict(command.tokens) for command in intended]
    show = "CONFIG FILTER SHOW index=9 type=filter"
    assert sns.push_commands(intended, {show: same}) == []
    reordered = [
        same[1] | {"position": "1"},
        same[0] | {"position": "2"},
        {"position": "3", "action": "block"},
    ]
    assert sns.push_commands(intended, {show: reordered}) == [
        "CONFIG FILTER RULE REMOVE index=9 type=filter position=3",
        "CONFIG FILTER RULE REMOVE index=9 type=filter position=2",
        "CONFIG FILTER RULE REMOVE index=9 type=filter position=1",
        *RULES,
        "CONFIG FILTER ACTIVATE",
    ]


def test_the_running_text_shows_the_appliances_extra_items_whole() -> None:
    intended = sns.parse_config(f"{HOST}\n")
    running = {
        "CONFIG OBJECT LIST type=host": [
            {"name": "sf_h_1", "ip": "10.0.0.1", "resolve": "static", "comment": "printed by the box"},
            {"name": "other", "ip": "10.9.9.9"},
        ]
    }
    assert sns.running_text(intended, running) == f"{HOST}\nCONFIG OBJECT HOST NEW ip=10.9.9.9 name=other\n"


def test_the_router_plan_refuses_a_bad_admin_source() -> None:
    with pytest.raises(PlanError, match="rt1: admin source 'the office' is not an IPv4 network"):
        router_plan(
            "rt1", "sns", {"management": {"vlan": 99, "cidr": "10.0.99.0/24", "gateway": "10.0.99.1"}},
            "10.0.99.1", trunk_interface="in", dhcp_servers=[], deny=[], ntp_servers=["10.0.0.10"],
            admin_sources=["the office"],
        )  # fmt: skip
