"""The bad-input cases of `fixtures/bad_cases.yml`, applied to a copy of the `small` fixture register."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL = FIXTURES / "small"


@dataclass(frozen=True)
class BadCase:
    id: str
    file: str
    find: str
    replace: str
    field: str
    message: str
    at: str | None = None


def bad_cases() -> list[BadCase]:
    data: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "bad_cases.yml").read_text(encoding="utf-8"))
    return [BadCase(**case) for case in data]


def copy_small(tmp_path: Path) -> Path:
    """A copy of the small fixture (hosts.yml and register/) that a test may edit."""
    target = tmp_path / "small"
    shutil.copytree(SMALL, target)
    return target


def apply(case: BadCase, register: Path) -> tuple[Path, int]:
    """Edits the register and returns the edited file and the line the problem must name."""
    path = register / case.file
    text = path.read_text(encoding="utf-8")
    assert text.count(case.find) == 1, f"{case.id}: {case.find!r} must occur once in {case.file}"
    text = text.replace(case.find, case.replace)
    path.write_text(text, encoding="utf-8")
    marker = case.at if case.at is not None else case.replace.split("\n")[0]
    offset = text.index(marker)
    return path, text.count("\n", 0, offset) + 1


ROOT = Path(__file__).resolve().parents[2]


def ansible_inventory(source: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ansible-inventory -i SOURCE ARGS` from the project root (its ansible.cfg), writing only under `home`.

    An inventory source that fails to parse fails the command (by default Ansible only warns and goes
    on with an empty inventory).
    """
    return ansible_tool("ansible-inventory", source, home, *args, **env)


def ansible_tool(
    tool: str, source: Path, home: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`TOOL -i SOURCE ARGS` (ansible-inventory, ansible) of the venv, as `ansible_inventory` runs it."""
    environment = {
        **os.environ,
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_NOCOLOR": "1",
        **env,
    }
    command = [str(Path(sys.executable).with_name(tool)), "-i", str(source), *args]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)


def unwrap(value: Any) -> Any:
    """Ansible marks text it must never template as {"__ansible_unsafe": text}: the plain value."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def inventory_json(source: Path, home: Path, *, raw: bool = False, **env: str) -> dict[str, Any]:
    """The `--list` output, without the two variables that hold the inventory file's own path."""
    result = ansible_inventory(source, home, "--list", **env)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    for variables in data["_meta"]["hostvars"].values():
        variables.pop("inventory_file", None)
        variables.pop("inventory_dir", None)
    return data if raw else dict(unwrap(data))
