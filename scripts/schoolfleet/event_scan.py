"""Search a run's job events for the secrets it handled: what AWX and ansible-runner would keep.

    python -m schoolfleet.event_scan EVENTS_DIR SCENARIO_DIR

A loop over registered results of a no_log task is not itself hidden: its items land in the job
events even at verbosity 0 and with a loop label. `make molecule-ROLE` records each scenario's
events with ansible-runner's own callback (awx_display, as AWX runs it) and then runs this on them.

The secrets sought are the scenario's fixtures (string values of keys named like a password,
passphrase, secret, community or PSK in its YAML files) and every password printed on a slip PDF
found under EVENTS_DIR/slips. Exit 1 naming each event that holds one; exit 2 when there is
nothing to scan, so that a broken capture cannot pass for a clean run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from schoolfleet.accounts.slips import read_slips

SECRET_KEY = re.compile(r"password|passphrase|secret|community|psk", re.IGNORECASE)
# Shorter values would match by chance (and no fixture secret is this short).
MIN_LENGTH = 8


def _walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)
    else:
        yield key, node


def fixture_secrets(scenario: Path) -> set[str]:
    found = set()
    for path in sorted(scenario.glob("*.yml")):
        for document in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader):
            for key, value in _walk(document):
                if (
                    SECRET_KEY.search(key)
                    and isinstance(value, str)
                    and "{{" not in value
                    and len(value) >= MIN_LENGTH
                ):
                    found.add(value)
    return found


def slip_passwords(events_dir: Path) -> set[str]:
    return {
        slip["password"]
        for pdf in sorted((events_dir / "slips").glob("*.pdf"))
        for slip in read_slips(pdf.read_bytes())
        if len(slip["password"]) >= MIN_LENGTH
    }


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def leaks(events_dir: Path, secrets: set[str]) -> tuple[int, list[str]]:
    """(events scanned, one line per event that holds a secret)."""
    files = sorted((events_dir / "job_events").glob("*.json"))
    found = []
    for path in files:
        event = json.loads(path.read_text(encoding="utf-8"))
        held = {s for text in _strings(event) for s in secrets if s in text}
        if held:
            data = event.get("event_data", {})
            found.append(
                f"{event.get('event')}: task {data.get('task')!r} on {data.get('host')!r} "
                f"holds {len(held)} secret(s) ({path.name})"
            )
    return len(files), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events_dir", type=Path)
    parser.add_argument("scenario_dir", type=Path)
    args = parser.parse_args(argv)
    secrets = fixture_secrets(args.scenario_dir) | slip_passwords(args.events_dir)
    scanned, found = leaks(args.events_dir, secrets)
    if not scanned or not secrets:
        print(f"event scan: {scanned} events, {len(secrets)} secrets: nothing to check", file=sys.stderr)
        return 2
    for line in found:
        print(f"event scan: {line}", file=sys.stderr)
    print(f"event scan: {scanned} events searched for {len(secrets)} secrets, {len(found)} leak(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
