"""The push to a Stormshield SNS appliance, through Stormshield's own client (stormshield.sns.sslclient).

One session: the write privilege (MODIFY ON FORCE), a full back-up (CONFIG BACKUP, downloaded to the
controller), the sections the rendered file uses read back, only the differing commands sent, the
ACTIVATE of each changed section, and the sections read again for the drift report. In check mode
the same session backs up and reads, and sends nothing that changes the appliance.

A command the appliance refuses stops the push there, before any ACTIVATE: what was sent so far is
pending on the appliance, not active (the error names the command and the appliance's message).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from schoolfleet.network import sns


class SnsCommandError(RuntimeError):
    """The appliance refused a command: `command` and its answer."""

    def __init__(self, command: str, answer: str) -> None:
        super().__init__(f"the appliance refused {command!r}: {answer}")
        self.command = command
        self.answer = answer


class Response(Protocol):
    ret: int
    msg: str | None
    output: str | None
    data: Any


class Client(Protocol):
    """What the push uses of stormshield.sns.sslclient.SSLClient."""

    def send_command(self, command: str) -> Response: ...

    def disconnect(self) -> None: ...


@dataclass
class PushResult:
    backup_path: str
    commands: list[str]
    changed: bool
    intended: str
    before: str
    after: str
    sent: list[str] = field(default_factory=list)


def open_client(**options: Any) -> Any:
    """Stormshield's SSLClient, connected. requests lets REQUESTS_CA_BUNDLE (and CURL_CA_BUNDLE) from
    the environment override a session's CA bundle: the appliance's certificate would be checked
    against the system's CAs, not the bundle given. The session ignores the environment (a proxy is
    the client's own `proxy` option)."""
    from stormshield.sns.sslclient import SSLClient

    client = SSLClient(autoconnect=False, **options)
    client.session.trust_env = False
    client.connect()
    return client


def _ok(response: Response) -> bool:
    # SRV_RET_OK..SRV_RET_MULTIWARN: 1xx is success (110/111 with warnings).
    return 100 <= int(response.ret) < 200


def run(client: Client, command: str) -> Response:
    response = client.send_command(command)
    if not _ok(response):
        answer = (response.output or response.msg or f"ret {response.ret}").strip().splitlines()
        raise SnsCommandError(command.split(" > ")[0], " / ".join(answer))
    return response


def read_sections(client: Client, intended: Sequence[sns.Command]) -> dict[str, list[dict[str, str]]]:
    """Each section's items as the appliance lists them (section_line: one token line per item)."""
    running: dict[str, list[dict[str, str]]] = {}
    for show in sns.show_commands(intended):
        data = run(client, show).data
        items = data.get("Result", []) if hasattr(data, "get") else []
        running[show] = [dict(item) for item in items if isinstance(item, Mapping)]
    return running


def predicted(intended: Sequence[sns.Command], running: Mapping[str, Sequence[Mapping[str, str]]]) -> str:
    """What `running_text` would give after a push: every intended item holds, extras stay (ordered
    sections are replaced whole)."""
    after = {show: [dict(item) for item in items] for show, items in running.items()}
    for command in intended:
        section = command.section
        items = after.setdefault(section.show, [])
        if section.ordered and command is next(c for c in intended if c.words == command.words):
            items.clear()
        tokens = dict(command.tokens)
        key = section.key
        match = None
        if key is not None and not section.ordered:
            match = next((item for item in items if item.get(key) == tokens.get(key)), None)
        if match is not None:
            match.update(tokens)
        else:
            items.append(tokens)
    return sns.running_text(intended, after)


def push(client: Client, intended_text: str, backup_path: Path, *, check: bool) -> PushResult:
    """Back up, diff, push (unless `check`) and read back."""
    intended = sns.parse_config(intended_text)
    run(client, sns.MODIFY)
    backup_path.parent.mkdir(parents=True, exist_ok=True)
    # "> file": the client downloads the back-up into the file (size and CRC checked).
    run(client, f"{sns.BACKUP} > {backup_path}")
    running = read_sections(client, intended)
    before = sns.running_text(intended, running)
    commands = sns.push_commands(intended, running)
    result = PushResult(
        str(backup_path),
        commands,
        bool(commands),
        sns.canonical(intended),
        before,
        predicted(intended, running),
    )
    if check:
        return result
    for command in commands:
        run(client, command)
        result.sent.append(command)
    after = read_sections(client, intended)
    result.after = sns.running_text(intended, after)
    return result
