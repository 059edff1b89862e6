"""Helpers of the agent's tests, which run three ways: pytest in the venv, and `python3 -m unittest`
under the lab image's Debian python3, first on the source tree (PYTHONPATH=scripts/agent), then on
the installed package (SCHOOLFLEET_AGENT_INSTALLED=1, see `make unit-agent-debian`)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = os.environ.get("SCHOOLFLEET_AGENT_INSTALLED") == "1"


def load_script(name: str, relative: str) -> ModuleType:
    """A standalone script of the repository (a role's files/...) as a module, by its path."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def hwreport_command() -> list[str]:
    """The installed wrapper when testing the package, else the module of the tree under test."""
    if INSTALLED:
        found = shutil.which("schoolfleet-hwreport")
        assert found == "/usr/bin/schoolfleet-hwreport", found
        return [found]
    return [sys.executable, "-m", "schoolfleet_agent.hwreport"]


def command_env() -> dict[str, str]:
    env = dict(os.environ)
    if not INSTALLED:
        import schoolfleet_agent

        source = str(Path(schoolfleet_agent.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    for key in [k for k in env if k.startswith("SCHOOLFLEET_HWREPORT_") or k == "JOURNAL_STREAM"]:
        del env[key]
    return env


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def post_json(url: str, data: Any) -> tuple[int, dict[str, Any]]:
    return http("POST", url, json.dumps(data).encode(), {"Content-Type": "application/json"})


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, **kwargs)
