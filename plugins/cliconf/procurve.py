"""Cliconf plugin for HP/Aruba ProCurve switches (ArubaOS-Switch, AOS-S), for network_cli.

The collections shipped with ansible 12 have no ProCurve cliconf plugin, so the project carries its
own, found through ansible.cfg's cliconf_plugins path when ansible_network_os is "procurve". What
to send is decided by schoolfleet.network.drift, the module that writes the drift reports: a
check-mode push shows exactly the lines the drift report lists as missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.ansible.netcommon.plugins.module_utils.network.common.utils import to_list
from ansible_collections.ansible.netcommon.plugins.plugin_utils.cliconf_base import (
    CliconfBase,
    enable_mode,
)

try:
    from schoolfleet.network.drift import push_commands
except ImportError as exc:  # pragma: no cover - the project's venv always has it
    PUSH_IMPORT_ERROR: ImportError | None = exc
else:
    PUSH_IMPORT_ERROR = None

DOCUMENTATION = """
name: procurve
short_description: Cliconf plugin for HP/Aruba ProCurve (AOS-S) switches over network_cli
description:
  - Lets C(ansible.netcommon.cli_config), C(cli_command) and C(cli_backup) work with ArubaOS-Switch
    devices (Aruba 2530, 2540, 2930, older ProCurve 2610/2620...).
  - C(get_config) reads C(show running-config) or, for the startup configuration, C(show config).
  - C(get_diff) compares the candidate with the running configuration by path (a line under its
    context, C(vlan 10 ... exit)), with C(schoolfleet.network.drift), and returns the commands that
    add what is missing, every context closed with C(exit). C(diff_replace=block) sends a whole
    top-level block when anything in it is missing; an access list is always deleted and sent whole,
    because its entries are order sensitive. It is a merge; lines only the device has stay.
  - C(edit_config) enters C(configure terminal), sends the commands (comment lines starting with
    C(;) or C(!) are skipped) and leaves with C(end). Nothing is sent when C(commit) is false, which
    is what C(cli_config) asks in check mode.
  - Saving (C(write memory)) is left to the caller, with C(cli_command).
author: schoolfleet
version_added: "1.0.0"
options: {}
"""

_CONFIG_CONTEXT = re.compile(r"\([\w\-/,.: ]+\)#\s*$")


class Cliconf(CliconfBase):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._device_info: dict[str, str] = {}
        super().__init__(*args, **kwargs)

    @enable_mode  # type: ignore[untyped-decorator]
    def get_config(self, source: str = "running", flags: Any = None, format: str | None = None) -> Any:
        if source not in ("running", "startup"):
            raise ValueError(f"fetching configuration from {source} is not supported")
        if format:
            raise ValueError(f"'format' value {format} is not supported for get_config")
        command = "show running-config" if source == "running" else "show config"
        command = " ".join([command, *to_list(flags or [])])
        return self.send_command(command)

    def get_diff(
        self,
        candidate: str | None = None,
        running: str | None = None,
        diff_match: str = "line",
        diff_ignore_lines: Any = None,
        path: Any = None,
        diff_replace: str = "line",
    ) -> dict[str, Any]:
        if candidate is None:
            raise ValueError("candidate configuration is required to generate diff")
        options = self.get_option_values()
        if diff_match not in options["diff_match"]:
            raise ValueError(
                f"'match' value {diff_match} is invalid, valid values are {options['diff_match']}"
            )
        if diff_replace not in options["diff_replace"]:
            raise ValueError(
                f"'replace' value {diff_replace} is invalid, valid values are {options['diff_replace']}"
            )
        if path:
            raise ValueError("'path' is not supported: give the whole configuration")
        if PUSH_IMPORT_ERROR is not None:
            raise ValueError(f"procurve cliconf needs the schoolfleet package: {PUSH_IMPORT_ERROR}")
        base = running if running and diff_match != "none" else ""
        commands = push_commands(candidate, base, whole_blocks=diff_replace == "block")
        return {"config_diff": "\n".join(commands), "banner_diff": {}}

    @enable_mode  # type: ignore[untyped-decorator]
    def edit_config(
        self,
        candidate: Any = None,
        commit: bool = True,
        replace: Any = None,
        comment: str | None = None,
    ) -> dict[str, list[Any]]:
        self.check_edit_config_capability(self.get_device_operations(), candidate, commit, replace, comment)
        requests: list[str] = []
        results: list[Any] = []
        if not commit:
            # Check mode: the commands were worked out by get_diff; nothing goes to the device.
            return {"request": requests, "response": results}
        self.send_command("configure terminal")
        try:
            for line in to_list(candidate):
                command = dict(line) if isinstance(line, Mapping) else {"command": line}
                text = str(command["command"]).strip()
                if not text or text == "end" or text[0] in ";!":
                    continue
                command["command"] = text
                results.append(self.send_command(**command))
                requests.append(text)
        finally:
            # Back to the manager level whatever happened, so that the next task's show commands
            # do not run in a configuration context.
            self.send_command("end")
        return {"request": requests, "response": results}

    def get(
        self,
        command: str | None = None,
        prompt: Any = None,
        answer: Any = None,
        sendonly: bool = False,
        newline: bool = True,
        output: str | None = None,
        check_all: bool = False,
    ) -> Any:
        if not command:
            raise ValueError("must provide value of command to execute")
        if output:
            raise ValueError(f"'output' value {output} is not supported for get")
        return self.send_command(
            command=command,
            prompt=prompt,
            answer=answer,
            sendonly=sendonly,
            newline=newline,
            check_all=check_all,
        )

    def run_commands(self, commands: Any = None, check_rc: bool = True) -> list[Any]:
        if commands is None:
            raise ValueError("'commands' value is required")
        responses: list[Any] = []
        for item in to_list(commands):
            command = dict(item) if isinstance(item, Mapping) else {"command": item}
            if command.pop("output", None):
                raise ValueError("'output' is not supported for run_commands on procurve")
            try:
                responses.append(self.send_command(**command))
            except AnsibleConnectionFailure as exc:
                if check_rc:
                    raise
                responses.append(getattr(exc, "err", to_text(exc)))
        return responses

    def get_device_info(self) -> dict[str, str]:
        if not self._device_info:
            info = {"network_os": "procurve"}
            # "show system" exists on every AOS-S release and carries name, release and serial.
            data = to_text(self.get(command="show system"), errors="surrogate_or_strict")
            for key, pattern in (
                ("network_os_hostname", r"System Name\s*:\s*(\S+)"),
                ("network_os_version", r"Software revision\s*:\s*(\S+)"),
                ("network_os_serial", r"Serial Number\s*:\s*(\S+)"),
                ("network_os_rom", r"ROM Version\s*:\s*(\S+)"),
            ):
                match = re.search(pattern, data)
                if match:
                    info[key] = match.group(1)
            self._device_info = info
        return self._device_info

    def get_device_operations(self) -> dict[str, bool]:
        return {
            "supports_diff_replace": True,
            "supports_commit": False,
            "supports_rollback": False,
            "supports_defaults": False,
            "supports_onbox_diff": False,
            "supports_commit_comment": False,
            "supports_multiline_delimiter": False,
            "supports_diff_match": True,
            "supports_diff_ignore_lines": False,
            "supports_generate_diff": True,
            "supports_replace": False,
        }

    def get_option_values(self) -> dict[str, list[str]]:
        return {
            "format": ["text"],
            "diff_match": ["line", "none"],
            "diff_replace": ["line", "block"],
            "output": [],
        }

    def get_capabilities(self) -> str:
        result: dict[str, Any] = super().get_capabilities()
        result["rpc"] = [*result["rpc"], "get_diff", "run_commands"]
        result["device_operations"] = self.get_device_operations()
        result.update(self.get_option_values())
        return json.dumps(result)

    def set_cli_prompt_context(self) -> None:
        """Leave a configuration context a failed task may have left the session in."""
        if self._connection.connected:
            prompt = self._connection.get_prompt()
            if prompt is None:
                raise AnsibleConnectionFailure(
                    message="cli prompt is not identified from the last received response window: "
                    f"{self._connection._last_recv_window!r}"
                )
            if _CONFIG_CONTEXT.search(to_text(prompt, errors="surrogate_then_replace")):
                self._connection.queue_message("vvvv", "procurve: in a configuration context, sending end")
                self._connection.send_command("end")
