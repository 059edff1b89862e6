"""No role puts a secret on a command line, where any local user reads it in the process list.

A task that runs a program (command, shell, raw, script) may pass a secret on standard input or in
a file, never in its argv: /proc/PID/cmdline is world-readable. This walks every role's tasks and
handlers and refuses a command line that templates a variable named like a secret.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
RUNNERS = {"command", "shell", "raw", "script"}
SECRET = ("password", "passphrase", "secret", "psk", "community")


def tasks(node: object) -> Iterator[dict]:
    if isinstance(node, list):
        for item in node:
            yield from tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always"):
            yield from tasks(node.get(key))


def command_line(task: dict) -> str | None:
    for key, value in task.items():
        if key.rsplit(".", 1)[-1] in RUNNERS:
            if isinstance(value, dict):
                return " ".join(str(value.get(k, "")) for k in ("argv", "cmd", "_raw_params"))
            return str(value)
    return None


def templated_names(text: str) -> list[str]:
    """The names used inside {{ }}, string literals left out ("Password complexity" is a key)."""
    names = []
    for expression in re.findall(r"\{\{(.*?)\}\}", text, flags=re.S):
        bare = re.sub(r"'[^']*'|\"[^\"]*\"", "", expression)
        names += re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare)
    return names


FILES = sorted(
    path
    for path in ROLES.glob("*/*/*.yml")
    if path.parent.name in ("tasks", "handlers") and "molecule" not in path.parts
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROLES)))
def test_no_command_line_templates_a_secret(path: Path) -> None:
    for task in tasks(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)):
        line = command_line(task)
        if line is None:
            continue
        for name in templated_names(line):
            # The secret itself (admin_password, item.password), not its settings (password_min_length).
            assert name.lower().rsplit("_", 1)[-1] not in SECRET, (
                f"{path.relative_to(ROLES)}: task {task.get('name')!r} puts {{{{ {name} }}}} on a "
                "command line; pass it on stdin or in a file"
            )


def test_the_check_sees_a_secret_on_a_command_line() -> None:
    task = {
        "name": "Provision",
        "ansible.builtin.command": {"argv": ["x", "--adminpass={{ admin_password }}"]},
    }
    names = templated_names(command_line(task) or "")
    assert names == ["admin_password"]
