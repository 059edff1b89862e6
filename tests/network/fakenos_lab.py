"""FakeNOS devices on 127.0.0.1 for the connection-level tests: a Cisco IOS one and an HP ProCurve
(AOS-S) one.

FakeNOS answers canned commands only and has no configuration mode, so the device's running
configuration is a fixture file: a push cannot change it, which is why the tests run the push in
check mode and look at what it would send. The canned commands added here are the ones the
cisco.ios plugins and the project's procurve plugins (plugins/terminal, plugins/cliconf) send on
login and for a back-up.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fakenos
import yaml
from fakenos import FakeNOS
from fakenos.core.nos import Nos
from fakenos.plugins.shell.cmd_shell import CMDShell

USER = "netadmin"
PASSWORD = "fakenos-lab-only"
PROMPTS = ["{base_prompt}>", "{base_prompt}#"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _platform_data(name: str) -> dict[str, Any]:
    base_file = Path(fakenos.__file__).parent / f"plugins/nos/platforms_yaml/{name}.yaml"
    data: dict[str, Any] = yaml.safe_load(base_file.read_text())
    return data


def ios_platform(running_config: str) -> Nos:
    data = _platform_data("cisco_ios")
    extra = {
        "terminal width 512": "",
        "terminal width 0": "",
        "show privilege": "Current privilege level is 15",
        "show running-config": running_config,
    }
    data["commands"].update(
        {cmd: {"output": out, "help": cmd, "prompt": PROMPTS} for cmd, out in extra.items()}
    )
    nos = Nos()
    nos.from_dict(data)
    return nos


# What an AOS-S 16.x switch prints around "show running-config": a header, VT100 sequences that
# repaint the last line of the screen, and every prompt followed by a space.
PROCURVE_SCREEN = "\x1b[1;24r\x1b[24;1H\x1b[2K"
PROCURVE_HEADER = (
    "\nRunning configuration:\n\n; J9776A Configuration Editor; Created on release #YA.16.10.0012\n"
)
PROCURVE_HEADER += "; Ver #14:41.44.00.04.19.02.13.98.82.34.61.18.28.f3.84.9c.63.ff.37.27:05\n"


def procurve_platform(running_config: str) -> Nos:
    """FakeNOS's hp_procurve platform with AOS-S prompts ("name# ") and show running-config."""
    data = _platform_data("hp_procurve")
    spaced = {f"{{base_prompt}}{end}": f"{{base_prompt}}{end} " for end in (">", "#", "(config)#")}

    def space(prompt: str) -> str:
        return spaced.get(prompt, prompt)

    for key in ("initial_prompt", "enable_prompt", "config_prompt"):
        data[key] = space(data[key])
    for command in data["commands"].values():
        if isinstance(command.get("prompt"), list):
            command["prompt"] = [space(p) for p in command["prompt"]]
        elif command.get("prompt"):
            command["prompt"] = space(command["prompt"])
        if command.get("new_prompt"):
            command["new_prompt"] = space(command["new_prompt"])
    data["commands"]["show running-config"] = {
        "output": PROCURVE_SCREEN + PROCURVE_HEADER + running_config,
        "help": "show running-config",
        "prompt": ["{base_prompt}> ", "{base_prompt}# "],
    }
    nos = Nos()
    nos.from_dict(data)
    return nos


def procurve_config_shell(log: list[str]) -> type[CMDShell]:
    """A FakeNOS shell with AOS-S configuration contexts, which FakeNOS lacks.

    "configure terminal", "vlan N", "interface N", "ip access-list ...", "exit" and "end" move the
    prompt the way AOS-S does (name(config)# , name(vlan-10)# ...), so that network_cli has to
    follow real context prompts; every command given in configuration mode, and "write memory",
    is appended to log. Nothing is applied: show running-config keeps answering the fixture.
    """
    contexts = (
        ("vlan ", lambda rest: f"vlan-{rest}"),
        ("interface ", lambda rest: f"eth-{rest}"),
        ("ip access-list extended ", lambda rest: "config-ext-nacl"),
    )

    class ProcurveConfigShell(CMDShell):  # type: ignore[misc]
        def default(self, line: str) -> bool:
            base = self.base_prompt
            manager, config = f"{base}# ", f"{base}(config)# "
            line = line.strip()
            if self.prompt == manager and line in ("configure terminal", "write memory"):
                log.append(line)
                if line == "configure terminal":
                    self.prompt = config
                return False
            if not self.prompt.startswith(f"{base}("):
                return bool(super().default(line))
            log.append(line)
            if line == "end":
                self.prompt = manager
            elif line == "exit":
                self.prompt = manager if self.prompt == config else config
            for keyword, context in contexts:
                if line.startswith(keyword):
                    self.prompt = f"{base}({context(line[len(keyword) :])})# "
            return False

    return ProcurveConfigShell


PLATFORMS = {"ios": ("cisco_ios", ios_platform), "procurve": ("hp_procurve", procurve_platform)}


@contextmanager
def ios_device(hostname: str, running_config: str) -> Iterator[int]:
    """Start one IOS device answering with running_config; yields its SSH port."""
    with device(hostname, running_config, "ios") as port:
        yield port


@contextmanager
def device(
    hostname: str, running_config: str, family: str, config_log: list[str] | None = None
) -> Iterator[int]:
    """Start one device of the family ("ios" or "procurve") answering with running_config; yields
    its SSH port. With config_log (ProCurve only), the device has configuration contexts and
    records there what is sent in them (procurve_config_shell)."""
    platform, make = PLATFORMS[family]
    port = free_port()
    inventory = {
        "hosts": {hostname: {"username": USER, "password": PASSWORD, "port": port, "platform": platform}}
    }
    net = FakeNOS(inventory=inventory, plugins=[make(running_config)])
    if config_log is not None:
        if family != "procurve":
            raise ValueError("configuration contexts are simulated for ProCurve only")
        # Looked up when the host starts: every session of this device gets the shell.
        net.shell_plugins["CMDShell"] = procurve_config_shell(config_log)
    net.start()
    # start() binds the listening socket before it returns: no need to probe it, and a bare TCP
    # probe would only make the SSH server log a failed handshake.
    try:
        yield port
    finally:
        net.stop()
