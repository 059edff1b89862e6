"""The project's ProCurve terminal and cliconf plugins, without a device: what they recognise as a
prompt or an error, what they strip, and what they send (the SSH tests are in tests/network)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"


def _load(kind: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"schoolfleet_test_{kind}_procurve", PLUGINS / kind / "procurve.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


terminal = _load("terminal").TerminalModule
cliconf_module = _load("cliconf")


def _is_prompt(text: bytes) -> bool:
    return any(regex.search(text) for regex in terminal.terminal_stdout_re)


def _is_error(text: bytes) -> bool:
    return any(regex.search(text) for regex in terminal.terminal_stderr_re)


@pytest.mark.parametrize(
    "prompt",
    [
        b"\r\nec-jaures-sw2> ",
        b"\r\nec-jaures-sw2# ",
        b"HP-2530-24G(config)# ",
        b"sw(vlan-10)# ",
        b"sw(eth-1-4)# ",
    ],
)
def test_aos_s_prompts(prompt: bytes) -> None:
    assert _is_prompt(prompt)


@pytest.mark.parametrize("text", [b"   untagged 1-4\r\n", b"Press any key to continue", b"sw# show run"])
def test_output_lines_are_not_prompts(text: bytes) -> None:
    assert not _is_prompt(text)


@pytest.mark.parametrize(
    "text",
    [
        b"Invalid input: vlna",
        b"Ambiguous input: s",
        b"Incomplete input: untagged",
        b"Module not present for port or invalid port: 99",
        b"VLAN 300 not found",
        b"Value 5000 is out of range.",
    ],
)
def test_aos_s_errors(text: bytes) -> None:
    assert _is_error(b"\r\n" + text + b"\r\nsw(config)# ")


def test_ordinary_output_is_no_error() -> None:
    running = b'vlan 10\r\n   name "pedagogy"\r\n   untagged 1-4\r\n   exit\r\nsw# '
    assert not _is_error(running)


def test_vt100_repaint_sequences_are_stripped() -> None:
    raw = b"\x1b[1;24r\x1b[24;1H\x1b[2K\x1b[?25hsw# \x1b[24;1H\x1b[?6l\x1b7\x1b8"
    for regex in terminal.ansi_re:
        raw = regex.sub(b"", raw)
    assert raw == b"sw# "


def test_config_context_prompt() -> None:
    assert terminal.terminal_config_prompt.match("sw(vlan-10)# ")
    assert not terminal.terminal_config_prompt.match("sw# ")


class RecordingConnection:
    """Stands for network_cli: records what the plugin sends, answers from a table."""

    def __init__(self, answers: dict[str, str], prompt: bytes = b"sw# ") -> None:
        self.answers = answers
        self.prompt = prompt
        self.sent: list[str] = []
        self.connected = True

    def get_prompt(self) -> bytes:
        return self.prompt

    def send(self, command: bytes, **kwargs: Any) -> str:
        text = command.decode()
        self.sent.append(text)
        return self.answers.get(text, "")


INTENDED = 'hostname "sw"\nvlan 10\n   name "pedagogy"\n   untagged 1-4\n   exit\nlogging 10.0.0.10\n'


def test_get_diff_sends_missing_lines_in_their_context() -> None:
    plugin = cliconf_module.Cliconf(RecordingConnection({}))
    running = 'Running configuration:\n\nhostname "sw"\nvlan 10\n   name "pedagogy"\n   exit\n'
    diff = plugin.get_diff(candidate=INTENDED, running=running)
    assert diff["config_diff"].splitlines() == ["vlan 10", "untagged 1-4", "exit", "logging 10.0.0.10"]
    block = plugin.get_diff(candidate=INTENDED, running=running, diff_replace="block")
    assert block["config_diff"].splitlines() == [
        "vlan 10",
        'name "pedagogy"',
        "untagged 1-4",
        "exit",
        "logging 10.0.0.10",
    ]
    assert plugin.get_diff(candidate=INTENDED, running=INTENDED)["config_diff"] == ""
    with pytest.raises(ValueError, match="'match' value strict"):
        plugin.get_diff(candidate=INTENDED, running=running, diff_match="strict")


def test_edit_config_enters_and_leaves_configuration_mode() -> None:
    connection = RecordingConnection({})
    plugin = cliconf_module.Cliconf(connection)
    result = plugin.edit_config(candidate=["vlan 10", "untagged 1-4", "; a comment", "exit"])
    assert connection.sent == ["configure terminal", "vlan 10", "untagged 1-4", "exit", "end"]
    assert result["request"] == ["vlan 10", "untagged 1-4", "exit"]


def test_edit_config_without_commit_sends_nothing() -> None:
    connection = RecordingConnection({})
    cliconf_module.Cliconf(connection).edit_config(candidate=["vlan 10"], commit=False)
    assert connection.sent == []


def test_configuration_needs_the_manager_level() -> None:
    plugin = cliconf_module.Cliconf(RecordingConnection({}, prompt=b"sw> "))
    with pytest.raises(Exception, match="privilege escalation"):
        plugin.edit_config(candidate=["vlan 10"])
    with pytest.raises(Exception, match="privilege escalation"):
        plugin.get_config()


def test_get_config_and_capabilities() -> None:
    system = "  System Name        : ec-sw2\n  Software revision  : YA.16.10.0012   Base MAC Addr : x\n"
    system += "  ROM Version        : YA.15.20   Serial Number      : CN12AB34CD\n"
    connection = RecordingConnection({"show system": system, "show running-config": INTENDED})
    plugin = cliconf_module.Cliconf(connection)
    assert plugin.get_config() == INTENDED
    plugin.get_config(source="startup")
    assert connection.sent[-1] == "show config"
    capabilities = json.loads(plugin.get_capabilities())
    assert capabilities["device_info"] == {
        "network_os": "procurve",
        "network_os_hostname": "ec-sw2",
        "network_os_version": "YA.16.10.0012",
        "network_os_serial": "CN12AB34CD",
        "network_os_rom": "YA.15.20",
    }
    assert capabilities["device_operations"]["supports_generate_diff"] is True
    assert {"get_diff", "run_commands", "edit_config"} <= set(capabilities["rpc"])
    assert re.fullmatch(r"[\w.]+", capabilities["device_info"]["network_os_version"])
