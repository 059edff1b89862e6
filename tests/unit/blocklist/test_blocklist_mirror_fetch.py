"""The central mirror's https source: safe extraction, and a damaged download refused with a status
and an alert, never a traceback.

Standard library only: pytest runs it in the venv, and `make unit-agent-debian` runs it with
`python3 -m unittest` under Debian 12's own python3 (3.11.2, without tarfile's extraction filters),
the interpreter of the central server.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest
from pathlib import Path
from types import ModuleType
from unittest import mock

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "roles/blocklist_mirror/files/blocklist_mirror.py"


def load_mirror() -> ModuleType:
    name = "blocklist_mirror_fetch_under_test"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


MIRROR = load_mirror()


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> tuple:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    if kind == tarfile.DIRTYPE:
        info.mode = 0o755
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def archive(*members: tuple) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


ADULT = b"".join(b"site%d.example.com\n" % n for n in range(2000))
GOOD = (
    member("blacklists", kind=tarfile.DIRTYPE),
    member("blacklists/adult", kind=tarfile.DIRTYPE),
    member("blacklists/adult/domains", ADULT),
    member("blacklists/redirector", kind=tarfile.DIRTYPE),
    member("blacklists/redirector/domains", b"proxy.example.net\n"),
    # UT1 ships English aliases as symlinks: not needed, never followed.
    member("blacklists/porn", kind=tarfile.SYMTYPE, link="adult"),
)


class Server:
    """A local https-source stand-in (plain HTTP): path -> (body, Content-Length announced)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, int]] = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, length = files[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str, body: bytes, length: int | None = None) -> str:
        self.files[path] = (body, len(body) if length is None else length)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class HttpsSource(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="mirror-fetch-"))
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", str(self.tmp)], check=False))
        self.server = Server()
        self.addCleanup(self.server.close)
        # A fake `logger` records the alerts the mirror raises (daemon.crit).
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir()
        self.alerts = self.tmp / "alerts"
        logger = bin_dir / "logger"
        logger.write_text(f'#!/bin/sh\necho "$@" >> {self.alerts}\n')
        logger.chmod(0o755)
        environ = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "no_proxy": "127.0.0.1"}
        patcher = mock.patch.dict(os.environ, environ)
        patcher.start()
        self.addCleanup(patcher.stop)

    def mirror_args(self, source: str) -> list[str]:
        return [
            "--source",
            source,
            "--work",
            str(self.tmp / "work"),
            "--publish",
            str(self.tmp / "pub"),
            "--status",
            str(self.tmp / "status.json"),
        ]

    def run_mirror(self, source: str) -> tuple[int, dict[str, object]]:
        with contextlib.redirect_stderr(io.StringIO()):  # The mirror's log lines.
            rc = MIRROR.main(self.mirror_args(source))
        return rc, json.loads((self.tmp / "status.json").read_text())

    def published_version(self) -> object:
        return json.loads((self.tmp / "pub" / "manifest.json").read_text())["version"]

    def alerts_raised(self) -> list[str]:
        return self.alerts.read_text().splitlines() if self.alerts.exists() else []

    def test_a_good_archive_is_published(self) -> None:
        rc, status = self.run_mirror(self.server.url("/ut1.tar.gz", archive(*GOOD)))
        self.assertEqual(rc, 0, status)
        self.assertEqual((status["ok"], status["published"]), (True, True))
        manifest = json.loads((self.tmp / "pub" / "manifest.json").read_text())
        self.assertEqual(sorted(manifest["categories"]), ["adult", "redirector"])
        self.assertEqual(manifest["categories"]["adult"]["count"], 2000)
        self.assertEqual(self.alerts_raised(), [])

    def test_damaged_downloads_are_refused_with_a_status_and_an_alert(self) -> None:
        good = archive(*GOOD)
        self.assertEqual(self.run_mirror(self.server.url("/ut1.tar.gz", good))[0], 0)
        kept = self.published_version()
        flipped = bytearray(good)
        for offset in range(len(good) // 3, len(good) // 3 + 64):
            flipped[offset] ^= 0x5A
        damaged = {
            "truncated": good[: len(good) // 2],
            "corrupted": bytes(flipped),
            "not an archive": b"<html>503 Service Unavailable</html>",
            "gzip of garbage": gzip.compress(b"\x01" * 5000),
        }
        for number, (case, body) in enumerate(damaged.items()):
            with self.subTest(case=case):
                rc, status = self.run_mirror(self.server.url(f"/{number}.tar.gz", body))
                self.assertEqual(rc, 1)
                self.assertIs(status["ok"], False)
                self.assertIn("archive", str(status["error"]))
                self.assertEqual(status["version"], kept)
                self.assertEqual(self.published_version(), kept)
                self.assertIn("daemon.crit", self.alerts_raised()[-1])
                self.assertIn("update refused", self.alerts_raised()[-1])

    def test_a_download_cut_short_is_refused(self) -> None:
        good = archive(*GOOD)
        # The server announces the whole archive and closes after half of it.
        rc, status = self.run_mirror(self.server.url("/cut.tar.gz", good[: len(good) // 2], len(good)))
        self.assertEqual(rc, 1)
        self.assertIs(status["ok"], False)
        self.assertIn("download", str(status["error"]))
        self.assertEqual(len(self.alerts_raised()), 1)

    def test_members_that_leave_the_tree_are_refused_and_links_never_extracted(self) -> None:
        outside = self.tmp / "outside"  # The tree is extracted into work/upstream/tree.
        for hostile in (
            member("../../../outside", b"x.example.com\n"),
            member(str(outside), b"x.example.com\n"),
            member("blacklists/adult/../../../../outside", b"x.example.com\n"),
        ):
            with self.subTest(name=hostile[0].name):
                rc, status = self.run_mirror(self.server.url("/evil.tar.gz", archive(*GOOD, hostile)))
                self.assertEqual(rc, 1)
                self.assertIn("outside", str(status["error"]))
                self.assertFalse(outside.exists())
        links = (
            member("blacklists/etc", kind=tarfile.SYMTYPE, link="/etc"),
            member("blacklists/shadow", kind=tarfile.LNKTYPE, link="/etc/shadow"),
            member("blacklists/null", kind=tarfile.CHRTYPE),
            member("blacklists/fifo", kind=tarfile.FIFOTYPE),
        )
        rc, status = self.run_mirror(self.server.url("/links.tar.gz", archive(*GOOD, *links)))
        self.assertEqual(rc, 0, status)
        tree = self.tmp / "work" / "upstream" / "tree" / "blacklists"
        self.assertEqual(sorted(p.name for p in tree.iterdir()), ["adult", "redirector"])
        self.assertEqual((tree / "adult" / "domains").stat().st_mode & 0o7777, 0o644)

    def test_the_command_line_prints_no_traceback(self) -> None:
        # As systemd runs it: the script under this interpreter (Debian's python3 in the lab image).
        good = archive(*GOOD)
        source = self.server.url("/short.tar.gz", good[: len(good) // 2])
        result = subprocess.run(
            [sys.executable, str(SCRIPT), *self.mirror_args(source)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        self.assertIn("ALERT: update refused", result.stderr)


if __name__ == "__main__":
    unittest.main()
