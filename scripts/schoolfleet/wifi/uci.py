"""OpenWrt's UCI configuration: read `uci export` text, write it, and turn a difference into `uci batch`.

The access points have no Python: the controller reads the device's configuration with
`uci export PACKAGE`, compares it here with the rendered file, and sends only the commands that
close the gap (`uci batch` on standard input). No command means nothing to do: the second run
reports no change, and `--check --diff` shows exactly the commands and the resulting sections.

Ownership keeps the controller's hands off what it does not manage: per package, the section types
it owns outright (every section of that type not in the rendered file is deleted), the names it owns
(the same, by name or prefix), and the options it leaves alone (the radios' `disabled`, which the
legal schedule drives).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

OptionValue = str | list[str]


class UciError(ValueError):
    """Text that is not UCI configuration, or a command this module cannot apply."""


@dataclass
class Section:
    type: str
    # None for an anonymous section (`config device` without a name).
    name: str | None
    options: dict[str, OptionValue] = field(default_factory=dict)


@dataclass
class Package:
    name: str
    sections: list[Section] = field(default_factory=list)

    def named(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)


@dataclass(frozen=True)
class Ownership:
    """What the controller manages in one package (see the module docstring)."""

    types: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    prefix: str | None = None
    # Options never compared nor deleted, per section type.
    ignored: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def owns(self, section: Section) -> bool:
        if section.type in self.types:
            return True
        if section.name is None:
            return False
        return section.name in self.names or bool(self.prefix and section.name.startswith(self.prefix))

    def ignores(self, section: Section, option: str) -> bool:
        return option in self.ignored.get(section.type, frozenset())


def parse(text: str) -> dict[str, Package]:
    """Packages from `uci export` text (one or several `package` blocks) or from an /etc/config file.

    Quoting follows the shell's rules, as uci writes them: 'it'\\''s' is "it's".
    """
    packages: dict[str, Package] = {}
    current: Package | None = None
    section: Section | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as error:
            raise UciError(f"line {number}: {error}: {line!r}") from None
        if not words:
            continue
        keyword, args = words[0], words[1:]
        if keyword == "package":
            if len(args) != 1:
                raise UciError(f"line {number}: package takes one name: {line!r}")
            current = packages.setdefault(args[0], Package(args[0]))
            section = None
        elif keyword == "config":
            if current is None:
                raise UciError(f"line {number}: config before any package")
            if len(args) not in (1, 2):
                raise UciError(f"line {number}: config takes a type and an optional name: {line!r}")
            section = Section(args[0], args[1] if len(args) == 2 else None)
            if section.name is not None and current.named(section.name) is not None:
                raise UciError(f"line {number}: section {section.name!r} is defined twice")
            current.sections.append(section)
        elif keyword in ("option", "list"):
            if section is None:
                raise UciError(f"line {number}: {keyword} outside a config section")
            if len(args) != 2:
                raise UciError(f"line {number}: {keyword} takes a name and a value: {line!r}")
            name, value = args
            if keyword == "option":
                section.options[name] = value
            else:
                existing = section.options.get(name)
                if isinstance(existing, str):
                    raise UciError(f"line {number}: {name!r} is both an option and a list")
                section.options[name] = [*(existing or []), value]
        else:
            raise UciError(f"line {number}: unknown keyword {keyword!r}")
    return packages


def quote(value: str) -> str:
    """Single quotes, as `uci export` writes them."""
    if "\n" in value or "\r" in value:
        raise UciError(f"a UCI value cannot hold a line break: {value!r}")
    return "'" + value.replace("'", "'\\''") + "'"


def dump(packages: Iterable[Package], comments: Mapping[str, str] | None = None) -> str:
    """`uci export` text; `comments` maps "package.section" to a comment line written above it."""
    comments = comments or {}
    lines: list[str] = []
    for package in packages:
        lines += [f"package {package.name}", ""]
        for section in package.sections:
            note = comments.get(f"{package.name}.{section.name}")
            if note:
                lines += [f"# {line}" for line in note.splitlines()]
            head = f"config {section.type}" + ("" if section.name is None else f" {quote(section.name)}")
            lines.append(head)
            for option, value in section.options.items():
                if isinstance(value, list):
                    lines += [f"\tlist {option} {quote(item)}" for item in value]
                else:
                    lines.append(f"\toption {option} {quote(value)}")
            lines.append("")
    return "\n".join(lines)


def _ref(package: str, section: Section, index: int) -> str:
    return f"{package}.{section.name}" if section.name else f"{package}.@{section.type}[{index}]"


def batch(
    desired: Package,
    current: Package | None,
    ownership: Ownership,
) -> list[str]:
    """`uci batch` commands that turn `current` into `desired` where the controller owns things.

    Deletions of anonymous sections come last-to-first so the @type[n] indexes stay valid.
    """
    name = desired.name
    commands: list[str] = []
    have = current or Package(name)
    wanted = {s.name for s in desired.sections}
    if None in wanted:
        raise UciError(f"{name}: the rendered configuration must name every section")
    doomed: list[str] = []
    counters: dict[str, int] = {}
    for section in have.sections:
        index = counters.get(section.type, 0)
        counters[section.type] = index + 1
        if section.name not in wanted and ownership.owns(section):
            doomed.append(_ref(name, section, index))
    commands += [f"delete {ref}" for ref in reversed(doomed)]
    for section in desired.sections:
        ref = f"{name}.{section.name}"
        existing = have.named(str(section.name))
        exclusive = ownership.owns(section)
        if existing is not None and existing.type != section.type:
            commands.append(f"delete {ref}")
            existing = None
        if existing is None:
            if not exclusive:
                # A section the controller only tunes (a radio) must come from the device itself.
                raise UciError(f"{ref} ({section.type}) does not exist on the device")
            commands.append(f"set {ref}={section.type}")
            existing = Section(section.type, section.name)
        for option, value in section.options.items():
            if ownership.ignores(section, option):
                continue
            before = existing.options.get(option)
            if before == value:
                continue
            if isinstance(value, list):
                if before is not None:
                    commands.append(f"delete {ref}.{option}")
                commands += [f"add_list {ref}.{option}={quote(item)}" for item in value]
            else:
                commands.append(f"set {ref}.{option}={quote(value)}")
        if exclusive:
            for option in existing.options:
                if option not in section.options and not ownership.ignores(section, option):
                    commands.append(f"delete {ref}.{option}")
    return commands


def apply(packages: Mapping[str, Package], commands: Iterable[str]) -> dict[str, Package]:
    """What `uci batch` would leave, computed here: the "after" of a diff, and a check of `batch`."""
    result = {
        key: Package(p.name, [Section(s.type, s.name, _copy(s.options)) for s in p.sections])
        for key, p in packages.items()
    }
    for command in commands:
        verb, _, rest = command.partition(" ")
        target, _, raw = rest.partition("=")
        value = shlex.split(raw)[0] if raw else None
        parts = target.split(".")
        package = result.setdefault(parts[0], Package(parts[0]))
        section = _find(package, parts[1]) if len(parts) > 1 else None
        if verb == "set" and len(parts) == 2 and value is not None:
            if section is None:
                package.sections.append(Section(value, parts[1]))
            else:
                section.type = value
        elif verb == "set" and len(parts) == 3 and section is not None and value is not None:
            section.options[parts[2]] = value
        elif verb == "add_list" and len(parts) == 3 and section is not None and value is not None:
            existing = section.options.get(parts[2])
            section.options[parts[2]] = [*(existing if isinstance(existing, list) else []), value]
        elif verb == "delete" and len(parts) == 2 and section is not None:
            package.sections.remove(section)
        elif verb == "delete" and len(parts) == 3 and section is not None:
            section.options.pop(parts[2], None)
        else:
            raise UciError(f"cannot apply {command!r}")
    return result


def _copy(options: Mapping[str, OptionValue]) -> dict[str, OptionValue]:
    return {k: list(v) if isinstance(v, list) else v for k, v in options.items()}


def _find(package: Package, ref: str) -> Section | None:
    if ref.startswith("@") and ref.endswith("]"):
        kind, _, index = ref[1:-1].partition("[")
        matching = [s for s in package.sections if s.type == kind]
        position = int(index)
        return matching[position] if -len(matching) <= position < len(matching) else None
    return package.named(ref)


def masked(package: Package, secret_options: Iterable[str]) -> Package:
    """A copy with the values of secret options replaced, for diffs and logs."""
    hidden = set(secret_options)
    return Package(
        package.name,
        [
            Section(
                s.type,
                s.name,
                {k: ("********" if k in hidden else v) for k, v in _copy(s.options).items()},
            )
            for s in package.sections
        ],
    )


def owned_view(package: Package, desired: Package, ownership: Ownership) -> Package:
    """The sections of `package` a diff should show: the owned ones and those the rendering names."""
    names = {s.name for s in desired.sections}
    shown = []
    for section in package.sections:
        if not (ownership.owns(section) or section.name in names):
            continue
        options = {k: v for k, v in _copy(section.options).items() if not ownership.ignores(section, k)}
        if not ownership.owns(section):
            # A merged section (a radio): only the options the rendering sets are the controller's.
            target = desired.named(str(section.name))
            options = {k: v for k, v in options.items() if target is not None and k in target.options}
        shown.append(Section(section.type, section.name, options))
    return Package(package.name, shown)
