"""Helpers of the network tests (a module of its own: every suite has a conftest.py, so
`from conftest import ...` would pick whichever suite pytest imported first)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INVENTORY = HERE / "fixtures" / "inventory.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def run_playbook(
    playbook: str, *args: str, check: bool = True, extra_env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(ROOT / "roles"), "ANSIBLE_NOCOLOR": "1"}
    env.update(extra_env or {})
    env.setdefault("ANSIBLE_HOME", str(ROOT / ".cache" / "ansible"))
    command: Sequence[str] = [str(ANSIBLE_PLAYBOOK), "-i", str(INVENTORY), str(HERE / playbook), *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"{playbook} failed (rc {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
