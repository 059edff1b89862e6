"""A local stand-in of a Stormshield SNS appliance's administration API (HTTPS), for the push tests.

It answers what stormshield.sns.sslclient 1.1.2 sends (read from its source):
  POST /auth/admin.html      uid, pswd (base64), app      -> <nws msg="AUTH_SUCCESS"/> and a cookie
  POST /api/auth/login       app, id (with the cookie)    -> <nws code="100"><sessionid/>...</nws>
  GET  /api/command?sessionid=...&cmd=...                 -> <nws code="100"><serverd ret=... code=...>
  GET  /api/download/tmp.file?sessionid=...               -> the file a command prepared (CRC, size)
  GET  /api/auth/logout?sessionid=...
An unknown session gets nws code 203 (invalid session); a refused command serverd ret 200 (command
error) with the reason in msg, as the appliance's serverd answers.

It keeps a configuration: each section's items, pending (what the commands changed) and active
(what the section's ACTIVATE applied). Its command table is written here from the SNS CLI reference,
independently of schoolfleet.network.sns, so that a mistake in the push's table shows as a refusal.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import secrets
import shlex
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

import stormshield.sns.crc as snscrc

PHYSICAL = ("out", "in", "dmz1", "dmz2", "dmz3", "dmz4")
BUILTIN_OBJECTS = ("any", "firewall_all")
# Section -> (the token naming an item, None for a single set of settings).
SECTIONS: dict[str, str | None] = {
    "host": "name",
    "network": "name",
    "interface": "ifname",
    "relay": None,
    "relay_interface": "ifname",
    "filter": "position",
    "ntp_server": "name",
    "ntp": None,
    "syslog": "index",
    "snmp": None,
    "webadmin": "host",
}
ACTIVATE = {
    "CONFIG OBJECT ACTIVATE": ("host", "network"),
    "CONFIG NETWORK ACTIVATE": ("interface",),
    "CONFIG DHCP ACTIVATE": ("relay", "relay_interface"),
    "CONFIG FILTER ACTIVATE": ("filter",),
    "CONFIG NTP ACTIVATE": ("ntp_server", "ntp"),
    "CONFIG COMMUNICATION ACTIVATE": ("syslog",),
    "CONFIG SNMP ACTIVATE": ("snmp",),
    "CONFIG WEBADMIN ACTIVATE": ("webadmin",),
}


class RefusedError(Exception):
    """What serverd answers with ret 200: the command is not applied."""


def _state() -> dict[str, list[dict[str, str]]]:
    return {name: [] for name in SECTIONS}


@dataclass
class Appliance:
    user: str = "admin"
    password: str = "sns-test-password"
    pending: dict[str, list[dict[str, str]]] = field(default_factory=_state)
    active: dict[str, list[dict[str, str]]] = field(default_factory=_state)
    # Every command received, in order, and the ACTIVATE commands among them.
    log: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    backups: int = 0
    cookies: set[str] = field(default_factory=set)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- configuration -------------------------------------------------------------------------
    def _objects(self) -> set[str]:
        return {item["name"] for kind in ("host", "network") for item in self.pending[kind]} | set(
            BUILTIN_OBJECTS
        )

    def _find(self, section: str, value: str) -> dict[str, str] | None:
        key = SECTIONS[section]
        return next((item for item in self.pending[section] if key and item.get(key) == value), None)

    def _add(self, section: str, tokens: dict[str, str], *, replace: bool = False) -> None:
        key = SECTIONS[section]
        assert key is not None
        if key not in tokens:
            raise RefusedError(f"missing token {key}")
        existing = self._find(section, tokens[key])
        if existing is not None and not replace:
            raise RefusedError(f"{tokens[key]} already exists")
        if existing is not None:
            existing.clear()
            existing.update(tokens)
        else:
            self.pending[section].append(tokens)

    def _remove(self, section: str, tokens: dict[str, str]) -> None:
        key = SECTIONS[section]
        assert key is not None
        item = self._find(section, tokens.get(key, ""))
        if item is None:
            raise RefusedError(f"no {section} {tokens.get(key)!r}")
        self.pending[section].remove(item)

    def _set(self, section: str, tokens: dict[str, str]) -> None:
        if not self.pending[section]:
            self.pending[section].append({})
        self.pending[section][0].update(tokens)

    @staticmethod
    def _address(tokens: dict[str, str], name: str) -> None:
        try:
            ipaddress.IPv4Address(tokens.get(name, ""))
        except ValueError:
            raise RefusedError(f"{name}={tokens.get(name, '')!r} is not an IPv4 address") from None

    def execute(self, session: dict[str, Any], line: str) -> tuple[int, str, list[dict[str, str]] | None]:
        """(ret, message, items to list or None) for one command line."""
        parts = shlex.split(line)
        words = " ".join(part for part in parts if "=" not in part).upper()
        tokens = dict(part.split("=", 1) for part in parts if "=" in part)
        tokens = {key.lower(): value for key, value in tokens.items()}
        self.log.append(line)
        if words == "MODIFY ON FORCE" or words == "MODIFY ON":
            session["modify"] = True
            return 100, "Ok", None
        if words == "CONFIG BACKUP":
            if tokens.get("list") != "all":
                raise RefusedError("list=all expected")
            self.backups += 1
            session["download"] = json.dumps({"pending": self.pending, "active": self.active}).encode()
            return 100, "download", None
        shows = {
            "CONFIG OBJECT LIST": tokens.get("type"),
            "CONFIG NETWORK INTERFACE SHOW": "interface",
            "CONFIG DHCP RELAY SHOW": "relay",
            "CONFIG DHCP RELAY INTERFACE LIST": "relay_interface",
            "CONFIG FILTER SHOW": "filter",
            "CONFIG NTP SERVER LIST": "ntp_server",
            "CONFIG NTP SHOW": "ntp",
            "CONFIG COMMUNICATION SYSLOG PROFILE SHOW": "syslog",
            "CONFIG SNMP SHOW": "snmp",
            "CONFIG WEBADMIN ACCESS SHOW": "webadmin",
        }
        if words in shows:
            section = shows[words]
            if section not in SECTIONS:
                raise RefusedError(f"unknown list {section!r}")
            if words == "CONFIG FILTER SHOW" and (tokens.get("index"), tokens.get("type")) != ("9", "filter"):
                raise RefusedError("this stand-in holds filter slot 9 only")
            return 100, "Ok", copy.deepcopy(self.pending[section])
        if words in ACTIVATE:
            for section in ACTIVATE[words]:
                self.active[section] = copy.deepcopy(self.pending[section])
            self.activated.append(words)
            return 100, "Ok", None
        if not session.get("modify"):
            raise RefusedError("the session has no modify privilege (MODIFY ON)")
        self._change(words, tokens)
        return 100, "Ok", None

    def _change(self, words: str, tokens: dict[str, str]) -> None:
        replace = tokens.pop("update", "0") == "1"
        if words == "CONFIG OBJECT HOST NEW":
            self._address(tokens, "ip")
            self._add("host", tokens, replace=replace)
        elif words == "CONFIG OBJECT NETWORK NEW":
            self._address(tokens, "ip")
            self._address(tokens, "mask")
            self._add("network", tokens, replace=replace)
        elif words in ("CONFIG OBJECT HOST DELETE", "CONFIG OBJECT NETWORK DELETE"):
            self._remove("host" if "HOST" in words else "network", tokens)
        elif words == "CONFIG NETWORK INTERFACE CREATE":
            if tokens.get("physical") not in PHYSICAL:
                raise RefusedError(f"no physical interface {tokens.get('physical')!r}")
            if not 1 <= int(tokens.get("tag", "0")) <= 4094:
                raise RefusedError("tag out of range")
            self._address(tokens, "address")
            self._add("interface", tokens)
        elif words == "CONFIG NETWORK INTERFACE REMOVE":
            self._remove("interface", tokens)
        elif words in ("CONFIG DHCP RELAY SERVER", "CONFIG DHCP RELAY STATE"):
            for name in tokens.get("server", "").split(",") if "server" in tokens else []:
                if name not in self._objects():
                    raise RefusedError(f"unknown object {name!r}")
            self._set("relay", tokens)
        elif words == "CONFIG DHCP RELAY INTERFACE ADD":
            if self._find("interface", tokens.get("ifname", "")) is None:
                raise RefusedError(f"no interface {tokens.get('ifname')!r}")
            self._add("relay_interface", tokens)
        elif words == "CONFIG DHCP RELAY INTERFACE REMOVE":
            self._remove("relay_interface", tokens)
        elif words == "CONFIG FILTER RULE INSERT":
            self._insert_rule(tokens)
        elif words == "CONFIG FILTER RULE REMOVE":
            self._remove_rule(tokens)
        elif words == "CONFIG NTP SERVER ADD":
            if tokens.get("name") not in self._objects():
                raise RefusedError(f"unknown object {tokens.get('name')!r}")
            self._add("ntp_server", tokens)
        elif words == "CONFIG NTP SERVER REMOVE":
            self._remove("ntp_server", tokens)
        elif words == "CONFIG NTP STATE":
            self._set("ntp", tokens)
        elif words == "CONFIG COMMUNICATION SYSLOG PROFILE UPDATE":
            if tokens.get("server") not in self._objects():
                raise RefusedError(f"unknown object {tokens.get('server')!r}")
            self._add("syslog", tokens, replace=True)
        elif words in ("CONFIG SNMP SYSTEM", "CONFIG SNMP STATE"):
            self._set("snmp", tokens)
        elif words == "CONFIG WEBADMIN ACCESS ADD":
            if tokens.get("host") not in self._objects():
                raise RefusedError(f"unknown object {tokens.get('host')!r}")
            self._add("webadmin", tokens)
        elif words == "CONFIG WEBADMIN ACCESS REMOVE":
            self._remove("webadmin", tokens)
        else:
            raise RefusedError(f"unknown command {words!r}")

    def _insert_rule(self, tokens: dict[str, str]) -> None:
        if (tokens.get("index"), tokens.get("type")) != ("9", "filter"):
            raise RefusedError("this stand-in holds filter slot 9 only")
        for name in (tokens.get("srctarget"), tokens.get("dsttarget")):
            if name not in self._objects():
                raise RefusedError(f"unknown object {name!r}")
        rules = self.pending["filter"]
        position = int(tokens.get("position", str(len(rules) + 1)))
        if not 1 <= position <= len(rules) + 1:
            raise RefusedError(f"position {position} out of range")
        rules.insert(position - 1, tokens)
        for number, rule in enumerate(rules, 1):
            rule["position"] = str(number)

    def _remove_rule(self, tokens: dict[str, str]) -> None:
        rules = self.pending["filter"]
        position = int(tokens.get("position", "0"))
        if not 1 <= position <= len(rules):
            raise RefusedError(f"no rule at position {position}")
        del rules[position - 1]
        for number, rule in enumerate(rules, 1):
            rule["position"] = str(number)


def _xml_items(items: list[dict[str, str]]) -> str:
    lines = "".join(
        "<line>"
        + "".join(f"<key name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in item.items())
        + "</line>"
        for item in items
    )
    return f'<data format="section_line"><section title="Result">{lines}</section></data>'


def _handler(appliance: Appliance) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, body: str | bytes, headers: dict[str, str] | None = None) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _session(self) -> dict[str, Any] | None:
            query = parse_qs(urlsplit(self.path).query)
            return appliance.sessions.get(query.get("sessionid", [""])[0])

        def _cookie_ok(self) -> bool:
            cookie = self.headers.get("Cookie", "")
            return any(part.strip().split("=", 1)[-1] in appliance.cookies for part in cookie.split(";"))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlsplit(self.path).path
            if path == "/auth/admin.html":
                user = base64.b64decode(form.get("uid", "")).decode()
                password = base64.b64decode(form.get("pswd", "")).decode()
                if (user, password) != (appliance.user, appliance.password):
                    self._reply('<?xml version="1.0"?><nws code="100" msg="AUTH_FAILED"/>')
                    return
                cookie = secrets.token_hex(16)
                appliance.cookies.add(cookie)
                self._reply(
                    '<?xml version="1.0"?><nws code="100" msg="AUTH_SUCCESS"/>',
                    {"Set-Cookie": f"NETASQ_sslclient={cookie}; Path=/; Secure"},
                )
            elif path == "/api/auth/login":
                if not self._cookie_ok():
                    self._reply('<?xml version="1.0"?><nws code="205" msg="Authentication error"/>')
                    return
                session = secrets.token_hex(12)
                appliance.sessions[session] = {"modify": False, "download": None}
                self._reply(
                    f'<?xml version="1.0"?><nws code="100" msg="OK"><sessionid>{session}</sessionid>'
                    "<protocol>1.5</protocol><sessionlevel>modify,base,network,filter,object</sessionlevel></nws>"
                )
            else:
                self.send_error(404)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            session = self._session()
            if session is None or not self._cookie_ok():
                self._reply('<?xml version="1.0"?><nws code="203" msg="Invalid session"/>')
                return
            if url.path == "/api/auth/logout":
                appliance.sessions.pop(parse_qs(url.query)["sessionid"][0], None)
                self._reply('<?xml version="1.0"?><nws code="100" msg="OK"/>')
            elif url.path == "/api/download/tmp.file":
                data = session.get("download") or b""
                session["download"] = None
                self._reply(data)
            elif url.path == "/api/command":
                self._command(session, parse_qs(url.query)["cmd"][0])
            else:
                self.send_error(404)

        def _command(self, session: dict[str, Any], line: str) -> None:
            try:
                ret, message, items = appliance.execute(session, line)
            except (RefusedError, ValueError) as error:
                self._reply(
                    '<?xml version="1.0"?><nws code="100" msg="OK">'
                    f'<serverd ret="200" code="00a00200" msg={quoteattr(str(error))}/></nws>'
                )
                return
            if message == "download":
                data = session["download"]
                crc = f"{snscrc.update_crc32(data, snscrc.CRC32_init):X}"
                self._reply(
                    '<?xml version="1.0"?><nws code="100" msg="OK">'
                    f'<serverd ret="101" code="00a01c00" msg="Begin"><data format="raw"><crc>{crc}</crc>'
                    f"<size>{len(data)}</size></data></serverd></nws>"
                )
            elif items is not None:
                self._reply(
                    '<?xml version="1.0"?><nws code="100" msg="OK">'
                    f'<serverd ret="101" code="00a01000" msg="Begin">{_xml_items(items)}</serverd>'
                    '<serverd ret="100" code="00a00100" msg="Ok"/></nws>'
                )
            else:
                self._reply(
                    '<?xml version="1.0"?><nws code="100" msg="OK">'
                    f'<serverd ret="{ret}" code="00a00100" msg={quoteattr(message)}/></nws>'
                )

    return Handler


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the CA bundle the client checks the stand-in with)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SN210TEST0000001")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "sns.pem", directory / "sns.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@contextmanager
def serve(appliance: Appliance, directory: Path) -> Iterator[tuple[int, Path]]:
    """The stand-in on 127.0.0.1 over TLS: yields its port and the CA bundle to check it with."""
    cert, key = make_certificate(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(appliance))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()
