"""MAC addresses of the workstations: one written form everywhere (register, inventory, reports).

The register, the delivery import and the hardware reconciliation all compare MACs as text, so they
all go through `normalise_mac`: lowercase, colon-separated, two digits per byte (`aa:bb:cc:dd:ee:ff`).
"""

from __future__ import annotations

import re

import netaddr

# The written forms accepted: netaddr alone also reads "1" or "0x1" as a MAC (an integer), which in a
# register or a supplier's file is a typo, not the address 00:00:00:00:00:01.
_FORMS = re.compile(
    r"[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}|[0-9a-f]{1,2}(?:-[0-9a-f]{1,2}){5}"
    r"|[0-9a-f]{4}(?:\.[0-9a-f]{4}){2}|[0-9a-f]{12}",
    re.IGNORECASE,
)


class MacError(ValueError):
    """The text is not the MAC of a machine; the message says why, to follow `field: `."""


def normalise_mac(text: str) -> str:
    """`aa:bb:cc:dd:ee:ff` for any usual form of a unicast 48-bit MAC; MacError otherwise."""
    value = text.strip()
    if not _FORMS.fullmatch(value):
        raise MacError(f"{text!r} is not a MAC address (expected aa:bb:cc:dd:ee:ff)")
    eui = netaddr.EUI(value, version=48, dialect=netaddr.mac_unix_expanded)
    if int(eui) == 0:
        raise MacError(f"{text!r} is the all-zero MAC, which no network card has")
    # The group bit: a multicast or broadcast address is never a machine's own.
    if eui.words[0] & 1:
        raise MacError(f"{text!r} is a multicast MAC, not a network card's")
    return str(eui)
