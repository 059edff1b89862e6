"""Typed reading of YAML nodes that keeps each value's line, for error messages.

The register is composed (not loaded) with libyaml and no implicit typing: every scalar stays the text
the sysadmin wrote, and this module decides what it means from the field it sits in. So `insee: 01001`
stays "01001" (YAML 1.1 would read an octal number), and every problem can name its line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from schoolfleet.register.errors import Problems

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_INTEGER = re.compile(r"[0-9]+\Z")


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Composer(yaml.CBaseLoader):  # type: ignore[misc]
    """libyaml's parser, with no tag resolution at all: every scalar is text, and typing is ours.

    The resolver hooks run in Python for every node; the base ones cost as much as the parsing.
    """

    def descend_resolver(self, current_node: object, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type[yaml.Node], value: object, implicit: object) -> str:
        if kind is yaml.ScalarNode:
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


def compose_file(path: Path, display: str, problems: Problems) -> yaml.Node | None:
    """The file's node tree, or None (with a problem recorded) when it cannot be read or parsed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.add(display, 0, "", f"cannot read the file: {exc.strerror}")
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # libyaml would report a byte offset; the sysadmin needs the line and the likely cause.
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("cp1252")
            guess = "; looks like Windows-1252 (save it as UTF-8)"
        except UnicodeDecodeError:
            guess = ""
        problems.add(display, line, "", f"not UTF-8{guess}: byte 0x{data[exc.start]:02x} on this line")
        return None
    composer = _Composer(data)
    try:
        node: yaml.Node | None = composer.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problems.add(display, line, "", f"YAML syntax error: {exc.problem or exc.context}")
        return None
    except yaml.YAMLError as exc:
        problems.add(display, 0, "", f"YAML error: {exc}")
        return None
    finally:
        composer.dispose()
    if node is None or _is_null(node):
        problems.add(display, 0, "", "the file is empty")
        return None
    return node


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class Fields:
    """The fields of one YAML mapping, read by name with their type checked.

    Every getter records a problem and returns None when the value is missing or wrong, so the caller
    carries on and the whole file is checked in one run.
    """

    __slots__ = ("_keys", "_values", "file", "line", "path", "problems")

    def __init__(self, node: yaml.Node, file: str, path: str, problems: Problems) -> None:
        self.file = file
        self.path = path
        self.problems = problems
        self.line = line_of(node)
        self._values: dict[str, yaml.Node] = {}
        self._keys: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.problem(key, "", "a field name must be plain text")
                continue
            name = key.value
            if name in self._values:
                self.problem(key, name, f"duplicate field (first at line {line_of(self._keys[name])})")
                continue
            self._keys[name] = key
            self._values[name] = value

    @classmethod
    def of(cls, node: yaml.Node, file: str, path: str, problems: Problems, what: str) -> Fields | None:
        if not isinstance(node, yaml.MappingNode):
            problems.add(file, line_of(node), path, f"expected {what} (a mapping of fields)")
            return None
        return cls(node, file, path, problems)

    def field_path(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path and name else self.path or name

    def problem(self, node: yaml.Node | None, name: str, message: str) -> None:
        line = line_of(node) if node is not None else self.line
        self.problems.add(self.file, line, self.field_path(name), message)

    def check(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        """Unknown fields are errors: a misspelt optional field would otherwise be silently ignored."""
        for name in required:
            if name not in self._values:
                self.problem(None, name, "missing field")
        allowed = set(required) | set(optional)
        for name, key in self._keys.items():
            if name not in allowed:
                hint = ", ".join(sorted(allowed))
                self.problem(key, name, f"unknown field (expected one of: {hint})")

    def has(self, name: str) -> bool:
        node = self._values.get(name)
        return node is not None and not _is_null(node)

    def node(self, name: str) -> yaml.Node | None:
        return self._values.get(name)

    def names(self) -> Iterator[str]:
        return iter(self._values)

    def key_line(self, name: str) -> int:
        """The line a field's name is written on (its value may start on the next one)."""
        key = self._keys.get(name)
        return line_of(key) if key is not None else self.line

    def value_line(self, name: str) -> int:
        node = self._values.get(name)
        return line_of(node) if node is not None else self.line

    def _scalar(self, name: str, required: bool, what: str) -> yaml.ScalarNode | None:
        node = self._values.get(name)
        if node is None or _is_null(node):
            if required and node is not None:
                self.problem(node, name, f"must not be empty (expected {what})")
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, name, f"expected {what}, not a {_kind(node)}")
            return None
        return node

    def text(self, name: str, *, required: bool = True, pattern: re.Pattern[str] | None = None,
             what: str = "text") -> str | None:  # fmt: skip
        node = self._scalar(name, required, what)
        if node is None:
            return None
        value = str(node.value).strip()
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(node, name, f"{value!r} is not {what}")
            return None
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int = 0) -> int | None:
        node = self._scalar(name, required, "a whole number")
        if node is None:
            return None
        if node.style or not _INTEGER.match(node.value):
            self.problem(node, name, f"{node.value!r} is not a whole number")
            return None
        value = int(node.value)
        if value < minimum:
            self.problem(node, name, f"{value} is below the minimum {minimum}")
            return None
        return value

    def date(self, name: str, *, required: bool = True) -> dt.date | None:
        node = self._scalar(name, required, "a date (YYYY-MM-DD)")
        if node is None:
            return None
        try:
            return dt.date.fromisoformat(node.value) if len(node.value) == 10 else _bad_date()
        except ValueError:
            self.problem(node, name, f"{node.value!r} is not a date (expected YYYY-MM-DD)")
            return None

    def boolean(self, name: str, *, default: bool) -> bool:
        node = self._values.get(name)
        if node is None or _is_null(node):
            return default
        if isinstance(node, yaml.ScalarNode) and not node.style and node.value in ("true", "false"):
            return bool(node.value == "true")
        self.problem(node, name, "expected true or false")
        return default

    def mapping(self, name: str, what: str, *, required: bool = True) -> Fields | None:
        node = self._values.get(name)
        if node is None or _is_null(node):
            # An absent field is reported once, by check(); an empty one here.
            if required and node is not None:
                self.problem(node, name, f"must not be empty (expected {what})")
            return None
        return Fields.of(node, self.file, self.field_path(name), self.problems, what)

    def items(self, name: str, what: str, *, required: bool = True) -> list[tuple[str, yaml.Node]]:
        """The entries of a list field, each with its field path."""
        node = self._values.get(name)
        if node is None or _is_null(node):
            if required and node is not None:
                self.problem(node, name, f"must not be empty (expected a list of {what})")
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, name, f"expected a list of {what}, not a {_kind(node)}")
            return []
        base = self.field_path(name)
        return [(f"{base}[{index}]", item) for index, item in enumerate(node.value)]

    def texts(self, name: str, *, required: bool = False) -> list[tuple[str, int]]:
        """A list of plain texts, each with its line."""
        result: list[tuple[str, int]] = []
        for path, item in self.items(name, "names", required=required):
            if isinstance(item, yaml.ScalarNode) and not _is_null(item):
                result.append((str(item.value), line_of(item)))
            else:
                self.problems.add(self.file, line_of(item), path, "expected a name")
        return result


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value in _NULLS


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "single value"


def _bad_date() -> dt.date:
    raise ValueError("not ten characters")
