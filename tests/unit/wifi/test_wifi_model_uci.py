"""The access-point model's checks, and the UCI comparison the push relies on."""

from __future__ import annotations

from typing import Any

import pytest

from schoolfleet.wifi import uci
from schoolfleet.wifi.model import WifiError, access_point_from_dict, build_access_point
from schoolfleet.wifi.renderers import FAMILIES, RENDERERS
from schoolfleet.wifi.renderers.openwrt import OWNERSHIP, render_packages

PLAN = {
    "pedagogy": {"vlan": 10, "cidr": "10.128.4.0/24", "gateway": "10.128.4.1", "dhcp_start": "10.128.4.32"},
    "wifi": {"vlan": 30, "cidr": "10.128.5.0/24", "gateway": "10.128.5.1", "dhcp_start": "10.128.5.32"},
    "administration": {"vlan": 20, "cidr": "10.128.6.0/25", "gateway": "10.128.6.1"},
    "management": {"vlan": 99, "cidr": "10.128.7.0/26", "gateway": "10.128.7.1"},
}
SSIDS = [
    {"id": "pupils", "ssid": "ecole-eleves", "population": "pupils", "vlan": "wifi",
     "security": "wpa2-enterprise"},
    {"id": "teachers", "ssid": "ecole-enseignants", "population": "teachers", "vlan": "pedagogy",
     "security": "wpa3-mixed-enterprise"},
]  # fmt: skip


def build(**changes: Any) -> Any:
    args: dict[str, Any] = {
        "family": "openwrt", "families": FAMILIES, "school": {"uai": "0910001G"}, "network": PLAN,
        "address": "10.128.7.31", "wifi_option": True, "unit": 1, "model": "Aruba AP-303", "uplink": "lan",
        "radios": [{"name": "radio0", "band": "2g"}, {"name": "radio1", "band": "5g"}],
        "ssids": SSIDS, "radius_server": "10.128.7.2", "dns": ["10.128.7.2"],
    }  # fmt: skip
    args.update(changes)
    return build_access_point("0910001g-ap1", **args)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"wifi_option": False}, "wifi option: school 0910001G belongs to a member without the Wi-Fi option"),
        ({"family": "unifi"}, "family: unsupported access-point family 'unifi'"),
        ({"network": {k: v for k, v in PLAN.items() if k != "wifi"}},
         "ssids[0].vlan (ecole-eleves): VLAN 'wifi' is not in the plan of school 0910001G"),
        ({"network": {}}, "fleet_network: the school's VLAN plan (fleet_network) is missing or empty"),
        ({"address": "10.128.4.31"}, "fleet_address 10.128.4.31 is not a free host of the management VLAN"),
        ({"ssids": [{**SSIDS[0], "security": "wpa2-psk", "key": "k"}]},
         "ssids[0].security: pupils authenticate with their school account (802.1X)"),
        ({"ssids": [{**SSIDS[0], "vlan": "management"}]},
         "ssids[0].vlan: no SSID may bridge into the management"),
        ({"ssids": [SSIDS[0], {**SSIDS[1], "ssid": "ecole-eleves"}]},
         "ssids[1].ssid 'ecole-eleves' is broadcast twice"),
        ({"ssids": [{**SSIDS[0], "ssid": "it's"}]}, "ssids[0].ssid \"it's\" must be 1-32 letters"),
        ({"radius_server": ""}, "radius server: school 0910001G has no school server address"),
        ({"radios": []}, "radios: at least one radio is needed"),
        ({"radios": [{"name": "radio0", "band": "5g", "channel": 100}]},
         "radios[0].channel 100 is not one of the 5g channels without radar detection"),
        ({"radios": [{"name": "radio0", "band": "6g"}]}, "radios[0].band '6g' must be one of 2g, 5g"),
        ({"ssids": [{**SSIDS[0], "bands": ["5g"]}], "radios": [{"name": "radio0", "band": "2g"}]},
         "ssids[0].bands: the access point has no radio on 5g"),
        ({"unit": None}, "unit (fleet_asset.unit) must be an integer"),
    ],
)  # fmt: skip
def test_bad_input_names_the_access_point_and_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(WifiError) as error:
        build(**changes)
    assert str(error.value).startswith("0910001g-ap1: ")
    assert message in str(error.value)


def test_the_model_survives_ansible_round_trips() -> None:
    ap = build()
    assert access_point_from_dict(ap.as_dict()) == ap


def test_channels_follow_the_unit() -> None:
    channels = [tuple(r.channel for r in build(unit=unit).radios) for unit in range(1, 6)]
    assert channels == [(1, 36), (6, 40), (11, 44), (1, 48), (6, 36)]
    wide = build(radios=[{"name": "radio1", "band": "5g", "width": 40}], unit=2).radios[0]
    assert (wide.channel, wide.width) == (44, 40)


# What a freshly flashed OpenWrt access point holds (trimmed): a stock LAN bridge and an open SSID.
STOCK = """
package network

config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config device
	option name 'br-lan'
	option type 'bridge'
	list ports 'lan'

config interface 'lan'
	option device 'br-lan'
	option proto 'static'
	option ipaddr '192.168.1.1'
	option netmask '255.255.255.0'
	option ip6assign '60'

package wireless

config wifi-device 'radio0'
	option type 'mac80211'
	option path 'platform/soc/a000000.wifi'
	option channel '1'
	option band '2g'
	option htmode 'HT20'
	option disabled '1'

config wifi-device 'radio1'
	option type 'mac80211'
	option path 'platform/soc/a800000.wifi'
	option channel '36'
	option band '5g'
	option htmode 'VHT80'
	option disabled '1'

config wifi-iface 'default_radio0'
	option device 'radio0'
	option network 'lan'
	option mode 'ap'
	option ssid 'OpenWrt'
	option encryption 'none'
"""


def test_push_converges_and_leaves_what_it_does_not_own() -> None:
    packages, _ = render_packages(build())
    device = uci.parse(STOCK)
    commands = []
    for package in packages:
        commands += uci.batch(package, device[package.name], OWNERSHIP[package.name])
    assert "delete wireless.default_radio0" in commands
    assert "delete network.@device[0]" in commands
    assert "delete network.lan.ip6assign" in commands
    after = uci.apply(device, commands)
    # Idempotent: nothing left to do once applied.
    for package in packages:
        assert uci.batch(package, after[package.name], OWNERSHIP[package.name]) == []
    # The hardware options and the schedule's `disabled` are untouched; the loopback too.
    radio = after["wireless"].named("radio0")
    assert radio is not None
    assert (radio.options["path"], radio.options["disabled"], radio.options["channel"]) == (
        "platform/soc/a000000.wifi", "1", "1",
    )  # fmt: skip
    assert after["network"].named("loopback") == device["network"].named("loopback")
    assert after["network"].named("lan").options["ipaddr"] == "10.128.7.31"  # type: ignore[union-attr]


def test_a_secret_changed_on_the_device_is_seen_only_when_secrets_are_compared() -> None:
    packages, _ = render_packages(build())
    wireless = packages[1]
    for section in wireless.sections:
        if section.type == "wifi-iface":
            section.options["auth_secret"] = "the-new-secret-of-the-school"
    device = uci.apply({"wireless": wireless}, [])
    device["wireless"].named("sf_pupils_radio0").options["auth_secret"] = "old-secret"  # type: ignore[union-attr]
    assert uci.batch(wireless, device["wireless"], OWNERSHIP["wireless"]) == [
        "set wireless.sf_pupils_radio0.auth_secret='the-new-secret-of-the-school'"
    ]
    masked = uci.masked(device["wireless"], ["auth_secret"])
    assert "old-secret" not in uci.dump([masked])


def test_a_radio_the_device_lacks_is_an_error() -> None:
    packages, _ = render_packages(build(radios=[{"name": "radio2", "band": "5g"}]))
    with pytest.raises(uci.UciError, match=r"wireless.radio2 \(wifi-device\) does not exist on the device"):
        uci.batch(packages[1], uci.parse(STOCK)["wireless"], OWNERSHIP["wireless"])


def test_uci_quoting_reads_like_uci_export() -> None:
    text = "package p\n\nconfig t 'n'\n\toption a 'it'\\''s'\n\tlist l 'x y'\n\tlist l 'z'\n# note\n"
    section = uci.parse(text)["p"].sections[0]
    assert section.options == {"a": "it's", "l": ["x y", "z"]}
    assert uci.parse(uci.dump(uci.parse(text).values()))["p"].sections[0].options == section.options
    with pytest.raises(uci.UciError, match="line 2: option outside a config section"):
        uci.parse("package p\noption a 'b'\n")


def test_the_rendered_file_has_no_secret_and_names_every_section() -> None:
    text = RENDERERS["openwrt"].render(build())
    assert "secret'" not in text
    assert all(s.name for p in uci.parse(text).values() for s in p.sections)


@pytest.mark.parametrize(
    "model",
    [
        "Aruba AP-303\nconfig wifi-iface 'sf_open'\n\toption ssid 'open'\n\toption encryption 'none'",
        "Aruba AP-303\rconfig wifi-iface 'sf_open'",
        "Aruba AP-303\u2028config wifi-iface 'sf_open'",
        "Aruba \"AP-303\"; reboot; 'x'",
    ],
    ids=["newline", "carriage-return", "line-separator", "quotes-and-semicolons"],
)
def test_the_header_comment_keeps_a_hostile_model_inside_it(model: str) -> None:
    # The model comes from the register (fleet_asset.model) and is written in the header comment.
    clean = RENDERERS["openwrt"].render(build())
    text = RENDERERS["openwrt"].render(build(model=model))
    lines = text.split("\n")
    assert all(line.startswith("# ") for line in lines[:3]) and lines[3] == "package network"
    assert text.split("\n", 1)[1] == clean.split("\n", 1)[1]
    # uci itself splits lines on \n only; our reader on every line break: both see the same file.
    assert "\r" not in text and "\u2028" not in text
    assert uci.parse(text).keys() == uci.parse(clean).keys()
    for name, package in uci.parse(text).items():
        assert package.sections == uci.parse(clean)[name].sections
