"""Domain names and MAC addresses, normalised one way for the whole fleet.

`normalize_domain` is the rule of the blocklist mirror's cleaner and of the web filter's local
lists (roles/blocklist_mirror/files/blocklist_mirror.py and roles/web_filter/files/web_filter_update.py
hold copies of it today, kept equal by tests/unit/blocklist): lower case, IDN to punycode, no
trailing dot, scheme, path, port or "*." prefix, at least two labels (a lone TLD would block a
whole country); IP addresses are not names. Labels may start or end with "-" or hold "_" (real
lists do), never be longer than DNS allows.

`normalize_mac` gives the register's form of a MAC address (lower case, colons), refusing the
multicast and all-zero addresses that no machine's interface has.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re

MAX_LINE_BYTES = 1024
LOOSE_LABEL = re.compile(r"^[a-z0-9_-]{1,63}$")
# Reasons given by normalize_domain_reason.
OK, BLANK, IP, LONG, INVALID = "ok", "blank", "ip", "long", "invalid"


def normalize_domain_reason(raw: bytes | str) -> tuple[str | None, str]:
    """One list line -> (clean domain or None, reason): "ok", "blank", "ip", "long" or "invalid"."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_LINE_BYTES:
            return None, LONG
        text = raw.decode("utf-8", errors="replace")
    else:
        if len(raw.encode("utf-8", errors="replace")) > MAX_LINE_BYTES:
            return None, LONG
        text = raw
    text = text.split("#", 1)[0].strip().strip("\ufeff")
    if not text:
        return None, BLANK
    token = text.split()[0]
    if "://" in token:
        token = token.split("://", 1)[1]
    token = token.split("/", 1)[0]
    if token.startswith("["):
        token = token[1:].split("]", 1)[0]
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(token)
        return None, IP
    if token.count(":") == 1:
        token = token.split(":", 1)[0]
    token = token.lower().strip(".")
    while token.startswith("*."):
        token = token[2:]
    if not token:
        return None, INVALID
    if not token.isascii():
        try:
            token = token.encode("idna").decode("ascii")
        except UnicodeError:
            return None, INVALID
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(token)
        return None, IP
    labels = token.split(".")
    if len(token) > 253 or len(labels) < 2 or not all(LOOSE_LABEL.match(label) for label in labels):
        return None, INVALID
    return token, OK


def normalize_domain(raw: bytes | str) -> str | None:
    """One list line -> clean domain, or None when it holds none."""
    return normalize_domain_reason(raw)[0]


_MAC_SEPARATED = re.compile(r"^[0-9a-f]{1,2}([:-])(?:[0-9a-f]{1,2}\1){4}[0-9a-f]{1,2}$")
_MAC_DOTTED = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")
_MAC_BARE = re.compile(r"^[0-9a-f]{12}$")


def parse_mac(raw: str) -> str:
    """A MAC address in any usual form -> "aa:bb:cc:dd:ee:ff"; ValueError says what is wrong.

    Accepted: colons or hyphens (one- or two-digit groups), Cisco dots (aabb.ccdd.eeff), twelve
    bare hex digits. Refused: anything else, a multicast (group) address, all zeros.
    """
    if not isinstance(raw, str):
        raise ValueError("a MAC address must be a string")
    text = raw.strip().lower()
    if _MAC_SEPARATED.match(text):
        octets = [int(part, 16) for part in re.split(r"[:-]", text)]
    elif _MAC_DOTTED.match(text) or _MAC_BARE.match(text):
        digits = text.replace(".", "")
        octets = [int(digits[i : i + 2], 16) for i in range(0, 12, 2)]
    else:
        raise ValueError(f"not a MAC address: {raw!r}")
    if not any(octets):
        raise ValueError(f"all-zero MAC address: {raw!r}")
    if octets[0] & 1:
        raise ValueError(f"multicast MAC address (no machine's interface has one): {raw!r}")
    return ":".join(f"{octet:02x}" for octet in octets)


def normalize_mac(raw: str) -> str | None:
    """parse_mac, or None instead of the error."""
    try:
        return parse_mac(raw)
    except ValueError:
        return None
