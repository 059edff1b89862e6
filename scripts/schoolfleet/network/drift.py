"""Intended against running configuration of one device, for both Cisco IOS and ProCurve text.

Both families print a configuration as top-level lines with indented children (ProCurve closes its
contexts with "exit"). Lines are compared as paths (parent, child) so that a line moved inside its
block is not drift, and a child under the wrong parent is.

A running configuration holds many lines the templates never manage (boot, line vty, defaults
printed by the device). Reporting them all would bury real drift, so "extra" lines are reported
only where the intended configuration manages something: inside a block it renders, or at top
level when the line starts with a keyword pair the intended configuration uses ("ntp server",
"logging host", "vlan 30").
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

Path = tuple[str, ...]


def mask_secrets(line: str) -> str:
    for pattern in _SECRETS:
        match = pattern.match(line)
        if match:
            tail = match.group(3) if pattern.groups >= 3 else ""
            return f"{match.group(1)} {MASK}{tail}"
    return line


def config_paths(text: str) -> list[Path]:
    """Each configuration line as its path from the top level, in order, secrets masked."""
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
        stripped = mask_secrets(stripped)
        path = (*(s for _, s in stack), stripped)
        paths.append(path)
        stack.append((indent, stripped))
    return paths


def _keyword(line: str) -> str:
    return " ".join(line.split()[:2])


def drift(intended: str, running: str) -> dict[str, Any]:
    """Lines missing from the device and lines the device has beyond the intended configuration."""
    want = config_paths(intended)
    have = config_paths(running)
    want_set = set(want)
    have_set = set(have)
    managed_blocks = {p[:1] for p in want if len(p) > 1} | {p for p in want if len(p) == 1}
    managed_keywords = {_keyword(p[0]) for p in want if len(p) == 1}
    # IOS prints no "no shutdown": a negated line holds when its positive form is absent.
    missing = [
        p
        for p in want
        if p not in have_set and not (p[-1].startswith("no ") and (*p[:-1], p[-1][3:]) not in have_set)
    ]
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
