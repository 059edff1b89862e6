"""Free text of the register that templates write into device and service configurations.

Names (schools, members, communes), the models and serials of the devices the fleet configures,
and the packs' text settings reach the inventory, and from there the IOS and ProCurve files of the
switches and routers (comments, SNMP location), the access points' UCI, the school server's
services (Samba, FreeRADIUS, nftables) and the workstations. A line break there adds a command of
its own (`username ... privilege 15` on every switch of a school); a quote closes a string. So such
text holds no line break or other control character, nor any character that breaks one of the
syntaxes it is rendered into (BREAKS). The packs' settings go through JSON only: control characters
alone are refused there. A device that is only billed (printers, projectors) keeps any printable
model: nothing renders it.

Each problem names the record's file and line and the field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from schoolfleet.register.errors import Problems
from schoolfleet.register.model import Authority, Member, MemberKind, Source

# What breaks each syntax, besides line breaks and control characters (which end a command or a
# line in all of them).
BREAKS: dict[str, str] = {
    # network_cli types each line at the prompt: '?' asks for help there instead.
    "IOS": "?",
    # Its strings are "..." with no escape; ';' starts a comment in its configuration files.
    "ProCurve": '";',
    # Values are quoted and comments escaped by the renderer (schoolfleet.wifi.uci).
    "UCI": "",
    # %-substitutions, and a trailing backslash continues the line.
    "smb.conf": "%\\",
    # "..." strings with backslash escapes, ${...} and %{...} expansions.
    "FreeRADIUS": '"\\$%{}',
    # Quoted comments; ';' ends a statement and braces a block.
    "nftables": '";{}',
}
FORBIDDEN = frozenset("".join(BREAKS.values()))


def control_problem(value: str) -> str | None:
    """Why the text cannot be written on one line of any configuration, or None."""
    for char in value:
        if unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp"):
            return f"{value!r} holds a line break or control character (U+{ord(char):04X})"
    return None


def config_problem(value: str) -> str | None:
    """Why the text cannot be rendered into every configuration syntax of BREAKS, or None."""
    if (problem := control_problem(value)) is not None:
        return problem
    for char in value:
        if char in FORBIDDEN:
            broken = [target for target, chars in BREAKS.items() if char in chars]
            listed = ", ".join(broken[:-1]) + " and " + broken[-1] if len(broken) > 1 else broken[0]
            return f"{value!r} holds {char!r}, which breaks the {listed} syntax it is rendered into"
    return None


def _texts(authority: Authority | None, members: list[Member]) -> Iterator[tuple[Source, str, str, bool]]:
    """(record, field, text, rendered into configurations) for every free text that reaches them."""
    if authority is not None:
        for server in authority.servers:
            yield server.source, "model", server.model, True
            yield server.source, "serial", server.serial, True
        for pack in authority.software_packs.values():
            for key, setting in pack.settings.items():
                if isinstance(setting, str):
                    yield pack.source, f"settings.{key}", setting, False
    for member in members:
        if member.kind is MemberKind.COMMUNE:
            yield member.source, "commune.name", member.name, True
        else:
            yield member.source, "sivos.name", member.name, True
            for index, commune in enumerate(member.communes):
                yield member.source, f"sivos.communes[{index}].name", commune.name, True
        for school in member.schools:
            yield school.source, "name", school.name, True
            for item in school.equipment:
                rendered = item.kind.managed or item.kind.workstation
                yield item.source, "model", item.model, rendered
                yield item.source, "serial", item.serial, rendered


def check_config_texts(authority: Authority | None, members: list[Member], problems: Problems) -> None:
    for source, field, value, rendered in _texts(authority, members):
        problem = config_problem(value) if rendered else control_problem(value)
        if problem is not None:
            problems.add(source.file, source.line, source.field(field), problem)
