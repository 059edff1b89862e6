"""The demo's "what works" checks: their HTTP probe for real against a local server, their report."""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from schoolfleet import lab, lab_checks


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "menu.ipxe").write_text(
        "#!ipxe\nmenu ws-sf-000001 - 52:54:00:00:00:01\nitem install Installer\n"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def bash(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)


def test_an_http_check_shows_the_line_asked_for(site: str) -> None:
    result = bash(lab_checks.http_check(f"{site}/menu.ipxe", contains="item install", show="menu "))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "menu ws-sf-000001 - 52:54:00:00:00:01"


@pytest.mark.parametrize(
    ("path", "contains", "lacks"),
    [("menu.ipxe", "kernel", ""), ("menu.ipxe", "menu", "item install"), ("missing.ipxe", "menu", "")],
)
def test_an_http_check_fails_on_a_wrong_page(site: str, path: str, contains: str, lacks: str) -> None:
    assert bash(lab_checks.http_check(f"{site}/{path}", contains=contains, lacks=lacks)).returncode != 0


def test_checks_run_on_their_group_and_the_report_says_what_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_podman(*args: str, check: bool = True, capture: bool = True) -> Any:
        calls.append(args[1])
        failing = args[1] == "school-b"
        return SimpleNamespace(
            returncode=1 if failing else 0, stdout="" if failing else "one\nlast", stderr="boom"
        )

    monkeypatch.setattr(lab, "podman", fake_podman)
    check = lab_checks.Check("school_servers", "the filter refuses a listed name", "true")
    outcomes = lab_checks.run_checks(
        {"school_servers": ["school-a", "school-b"], "central_servers": ["c"]}, [check]
    )
    assert calls == ["school-a", "school-b"]
    assert [(o.host, o.passed, o.evidence) for o in outcomes] == [
        ("school-a", True, "last"),
        ("school-b", False, "boom"),
    ]
    lines = lab_checks.report(outcomes).splitlines()
    assert lines[0] == "What works (1 of 2 checks passed):"
    assert lines[1].split()[:2] == ["ok", "school-a"]
    assert lines[3].split()[:2] == ["FAIL", "school-b"]
