"""A FakeNOS Cisco IOS device on 127.0.0.1, for the connection-level tests.

FakeNOS answers canned commands only and has no configuration mode, so the device's running
configuration is a fixture file: a push cannot change it, which is why the tests run the push in
check mode and look at what it would send. The canned commands added here are the ones the
cisco.ios terminal and cliconf plugins send on login and for a back-up.
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

USER = "netadmin"
PASSWORD = "fakenos-lab-only"
PROMPTS = ["{base_prompt}>", "{base_prompt}#"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ios_platform(running_config: str) -> Nos:
    base_file = Path(fakenos.__file__).parent / "plugins/nos/platforms_yaml/cisco_ios.yaml"
    data: dict[str, Any] = yaml.safe_load(base_file.read_text())
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


@contextmanager
def ios_device(hostname: str, running_config: str) -> Iterator[int]:
    """Start one IOS device answering with running_config; yields its SSH port."""
    port = free_port()
    inventory = {
        "hosts": {hostname: {"username": USER, "password": PASSWORD, "port": port, "platform": "cisco_ios"}}
    }
    net = FakeNOS(inventory=inventory, plugins=[ios_platform(running_config)])
    net.start()
    # start() binds the listening socket before it returns: no need to probe it, and a bare TCP
    # probe would only make the SSH server log a failed handshake.
    try:
        yield port
    finally:
        net.stop()
