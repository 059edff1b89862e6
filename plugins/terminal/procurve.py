"""Terminal plugin for HP/Aruba ProCurve switches (ArubaOS-Switch, AOS-S), for network_cli.

The collections shipped with ansible 12 have no ProCurve terminal plugin (community.network and the
arubanetworks collections are not shipped), so the project carries its own. It is found through
ansible.cfg's terminal_plugins path when ansible_network_os is "procurve".
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.ansible.netcommon.plugins.plugin_utils.terminal_base import TerminalBase

DOCUMENTATION = """
name: procurve
short_description: Terminal plugin for HP/Aruba ProCurve (AOS-S) switches over network_cli
description:
  - Recognises the operator (C(name>)), manager (C(name#)) and configuration context
    (C(name(config)#), C(name(vlan-10)#), C(name(eth-1)#)...) prompts of ArubaOS-Switch.
  - Answers the C(Press any key to continue) banner of the login, turns paging off (C(no page)) and
    widens the terminal so that long lines of C(show running-config) are not wrapped.
  - Raises the error messages AOS-S prints (C(Invalid input), C(Ambiguous input),
    C(Incomplete input), out-of-range values, unknown ports or VLANs) as command failures.
  - Privilege escalation (C(become) with C(ansible.netcommon.enable)) sends C(enable) and answers
    the password prompt with the become password; a login as the manager account is already at the
    manager level and sends nothing.
author: schoolfleet
version_added: "1.0.0"
"""


class TerminalModule(TerminalBase):  # type: ignore[misc]
    # AOS-S ends every prompt with a space; a context sits in parentheses: (config), (vlan-10),
    # (eth-1-4), (config-ip-acl)...
    terminal_stdout_re: ClassVar[list[re.Pattern[bytes]]] = [
        re.compile(rb"[\r\n]?[\w+\-.:/\[\]]+(?:\([\w\-/,.: ]+\))?[>#] ?$"),
    ]

    terminal_stderr_re: ClassVar[list[re.Pattern[bytes]]] = [
        re.compile(rb"Invalid input", re.I),
        re.compile(rb"(?:Ambiguous|Incomplete) input", re.I),
        re.compile(rb"Value [^\r\n]* (?:is )?out of range", re.I),
        re.compile(rb"Module not present for port or invalid port", re.I),
        re.compile(rb"VLAN \d+ (?:is )?not (?:found|configured)", re.I),
        re.compile(rb"Invalid (?:port|VLAN|IP address|mask)", re.I),
        re.compile(rb"Unable to ", re.I),
        re.compile(rb"^%? ?Error[: ]", re.I | re.M),
        re.compile(rb"Command not (?:found|allowed)", re.I),
        # What a CLI emulator (the lab's FakeNOS included) answers to a command it does not know.
        re.compile(rb"^Unknown command", re.M),
    ]

    # AOS-S redraws its screen with VT100 sequences (cursor moves, line erase, scroll regions)
    # around every prompt and after "Press any key to continue".
    ansi_re: ClassVar[list[re.Pattern[bytes]]] = [
        *TerminalBase.ansi_re,
        re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]"),
        re.compile(rb"\x1b[78EM]"),
    ]

    # Any key will do: network_cli sends the (empty) answer followed by a carriage return.
    terminal_initial_prompt: ClassVar[list[bytes]] = [rb"Press any key to continue"]
    terminal_initial_answer: ClassVar[list[bytes]] = [b""]

    terminal_config_prompt = re.compile(r"^.+\([\w\-/,.: ]+\)# ?$")

    def _run(self, command: str) -> Any:
        return self._exec_cli_command(to_bytes(command, errors="surrogate_or_strict"))

    def on_open_shell(self) -> None:
        try:
            self._run("no page")
        except AnsibleConnectionFailure as exc:
            # Paging left on would stop every long output at "-- MORE --": nothing can work.
            raise AnsibleConnectionFailure(f"unable to turn paging off (no page): {exc}") from exc
        try:
            self._run("terminal width 511")
        except AnsibleConnectionFailure:
            self._connection.queue_message(
                "warning", "procurve: unable to set the terminal width, long lines may be wrapped"
            )

    def on_become(self, passwd: str | None = None) -> None:
        prompt = self._get_prompt()
        if prompt is not None and prompt.strip().endswith(b"#"):
            return
        command: dict[str, Any] = {"command": "enable"}
        if passwd:
            command["prompt"] = to_text(r"[\r\n]?[Pp]assword: ?$", errors="surrogate_or_strict")
            command["answer"] = passwd
            command["prompt_retry_check"] = True
        try:
            self._exec_cli_command(to_bytes(json.dumps(command), errors="surrogate_or_strict"))
            prompt = self._get_prompt()
        except AnsibleConnectionFailure as exc:
            raise AnsibleConnectionFailure(
                f"failed to reach the manager level (enable) at prompt {self._get_prompt()!r}: {exc}"
            ) from exc
        if prompt is None or not prompt.strip().endswith(b"#"):
            raise AnsibleConnectionFailure(
                f"failed to reach the manager level (enable): still at prompt {prompt!r}"
            )

    def on_unbecome(self) -> None:
        prompt = self._get_prompt()
        if prompt is None:
            return
        # AOS-S has no "disable": leaving a configuration context is all that can be undone; the
        # manager level ends with the session.
        if self.terminal_config_prompt.match(to_text(prompt.strip(), errors="surrogate_or_strict")):
            self._run("end")
