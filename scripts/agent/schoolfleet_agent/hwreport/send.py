"""The workstation's side: POST the report to the school server, retrying while the network comes up."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from schoolfleet_agent import __version__
from schoolfleet_agent.hwreport import DEFAULT_PORT, REPORT_PATH

LOG = logging.getLogger("schoolfleet-hwreport")


class SendError(Exception):
    """The report was not delivered; `permanent` when retrying cannot help (the server refused it)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def report_url(server: str) -> str:
    """`school-srv`, `10.1.0.1:8099` or `http://10.1.0.1:8099` -> the URL to POST to (/report by default)."""
    text = server.strip()
    if not text:
        raise ValueError("no server given")
    if "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {server!r}")
    netloc = parts.netloc if parts.port else f"{parts.netloc}:{DEFAULT_PORT}"
    path = parts.path if parts.path not in ("", "/") else REPORT_PATH
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, parts.query, ""))


def post(url: str, report: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    body = json.dumps(report, sort_keys=True).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"schoolfleet-hwreport/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read(65536).decode("utf-8") or "{}")
            return answer if isinstance(answer, dict) else {}
    except urllib.error.HTTPError as error:
        detail = error.read(65536).decode("utf-8", "replace").strip()
        with contextlib.suppress(ValueError, AttributeError):
            detail = "; ".join(json.loads(detail).get("problems", [])) or detail
        # 4xx: this report will never be accepted as it is; 5xx: the server may recover.
        raise SendError(f"{url} answered {error.code}: {detail}", permanent=400 <= error.code < 500) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise SendError(f"{url}: {reason}") from None


def send(
    server: str,
    report: Mapping[str, Any],
    attempts: int = 6,
    delay: float = 5.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Deliver the report; waits `delay`, then twice as long each time (at most 60 s), between tries."""
    url = report_url(server)
    wait = delay
    for attempt in range(1, max(1, attempts) + 1):
        try:
            answer = post(url, report, timeout)
            LOG.info("report delivered to %s (%s)", url, answer.get("outcome", "stored"))
            return answer
        except SendError as error:
            if error.permanent or attempt >= attempts:
                raise
            LOG.warning("attempt %d of %d: %s; again in %g s", attempt, attempts, error, wait)
            sleep(wait)
            wait = min(wait * 2, 60.0)
    raise AssertionError("unreachable")
