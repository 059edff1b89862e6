"""Intended against running configuration of one device, for both Cisco IOS and ProCurve text.

Both families print a configuration as top-level lines with indented children (ProCurve closes its
contexts with "exit"). Lines are compared as paths (parent, child) so that a line moved inside its
block is not drift, and a child under the wrong parent is.

A running configuration holds many lines the templates never manage (boot, line vty, defaults
printed by the device). Reporting them all would bury real drift, so "extra" lines are reported
only where the intended configuration manages something: inside a block it renders, or at top
level when the line starts with a keyword pair the intended configuration uses ("ntp server",
"logging host", "vlan 30").

The same comparison gives the commands a push sends (push_commands): the missing lines, each under
its parents, every context closed with "exit" so that no command lands in the wrong context
(ProCurve's "vlan 10 ... exit", IOS's sub-modes alike). Entries of an access list are order
sensitive: a missing entry appended after the final "permit any" would never match, so an access
list with anything missing is deleted and sent whole, in the intended order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SKIP = re.compile(
    r"^(!.*|exit|end|Building configuration.*|Current configuration.*|; .*|Running configuration:)$"
)
# Lines carrying secrets are compared without their value: the report is written to disk.
_SECRETS = (
    re.compile(r"^(snmp-server community) (\"[^\"]*\"|\S+)(.*)$"),
    re.compile(r"^(enable secret|username \S+ (?:privilege \d+ )?(?:secret|password)) .*$"),
)
MASK = "<secret>"
# AOS-S prints the entries of a named access list with their sequence number ("10 permit ip ...");
# the rendered files leave numbering to the device.
_ACL_HEAD = re.compile(r"^ip access-list ")
_ACL_SEQUENCE = re.compile(r"^\d+ (?=(permit|deny|remark) )")
CLOSE = "exit"

Path = tuple[str, ...]


def mask_secrets(line: str) -> str:
    for pattern in _SECRETS:
        match = pattern.match(line)
        if match:
            tail = match.group(3) if pattern.groups >= 3 else ""
            return f"{match.group(1)} {MASK}{tail}"
    return line


def config_paths(text: str, *, mask: bool = True) -> list[Path]:
    """Each configuration line as its path from the top level, in order, secrets masked (unless
    mask is False: the commands of a push need the real lines)."""
    paths: list[Path] = []
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or _SKIP.match(stripped):
            if stripped == "exit":
                stack.clear()
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if mask:
            stripped = mask_secrets(stripped)
        if stack and _ACL_HEAD.match(stack[0][1]):
            stripped = _ACL_SEQUENCE.sub("", stripped)
        path = (*(s for _, s in stack), stripped)
        paths.append(path)
        stack.append((indent, stripped))
    return paths


def _keyword(line: str) -> str:
    return " ".join(line.split()[:2])


def _missing(want: list[Path], have: list[Path]) -> list[Path]:
    have_set = set(have)
    # IOS prints no "no shutdown": a negated line holds when its positive form is absent.
    return [
        p
        for p in want
        if p not in have_set and not (p[-1].startswith("no ") and (*p[:-1], p[-1][3:]) not in have_set)
    ]


def drift(intended: str, running: str) -> dict[str, Any]:
    """Lines missing from the device and lines the device has beyond the intended configuration."""
    want = config_paths(intended)
    have = config_paths(running)
    want_set = set(want)
    managed_blocks = {p[:1] for p in want if len(p) > 1} | {p for p in want if len(p) == 1}
    managed_keywords = {_keyword(p[0]) for p in want if len(p) == 1}
    missing = _missing(want, have)
    extra = [
        p
        for p in have
        if p not in want_set
        and ((len(p) > 1 and p[:1] in managed_blocks) or (len(p) == 1 and _keyword(p[0]) in managed_keywords))
    ]
    return {
        "in_sync": not missing and not extra,
        "missing": [" > ".join(p) for p in missing],
        "extra": [" > ".join(p) for p in extra],
    }


def push_commands(intended: str, running: str, *, whole_blocks: bool = False) -> list[str]:
    """Configuration-mode commands that give the device every line of intended it lacks.

    A merge, like ios_config's: lines only the device has stay (the drift report shows them).
    whole_blocks sends every line of a top-level block when anything in it is missing (cli_config's
    diff_replace=block); an access list is always sent whole, after deleting the device's. An empty
    running configuration gives the whole intended configuration.
    """
    # Unmasked: a secret that differs from the device's (a new SNMP community) must be sent.
    want = config_paths(intended, mask=False)
    have = config_paths(running, mask=False)
    missing = set(_missing(want, have))
    missing_at = {index for index, path in enumerate(want) if path in missing}
    heads = {p[:-1] for p in want if len(p) > 1}
    incomplete = {want[i][0] for i in missing_at}
    replaced = {h for h in incomplete if _ACL_HEAD.match(h)}
    # Deleted just before it is sent again: the window without the list stays as short as it can.
    deleted = {h for h in replaced if (h,) in set(have)}
    commands: list[str] = []
    opened: list[str] = []
    for index, path in enumerate(want):
        top = path[0]
        send = index in missing_at or top in replaced or (whole_blocks and top in incomplete)
        if not send:
            continue
        # A block's head line is sent when the block is entered, below.
        line: str | None
        if path in heads:
            parents, line = path, None
        else:
            parents, line = path[:-1], path[-1]
        while opened and tuple(opened) != parents[: len(opened)]:
            opened.pop()
            commands.append(CLOSE)
        for parent in parents[len(opened) :]:
            if not opened and parent in deleted:
                commands.append(f"no {parent}")
            opened.append(parent)
            commands.append(parent)
        if line is not None:
            commands.append(line)
    commands.extend(CLOSE for _ in opened)
    return commands


def report(device: str, result: dict[str, Any]) -> str:
    """The drift of one device as text for a reviewer."""
    lines = [f"# drift of {device}: {'in sync' if result['in_sync'] else 'DRIFT'}"]
    sections: Iterable[tuple[str, str]] = (
        ("missing", "intended, absent from the device"),
        ("extra", "on the device, not intended"),
    )
    for key, title in sections:
        lines.append(f"## {title} ({len(result[key])})")
        lines.extend(f"  {item}" for item in result[key])
    return "\n".join(lines) + "\n"
