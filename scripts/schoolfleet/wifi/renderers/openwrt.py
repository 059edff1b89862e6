"""OpenWrt access points: the model as UCI configuration (packages `network` and `wireless`).

Layout on the device (OpenWrt 21.02 and later, DSA bridge VLANs):
- one bridge `br-trunk` on the uplink port, every VLAN tagged on it (`bridge-vlan` sections);
- the management address on `br-trunk.<management id>` in the stock interface `lan`, which OpenWrt's
  tools expect to exist;
- one interface `sf_v<id>` (proto none: the access point has no address there) per VLAN an SSID
  bridges into; netifd puts each wireless interface untagged into its VLAN;
- per SSID and radio a `wifi-iface` `sf_<ssid id>_<radio>`: WPA2/WPA3-Enterprise against the
  school server's RADIUS, or a passphrase for a guest/device SSID.

The secrets (RADIUS shared secret, passphrases) are not in the rendered text: `secret_slots` says
where they go, and the push task (no_log) fills them in on the device.
"""

from __future__ import annotations

from schoolfleet.wifi.model import AccessPoint, Radio, Ssid
from schoolfleet.wifi.uci import Ownership, Package, Section, dump

FAMILY = "openwrt"
BRIDGE = "br-trunk"
SECRET_OPTIONS = ("auth_secret", "acct_secret", "key")

# The controller owns every bridge, bridge VLAN and wireless interface of the access point (an AP
# has one uplink and nothing else to bridge), the management interface `lan` and what it names
# `sf_*`; it tunes the radios the device detected but leaves their `disabled` to the schedule.
OWNERSHIP = {
    "network": Ownership(types=frozenset({"device", "bridge-vlan"}), names=frozenset({"lan"}), prefix="sf_"),
    "wireless": Ownership(
        types=frozenset({"wifi-iface"}),
        prefix="sf_",
        ignored={"wifi-device": frozenset({"disabled"})},
    ),
}

# OpenWrt's `encryption` values and the management frame protection each needs (802.11w: 1
# optional, for the WPA2 clients of a mixed network; 2 required by WPA3 alone).
ENCRYPTION = {
    "wpa2-enterprise": ("wpa2+ccmp", "1"),
    "wpa3-mixed-enterprise": ("wpa3-mixed", "1"),
    "wpa3-enterprise": ("wpa3", "2"),
    "wpa2-psk": ("psk2+ccmp", "1"),
    "wpa3-mixed-psk": ("sae-mixed", "1"),
}


def _htmode(radio: Radio) -> str:
    return f"{'HT' if radio.band == '2g' else 'VHT'}{radio.width}"


def iface_name(ssid: Ssid, radio: str) -> str:
    return f"sf_{ssid.id}_{radio}"


def network_name(vlan_id: int) -> str:
    return f"sf_v{vlan_id}"


def render_packages(ap: AccessPoint) -> tuple[list[Package], dict[str, str]]:
    """The two packages and a comment per section (what a reviewer reads above it)."""
    comments: dict[str, str] = {}
    network = Package("network")
    network.sections.append(
        Section("device", "sf_trunk", {"type": "bridge", "name": BRIDGE, "ports": [ap.uplink]})
    )
    comments["network.sf_trunk"] = f"The uplink to the school switch ({ap.uplink}): every VLAN tagged"
    for vlan in ap.vlans():
        section = f"sf_vlan{vlan.id}"
        network.sections.append(
            Section(
                "bridge-vlan",
                section,
                {"device": BRIDGE, "vlan": str(vlan.id), "ports": [f"{ap.uplink}:t"]},
            )
        )
        comments[f"network.{section}"] = f"VLAN {vlan.id}: {vlan.name} ({vlan.cidr})"
    mgmt = ap.management
    lan: dict[str, str | list[str]] = {
        "device": f"{BRIDGE}.{mgmt.vlan.id}",
        "proto": "static",
        "ipaddr": mgmt.address,
        "netmask": mgmt.netmask,
        "gateway": mgmt.gateway,
    }
    if mgmt.dns:
        lan["dns"] = list(mgmt.dns)
    network.sections.append(Section("interface", "lan", lan))
    comments["network.lan"] = f"Management address in VLAN {mgmt.vlan.id} ({mgmt.vlan.name})"
    for vlan in ap.vlans()[1:]:
        section = network_name(vlan.id)
        network.sections.append(
            Section("interface", section, {"device": f"{BRIDGE}.{vlan.id}", "proto": "none"})
        )
        users = ", ".join(s.ssid for s in ap.ssids if s.vlan.id == vlan.id)
        comments[f"network.{section}"] = f"{vlan.name} VLAN {vlan.id}, no address of its own: {users}"

    wireless = Package("wireless")
    for radio in ap.radios:
        options: dict[str, str | list[str]] = {
            "country": ap.country,
            "channel": str(radio.channel),
            "htmode": _htmode(radio),
        }
        if radio.txpower is not None:
            options["txpower"] = str(radio.txpower)
        wireless.sections.append(Section("wifi-device", radio.name, options))
        comments[f"wireless.{radio.name}"] = (
            f"{radio.band} radio, channel {radio.channel}, {radio.width} MHz. Its `disabled` belongs to "
            "the legal schedule (wifi_schedule), not to this file"
        )
    for ssid in ap.ssids:
        encryption, mfp = ENCRYPTION[ssid.security]
        for radio_name in ssid.radios:
            options = {
                "device": radio_name,
                "mode": "ap",
                "network": network_name(ssid.vlan.id),
                "ssid": ssid.ssid,
                "encryption": encryption,
                "ieee80211w": mfp,
            }
            if ssid.hidden:
                options["hidden"] = "1"
            if ssid.isolate:
                options["isolate"] = "1"
            if ssid.enterprise and ap.radius is not None:
                options["auth_server"] = ap.radius.server
                options["auth_port"] = str(ap.radius.auth_port)
                if ap.radius.acct_port is not None:
                    options["acct_server"] = ap.radius.server
                    options["acct_port"] = str(ap.radius.acct_port)
                # NAS-Identifier: the RADIUS log names the access point.
                options["nasid"] = ap.host
            section = iface_name(ssid, radio_name)
            wireless.sections.append(Section("wifi-iface", section, options))
            secret = (
                "auth_secret/acct_secret: the school's RADIUS secret"
                if ssid.enterprise
                else f"key: the passphrase {ssid.secret!r}"
            )
            comments[f"wireless.{section}"] = (
                f"{ssid.population}: {ssid.ssid} -> VLAN {ssid.vlan.id} ({ssid.vlan.name}), {ssid.security}\n"
                f"{secret}, from Vault, set on the device by a no_log task"
            )
    return [network, wireless], comments


def comment_text(text: str) -> str:
    """Text for a one-line comment: a line break or other unprintable character is written escaped.

    The model comes from the register: a line break in it would end the comment and start
    configuration of its own.
    """
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def render(ap: AccessPoint) -> str:
    packages, comments = render_packages(ap)
    about = comment_text(f"{ap.host}: {ap.model}, school {ap.school}")
    header = [
        f"# {about}. Rendered by the wifi_ap role from the register;",
        "# pushed with `uci batch` by the wifi_ap role, which manages only what this file names (and",
        "# deletes other bridges, bridge VLANs and wireless interfaces). Secrets are not in this file.",
        "",
    ]
    return "\n".join(header) + dump(packages, comments)


def secret_slots(ap: AccessPoint) -> list[dict[str, str]]:
    """Where each secret goes: {"package", "section", "option", "secret"} (the secret's name only)."""
    slots = []
    for ssid in ap.ssids:
        for radio in ssid.radios:
            section = iface_name(ssid, radio)
            if ssid.enterprise:
                slots.append(
                    {"package": "wireless", "section": section, "option": "auth_secret", "secret": "radius"}
                )
                if ap.radius is not None and ap.radius.acct_port is not None:
                    slots.append(
                        {
                            "package": "wireless",
                            "section": section,
                            "option": "acct_secret",
                            "secret": "radius",
                        }
                    )
            else:
                slots.append(
                    {"package": "wireless", "section": section, "option": "key", "secret": ssid.secret}
                )
    return slots
