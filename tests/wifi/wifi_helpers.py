"""Helpers of the Wi-Fi tests: running the render play, and a UCI reader of their own.

The reader is deliberately not schoolfleet.wifi.uci: the golden files are checked by code that
did not write them. It reads what `uci import` accepts: `package`, `config TYPE ['NAME']`,
`option NAME 'VALUE'`, `list NAME 'VALUE'`, comments.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INVENTORY = HERE / "fixtures" / "hosts.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")

_LINE = re.compile(r"^(package|config|option|list)\s+(\S+)(?:\s+'([^']*)')?\s*$")


def run_playbook(playbook: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # JSON results: error messages on one line, as the tests look for them.
    env = {
        **os.environ,
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    }
    env.setdefault("ANSIBLE_HOME", str(ROOT / ".cache" / "ansible"))
    command = [str(ANSIBLE_PLAYBOOK), "-i", str(INVENTORY), str(HERE / playbook), *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"{playbook} failed (rc {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def read_uci(text: str) -> dict[str, dict[str, dict[str, object]]]:
    """{package: {section name: {".type": type, option: value or [values]}}}; every section named."""
    packages: dict[str, dict[str, dict[str, object]]] = {}
    package: dict[str, dict[str, object]] | None = None
    section: dict[str, object] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            # The renderer quotes every value and never needs an escaped quote (SSIDs exclude it).
            raise AssertionError(f"line {number} is not plain UCI: {raw!r}")
        keyword, word, value = match.groups()
        if keyword == "package":
            package = packages.setdefault(word, {})
        elif keyword == "config":
            assert package is not None, f"line {number}: config outside a package"
            assert value is not None, f"line {number}: unnamed section"
            assert value not in package, f"line {number}: section {value} twice"
            section = package[value] = {".type": word}
        else:
            assert section is not None and value is not None, f"line {number}: {keyword} outside a section"
            if keyword == "option":
                assert word not in section, f"line {number}: option {word} twice"
                section[word] = value
            else:
                existing = section.setdefault(word, [])
                assert isinstance(existing, list)
                existing.append(value)
    return packages
