"""The controller's reconciliation reads what the school server's receiver really wrote.

Two reports go through the server's receiver over the scenario network: the small fixture
register's delivered workstation at 0910001G (tests/inventory/fixtures/small: SF-000016,
a4:bb:6d:00:00:16, serial P0016, Dell OptiPlex 3000 Micro) and a machine nobody registered. The
server's index.json is then compared with that register by `python -m schoolfleet.workstations`,
as an admin runs it on files fetched from the school servers (--index-dir).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[5]
SMALL_REGISTER = PROJECT / "tests" / "inventory" / "fixtures" / "small" / "register"
REGISTERED = {
    "mac": "a4:bb:6d:00:00:16",
    "serial": "P0016",
    "vendor": "Dell Inc.",
    "model": "OptiPlex 3000 Micro",
}
STRANGER = {"mac": "02:00:5e:10:00:01", "serial": "NOBODY-1", "vendor": "ACME", "model": "Unknown Box"}


@pytest.fixture(scope="module")
def index(host, tmp_path_factory):
    server = host.get_host("podman://workstation-install-server")
    client = host.get_host("podman://workstation-install-client")
    address = server.check_output("ip -4 -o addr show eth0").split()[3].split("/")[0]
    for report in (REGISTERED, STRANGER):
        client.run_expect(
            [0],
            "curl -sSf -H 'Content-Type: application/json' --data-binary "
            f"{shlex.quote(json.dumps(report))} http://{address}:8099/report",
        )
    fetched = tmp_path_factory.mktemp("fetched")
    # The layout `ansible -m fetch` leaves: DIR/<school server>/<its path>.
    target = fetched / "0910001g-srv" / "var/lib/schoolfleet/hwreport/index.json"
    target.parent.mkdir(parents=True)
    target.write_text(server.file("/var/lib/schoolfleet/hwreport/index.json").content_string)
    return fetched, json.loads(target.read_text())


def test_the_receiver_kept_both_reports_with_when_and_from_where(index):
    _, data = index
    for report in (REGISTERED, STRANGER):
        kept = data["reports"][report["mac"]]
        assert {key: kept[key] for key in report} == report
        assert kept["received_at"] and kept["from"]


def test_the_reconciliation_lists_the_unregistered_machine_only(index):
    fetched, data = index
    moment = data["reports"][STRANGER["mac"]]["received_at"]
    result = subprocess.run(
        [sys.executable, "-m", "schoolfleet.workstations", "--register", str(SMALL_REGISTER),
         "--index-dir", str(fetched), "--format", "json", "--at", moment],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    ours = [f for f in findings if f["mac"] in (REGISTERED["mac"], STRANGER["mac"])]
    assert [(f["kind"], f["school"], f["mac"]) for f in ours] == [
        ("unregistered", "0910001G", STRANGER["mac"])
    ]
